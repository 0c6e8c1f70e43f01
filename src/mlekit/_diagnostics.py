"""Typed findings about a fit: did it converge, is it a maximum, can its errors be trusted."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ._optimize import NewtonResult, Status
from ._optimize.newton import null_directions, scaled_eigh, semidefinite
from ._params import flat_labels


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a stable ``code``, a ``severity``, what was found (``message``) and what
    to do about it (``remedy``).

    Severities: ``error`` — there is no valid MLE to report (the fit has ``converged`` False,
    or ``mk.fit(..., strict=True)`` raises FitError); ``warning`` — the estimate stands but some
    inference does not (an interval, a standard error); ``note`` — advice. Every code is listed
    with an example and its remedy in docs/diagnostics.md."""

    code: str
    severity: str
    message: str
    remedy: str

    def to_dict(self) -> dict:
        return asdict(self)


#: above this condition number of the scaled information, identified but barely: a warning
CONDITION_LIMIT = 1e8


@dataclass(frozen=True)
class Unidentified:
    """Directions of the unconstrained parameters along which the log-likelihood is flat at
    the maximum: ``labels`` of the natural-parameter entries they move (whose standard errors
    do not exist) and ``message`` naming the trade-off in parameter names."""

    labels: tuple[str, ...]
    message: str


def identification(hess: np.ndarray, layout, u: np.ndarray, loglik=None) -> Unidentified | None:
    """The flat directions of a maximum (-H positive semidefinite and singular), or None.
    ``loglik(u)`` lets the message name the combination the data determine."""
    hess = np.asarray(hess, dtype=float)
    if hess.size == 0 or not np.all(np.isfinite(hess)):
        return None
    lam, vec, d = scaled_eigh(hess)
    null = null_directions(lam)
    if not null.any() or not semidefinite(lam):
        return None  # definite, or indefinite (a saddle: not a maximum at all)
    basis = vec[:, null] / d[:, None]  # back from the scaled coordinates to u
    owners = coordinate_labels(layout)
    moved = np.sum(vec[:, null] ** 2, axis=1) > 1e-12
    labels = tuple(dict.fromkeys(label for i in np.flatnonzero(moved) for label in owners[i]))
    return Unidentified(labels, _trade_off(basis, layout, np.asarray(u, dtype=float), loglik))


def coordinate_labels(layout) -> list[tuple[str, ...]]:
    """For each coordinate of u, the labels of the natural entries it moves: itself for an
    elementwise map (log, logit), every entry of its parameter otherwise (a simplex)."""
    out = []
    for name, shape, size in zip(layout.names, layout.shapes, layout.sizes, strict=True):
        labels = tuple(flat_labels((name,), {name: shape}))
        if size == len(labels):
            out.extend((label,) for label in labels)
        else:
            out.extend([tuple(labels)] * size)
    return out


def _coordinate_scales(layout) -> list[str]:
    """The scale each coordinate of u is on: "" (identity), "log", "logit"."""
    return [c.scale for c, size in zip(layout.constraints, layout.sizes, strict=True)
            for _ in range(size)]


def _combination(i: int, j: int, u: np.ndarray, layout, loglik, a: str, b: str) -> str | None:
    """The combination of parameters a, b (coordinates i, j of u) that the data determine,
    where it is their sum, difference, product or ratio: the one along whose level curve the
    log-likelihood stays flat (tried a finite step away; the tangent alone cannot tell a + b
    from a*b where a = b)."""
    ci, cj = _constraint_of(layout, i), _constraint_of(layout, j)
    ta, tb = float(ci.forward(u[i])), float(cj.forward(u[j]))
    step = 0.05 * max(abs(ta), abs(tb), 1e-3)
    moves = {f"{a} + {b}": (ta + step, tb - step), f"{a} - {b}": (ta + step, tb + step),
             f"{a}*{b}": (ta * 1.05, tb / 1.05), f"{a}/{b}": (ta * 1.05, tb * 1.05)}
    base = loglik(u)
    for combo, (va, vb) in moves.items():
        if not (ci.contains(np.asarray(va)) and cj.contains(np.asarray(vb))):
            continue
        trial = u.copy()
        trial[i], trial[j] = float(ci.inverse(np.asarray(va))), float(cj.inverse(np.asarray(vb)))
        if abs(loglik(trial) - base) <= 1e-8 * max(1.0, abs(base)):
            return combo
    return None


def _constraint_of(layout, i: int):
    """The constraint of coordinate i of u (elementwise constraints only)."""
    start = 0
    for c, size in zip(layout.constraints, layout.sizes, strict=True):
        if i < start + size:
            return c
        start += size
    raise IndexError(i)


