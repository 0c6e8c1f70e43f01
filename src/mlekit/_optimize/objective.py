"""The log-likelihood as the optimizer sees it: value, gradient and exact Hessian in the
unconstrained coordinates, summed over data chunks (or computed from sufficient statistics).

Compiled functions are module-level and keyed on (model, layout, shapes), so every fit of the
same family and chunk shape reuses one compiled program (and the persistent cache across runs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._data import Chunks, parallel_map, split
from .._model import Model
from .._params import Constraint, RealLine, split_flat

#: the key under which a layout's basis matrix T travels in ``fixed``: a traced argument, so one
#: compiled program serves every data set (a static T would compile once per fit)
BASIS = "__basis__"


@dataclass(frozen=True)
class Layout:
    """Which parameters are free, and how they pack into one unconstrained vector ``u``.

    ``basis`` names consecutive scalar parameters on the real line whose values are
    ``origin + T @ v`` for their block ``v`` of ``u``, with ``fixed[BASIS] = [T | origin]`` (T
    from the model's :meth:`Model.basis`, the origin at the start values, so that the start
    round-trips exactly): coordinates in which the Hessian is well conditioned. A
    regression's coefficients in the coordinates of its design's QR factor have Hessian
    ~ -I / sd^2, where in their own the Hessian X'X squares the design's condition number and
    loses digits (NIST Longley, Filip).
    """

    names: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    shapes: tuple[tuple[int, ...], ...]
    basis: tuple[str, ...] = ()

    def __post_init__(self):
        if self.basis:
            i = self.names.index(self.basis[0])
            if (self.names[i:i + len(self.basis)] != self.basis
                    or any(self.shapes[j] != () or not isinstance(self.constraints[j], RealLine)
                           for j in range(i, i + len(self.basis)))):
                raise ValueError(f"basis {self.basis} is not a run of scalar real parameters "
                                 f"of {self.names}")

    @classmethod
    def of(cls, model: Model, fixed: Mapping[str, object]) -> Layout:
        free = [(n, p) for n, p in model.params.items() if n not in fixed]
        return cls(
            tuple(n for n, _ in free),
            tuple(p.constraint for _, p in free),
            tuple(p.shape for _, p in free),
        )

    def _basis_block(self) -> slice:
        start = sum(self.sizes[: self.names.index(self.basis[0])])
        return slice(start, start + len(self.basis))

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(c.free_size(s) for c, s in zip(self.constraints, self.shapes, strict=True))

    @property
    def k(self) -> int:
        return sum(self.sizes)

    def unpack(self, u, fixed: Mapping[str, jax.Array]) -> dict:
        """u -> {name: natural value} including fixed parameters (traceable)."""
        out, i = {k: v for k, v in fixed.items() if k != BASIS}, 0
        if self.basis:
            block = self._basis_block()
            basis = fixed[BASIS]
            u = jnp.concatenate([u[: block.start], basis[:, -1] + basis[:, :-1] @ u[block],
                                 u[block.stop:]])
        for name, c, shape, size in zip(self.names, self.constraints, self.shapes, self.sizes,
                                        strict=True):
            piece = u[i:i + size]
            value = c.forward(piece if shape else piece[0])
            if len(shape) > 1 and size == math.prod(shape):  # elementwise on a matrix
                value = value.reshape(shape)
            out[name] = value
            i += size
        return out

    def pack(self, theta: Mapping[str, np.ndarray],
             fixed: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """{name: natural value} -> u (numpy); ``fixed`` carries the basis, if any."""
        parts = [np.ravel(c.inverse(np.asarray(theta[n], dtype=float)))
                 for n, c in zip(self.names, self.constraints, strict=True)]
        u = np.concatenate(parts) if parts else np.zeros(0)
        if self.basis:
            block = self._basis_block()
            basis = np.asarray(fixed[BASIS], dtype=float)
            u[block] = np.linalg.solve(basis[:, :-1], u[block] - basis[:, -1])
        return u

    def plain(self) -> Layout:
        """The same parameters in their own coordinates (no basis)."""
        return Layout(self.names, self.constraints, self.shapes)

    def to_plain(self, fixed: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(A, c) with u_plain = A u + c, the coordinates of the layout without its basis
        (the identity and 0 without a basis)."""
        a, c = np.eye(self.k), np.zeros(self.k)
        if self.basis:
            block = self._basis_block()
            basis = np.asarray(fixed[BASIS], dtype=float)
            a[block, block], c[block] = basis[:, :-1], basis[:, -1]
        return a, c

    def natural_flat(self, u, fixed):
        """The free parameters in natural units as one flat vector (traceable)."""
        theta = self.unpack(u, fixed)
        return jnp.concatenate([jnp.ravel(theta[n]) for n in self.names] or [jnp.zeros(0)])


def _derivs(ll, u):
    """(value, gradient, Hessian) of a scalar function in one program."""
    def grad_with_aux(v):
        value, g = jax.value_and_grad(ll)(v)
        return g, (value, g)

    h, (value, g) = jax.jacfwd(grad_with_aux, has_aux=True)(u)
    return value, g, h


@partial(jax.jit, static_argnames=("model", "layout"))
def chunk_derivs(u, fixed, x, w, model, layout):
    return _derivs(lambda v: jnp.sum(w * model.logpdf(x, layout.unpack(v, fixed))), u)


def summed_derivs(parts, u, fixed, model, layout) -> list[np.ndarray]:
    """[log-likelihood, score, Hessian] summed over (x, w) chunks."""
    outs = [chunk_derivs(u, fixed, x, w, model, layout) for x, w in parts]
    return [np.sum([np.asarray(o[i], dtype=float) for o in outs], axis=0) for i in range(3)]


