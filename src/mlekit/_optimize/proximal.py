r"""Proximal Newton for a smooth log-posterior minus L1 terms (Laplace priors, L1 and elastic
net penalties), with exact zeros.

Maximizes :math:`F(u) = f(u) - \sum_j w_j |u_j - c_j|` (f smooth, from exact derivatives).
Each step minimizes the quadratic model of :math:`-f` plus the L1 terms by coordinate descent
(soft thresholding puts coordinates exactly at their centre), then backtracks on F (Lee, Sun &
Saunders 2014, "Proximal Newton-type methods"). Converged means the minimum-norm subgradient
has Newton decrement ~0 with :math:`-H` positive definite on the coordinates off their centre
(the engine's test), and every coordinate at its centre satisfies :math:`|g_j| \le w_j`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .newton import DECREMENT_TOL, NewtonResult, Status, newton_decrement

#: coordinate-descent sweeps per step, and their convergence (relative change of the model)
SWEEPS, SWEEP_TOL = 500, 1e-14
#: sufficient increase of the line search (Armijo), and its smallest step
ARMIJO, MIN_STEP = 1e-4, 1e-12


def subgradient(g: np.ndarray, u: np.ndarray, weight: np.ndarray, centre: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """(the minimum-norm element of the superdifferential of F, the coordinates at their
    centre whose subgradient condition |g_j| <= w_j holds)."""
    at_centre = (weight > 0) & (u == centre)
    off = np.where(weight > 0, g - weight * np.sign(u - centre), g)
    held = at_centre & (np.abs(g) <= weight)
    shrunk = np.sign(g) * np.maximum(np.abs(g) - weight, 0.0)
    return np.where(at_centre, shrunk, off), held


def _model_step(a: np.ndarray, g: np.ndarray, u: np.ndarray, weight: np.ndarray,
                centre: np.ndarray) -> np.ndarray:
    """argmin_z  -g'(z - u) + (z - u)'A(z - u)/2 + sum_j w_j |z_j - c_j|  by coordinate
    descent from z = u (A positive definite). Sweeps run over the coordinates off their centre
    until they settle, then once over all to let others in (glmnet's active set): coordinates
    at the centre cost nothing while they stay there."""
    z = u.copy()
    r = np.zeros_like(u)  # A (z - u)
    diag = np.diag(a)
    everything = np.arange(u.size)

    def sweep(indices) -> float:
        biggest = 0.0
        for j in indices:
            b = -g[j] + r[j] - diag[j] * z[j]  # the model in z_j: diag z^2 / 2 + b z + w|z - c|
            target = -b / diag[j]
            if weight[j] > 0:
                t = target - centre[j]
                new = centre[j] + math.copysign(max(abs(t) - weight[j] / diag[j], 0.0), t)
            else:
                new = target
            change = new - z[j]
            if change:
                r[:] += a[:, j] * change
                z[j] = new
                biggest = max(biggest, abs(change) * math.sqrt(diag[j]))
        return biggest

    for _ in range(SWEEPS):
        tol = SWEEP_TOL * max(1.0, float(np.sqrt(np.sum(diag * z * z))))
        if sweep(everything) <= tol:
            break
        for _ in range(SWEEPS):
            active = np.flatnonzero((weight == 0) | (z != centre))
            if sweep(active) <= tol:
                break
    return z


def maximize_l1(derivs: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
                u0: np.ndarray, weight: np.ndarray, centre: np.ndarray,
                maxiter: int = 200) -> NewtonResult:
    """Maximize f(u) - sum_j w_j |u_j - c_j|; ``derivs(u)`` gives f's value, gradient and
    Hessian. The result's ``loglik`` is F, its ``grad`` the minimum-norm subgradient."""
    u = np.asarray(u0, dtype=float).copy()

    def penalty(v):
        return float(np.sum(weight * np.abs(v - centre)))

    f, g, h = derivs(u)
    if not (np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
        return NewtonResult(u, float(f), g, h, 0, Status.NONFINITE,
                            "the log-posterior or its derivatives are not finite at the start",
                            np.inf)
    value = f - penalty(u)
    for it in range(maxiter + 1):
        sub, held = subgradient(g, u, weight, centre)
        free = ~held
        dec, definite = newton_decrement(sub[free], h[np.ix_(free, free)])
        if definite and dec <= DECREMENT_TOL * max(1.0, 1e-6 * abs(value)):
            return NewtonResult(u, value, sub, h, it, Status.CONVERGED,
                                "subgradient ~ 0 (coordinates at their L1 centre exactly) and "
                                "Hessian negative definite off them", dec)
        if it == maxiter:
            break
        lam, vec = np.linalg.eigh(-h)
        floor = 1e-10 * max(float(np.max(np.abs(lam))), 1e-300)
        a = (vec * np.maximum(lam, floor)) @ vec.T
        z = _model_step(a, g, u, weight, centre)
        d = z - u
        predicted = float(g @ d) - penalty(z) + penalty(u)  # the model's increase, first order
        step = 1.0
        while step >= MIN_STEP:
            trial = z if step == 1.0 else u + step * d
            f_new, g_new, h_new = derivs(trial)
            new_value = f_new - penalty(trial)
            rounding = 4 * np.finfo(float).eps * abs(value)
            if (np.isfinite(new_value)
                    and new_value >= value + ARMIJO * step * max(predicted, 0.0) - rounding):
                break
            step /= 2
        else:
            return NewtonResult(u, value, sub, h, it, Status.STALLED,
                                "no step increases the log-posterior (line search failed)", dec)
        if new_value < value - 1e-12 * max(1.0, abs(value)):
            return NewtonResult(u, value, sub, h, it, Status.STALLED,
                                "the log-posterior stopped increasing", dec)
        u, value, f, g, h = trial, new_value, f_new, g_new, h_new
    sub, _ = subgradient(g, u, weight, centre)
    return NewtonResult(u, value, sub, h, maxiter, Status.MAX_ITERATIONS,
                        f"no convergence in {maxiter} proximal Newton iterations", np.inf)
