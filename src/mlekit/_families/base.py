"""What every family shares: the declaration (name, parameters, support, kind), the
distribution functions beyond the log-density (log-CDF, log-survival, sampler, moments), and
helpers for one-pass sufficient statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from .._data import parallel_map, split
from .._model import Model
from .._params import Param


@dataclass(frozen=True)
class Family(Model):
    """A named parametric family; frozen, so equal families share compiled code."""

    name: ClassVar[str] = "family"
    PARAMS: ClassVar[Mapping[str, Param]] = {}
    #: one line for `mlekit families`
    description: ClassVar[str] = ""
    #: the density (or mass function) in plain text, for the catalogue and the README table
    formula: ClassVar[str] = ""
    #: "continuous", "discrete" or "multivariate": the catalogue's grouping
    kind: ClassVar[str] = "continuous"
    #: the support as the catalogue shows it, where it depends on options (else support.describe)
    support_text: ClassVar[str] = ""
    #: parameters whose MLE is an order statistic of the data (Uniform's ends, Pareto's scale):
    #: estimated by :meth:`boundary_estimate`, outside the usual asymptotics, so they get no
    #: standard error (the fit says so and points to bootstrap or profile intervals)
    boundary: ClassVar[tuple[str, ...]] = ()
    #: True for families whose regularity depends on the estimate (threshold forms)
    threshold_form: ClassVar[bool] = False

    @property
    def params(self) -> Mapping[str, Param]:
        return self.PARAMS

    def statistics(self, fit) -> dict:
        """A discrete family's summary adds the fit's cross-entropy split into the data's
        entropy and KL(data || model) (see :func:`mlekit._information.decomposition`)."""
        if not self.support.integer:
            return {}
        from .._information import decomposition

        return decomposition(fit) or {}

    @property
    def exponential_family(self) -> bool:
        """True when fixed-size sufficient statistics summarize any sample."""
        return self.sufficient

    @property
    def regular(self) -> bool:
        """False where some parameter's MLE sits on the boundary of the data."""
        return not (self.boundary or self.threshold_form)

    # -- the distribution beyond the log-density (JAX, natural parameters) ---------------------
    def logcdf(self, x, params):
        """log P(X <= x), accurate in the far lower tail (where the CDF underflows)."""
        raise NotImplementedError(f"{self.name} defines no log-CDF")

    def logsf(self, x, params):
        """log P(X > x), accurate in the far upper tail."""
        raise NotImplementedError(f"{self.name} defines no log-survival function")

    def log_tails(self, x, params):
        """(log F(x), log S(x)); families that get both from one special-function evaluation
        override it (censored likelihoods need both at every end)."""
        return self.logcdf(x, params), self.logsf(x, params)

    def mean(self, params):
        """E[X] (inf where it diverges, nan where it is undefined, e.g. Cauchy)."""
        raise NotImplementedError(f"{self.name} defines no mean")

    def variance(self, params):
        """Var[X] (inf where it diverges, nan where it is undefined); a covariance matrix for
        multivariate families."""
        raise NotImplementedError(f"{self.name} defines no variance")

    def sample(self, params: Mapping, size: int, rng=None) -> np.ndarray:
        """``size`` independent draws (numpy; ``rng`` a seed or ``np.random.Generator``)."""
        raise NotImplementedError(f"{self.name} defines no sampler")

    def __repr__(self):
        return f"{type(self).__name__}()"


