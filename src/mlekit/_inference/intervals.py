"""Confidence intervals as values that say how they were made, and the Wald and profile
intervals of a fit's parameters."""

from __future__ import annotations

import numpy as np

from .._errors import ModelError
from .._params import flat_labels
from .._params import plain_value as _plain
from .fisher import _z, wald_interval


class ConfidenceInterval(tuple):
    """``(lower, upper)``, unpacking like a plain pair, that also says how it was made.

    Attributes
    ----------
    method : str
        "wald", "wald (log scale)" (any scale the parameter's constraint maps from), "profile",
        "bootstrap percentile", "bootstrap BCa", ...
    note : str
        Why an end is open or what limits the interval ("" when nothing does).
    lower_open, upper_open : bool
        True where no end point exists on that side: the data do not bound the parameter there
        (the interval runs to the edge of the parameter space, which is what ``lower`` /
        ``upper`` then hold).
    """

    method: str
    note: str
    lower_open: bool
    upper_open: bool

    def __new__(cls, lower, upper, method: str = "wald", note: str = "",
                lower_open: bool = False, upper_open: bool = False):
        obj = super().__new__(cls, (lower, upper))
        obj.method, obj.note = method, note
        obj.lower_open, obj.upper_open = bool(lower_open), bool(upper_open)
        return obj

    @property
    def lower(self):
        return self[0]

    @property
    def upper(self):
        return self[1]

    def __repr__(self):
        extra = f", note={self.note!r}" if self.note else ""
        return f"ConfidenceInterval({self[0]!r}, {self[1]!r}, method={self.method!r}{extra})"

    def __reduce__(self):
        return (ConfidenceInterval, (self[0], self[1], self.method, self.note, self.lower_open,
                                     self.upper_open))


def chi2_1_quantile(level: float) -> float:
    """The chi-square(1) quantile at ``level``: z_{(1+level)/2}^2."""
    return _z(level) ** 2


METHODS = ("wald", "profile", "bootstrap")
SCALES = ("natural", "unconstrained")


def check_level(level) -> float:
    if isinstance(level, bool) or not (isinstance(level, int | float) and 0 < level < 1):
        raise ModelError(f"level={level!r} must lie strictly between 0 and 1, e.g. 0.95.")
    return float(level)


def check_method(method) -> str:
    if method not in METHODS:
        raise ModelError(f"method={method!r} is not an interval method; use one of {METHODS}.")
    return method


def wald(fit, name: str, level: float, scale: str = "natural") -> ConfidenceInterval:
    """estimate -/+ z se; with ``scale="unconstrained"`` built on the scale the parameter's
    constraint maps from (log for positive, logit for (0, 1)) and mapped back, so it stays inside
    the parameter space. Vector parameters whose map is not elementwise (simplex, covariance
    matrices) and presolved parameters stay on the natural scale, and the label says so."""
    if scale not in SCALES:
        raise ModelError(f"scale={scale!r} is not a Wald scale; use one of {SCALES}.")
    value, se = np.asarray(fit.params[name], dtype=float), fit.se.get(name)
    if se is None:
        raise ModelError(f"no Wald interval for {name!r}: {_no_se_reason(fit, name)}.")
    if np.asarray(se).dtype == object:  # entries without a standard error get no interval
        have = np.asarray([v is not None for v in np.ravel(se)]).reshape(value.shape)
        lo, hi = wald_interval(value, np.where(have, se, 0.0).astype(float), level)
        none = np.full(value.shape, None, dtype=object)
        missing = [label for label, ok in zip(
            flat_labels((name,), {name: value.shape}), have.ravel(), strict=True) if not ok]
        return ConfidenceInterval(
            _plain(np.where(have, lo, none)), _plain(np.where(have, hi, none)), "wald",
            f"{', '.join(missing)}: {_no_se_reason(fit, name)}")
    se = np.asarray(se, dtype=float)
    ctx = fit._context
    constraint = ctx.model.params[name].constraint if ctx is not None else None
    slope = None if constraint is None or name in ctx.presolved else constraint.slope(value)
    if scale == "unconstrained" and slope is None:
        # simplex, covariance matrix, order statistic: no elementwise map to build it on
        return ConfidenceInterval(*map(_plain, wald_interval(value, se, level)),
                                  "wald (natural scale)")
    if scale == "natural" or not constraint.scale:
        # a real parameter (the identity map) has one scale: plain Wald either way
        return ConfidenceInterval(*map(_plain, wald_interval(value, se, level)), "wald")
    with np.errstate(divide="ignore"):
        lo_u, hi_u = wald_interval(constraint.inverse(value), se / np.abs(slope), level)
    ends = [np.asarray(constraint.forward(end), dtype=float) for end in (lo_u, hi_u)]
    return ConfidenceInterval(_plain(np.minimum(*ends)), _plain(np.maximum(*ends)),
                              f"wald ({constraint.scale} scale)")


