"""Multivariate families: each observation is a vector, so data are an (n, d) array (or a table of
d columns), one row per observation. The dimension comes from the data unless given."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.linalg as jsl
import jax.scipy.special as jss
import numpy as np

from .._errors import BoundaryEstimate, DataError, ModelError, NoEstimate
from .._model import Support
from .._params import CovMatrix, Positive, Real, Simplex
from .base import BLOCK, Family, rng_of

LOG_2PI = math.log(2 * math.pi)
#: rows of a Dirichlet sample must sum to 1 within this (relative)
SIMPLEX_TOL = 1e-9
#: a scatter matrix whose correlation matrix has an eigenvalue below this (times d) is singular
SINGULAR_TOL = 1e-12


def _dimension(family: str, field: str, given: int | None, x: np.ndarray, what: str) -> int:
    """The dimension from the data's columns, checked against the family's option."""
    d = int(x.shape[1])
    if given is not None and d != given:
        raise DataError(
            f"the data have {d} columns but {family} was built with {field}={given}; pass "
            f"{given} columns, or leave {field} unset to take it from the data."
        )
    if d < 2:
        raise DataError(
            f"{family} needs observations of at least 2 {what}; the data have {d} column(s). "
            "For one column use the univariate family (e.g. mk.Normal())."
        )
    return d


def _check_dimension(cls: str, field: str, value) -> None:
    if value is not None and (int(value) != value or value < 2):
        raise ModelError(f"{cls}({field}={value!r}) needs an integer {field} >= 2.")


def _row(x: np.ndarray, i: int) -> str:
    return np.array2string(x[i], precision=6, separator=", ", threshold=8)


def _blocks(x: np.ndarray):
    for i in range(0, x.shape[0], BLOCK):
        yield x[i:i + BLOCK]


# -- multivariate normal ----------------------------------------------------------------------
def _scatter(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, M2) with M2 = sum (x - mean)(x - mean)': two passes, the second blockwise through
    BLAS, with the corrected two-pass term that removes the rounding left in the mean."""
    n = x.shape[0]
    mean = x.sum(axis=0) / n
    m2 = np.zeros((x.shape[1], x.shape[1]))
    resid = np.zeros(x.shape[1])
    for part in _blocks(x):
        c = part - mean
        m2 += c.T @ c
        resid += c.sum(axis=0)
    m2 -= np.outer(resid, resid) / n
    mean = mean + resid / n
    return mean, 0.5 * (m2 + m2.T)


def _singular_reason(scatter: np.ndarray, n: int, centred: bool) -> str | None:
    """Why a scatter matrix (about the sample mean if ``centred``) is singular, or None."""
    d = scatter.shape[0]
    rank = n - 1 if centred else n
    about = "their mean" if centred else "the fixed mean"
    if rank < d:
        return (f"n={n} observations in d={d} dimensions span at most {rank} dimension(s) about "
                f"{about}")
    var = np.diagonal(scatter)
    if np.any(var <= 0):
        j = int(np.argmax(var <= 0))
        return f"column {j} is constant" + ("" if centred else " (and equal to the fixed mean)")
    scale = np.sqrt(var)
    lam, vec = np.linalg.eigh(scatter / np.outer(scale, scale))
    if lam[0] <= SINGULAR_TOL * d:
        v = vec[:, 0] / scale
        v = v / np.max(np.abs(v))
        coef = np.array2string(v, precision=4, separator=", ", suppress_small=True)
        return (f"the columns are linearly dependent: v @ x is constant across the observations "
                f"for v = {coef}")
    return None


