r"""Hypothesis tests from fits: likelihood ratio, Wald, score (model comparison by AIC is in
:mod:`.comparison`).

All three tests are asymptotically :math:`\chi^2` with as many degrees of freedom as there are
restrictions, and agree to first order; they differ in which fit they need (both, the full
one, the restricted one) and in their finite-sample behaviour (the likelihood ratio is
invariant to reparametrization, the Wald test is not). Where the restriction puts a parameter
on the boundary of the larger model's space (a zero-inflation probability of 0, a negative
binomial size of infinity) the likelihood ratio's null distribution is a mixture of
:math:`\chi^2` laws (Self & Liang 1987), which :func:`lr_test` uses.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._errors import FitError, ModelError

#: log-likelihood differences below this (relative to the log-likelihood) are rounding: the
#: optimizer stops when the log-likelihood still to gain is ~1e-12 of max(1, 1e-6 |loglik|)
LOGLIK_TOL = 1e-9

#: (restricted, full) family pairs in which the restriction puts parameters on the boundary of
#: the full model's parameter space; the others (exponential in gamma: shape = 1) are interior
BOUNDARY_PAIRS: dict[tuple[str, str], tuple[str, ...]] = {
    ("poisson", "zero_inflated_poisson"): ("pi = 0",),
    ("poisson", "negative_binomial"): ("size = infinity",),
    ("negative_binomial", "zero_inflated_negative_binomial"): ("pi = 0",),
    ("zero_inflated_poisson", "zero_inflated_negative_binomial"): ("size = infinity",),
    ("poisson", "zero_inflated_negative_binomial"): ("pi = 0", "size = infinity"),
    ("geometric", "zero_inflated_negative_binomial"): ("pi = 0",),
    ("normal", "student_t"): ("df = infinity",),
}


# -- the result ------------------------------------------------------------------------------
def _fmt_p(p: float) -> str:
    return "< 1e-300" if p < 1e-300 else f"{p:.3g}"


@dataclass(frozen=True)
class TestResult:
    """The outcome of a hypothesis test.

    Attributes
    ----------
    name : str
        "likelihood ratio", "Wald" or "score".
    statistic : float
        The test statistic (>= 0).
    df : int
        Degrees of freedom: the number of restrictions.
    p_value : float
        P(T >= statistic) under the null distribution.
    distribution : str
        The null distribution, e.g. ``"chi2(1)"`` or ``"0.5 chi2(0) + 0.5 chi2(1)"``.
    note : str
        What the reader should know (boundary, covariance used); "" when nothing.
    hypothesis : str
        The null hypothesis, in words.
    """

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    name: str
    statistic: float
    df: int
    p_value: float
    distribution: str
    note: str = ""
    hypothesis: str = ""

    def _lines(self) -> list[str]:
        head = f"{self.name[0].upper()}{self.name[1:]} test"
        out = [f"{head}: {self.hypothesis}" if self.hypothesis else head,
               f"statistic = {self.statistic:.6g}   df = {self.df}   "
               f"p-value = {_fmt_p(self.p_value)}   null distribution: {self.distribution}"]
        return out + ([f"note: {self.note}"] if self.note else [])

    def __str__(self):
        return "\n".join(self._lines())

    def _repr_html_(self):
        return ('<div class="mlekit-test">'
                + "".join(f"<div>{html.escape(line)}</div>" for line in self._lines())
                + "</div>")

    def to_dict(self) -> dict:
        """A JSON-safe dict."""
        return {"test": self.name, "hypothesis": self.hypothesis,
                "statistic": float(self.statistic), "df": int(self.df),
                "p_value": float(self.p_value), "distribution": self.distribution,
                "note": self.note}


# -- chi-squared and its boundary mixtures ---------------------------------------------------
def chi2_sf(statistic: float, df: int) -> float:
    """P(chi2(df) >= statistic); chi2(0) is the point mass at 0."""
    if df == 0:
        return 1.0 if statistic <= 0 else 0.0
    from scipy.special import chdtrc  # here: scipy.special costs 0.3 s to import

    return float(chdtrc(df, max(statistic, 0.0)))


def chi_bar_components(df: int, boundary: int) -> list[tuple[float, int]]:
    r"""(weight, degrees of freedom) of the null law of a likelihood ratio with ``boundary`` of
    its ``df`` restrictions on the boundary of the parameter space (independent, each
    half-normal there):
    :math:`\sum_{j=0}^{m} \binom{m}{j} 2^{-m} \chi^2_{df-m+j}` (Self & Liang 1987).

    Examples
    --------
    >>> chi_bar_components(1, 1)
    [(0.5, 0), (0.5, 1)]
    """
    return [(math.comb(boundary, j) / 2**boundary, df - boundary + j)
            for j in range(boundary + 1)]


def mixture_sf(statistic: float, components: Sequence[tuple[float, int]]) -> float:
    """P(T >= statistic) for T a mixture of chi-squared laws."""
    return float(sum(w * chi2_sf(statistic, d) for w, d in components))


def describe(components: Sequence[tuple[float, int]]) -> str:
    """'chi2(1)', or '0.5 chi2(0) + 0.5 chi2(1)' for a mixture."""
    if len(components) == 1:
        return f"chi2({components[0][1]})"
    return " + ".join(f"{w:g} chi2({d})" for w, d in components)


# -- checks shared by the tests --------------------------------------------------------------
def _check_fit(fit, role: str):
    from .._result import Fit  # here: _result imports this package

    if not isinstance(fit, Fit):
        raise ModelError(f"{role} must be a fit (the result of mk.fit); got {type(fit).__name__}.")
    return fit


def _check_converged(fit, role: str, why: str):
    if not fit.converged:
        raise FitError(f"the {role} fit ({fit.model_name}) did not converge ({fit.message}); "
                       f"{why}, so fix that fit first (see its diagnostics).")


def _same_rows(x, y) -> bool:
    """Whether two fits' data are the same (partitioned datasets: the same partitions)."""
    same = getattr(x, "same_rows", None)
    if same is not None or hasattr(y, "same_rows"):
        return same is not None and same(y)
    return np.array_equal(x, y, equal_nan=True)


