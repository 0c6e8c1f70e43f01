"""Declarative parameters: a constraint and a bijection to an unconstrained space.

The optimizer works on unconstrained reals ``u``; results are reported in natural units
``theta = constraint.forward(u)``. Each constraint is a small immutable object, so a model's
parameter declaration is hashable and can key compiled functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ._errors import ModelError


@dataclass(frozen=True)
class Constraint:
    """Base: the identity map on the reals."""

    def forward(self, u):
        """Unconstrained -> natural (traced by JAX)."""
        return u

    def inverse(self, theta: np.ndarray) -> np.ndarray:
        """Natural -> unconstrained (numpy, for start values)."""
        return np.asarray(theta, dtype=float)

    def contains(self, theta: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(theta)))

    def free_size(self, shape: tuple[int, ...]) -> int:
        """Number of unconstrained coordinates for a natural value of this shape."""
        return math.prod(shape)

    def describe(self) -> str:
        return "any real number"

    #: the name of the unconstrained scale, for interval labels ("" for the identity)
    scale: ClassVar[str] = ""

    def slope(self, theta: np.ndarray) -> np.ndarray | None:
        """d theta / d u elementwise at natural ``theta`` (numpy), or None where the map is not
        elementwise (simplex, covariance matrices)."""
        return np.ones_like(np.asarray(theta, dtype=float))

    def bounds(self) -> tuple[float, float]:
        """The closure of the parameter space of one element: where open intervals end."""
        return (-math.inf, math.inf)


@dataclass(frozen=True)
class RealLine(Constraint):
    pass


@dataclass(frozen=True)
class GreaterThan(Constraint):
    """theta = lower + exp(u)."""

    lower: float = 0.0

    def forward(self, u):
        return self.lower + jnp.exp(u)

    def inverse(self, theta):
        return np.log(np.asarray(theta, dtype=float) - self.lower)

    def contains(self, theta):
        t = np.asarray(theta, dtype=float)
        return bool(np.all(np.isfinite(t)) and np.all(t > self.lower))

    def describe(self):
        return f"> {self.lower:g}"

    scale: ClassVar[str] = "log"

    def slope(self, theta):
        return np.asarray(theta, dtype=float) - self.lower

    def bounds(self):
        return (self.lower, math.inf)


@dataclass(frozen=True)
class LessThan(Constraint):
    """theta = upper - exp(u) (e.g. a threshold below the smallest observation)."""

    upper: float = 0.0

    def forward(self, u):
        return self.upper - jnp.exp(u)

    def inverse(self, theta):
        return np.log(self.upper - np.asarray(theta, dtype=float))

    def contains(self, theta):
        t = np.asarray(theta, dtype=float)
        return bool(np.all(np.isfinite(t)) and np.all(t < self.upper))

    def describe(self):
        return f"< {self.upper:g}"

    scale: ClassVar[str] = "log"

    def slope(self, theta):
        return self.upper - np.asarray(theta, dtype=float)

    def bounds(self):
        return (-math.inf, self.upper)


@dataclass(frozen=True)
class OpenInterval(Constraint):
    """theta = lower + (upper - lower) * sigmoid(u)."""

    lower: float = 0.0
    upper: float = 1.0

    def forward(self, u):
        return self.lower + (self.upper - self.lower) * jnp.where(
            u >= 0, 1.0 / (1.0 + jnp.exp(-u)), jnp.exp(u) / (1.0 + jnp.exp(u))
        )

    def inverse(self, theta):
        p = (np.asarray(theta, dtype=float) - self.lower) / (self.upper - self.lower)
        return np.log(p) - np.log1p(-p)

    def contains(self, theta):
        t = np.asarray(theta, dtype=float)
        return bool(np.all(np.isfinite(t)) and np.all((t > self.lower) & (t < self.upper)))

    def describe(self):
        return f"in ({self.lower:g}, {self.upper:g})"

    scale: ClassVar[str] = "logit"

    def slope(self, theta):
        t = np.asarray(theta, dtype=float)
        return (t - self.lower) * (self.upper - t) / (self.upper - self.lower)

    def bounds(self):
        return (self.lower, self.upper)


@dataclass(frozen=True)
class SimplexConstraint(Constraint):
    """Probabilities that sum to one; the last category is the reference:
    theta = softmax([u_1, ..., u_{K-1}, 0]). Categories in ``zeros`` are pinned at 0 (the MLE
    of a category never observed) and take no coordinate: the reference is then the last
    category not pinned."""

    zeros: tuple[int, ...] = ()

    def _free(self, k: int) -> np.ndarray:
        return np.setdiff1d(np.arange(k), self.zeros)

    def forward(self, u):
        z = jnp.concatenate([u, jnp.zeros(1, dtype=u.dtype)])
        z = z - jnp.max(z)
        e = jnp.exp(z)
        p = e / jnp.sum(e)
        if not self.zeros:
            return p
        k = p.shape[0] + len(self.zeros)
        return jnp.zeros(k, p.dtype).at[self._free(k)].set(p)

    def inverse(self, theta):
        p = np.asarray(theta, dtype=float)
        p = p[self._free(p.shape[0])]
        return np.log(p[:-1]) - np.log(p[-1])

    def contains(self, theta):
        p = np.asarray(theta, dtype=float)
        if p.ndim != 1 or not np.all(np.isfinite(p)) or abs(p.sum() - 1) >= 1e-9:
            return False
        free = self._free(p.shape[0])
        return bool(np.all(p[free] > 0) and np.all(p[list(self.zeros)] == 0))

    def free_size(self, shape):
        return shape[0] - 1 - len(self.zeros)

    def describe(self):
        pinned = f", with probs{list(self.zeros)} = 0" if self.zeros else ""
        return "positive and summing to 1" + pinned

    def slope(self, theta):
        return None

    def bounds(self):
        return (0.0, 1.0)


def plain_value(value):
    """numpy scalars -> float; arrays stay arrays (a read-only copy): what results hold. An
    object array (standard errors with None where an entry has none) stays one."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        arr = value.copy()
        arr.setflags(write=False)
        return arr
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