@dataclass(frozen=True, repr=False)
class MultivariateNormal(Family):
    r"""Multivariate normal in d dimensions:
    :math:`\log f = -\tfrac12\left(d\log 2\pi + \log\det\Sigma
    + (x-\mu)^\top\Sigma^{-1}(x-\mu)\right)`.

    Parameters ``mean`` (a d-vector :math:`\mu`) and ``cov`` (the d x d covariance
    :math:`\Sigma`, optimized as its Cholesky factor with log-diagonal), as in R's
    ``mvtnorm::dmvnorm(x, mean, sigma)``. ``d=None`` takes the dimension from the data's columns.

    Sufficient statistics: n, the sample mean and the scatter matrix
    :math:`M_2 = \sum_i (x_i-\bar x)(x_i-\bar x)^\top` (two passes, centred, so accurate when
    :math:`|\mu| \gg` the spread). Closed form :math:`\hat\mu = \bar x`,
    :math:`\hat\Sigma = M_2 / n` (the biased MLE, never :math:`n-1`); with ``mean`` fixed,
    :math:`\hat\Sigma = \sum_i (x_i-\mu)(x_i-\mu)^\top / n`; with ``cov`` fixed,
    :math:`\hat\mu = \bar x`. A singular :math:`\hat\Sigma` (n <= d, a constant column,
    collinear columns) has no MLE: the fit reports none, with an ``error`` diagnostic saying
    which. Start values (only with ``start=``):
    the sample mean and covariance, with a small ridge.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> x = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 4.0], [1.0, 2.0]])
    >>> fit = mk.fit(mk.MultivariateNormal(), x)
    >>> fit.params["mean"].round(12).tolist()
    [1.0, 2.0]
    >>> fit.params["cov"].round(12).tolist()  # the scatter divided by n = 4, not n - 1
    [[0.5, 0.0], [0.0, 1.5]]
    """

    name = "multivariate_normal"
    description = "Gaussian vectors in d dimensions (rows of an (n, d) array)"
    formula = ("f(x) = (2 pi)^(-d/2) det(cov)^(-1/2) "
               "exp(-(x-mean)' cov^-1 (x-mean) / 2)")
    kind = "multivariate"
    event_ndim = 1
    support_text = "vectors in R^d"
    # the declaration's form; the dimension d is set by the data
    PARAMS = {"mean": Real(shape=(2,)), "cov": CovMatrix(2)}
    sufficient = True
    d: int | None = None

    def __post_init__(self):
        _check_dimension("MultivariateNormal", "d", self.d)

    @property
    def params(self):
        if self.d is None:
            raise ModelError("MultivariateNormal() learns d from the data at fit time; give "
                             "d=... to use it alone.")
        return {"mean": Real(shape=(self.d,)), "cov": CovMatrix(self.d)}

    def prepare(self, x, span=None):
        d = _dimension(self.name, "d", self.d, x, "dimensions")
        # finiteness is checked by the caller; singular scatter by closed_form, which knows
        # what is fixed
        return (self if self.d is not None else MultivariateNormal(d=d)), x

    def logpdf(self, x, p):
        chol = jnp.linalg.cholesky(p["cov"])
        z = jsl.solve_triangular(chol, (x - p["mean"]).T, lower=True)
        d = x.shape[-1]
        return (-0.5 * (d * LOG_2PI + jnp.sum(z * z, axis=0))
                - jnp.sum(jnp.log(jnp.diagonal(chol))))

    # stats: [n, mean (d), M2 (d*d, row-major)]
    def suffstats(self, x):
        mean, m2 = _scatter(x)
        return np.concatenate([[float(x.shape[0])], mean, m2.ravel()])

    def _unpack(self, s):
        d = self.d
        return s[0], s[1:1 + d], s[1 + d:].reshape(d, d)

    def loglik_stats(self, s, p):
        n, xbar, m2 = self._unpack(s)
        chol = jnp.linalg.cholesky(p["cov"])
        # tr(cov^-1 M2) = ||L^-1 M2^(1/2)||^2 without the root: tr(L^-1 (L^-1 M2)')
        w = jsl.solve_triangular(chol, m2, lower=True)
        trace = jnp.trace(jsl.solve_triangular(chol, w.T, lower=True))
        z = jsl.solve_triangular(chol, xbar - p["mean"], lower=True)
        logdet = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))
        return -0.5 * (n * (self.d * LOG_2PI + logdet + z @ z) + trace)

    def closed_form(self, stats, fixed):
        n, xbar, m2 = self._unpack(np.asarray(stats, dtype=float))
        n = int(round(n))
        out = {}
        if "mean" not in fixed:
            out["mean"] = np.asarray(xbar)
            mu, centred = xbar, True
        else:
            mu, centred = np.asarray(fixed["mean"], dtype=float), False
        if "cov" not in fixed:
            delta = xbar - mu
            scatter = m2 + n * np.outer(delta, delta)
            why = _singular_reason(scatter, n, centred)
            if why is not None:
                raise NoEstimate(
                    f"the MLE of {self.name} cov is singular: {why}, so the likelihood grows "
                    "without bound as cov degenerates",
                    "use more observations than dimensions, drop redundant columns, or fix cov "
                    "with fixed={...}")
            out["cov"] = np.asarray(scatter / n)
        return out

    def start(self, x):
        mean = x.mean(axis=0)
        cov = np.atleast_2d(np.cov(x, rowvar=False, bias=True))
        level = float(np.trace(cov)) / cov.shape[0]
        cov = cov + (1e-6 * level if level > 0 else 1.0) * np.eye(cov.shape[0])
        return {"mean": mean, "cov": cov}

    def mean(self, p):
        return jnp.asarray(p["mean"])

    def variance(self, p):
        return jnp.asarray(p["cov"])

    def sample(self, p, size, rng=None):
        return rng_of(rng).multivariate_normal(np.asarray(p["mean"], dtype=float),
                                               np.asarray(p["cov"], dtype=float), size,
                                               method="cholesky")

    def __repr__(self):
        return "MultivariateNormal()" if self.d is None else f"MultivariateNormal(d={self.d})"