def _check_same_data(fits: Sequence, labels: Sequence[str]):
    """Same number of observations, and the same observations where both fits keep them."""
    ns = {label: f.n for label, f in zip(labels, fits, strict=True)}
    if len(set(ns.values())) > 1:
        shown = ", ".join(f"{label}: n = {n}" for label, n in ns.items())
        raise ModelError(f"the fits were made on different numbers of observations ({shown}); "
                         "likelihoods compare only on the same data.")
    data = [(label, getattr(f._context, "x", None)) for label, f in zip(labels, fits,
                                                                         strict=True)]
    data = [(label, x) for label, x in data if x is not None]
    for (label, x), (other, y) in zip(data, data[1:], strict=False):
        if x.shape == y.shape and not _same_rows(x, y):
            raise ModelError(f"{label} and {other} were fitted to different data (same n, "
                             "different values); likelihoods compare only on the same data.")


def _tol(*logliks: float) -> float:
    return LOGLIK_TOL * max(1.0, *(abs(v) for v in logliks))


# -- likelihood ratio ------------------------------------------------------------------------
def lr_test(restricted, full, boundary: int | None = None) -> TestResult:
    r"""Likelihood ratio test of a restricted model nested in a full one.

    :math:`LR = 2(\ell_{full} - \ell_{restricted})`, asymptotically :math:`\chi^2_{df}` with
    ``df = full.k - restricted.k`` when the restriction is interior. When ``m`` of the
    restricted parameters sit on the boundary of their space (a zero-inflation probability of
    0, a negative binomial size of infinity, a Student t's df of infinity) the null law is the
    mixture :math:`\sum_j \binom{m}{j} 2^{-m}\chi^2_{df-m+j}`; for one such parameter
    :math:`\tfrac12\chi^2_{df-1} + \tfrac12\chi^2_{df}` (Self & Liang 1987), with
    :math:`\chi^2_0` the point mass at 0.

    Parameters
    ----------
    restricted, full : Fit
        Converged fits to the same data, ``restricted`` nested in ``full`` (a special case of
        it: a family within a larger one, or the same model with more parameters fixed).
    boundary : int, optional
        How many of the ``df`` restrictions are on the boundary. By default the known nested
        pairs of families are recognized (:data:`BOUNDARY_PAIRS`: Poisson in the negative
        binomial or the zero-inflated Poisson, ...) and any other restriction is taken as
        interior.

    Returns
    -------
    TestResult

    Raises
    ------
    ModelError
        Different data, ``restricted.k >= full.k``, or a restricted maximum above the full
        one (not nested, or the full fit is not at its maximum).
    FitError
        A fit that did not converge.

    Examples
    --------
    >>> import mlekit as mk
    >>> x = [0.5, 1.2, 2.3, 0.8, 3.1, 1.7, 0.4, 2.2]
    >>> test = lr_test(mk.fit(mk.Exponential(), x), mk.fit(mk.Gamma(), x))
    >>> test.df, test.distribution
    (1, 'chi2(1)')
    """
    for one in (restricted, full):
        if getattr(one, "prior", None):
            raise ModelError("lr_test compares maximized log-likelihoods; a MAP fit (prior= or "
                             "penalty=) maximizes a log-posterior: refit both without the prior.")
    _check_fit(restricted, "restricted")
    _check_fit(full, "full")
    why = "a likelihood ratio compares the two maxima"
    _check_converged(restricted, "restricted", why)
    _check_converged(full, "full", why)
    _check_same_data([restricted, full], ["the restricted fit", "the full fit"])
    df = full.k - restricted.k
    if df < 1:
        raise ModelError(
            f"lr_test(restricted, full): the restricted fit ({restricted.model_name}) has "
            f"k = {restricted.k} free parameters and the full one ({full.model_name}) "
            f"k = {full.k}; the restricted model must have fewer. Pass the smaller model first."
        )
    _check_fixed_nested(restricted, full)
    diff = full.loglik - restricted.loglik
    tol = _tol(full.loglik, restricted.loglik)
    if diff < -tol:
        raise ModelError(
            f"the restricted fit's log-likelihood ({restricted.loglik:.8g}) exceeds the full "
            f"fit's ({full.loglik:.8g}): the models are not nested or the full fit is not at "
            "its maximum; check the nesting, or refit the full model from the restricted "
            "estimates (start={...})."
        )
    statistic = 2.0 * diff if diff > tol else 0.0
    where, m = _boundary(restricted, full, df, boundary)
    components = chi_bar_components(df, m)
    notes = []
    if m:
        law = ("a 50:50 mixture" if m == 1 else "a binomial mixture") + " of chi-squared laws"
        what = f" ({', '.join(where)})" if where else ""
        notes.append(f"{m} restricted parameter{'s' if m > 1 else ''}{what} on the boundary of "
                     f"the parameter space: the null distribution is {law} (Self & Liang 1987)")
    if statistic == 0.0:
        notes.append("the restricted fit attains the full maximum (within rounding)")
    return TestResult("likelihood ratio", statistic, df, mixture_sf(statistic, components),
                      describe(components), "; ".join(notes),
                      f"{_label(restricted)} (k = {restricted.k}) within {_label(full)} "
                      f"(k = {full.k})")


