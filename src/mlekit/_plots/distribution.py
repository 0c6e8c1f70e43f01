"""The fitted distribution from numpy: jitted evaluations of a family's log-density and tails
(padded to a few bucket sizes: one compile each), a generic quantile function, R's ppoints,
the empirical CDF."""

from __future__ import annotations

import functools
import math

import jax
import numpy as np

from .._errors import ModelError

EPS = np.finfo(float).eps


# -- the fitted distribution: jitted evaluations, padded to bucket sizes ----------------------
@functools.lru_cache(maxsize=64)
def _jitted(model, what: str):
    if what == "tails":
        def tails(x, p):
            if hasattr(model, "log_tails"):
                return model.log_tails(x, p)
            return model.logcdf(x, p), model.logsf(x, p)
        return jax.jit(tails)
    return jax.jit(lambda x, p: model.logpdf(x, p))


def _bucket(n: int) -> int:
    return max(64, 1 << (int(n) - 1).bit_length())


def _evaluate(model, what: str, x, params):
    """``logpdf`` or ``(logcdf, logsf)`` at ``x`` (numpy), compiled once per model and bucket."""
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0:
        return np.zeros(0) if what == "logpdf" else (np.zeros(0), np.zeros(0))
    padded = np.full(_bucket(x.size), x[0])
    padded[: x.size] = x
    p = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    try:
        fun = _jitted(model, what)
    except TypeError:  # an unhashable model: no cache
        fun = _jitted.__wrapped__(model, what)
    out = fun(padded, p)
    if what == "logpdf":
        return np.asarray(out, dtype=float)[: x.size]
    return tuple(np.asarray(o, dtype=float)[: x.size] for o in out)


def _has(model, method: str) -> bool:
    """True where the model defines ``method`` (logcdf / logsf) itself."""
    from .._families.base import Family

    own = getattr(type(model), method, None)
    return callable(own) and own is not getattr(Family, method)


def _below(model, params, x, p, fuzz: float = 0.0) -> np.ndarray:
    """F(x) < p (less a relative ``fuzz``), read in whichever tail keeps its digits."""
    log_f, log_s = _evaluate(model, "tails", x, params)
    with np.errstate(divide="ignore"):
        lower = log_f < np.log(p) + math.log1p(-fuzz)
        upper = log_s > np.log((1.0 - p) + fuzz * p)
    return np.where(p <= 0.5, lower, upper)


def quantile(model, params, p, *, bracket: tuple[float, float] | None = None) -> np.ndarray:
    r"""The quantile function :math:`F^{-1}(p) = \min\{x : F(x) \ge p\}` of a univariate family.

    Continuous families: bisection on :math:`F` in a coordinate where the support is the
    real line (:math:`\log(x - L)` above a finite lower end, the logit between two ends),
    bracketed from ``bracket`` and widened (doubling) until it brackets; solved to float64
    precision in that coordinate. Discrete families: the smallest integer :math:`k` with
    :math:`F(k) \ge p`, by integer bisection (with R's fuzz of 64 ulp against rounding in
    :math:`F`). The CDF is read in the tail where it keeps its digits (:math:`\log S` above
    the median).

    Parameters
    ----------
    model : Family
        A univariate family with ``logcdf`` and ``logsf``.
    params : dict
        Its parameters in natural units (every one, fixed ones included).
    p : array-like
        Probabilities in [0, 1]; 0 and 1 give the ends of the support.
    bracket : (float, float), optional
        Where to start looking, e.g. the data's range.

    Returns
    -------
    ndarray
        Quantiles, the shape of ``p``.

    Examples
    --------
    >>> import mlekit as mk
    >>> from mlekit._plots import quantile
    >>> round(float(quantile(mk.Exponential(), {"rate": 2.0}, 0.5)), 12)  # log(2) / 2
    0.34657359028
    >>> quantile(mk.Poisson(), {"lambda": 3.0}, [0.1, 0.5, 0.9]).tolist()
    [1.0, 3.0, 5.0]
    """
    if not (_has(model, "logcdf") and _has(model, "logsf")):
        raise ModelError(f"{getattr(model, 'name', model)!s} defines no logcdf / logsf: its "
                         "quantiles (qq plots) need the distribution function; use kind="
                         "'density', or a family that has one.")
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    if np.any(np.isnan(flat) | (flat < 0) | (flat > 1)):
        raise ModelError("p must hold probabilities in [0, 1]; got values outside it.")
    support = model.support
    out = np.where(flat <= 0, support.lower, np.where(flat >= 1, support.upper, np.nan))
    inner = (flat > 0) & (flat < 1)
    if inner.any():
        if bracket is None or not np.all(np.isfinite(bracket)):
            bracket = (-1.0, 1.0)
        solve = _integer_quantile if support.integer else _continuous_quantile
        out[inner] = solve(model, params, flat[inner], support, bracket)
    return out.reshape(p.shape)


