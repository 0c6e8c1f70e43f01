r"""Derivatives of a model whose coefficients enter only through a linear predictor.

For :math:`\eta_i = z_i' v` (:math:`Z = XT` in the layout's basis, else :math:`Z = X`) and
other parameters :math:`\phi`, the chain rule gives

.. math::  g_v = Z' d_1, \quad H_{vv} = Z' \operatorname{diag}(d_2) Z, \quad
           H_{v\phi} = Z' D_{\eta\phi},

with :math:`d_1 = \partial \ell_i / \partial \eta_i`, :math:`d_2 = \partial^2 \ell_i /
\partial \eta_i^2` and :math:`D_{\eta\phi}` the mixed derivatives: per-observation numbers that
automatic differentiation of the model's ``logpdf_eta`` gives cheaply (elementwise), while the
matrix products go to BLAS (a symmetric rank-k update where :math:`d_2 \le 0`, as for every
log-concave GLM). Automatic differentiation of the whole log-likelihood forms the same
:math:`Z'DZ` through XLA's matrix product, slower than BLAS on CPU (measured for logistic
regression, n = 1e6, p = 21: 0.21 s per pass against 0.11 s here).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg.blas as blas

from .._data import CHUNK, Chunks, parallel_map, split
from .._model import Model


@partial(jax.jit, static_argnames=("model", "others"))
def eta_derivs(phi, fixed, x, eta, w, model, others):
    """Per chunk: (value, d1, d2, D_eta_phi, g_phi, H_phi_phi) of sum_i w_i log p(x_i | eta_i,
    phi), with ``phi`` the other free parameters in their unconstrained coordinates."""
    def each(e, v):
        return w * model.logpdf_eta(x, e, others.unpack(v, fixed))

    def first(e, v):  # d1: the log-likelihood is a sum of terms in one eta_i each
        return jax.grad(lambda e1: jnp.sum(each(e1, v)))(e)

    def total(v):
        return jnp.sum(each(eta, v))

    d1, d2 = jax.jvp(lambda e: first(e, phi), (eta,), (jnp.ones_like(eta),))
    if not others.names:  # nothing else free (logistic, Poisson): no mixed terms to form
        empty = jnp.zeros((eta.shape[0], 0))
        return total(phi), d1, d2, empty, jnp.zeros(0), jnp.zeros((0, 0))
    cross = jax.jacfwd(lambda v: first(eta, v))(phi)
    value, g_phi = jax.value_and_grad(total)(phi)
    return value, d1, d2, cross, g_phi, jax.hessian(total)(phi)


#: where the design in its own coordinates has a condition number (columns scaled) above this,
#: the products are formed in the basis's coordinates, Z = X T (an n x p copy): formed in the
#: coefficients' own, X'DX would carry errors of eps cond^2 relative (1e-10 here) into T'X'DXT
CONDITION_FOR_COPY = 1e3


class LinearPredictor:
    """The coefficients' design, and the derivatives from it: ``design`` is Z = X T (the
    basis's coordinates, an n x p copy) for an ill-conditioned X, else X itself (no copy),
    with the k x k results mapped by ``t`` (T, or None for plain coordinates)."""

    def __init__(self, model: Model, x: np.ndarray, k: int, others, design: np.ndarray,
                 eta0: np.ndarray | None, t: np.ndarray | None, weights=None):
        self.model, self.k, self.others = model, k, others  # u = [coefficients (k), others]
        self.design, self.eta0, self.t = design, eta0, t
        rest = np.delete(np.arange(x.shape[1]), np.arange(x.shape[1])[model.design_columns])
        self.chunks = Chunks.from_array(np.ascontiguousarray(x[:, rest]), weights)
        self.n = x.shape[0]

    @classmethod
    def of(cls, model: Model, layout, fixed, x: np.ndarray, weights=None
           ) -> LinearPredictor | None:
        """The fast path where it applies: the model has a linear predictor and all its
        coefficients are free, first and in design order (in the layout's basis, or plain)."""
        from .objective import BASIS, Layout

        names = tuple(model.coefficients)
        if (model.design_columns is None or not names or x.ndim != 2
                or layout.names[: len(names)] != names or layout.basis not in ((), names)):
            return None
        X = x[:, model.design_columns]  # a strided view: BLAS reads it as it is
        if X.shape[1] != len(names):
            return None
        k = len(names)
        others = Layout(layout.names[k:], layout.constraints[k:], layout.shapes[k:])
        if not layout.basis:
            return cls(model, x, k, others, X, None, None, weights)
        basis = np.asarray(fixed[BASIS], dtype=float)
        T, origin = basis[:, :-1], basis[:, -1]
        rows = np.linalg.norm(T, axis=1, keepdims=True)  # T = D^-1 R^-1: rows free of D
        if np.linalg.cond(T / np.where(rows > 0, rows, 1.0)) > CONDITION_FOR_COPY:
            return cls(model, x, k, others, X @ T, X @ origin, None, weights)
        return cls(model, x, k, others, X, None, basis, weights)

    def _coefficients(self, v: np.ndarray) -> np.ndarray:
        """The vector the design multiplies: v (plain, or Z = X T), else origin + T v."""
        return v if self.t is None else self.t[:, -1] + self.t[:, :-1] @ v

    def __call__(self, u: np.ndarray, fixed):
        """(loglik, gradient, Hessian) in u, with ``fixed`` the held values (and the basis the
        design was built in). Each thread takes whole chunks: eta, its derivatives, and their
        products with the chunk's rows while those are in cache."""
        u = np.asarray(u, dtype=np.float64)
        v, phi = self._coefficients(u[: self.k]), u[self.k:]
        first = float(self._eta(0, 1, v)[0])  # the padding repeats the first observation

        def run(indices):
            k, m = self.k, phi.size
            value, g, h_phi = 0.0, np.zeros(k + m), np.zeros((m, m))
            gram_neg = np.zeros((k, k), order="F")  # sqrt(-d2) Z, by rank-k updates
            gram_pos, cross_sum = np.zeros((k, k)), np.zeros((k, m))
            for i in indices:
                (xc, wc), lo = self.chunks.parts[i], i * CHUNK
                hi = min(lo + CHUNK, self.n)
                eta = np.full(xc.shape[0], first)
                eta[: hi - lo] = self._eta(lo, hi, v)
                out = eta_derivs(phi, fixed, xc, eta, wc, self.model, self.others)
                z = self.design[lo:hi]
                d1, d2 = (np.asarray(o)[: hi - lo] for o in out[1:3])
                value += float(out[0])
                g[:k] += z.T @ d1
                g[k:] += np.asarray(out[4])
                h_phi += np.asarray(out[5])
                if m:
                    cross_sum += z.T @ np.asarray(out[3])[: hi - lo]
                if np.all(d2 <= 0):
                    gram_neg = blas.dsyrk(1.0, (z * np.sqrt(-d2)[:, None]).T, trans=0,
                                          beta=1.0, c=gram_neg, overwrite_c=1)
                else:
                    gram_pos += (z.T * d2) @ z
            return value, g, h_phi, gram_neg, gram_pos, cross_sum

        with np.errstate(all="ignore"):  # a non-finite pass is the optimizer's to report
            parts = parallel_map(run, split(range(len(self.chunks.parts))))
        value = sum(p[0] for p in parts)
        g = np.sum([p[1] for p in parts], axis=0)
        neg = np.sum([p[3] for p in parts], axis=0)
        k = self.k
        h = np.zeros((u.size, u.size))
        h[:k, :k] = np.sum([p[4] for p in parts], axis=0) - (np.triu(neg) + np.triu(neg, 1).T)
        h[:k, k:] = np.sum([p[5] for p in parts], axis=0)
        h[k:, :k] = h[:k, k:].T
        h[k:, k:] = np.sum([p[2] for p in parts], axis=0)
        if self.t is not None:  # from the coefficients' coordinates to the basis's
            a = np.eye(u.size)
            a[:k, :k] = self.t[:, :-1]
            with np.errstate(all="ignore"):
                g, h = a.T @ g, a.T @ h @ a
        return value, g, h

    def _eta(self, lo: int, hi: int, v: np.ndarray) -> np.ndarray:
        eta = self.design[lo:hi] @ v
        return eta if self.eta0 is None else eta + self.eta0[lo:hi]