def _label(fit) -> str:
    if not fit.fixed:
        return fit.model_name
    fixed = ", ".join(f"{n} = {np.asarray(v).tolist()}" for n, v in fit.fixed.items())
    return f"{fit.model_name} ({fixed} fixed)"


def _check_fixed_nested(restricted, full):
    """Within one model, the restricted fit must hold fixed what the full one does."""
    if restricted.model_name != full.model_name:
        return
    for name, value in full.fixed.items():
        if name not in restricted.fixed or not np.array_equal(
                np.asarray(restricted.fixed[name]), np.asarray(value)):
            raise ModelError(
                f"the full fit holds {name} = {np.asarray(value).tolist()} fixed and the "
                "restricted fit does not: the restricted model is not nested in the full one."
            )


def _boundary(restricted, full, df: int, boundary) -> tuple[tuple[str, ...], int]:
    if boundary is None:
        where = BOUNDARY_PAIRS.get((restricted.model_name, full.model_name), ())
        return where, min(len(where), df)
    if isinstance(boundary, bool) or not isinstance(boundary, (int, np.integer)) \
            or not 0 <= boundary <= df:
        raise ModelError(f"boundary={boundary!r} must be an integer from 0 to df = {df}: how "
                         "many of the restricted parameters lie on the boundary of their space.")
    return (), int(boundary)