def _coordinate(support):
    """(to_x, from_x): an increasing map from the real line onto the support's interior."""
    lo, hi = support.lower, support.upper
    if math.isfinite(lo) and math.isfinite(hi):
        def to_x(z):
            return lo + (hi - lo) / (1.0 + np.exp(-z))

        def from_x(x):
            u = np.clip((x - lo) / (hi - lo), 1e-12, 1 - 1e-12)
            return np.log(u) - np.log1p(-u)
        return to_x, from_x
    if math.isfinite(lo):
        return (lambda z: lo + np.exp(z)), (lambda x: np.log(np.maximum(x - lo, 1e-300)))
    if math.isfinite(hi):
        return (lambda z: hi - np.exp(-z)), (lambda x: -np.log(np.maximum(hi - x, 1e-300)))
    return (lambda z: z), (lambda x: x)


def _continuous_quantile(model, params, p, support, bracket) -> np.ndarray:
    to_x, from_x = _coordinate(support)
    with np.errstate(all="ignore"):
        z0 = np.sort(from_x(np.asarray(bracket, dtype=float)))
    lo, hi = np.full(p.shape, z0[0]), np.full(p.shape, max(z0[1], z0[0] + 1e-3))
    start_width = max(1.0, float(hi[0] - lo[0]))
    for end, sign in ((lo, -1.0), (hi, 1.0)):  # widen each side until it brackets
        width = np.full(p.shape, start_width)
        for _ in range(1100):
            with np.errstate(over="ignore"):
                wrong = _below(model, params, to_x(end), p) != (sign < 0)
            if not wrong.any():
                break
            end[wrong] += sign * width[wrong]
            width[wrong] *= 2.0
    tol_abs = 1e-9 * EPS * np.maximum(1.0, hi - lo)  # where the quantile is ~0 in z
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        with np.errstate(over="ignore"):
            left = _below(model, params, to_x(mid), p)
        lo, hi = np.where(left, mid, lo), np.where(left, hi, mid)
        if np.all(hi - lo <= 2 * EPS * np.maximum(np.abs(lo), np.abs(hi)) + tol_abs):
            break
    with np.errstate(over="ignore"):
        return to_x(0.5 * (lo + hi))


def _integer_quantile(model, params, p, support, bracket) -> np.ndarray:
    fuzz = 64 * EPS
    lower, upper = support.lower, support.upper

    def below(k):  # F(k) < p; nothing lies below the support
        inside = k >= lower
        out = _below(model, params, np.where(inside, k, max(lower, -1e300)), p, fuzz)
        return np.where(inside, out, True)

    b0, b1 = math.floor(min(bracket)), math.ceil(max(bracket))
    lo = np.full(p.shape, float(b0))
    hi = np.full(p.shape, float(max(b1, b0 + 1)))
    width = np.maximum(1.0, hi - lo)
    for _ in range(1100):  # F(hi) >= p
        wrong = below(hi) & (hi < upper)
        if not wrong.any():
            break
        hi[wrong] = np.minimum(hi[wrong] + width[wrong], upper)
        width[wrong] *= 2.0
    width = np.maximum(1.0, hi - lo)
    for _ in range(1100):  # F(lo) < p
        wrong = ~below(lo)
        if not wrong.any():
            break
        lo[wrong] = np.maximum(lo[wrong] - width[wrong], lower - 1.0)
        width[wrong] *= 2.0
    while np.any(active := hi - lo > 1):
        mid = np.floor(0.5 * (lo + hi))
        left = below(mid)
        lo = np.where(active & left, mid, lo)
        hi = np.where(active & ~left, mid, hi)
    return hi


def ppoints(n: int) -> np.ndarray:
    """R's ``ppoints(n)``: (i - a) / (n + 1 - 2a), a = 3/8 for n <= 10, else 1/2."""
    a = 3.0 / 8.0 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def ecdf(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, F_n at each) of sorted data."""
    values, counts = np.unique(x, return_counts=True)
    return values, np.cumsum(counts) / x.size
