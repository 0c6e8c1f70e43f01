r"""The bootstrap: the sampling distribution of the estimates by refitting the model to
resampled data, all replicates of a batch refitted at once (:mod:`.._optimize.batched`).

Nonparametric: each replicate draws n observations from the data with replacement, i.e.
multinomial counts :math:`w_b` on the observations, and maximizes
:math:`\sum_i w_{b,i} \log p(x_i \mid \theta)`. Parametric: each replicate draws n new
observations from the fitted model and maximizes their log-likelihood. Every replicate starts
at the full-data estimate, a step or two of Newton away from its own maximum; parameters
estimated from the data before Newton (order statistics, medians) are recomputed on each
replicate's data; fixed parameters stay fixed.

Intervals: the percentile interval :math:`(\hat\theta^*_{(\alpha/2)},
\hat\theta^*_{(1-\alpha/2)})` and the BCa interval (Efron 1987), whose levels are

.. math:: \alpha_j = \Phi\left(z_0 + \frac{z_0 + z_{\alpha_j}}{1 - a (z_0 + z_{\alpha_j})}
          \right), \qquad z_0 = \Phi^{-1}\left(\frac{\#\{\hat\theta^*_b < \hat\theta\}
          + \tfrac12 \#\{\hat\theta^*_b = \hat\theta\}}{R}\right),

with the acceleration :math:`a = \sum_i U_i^3 / (6 (\sum_i U_i^2)^{3/2})` from the empirical
influence values (the infinitesimal jackknife) :math:`U_i = J\,(-H/n)^{-1} s_i`: ``s_i`` the
score of observation i and ``H`` the Hessian of the log-likelihood in the unconstrained
coordinates, ``J`` = d natural / d u. Presolved parameters (order statistics, medians) have no
score: their acceleration is 0, so their BCa interval is the bias-corrected percentile
interval, an approximation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .._data import batches_on_threads
from .._errors import FitError, ModelError
from .._model import Model
from .._optimize import batched
from .._params import flat_labels, split_flat
from .._params import plain_value as _plain
from .._params import readonly_array as _readonly
from .context import FitContext
from .intervals import ConfidenceInterval, check_level

KINDS = ("nonparametric", "parametric")
INTERVALS = ("percentile", "bca")
MIN_REPLICATES = 20
#: fewer successful replicates than this cannot place a 95% interval's ends
MIN_SUCCESSES = 20
#: above this share of failed replicates the intervals' note warns
FAILURE_WARNING = 0.10


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Bootstrap replicates of the estimates and the intervals they give.

    Attributes
    ----------
    estimates : ndarray, shape (R, p)
        One row per successful replicate: the natural parameters flattened over the fit's
        ``param_names`` (free and presolved), columns labelled by ``labels``.
    labels : tuple of str
        Column labels: the parameter name, or ``name[i]`` for an element of a vector.
    estimate : ndarray, shape (p,)
        The full-data estimate, flattened the same way.
    failed : int
        Replicates whose refit did not converge (dropped from ``estimates``).
    kind : str
        "nonparametric" or "parametric".
    replicates : int
        Replicates drawn (successful and failed).
    """

    estimates: np.ndarray
    labels: tuple[str, ...]
    estimate: np.ndarray
    failed: int
    kind: str
    replicates: int
    names: tuple[str, ...] = field(repr=False)
    shapes: Mapping[str, tuple] = field(repr=False)
    #: BCa acceleration per column (nonparametric only; None for the parametric bootstrap)
    acceleration: np.ndarray | None = field(default=None, repr=False)
    #: what each parameter's interval note adds (presolved, non-regular, held at the estimate)
    remarks: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: parameters set from the data before Newton (no score: BCa acceleration 0)
    presolved: tuple[str, ...] = field(default=(), repr=False)
    #: why replicates failed: reason -> count ("max iterations", "stalled", "nonfinite",
    #: "estimate at infinity")
    failures: Mapping[str, int] = field(default_factory=dict, repr=False)

    @property
    def se(self) -> dict[str, float]:
        r"""Bootstrap standard errors, label -> :math:`\mathrm{sd}(\hat\theta^*)` (ddof 1)."""
        sd = np.std(self.estimates, axis=0, ddof=1)
        return {lab: float(v) for lab, v in zip(self.labels, sd, strict=True)}

    @property
    def bias(self) -> dict[str, float]:
        r"""Bootstrap bias estimates, label -> :math:`\overline{\hat\theta^*} - \hat\theta`."""
        b = np.mean(self.estimates, axis=0) - self.estimate
        return {lab: float(v) for lab, v in zip(self.labels, b, strict=True)}

    def conf_int(self, level: float = 0.95, interval: str = "percentile"
                 ) -> dict[str, ConfidenceInterval]:
        """Bootstrap confidence intervals, parameter name -> :class:`ConfidenceInterval`.

        Parameters
        ----------
        level : float
            Coverage, strictly between 0 and 1.
        interval : {"percentile", "bca"}
            The percentile interval, or the bias-corrected and accelerated one (nonparametric
            bootstrap only: its acceleration comes from the empirical influence values).

        Returns
        -------
        dict
            Float ends for scalar parameters, arrays for vector ones.
        """
        level = check_level(level)
        _check_choice("interval", interval, INTERVALS)
        if interval == "bca" and self.acceleration is None:
            raise ModelError(
                "interval='bca' needs the empirical influence values of the nonparametric "
                f"bootstrap; this one is {self.kind}. Use interval='percentile', or "
                "bootstrap(..., kind='nonparametric').")
        tails = np.array([(1 - level) / 2, (1 + level) / 2])
        if interval == "percentile":
            ends = np.quantile(self.estimates, tails, axis=0)
            method, clipped = "bootstrap percentile", np.zeros(self.estimate.size, dtype=bool)
        else:
            ends, clipped = bca_ends(self.estimates, self.estimate, self.acceleration, tails)
            method = "bootstrap BCa (nonparametric)"
        shapes = [self.shapes[n] for n in self.names]
        lower = split_flat(ends[0], self.names, shapes)
        upper = split_flat(ends[1], self.names, shapes)
        flags = split_flat(clipped, self.names, shapes)
        return {n: ConfidenceInterval(_plain(lower[n]), _plain(upper[n]), method,
                                      self._note(n, interval, bool(np.any(flags[n]))))
                for n in self.names}

    def _note(self, name: str, interval: str, clipped: bool) -> str:
        used = self.replicates - self.failed
        parts = [f"{used} of {self.replicates} {self.kind} bootstrap replicates"]
        if self.failed:
            share = self.failed / self.replicates
            why = ", ".join(f"{v} {k}" for k, v in self.failures.items())
            parts[0] += f"; {self.failed} failed and were dropped ({why})"
            if share > FAILURE_WARNING:
                parts.append(f"warning: {share:.0%} of the replicates failed, so the interval "
                             "describes only the resamples where the fit succeeded")
        if name in self.remarks:
            parts.append(self.remarks[name])
        if interval == "bca" and name in self.presolved:
            parts.append("it has no score, so its BCa acceleration is 0 and BCa is approximate")
        if interval == "bca" and clipped:
            parts.append("every replicate lies on one side of the estimate: the bias "
                         f"correction was capped at 1/(2R), R = {used}")
        return "; ".join(parts)

    def to_pandas(self):
        """The replicates as a DataFrame, one column per label."""
        import pandas as pd  # optional at import time: only here

        return pd.DataFrame(self.estimates, columns=list(self.labels))


