"""Newton's method with the exact Hessian, globalized by a trust region.

Maximizes a log-likelihood ``ll(u)`` given a function returning ``(ll, g, H)``. Each step
solves the trust-region subproblem exactly through the eigendecomposition of ``-H``
(Moré & Sorensen): where ``-H`` is positive definite and the Newton step fits in the region, it
is the Newton step; elsewhere (far from the optimum, where ``H`` may be indefinite) it is the
regularized step ``-(B + mu I)^-1 g`` on the region's boundary. The region is an ellipsoid
scaled by ``sqrt|diag H|`` (Moré 1983): its radius counts standard errors, not raw units, so
data measured in nanometres or in billions fit alike (a location at 1e9 with a unit-radius
region in raw units needed a billion steps). Convergence is declared only when the Newton
decrement ``g' (-H)^-1 g`` (the log-likelihood still to gain, doubled; invariant to
reparametrization and scaled like n) is ~0 AND ``-H`` is positive definite — or positive
semidefinite with the score ~0 along its null directions too: a ridge of equal maxima (an
unidentifiable model), which the diagnostics then name.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DECREMENT_TOL = 1e-12
#: below this decrement (same scale as the tolerance) the estimate is within ~1e-8 standard
#: errors of the maximum, and a polishing step would cost a full pass for nothing visible
POLISH_ABOVE = 1e-16


class Status(enum.Enum):
    CONVERGED = "converged"
    MAX_ITERATIONS = "max_iterations"
    STALLED = "stalled"
    NONFINITE = "nonfinite"


@dataclass(frozen=True)
class NewtonResult:
    u: np.ndarray
    loglik: float
    grad: np.ndarray
    hess: np.ndarray
    iterations: int
    status: Status
    message: str
    decrement: float


#: eigenvalues of -H scaled to unit diagonal below this times the largest are null: directions
#: the data do not determine (float64 rounding leaves ~1e-16 there)
NULL_TOL = 1e-10


#: curvatures below this times the largest are raised to it in the region's scale: a zero
#: curvature (a start at a saddle) would otherwise allow steps of ~1e150 in its coordinate,
#: while real differences of scale (a location at 1e9 beside a shape near 1: ~1e-18) pass
CURVATURE_FLOOR = 1e-24


def region_scale(h: np.ndarray) -> np.ndarray:
    """d = sqrt|diag H| (per member for stacked H): the scale of the trust region and of the
    null-direction test, floored at CURVATURE_FLOOR times the largest curvature."""
    diag = np.abs(np.diagonal(h, axis1=-2, axis2=-1))
    floor = np.maximum(CURVATURE_FLOOR * np.max(diag, axis=-1, keepdims=True), 1e-300)
    return np.sqrt(np.maximum(diag, floor))


def scaled_eigh(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(eigenvalues, eigenvectors, d) of D^-1 (-H) D^-1 with D = diag(d): the information
    scaled to unit diagonal, so that directions are judged scale-free (a parameter in
    nanometres beside one in years)."""
    d = region_scale(h)
    lam, vec = np.linalg.eigh(-np.asarray(h, dtype=float) / np.outer(d, d))
    return lam, vec, d


def semidefinite(lam: np.ndarray) -> bool:
    """Whether scaled eigenvalues ``lam`` (ascending) are positive semidefinite up to
    rounding: the largest positive, none below -1e3 NULL_TOL times it."""
    return bool(lam[-1] > 0 and lam[0] >= -1e3 * NULL_TOL * lam[-1])


def null_directions(lam: np.ndarray) -> np.ndarray:
    """Mask of the scaled eigenvalues the data do not determine (a ridge)."""
    return lam <= NULL_TOL * max(lam[-1], 0.0)


def newton_decrement(g: np.ndarray, h: np.ndarray) -> tuple[float, bool]:
    """(g' (-H)^-1 g, whether -H is positive definite). Null directions of -H (a ridge) count
    as curvature NULL_TOL times the largest: the score must vanish along them too."""
    if g.size == 0:
        return 0.0, True
    if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
        return np.inf, False
    lam, vec, d = scaled_eigh(h)
    if not semidefinite(lam):
        return np.inf, False
    a = vec.T @ (g / d)
    return float(np.sum(a * a / np.maximum(lam, NULL_TOL * lam[-1]))), True


