"""Count families beyond the Poisson: binomial (known size), geometric, negative binomial, and
the zero-inflated Poisson and negative binomial. Parameter names follow R's d* functions
(``dbinom(size=, prob=)``, ``dgeom(prob=)``, ``dnbinom(size=, mu=)``); R has no base density
for the zero-inflated families, whose extra-zero probability is ``pi`` (VGAM's ``pstr0``).

Where the MLE does not exist for a sample (it sits on the boundary of the parameter space, or
runs off to infinity), the family says so to the engine: an estimate on the boundary is
reported with a ``boundary_estimate`` warning, one at infinity as a fit without an estimate
(an ``error`` diagnostic naming the family that fits instead); the exact conditions are in
each class's docstring.

The distribution functions are incomplete beta / gamma functions, computed in log space for
both tails at once by :mod:`.logspecial`: for the beta function the argument passed is the
smaller of x and 1 - x (each computed directly from the parameters), so neither tail is ever
lost to rounding of 1 - x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .._data import summed
from .._errors import BoundaryEstimate, ModelError, NoEstimate
from .._model import Support, data_range
from .._params import Positive, UnitInterval
from .base import (
    Family,
    count_table,
    log1mexp,
    merge_moments,
    moments,
    plain,
    rng_of,
    sum_of,
)
from .discrete import COUNTS, _boundary_error
from .logspecial import log_beta_cdf_sf, log_gamma_p_q

#: binomial sizes up to this reduce the data through one frequency table (bincount)
MAX_TABLE = 1 << 20


def _beta_tails(a, b, p, q):
    """(log I_p(a, b), log(1 - I_p(a, b))) with q = 1 - p given exactly: the expansion is
    evaluated at the smaller of p and q (1 - I_p(a, b) = I_q(b, a)), so both are exact."""
    small = p <= 0.5
    lower, upper = log_beta_cdf_sf(jnp.where(small, a, b), jnp.where(small, b, a),
                                   jnp.where(small, p, q))
    return jnp.where(small, lower, upper), jnp.where(small, upper, lower)


def _counts_below(x, lo, hi):
    """k = floor(x) clipped to [lo, hi] (the double-where: outside it the caller answers with
    the exact 0 / 1, and the special functions see harmless arguments)."""
    return jnp.clip(jnp.floor(x), lo, hi)


def _poisson_tails(k, lam):
    """(log P(X <= k), log P(X > k)) for X ~ Poisson(lam), k >= 0:
    P(X <= k) = Q(k + 1, lam), P(X > k) = P(k + 1, lam)."""
    log_p, log_q = log_gamma_p_q(k + 1.0, lam)
    return log_q, log_p


def _nbinom_tails(k, size, mu):
    """(log P(X <= k), log P(X > k)) for X ~ NB(size, mu), k >= 0: P(X <= k) = I_p(size, k+1)
    with p = size/(size+mu)."""
    p, q = size / (size + mu), mu / (size + mu)
    return _beta_tails(size, k + 1.0, p, q)


def _nbinom_log_p0(size, mu):
    """log P(X = 0) = size log(size/(size+mu)) = -size log1p(mu/size) (-> -mu as size -> inf)."""
    return -size * jnp.log1p(mu / size)


def _nbinom_logpmf(x, size, mu):
    return (jss.gammaln(x + size) - jss.gammaln(size) - jss.gammaln(x + 1)
            + _nbinom_log_p0(size, mu) + x * (jnp.log(mu) - jnp.log(size + mu)))


def _outside(x, logcdf, logsf):
    """Below 0 the CDF is 0 and the survival 1."""
    below = x < 0
    return jnp.where(below, -jnp.inf, logcdf), jnp.where(below, 0.0, logsf)


def _inflate(x, pi, log_cdf, log_sf):
    """Tails of the zero-inflated mixture from the count part's: for k >= 0,
    P(X <= k) = pi + (1 - pi) F(k) and P(X > k) = (1 - pi) S(k)."""
    return _outside(x, jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + log_cdf),
                    jnp.log1p(-pi) + log_sf)


def _no_inflation_error(why: str) -> BoundaryEstimate:
    """No excess of zeros: the extra-zero probability's MLE is 0."""
    return BoundaryEstimate(why, held={"pi": 0.0})