def _trade_off(basis: np.ndarray, layout, u: np.ndarray, loglik) -> str:
    """Plain words for the flat directions ``basis`` (columns, in u) at ``u``."""
    owners, scales = coordinate_labels(layout), _coordinate_scales(layout)
    parts = []
    for j in range(basis.shape[1]):
        v = basis[:, j] / np.max(np.abs(basis[:, j]))
        big = np.flatnonzero(np.abs(v) > 0.05)
        names = [" / ".join(owners[i]) for i in big]
        if len(big) == 1:
            parts.append(f"{names[0]} does not change the likelihood: the data carry no "
                         "information about it")
            continue
        joined = ", ".join(names[:-1]) + f" and {names[-1]}"
        text = f"{joined} trade off exactly"
        combo = None
        if len(big) == 2 and all(len(owners[i]) == 1 for i in big) and loglik is not None:
            combo = _combination(*big, u, layout, loglik, *names)
        if combo:
            text = f"only {combo} is determined by the data: {names[0]} and {names[1]} trade off"
        else:
            scale = {"": "", "log": "log ", "logit": "logit "}
            direction = " ".join(f"{'+' if v[i] >= 0 else '-'} {abs(v[i]):.3g} "
                                 f"{scale.get(scales[i], '')}{names[k]}"
                                 for k, i in enumerate(big)).lstrip("+ ")
            text += f" (the log-likelihood is flat along {direction})"
        parts.append(text)
    return "; ".join(parts)


def convergence_diagnostics(result: NewtonResult, n: int,
                            unidentified: Unidentified | None = None,
                            plain_hess: np.ndarray | None = None) -> tuple[Diagnostic, ...]:
    """The optimizer's failures, a flat maximum, and strongly correlated estimates (judged on
    ``plain_hess``, the Hessian in the parameters' own coordinates, where Newton worked in
    others)."""
    out = []
    if result.status is Status.MAX_ITERATIONS:
        out.append(Diagnostic(
            "iteration_limit", "error", result.message,
            "raise maxiter=, give better start= values, or check that a maximum exists "
            "(a parameter running off to a boundary or to infinity never converges)."))
    elif result.status is Status.STALLED:
        out.append(Diagnostic(
            "stalled", "error", result.message,
            "try other start= values; the likelihood may be flat or ill-conditioned here."))
    elif result.status is Status.NONFINITE:
        out.append(Diagnostic("nonfinite", "error", result.message,
                              "give start= values where the log-density is finite."))
    if unidentified is not None:
        out.append(Diagnostic(
            "not_identifiable", "warning",
            f"the model is not identifiable from these data: {unidentified.message}; the "
            f"standard errors of {', '.join(unidentified.labels)} do not exist (reported as "
            "not estimable), and their estimates are one point of a ridge of equally good ones",
            "reparametrize so that only the determined combination is a parameter, fix one of "
            "the parameters that trade off (fixed={...}), or drop a redundant column or term"))
    elif result.grad.size and result.status is not Status.NONFINITE:
        finite = np.all(np.isfinite(result.hess))
        lam = scaled_eigh(result.hess)[0] if finite else np.array([np.nan])
        if not np.all(np.isfinite(lam)) or lam[0] <= 0:
            out.append(Diagnostic(
                "hessian_not_negative_definite", "error",
                "the Hessian of the log-likelihood is not negative definite where the optimizer "
                "stopped, so it is not a strict local maximum (a saddle point, or a ridge) and "
                "standard errors do not exist",
                "try other start= values (mk.fit(..., starts=20) searches several); the model "
                "may be unidentifiable (parameters that trade off) or need rescaling"))
        elif (condition := _condition(result.hess if plain_hess is None else plain_hess)
              ) > CONDITION_LIMIT:
            out.append(Diagnostic(
                "ill_conditioned", "warning",
                f"the observed information, scaled to unit diagonal, has condition number "
                f"{condition:.3g}: some parameter combinations are barely determined by "
                "the data (strongly correlated estimates)",
                "standard errors are large and Wald intervals may be poor: use "
                "conf_int(method='profile'), or reparametrize (e.g. centre covariates)"))
    return tuple(out)


def _condition(hess: np.ndarray) -> float:
    """The condition number of -H scaled to unit diagonal (inf where rounding left it not
    positive definite: beyond float64's reach)."""
    lam = scaled_eigh(hess)[0]
    return float(lam[-1] / lam[0]) if lam[0] > 0 else np.inf