# -- multinomial ------------------------------------------------------------------------------
def _first_bad(bad: np.ndarray) -> tuple[int, int]:
    i, j = np.unravel_index(int(np.argmax(bad)), bad.shape)
    return int(i), int(j)


@dataclass(frozen=True, repr=False)
class Multinomial(Family):
    r"""Multinomial over k categories: each row holds the counts of k categories in its
    :math:`m_i = \sum_j x_{ij}` trials,
    :math:`\log f = \log m_i! - \sum_j \log x_{ij}! + \sum_j x_{ij}\log p_j`.

    Parameter ``probs`` (the category probabilities), as in R's ``dmultinom(x, size, prob)``.
    The number of trials is known from each row (its total) and may differ between rows.
    Options: ``k`` (the number of categories; by default the data's columns) and ``size``:
    with ``size`` given every row must total ``size`` (checked), and :meth:`sample`,
    :meth:`mean` and :meth:`variance` describe rows of ``size`` trials (they need it).

    Sufficient statistics: the column totals :math:`T_j` and the sum of the log multinomial
    coefficients. Closed form :math:`\hat p_j = T_j / \sum_l T_l` (the pooled frequencies); a
    category never observed puts its probability's MLE on the boundary, 0: pinned there and
    reported with a ``boundary_estimate`` warning, as for the categorical. Start values (only
    with ``start=``): the frequencies with half a count added.
    """

    name = "multinomial"
    description = "counts of k categories in each row's trials (rows of an (n, k) array)"
    formula = "f(x) = (sum x)! / prod(x_j!) prod(probs_j^x_j)"
    kind = "multivariate"
    event_ndim = 1
    support = Support(lower=0.0, lower_open=False, integer=True)
    support_text = "vectors of k non-negative integer counts"
    PARAMS = {"probs": Simplex(2)}  # the declaration's form; the length k is set by the data
    sufficient = True
    k: int | None = None
    #: trials per row: checked against the data where given; needed by sample/mean/variance
    size: int | None = None
    #: categories never observed: their MLE is 0, pinned there (set by ``prepare``)
    empty: tuple[int, ...] = ()

    def __post_init__(self):
        _check_dimension("Multinomial", "k", self.k)
        if self.size is not None and (int(self.size) != self.size or self.size < 1):
            raise ModelError(f"Multinomial(size={self.size!r}) needs an integer number of "
                             "trials >= 1.")

    @property
    def params(self):
        if self.k is None:
            raise ModelError("Multinomial() learns k from the data at fit time; give k=... to "
                             "use it alone.")
        return {"probs": Simplex(self.k, zeros=self.empty)}

    def prepare(self, x, span=None):
        k = _dimension(self.name, "k", self.k, x, "categories (columns)")
        lo = float(x.min()) if span is None else span[0]
        if lo < 0 or np.any(x != np.round(x)):
            bad = (x < 0) | (x != np.round(x))
            i, j = _first_bad(bad)
            raise DataError(
                f"x[{i}, {j}] = {float(x[i, j])!r} (row {i}: {_row(x, i)}) is not a count; "
                f"multinomial rows hold non-negative integer counts ({int(bad.sum())} value(s) "
                "are not). Correct or drop those rows."
            )
        if self.size is not None:
            totals = x.sum(axis=1)
            off = totals != self.size
            if off.any():
                i = int(np.argmax(off))
                raise DataError(
                    f"row {i} of the data ({_row(x, i)}) totals {totals[i]:g} trials, not "
                    f"size={self.size}; {int(off.sum())} row(s) do. Leave size unset to take "
                    "each row's total as its number of trials."
                )
        counts = x.sum(axis=0)
        model = self if self.k is not None else Multinomial(k=k, size=self.size)
        if np.any(counts == 0):
            empty = tuple(np.flatnonzero(counts == 0).tolist())
            if len(empty) > k - 2:
                raise NoEstimate(
                    f"only category {int(np.argmax(counts))} of {k} is observed: the MLE puts "
                    "probability 1 on it, so no category probabilities can be estimated",
                    "check the data, or merge categories", model=model)
            raise BoundaryEstimate(
                f"categories {list(empty)} are never observed",
                model=Multinomial(k=k, size=self.size, empty=empty),
                elements=tuple(f"probs[{j}]" for j in empty))
        return model, x

    def logpdf(self, x, p):
        trials = jnp.sum(x, axis=-1)
        return (jss.gammaln(trials + 1) - jnp.sum(jss.gammaln(x + 1), axis=-1)
                + jnp.sum(jss.xlogy(x, p["probs"]), axis=-1))  # 0 log 0 = 0

    # stats: [column totals (k), sum of log multinomial coefficients]
    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s to import

        totals = np.zeros(x.shape[1])
        log_coef = 0.0
        for part in _blocks(x):
            totals += part.sum(axis=0)
            log_coef += float(gammaln(part.sum(axis=1) + 1).sum() - gammaln(part + 1).sum())
        return np.concatenate([totals, [log_coef]])

    def loglik_stats(self, s, p):
        return s[-1] + jnp.sum(jss.xlogy(s[:-1], p["probs"]))

    def closed_form(self, stats, fixed):
        totals = np.asarray(stats[:-1], dtype=float)
        return {"probs": np.asarray(totals / totals.sum())}

    def start(self, x):
        counts = x.sum(axis=0) + 0.5
        counts[list(self.empty)] = 0.0
        return {"probs": counts / counts.sum()}

    def boundary_interval(self, label, quantile, x):
        """As the categorical's, over all the trials T: [0, 1 - exp(-q / (2T))]."""
        return 0.0, -math.expm1(-quantile / (2.0 * float(np.sum(x))))

    def _trials(self, what: str) -> int:
        if self.size is None:
            raise ModelError(f"multinomial {what} needs the number of trials per row: build the "
                             "family with size=..., e.g. mk.Multinomial(size=10).")
        return int(self.size)

    def mean(self, p):
        return self._trials("mean") * jnp.asarray(p["probs"])

    def variance(self, p):
        probs = jnp.asarray(p["probs"])
        return self._trials("variance") * (jnp.diag(probs) - jnp.outer(probs, probs))

    def sample(self, p, size, rng=None):
        probs = np.asarray(p["probs"], dtype=float)
        return rng_of(rng).multinomial(self._trials("sampling"), probs / probs.sum(),
                                       size).astype(float)

    def __repr__(self):
        opts = [f"{k}={v}" for k, v in (("k", self.k), ("size", self.size)) if v is not None]
        return f"Multinomial({', '.join(opts)})"