def _all_zero_error(family: str, limit: str) -> NoEstimate:
    return NoEstimate(
        f"all observations are 0: {family} puts all its mass on 0 only in the limit {limit}, "
        "so no maximum likelihood estimate exists",
        "check the data; counts that are all 0 estimate only P(0) = 1", loglik=0.0)


class _FromTails:
    """logcdf and logsf from one ``_tails(x, p) -> (log F, log S)``, which computes both from
    the same incomplete beta / gamma evaluation."""

    def logcdf(self, x, p):
        return self._tails(x, p)[0]

    def logsf(self, x, p):
        return self._tails(x, p)[1]

    def log_tails(self, x, p):
        return self._tails(x, p)


@dataclass(frozen=True, repr=False)
class Binomial(_FromTails, Family):
    r"""Binomial with a known number of trials ``size``:
    :math:`f(x) = \binom{n}{x} p^x (1-p)^{n-x}`, x = 0..n, as R's ``dbinom(x, size, prob)``.

    Parameters
    ----------
    size : int
        The number of trials n (known, not estimated): a positive integer.

    Notes
    -----
    Exponential family with sufficient statistics :math:`(n_{obs}, \sum x, \sum\log\binom{n}{x})`
    (one frequency table of the data). Closed form :math:`\hat p = \sum x / (n_{obs}\, n)`,
    also the start value. Data all 0 or all ``size`` put the MLE on the boundary (0 or 1):
    reported there with a ``boundary_estimate`` warning, as for the Bernoulli.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Binomial(size=10), [3, 5, 4, 6])
    >>> round(fit.params["prob"], 12)  # 18 successes in 4 x 10 trials
    0.45
    """

    name = "binomial"
    stats_prove_support = True  # from the frequency table: see proven_stats
    kind = "discrete"
    description = "successes in a known number of trials (size)"
    formula = "P(x) = C(size, x) prob^x (1-prob)^(size-x)"
    support_text = "integers 0..size"
    PARAMS = {"prob": UnitInterval()}
    sufficient = True
    size: int

    def __post_init__(self):
        s = self.size
        ok = (isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool)
              and math.isfinite(s) and s == int(s) and s >= 1)
        if not ok:
            raise ModelError(
                f"Binomial(size={s!r}): size is the known number of trials, a positive integer, "
                "e.g. Binomial(size=10)."
            )
        object.__setattr__(self, "size", int(s))  # 10.0 and 10 are the same family

    @property
    def support(self):
        return Support(lower=0.0, upper=float(self.size), lower_open=False, upper_open=False,
                       integer=True)

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        lo, hi = data_range(x, span)
        if lo == hi and lo in (0.0, self.size):
            raise _boundary_error("prob", 1.0 if lo == self.size else 0.0,
                                  f"all observations are {lo:g}")
        return model, x

    def logpdf(self, x, p):
        n, prob = self.size, p["prob"]
        return (jss.gammaln(n + 1.0) - jss.gammaln(x + 1) - jss.gammaln(n - x + 1)
                + jss.xlogy(x, prob) + jss.xlog1py(n - x, -prob))

    def _tails(self, x, p):
        # P(X > k) = I_p(k + 1, n - k); k = n answered exactly below
        n, prob = self.size, p["prob"]
        k = _counts_below(x, 0.0, n - 1.0)
        log_sf, log_cdf = _beta_tails(k + 1.0, n - k, prob, 1.0 - prob)
        top = jnp.floor(x) >= n
        return _outside(x, jnp.where(top, 0.0, log_cdf), jnp.where(top, -jnp.inf, log_sf))

    def mean(self, p):
        return self.size * p["prob"]

    def variance(self, p):
        return self.size * p["prob"] * (1 - p["prob"])

    def sample(self, params, size, rng=None):
        return rng_of(rng).binomial(self.size, plain(params)["prob"], size).astype(float)

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s to import

        n = self.size
        counts = count_table(x) if n <= MAX_TABLE else None
        if counts is not None:  # sum_k count_k log C(n, k): n + 1 gammaln calls, not 2 per point
            return self._from_counts(counts)

        def log_factorials(part, out):
            gammaln(part + 1, out=out)
            out += gammaln(n - part + 1)
            return out

        total = x.shape[0] * float(gammaln(n + 1.0)) - sum_of(log_factorials, x)
        return np.array([float(x.shape[0]), float(x.sum()), total])

    def proven_stats(self, x):
        counts = count_table(x) if self.size <= MAX_TABLE else None
        # counts 0..size, not all 0 and not all size (prepare's rules)
        if (counts is None or counts.shape[0] > self.size + 1 or counts[0] == counts.sum()
                or (counts.shape[0] == self.size + 1 and counts[-1] == counts.sum())):
            return None
        return self._from_counts(counts)

    def _from_counts(self, counts):
        from scipy.special import gammaln

        n = self.size
        counts = np.pad(counts, (0, max(0, n + 1 - counts.shape[0])))[: n + 1]
        k = np.arange(n + 1, dtype=float)
        log_choose = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
        return np.array([float(counts.sum()), float(counts @ k), float(counts @ log_choose)])

    def loglik_stats(self, s, p):
        prob = p["prob"]
        return jss.xlogy(s[1], prob) + jss.xlog1py(s[0] * self.size - s[1], -prob) + s[2]

    def closed_form(self, stats, fixed):
        return {"prob": np.asarray(stats[1] / (stats[0] * self.size))}

    def start(self, x):
        return {"prob": np.asarray(np.clip(np.mean(x) / self.size, 1e-6, 1 - 1e-6))}

    def __repr__(self):
        return f"Binomial(size={self.size})"