@partial(jax.jit, static_argnames=("model", "layout"))
def chunk_scores(u, fixed, x, w, model, layout):
    """Per-observation scores d log p(x_i) / du, weighted: an (m, k) array (forward mode: k is
    small, m is a chunk)."""
    return jax.jacfwd(lambda v: w * model.logpdf(x, layout.unpack(v, fixed)))(u)


@partial(jax.jit, static_argnames=("model", "layout"))
def stats_derivs(u, fixed, stats, model, layout):
    return _derivs(lambda v: model.loglik_stats(stats, layout.unpack(v, fixed)), u)


@partial(jax.jit, static_argnames=("layout",))
def natural_and_jacobian(u, fixed, layout):
    """(natural free parameters as one flat vector, d natural / d u), in one program."""
    def fun(v):
        flat = layout.natural_flat(v, fixed)
        return flat, flat

    jac, flat = jax.jacfwd(fun, has_aux=True)(u)
    return flat, jac


class Objective:
    """Log-likelihood of a model on data, as a function of the free unconstrained ``u``.

    Calling it returns numpy ``(loglik, gradient, Hessian)``. Families with sufficient
    statistics reduce the data once, in numpy, and never touch it again.
    """

    def __init__(self, model: Model, layout: Layout, fixed: Mapping[str, np.ndarray],
                 x: np.ndarray, stats: np.ndarray | None = None, prior=None, weights=None):
        self.model, self.layout, self.x = model, layout, x
        #: a MAP fit's LogPrior (its smooth part is added to every evaluation), else None
        self.prior = prior
        #: frequency weights (one per observation), else None; the sufficient statistics of a
        #: family are unweighted, so a weighted objective sums over the data
        self.weights = weights
        # numpy arguments go straight to the compiled functions: jit's argument handling
        # converts them faster than an eager jnp.asarray (measured 0.15 ms per call)
        self.fixed = {k: np.asarray(v, dtype=np.float64) for k, v in fixed.items()}
        if stats is None and model.sufficient and weights is None:
            stats = model.suffstats(x)
        self.stats = stats
        self._chunks = None
        self._linear = False  # not yet looked at (None: the model has no linear predictor)

    def holding(self, fixed: Mapping[str, np.ndarray]) -> Objective:
        """The same log-likelihood with other held values: the data, their statistics and
        their device chunks are shared (a profile evaluates many held values)."""
        basis = {k: v for k, v in self.fixed.items() if k == BASIS}
        out = Objective(self.model, self.layout, {**basis, **fixed}, self.x, self.stats,
                        self.prior, self.weights)
        if self.stats is None:  # the data are read: prepare them once, for every holder
            out._linear = self.linear  # (its design depends on the basis only, held alike)
            out._chunks = self.chunks if out._linear is None else self._chunks
        return out

    @property
    def linear(self):
        """The linear-predictor path (:mod:`.linear`) where the model has one, else None."""
        if self._linear is False:
            from .linear import LinearPredictor

            self._linear = (None if self.stats is not None
                            else LinearPredictor.of(self.model, self.layout, self.fixed, self.x,
                                                    self.weights))
        return self._linear

    @property
    def chunks(self) -> Chunks:
        """The data on the device in fixed-shape chunks (built on first use: families with
        sufficient statistics never need them)."""
        if self._chunks is None:
            self._chunks = Chunks.from_array(self.x, self.weights)
        return self._chunks

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def count(self) -> float:
        """How many observations the log-likelihood counts: n, or the sum of the weights."""
        return float(self.n) if self.weights is None else float(np.sum(self.weights))

    def __call__(self, u: np.ndarray):
        """(value, gradient, Hessian) in u: the log-likelihood, plus the smooth part of the
        log-prior for a MAP fit."""
        if self.stats is None:
            out = self.direct(u)
        else:
            out = tuple(np.asarray(o, dtype=float) for o in stats_derivs(
                np.asarray(u, dtype=np.float64), self.fixed, self.stats, self.model,
                self.layout))
        if self.prior is None:
            return out
        extra = self.prior(u, self.fixed)
        return tuple(a + b for a, b in zip(out, extra, strict=True))

    def direct(self, u: np.ndarray):
        """Derivatives summed over the data itself, bypassing sufficient statistics."""
        u = np.asarray(u, dtype=np.float64)
        if self.linear is not None:
            return self.linear(u, self.fixed)

        totals = parallel_map(
            lambda parts: summed_derivs(parts, u, self.fixed, self.model, self.layout),
            split(self.chunks.parts))
        return tuple(np.sum([t[i] for t in totals], axis=0) for i in range(3))

    def scores(self, u: np.ndarray) -> np.ndarray:
        """Per-observation scores in ``u`` coordinates, an (n, k) numpy array: the raw material of
        the OPG, sandwich and cluster covariances and of the bootstrap's influence values."""
        u = np.asarray(u, dtype=np.float64)
        parts = [np.asarray(chunk_scores(u, self.fixed, x, w, self.model, self.layout))
                 for x, w in self.chunks.parts]
        out = np.concatenate(parts, axis=0) if parts else np.zeros((0, u.size))
        return out[: self.n].reshape(self.n, u.size)

    def score_products(self, u: np.ndarray) -> np.ndarray:
        """sum_i s_i s_i', the outer products of the per-observation scores (k, k): the OPG,
        and the meat of the sandwich."""
        s = self.scores(u)
        return s.T @ s

    def natural(self, u: np.ndarray) -> tuple[dict, np.ndarray]:
        """({name: natural value} of the free parameters, d(natural flat)/du) at u."""
        flat, jac = natural_and_jacobian(np.asarray(u, dtype=np.float64), self.fixed, self.layout)
        return split_flat(np.asarray(flat), self.layout.names, self.layout.shapes), np.asarray(jac)