# -- Dirichlet --------------------------------------------------------------------------------
def _dirichlet_moment_start(x: np.ndarray) -> np.ndarray:
    """Minka's moment estimate: alpha = m * s with m the mean row and the precision s from
    Var x_j = m_j (1 - m_j) / (s + 1), combined over the coordinates by a geometric mean (more
    stable than the first coordinate alone)."""
    m = x.mean(axis=0)
    v = x.var(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = m * (1 - m) / v - 1
    s = s[np.isfinite(s) & (s > 0)]
    precision = float(np.exp(np.mean(np.log(s)))) if s.size else 1.0
    return m * precision


@dataclass(frozen=True, repr=False)
class Dirichlet(Family):
    r"""Dirichlet over the open simplex of k proportions:
    :math:`\log f = \log\Gamma(\alpha_0) - \sum_j \log\Gamma(\alpha_j)
    + \sum_j (\alpha_j - 1)\log x_j`, :math:`\alpha_0 = \sum_j \alpha_j`.

    Parameter ``alpha`` (a k-vector of concentrations), as in R's ``DirichletReg::ddirichlet``
    and ``gtools::ddirichlet``. Rows must be positive and sum to 1 (within 1e-9, relative).

    Sufficient statistics: n and the column sums of :math:`\log x_j`; Newton runs on them (no
    closed form), from Minka's moment estimate :math:`\alpha = \bar x\, s` with the precision
    :math:`s` from :math:`\operatorname{Var} x_j = \bar x_j(1-\bar x_j)/(s+1)` (geometric mean
    over the coordinates). The MLE exists unless all rows are equal (Ronning 1989).
    """

    name = "dirichlet"
    description = "proportions: positive vectors summing to 1 (rows of an (n, k) array)"
    formula = ("f(x) = Gamma(sum alpha) / prod(Gamma(alpha_j)) prod(x_j^(alpha_j - 1))")
    kind = "multivariate"
    event_ndim = 1
    support = Support(lower=0.0, upper=1.0)
    support_text = "the open simplex: x_j > 0, sum x_j = 1"
    PARAMS = {"alpha": Positive(shape=(2,))}  # the declaration's form; k is set by the data
    sufficient = True
    k: int | None = None

    def __post_init__(self):
        _check_dimension("Dirichlet", "k", self.k)

    @property
    def params(self):
        if self.k is None:
            raise ModelError("Dirichlet() learns k from the data at fit time; give k=... to use "
                             "it alone.")
        return {"alpha": Positive(shape=(self.k,))}

    def prepare(self, x, span=None):
        k = _dimension(self.name, "k", self.k, x, "components (columns)")
        lo = float(x.min()) if span is None else span[0]
        if lo <= 0:
            bad = x <= 0
            i, j = _first_bad(bad)
            raise DataError(
                f"x[{i}, {j}] = {float(x[i, j])!r} (row {i}: {_row(x, i)}) is not positive; "
                f"Dirichlet rows lie on the open simplex (every proportion > 0); "
                f"{int(bad.any(axis=1).sum())} row(s) are outside it. Drop them, or replace "
                "zeros (e.g. add a small pseudo-count and renormalize)."
            )
        off_mask = np.zeros(x.shape[0], dtype=bool)
        for start, part in zip(range(0, x.shape[0], BLOCK), _blocks(x), strict=True):
            off_mask[start:start + part.shape[0]] = np.abs(part.sum(axis=1) - 1) > SIMPLEX_TOL
        if off_mask.any():
            i = int(np.argmax(off_mask))
            raise DataError(
                f"row {i} of the data ({_row(x, i)}) sums to {float(x[i].sum())!r}, not 1; "
                f"Dirichlet rows are proportions summing to 1 (within {SIMPLEX_TOL:g}); "
                f"{int(off_mask.sum())} row(s) are off the simplex. Normalize each row, "
                "x / x.sum(axis=1, keepdims=True)."
            )
        if not np.any(x != x[0]):
            raise NoEstimate(
                f"all {x.shape[0]} rows equal {_row(x, 0)}: the Dirichlet likelihood grows "
                "without bound as alpha -> infinity along that mean, so no maximum likelihood "
                "estimate exists",
                "check the data (rows that differ make alpha estimable), or fix alpha with "
                "fixed={...}", model=self if self.k is not None else Dirichlet(k=k))
        return (self if self.k is not None else Dirichlet(k=k)), x

    def logpdf(self, x, p):
        a = p["alpha"]
        norm = jss.gammaln(jnp.sum(a)) - jnp.sum(jss.gammaln(a))
        return norm + jnp.sum((a - 1) * jnp.log(x), axis=-1)

    # stats: [n, sum_i log x_i1, ..., sum_i log x_ik]
    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        logs = np.zeros(x.shape[1])
        for part in _blocks(x):
            logs += np.log(part).sum(axis=0)
        return np.concatenate([[float(x.shape[0])], logs])

    def loglik_stats(self, s, p):
        a = p["alpha"]
        norm = jss.gammaln(jnp.sum(a)) - jnp.sum(jss.gammaln(a))
        return s[0] * norm + jnp.sum((a - 1) * s[1:])

    def start(self, x):
        return {"alpha": _dirichlet_moment_start(x)}

    def mean(self, p):
        a = jnp.asarray(p["alpha"])
        return a / jnp.sum(a)

    def variance(self, p):
        a = jnp.asarray(p["alpha"])
        m = a / jnp.sum(a)
        return (jnp.diag(m) - jnp.outer(m, m)) / (jnp.sum(a) + 1)

    def sample(self, p, size, rng=None):
        return rng_of(rng).dirichlet(np.asarray(p["alpha"], dtype=float), size)

    def __repr__(self):
        return "Dirichlet()" if self.k is None else f"Dirichlet(k={self.k})"


CATALOGUE = (MultivariateNormal, Multinomial, Dirichlet)
