r"""Profile-likelihood confidence intervals for any smooth scalar function of the parameters.

The profile log-likelihood of :math:`\psi = g(\theta)` is

.. math:: \ell_p(\psi) = \max_\theta \{\ell(\theta) : g(\theta) = \psi\},

and the profile interval at level :math:`1 - \alpha` is
:math:`\{\psi : 2(\ell(\hat\theta) - \ell_p(\psi)) \le \chi^2_{1, 1-\alpha}\}`. Unlike the Wald
interval it does not depend on how the model is parametrized, and it follows the likelihood's
asymmetry.

Each :math:`\ell_p(\psi)` is a constrained maximization over the fit's unconstrained coordinates
``u``, solved by an augmented Lagrangian on top of the trust-region Newton maximizer:

.. math:: F(u) = \ell(u) - \lambda c(u) - \tfrac{\mu}{2} c(u)^2, \qquad c(u) = g(\theta(u)) - \psi,

with :math:`\lambda \leftarrow \lambda + \mu c` between inner maximizations. At the inner
maximum :math:`u^*`, :math:`\nabla\ell = (\lambda + \mu c)\nabla c`: ``u*`` is exactly the
constrained maximum at :math:`g(u^*)` with multiplier :math:`\lambda^* = \lambda + \mu c =
\ell_p'`, so :math:`\ell_p(\psi) = \ell(u^*) - \lambda^* c(u^*) + O(c^2)`. The penalty
:math:`\mu` is scaled by the local variance of g (:math:`-1/\ell_p''`), which keeps the inner
Hessian well conditioned and shrinks ``c`` ~1e4-fold per update. Points along psi are
warm-started from the previous solution (continuation), and the end points are roots of
:math:`\sqrt{2(\ell(\hat\theta) - \ell_p(\psi))} - \sqrt{\chi^2}` (nearly linear in psi) found
by Newton's method with the exact slope :math:`\ell_p' = \lambda^*`, safeguarded by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ModelError
from .._optimize import Status, maximize
from .._optimize.objective import _derivs
from .context import FitContext
from .intervals import ConfidenceInterval, check_level, chi2_1_quantile

#: penalty relative to the local curvature of the profile: each multiplier update shrinks the
#: constraint violation ~RHO-fold, and the inner Hessian's condition number grows by ~RHO
RHO = 1e4
#: constraint violation accepted, in local standard errors of g: the value error it leaves in
#: l_p after the first-order correction is ~C_TOL^2 / 2
C_TOL = 1e-6
MAX_OUTER = 12
#: Newton iterations per inner maximization, at least (the fit's own cap, where larger)
MIN_MAXITER = 50
#: steps out from the estimate (doubling) before a side is declared unbounded by the data
MAX_EXPANSIONS = 60
#: halvings of a step whose constrained maximization failed, before giving up on that side
MAX_SPLITS = 3
#: end points are solved to this accuracy relative to max(|psi|, se)
ROOT_TOL = 1e-11
MAX_ROOT_ITER = 100


@dataclass(frozen=True)
class Element:
    """``g(theta) = theta[name][index]``: a hashable parameter getter, so every profile of the
    same parameter of the same model reuses one compiled constraint (a lambda compiles anew)."""

    name: str
    index: tuple = ()

    def __call__(self, params):
        value = params[self.name]
        return value[self.index] if self.index else value


@partial(jax.jit, static_argnames=("g", "layout"))
def _constraint_derivs(u, held, g, layout):
    """(g, dg/du, d2g/du2) at u."""
    def scalar(v):
        value = jnp.asarray(g(layout.unpack(v, held)))
        if value.size != 1:  # shapes are static: this runs once, while tracing
            raise ModelError(
                f"g returns shape {value.shape}; a profile interval needs a scalar, e.g. "
                "lambda p: p['probs'][1] for one element of a vector parameter."
            )
        return jnp.reshape(value, ())
    return _derivs(scalar, u)


@dataclass(frozen=True)
class _Point:
    """One solved point of the profile, with what continuation needs to predict the next."""

    psi: float
    u: np.ndarray
    slope: float  # l_p'(psi): the Lagrange multiplier
    loglik: float  # l_p(psi)
    var: float  # the local variance of g, 1 / |l_p''(psi)|: the scale of psi here
    tangent: np.ndarray  # du / dpsi along the profile's path
    curvature: float  # l_p''(psi)

    def predict(self, psi: float) -> tuple[np.ndarray, float]:
        """(u, multiplier) at ``psi`` to first order: the start of the next solve."""
        step = psi - self.psi
        return self.u + step * self.tangent, self.slope + step * self.curvature


class _Profiler:
    """Evaluates l_p(psi) by continuation from solved points; starts at the maximum."""

    def __init__(self, ctx: FitContext, g: Callable, se: float | None):
        self.ctx, self.k = ctx, ctx.layout.k
        self.held = {n: np.asarray(v, dtype=np.float64) for n, v in ctx.held.items()}
        try:
            hash(g)
        except TypeError:
            g = _ById(g)
        self.g = g
        self._cache: dict = {}
        u = np.asarray(ctx.u, dtype=np.float64)
        ll, _, hess = self.loglik(u)
        value, grad_g, _ = self._first_constraint(u)
        if not np.isfinite(value):
            raise ModelError(f"g(theta-hat) = {value!r} is not finite; check g's domain.")
        if not np.all(np.isfinite(grad_g)) or not np.any(grad_g):
            raise ModelError(
                f"g's gradient at the estimate is {grad_g.tolist()} in the free parameters: g "
                "does not depend on them (it may be a fixed or presolved parameter), or is "
                "stationary there; its profile likelihood has no regular interval."
            )
        self.loglik_hat = float(ll)
        self.higher: _Point | None = None  # a point above the fit's maximum, if one turns up
        fallback = se**2 if se is not None and np.isfinite(se) and se > 0 else 1.0
        self.center = _Point(float(value), u, 0.0, float(ll),
                             *_sensitivity(hess, grad_g, fallback))

    def _first_constraint(self, u):
        """The constraint at the estimate, where g is traced: its errors say what g must be."""
        try:
            return self.constraint(u)
        except ModelError:
            raise
        except Exception as err:  # a user function: report whatever it raised, with the fix
            names = list(self.ctx.model.params)
            raise ModelError(
                f"g raised {type(err).__name__}: {err}; g must be a JAX-traceable function of "
                f"the parameter dict (keys {names}), e.g. lambda p: p[{names[0]!r}]."
            ) from err

    # -- derivatives, cached by point (the maximizer re-asks for the one it accepted) --------
    def loglik(self, u):
        return self._cached(("ll", u.tobytes()), lambda: self.ctx.objective(u))

    def constraint(self, u):
        def fresh():
            out = _constraint_derivs(u, self.held, self.g, self.ctx.layout)
            return tuple(np.asarray(o, dtype=float) for o in out)
        value, grad, hess = self._cached(("g", u.tobytes()), fresh)
        return float(value), grad, hess

    def _cached(self, key, fresh):
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = fresh()
        return self._cache[key]

    def deviance(self, point: _Point) -> float:
        """2 (l(theta-hat) - l_p(psi))."""
        return 2.0 * (self.loglik_hat - point.loglik)

    # -- one point of the profile -------------------------------------------------------------
    def solve(self, psi: float, start: _Point) -> _Point | None:
        """The constrained maximum at ``psi``, warm-started at ``start``; None when it fails."""
        if self.k == 1:
            point = self._solve_1d(psi, start)
            if point is not None:
                return point
        return self._solve_al(psi, start)

    def _solve_1d(self, psi: float, start: _Point) -> _Point | None:
        """One free coordinate: nothing to maximize, only g(theta(u)) = psi to solve (Newton)."""
        u = start.predict(psi)[0]
        for _ in range(60):
            value, grad, _ = self.constraint(u)
            step = -(value - psi) / grad[0] if grad[0] else np.nan
            if not np.isfinite(step):
                return None
            u = u + np.clip(step, -10.0, 10.0)
            if abs(step) <= 4 * np.finfo(float).eps * max(1.0, abs(u[0])):
                break
        return self._finish(psi, u, None, start.var)

    def _solve_al(self, psi: float, start: _Point) -> _Point | None:
        """The augmented Lagrangian from the predicted point, else from ``start`` itself."""
        predicted = start.predict(psi)
        point = self._augmented(psi, *predicted, start.var)
        if point is None and np.any(predicted[0] != start.u):
            point = self._augmented(psi, start.u, start.slope, start.var)
        return point

    def _augmented(self, psi, u, lam, var) -> _Point | None:
        """Newton maximizations of F, multiplier updates between them."""
        mu, last, tol = RHO / var, np.inf, C_TOL * math.sqrt(var)
        for _ in range(MAX_OUTER):
            result = maximize(self._penalized(psi, lam, mu), u,
                              maxiter=max(self.ctx.maxiter, MIN_MAXITER))
            if result.status is not Status.CONVERGED:
                return None
            u = result.u
            c = self.constraint(u)[0] - psi
            if abs(c) <= tol:
                return self._finish(psi, u, lam + mu * c, var)
            if abs(c) > 0.25 * abs(last):  # the multiplier alone is not closing the gap
                mu *= 10.0
            lam, last = lam + mu * c, c
        return None

    def _penalized(self, psi, lam, mu):
        def derivs(u):
            ll, grad, hess = self.loglik(u)
            value, a, hess_g = self.constraint(u)
            c = value - psi
            m = lam + mu * c
            return (ll - lam * c - 0.5 * mu * c * c, grad - m * a,
                    hess - m * hess_g - mu * np.outer(a, a))
        return derivs

    def _finish(self, psi, u, slope, var) -> _Point | None:
        """The point at psi from the maximum u at g(u) (close to psi), corrected to first order:
        l_p(psi) = l(u) - slope * (g(u) - psi)."""
        value, a, hess_g = self.constraint(u)
        ll, grad, hess = self.loglik(u)
        if slope is None:  # one coordinate: the multiplier from l' = slope * g'
            slope = grad[0] / a[0]
        c = value - psi
        if not (np.isfinite(ll) and np.isfinite(slope) and abs(c) <= C_TOL * math.sqrt(var)):
            return None
        point = _Point(psi, u, float(slope), float(ll - slope * c),
                       *_sensitivity(hess - slope * hess_g, a, var))
        if point.loglik > self.loglik_hat + 1e-9 * max(1.0, abs(self.loglik_hat)):
            if self.higher is None or point.loglik > self.higher.loglik:
                self.higher = point
        return point

    def reach(self, psi: float, start: _Point, depth: int = 0) -> _Point | None:
        """``solve``, retried through the midpoint when the direct step fails."""
        point = self.solve(psi, start)
        if point is not None or depth == MAX_SPLITS:
            return point
        mid = self.reach(0.5 * (start.psi + psi), start, depth + 1)
        return None if mid is None else self.reach(psi, mid, depth + 1)

    def nearest(self, psi: float, points) -> _Point:
        return min(points, key=lambda p: abs(p.psi - psi))


@dataclass(frozen=True, eq=False)
class _ById:
    """An unhashable g, hashed by identity for the compiled constraint."""

    fun: Callable

    def __call__(self, params):
        return self.fun(params)

    def __hash__(self):
        return id(self.fun)


def _sensitivity(hess_l, a, fallback_var) -> tuple[float, np.ndarray, float]:
    """(variance of g, du/dpsi, l_p'') at a constrained maximum, from the Hessian of the
    Lagrangian H_L and a = dg/du: with x = (-H_L)^-1 a, l_p'' = -1 / a'x and du/dpsi = x / a'x.
    Where -H_L is singular: the fallback variance and no prediction."""
    none = (fallback_var, np.zeros_like(a), 0.0)
    try:
        x = np.linalg.solve(-hess_l, a)
    except np.linalg.LinAlgError:
        return none
    q = float(a @ x)
    if not (np.isfinite(q) and q != 0 and np.all(np.isfinite(x))):
        return none
    return abs(q), x / q, -1.0 / q


def _step(estimate: float, se: float | None, center: _Point) -> float:
    """The first step out from the estimate: its SE, else the local one, else 10% of it."""
    for candidate in (se, math.sqrt(center.var), 0.1 * abs(estimate), 1.0):
        if candidate is not None and np.isfinite(candidate) and candidate > 0:
            return float(candidate)
    return 1.0


@dataclass(frozen=True)
class _End:
    value: float
    open: bool = False
    note: str = ""


def profile_interval(ctx: FitContext, g: Callable, level: float, estimate: float,
                     se: float | None, bounds: tuple[float, float] = (-math.inf, math.inf),
                     *, name: str = "psi") -> ConfidenceInterval:
    r"""The profile-likelihood confidence interval of :math:`\psi = g(\theta)`.

    .. math:: \{\psi : 2(\ell(\hat\theta) - \ell_p(\psi)) \le \chi^2_1(\text{level})\},
              \qquad \ell_p(\psi) = \max_{g(\theta) = \psi} \ell(\theta),

    maximized over every other free parameter. The end points are solved to ~1e-11 relative
    to max(|psi|, se).

    Parameters
    ----------
    ctx : FitContext
        The fit's context (``fit._context``); the fit must have converged.
    g : callable
        ``g(params) -> scalar``, a JAX-traceable function of the dict of natural parameters,
        e.g. ``lambda p: p["shape"] / p["rate"]``.
    level : float
        Coverage, in (0, 1).
    estimate : float
        g at the estimate (checked against the fit).
    se : float or None
        Its standard error: the first step out and the scale of the tolerances (None: the
        local one from the fit, else 10% of the estimate).
    bounds : (float, float)
        The closure of g's range, e.g. ``(0, inf)`` for a rate: where an unbounded side ends.
    name : str
        g's name in the note.

    Returns
    -------
    ConfidenceInterval
        ``method="profile"``. A side where the profile never drops far enough before the edge of
        the parameter space (or where the constrained maximization fails) is open: its end is
        the bound, ``lower_open`` / ``upper_open`` is set and ``note`` says why.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Exponential(), [0.5, 1.0, 2.0, 3.5])
    >>> ci = profile_interval(fit._context, lambda p: p["rate"], 0.95, fit.params["rate"],
    ...                       fit.se["rate"], (0.0, float("inf")))
    >>> [round(v, 4) for v in ci]  # the roots of 2 (l(4/7) - l(r)) = 3.84, l(r) = 4 log r - 7 r
    [0.1774, 1.3275]
    """
    ctx.likelihood_only("a profile across an L1 kink", smooth_prior_ok=True)
    chi2 = chi2_1_quantile(check_level(level))
    profiler = _Profiler(ctx, g, se)
    center = profiler.center
    _check_estimate(estimate, center.psi)
    step = math.sqrt(chi2) * _step(estimate, se, center)  # first try: the Wald end
    with np.errstate(all="ignore"):  # non-finite values far out are failed solves, handled
        lo = _side(profiler, -1, chi2, step, bounds[0], name)
        hi = _side(profiler, +1, chi2, step, bounds[1], name)
    notes = [end.note for end in (lo, hi) if end.note]
    if profiler.higher is not None:
        notes.append(_higher_note(profiler, name))
    note = "; ".join(notes)
    return ConfidenceInterval(lo.value, hi.value, method="profile", note=note,
                              lower_open=lo.open, upper_open=hi.open)


def profile_loglik(ctx: FitContext, g: Callable, psis, se: float | None = None) -> np.ndarray:
    r"""The profile log-likelihood :math:`\ell_p(\psi) = \max_{g(\theta) = \psi} \ell(\theta)`
    at each of ``psis``.

    Solved outward from the estimate on each side, each point warm-started from its neighbour.
    NaN marks a point where the constrained maximization failed (outside g's range, or where
    the log-likelihood is not finite).

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Exponential(), [0.5, 1.0, 2.0, 3.5])
    >>> profile_loglik(fit._context, lambda p: p["rate"], [0.5]).round(4)  # 4 log r - 7 r
    array([-6.2726])
    """
    ctx.likelihood_only("a profile across an L1 kink", smooth_prior_ok=True)
    profiler = _Profiler(ctx, g, se)
    psis = np.asarray(psis, dtype=float)
    out = np.full(psis.shape, np.nan)
    flat = psis.ravel()
    for side in (-1, +1):
        here = [i for i in np.argsort(side * flat) if side * (flat[i] - profiler.center.psi) >= 0]
        last = profiler.center
        for i in here:
            with np.errstate(all="ignore"):
                point = profiler.reach(float(flat[i]), last) if np.isfinite(flat[i]) else None
            if point is not None:
                out.flat[i], last = point.loglik, point
    return out


def _check_estimate(estimate, value) -> None:
    if estimate is None or not np.isfinite(estimate):
        raise ModelError(f"g(theta-hat) = {estimate!r} is not finite; check g's domain.")
    if not np.isfinite(value) or abs(estimate - value) > 1e-8 * max(1.0, abs(value)):
        raise ModelError(
            f"estimate={estimate!r} is not g at the fit's maximum ({value!r}); pass "
            "g(fit.params)."
        )


def _side(profiler: _Profiler, side: int, chi2: float, step: float, bound: float,
          name: str) -> _End:
    """Step out from the estimate (first to the Wald end, then doubling the offset, halving the
    distance to a bound once a step would reach it) until the deviance passes chi2, then solve
    for the crossing."""
    prev, offset, edge, failed_at = profiler.center, step, bound, None
    for _ in range(MAX_EXPANSIONS):
        psi = profiler.center.psi + side * offset
        if side * (psi - edge) >= 0:
            psi = prev.psi + 0.5 * (edge - prev.psi)
        if psi == prev.psi or psi == edge:
            break
        point = profiler.reach(psi, prev)
        if point is None:
            # an edge the data set (a threshold at the smallest observation, a support end):
            # approach it by halving, as a bound of the parameter space
            edge = failed_at = psi
            continue
        if profiler.deviance(point) >= chi2:
            end = _crossing(profiler, prev, point, chi2)
            return _failed(side, bound, prev, psi, chi2, name) if end is None else _End(end)
        prev, offset = point, 2.0 * offset
    if failed_at is not None:
        return _failed(side, bound, prev, failed_at, chi2, name)
    return _unbounded(side, bound, prev, chi2, name)


def _crossing(profiler: _Profiler, inside: _Point, outside: _Point, chi2: float):
    """The psi between the two points where sqrt(deviance) = sqrt(chi2): Newton with the exact
    slope d sqrt(D) / d psi = -l_p' / sqrt(D), bisecting when a step leaves the bracket or
    gains too little; None when a constrained maximization fails."""
    root = math.sqrt(chi2)

    def h(point):
        return math.sqrt(max(profiler.deviance(point), 0.0)) - root

    tol = ROOT_TOL * max(abs(inside.psi), abs(outside.psi - inside.psi))
    lo, hi = inside, outside
    best, last_h = min((inside, outside), key=lambda p: abs(h(p))), math.inf
    for _ in range(MAX_ROOT_ITER):
        gap = h(best)
        if gap == 0:
            return best.psi
        slope = -best.slope / (gap + root) if gap + root > 0 else 0.0
        newton = best.psi - gap / slope if slope else math.nan
        inside_bracket = min(lo.psi, hi.psi) < newton < max(lo.psi, hi.psi)
        if inside_bracket and abs(newton - best.psi) <= tol:
            return newton
        if not inside_bracket or abs(gap) > 0.5 * abs(last_h):
            newton = 0.5 * (lo.psi + hi.psi)
        if abs(hi.psi - lo.psi) <= tol:
            return newton
        last_h = gap
        point = profiler.reach(newton, profiler.nearest(newton, (lo, hi)))
        if point is None:
            return None
        if h(point) < 0:
            lo = point
        else:
            hi = point
        best = point
    return best.psi


def _unbounded(side, bound, last, chi2, name) -> _End:
    where = "upper" if side > 0 else "lower"
    reach = "up to the edge" if side > 0 else "down to the edge"
    return _End(bound, True, (
        f"no {where} end point: the profile log-likelihood stays within {chi2 / 2:.3g} of its "
        f"maximum {reach} of the parameter space ({name} -> {bound:g}; last checked at "
        f"{last.psi:.6g}); the data do not bound it on that side"))


def _failed(side, bound, last, psi, chi2, name) -> _End:
    where = "upper" if side > 0 else "lower"
    return _End(bound, True, (
        f"no {where} end point found: the profile log-likelihood stays within {chi2 / 2:.3g} of "
        f"its maximum out to {name} = {last.psi:.6g}, and no constrained maximum was found at "
        f"{psi:.6g} (the log-likelihood is not finite there, has no maximum with {name} held, "
        f"or is too flat to resolve in float64); the interval is left open on that side"))


def _higher_note(profiler: _Profiler, name: str) -> str:
    point = profiler.higher
    return (f"the profile reached a log-likelihood {point.loglik - profiler.loglik_hat:.3g} "
            f"above the fit's at {name} = {point.psi:.6g}: the fit is a local maximum, and this "
            "interval is around it; refit from a start near there")