def _no_se_reason(fit, name: str) -> str:
    """Why ``name`` (or some of its entries) has no standard error, and what to use instead."""
    codes = {d.code for d in fit.diagnostics}
    if "boundary_estimate" in codes and any(
            name == d or d.startswith(f"{name}[")
            for d in (fit._context.unestimable + fit._context.nonregular
                      if fit._context is not None else ())):
        return ("the estimate is on the boundary of the parameter space, where the Wald "
                "interval is invalid; use method='profile' (a likelihood-ratio interval)")
    if "not_identifiable" in codes:
        return ("the data do not determine it (the model is not identifiable: see "
                "fit.diagnostics)")
    if "nonregular" in codes:
        return ("its estimator is non-regular (an order statistic or threshold); use "
                "method='bootstrap'")
    return (f"the {fit.cov_kind} information is singular; use method='bootstrap' (or "
            "'profile' for a regular parameter)")


def profile(fit, name: str, level: float) -> ConfidenceInterval:
    """The profile-likelihood interval of each element of parameter ``name``."""
    from .profile import Element, profile_interval

    ctx = context_for(fit, "profile")
    if name in ctx.on_boundary:
        from .boundary import boundary_interval

        return boundary_interval(ctx, name, level, fit.loglik)
    if name in ctx.unestimable:  # a ridge: the profile is flat along it
        lo, hi = ctx.model.params[name].constraint.bounds()
        return ConfidenceInterval(lo, hi, "profile", "not identifiable: the profile "
                                  "log-likelihood is flat (see fit.diagnostics)", True, True)
    if name in ctx.presolved:
        raise ModelError(
            f"no profile interval for {name!r}: it is estimated from the data before the "
            "likelihood is maximized (an order statistic or a median), where the likelihood is "
            "not smooth; use method='bootstrap'.")
    value = np.asarray(fit.params[name], dtype=float)
    se = fit.se.get(name)
    se = None if se is None else np.asarray(se, dtype=float)
    bounds = ctx.model.params[name].constraint.bounds()
    if value.ndim == 0:
        return profile_interval(ctx, Element(name), level, float(value),
                                None if se is None else float(se), bounds, name=name)

    def piece(i):
        label = f"{name}[{','.join(map(str, i))}]"
        if label in ctx.on_boundary:  # a pinned entry: the family's closed form
            lo, hi = ctx.model.boundary_interval(label, chi2_1_quantile(level), ctx.x)
            return ConfidenceInterval(lo, hi, "profile", "on the boundary (0), where the Wald "
                                      "interval is invalid: likelihood-ratio interval, closed "
                                      "at the boundary")
        return profile_interval(ctx, Element(name, i), level, float(value[i]),
                                None if se is None or se[i] is None else float(se[i]), bounds,
                                name=label)

    pieces = [piece(i) for i in np.ndindex(value.shape)]
    lo = np.array([c[0] for c in pieces]).reshape(value.shape)
    hi = np.array([c[1] for c in pieces]).reshape(value.shape)
    note = "; ".join(f"{name}[{','.join(map(str, i))}]: {c.note}"
                     for i, c in zip(np.ndindex(value.shape), pieces, strict=True) if c.note)
    return ConfidenceInterval(_plain(lo), _plain(hi), "profile", note,
                              any(c.lower_open for c in pieces), any(c.upper_open for c in pieces))


def bootstrap_transform(sample, fun, params, level: float) -> ConfidenceInterval:
    """The percentile interval of g over the replicates of a bootstrap ``sample`` (each
    replicate's parameters through g at once, vectorized)."""
    import jax

    from .._params import split_flat

    shapes = [sample.shapes[n] for n in sample.names]
    fixed = {n: v for n, v in params.items() if n not in sample.names}

    def g(row):
        return fun({**fixed, **split_flat(row, sample.names, shapes)})

    values = np.asarray(jax.vmap(g)(np.asarray(sample.estimates)), dtype=float)
    values = values.reshape(values.shape[0], -1)
    finite = np.all(np.isfinite(values), axis=1)
    if finite.sum() < 20:
        raise ModelError(f"g is finite on only {int(finite.sum())} of the {values.shape[0]} "
                         "bootstrap replicates; check its domain.")
    tails = [(1 - level) / 2, (1 + level) / 2]
    ends = np.quantile(values[finite], tails, axis=0)
    value_shape = np.shape(fun(params))
    used = int(finite.sum())
    note = f"{used} of {sample.replicates} {sample.kind} bootstrap replicates"
    if used < values.shape[0]:
        note += f"; g was not finite on {values.shape[0] - used}, which were dropped"
    return ConfidenceInterval(_plain(ends[0].reshape(value_shape)),
                              _plain(ends[1].reshape(value_shape)), "bootstrap percentile", note)


def context_for(fit, method: str):
    """The fit's context, checked to be a converged maximum to measure intervals from."""
    if not fit.converged:
        raise ModelError(
            f"no {method} interval: the fit did not converge ({fit.message}); it is measured "
            "from the maximum, so fix the fit first (see fit.diagnostics).")
    if fit._context is None:
        raise ModelError(f"this fit carries no data to compute {method} intervals from.")
    return fit._context