@dataclass(frozen=True, repr=False)
class Geometric(Family):
    r"""Geometric: the number of failures before the first success,
    :math:`f(x) = p (1-p)^x`, x = 0, 1, 2, ..., as R's ``dgeom(x, prob)`` (scipy's ``geom``
    counts trials instead: ``geom(prob, loc=-1)``).

    Exponential family with sufficient statistics :math:`(n, \sum x)`; closed form
    :math:`\hat p = 1/(1 + \bar x)`, also the start value. All-zero data put the MLE on the
    boundary (prob = 1), reported with a ``boundary_estimate`` warning. Mean (1-p)/p,
    variance (1-p)/p^2; the survival function :math:`(1-p)^{x+1}` is exact in log space.
    """

    name = "geometric"
    stats_prove_support = True  # from the frequency table: see proven_stats
    kind = "discrete"
    description = "failures before the first success; 0, 1, 2, ..."
    formula = "P(x) = prob (1-prob)^x"
    support = COUNTS
    PARAMS = {"prob": UnitInterval()}
    sufficient = True

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        if data_range(x, span)[1] == 0:
            raise _boundary_error("prob", 1.0, "all observations are 0")
        return model, x

    def logpdf(self, x, p):
        return jnp.log(p["prob"]) + jss.xlog1py(x, -p["prob"])

    def logcdf(self, x, p):
        return jnp.where(x < 0, -jnp.inf, log1mexp(self._logsf(x, p)))

    def logsf(self, x, p):
        return jnp.where(x < 0, 0.0, self._logsf(x, p))

    def _logsf(self, x, p):  # log (1 - prob)^(k + 1), k >= 0
        return (_counts_below(x, 0.0, jnp.inf) + 1.0) * jnp.log1p(-p["prob"])

    def mean(self, p):
        return (1 - p["prob"]) / p["prob"]

    def variance(self, p):
        return (1 - p["prob"]) / p["prob"] ** 2

    def sample(self, params, size, rng=None):
        return rng_of(rng).geometric(plain(params)["prob"], size).astype(float) - 1.0

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x.sum())])

    def proven_stats(self, x):
        counts = count_table(x)  # proves the data are counts; not all 0 (prepare's rule)
        if counts is None or counts.shape[0] < 2:
            return None
        return np.array([float(counts.sum()), float(counts @ np.arange(counts.shape[0]))])

    def loglik_stats(self, s, p):
        return s[0] * jnp.log(p["prob"]) + jss.xlog1py(s[1], -p["prob"])

    def closed_form(self, stats, fixed):
        return {"prob": np.asarray(stats[0] / (stats[0] + stats[1]))}

    def start(self, x):
        return {"prob": np.asarray(np.clip(1.0 / (1.0 + np.mean(x)), 1e-6, 1 - 1e-6))}