def first_radius(lam: np.ndarray, a: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """The initial trust radius (per member, from the scaled eigendecomposition ``lam`` and
    ``a = V' D^-1 g``): where -H is positive definite at the start, wide enough for the full
    Newton step. Warm starts (a subsample's MLE, ~5 standard errors from the full data's at
    n = 1e6) then take Newton's quadratic steps at once instead of growing a unit region."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        definite = lam[..., 0] > NULL_TOL * lam[..., -1]
        newton = np.sqrt(np.sum((a / lam) ** 2, axis=-1))
    return np.where(definite & np.isfinite(newton), np.maximum(radius, 1.001 * newton), radius)


def newton_step(g: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(-H)^+ g: the Newton step, with null directions (a ridge) left alone."""
    lam, vec, d = scaled_eigh(h)
    keep = ~null_directions(lam)
    a = vec.T @ (g / d)
    return (vec[:, keep] @ (a[keep] / lam[keep])) / d


def trust_region_step(g: np.ndarray, h: np.ndarray, radius: float) -> np.ndarray:
    """Solve max g'p + p'Hp/2 subject to ||p|| <= radius."""
    lam, vec = np.linalg.eigh(-h)  # B = -H, minimize -g'p + p'Bp/2
    a = vec.T @ g

    def step(mu):
        with np.errstate(divide="ignore", invalid="ignore"):  # mu at -lam[0]: inf, > radius
            return vec @ (a / (lam + mu))

    if lam[0] > 0:
        p = step(0.0)
        if np.linalg.norm(p) <= radius:
            return p
    lo = max(0.0, -lam[0]) + 1e-12 * max(1.0, abs(lam[-1]))
    if np.linalg.norm(step(lo)) <= radius:
        # the "hard case": the step along the lowest curvature direction fills the region
        p = step(lo)
        extra = np.sqrt(max(radius**2 - p @ p, 0.0))
        return p + extra * vec[:, 0] * (1.0 if vec[:, 0] @ g >= 0 else -1.0)
    hi = lo + np.linalg.norm(a) / radius + abs(lam[0])
    while np.linalg.norm(step(hi)) > radius:
        hi *= 2.0
    for _ in range(100):  # ||p(mu)|| decreases in mu: bisect on log scale
        mid = np.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi)
        if np.linalg.norm(step(mid)) > radius:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * hi:
            break
    return step(hi)


def maximize(
    derivs: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    u0: np.ndarray,
    maxiter: int = 200,
    radius: float = 1.0,
    max_radius: float = 1e8,
) -> NewtonResult:
    """Maximize ``ll`` from ``u0`` by trust-region Newton with exact derivatives."""
    u = np.asarray(u0, dtype=float)
    ll, g, h = derivs(u)
    if not (np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        return NewtonResult(u, float(ll), g, h, 0, Status.NONFINITE,
                            "the log-likelihood or its derivatives are not finite at the start",
                            np.inf)
    if g.size:
        lam, vec, d = scaled_eigh(h)
        radius = float(first_radius(lam, vec.T @ (g / d), np.asarray(radius)))
    for it in range(maxiter + 1):
        dec, definite = newton_decrement(g, h)
        scale = max(1.0, 1e-6 * abs(ll))
        if definite and dec <= DECREMENT_TOL * scale:
            if dec > POLISH_ABOVE * scale:
                # one last Newton step: convergence is quadratic here, so it takes the estimate
                # from ~1e-7 relative to the precision of float64 for the price of one pass
                trial = u + newton_step(g, h)
                ll_new, g_new, h_new = derivs(trial)
                dec_new, definite_new = newton_decrement(g_new, h_new)
                if definite_new and np.isfinite(ll_new) and dec_new < dec:
                    u, ll, g, h, dec, it = trial, float(ll_new), g_new, h_new, dec_new, it + 1
            return NewtonResult(u, ll, g, h, it, Status.CONVERGED,
                                "score ~ 0 and Hessian negative definite", dec)
        if it == maxiter:
            break
        d = region_scale(h)  # the region's scale (see the module's docstring)
        p = trust_region_step(g / d, h / np.outer(d, d), radius) / d
        predicted = g @ p + 0.5 * p @ h @ p
        trial = u + p
        ll_new, g_new, h_new = derivs(trial)
        finite = np.isfinite(ll_new) and np.all(np.isfinite(g_new)) and np.all(np.isfinite(h_new))
        actual = ll_new - ll if finite else -np.inf
        rho = actual / predicted if predicted > 0 else (1.0 if actual >= 0 else -np.inf)
        step_norm = np.linalg.norm(d * p)
        if rho < 0.25:
            radius = 0.25 * step_norm
        elif rho > 0.75 and step_norm >= 0.99 * radius:
            radius = min(2.0 * radius, max_radius)
        if finite and rho > 1e-4:
            u, ll, g, h = trial, float(ll_new), g_new, h_new
        elif finite and predicted <= 1e-15 * max(1.0, abs(ll)):
            # the gain is below what float64 resolves in the log-likelihood, so the ratio test
            # is noise: judge the trial point by its Newton decrement instead
            dec_new, definite_new = newton_decrement(g_new, h_new)
            if definite_new and dec_new < dec:
                u, ll, g, h, dec, definite = trial, float(ll_new), g_new, h_new, dec_new, True
            done = definite and dec <= 1e-6
            status = Status.CONVERGED if done else Status.STALLED
            msg = ("no further gain possible in float64; score ~ 0" if done else
                   "stalled: no ascent found at the precision of float64")
            return NewtonResult(u, ll, g, h, it + 1, status, msg, dec)
        if radius < 1e-12:
            dec, _ = newton_decrement(g, h)
            return NewtonResult(u, ll, g, h, it + 1, Status.STALLED,
                                "stalled: the trust region shrank to nothing without ascent", dec)
    dec, _ = newton_decrement(g, h)
    return NewtonResult(u, ll, g, h, maxiter, Status.MAX_ITERATIONS,
                        f"stopped after maxiter={maxiter} iterations without converging", dec)
