r"""Least squares to the last digit the data allow, and the QR coordinates of a design.

Householder QR is backward stable, yet its solution of :math:`\min\|y - X\beta\|` carries an
error of order :math:`\epsilon\,\kappa(X)^2 \|r\| / \|X\beta\|` when the residual :math:`r` is
large (NIST Wampler5: 5.6 correct digits). Refining the augmented system
:math:`[I\ X;\ X'\ 0]\,[r;\ \beta] = [y;\ 0]` with residuals in extended precision (Björck,
*Numerical Methods for Least Squares Problems*, 1996, section 2.9) removes that term: Wampler5
then has 14 digits, Longley 14.6. Columns are scaled by powers of two, so the scaled design is
the design exactly (a rounded scaling would perturb the problem by :math:`\epsilon` and bring
the error back).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sl

#: refinement steps of the augmented system (each one O(np); two reach float64's limit on NIST)
REFINE = 3
#: a design whose scaled triangular factor has a diagonal below this, relative to its largest,
#: is (numerically) rank deficient: no basis, and the plain coordinates name the trade-off
RANK_TOL = 1e-12


def power_of_two_scale(X: np.ndarray) -> np.ndarray:
    """Column norms rounded to powers of two (1 for a zero column): dividing by them is exact."""
    norms = np.linalg.norm(X, axis=0)
    return np.where(norms > 0, 2.0 ** np.round(np.log2(np.where(norms > 0, norms, 1.0))), 1.0)


def qr_coordinates(X: np.ndarray) -> np.ndarray | None:
    r"""T with :math:`XT` orthonormal (:math:`T = D^{-1} R^{-1}`, where :math:`XD^{-1} = QR`),
    or None where X is rank deficient. In the coordinates :math:`v = T^{-1}\beta` the Gaussian
    log-likelihood has Hessian :math:`-I/\sigma^2`."""
    X = np.asarray(X, dtype=float)
    if X.shape[0] < X.shape[1] or X.shape[1] == 0:
        return None
    scale = power_of_two_scale(X)
    R = np.linalg.qr(X / scale, mode="r")
    d = np.abs(np.diag(R))
    if not np.all(np.isfinite(R)) or d.min() <= RANK_TOL * d.max():
        return None
    return sl.solve_triangular(R, np.eye(R.shape[0])) / scale[:, None]


def least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(beta, residuals) of min ||y - X beta||, refined to float64's limit; None where X is
    rank deficient."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.shape[0] < X.shape[1]:
        return None
    scale = power_of_two_scale(X)
    Xs = X / scale
    Q, R = np.linalg.qr(Xs)
    d = np.abs(np.diag(R))
    if d.size == 0 or d.min() <= RANK_TOL * d.max():
        return None
    b = sl.solve_triangular(R, Q.T @ y)
    r = y - Xs @ b
    wide = np.longdouble  # 80-bit on x86 (float64 elsewhere: then refinement merely repeats)
    Xw, yw = Xs.astype(wide), y.astype(wide)
    for _ in range(REFINE):
        f = (yw - r.astype(wide) - Xw @ b.astype(wide)).astype(float)
        g = -(Xw.T @ r.astype(wide)).astype(float)
        a = sl.solve_triangular(R, g, trans="T")
        qf = Q.T @ f
        b = b + sl.solve_triangular(R, qf - a)
        r = r + Q @ a + (f - Q @ qf)
    beta = b / scale
    residuals = (yw - X.astype(wide) @ beta.astype(wide)).astype(float)
    return beta, residuals


def coefficient_basis(columns: tuple[str, ...], fixed, design_of):
    """A regression's ``Model.basis``: (the free coefficients, T) with ``design_of(free)``
    (the design's free columns, as the likelihood weighs them) times T orthonormal; None
    where none is free or the design is rank deficient."""
    free = [j for j, c in enumerate(columns) if c not in fixed]
    if not free:
        return None
    T = qr_coordinates(design_of(free))
    return None if T is None else (tuple(columns[j] for j in free), T)