# -- Wald ------------------------------------------------------------------------------------
def wald_test(fit, hypothesis) -> TestResult:
    r"""Wald test of :math:`h(\theta) = 0` from the full fit alone.

    :math:`W = h(\hat\theta)' (G V G')^{-1} h(\hat\theta)` with :math:`G = \partial h /
    \partial\theta` at :math:`\hat\theta` (by JAX) and :math:`V` the fit's covariance (so a
    fit from ``cov_as("robust")`` gives a robust test); asymptotically :math:`\chi^2_r` with
    r the number of equations. Not invariant: ``shape = 1`` and ``log(shape) = 0`` give
    different statistics (the likelihood ratio does not depend on how a hypothesis is written).

    Parameters
    ----------
    fit : Fit
    hypothesis : str, dict or (R, q)
        Equations over the parameter names, ``"shape = 1"`` or ``"a - b = 0, c = 2"``
        (separated by commas or semicolons; the grammar of
        :func:`mlekit._expr.compile_expression`); or ``{name: value}``; or a pair of arrays
        ``(R, q)`` for :math:`R\theta = q`, with :math:`\theta` the free parameters flattened
        in ``fit.param_names`` order.

    Returns
    -------
    TestResult

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Normal(), [1.2, 0.7, 2.1, 1.6, 0.9, 1.4])
    >>> test = wald_test(fit, "mean = 1")
    >>> round(test.statistic, 10) == round(((fit.params["mean"] - 1) / fit.se["mean"]) ** 2, 10)
    True
    """
    _check_fit(fit, "fit")
    if fit.cov is None:
        raise ModelError("no Wald test: the fit has no covariance (its information matrix is "
                         "singular; see fit.diagnostics); use lr_test.")
    names = fit.param_names
    shapes = [tuple(fit._shapes.get(n, np.shape(fit.params[n]))) for n in names]
    flat = np.concatenate([np.ravel(np.asarray(fit.params[n], dtype=float)) for n in names])
    h, label, notes = _hypothesis(fit, hypothesis, names, shapes, flat.size)
    g, jac = _value_and_jacobian(h, flat)
    middle = jac @ np.asarray(fit.cov) @ jac.T
    _check_invertible(middle, label)
    statistic = float(g @ np.linalg.solve(middle, g))
    if fit.cov_kind != "observed":
        from .covariances import LABELS

        notes.append(f"covariance: {LABELS.get(fit.cov_kind, fit.cov_kind)}")
    df = int(g.size)
    return TestResult("Wald", statistic, df, chi2_sf(statistic, df), f"chi2({df})",
                      "; ".join(notes), label)


def _value_and_jacobian(h, flat) -> tuple[np.ndarray, np.ndarray]:
    import jax
    import jax.numpy as jnp

    point = jnp.asarray(flat, dtype=jnp.float64)
    g = np.atleast_1d(np.asarray(h(point), dtype=float))
    jac = np.asarray(jax.jacfwd(h)(point), dtype=float).reshape(g.size, flat.size)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(jac))):
        raise ModelError(f"the hypothesis is not finite at the estimates (value {g.tolist()}); "
                         "check its domain (e.g. log of a negative).")
    return g, jac


def _check_invertible(middle: np.ndarray, label: str):
    lam = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    if not (lam.size and lam[-1] > 0 and lam[0] > 1e-10 * lam[-1]):
        raise ModelError(
            f"the Wald test of {label!r} is undefined: G V G' is singular, so the equations are "
            "redundant (one follows from the others) or involve only parameters without "
            "sampling variance; drop the redundant ones."
        )


def _hypothesis(fit, hypothesis, names, shapes, p):
    """(h: flat free parameters -> vector, label, notes) for the three accepted forms."""
    import jax.numpy as jnp

    from .._params import split_flat

    if isinstance(hypothesis, str):
        from .._expr import compile_equations

        equations = compile_equations(hypothesis, list(fit.params))
        return (lambda v: equations({**fit.params, **split_flat(v, names, shapes)}),
                hypothesis.strip(), [])
    if isinstance(hypothesis, Mapping):
        return _dict_hypothesis(fit, hypothesis, names, shapes)
    if isinstance(hypothesis, (tuple, list)) and len(hypothesis) == 2:
        r, q = _linear(hypothesis, p)
        return (lambda v: jnp.asarray(r) @ v - jnp.asarray(q),
                f"R theta = q ({r.shape[0]} equation{'s' if r.shape[0] > 1 else ''})", [])
    raise ModelError(
        f"hypothesis={hypothesis!r} is not a hypothesis; pass equations as a string "
        "('shape = 1, rate = 0.05'), a dict {name: value}, or (R, q) for R theta = q."
    )