def readonly_array(a) -> np.ndarray:
    """A float64 copy that cannot be written to: results are immutable."""
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def flat_labels(names, shapes):
    """One label per scalar of the parameters ``names`` flattened in order: the name, or
    ``name[i,j]`` for an element of a vector or matrix parameter."""
    for name in names:
        shape = tuple(shapes[name])
        if not shape:
            yield name
        else:
            for index in np.ndindex(shape):
                yield f"{name}[{','.join(map(str, index))}]"


def split_flat(flat, names, shapes) -> dict:
    """A flat vector cut into {name: piece of that shape} (numpy or traced JAX arrays);
    scalars come out as 0-d."""
    out, i = {}, 0
    for name, shape in zip(names, shapes, strict=True):
        size = math.prod(shape)
        out[name] = flat[i:i + size].reshape(shape)
        i += size
    return out


REAL = RealLine()
POSITIVE = GreaterThan(0.0)
UNIT = OpenInterval(0.0, 1.0)
SIMPLEX = SimplexConstraint()


@dataclass(frozen=True)
class Param:
    """A declared parameter: its constraint, shape and (optional) start value.

    Build them with :func:`Real`, :func:`Positive`, :func:`UnitInterval`, :func:`Simplex`,
    :func:`Interval` or :func:`GreaterThanBound`.
    """

    constraint: Constraint = REAL
    init: object = None
    shape: tuple[int, ...] = ()
    doc: str = field(default="", compare=False)

    def start(self) -> np.ndarray | None:
        return None if self.init is None else np.broadcast_to(
            np.asarray(self.init, dtype=float), self.shape
        ).copy()


def _param(constraint: Constraint, init, shape) -> Param:
    shape = tuple(int(s) for s in np.atleast_1d(shape)) if shape != () else ()
    if init is not None:
        value = np.broadcast_to(np.asarray(init, dtype=float), shape)
        if not constraint.contains(value):
            raise ModelError(
                f"init={init!r} violates the parameter's constraint ({constraint.describe()}); "
                "give a start value inside it."
            )
    return Param(constraint, None if init is None else _freeze(init), shape)


def _freeze(init):
    arr = np.asarray(init, dtype=float)
    return float(arr) if arr.ndim == 0 else tuple(arr.tolist())


def Real(init: float | None = None, shape: tuple[int, ...] = ()) -> Param:
    """A real-valued parameter (no constraint)."""
    return _param(REAL, init, shape)


def Positive(init: float | None = None, shape: tuple[int, ...] = ()) -> Param:
    """A parameter > 0, optimized as log(theta)."""
    return _param(POSITIVE, init, shape)