#: a coordinate whose curvature per observation is below this is weakly held: the estimate
#: may be a point on the way to infinity, where score and curvature both fade
WEAK_CURVATURE = 1e-8


def running_off(loglik, start: np.ndarray, u: np.ndarray, hess: np.ndarray, n: int,
                layout) -> Diagnostic | None:
    """An estimate at which Newton's tests pass only because the likelihood flattens out on
    the way to infinity (a separated logistic regression, a rate running to 0): along the
    direction the optimizer travelled in the weakly curved coordinates, the log-likelihood
    keeps rising at 1.5, 2 and 3 times the distance. Costs three evaluations, and only where
    some coordinate's curvature per observation is below WEAK_CURVATURE."""
    weak = -np.diag(hess) < WEAK_CURVATURE * n
    step = np.where(weak, u - start, 0.0)
    if not weak.any() or not np.any(step):
        return None
    previous = loglik(u)
    for factor in (0.5, 1.0, 2.0):
        value = loglik(u + factor * step)
        if not value > previous:
            return None
        previous = value
    owners = coordinate_labels(layout)
    names = ", ".join(dict.fromkeys(label for i in np.flatnonzero(step) for label in owners[i]))
    return Diagnostic(
        "estimate_at_infinity", "error",
        f"{names} run(s) off towards the edge of the parameter space: the log-likelihood keeps "
        "increasing in that direction (its score and curvature fade, so the optimizer's tests "
        "pass at an arbitrary point), and no finite maximum likelihood estimate exists; in a "
        "regression this is separation (a covariate predicts the outcome perfectly)",
        f"fix {names} (fixed={{...}}), drop the term that separates the data, or choose a model "
        "whose limit describes them")


#: fewer observations per free parameter than this: the large-sample theory behind standard
#: errors and Wald intervals may be poor
SMALL_SAMPLE = 10


def small_sample_diagnostic(n: int, k: int) -> Diagnostic | None:
    if k == 0 or n >= SMALL_SAMPLE * k:
        return None
    return Diagnostic(
        "small_sample", "note",
        f"n = {n} observations for k = {k} free parameter(s): standard errors and Wald "
        "intervals rest on large-sample theory (a quadratic log-likelihood), which may be poor "
        "here",
        "use conf_int(method='profile') (follows the likelihood's shape) or "
        "method='bootstrap' (no normal approximation)")


def residual_sd_note(sd: float, n: int, p: int, sigma: str) -> Diagnostic:
    """Least squares' sd: the MLE divides the residual sum of squares by n, the classical
    residual standard error (``sigma``, e.g. R's) by n - p; both shown, labelled."""
    classical = sd * (n / (n - p)) ** 0.5
    return Diagnostic(
        "biased_variance", "note",
        f"sd = {sd:.6g} is the MLE, sqrt(RSS / n); the classical residual standard error "
        f"sqrt(RSS / (n - p)) = {classical:.6g} ({sigma}) is shown for comparison and is not "
        "the MLE",
        "report the MLE with a likelihood interval (conf_int(method='profile')); use "
        "sqrt(RSS / (n - p)) where the unbiased variance is required")


def boundary_diagnostic(found, model) -> Diagnostic:
    """An estimate on the boundary of the parameter space (from a model's BoundaryEstimate)."""
    labels = ", ".join(found.elements)
    return Diagnostic(
        "boundary_estimate", "warning",
        f"{found.why}: the MLE of {model.name} {labels} lies on the boundary of the parameter "
        "space, where the likelihood has no interior maximum in it; the estimate stands, but "
        f"the usual asymptotics fail there, so {labels} has no standard error and no Wald "
        "interval",
        f"for an interval on {labels} use fit.conf_int(method='profile') (a likelihood-ratio "
        "interval with its end at the boundary); or fit with a prior that pulls it inside "
        "(prior={...: mk.priors.Beta(2, 2)} for a probability): a MAP estimate")


def nonregular_diagnostic(model, names: tuple[str, ...], params) -> Diagnostic:
    """The estimate stands, but the usual asymptotics do not hold for ``names``."""
    listed = ", ".join(names)
    return Diagnostic(
        "nonregular", "warning",
        f"{listed} of {model.name}: the estimate sits on the boundary set by the data (an order "
        "statistic, or a threshold near the smallest observation); such estimators converge "
        "faster than 1/sqrt(n) and are not normally distributed, so no standard error or Wald "
        "interval is given; the other parameters' standard errors treat them as known",
        f"for intervals on {listed} use fit.conf_int(method='bootstrap')"
        + ("" if set(names) <= set(model.presolved) else
           " (or method='profile' for a threshold estimated by Newton)"))