def rng_of(rng) -> np.random.Generator:
    """A numpy Generator from None, a seed, or a Generator."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def plain(params: Mapping) -> dict:
    """{name: float or numpy array}: natural parameters as samplers take them."""
    out = {}
    for k, v in params.items():
        arr = np.asarray(v, dtype=float)
        out[k] = float(arr) if arr.ndim == 0 else arr
    return out


def safe_where(ok, fun, x, fill):
    """``fun(x)`` where ``ok``, else ``fill``; ``fun`` sees 1.0 in place of the other points, so
    neither its value nor its gradient there can be NaN (the "double where")."""
    return jnp.where(ok, fun(jnp.where(ok, x, 1.0)), fill)


def log1mexp(a):
    """log(1 - exp(a)) for a <= 0, accurate everywhere (Maechler 2012): log(-expm1(a)) near 0,
    log1p(-exp(a)) below log 2."""
    return jnp.where(a > -0.6931471805599453, jnp.log(-jnp.expm1(a)), jnp.log1p(-jnp.exp(a)))


def log_diff_exp(a, b):
    """log(exp(a) - exp(b)) for a >= b, without overflow or cancellation."""
    return a + log1mexp(jnp.minimum(b - a, 0.0))



def moments(y: np.ndarray) -> np.ndarray:
    """[n, mean, M2] with M2 = sum((y - mean)^2).

    One pass (a sum and a dot product) where that is accurate: its relative error is about
    eps * (1 + mean^2 / var), so it is used while mean^2 <= 100 var. Otherwise (|mean| >> sd,
    where sum(y^2) - n*mean^2 cancels) the two-pass algorithm, through :func:`sum_of`.
    """
    n = y.shape[0]
    mean = float(y.sum()) / n
    m2 = float(y @ y) - n * mean * mean
    if n * mean * mean > 100.0 * m2:
        m2 = sum_of(lambda part, out: np.square(np.subtract(part, mean, out=out), out=out), y)
    return np.array([float(n), mean, m2])


def merge_moments(parts: list[np.ndarray]) -> np.ndarray:
    """[n, mean, M2] of all the data from those of its parts (Chan, Golub and LeVeque's
    pairwise update: M2 = sum M2_j + sum n_j (mean_j - mean)^2, no cancelling difference)."""
    n = np.array([float(p[0]) for p in parts])
    means = np.array([float(p[1]) for p in parts])
    total = float(n.sum())
    mean = float(n @ means) / total
    m2 = float(sum(float(p[2]) for p in parts) + n @ (means - mean) ** 2)
    return np.array([total, mean, m2])


BLOCK = 1 << 16


def _blocked_sum(fun, x: np.ndarray) -> float:
    """sum(fun(x)) block by block into one reused buffer: no n-sized temporary, and each block
    stays in cache."""
    buf = np.empty(min(BLOCK, x.shape[0]))
    total = 0.0
    for i in range(0, x.shape[0], BLOCK):
        part = x[i:i + BLOCK]
        out = buf[: part.shape[0]]
        fun(part, out=out)
        total += float(out.sum())
    return total


def sum_of(fun, x: np.ndarray) -> float:
    """sum(fun(x)) for an elementwise numpy ufunc (``fun(a, out=b)``).

    Long data are split across threads (numpy releases the GIL in ufunc loops), each summing
    its share block by block. Measured for np.log on 2 cores: 1.4x faster at n = 1e6 and 1.9x at
    1e7 than ``np.log(x).sum()``.
    """
    if x.shape[0] < 4 * BLOCK:
        return _blocked_sum(fun, x)
    return float(sum(parallel_map(lambda part: _blocked_sum(fun, part), split(x))))


def gaussian_loglik(stats, mu, sigma):
    """Normal log-likelihood from [n, mean, M2] (JAX)."""
    n, mean, m2 = stats[0], stats[1], stats[2]
    ss = m2 + n * (mean - mu) ** 2
    return -0.5 * n * jnp.log(2 * jnp.pi) - n * jnp.log(sigma) - ss / (2 * sigma**2)


def gaussian_closed_form(stats, fixed, loc: str, scale: str) -> dict:
    """Normal MLE from [n, mean, M2], honouring a fixed location or scale.

    The variance is the biased M2/n (the MLE), never M2/(n-1).
    """
    n, mean, m2 = (float(v) for v in stats)
    mu = float(fixed[loc]) if loc in fixed else mean
    out = {loc: np.asarray(mu)}
    if scale not in fixed:
        out[scale] = np.asarray(np.sqrt((m2 + n * (mean - mu) ** 2) / n))
    return {k: v for k, v in out.items() if k not in fixed}


#: frequency tables longer than this (relative to n) are not worth it: sum per value instead
MAX_TABLE = 1 << 20


def _block_table(part: np.ndarray) -> np.ndarray | None:
    counts = np.zeros(0, dtype=np.int64)
    ints = np.empty(min(BLOCK, part.shape[0]), dtype=np.int64)
    for i in range(0, part.shape[0], BLOCK):
        block = part[i:i + BLOCK]
        k = ints[: block.shape[0]]
        with np.errstate(invalid="ignore"):
            np.copyto(k, block, casting="unsafe")  # NaN, inf, fractions: caught just below
        if not np.array_equal(k, block) or k.min() < 0 or k.max() >= MAX_TABLE:
            return None
        c = np.bincount(k)
        if c.shape[0] > counts.shape[0]:
            c[: counts.shape[0]] += counts
            counts = c
        else:
            counts[: c.shape[0]] += c
    return counts


def count_table(x: np.ndarray) -> np.ndarray | None:
    """counts[k] = #{i: x_i = k} for data of non-negative integers (one threaded pass), or None
    when some value is not a non-negative integer below ``MAX_TABLE`` (then the caller falls back
    to the general path, whose checks name the offending value).

    Count families compute their statistics from this table: sum(log x!) becomes
    sum_k counts[k] log k!, a handful of gammaln calls instead of n (measured 5x faster at
    n = 1e7), and the same pass proves the data are counts.
    """
    parts = parallel_map(_block_table, split(x)) if x.shape[0] >= 4 * BLOCK else [
        _block_table(x)]
    if any(p is None for p in parts):
        return None
    out = np.zeros(max(p.shape[0] for p in parts), dtype=np.int64)
    for p in parts:
        out[: p.shape[0]] += p
    return out


def _block_sum_min(part: np.ndarray) -> tuple[float, float]:
    total, low = 0.0, np.inf
    for i in range(0, part.shape[0], BLOCK):
        block = part[i:i + BLOCK]  # in cache for both reductions: one trip through memory
        total += float(block.sum())
        low = min(low, float(block.min()))
    return total, low


def sum_and_min(x: np.ndarray) -> tuple[float, float]:
    """(sum(x), min(x)) in one threaded pass over the data."""
    parts = parallel_map(_block_sum_min, split(x)) if x.shape[0] >= 4 * BLOCK else [
        _block_sum_min(x)]
    return sum(p[0] for p in parts), min(p[1] for p in parts)