def UnitInterval(init: float | None = None, shape: tuple[int, ...] = ()) -> Param:
    """A parameter in (0, 1), optimized as logit(theta)."""
    return _param(UNIT, init, shape)


def Interval(lower: float, upper: float, init: float | None = None) -> Param:
    """A parameter in (lower, upper), optimized through a scaled logit."""
    if not lower < upper:
        raise ModelError(f"Interval(lower={lower}, upper={upper}) needs lower < upper.")
    return _param(OpenInterval(float(lower), float(upper)), init, ())


def GreaterThanBound(lower: float, init: float | None = None) -> Param:
    """A parameter > lower, optimized as log(theta - lower)."""
    return _param(GreaterThan(float(lower)), init, ())


def Simplex(k: int, init=None, zeros: tuple[int, ...] = ()) -> Param:
    """A probability vector of length k (k >= 2), optimized as k-1 log-odds to the last;
    the categories in ``zeros`` are pinned at 0."""
    if int(k) < 2:
        raise ModelError(f"Simplex(k={k}) needs k >= 2 categories.")
    return _param(SimplexConstraint(tuple(zeros)) if zeros else SIMPLEX, init, (int(k),))


def _triangle_side(m: int) -> int:
    """d such that d(d+1)/2 = m (the side of a triangle of m entries)."""
    d = (math.isqrt(8 * m + 1) - 1) // 2
    if d * (d + 1) // 2 != m:
        raise ModelError(f"{m} free entries do not fill a lower triangle d(d+1)/2.")
    return d


@dataclass(frozen=True)
class PositiveDefinite(Constraint):
    """Symmetric positive definite d x d matrices (covariances), through their Cholesky factor.

    The d(d+1)/2 unconstrained entries fill the lower triangle of L row by row
    (``np.tril_indices`` order), the diagonal ones through exp(): theta = L L'. The map is a
    bijection (the Cholesky factor with a positive diagonal is unique), smooth, and every
    ``u`` gives a positive definite matrix.
    """

    def forward(self, u):
        d = _triangle_side(u.shape[-1])
        rows, cols = np.tril_indices(d)
        diag = np.flatnonzero(rows == cols)  # static indices: no exp() of off-diagonal entries
        vals = u.at[diag].set(jnp.exp(u[diag]))
        chol = jnp.zeros((d, d), dtype=u.dtype).at[rows, cols].set(vals)
        return chol @ chol.T

    def inverse(self, theta):
        t = np.asarray(theta, dtype=float)
        chol = np.linalg.cholesky(0.5 * (t + t.T))
        rows, cols = np.tril_indices(t.shape[0])
        vals = chol[rows, cols]
        diag = rows == cols
        vals[diag] = np.log(vals[diag])
        return vals

    def contains(self, theta):
        t = np.asarray(theta, dtype=float)
        if t.ndim != 2 or t.shape[0] != t.shape[1] or not np.all(np.isfinite(t)):
            return False
        if not np.allclose(t, t.T, rtol=1e-12, atol=1e-12 * float(np.max(np.abs(t)))):
            return False
        try:
            np.linalg.cholesky(t)
        except np.linalg.LinAlgError:
            return False
        return True

    def free_size(self, shape):
        return shape[0] * (shape[0] + 1) // 2

    def describe(self):
        return "a symmetric positive definite matrix"

    def slope(self, theta):
        return None


POSITIVE_DEFINITE = PositiveDefinite()


def CovMatrix(d: int, init=None) -> Param:
    """A d x d covariance matrix (symmetric positive definite), optimized as its Cholesky
    factor with log-diagonal (d(d+1)/2 free coordinates)."""
    if int(d) != d or int(d) < 1:
        raise ModelError(f"CovMatrix(d={d!r}) needs an integer dimension d >= 1.")
    d = int(d)
    if init is not None:
        value = np.asarray(init, dtype=float)
        if value.shape != (d, d) or not POSITIVE_DEFINITE.contains(value):
            raise ModelError(
                f"init={init!r} is not a symmetric positive definite {d} x {d} matrix; "
                "give a start value inside the constraint, e.g. np.eye(d)."
            )
        init = tuple(tuple(row) for row in value.tolist())  # hashable, like the others
    return Param(POSITIVE_DEFINITE, init, (d, d))