def _dict_hypothesis(fit, hypothesis: Mapping, names, shapes):
    import jax.numpy as jnp

    from .._params import split_flat

    if not hypothesis:
        raise ModelError("hypothesis={} holds no restriction; give {name: value}.")
    values, notes = {}, []
    for name, value in hypothesis.items():
        shape = _free_shape(fit, name, names, shapes, "hypothesis")
        arr = np.asarray(value, dtype=float)
        if arr.shape != shape or not np.all(np.isfinite(arr)):
            raise ModelError(f"hypothesis[{name!r}] = {value!r} must be finite with shape "
                             f"{shape}, the shape of {name!r}.")
        values[name] = arr
        note = _outside_note(fit, name, arr)
        if note:
            notes.append(note)

    def h(v):
        theta = split_flat(v, names, shapes)
        return jnp.concatenate([jnp.ravel(theta[n] - values[n]) for n in values])

    label = ", ".join(f"{n} = {values[n].tolist()}" for n in values)
    return h, label, notes


def _free_shape(fit, name, names, shapes, argname) -> tuple:
    if name in fit.fixed:
        raise ModelError(f"{argname}: {name!r} is fixed in this fit, not estimated; test a "
                         f"free parameter ({', '.join(names)}).")
    if name not in names:
        raise ModelError(f"{argname}: {fit.model_name} has no free parameter {name!r}; its "
                         f"free parameters are {list(names)}.")
    return tuple(shapes[names.index(name)])


def _outside_note(fit, name, value) -> str:
    """A warning where a hypothesized value lies on the edge of (or outside) the space."""
    ctx = fit._context
    if ctx is None or name not in ctx.model.params:
        return ""
    constraint = ctx.model.params[name].constraint
    if constraint.contains(value):
        return ""
    return (f"{name} = {value.tolist()} is not inside the parameter space ({name} must be "
            f"{constraint.describe()}): the chi-squared reference does not hold there; "
            "use lr_test with the boundary model")


def _linear(pair, p: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.atleast_2d(np.asarray(pair[0], dtype=float))
    q = np.atleast_1d(np.asarray(pair[1], dtype=float))
    if r.ndim != 2 or r.shape[1] != p or q.shape != (r.shape[0],):
        raise ModelError(
            f"(R, q) have shapes {r.shape} and {q.shape}; R theta = q needs R of shape "
            f"(r, {p}) (one column per free parameter, flattened in fit.param_names order) "
            "and q of shape (r,)."
        )
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(q))):
        raise ModelError("(R, q) must be finite.")
    return r, q


# -- score -----------------------------------------------------------------------------------
def score_test(fit, restrictions: Mapping[str, float], information: str = "observed"
               ) -> TestResult:
    r"""Rao's score (Lagrange multiplier) test of ``restrictions`` against the fit's model.

    Refits with the restricted parameters fixed, then evaluates the full model's score
    :math:`s` and information at the restricted estimate :math:`\tilde\theta`:
    :math:`S = s' I(\tilde\theta)^{-1} s`, asymptotically :math:`\chi^2_r` with r the number
    of restrictions. The restricted parameters are taken in natural units; the others keep
    their unconstrained coordinates (their scores vanish at :math:`\tilde\theta`, so the
    statistic does not depend on how they are parametrized).

    Parameters
    ----------
    fit : Fit
        A fit of the full model (it supplies the model and the data).
    restrictions : dict
        ``{name: value}``: scalar free parameters and values inside their space.
    information : {"observed", "expected"}
        :math:`I = -H`, the observed information (the default), or n times the expected
        information of one observation (closed form, exact sum over a discrete support, or
        Monte Carlo, as ``cov_as("expected")``). With the expected information the statistic
        is invariant to how the restricted parameters are written (R's
        ``anova(..., test = "Rao")`` for GLMs); with the observed one it is not, and natural
        units are used.

    Returns
    -------
    TestResult

    Examples
    --------
    >>> import mlekit as mk
    >>> x = [2.0, 4.0, 3.0, 5.0, 1.0, 3.0]
    >>> fit = mk.fit(mk.Poisson(), x)
    >>> round(score_test(fit, {"lambda": 2.0}).statistic, 6)  # (sum x/2 - n)^2 / (sum x/4)
    2.0
    >>> round(score_test(fit, {"lambda": 2.0}, "expected").statistic, 6)  # (sum x/2 - n)^2 / (n/2)
    3.0
    """
    if fit._context is not None:
        fit._context.likelihood_only("the score test")
        fit._context.in_memory("the score test")
    _check_fit(fit, "fit")
    if information not in ("observed", "expected"):
        raise ModelError(f"information={information!r} must be 'observed' or 'expected'.")
    ctx = fit._context
    if ctx is None:
        raise ModelError("this fit carries no data to refit under the restrictions from.")
    values = _check_restrictions(fit, ctx, restrictions)
    theta, held = _restricted_maximum(fit, ctx, values)
    at = _restricted_context(ctx, theta, held, values)
    grad, info, note = _score_and_information(at, information)
    keep = ctx.keep()  # non-regular coordinates are treated as known, as in the covariance
    grad, info = grad[keep], info[np.ix_(keep, keep)]
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        raise ModelError(
            f"no score test: the {information} information of the full model at the "
            "restricted estimate is not positive definite (the restriction is far from the "
            "data); use lr_test or wald_test."
        ) from None
    z = np.linalg.solve(chol, grad)
    statistic = float(z @ z)
    df = len(values)
    label = ", ".join(f"{n} = {v:g}" for n, v in values.items())
    return TestResult("score", statistic, df, chi2_sf(statistic, df), f"chi2({df})", note,
                      label)


