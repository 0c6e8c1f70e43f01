"""Standard errors from the observed Fisher information, and the delta method.

The observed information is ``-H``, the Hessian of the log-likelihood in the unconstrained
coordinates ``u`` at the maximum. Its inverse is the asymptotic covariance of ``u``; the
covariance in natural units is ``J (-H)^-1 J'`` with ``J = d theta / d u``. At a maximum (score
zero) this equals the inverse of the natural-units observed information exactly, and it also
covers constrained vectors (a simplex), whose natural information matrix is singular.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np


def _z(level: float) -> float:
    """The standard normal quantile z_{(1+level)/2} (stdlib: scipy.stats costs 0.5 s to import)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


@dataclass(frozen=True)
class Estimate:
    """A derived quantity g(theta-hat) with its delta-method standard error.

    By invariance the MLE of g(theta) is g(theta-hat); its standard error is
    ``sqrt(grad g' Cov grad g)`` (a covariance ``G Cov G'`` for vector g, in ``cov``).
    ``conf_int`` is the Wald interval ``value -/+ z se`` unless another interval was computed
    (``fit.transform(g, method="profile")``), which is then kept in ``interval``.
    """

    value: float | np.ndarray
    se: float | np.ndarray
    level: float = 0.95
    name: str = ""
    cov: np.ndarray | None = field(default=None, repr=False, compare=False)
    interval: tuple | None = field(default=None, compare=False)

    @property
    def conf_int(self) -> tuple:
        """A ``ConfidenceInterval``: the computed one, else Wald's."""
        if self.interval is not None:
            return self.interval
        from .intervals import ConfidenceInterval  # that module builds on this one

        return ConfidenceInterval(*wald_interval(self.value, self.se, self.level), "wald")

    def __repr__(self):
        label = f"name={self.name!r}, " if self.name else ""
        return f"Estimate({label}value={self.value!r}, se={self.se!r})"


def covariance(hess_u: np.ndarray, jac: np.ndarray, keep: np.ndarray | None = None,
               meat_u: np.ndarray | None = None, ridge: bool = False) -> np.ndarray | None:
    """Covariance of the natural free parameters, or None when -H is not positive definite.

    ``J A^-1 J'`` with ``A = -hess_u`` (an information matrix in ``u``), or the sandwich
    ``J A^-1 B A^-1 J'`` with ``B = meat_u``. ``keep`` (a boolean mask over the coordinates of
    ``u``) treats the others as known: their rows are zero and the rest is computed from the
    kept blocks. That is the asymptotic covariance when the others' estimators converge faster
    than 1/sqrt(n) (order statistics, thresholds), whose error is then negligible at the
    sqrt(n) scale. ``ridge``: the information is singular along directions the data do not
    determine; the pseudo-inverse is used, exact for every combination orthogonal to them
    (the caller reports the entries those directions move as not estimable).
    """
    info = -np.asarray(hess_u)
    keep = np.ones(info.shape[0], dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    cov_u = np.zeros_like(info)
    if keep.any():
        block = np.ix_(keep, keep)
        inv = _pinv(info[block]) if ridge else _inverse(info[block])
        if inv is None:
            return None
        cov_u[block] = inv if meat_u is None else inv @ np.asarray(meat_u)[block] @ inv
    cov = jac @ cov_u @ jac.T
    return 0.5 * (cov + cov.T)


def _inverse(info: np.ndarray) -> np.ndarray | None:
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return None
    inv_chol = np.linalg.solve(chol, np.eye(chol.shape[0]))
    return inv_chol.T @ inv_chol


def _pinv(info: np.ndarray) -> np.ndarray | None:
    """The pseudo-inverse of a positive semidefinite information, scaled to unit diagonal
    first so that the null directions are judged scale-free."""
    from .._optimize.newton import null_directions, scaled_eigh, semidefinite

    lam, vec, d = scaled_eigh(-info)
    if not semidefinite(lam):
        return None
    keep = ~null_directions(lam)
    inner = (vec[:, keep] / lam[keep]) @ vec[:, keep].T
    return inner / np.outer(d, d)


def wald_interval(value: np.ndarray, se: np.ndarray, level: float) -> tuple:
    """value -/+ z_{(1+level)/2} * se."""
    z = _z(level)
    return value - z * se, value + z * se


def delta_method(fun: Callable, theta_flat: np.ndarray, cov: np.ndarray,
                 unflatten: Callable) -> Estimate:
    """Estimate of fun(params) with its delta-method standard error (gradient by JAX)."""
    import jax
    import jax.numpy as jnp

    def g(flat):
        return jnp.asarray(fun(unflatten(flat)), dtype=jnp.float64)

    flat = jnp.asarray(theta_flat, dtype=jnp.float64)
    value = np.asarray(g(flat))
    jac = np.asarray(jax.jacfwd(g)(flat)).reshape(value.size, -1)
    cov_g = jac @ cov @ jac.T
    se = np.sqrt(np.maximum(np.diag(cov_g), 0.0))
    if value.ndim == 0:
        return Estimate(float(value), float(se[0]), cov=cov_g)
    return Estimate(value, se.reshape(value.shape), cov=cov_g)