def _check_overdispersed(x) -> tuple[float, float]:
    """(mean, variance with divisor n); NoEstimate where no finite MLE of size exists. (``x``
    in memory, or a partitioned dataset's: its partitions' moments, merged.)"""
    from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s

    n, mean, m2 = merge_moments(summed(x, lambda rows: [moments(rows)]))
    var = m2 / n
    if mean == 0:
        raise _all_zero_error("negative_binomial", "mu -> 0")
    if not var > mean:
        log_factorials = float(summed(x, lambda rows: gammaln(rows + 1.0).sum()))
        poisson = float(n * (mean * np.log(mean) - mean) - log_factorials)
        raise NoEstimate(
            f"the sample variance {var:.6g} (divisor n) does not exceed the sample mean "
            f"{mean:.6g}: the data are not over-dispersed, so the negative_binomial likelihood "
            "increases all the way to size -> infinity (the Poisson limit) and no finite MLE "
            "of size exists (it exists exactly when the variance exceeds the mean)",
            f"fit mk.Poisson() instead (its MLE is lambda = the mean, {mean:.6g})",
            code="estimate_at_infinity", loglik=poisson)
    return mean, var


@dataclass(frozen=True, repr=False)
class NegativeBinomial(_FromTails, Family):
    r"""Negative binomial in R's mean parametrization ``dnbinom(x, size, mu=)``:
    :math:`f(x) = \frac{\Gamma(x+k)}{\Gamma(k)\,x!}
    \left(\frac{k}{k+\mu}\right)^k \left(\frac{\mu}{k+\mu}\right)^x`, x = 0, 1, 2, ...,
    with k = ``size``, mean :math:`\mu` and variance :math:`\mu + \mu^2/k` (a gamma mixture
    of Poissons; scipy's ``nbinom(n=size, p=size/(size+mu))``).

    The MLE of ``mu`` is the sample mean; the MLE of ``size`` exists, and is unique, exactly when
    the sample variance (divisor n) exceeds the sample mean (Aragon, Eberly & Eberly 1992).
    Data that are not over-dispersed have no finite MLE of ``size`` (the likelihood increases
    up to the Poisson limit ``size -> infinity``): the fit reports no estimate (code
    ``estimate_at_infinity``, naming the mean and variance and pointing to :class:`Poisson`,
    with the Poisson's log-likelihood, the supremum), rather than let Newton wander
    off towards infinity (where a tiny score and curvature could pass for convergence). The
    check runs before ``fixed`` is known, so it refuses such data even with ``size`` fixed
    (where the MLE of ``mu`` would be the sample mean).

    Start values: the method of moments, ``mu`` = mean and ``size`` = mean^2/(var - mean).
    """

    name = "negative_binomial"
    kind = "discrete"
    description = "over-dispersed counts (gamma-Poisson mixture)"
    formula = ("P(x) = Gamma(x+size) / (Gamma(size) x!) (size/(size+mu))^size "
               "(mu/(size+mu))^x")
    support = COUNTS
    PARAMS = {"size": Positive(), "mu": Positive()}
    min_n = 2

    def check_existence(self, x, fixed, stats):
        if "size" not in fixed:  # with the size known, the MLE of mu (the mean) always exists
            _check_overdispersed(x)
        elif not summed(x, lambda rows: bool(np.any(rows))):
            raise _all_zero_error(self.name, "mu -> 0")

    def logpdf(self, x, p):
        return _nbinom_logpmf(x, p["size"], p["mu"])

    def _tails(self, x, p):
        k = _counts_below(x, 0.0, jnp.inf)
        return _outside(x, *_nbinom_tails(k, p["size"], p["mu"]))

    def mean(self, p):
        return p["mu"]

    def variance(self, p):
        return p["mu"] + p["mu"] ** 2 / p["size"]

    def sample(self, params, size, rng=None):
        p = plain(params)
        k, mu = p["size"], p["mu"]
        return rng_of(rng).negative_binomial(k, k / (k + mu), size).astype(float)

    def start(self, x):
        n, mean, m2 = moments(x)
        mean = max(mean, 1e-8)
        excess = m2 / n - mean
        size = mean * mean / excess if excess > 1e-8 * mean else 1e8
        return {"size": np.asarray(size), "mu": np.asarray(mean)}


