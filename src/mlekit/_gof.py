r"""Goodness of fit: does the fitted law describe the data? ``fit.gof()``.

Continuous families get the three statistics of the empirical distribution function (EDF),
computed as R's ``fitdistrplus::gofstat`` computes them. With :math:`u_{(i)} =
F(x_{(i)}; \hat\theta)` at the sorted observations,

.. math::

    KS &= \max_i \max\left(\tfrac{i}{n} - u_{(i)},\; u_{(i)} - \tfrac{i-1}{n}\right) \\
    CvM &= \frac{1}{12n} + \sum_i \left(u_{(i)} - \frac{2i-1}{2n}\right)^2 \\
    AD &= -n - \frac{1}{n}\sum_i (2i-1)\left[\log u_{(i)} + \log\left(1 - u_{(n+1-i)}\right)
          \right],

with :math:`\log u` and :math:`\log(1-u)` taken from the family's log-CDF and log-survival
function, so that Anderson-Darling stays accurate in the far tails (where ``1 - u`` rounds to
0 or 1).

Discrete families get Pearson's chi-square over cells of the support: adjacent values are
merged, from the lower end up, until each cell expects at least 5 observations; the lower
tail is folded into the first cell and the upper tail into the last, so the cell
probabilities sum to 1. :math:`X^2 = \sum_j (O_j - E_j)^2 / E_j` with
``cells - 1 - k`` degrees of freedom (k: the estimated parameters).

The parameters were estimated from the same data, so the textbook tables of these statistics
(made for a law known in advance) are wrong: the p-values come from a parametric bootstrap
that refits every replicate (Stute, Gonzáles Manteiga and Presedo Quindimil 1993; Babu and Rao
2004). B samples of size n are drawn from the fitted law, refitted all at once
(:func:`mlekit.fit_many`), and each replicate's statistic :math:`T_b` is computed under its
own estimate (one compiled, vectorized program for all replicates):
:math:`p = (1 + \#\{T_b \ge T\}) / (B + 1)`.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import FitError, ModelError

#: the fewest replicates: with B = 19 the smallest attainable p-value is 1/20 = 0.05
MIN_REPLICATES = 19
#: refused when fewer replicates than this could be refitted
MIN_USED = MIN_REPLICATES
#: the smallest expected count of a chi-square cell
MIN_EXPECTED = 5.0
#: values (replicates x observations) drawn, refitted and scored per block: bounds memory
BLOCK_VALUES = 1 << 22
#: statistics this close (relative) to the data's count as equal to it
ROUNDING = 1e-10
#: the longest run of support values the chi-square cells are built over
MAX_GRID = 1 << 20
#: statistics' names, in the order a table shows them
TITLES = {"ks": "Kolmogorov-Smirnov", "cvm": "Cramer-von Mises", "ad": "Anderson-Darling",
          "chisq": "Pearson chi-square"}


@dataclass(frozen=True, eq=False)
class GoodnessOfFit:
    """Goodness-of-fit statistics of a fit and their parametric-bootstrap p-values.

    ``result[key]`` is a read-only mapping for each statistic: ``"ks"``, ``"cvm"`` and
    ``"ad"`` (continuous families) with ``statistic``, ``p_value`` and ``method``; ``"chisq"``
    (discrete families) with ``statistic``, ``df``, ``p_value`` (from the chi-square law;
    None where df <= 0), ``p_value_bootstrap``, and the cells: ``cells`` (labels),
    ``breaks`` (each cell's largest value but the last's, as R's ``chisqbreaks``),
    ``observed`` and ``expected`` counts.

    The p-values come from a parametric bootstrap that refits each replicate (Stute,
    Gonzáles Manteiga and Presedo Quindimil 1993; Babu and Rao 2004):
    :math:`p = (1 + \\#\\{T_b \\ge T\\}) / (B + 1)` over the B replicates that refitted, so
    the smallest attainable p-value is 1/(B+1).

    Attributes
    ----------
    model_name : str
    n : int
        Observations.
    replicates : int
        Bootstrap replicates used (refitted successfully).
    failed : int
        Replicates whose refit did not converge, dropped; ``failures`` counts them by reason.
    notes : tuple of str
        What the numbers cannot say (ties, dropped replicates, an infinite statistic, df <= 0).
    """

    model_name: str
    n: int
    tests: Mapping[str, Mapping[str, object]]
    replicates: int
    failed: int
    notes: tuple[str, ...] = ()
    failures: Mapping[str, int] = field(default_factory=dict)
    seed: int | None = None

    def __getitem__(self, key: str) -> Mapping[str, object]:
        try:
            return self.tests[key]
        except KeyError:
            raise KeyError(f"{key!r}: this result holds {', '.join(map(repr, self.tests))}"
                           ) from None

    def __contains__(self, key) -> bool:
        return key in self.tests

    def __iter__(self):
        return iter(self.tests)

    def keys(self):
        return self.tests.keys()

    def _rows(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for key, t in self.tests.items():
            value = _num(t["statistic"], "{:.4g}")
            if key == "chisq":
                law = (f"chi-square law, df = {t['df']}" if t["p_value"] is not None else
                       f"chi-square law: none (df = {t['df']})")
                rows.append((TITLES[key], value, _num(t["p_value"], "{:.3g}"), law))
                rows.append(("", "", _num(t["p_value_bootstrap"], "{:.3g}"), _boot(self)))
            else:
                rows.append((TITLES[key], value, _num(t["p_value"], "{:.3g}"), t["method"]))
        return rows

    def _title(self) -> str:
        return f"Goodness of fit: {self.model_name}, n = {self.n}"

    def __str__(self) -> str:
        head = ("statistic", "value", "p-value", "method")
        lines = [self._title(), *_aligned([head, *self._rows()], (0, 3))]
        if "chisq" in self.tests:
            t = self.tests["chisq"]
            body = [(c, f"{o:d}", f"{e:.2f}") for c, o, e in
                    zip(t["cells"], t["observed"], t["expected"], strict=True)]
            lines += ["", "cells", *_aligned([("cell", "observed", "expected"), *body], (0,))]
        return "\n".join(lines + [f"note: {note}" for note in self.notes])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape

        def table(head, rows):
            th = "".join(f"<th>{e(c)}</th>" for c in head)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>"
                           for r in rows)
            return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

        parts = [f"<div>{e(self._title())}</div>",
                 table(("statistic", "value", "p-value", "method"), self._rows())]
        if "chisq" in self.tests:
            t = self.tests["chisq"]
            parts.append(table(("cell", "observed", "expected"),
                               [(c, str(o), f"{x:.2f}") for c, o, x in
                                zip(t["cells"], t["observed"], t["expected"], strict=True)]))
        parts += [f"<div>note: {e(note)}</div>" for note in self.notes]
        return f'<div class="mlekit-gof">{"".join(parts)}</div>'

    def to_dict(self) -> dict:
        """A JSON-safe dict: model, n, replicates, failed (and why), seed, each statistic's
        mapping (lists for the cells; an infinite statistic as "inf") and the notes."""
        from ._result import json_value

        def plain(v):
            if v is None or isinstance(v, (str, bool, int)):
                return v
            if isinstance(v, tuple):
                return [plain(item) for item in v]
            return json_value(v)

        return {"model": self.model_name, "n": self.n, "replicates": self.replicates,
                "failed": self.failed, "failures": dict(self.failures), "seed": self.seed,
                "tests": {k: {name: plain(v) for name, v in t.items()}
                          for k, t in self.tests.items()},
                "notes": list(self.notes)}


def _num(v, fmt: str) -> str:
    if v is None:
        return "n/a"
    return fmt.format(v) if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def _boot(result: GoodnessOfFit) -> str:
    return f"parametric bootstrap, {result.replicates} refitted replicates"


def _aligned(rows, left: tuple[int, ...]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(r):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    return [line(rows[0]), line(tuple("-" * w for w in widths)), *map(line, rows[1:])]


# -- the public function -------------------------------------------------------------------------
def gof(fit, *, replicates: int = 199, seed=0, progress=None) -> GoodnessOfFit:
    r"""Goodness-of-fit statistics of a fit, with p-values from a parametric bootstrap.

    Continuous families: Kolmogorov-Smirnov, Cramér-von Mises and Anderson-Darling, as R's
    ``fitdistrplus::gofstat`` computes them; with :math:`u_{(i)} = F(x_{(i)};\hat\theta)`,

    .. math::

        KS = \max_i \max(i/n - u_{(i)},\, u_{(i)} - (i-1)/n), \quad
        CvM = \frac{1}{12n} + \sum_i \Big(u_{(i)} - \frac{2i-1}{2n}\Big)^2,

        AD = -n - \frac{1}{n} \sum_i (2i-1)\,[\log u_{(i)} + \log(1 - u_{(n+1-i)})].

    Discrete families: Pearson's :math:`X^2 = \sum_j (O_j - E_j)^2 / E_j` over cells of
    adjacent values merged until each expects >= 5 observations (tails folded into the end
    cells), with ``cells - 1 - k`` degrees of freedom.

    The p-values come from a parametric bootstrap that refits each replicate (Stute, Gonzáles
    Manteiga and Presedo Quindimil 1993; Babu and Rao 2004): the textbook tables assume a law
    known in advance and are wrong when its parameters were estimated from the same data.
    ``replicates`` samples of size n are drawn from the fitted law, refitted together
    (:func:`mlekit.fit_many`, the same fixed parameters), and each statistic is recomputed
    under each replicate's own estimate: :math:`p = (1 + \#\{T_b \ge T\}) / (B + 1)`.
    Replicates whose refit does not converge are dropped and counted (``failed``). For the
    chi-square statistic the replicates use the data's cells; its ``p_value`` is also given
    from the chi-square law.

    Parameters
    ----------
    fit : Fit
        A converged maximum likelihood fit of a univariate family to exact observations.
    replicates : int
        Bootstrap replicates B (>= 19; the smallest attainable p-value is 1/(B+1)).
    seed : int, numpy Generator or None
        The draws come from ``np.random.default_rng(seed)``: the same seed, the same p-values.
    progress : bool or callable, optional
        A progress bar for the refits (True), or ``progress(done, total)``.

    Returns
    -------
    GoodnessOfFit

    Raises
    ------
    ModelError
        Censored or truncated data, a multivariate family or a regression, a MAP fit, a
        weighted fit, a model without a sampler or a distribution function, bad arguments.
    FitError
        The fit did not converge, or fewer than 19 replicates could be refitted.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> x = np.random.default_rng(2).gamma(3.0, 2.0, 60)
    >>> result = gof(mk.fit(mk.Gamma(), x), replicates=99)
    >>> sorted(result.keys())
    ['ad', 'cvm', 'ks']
    >>> 0.01 < result["ad"]["p_value"] <= 1.0 and result.replicates + result.failed == 99
    True
    """
    ctx = _checked(fit, replicates, progress)
    model = ctx.model
    rng = _rng(seed)
    params = ctx.params()
    x = np.asarray(ctx.x, dtype=float)
    n = x.shape[0]
    if model.support.integer:
        return _discrete(fit, model, x, params, replicates, rng, seed, progress)
    return _continuous(fit, model, x, n, params, replicates, rng, seed, progress)


def _checked(fit, replicates, progress):
    """The fit's context, after every refusal (the rule and the fix in each message)."""
    from ._censored import CensoredModel
    from ._result import Fit

    if not isinstance(fit, Fit):
        raise ModelError(f"fit={type(fit).__name__} is not a fit; pass the result of "
                         "mk.fit(model, x), e.g. gof(mk.fit(mk.Gamma(), x)).")
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or \
            replicates < MIN_REPLICATES:
        raise ModelError(f"replicates={replicates!r} must be an integer >= {MIN_REPLICATES} "
                         "(with B replicates the smallest p-value is 1/(B+1)); use 199 or more, "
                         "999 to resolve p-values near 0.01.")
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise ModelError(f"progress={progress!r} must be True, False, None or a function "
                         "progress(done, total).")
    ctx = fit._context
    model = None if ctx is None else ctx.model
    if isinstance(model, CensoredModel):
        raise ModelError(
            f"goodness-of-fit statistics for {model.name}: KS, Cramer-von Mises and "
            "Anderson-Darling compare the empirical distribution of exact observations with "
            "the fitted one, and censored or truncated data have no such empirical "
            "distribution. Compare the fitted survival function with the Kaplan-Meier "
            "estimate (fit.plot('survival'), for right-censored data), or test the family "
            "against a wider one that nests it with a likelihood-ratio test (mk.lr_test), "
            "e.g. the exponential within the Weibull.")
    if fit.prior:
        raise ModelError(
            f"goodness of fit of a MAP fit (prior on {', '.join(fit.prior)}): the bootstrap "
            "refits by maximum likelihood, so its replicates would not mimic this estimate. "
            "Refit without prior= / penalty= (mk.fit(model, x)) and test that fit.")
    if getattr(model, "coefficients", None):
        raise ModelError(
            f"goodness of fit of a regression ({model.name}): these statistics test one law "
            "for all observations, and a regression has one per observation. Check its "
            "residuals (deviance or quantile residuals), or compare it with a wider model by a "
            "likelihood-ratio test (mk.lr_test).")
    if getattr(model, "event_ndim", 0):
        raise ModelError(
            f"goodness of fit of a multivariate model ({model.name}): the EDF statistics need "
            "one distribution function of scalar observations. Test each margin with its own "
            "univariate fit (e.g. mk.fit(mk.Normal(), x[:, j]).gof()), or compare nested "
            "models with a likelihood-ratio test (mk.lr_test).")
    if not fit.converged:
        raise FitError(f"the {fit.model_name} fit did not converge ({fit.message}): its "
                       "estimate is not a maximum, so its goodness of fit means nothing. See "
                       "fit.diagnostics for the remedy, refit, then test.")
    if ctx is None:
        raise ModelError(f"this {fit.model_name} fit keeps no model and data (it was not made "
                         "by mk.fit); refit it with mk.fit(model, x) to test its goodness of fit.")
    if not isinstance(ctx.x, np.ndarray):
        raise ModelError("goodness of fit needs every observation in memory (it sorts them); "
                         "this fit's data are a partitioned dataset. Fit a sample held in memory.")
    if getattr(ctx.objective, "weights", None) is not None:
        raise ModelError("goodness of fit does not take frequency weights: the statistics "
                         "compare the data's own empirical distribution. Repeat each row by "
                         "its weight (np.repeat(x, weights)) and fit that.")
    from ._families.base import Family

    for name in ("logcdf", "logsf"):
        if getattr(type(model), name, None) in (None, getattr(Family, name)):
            raise ModelError(f"{model.name} defines no {name}: goodness-of-fit statistics "
                             "need its distribution function. Compare it with other models "
                             "by AIC (mk.compare) or a likelihood-ratio test instead.")
    try:
        model.sample(ctx.params(), 1, np.random.default_rng(0))
    except (NotImplementedError, AttributeError, ModelError):
        raise ModelError(f"{model.name} has no sampler: the p-values come from a parametric "
                         "bootstrap, which draws new data from the fitted model. Define "
                         "sample(params, size, rng) for the model.") from None
    return ctx


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ModelError(f"seed={seed!r} must be an integer, None or a numpy Generator."
                         ) from None


# -- drawing and refitting the replicates --------------------------------------------------------
def _replicates(fit, model, params, n: int, replicates: int, rng, progress):
    """Yield (draws (m, n), estimates {name: (m, *shape)}, ok (m,), reasons) per block of
    replicates: drawn from the fitted law, refitted together by fit_many."""
    from ._many import fit_many

    block = max(1, min(replicates, BLOCK_VALUES // max(1, n)))
    done = 0
    for start in range(0, replicates, block):
        m = min(block, replicates - start)
        draws = np.asarray(model.sample(params, m * n, rng), dtype=float).reshape(m, n)
        report = _shifted(progress, done, replicates)
        batch = fit_many(model, draws, fixed=dict(fit.fixed) or None, progress=report)
        estimates, ok = _estimates(batch, model, params, m)
        reasons: dict[str, int] = {}
        for status, good in zip(batch.status, ok, strict=True):
            if not good:
                why = status if status != "converged" else "non-finite estimate"
                reasons[why] = reasons.get(why, 0) + 1
        done += m
        yield draws, estimates, ok, reasons


def _shifted(progress, done: int, total: int):
    """The caller's progress over all blocks from fit_many's per block."""
    if progress is None or isinstance(progress, bool):
        return bool(progress)
    return lambda k, _m: progress(done + k, total)


def _estimates(batch, model, params, m: int) -> tuple[dict, np.ndarray]:
    """Each replicate's parameters {name: (m, *shape)} (fixed ones repeated), and which
    replicates converged to finite estimates."""
    from ._params import flat_labels

    columns = {label: j for j, label in enumerate(batch.param_labels)}
    out = {}
    for name in model.params:
        shape = np.shape(params[name])
        labels = list(flat_labels((name,), {name: shape}))
        if all(label in columns for label in labels):
            values = batch.params[:, [columns[label] for label in labels]]
            out[name] = values.reshape(m, *shape)
        else:  # fixed (or held by the fit): the same for every replicate
            out[name] = np.broadcast_to(np.asarray(params[name], dtype=float), (m, *shape))
    finite = np.all(np.isfinite(batch.params), axis=1) if batch.params.size else \
        np.ones(m, dtype=bool)
    return out, np.asarray(batch.converged, dtype=bool) & finite


def _pvalue(observed: float, replicated: np.ndarray) -> float | None:
    """(1 + #{T_b >= T}) / (B + 1), a T_b equal to T up to rounding counting as >= (a
    saturated chi-square is 0 in every replicate, to rounding: p = 1)."""
    if not math.isfinite(observed):
        return None
    at_least = replicated >= observed - ROUNDING * (1.0 + abs(observed))
    return float((1 + np.sum(at_least)) / (replicated.shape[0] + 1))


def _gather(fit, model, params, n, replicates, rng, progress, score) -> tuple:
    """Run the replicates through ``score(draws, estimates) -> {key: (m,)}``: the kept
    statistics {key: (used,)}, the number failed, and the reasons."""
    kept: dict[str, list] = {}
    failed, why = 0, {}
    for draws, estimates, ok, reasons in _replicates(fit, model, params, n, replicates, rng,
                                                     progress):
        if ok.any():
            stats = score(draws[ok], {k: v[ok] for k, v in estimates.items()})
            for key, values in stats.items():
                kept.setdefault(key, []).append(values)
        failed += int((~ok).sum())
        for k, v in reasons.items():
            why[k] = why.get(k, 0) + v
    used = replicates - failed
    if used < MIN_USED:
        shown = ", ".join(f"{v} {k}" for k, v in why.items())
        raise FitError(
            f"only {used} of {replicates} bootstrap replicates of the {model.name} fit could "
            f"be refitted ({shown}); at least {MIN_USED} are needed for a p-value. The model "
            "may sit near the edge of its parameter space for these data: check "
            "fit.diagnostics, or raise replicates.")
    return {k: np.concatenate(v) for k, v in kept.items()}, failed, why


def _failure_note(failed: int, replicates: int, why: Mapping[str, int]) -> list[str]:
    if not failed:
        return []
    shown = ", ".join(f"{v} {k}" for k, v in why.items())
    return [f"{failed} of {replicates} bootstrap replicates did not refit ({shown}) and were "
            f"dropped; the p-values use the other {replicates - failed}"]


# -- continuous families: KS, CvM, AD ------------------------------------------------------------
def _padded(n: int) -> int:
    """Observations after padding (one compiled program per power of two >= 64)."""
    return max(64, 1 << (n - 1).bit_length())


@functools.partial(jax.jit, static_argnums=0)
def _edf_rows(model, xs, n, params):
    """(ks, cvm, ad), each (rows,), of sorted rows ``xs`` (rows, m) whose first ``n`` entries
    are observations (the rest padding, masked), each under its own ``params``."""
    tails = getattr(model, "log_tails", None)

    def one(x, p):
        log_f, log_s = tails(x, p) if tails is not None else (model.logcdf(x, p),
                                                               model.logsf(x, p))
        m = x.shape[0]
        i = jnp.arange(m, dtype=x.dtype)
        valid = i < n
        u = jnp.exp(log_f)
        ks = jnp.max(jnp.where(valid, jnp.maximum((i + 1) / n - u, u - i / n), -jnp.inf))
        cvm = 1 / (12 * n) + jnp.sum(jnp.where(valid, (u - (2 * i + 1) / (2 * n)) ** 2, 0.0))
        rev = jnp.clip(n - 1 - jnp.arange(m), 0, m - 1).astype(jnp.int32)
        terms = (2 * i + 1) * (log_f + log_s[rev])
        ad = -n - jnp.sum(jnp.where(valid, terms, 0.0)) / n
        return ks, cvm, ad

    return jax.vmap(one)(xs, params)


def _block(m: int) -> int:
    """Rows per compiled call for rows of padded length ``m``: a power of two, the same for
    the data's one row and the replicates' many (one program), within the memory budget."""
    size = max(1, min(256, BLOCK_VALUES // m))
    return 1 << (size.bit_length() - 1)


def _in_blocks(fun, size: int, rows: np.ndarray, estimates: Mapping) -> list:
    """``fun(rows, estimates)`` over blocks of ``size`` rows (the last padded with copies of
    its first row), each output cut back to the block's real rows."""
    out = []
    for s in range(0, rows.shape[0], size):
        part = rows[s:s + size]
        k = part.shape[0]
        pad = size - k
        p = {name: np.concatenate([np.asarray(v[s:s + size], dtype=float),
                                   np.repeat(np.asarray(v[s:s + 1], dtype=float), pad, 0)])
             for name, v in estimates.items()}
        part = np.concatenate([part, np.repeat(part[:1], pad, axis=0)])
        out.append([np.asarray(v)[:k] for v in fun(part, p)])
    return out


def _edf(model, rows: np.ndarray, estimates: Mapping) -> dict[str, np.ndarray]:
    """KS, CvM and AD of each row (unsorted observations) under its own estimate."""
    n = rows.shape[1]
    m = _padded(n)
    xs = np.sort(rows, axis=1)
    xs = np.concatenate([xs, np.repeat(xs[:, -1:], m - n, axis=1)], axis=1)
    parts = _in_blocks(lambda part, p: _edf_rows(model, jnp.asarray(part), float(n), p),
                       _block(m), xs, estimates)
    return {key: np.concatenate([part[j] for part in parts])
            for j, key in enumerate(("ks", "cvm", "ad"))}


def edf_statistics(model, x, params) -> dict[str, float]:
    """KS, CvM and AD of observations ``x`` under the law ``model`` at ``params`` (no
    p-values): the numbers ``fitdistrplus::gofstat`` prints."""
    x = np.asarray(x, dtype=float).ravel()
    one = {k: np.asarray(v, dtype=float)[None] for k, v in params.items()}
    return {k: float(v[0]) for k, v in _edf(model, x[None], one).items()}


def _continuous(fit, model, x, n, params, replicates, rng, seed, progress) -> GoodnessOfFit:
    observed = edf_statistics(model, x, params)
    replicated, failed, why = _gather(fit, model, params, n, replicates, rng, progress,
                                      lambda draws, est: _edf(model, draws, est))
    used = replicates - failed
    method = f"parametric bootstrap, {used} refitted replicates"
    tests, notes = {}, _failure_note(failed, replicates, why)
    for key in ("ks", "cvm", "ad"):
        t = observed[key]
        tests[key] = MappingProxyType({
            "statistic": t if math.isfinite(t) else None,
            "p_value": _pvalue(t, replicated[key]), "method": method})
        if not math.isfinite(t):
            notes.append(f"{TITLES[key]} is infinite: the fitted CDF is 0 or 1 at an "
                         "observation (an estimate at an order statistic, e.g. a uniform's "
                         "ends or a threshold at the smallest value); the other statistics "
                         "stand")
    distinct = np.unique(x).size
    if distinct < n:
        notes.append(f"the data hold ties ({distinct} distinct values in {n}): the EDF "
                     "statistics assume a continuous law, and rounded data inflate them in a "
                     "way the bootstrap (drawn unrounded) does not reproduce, so the p-values "
                     "may be too small")
    return GoodnessOfFit(model_name=fit.model_name, n=n, tests=MappingProxyType(tests),
                         replicates=used, failed=failed, notes=tuple(notes),
                         failures=MappingProxyType(why), seed=_seed_of(seed))


def _seed_of(seed) -> int | None:
    return int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) \
        else None


# -- discrete families: Pearson's chi-square -----------------------------------------------------
@functools.partial(jax.jit, static_argnums=0)
def _cell_probs(model, breaks, params):
    """Cell probabilities (rows, cells) under each row's params: cells (-inf, b1], (b1, b2],
    ..., (b_last, inf), each difference taken on the side of the median where it does not
    cancel."""
    tails = getattr(model, "log_tails", None)

    def one(p):
        log_f, log_s = tails(breaks, p) if tails is not None else (model.logcdf(breaks, p),
                                                                    model.logsf(breaks, p))
        f, s = jnp.exp(log_f), jnp.exp(log_s)
        f_lo, s_lo = jnp.concatenate([jnp.zeros(1), f]), jnp.concatenate([jnp.ones(1), s])
        f_hi, s_hi = jnp.concatenate([f, jnp.ones(1)]), jnp.concatenate([s, jnp.zeros(1)])
        return jnp.where(f_lo < 0.5, f_hi - f_lo, s_lo - s_hi)

    return jax.vmap(one)(params)


@functools.partial(jax.jit, static_argnums=0)
def _log_tails(model, x, params):
    tails = getattr(model, "log_tails", None)
    return tails(x, params) if tails is not None else (model.logcdf(x, params),
                                                       model.logsf(x, params))


def chisq_cells(model, x, params) -> np.ndarray:
    """The chi-square cells' breaks (each cell's largest value, the last cell's excepted):
    adjacent support values merged from the lower end until each cell expects >= 5
    observations; whatever is left when the rest expects fewer joins the last cell."""
    n = x.shape[0]
    lower, upper = model.support.lower, model.support.upper
    start = float(np.min(x)) if not math.isfinite(lower) else min(float(lower), float(np.min(x)))
    length = _padded(int(np.max(x) - start) + 2)
    p = {k: jnp.asarray(v) for k, v in params.items()}
    while True:  # a grid of a power-of-two length (few compiled shapes) past the upper tail
        grid = np.minimum(start + np.arange(length, dtype=float), upper)
        log_f, log_s = (np.asarray(v) for v in _log_tails(model, jnp.asarray(grid), p))
        if n * math.exp(log_s[-1]) < MIN_EXPECTED or grid[-1] >= upper or length >= MAX_GRID:
            break
        length *= 2
    last = int(np.searchsorted(grid, grid[-1]))  # the grid's first value at its upper end
    cdf, surv = np.exp(log_f[:last + 1]), np.exp(log_s[:last + 1])
    breaks, below = [], 0.0  # below: P(X <= the last break)
    for k, f, s in zip(grid[:last + 1], cdf, surv, strict=True):
        if n * (f - below) >= MIN_EXPECTED and n * s >= MIN_EXPECTED:
            breaks.append(k)
            below = f
    return np.asarray(breaks, dtype=float)


def _counts(rows: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Observed counts (rows, cells) over the cells of ``breaks``."""
    cells = breaks.shape[0] + 1
    idx = np.searchsorted(breaks, rows, side="left")
    flat = idx + cells * np.arange(rows.shape[0])[:, None]
    return np.bincount(flat.ravel(), minlength=rows.shape[0] * cells).reshape(-1, cells)


def _pearson(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (observed - expected) ** 2 / expected,
                         np.where(observed > 0, np.inf, 0.0))
    return terms.sum(axis=-1)


def _chisq_rows(model, rows, estimates, breaks) -> np.ndarray:
    """Pearson's statistic of each row (observations) over the cells of ``breaks``, with
    the expected counts under the row's own estimate."""
    n = rows.shape[1]
    b = jnp.asarray(breaks)
    parts = _in_blocks(lambda part, p: (_cell_probs(model, b, p),), _block(1), rows[:, :1],
                       estimates)
    probs = np.concatenate([part[0] for part in parts])
    return _pearson(_counts(rows, breaks), n * probs)


def _label(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"<= {hi:g}"
    if hi is None:
        return f">= {lo:g}"
    return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"


def chisq_statistic(model, x, params, k: int) -> dict:
    """Pearson's chi-square of observations ``x`` under the discrete law ``model`` at
    ``params`` with ``k`` estimated parameters (no bootstrap): the cells (``breaks``, ``cells``
    labels, ``observed``, ``expected``), ``statistic``, ``df`` and the chi-square law's
    ``p_value`` (None where df <= 0)."""
    from scipy.special import chdtrc  # here: scipy adds 0.2 s to `import mlekit`

    x = np.asarray(x, dtype=float).ravel()
    n = x.shape[0]
    breaks = chisq_cells(model, x, params)
    one = {name: np.asarray(v, dtype=float)[None] for name, v in params.items()}
    parts = _in_blocks(lambda part, p: (_cell_probs(model, jnp.asarray(breaks), p),),
                       _block(1), x[None, :1], one)
    expected = n * parts[0][0][0]
    observed = _counts(x[None], breaks)[0]
    statistic = float(_pearson(observed, expected))
    df = int(breaks.shape[0] + 1 - 1 - k)
    b = breaks.tolist()
    cells = tuple(_label(None if j == 0 else b[j - 1] + 1, None if j == len(b) else b[j])
                  for j in range(len(b) + 1)) if b else ("all",)
    return {"statistic": statistic, "df": df,
            "p_value": float(chdtrc(df, statistic)) if df > 0 else None,
            "cells": cells, "breaks": tuple(b), "observed": tuple(int(v) for v in observed),
            "expected": tuple(float(v) for v in expected)}


def _discrete(fit, model, x, params, replicates, rng, seed, progress) -> GoodnessOfFit:
    n = x.shape[0]
    found = chisq_statistic(model, x, params, fit.k)
    breaks, statistic, df = np.asarray(found["breaks"]), found["statistic"], found["df"]
    notes = []
    if df <= 0:
        notes.append(f"the chi-square test has df = {breaks.shape[0] + 1} cells - 1 - {fit.k} "
                     f"estimated parameters = {df}: no chi-square p-value (the estimates use "
                     "up the freedom the cells leave; where small cells were merged, more data "
                     "give more cells)")
    p_boot, used, failed, why = None, 0, 0, {}
    if breaks.shape[0]:
        replicated, failed, why = _gather(
            fit, model, params, n, replicates, rng, progress,
            lambda draws, est: {"chisq": _chisq_rows(model, draws, est, breaks)})
        used = replicates - failed
        p_boot = _pvalue(statistic, replicated["chisq"])
        notes += _failure_note(failed, replicates, why)
    else:
        notes.append("every value falls in one cell (no two cells expect 5 or more "
                     "observations each): the statistic is 0 and has no p-value")
    method = f"Pearson chi-square over {len(found['cells'])} cells with expected counts >= 5"
    tests = {"chisq": MappingProxyType({**found, "p_value_bootstrap": p_boot,
                                        "method": method})}
    return GoodnessOfFit(model_name=fit.model_name, n=n, tests=MappingProxyType(tests),
                         replicates=used, failed=failed, notes=tuple(notes),
                         failures=MappingProxyType(why), seed=_seed_of(seed))