def _check_restrictions(fit, ctx, restrictions) -> dict[str, float]:
    if not isinstance(restrictions, Mapping) or not restrictions:
        raise ModelError(f"restrictions={restrictions!r} must be a non-empty dict "
                         "{name: value}, e.g. {'shape': 1.0}.")
    free = tuple(ctx.layout.names)
    shapes = [ctx.shapes.get(n, ()) for n in free]
    out = {}
    for name, value in restrictions.items():
        if name in ctx.presolved or name in ctx.nonregular:
            raise ModelError(f"restrictions: {name!r} is estimated from order statistics or a "
                             "median, where the likelihood is not smooth: no score test; use "
                             "the bootstrap.")
        shape = _free_shape(fit, name, free, shapes, "restrictions")
        arr = np.asarray(value, dtype=float)
        constraint = ctx.model.params[name].constraint
        if shape != () or arr.shape != () or not constraint.contains(arr):
            raise ModelError(
                f"restrictions[{name!r}] = {value!r}: a score test restricts scalar parameters "
                f"to values inside their space ({name} must be {constraint.describe()})."
            )
        out[name] = float(arr)
    return out


def _restricted_maximum(fit, ctx, values) -> tuple[dict, dict]:
    """(all parameters at the restricted maximum, the held ones among them but the
    restricted): the refit's, or the restrictions themselves where they leave nothing free."""
    from .._fit import fit as fit_model  # here: _fit imports this package

    if set(ctx.layout.names) <= set(values):
        held = dict(ctx.held)
        return {**held, **values}, held
    restricted = fit_model(ctx.model, ctx.x, fixed={**fit.fixed, **values}, maxiter=ctx.maxiter)
    _check_converged(restricted, "restricted", "the score is evaluated at its maximum")
    held = {n: v for n, v in restricted._context.held.items() if n not in values}
    return dict(restricted.params), held


def _restricted_context(ctx, theta, held, values):
    """The full model's objective at the restricted maximum ``theta``, as a FitContext whose
    layout puts the restricted parameters on the identity map."""
    from .._optimize import Layout, Objective
    from .._params import RealLine

    layout = Layout(ctx.layout.names,
                    tuple(RealLine() if n in values else c
                          for n, c in zip(ctx.layout.names, ctx.layout.constraints, strict=True)),
                    ctx.layout.shapes)
    objective = Objective(ctx.model, layout, held, ctx.x, ctx.objective.stats)  # no new pass
    presolved = {n: v for n, v in held.items() if n not in ctx.fixed and n in ctx.model.params}
    return dataclasses.replace(ctx, objective=objective, layout=layout, presolved=presolved,
                               u=layout.pack(theta), hess=None)


def _score_and_information(at, information) -> tuple[np.ndarray, np.ndarray, str]:
    _, grad, hess = at.objective(at.u)
    if information == "observed":
        return np.asarray(grad), -np.asarray(hess), "observed information at the restricted " \
            "estimate"
    from .covariances import expected_information

    info, how = expected_information(at)
    return (np.asarray(grad), at.n * np.asarray(info),
            f"expected information at the restricted estimate ({how})")