def _truncated_poisson_lambda(mean_positive: float, steps: int = 60) -> float:
    """The root of lambda / (1 - exp(-lambda)) = mean_positive (> 1), the mean of a Poisson
    conditioned on x > 0. The left side g is increasing and convex, so Newton from
    lambda = mean_positive (where g >= mean_positive) descends monotonically to the root."""
    lam = mean_positive
    for _ in range(steps):
        one_minus = -math.expm1(-lam)
        g = lam / one_minus
        dg = (one_minus - lam * math.exp(-lam)) / one_minus**2
        step = (g - mean_positive) / dg
        lam -= step
        if abs(step) <= 4e-16 * lam:
            break
    return lam


def _zeros_and_mean(x: np.ndarray) -> tuple[int, float]:
    return int(np.count_nonzero(x == 0)), float(np.mean(x))


@dataclass(frozen=True, repr=False)
class ZeroInflatedPoisson(_FromTails, Family):
    r"""Zero-inflated Poisson: a structural zero with probability :math:`\pi`, else a
    Poisson(:math:`\lambda`) count:
    :math:`P(0) = \pi + (1-\pi)e^{-\lambda}`,
    :math:`P(x) = (1-\pi)\, e^{-\lambda}\lambda^x/x!` for x > 0.

    An exponential family in (pi, lambda) with sufficient statistics
    :math:`(n, n_0, \sum x, \sum\log x!)`. The MLE: :math:`\hat\lambda` solves
    :math:`\hat\lambda / (1 - e^{-\hat\lambda}) = \bar x_+` (the mean of the positive counts;
    Newton, in closed form up to that one root) and :math:`\hat\pi = 1 - \bar x/\hat\lambda`.
    It is interior exactly when the fraction of zeros exceeds the Poisson's
    :math:`e^{-\bar x}`; otherwise (no zeros, or no excess of them) :math:`\hat\pi = 0`, on
    the boundary: reported with a ``boundary_estimate`` warning (lambda is then the Poisson
    MLE, the mean). The
    start values (with a parameter fixed) are the same solution.
    """

    name = "zero_inflated_poisson"
    stats_prove_support = True  # from the frequency table: see proven_stats
    kind = "discrete"
    description = "counts with extra zeros (Poisson part)"
    formula = ("P(0) = pi + (1-pi) exp(-lambda); "
               "P(x) = (1-pi) lambda^x exp(-lambda) / x! for x > 0")
    support = COUNTS
    PARAMS = {"pi": UnitInterval(), "lambda": Positive()}
    min_n = 2
    sufficient = True

    def check_existence(self, x, fixed, stats):
        if stats is None:
            stats = summed(x, self.suffstats)
        n, zeros, mean = float(stats[0]), float(stats[1]), float(stats[2] / stats[0])
        if zeros == n:
            raise _all_zero_error(self.name, "pi -> 1 or lambda -> 0")
        if "pi" in fixed:  # only the Poisson part is estimated: it exists unless all are 0
            return
        if zeros == 0:
            raise _no_inflation_error("no observation is 0")
        # pi's MLE is interior exactly when the zeros exceed the Poisson's share exp(-lambda)
        lam = float(fixed["lambda"]) if "lambda" in fixed else mean
        if not zeros / n > math.exp(-lam):
            what = "the fixed lambda's" if "lambda" in fixed else "the Poisson's exp(-mean) ="
            raise _no_inflation_error(
                f"the fraction of zeros, {zeros / n:.6g}, does not exceed "
                f"{what} {math.exp(-lam):.6g}")

    def logpdf(self, x, p):
        pi, lam = p["pi"], p["lambda"]
        zero = jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) - lam)
        return jnp.where(x == 0, zero,
                         jnp.log1p(-pi) + x * jnp.log(lam) - lam - jss.gammaln(x + 1))

    def _tails(self, x, p):
        k = _counts_below(x, 0.0, jnp.inf)
        return _inflate(x, p["pi"], *_poisson_tails(k, p["lambda"]))

    def mean(self, p):
        return (1 - p["pi"]) * p["lambda"]

    def variance(self, p):
        return (1 - p["pi"]) * p["lambda"] * (1 + p["pi"] * p["lambda"])

    def sample(self, params, size, rng=None):
        p, rng = plain(params), rng_of(rng)
        counts = rng.poisson(p["lambda"], size).astype(float)
        return np.where(rng.random(size) < p["pi"], 0.0, counts)

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s to import

        counts = count_table(x)
        if counts is not None:  # a frequency table: a few gammaln calls instead of n
            return self._from_counts(counts)
        log_factorials = sum_of(lambda part, out: gammaln(part + 1, out=out), x)
        return np.array([float(x.shape[0]), float(np.count_nonzero(x == 0)), float(x.sum()),
                         log_factorials])

    def proven_stats(self, x):
        counts = count_table(x)  # proves the counts (check_existence reads the rest from them)
        if counts is None:
            return None
        return self._from_counts(counts)

    @staticmethod
    def _from_counts(counts):
        from scipy.special import gammaln

        k = np.arange(counts.shape[0], dtype=float)
        return np.array([float(counts.sum()), float(counts[0]), float(counts @ k),
                         float(counts @ gammaln(k + 1))])

    def loglik_stats(self, s, p):
        pi, lam = p["pi"], p["lambda"]
        n, n0, total, log_factorials = s[0], s[1], s[2], s[3]
        zero = jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) - lam)
        return (n0 * zero + (n - n0) * (jnp.log1p(-pi) - lam) + total * jnp.log(lam)
                - log_factorials)

    def closed_form(self, stats, fixed):
        n, n0, total = (float(v) for v in stats[:3])
        if "pi" in fixed or n0 in (0.0, n):
            return None
        if "lambda" in fixed:  # pi + (1 - pi) e^-lambda = n0 / n
            e = math.exp(-float(fixed["lambda"]))
            pi = (n0 / n - e) / (1 - e)
            return {"pi": np.asarray(pi)} if 0 < pi < 1 else None
        mean_positive = total / (n - n0)
        if not mean_positive > 1:
            return None
        lam = _truncated_poisson_lambda(mean_positive)
        pi = 1 - total / n / lam
        return {"pi": np.asarray(pi), "lambda": np.asarray(lam)} if 0 < pi < 1 else None

    def start(self, x):
        n = x.shape[0]
        zeros, mean = _zeros_and_mean(x)
        positive = n - zeros
        mean_positive = float(np.sum(x)) / positive if positive else 1.0
        lam = _truncated_poisson_lambda(mean_positive, 8) if mean_positive > 1 else 1e-3
        pi = float(np.clip(1 - mean / lam, 0.01, 0.99))
        return {"pi": np.asarray(pi), "lambda": np.asarray(max(lam, 1e-3))}