def bca_ends(estimates: np.ndarray, estimate: np.ndarray, acceleration: np.ndarray,
             tails: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""BCa end points (2, p) for the two ``tails`` levels, and per column whether the
    proportion below the estimate had to be kept off 0 or 1 (all replicates on one side).

    :math:`z_0 = \Phi^{-1}(\hat p)` with ties counted half; the levels
    :math:`\Phi(z_0 + (z_0 + z)/(1 - a(z_0 + z)))` then index the replicates' quantiles.
    """
    from scipy.special import ndtr, ndtri  # here: scipy adds 0.2 s to `import mlekit`

    count = estimates.shape[0]
    below = (np.sum(estimates < estimate, axis=0)
             + 0.5 * np.sum(estimates == estimate, axis=0)) / count
    kept = np.clip(below, 0.5 / count, 1 - 0.5 / count)
    z0 = ndtri(kept)
    z = ndtri(tails)[:, None] + z0
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = ndtr(z0 + z / (1 - acceleration * z))
    # at a (z0 + z) -> 1 the level runs to 1 (z > 0) or 0 (z < 0); past that pole the formula
    # turns back: the extreme replicate is the end, as it is in the limit
    levels = np.where(1 - acceleration * z > 0, levels, np.where(z > 0, 1.0, 0.0))
    ends = np.array([[np.quantile(estimates[:, j], levels[i, j]) for j in range(estimate.size)]
                     for i in range(2)])
    return ends, below != kept


# -- drawing and refitting the replicates --------------------------------------------------------
def bootstrap(ctx: FitContext, *, replicates: int = 999, kind: str = "nonparametric",
              seed=None, progress: Callable[[int, int], None] | None = None
              ) -> BootstrapResult:
    """Bootstrap the fit behind ``ctx``: refit ``replicates`` resampled data sets.

    Parameters
    ----------
    ctx : FitContext
        ``fit._context`` of a converged fit.
    replicates : int
        Number of bootstrap data sets R (>= 20; 999 or more for 95% intervals).
    kind : {"nonparametric", "parametric"}
        Resample the observations with replacement, or draw new ones from the fitted model
        (which needs the model's ``sample``).
    seed : int, numpy Generator or None
        Replicate b draws its data from ``np.random.default_rng(seed).spawn(replicates)[b]``:
        the same seed gives the same replicates whatever the batch size or the number of
        threads, and the first R replicates of a larger run are those of a run of R.
    progress : callable, optional
        ``progress(done, total)``, called after each batch of replicates.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ModelError
        Invalid arguments, or ``kind="parametric"`` for a model without a sampler.
    FitError
        Fewer than 20 replicates could be refitted.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> from mlekit._inference.bootstrap import bootstrap
    >>> x = np.random.default_rng(1).exponential(2.0, 200)
    >>> boot = bootstrap(mk.fit(mk.Exponential(), x)._context, replicates=199, seed=3)
    >>> lo, hi = boot.conf_int()["rate"]
    >>> bool(lo < 1 / x.mean() < hi)
    True
    """
    if not isinstance(ctx, FitContext):
        raise ModelError(f"ctx={type(ctx).__name__} is not a fit's context; pass "
                         "fit._context of a fit made by mk.fit.")
    ctx.likelihood_only("the bootstrap")
    ctx.in_memory("the bootstrap")
    if isinstance(replicates, bool) or not isinstance(replicates, int | np.integer) or (
            replicates < MIN_REPLICATES):
        raise ModelError(f"replicates={replicates!r} must be an integer >= {MIN_REPLICATES}; "
                         "use 999 or more for 95% intervals.")
    _check_choice("kind", kind, KINDS)
    if progress is not None and not callable(progress):
        raise ModelError(f"progress={progress!r} must be a function progress(done, total) "
                         "or None.")
    streams = _rng(seed).spawn(int(replicates))  # one per replicate: see the docstring
    plan = _Plan(ctx, kind)
    replicates = int(replicates)
    size = batched.batch_size(batched.padded_length(ctx.n), replicates)
    batches = [streams[s:s + size] for s in range(0, replicates, size)]
    estimates, good, why = _run(plan, batches, size, progress)
    if good.sum() < MIN_SUCCESSES:
        shown = ", ".join(f"{v} {k}" for k, v in why.items())
        raise FitError(
            f"only {int(good.sum())} of {replicates} bootstrap replicates could be refitted "
            f"({shown}); at least {MIN_SUCCESSES} are needed. The model may not fit the "
            "resamples (e.g. an estimate on the boundary of the parameter space): check the "
            "fit's diagnostics, or try kind='parametric' / a Wald or profile interval.")
    return BootstrapResult(
        estimates=_readonly(estimates[good]), labels=plan.labels, estimate=plan.estimate,
        failed=int((~good).sum()), kind=kind, replicates=replicates, names=ctx.names,
        shapes=dict(ctx.shapes),
        acceleration=_acceleration(ctx, plan) if kind == "nonparametric" else None,
        remarks=plan.remarks, presolved=tuple(ctx.presolved),
        failures={k: v for k, v in why.items() if v})


def _run(plan: _Plan, batches: list, size: int, progress
         ) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Refit every batch: (replicate rows, success flags, failure reasons with counts)."""
    rows, good, why = [], [], {}
    total = sum(len(b) for b in batches)
    # each batch draws its data when it starts, so memory holds WORKERS batches
    for est, ok, reasons in batches_on_threads(lambda gens: plan.refit(plan.draw(gens), size),
                                               batches, "mlekit-boot"):
        rows.append(est)
        good.append(ok)
        for k, v in reasons.items():
            why[k] = why.get(k, 0) + v
        if progress is not None:
            progress(sum(r.shape[0] for r in rows), total)
    return np.concatenate(rows), np.concatenate(good), why


@dataclass(frozen=True)
class _Draw:
    """One batch's replicates: resample indices (nonparametric) or new data (parametric)."""

    index: np.ndarray | None
    data: np.ndarray | None

    @property
    def count(self) -> int:
        return (self.index if self.index is not None else self.data).shape[0]


class _Plan:
    """What every batch needs: the model, how to draw, which parameters to recompute, and how
    replicate rows are laid out (the fit's ``names``, flattened)."""

    def __init__(self, ctx: FitContext, kind: str):
        self.ctx, self.kind, self.model = ctx, kind, ctx.model
        self.params = ctx.params()
        if kind == "parametric":
            _check_sampler(self.model, self.params)
        # presolved by the family's rule are recomputed per replicate; any others (a threshold
        # set at the smallest observation when no local maximum exists) are held
        self.recomputed = tuple(n for n in ctx.presolved if n in self.model.presolved)
        held_fixed = tuple(n for n in ctx.presolved if n not in self.recomputed)
        self.estimate = _readonly(np.concatenate(
            [np.ravel(self.params[n]) for n in ctx.names] or [np.zeros(0)]))
        self.labels = tuple(flat_labels(ctx.names, ctx.shapes))
        self.remarks = _remarks(ctx, held_fixed)
        self.check_diverging = type(self.model).diverging is not Model.diverging
        # every resample starts at u with the same per-observation derivatives: the first
        # evaluation is then a weighted sum of them (a matrix product), not a pass per member
        self.table = None
        if (kind == "nonparametric" and ctx.objective.stats is None and not self.recomputed
                and ctx.n * (1 + ctx.layout.k) ** 2 <= batched.BUDGET):
            self.table = batched.pointwise_table(self.model, ctx.layout, ctx.objective.fixed,
                                                 ctx.x, ctx.u)

    def draw(self, streams: list[np.random.Generator]) -> _Draw:
        """One batch's resamples (indices into the data) or new data, one stream each."""
        n = self.ctx.n
        if self.kind == "nonparametric":
            return _Draw(np.stack([g.integers(0, n, size=n) for g in streams]), None)
        data = np.stack([np.asarray(self.model.sample(self.params, n, g), dtype=float)
                         for g in streams])
        return _Draw(None, data.reshape(len(streams), *self.ctx.x.shape))

    def refit(self, draw: _Draw, size: int) -> tuple[np.ndarray, np.ndarray, dict]:
        """(rows (m, p), success (m,), failure reasons) for one batch, padded to ``size``
        members (the compiled shape: padding members are never evaluated)."""
        m, ctx = draw.count, self.ctx
        data = self._data(draw, size)
        held = self._held(data, size)
        derivs, start = self._derivs(draw, data, held, size)
        result = batched.maximize_batch(derivs, np.tile(ctx.u, (size, 1)), maxiter=ctx.maxiter,
                                        members=np.arange(size) < m, start=start)
        rows = self._rows(batched.natural_rows(ctx.layout, held, result.u), held)[:m]
        return (rows, *self._verdict(result.status[:m], rows, data))

    def _data(self, draw: _Draw, size: int) -> np.ndarray | None:
        """Each member's observations, padded to ``size`` members with copies of the first;
        None where nothing needs them (weights on the shared data suffice)."""
        if draw.index is not None and not (self.recomputed or self.check_diverging
                                           or self.ctx.objective.stats is not None):
            return None
        data = self.ctx.x[draw.index] if draw.index is not None else draw.data
        return np.concatenate([data, np.repeat(data[:1], size - draw.count, axis=0)])

    def _verdict(self, status: np.ndarray, rows: np.ndarray, data: np.ndarray | None
                 ) -> tuple[np.ndarray, dict[str, int]]:
        """Which replicates succeeded: converged, finite, and (for models that can tell)
        not on the way to an estimate at infinity; and why the others failed."""
        ok = status == batched.CONVERGED
        reasons = _reasons(status)
        for reason, test in (("non-finite estimate",
                              lambda ok: ok & ~np.all(np.isfinite(rows), axis=1)),
                             ("estimate at infinity", lambda ok: self._away(ok, rows, data))):
            bad = test(ok)
            if bad.any():
                reasons[reason] = int(bad.sum())
            ok = ok & ~bad
        return ok, reasons

    def _away(self, ok: np.ndarray, rows: np.ndarray, data: np.ndarray | None) -> np.ndarray:
        if not self.check_diverging:
            return np.zeros(ok.shape, dtype=bool)
        return np.array([bool(ok[b]) and self._diverges(data[b], rows[b])
                         for b in range(ok.shape[0])], dtype=bool)

    def _held(self, data: np.ndarray | None, size: int) -> dict[str, np.ndarray]:
        held = {k: np.broadcast_to(np.asarray(v, dtype=float), (size, *np.shape(v)))
                for k, v in self.ctx.held.items()}
        if self.recomputed:
            per = [self.model.boundary_estimate(x) for x in data]
            for name in self.recomputed:
                held[name] = np.stack([np.asarray(p[name], dtype=float) for p in per])
        return held

    def _derivs(self, draw: _Draw, data: np.ndarray | None, held: dict, size: int):
        """(the batch's derivative function, its derivatives at the start or None)."""
        ctx = self.ctx
        if ctx.objective.stats is not None:
            stats = np.stack([np.asarray(self.model.suffstats(x), dtype=float) for x in data])
            return batched.from_stats(self.model, ctx.layout, held, stats), None
        if draw.index is None:
            return batched.drawn(self.model, ctx.layout, held, data), None
        n = ctx.n
        index = np.concatenate([draw.index, np.repeat(draw.index[:1], size - draw.count, 0)])
        flat = (index + n * np.arange(size)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n).reshape(size, n).astype(float)
        start = None
        if self.table is not None:
            start = batched.weighted_start(self.table, counts, ctx.layout.k)
        return batched.resampled(self.model, ctx.layout, held, ctx.x, counts), start

    def _rows(self, free: np.ndarray, held: dict) -> np.ndarray:
        """Replicate rows over ``names``: free parameters from Newton, the rest held."""
        ctx, size = self.ctx, free.shape[0]
        pieces, i = {}, 0
        for name, width in zip(ctx.layout.names, _widths(ctx.layout.names, ctx.shapes),
                               strict=True):
            pieces[name] = free[:, i:i + width]
            i += width
        cols = [pieces[n] if n in pieces else np.reshape(held[n], (size, -1)) for n in ctx.names]
        return np.concatenate(cols, axis=1) if cols else np.zeros((size, 0))

    def _diverges(self, x: np.ndarray, row: np.ndarray) -> bool:
        ctx = self.ctx
        theta = split_flat(row, ctx.names, [ctx.shapes[n] for n in ctx.names])
        params = {**self.params, **theta}
        return self.model.diverging(x, params) is not None


def _acceleration(ctx: FitContext, plan: _Plan) -> np.ndarray:
    """BCa acceleration per column from the infinitesimal jackknife (0 for presolved
    columns, which have no score)."""
    out = np.zeros(plan.estimate.size)
    if ctx.layout.k == 0:
        return out
    scores = ctx.objective.scores(ctx.u)  # (n, k)
    _, _, hess = ctx.objective(ctx.u)
    _, jac = ctx.objective.natural(ctx.u)
    try:
        influence = ctx.n * np.linalg.solve(-hess, scores.T).T @ jac.T  # (n, p_free)
    except np.linalg.LinAlgError:
        return out
    num = np.sum(influence**3, axis=0)
    den = 6.0 * np.sum(influence**2, axis=0) ** 1.5
    with np.errstate(divide="ignore", invalid="ignore"):
        free = np.where(den > 0, num / den, 0.0)
    cols, i = [], 0
    for name, width in zip(ctx.names, _widths(ctx.names, ctx.shapes), strict=True):
        if name in ctx.layout.names:
            cols.append(np.arange(i, i + width))
        i += width
    out[np.concatenate(cols).astype(int)] = free
    return out


# -- helpers -------------------------------------------------------------------------------------
def _widths(names, shapes) -> list[int]:
    return [int(np.prod(shapes[n], dtype=int)) for n in names]


def _remarks(ctx: FitContext, held_fixed: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in ctx.presolved:
        out[name] = ("presolved from the data (order statistic or median), recomputed on each "
                     "replicate")
    for name in held_fixed:
        out[name] = ("held at its full-data value in every replicate (the fit set it at the "
                     "smallest observation: no local maximum exists)")
    for name in ctx.nonregular:
        out[name] = (out.get(name, "") + ("; " if name in out else "") +
                     "non-regular estimator (an order statistic or threshold): the bootstrap "
                     "distribution does not approximate its sampling distribution, so this "
                     "interval is unreliable")
    return out


def _reasons(status: np.ndarray) -> dict[str, int]:
    names = batched.STATUS_NAMES
    return {names[c].replace("_", " "): int(np.sum(status == c))
            for c in np.unique(status) if c != batched.CONVERGED}


def _check_sampler(model: Model, params: dict) -> None:
    try:
        model.sample(params, 1, np.random.default_rng(0))
    except NotImplementedError:
        raise ModelError(
            f"kind='parametric' draws new data from the fitted model, and {model.name} defines "
            "no sampler; use kind='nonparametric' (resampling the observations).") from None


def _check_choice(arg: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ModelError(f"{arg}={value!r} is not allowed; use one of {allowed}.")


def _rng(seed) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ModelError(f"seed={seed!r} must be None, a non-negative integer or a "
                         "np.random.Generator.") from None