def _zinb_moments_start(x: np.ndarray) -> dict:
    """Moment-type start for the ZINB: for a trial pi, the negative binomial part has mean
    m1/(1-pi) and second moment m2/(1-pi) (m1, m2 the raw sample moments), which fix mu and
    size; pi is then the trial value (on a grid) that best reproduces the observed fraction
    of zeros, pi + (1-pi) P_NB(0) = f0."""
    m1, m2 = float(np.mean(x)), float(np.mean(x * x))
    f0 = float(np.mean(x == 0))
    best = None
    for pi in f0 * np.linspace(0.02, 0.98, 49):
        mu = m1 / (1 - pi)
        excess = m2 / (1 - pi) - mu * mu - mu
        size = mu * mu / excess if excess > 1e-8 * mu else 1e8
        p0 = math.exp(-size * math.log1p(mu / size))
        miss = abs(pi + (1 - pi) * p0 - f0)
        if best is None or miss < best[0]:
            best = (miss, pi, size, mu)
    _, pi, size, mu = best
    return {"pi": np.asarray(pi), "size": np.asarray(size), "mu": np.asarray(mu)}


@dataclass(frozen=True, repr=False)
class ZeroInflatedNegativeBinomial(_FromTails, Family):
    r"""Zero-inflated negative binomial: a structural zero with probability :math:`\pi`, else
    a negative binomial count with ``size`` k and mean :math:`\mu` (as
    :class:`NegativeBinomial`): :math:`P(0) = \pi + (1-\pi)(k/(k+\mu))^k`,
    :math:`P(x) = (1-\pi) f_{NB}(x)` for x > 0.

    Not an exponential family. Start values: a moment-type estimate, matching the sample
    mean, the second moment and the fraction of zeros (pi on a grid, then mu and size by
    moments given pi). Data without zeros put :math:`\hat\pi` on the boundary 0 (reported
    there with a ``boundary_estimate`` warning); all-zero data have no MLE.

    Other samples can have their maximum on a boundary too, which no cheap check detects
    exactly: zeros no more frequent than the fitted negative binomial predicts give
    :math:`\hat\pi \to 0` (the fit returns pi ~ 1e-14 with an ``ill_conditioned`` warning and
    the negative binomial's log-likelihood: compare the two by AIC), and positive counts that
    are not over-dispersed send size to infinity (the zero-inflated Poisson; the fit stalls
    and says so).
    """

    name = "zero_inflated_negative_binomial"
    kind = "discrete"
    description = "over-dispersed counts with extra zeros"
    formula = ("P(0) = pi + (1-pi) (size/(size+mu))^size; "
               "P(x) = (1-pi) NB(x; size, mu) for x > 0")
    support = COUNTS
    PARAMS = {"pi": UnitInterval(), "size": Positive(), "mu": Positive()}
    min_n = 3

    def check_existence(self, x, fixed, stats):
        zeros = int(np.count_nonzero(x == 0))
        if zeros == x.shape[0]:
            raise _all_zero_error(self.name, "pi -> 1 or mu -> 0")
        if zeros == 0 and "pi" not in fixed:
            raise _no_inflation_error("no observation is 0")

    def logpdf(self, x, p):
        pi, size, mu = p["pi"], p["size"], p["mu"]
        zero = jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + _nbinom_log_p0(size, mu))
        return jnp.where(x == 0, zero, jnp.log1p(-pi) + _nbinom_logpmf(x, size, mu))

    def _tails(self, x, p):
        k = _counts_below(x, 0.0, jnp.inf)
        return _inflate(x, p["pi"], *_nbinom_tails(k, p["size"], p["mu"]))

    def mean(self, p):
        return (1 - p["pi"]) * p["mu"]

    def variance(self, p):
        pi, size, mu = p["pi"], p["size"], p["mu"]
        return (1 - pi) * mu * (1 + mu / size + pi * mu)

    def sample(self, params, size, rng=None):
        p, rng = plain(params), rng_of(rng)
        k, mu = p["size"], p["mu"]
        counts = rng.negative_binomial(k, k / (k + mu), size).astype(float)
        return np.where(rng.random(size) < p["pi"], 0.0, counts)

    def start(self, x):
        return _zinb_moments_start(x)


CATALOGUE = (Binomial, Geometric, NegativeBinomial, ZeroInflatedPoisson,
             ZeroInflatedNegativeBinomial)
