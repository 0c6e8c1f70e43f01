"""Continuous families. Parameter names follow R's d* functions (see DESIGN.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from numpy import euler_gamma as EULER_GAMMA

from .._heads import constructor
from .._model import Support, data_range
from .._params import Positive, Real
from .base import (
    Family,
    gaussian_closed_form,
    gaussian_loglik,
    log1mexp,
    merge_moments,
    moments,
    plain,
    rng_of,
    sum_and_min,
    sum_of,
)
from .logspecial import log_gamma_p_q
from .tails import log1mexp_neg_exp, log_student_t_cdf_sf, where_positive

POSITIVE_REALS = Support(lower=0.0)
NONNEGATIVE_REALS = Support(lower=0.0, lower_open=False)
LOG_2PI = math.log(2 * math.pi)


def _scale_start(x: np.ndarray) -> float:
    """A positive spread for start values: the IQR-based sd, else the sd."""
    q1, q3 = np.percentile(x, [25, 75])
    s = (q3 - q1) / 1.349
    return float(s if s > 0 else max(np.std(x), 1e-8))


@dataclass(frozen=True, repr=False)
class Normal(Family):
    r"""Normal: :math:`\log f = -\tfrac12\log(2\pi\sigma^2) - (x-\mu)^2/(2\sigma^2)`.

    Closed form: :math:`\hat\mu = \bar x`, :math:`\hat\sigma^2 = \sum (x-\bar x)^2 / n`
    (the biased variance); with a parameter fixed, the closed form of the other. Start values,
    used only with ``start=``-less Newton from elsewhere: the sample mean and sd. Parameters
    ``mean``, ``sd`` as in R's ``dnorm``. Log-CDF and log-survival by ``log_ndtr``, accurate in
    both far tails.

    Examples
    --------
    >>> import mlekit as mk
    >>> round(mk.fit(mk.Normal(), [1.0, 2.0, 4.0]).params["sd"] ** 2, 12)  # 14/9, not 14/6
    1.555555555556
    """

    name = "normal"
    from_mean = constructor(
        "normal_mean", "y ~ Normal(fn(inputs, params), sd): sd estimated (its MLE: the mean "
        "squared residual) or fixed with sd=... (see mlekit._heads).")
    from_mean_sd = constructor(
        "normal_mean_sd", "y ~ Normal(mean, sd) with (mean, sd) = fn(inputs, params), sd > 0 "
        "(see mlekit._heads).")
    description = "Gaussian on the real line"
    formula = "f(x) = exp(-(x-mean)^2 / (2 sd^2)) / (sd sqrt(2 pi))"
    PARAMS = {"mean": Real(), "sd": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # finite sums of x and x^2 prove every x finite

    def logpdf(self, x, p):
        z = (x - p["mean"]) / p["sd"]
        return -0.5 * LOG_2PI - jnp.log(p["sd"]) - 0.5 * z * z

    def suffstats(self, x):
        return moments(x)

    def merge_stats(self, parts):
        return merge_moments(parts)

    def loglik_stats(self, s, p):
        return gaussian_loglik(s, p["mean"], p["sd"])

    def closed_form(self, stats, fixed):
        return gaussian_closed_form(stats, fixed, "mean", "sd")

    def start(self, x):
        return {"mean": np.asarray(np.mean(x)), "sd": np.asarray(np.std(x))}

    def logcdf(self, x, p):
        return jss.log_ndtr((x - p["mean"]) / p["sd"])

    def logsf(self, x, p):
        return jss.log_ndtr((p["mean"] - x) / p["sd"])

    def expected_information(self, p):
        return np.diag([1.0, 2.0]) / float(p["sd"]) ** 2

    def notes(self, params, n, fixed):
        """Below 50 observations (a bias above 2%), the summary shows the unbiased variance
        beside the MLE: with the mean estimated, E[sd^2] = (n-1)/n sigma^2."""
        from .._diagnostics import Diagnostic

        if "mean" in fixed or "sd" in fixed or n >= 50:
            return ()
        sd = float(params["sd"])
        unbiased = sd * sd * n / (n - 1)
        return (Diagnostic(
            "biased_variance", "note",
            f"sd = {sd:.6g} is the MLE, sqrt(sum (x - mean)^2 / n): it divides by n, so sd^2 "
            f"underestimates the variance by the factor (n-1)/n = {(n - 1) / n:.4g}; the "
            f"unbiased variance n/(n-1) sd^2 = {unbiased:.6g} (its square root "
            f"{math.sqrt(unbiased):.6g}) is shown for comparison and is not the MLE",
            "report the MLE with a likelihood interval (conf_int(method='profile')); use the "
            "unbiased variance n/(n-1) sd^2 where an unbiased estimate is required"),)

    def mean(self, p):
        return jnp.asarray(p["mean"], float)

    def variance(self, p):
        return jnp.asarray(p["sd"], float) ** 2

    def sample(self, p, size, rng=None):
        p = plain(p)
        return rng_of(rng).normal(p["mean"], p["sd"], size)


@dataclass(frozen=True, repr=False)
class LogNormal(Family):
    r"""Log-normal: :math:`\log x \sim N(\mu, \sigma^2)`,
    :math:`\log f = \log\phi((\log x-\mu)/\sigma) - \log\sigma - \log x`.

    Closed form on ``log x`` with the biased variance (also with one parameter fixed).
    Start values: mean and sd of ``log x``. Parameters ``meanlog``, ``sdlog`` as in R's
    ``dlnorm``. Log-CDF and log-survival: ``log_ndtr`` of the standardized ``log x``.
    """

    name = "lognormal"
    description = "log of the data is Gaussian; x > 0"
    formula = "f(x) = exp(-(log x - meanlog)^2 / (2 sdlog^2)) / (x sdlog sqrt(2 pi))"
    support = POSITIVE_REALS
    PARAMS = {"meanlog": Real(), "sdlog": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        lx = jnp.log(x)
        z = (lx - p["meanlog"]) / p["sdlog"]
        return -0.5 * LOG_2PI - jnp.log(p["sdlog"]) - 0.5 * z * z - lx

    def suffstats(self, x):
        return moments(np.log(x))

    def merge_stats(self, parts):
        return merge_moments(parts)

    def loglik_stats(self, s, p):
        # the Jacobian term -sum(log x) equals -n * mean(log x)
        return gaussian_loglik(s, p["meanlog"], p["sdlog"]) - s[0] * s[1]

    def closed_form(self, stats, fixed):
        return gaussian_closed_form(stats, fixed, "meanlog", "sdlog")

    def start(self, x):
        lx = np.log(x)
        return {"meanlog": np.asarray(lx.mean()), "sdlog": np.asarray(lx.std())}

    def _z(self, x, p):
        return (jnp.log(x) - p["meanlog"]) / p["sdlog"]

    def logcdf(self, x, p):
        return where_positive(x, lambda v: jss.log_ndtr(self._z(v, p)), -jnp.inf)

    def logsf(self, x, p):
        return where_positive(x, lambda v: jss.log_ndtr(-self._z(v, p)), 0.0)

    def expected_information(self, p):
        return np.diag([1.0, 2.0]) / float(p["sdlog"]) ** 2

    def mean(self, p):
        return jnp.exp(p["meanlog"] + p["sdlog"] ** 2 / 2)

    def variance(self, p):
        s2 = p["sdlog"] ** 2
        return jnp.expm1(s2) * jnp.exp(2 * p["meanlog"] + s2)

    def sample(self, p, size, rng=None):
        p = plain(p)
        return rng_of(rng).lognormal(p["meanlog"], p["sdlog"], size)


@dataclass(frozen=True, repr=False)
class Exponential(Family):
    r"""Exponential: :math:`\log f = \log\lambda - \lambda x`, ``x >= 0``.

    Closed form :math:`\hat\lambda = n / \sum x`; start value the same. Parameter ``rate``
    as in R's ``dexp``. Log-survival :math:`-\lambda x` exactly; log-CDF
    :math:`\log(1 - e^{-\lambda x})` accurate near 0, where :math:`1 - e^{-\lambda x}` rounds to 0.
    """

    name = "exponential"
    description = "waiting times; x >= 0"
    formula = "f(x) = rate exp(-rate x),  x >= 0"
    support = NONNEGATIVE_REALS
    PARAMS = {"rate": Positive()}
    sufficient = True
    stats_prove_support = True  # with its minimum: see proven_stats

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        if data_range(x, span)[1] == 0:
            from .._errors import NoEstimate

            raise NoEstimate(
                "all observations are 0: the exponential likelihood grows without bound as "
                "rate -> infinity, so no maximum likelihood estimate exists",
                "check the data: a positive observation makes rate estimable")
        return model, x

    def logpdf(self, x, p):
        return jnp.log(p["rate"]) - p["rate"] * x

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x.sum())])

    def proven_stats(self, x):
        # the sum alone cannot prove x >= 0: its minimum comes from the same pass
        total, low = sum_and_min(x)
        ok = math.isfinite(total) and total > 0 and low >= 0
        return np.array([float(x.shape[0]), total]) if ok else None

    def loglik_stats(self, s, p):
        return s[0] * jnp.log(p["rate"]) - p["rate"] * s[1]

    def closed_form(self, stats, fixed):
        return {"rate": np.asarray(stats[0] / stats[1])}

    def start(self, x):
        return {"rate": np.asarray(1.0 / np.mean(x))}

    def logcdf(self, x, p):
        return where_positive(x, lambda v: log1mexp_neg_exp(jnp.log(p["rate"]) + jnp.log(v)),
                              -jnp.inf)

    def logsf(self, x, p):
        return jnp.where(x > 0, -p["rate"] * x, 0.0)

    def expected_information(self, p):
        return np.array([[1.0 / float(p["rate"]) ** 2]])

    def mean(self, p):
        return 1.0 / p["rate"]

    def variance(self, p):
        return 1.0 / p["rate"] ** 2

    def sample(self, p, size, rng=None):
        return rng_of(rng).exponential(1.0 / plain(p)["rate"], size)


@dataclass(frozen=True, repr=False)
class Gamma(Family):
    r"""Gamma: :math:`\log f = \alpha\log\beta - \log\Gamma(\alpha) + (\alpha-1)\log x - \beta x`.

    Fitted through the sufficient statistics :math:`(n, \sum x, \sum \log x)`: one pass over
    the data, then Newton on three numbers. Start values: Minka's approximation
    :math:`\hat\alpha \approx (3 - s + \sqrt{(s-3)^2 + 24 s}) / (12 s)` with
    :math:`s = \log\bar x - \overline{\log x}`, and :math:`\beta = \alpha / \bar x`.
    Parameters ``shape`` (α), ``rate`` (β) as in R's ``dgamma``. Log-CDF and log-survival:
    the regularized incomplete gamma functions :math:`P(\alpha, \beta x)`,
    :math:`Q(\alpha, \beta x)` in log space, finite far beyond where they underflow.
    """

    name = "gamma"
    description = "positive skewed data; x > 0"
    formula = "f(x) = rate^shape x^(shape-1) exp(-rate x) / Gamma(shape)"
    support = POSITIVE_REALS
    PARAMS = {"shape": Positive(), "rate": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        a, b = p["shape"], p["rate"]
        return a * jnp.log(b) - jss.gammaln(a) + (a - 1) * jnp.log(x) - b * x

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x.sum()), sum_of(np.log, x)])

    def loglik_stats(self, s, p):
        a, b = p["shape"], p["rate"]
        return s[0] * (a * jnp.log(b) - jss.gammaln(a)) + (a - 1) * s[2] - b * s[1]

    def start(self, x):
        # Minka's approximation to the root of log(a) - digamma(a) = log(mean) - mean(log x)
        mean = float(np.mean(x))
        s = max(math.log(mean) - float(np.mean(np.log(x))), 1e-12)
        a = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
        return {"shape": np.asarray(a), "rate": np.asarray(a / mean)}

    def closed_form(self, stats, fixed):
        """Not closed, but one dimension: the rate given the shape is shape/mean. Profile the
        shape by Newton on log(a) - digamma(a) = log(mean) - mean(log x)."""
        if fixed:
            return None
        from scipy import special as sps  # imported here: it costs 0.3 s at import time

        n, sx, slx = (float(v) for v in stats)
        mean = sx / n
        s = math.log(mean) - slx / n
        if not s > 0:
            return None
        a = (3 - s + math.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
        for _ in range(50):
            f = math.log(a) - sps.digamma(a) - s
            step = f / (1 / a - sps.polygamma(1, a))
            a_new = a - step
            a = a_new if a_new > 0 else a / 2
            if abs(step) <= 1e-15 * a:
                break
        return {"shape": np.asarray(a), "rate": np.asarray(a / mean)}

    def _log_p_q(self, x, p):
        """(log P, log Q) at z = rate x > 0. Far below the mode (z < 1e-20) log P is
        a log z - log Gamma(a+1) - a z/(a+1) to double precision, with log z = log rate + log x:
        the route through z would overflow the second derivative (-a/z^2) at z ~ 1e-300."""
        a = p["shape"]
        z = p["rate"] * x
        tiny = z < 1e-20
        lower, upper = log_gamma_p_q(a, jnp.where(tiny, 1.0, z))
        lz = jnp.log(p["rate"]) + jnp.log(jnp.where(tiny, x, 1.0))
        lp = a * lz - jss.gammaln(a + 1) - a * jnp.where(tiny, z, 0.0) / (a + 1)
        return jnp.where(tiny, lp, lower), jnp.where(tiny, log1mexp(lp), upper)

    def logcdf(self, x, p):
        return where_positive(x, lambda v: self._log_p_q(v, p)[0], -jnp.inf)

    def logsf(self, x, p):
        return where_positive(x, lambda v: self._log_p_q(v, p)[1], 0.0)

    def expected_information(self, p):
        from scipy.special import polygamma

        a, b = float(p["shape"]), float(p["rate"])
        return np.array([[float(polygamma(1, a)), -1.0 / b], [-1.0 / b, a / b**2]])

    def mean(self, p):
        return p["shape"] / p["rate"]

    def variance(self, p):
        return p["shape"] / p["rate"] ** 2

    def sample(self, p, size, rng=None):
        p = plain(p)
        return rng_of(rng).gamma(p["shape"], 1.0 / p["rate"], size)


@dataclass(frozen=True, repr=False)
class Weibull(Family):
    r"""Weibull: :math:`\log f = \log k - \log\lambda + (k-1)\log(x/\lambda) - (x/\lambda)^k`.

    Parameters ``shape`` (k), ``scale`` (λ) as in R's ``dweibull``. Start values from the
    Gumbel moments of ``log x``. Log-survival :math:`-(x/\lambda)^k` exactly; log-CDF
    :math:`\log(1 - e^{-(x/\lambda)^k})`, finite where :math:`(x/\lambda)^k` underflows.
    """

    name = "weibull"
    description = "lifetimes and strengths; x > 0"
    formula = "f(x) = (shape/scale) (x/scale)^(shape-1) exp(-(x/scale)^shape)"
    support = POSITIVE_REALS
    PARAMS = {"shape": Positive(), "scale": Positive()}
    min_n = 2
    needs_spread = True

    def logpdf(self, x, p):
        k, lam = p["shape"], p["scale"]
        lz = jnp.log(x) - jnp.log(lam)
        return jnp.log(k) - jnp.log(lam) + (k - 1) * lz - jnp.exp(k * lz)

    def start(self, x):
        lx = np.log(x)
        k = math.pi / math.sqrt(6) / max(float(lx.std()), 1e-8)
        return {"shape": np.asarray(k), "scale": np.asarray(math.exp(lx.mean() + 0.5772156649 / k))}

    def start_rows(self, X):
        lx = np.log(X)
        k = math.pi / math.sqrt(6) / np.maximum(lx.std(axis=1), 1e-8)
        return {"shape": k, "scale": np.exp(lx.mean(axis=1) + 0.5772156649 / k)}

    def _log_hazard(self, x, p):
        """log of the cumulative hazard (x/scale)^shape, finite where the power underflows."""
        return p["shape"] * (jnp.log(x) - jnp.log(p["scale"]))

    def logcdf(self, x, p):
        return where_positive(x, lambda v: log1mexp_neg_exp(self._log_hazard(v, p)), -jnp.inf)

    def logsf(self, x, p):
        return where_positive(x, lambda v: -jnp.exp(self._log_hazard(v, p)), 0.0)

    def expected_information(self, p):
        k, lam = float(p["shape"]), float(p["scale"])
        g = 1.0 - EULER_GAMMA
        return np.array([[(math.pi**2 / 6 + g * g) / k**2, -g / lam], [-g / lam, (k / lam) ** 2]])

    def mean(self, p):
        return p["scale"] * jnp.exp(jss.gammaln(1 + 1 / p["shape"]))

    def variance(self, p):
        # scale^2 (G2 - G1^2) = scale^2 G2 (1 - G1^2/G2): expm1 keeps the large-shape
        # difference (both near 1) accurate
        g1, g2 = jss.gammaln(1 + 1 / p["shape"]), jss.gammaln(1 + 2 / p["shape"])
        return -(p["scale"] ** 2) * jnp.exp(g2) * jnp.expm1(2 * g1 - g2)

    def sample(self, p, size, rng=None):
        p = plain(p)
        return p["scale"] * rng_of(rng).weibull(p["shape"], size)


@dataclass(frozen=True, repr=False)
class StudentT(Family):
    r"""Location-scale Student t:
    :math:`\log f = \log\Gamma(\tfrac{\nu+1}2) - \log\Gamma(\tfrac\nu2) - \tfrac12\log(\nu\pi)
    - \log s - \tfrac{\nu+1}2\log(1 + z^2/\nu)`, :math:`z = (x-m)/s`.

    Parameters ``location``, ``scale``, ``df`` (MASS::fitdistr calls them m, s, df). Starts at
    the median, half the IQR and df = 10, as MASS does. As df -> infinity the family tends to the
    normal, and for near-normal data the MLE of df may not exist (it runs off to infinity).
    Log-CDF and log-survival from the regularized incomplete beta function in log space (a
    continued fraction), finite for |z| up to 1e300. Mean ``location`` for df > 1 (else
    undefined: nan); variance :math:`s^2 \nu/(\nu-2)` for df > 2, infinite for 1 < df <= 2.
    """

    name = "student_t"
    description = "heavy-tailed data on the real line"
    formula = ("f(x) = Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi) scale) "
               "(1 + ((x-location)/scale)^2 / df)^(-(df+1)/2)")
    PARAMS = {"location": Real(), "scale": Positive(), "df": Positive()}
    min_n = 3
    needs_spread = True

    def logpdf(self, x, p):
        nu, s = p["df"], p["scale"]
        d = x - p["location"]
        # log1p(z^2/nu) written as log(nu s^2 + d^2) - log(nu s^2): XLA's CPU log is vectorized
        # and its log1p is not, which made the Hessian pass 3x slower (50 vs 16 ns per point)
        const = (jss.gammaln((nu + 1) / 2) - jss.gammaln(nu / 2) - 0.5 * jnp.log(jnp.pi)
                 + nu / 2 * jnp.log(nu) + nu * jnp.log(s))
        return const - (nu + 1) / 2 * jnp.log(nu * s * s + d * d)

    def start(self, x):
        q1, med, q3 = np.percentile(x, [25, 50, 75])
        s = (q3 - q1) / 2 if q3 > q1 else _scale_start(x)
        return {"location": np.asarray(med), "scale": np.asarray(s), "df": np.asarray(10.0)}

    def logcdf(self, x, p):
        return log_student_t_cdf_sf((x - p["location"]) / p["scale"], p["df"])[0]

    def logsf(self, x, p):
        return log_student_t_cdf_sf((x - p["location"]) / p["scale"], p["df"])[1]

    def log_tails(self, x, p):
        return log_student_t_cdf_sf((x - p["location"]) / p["scale"], p["df"])

    def expected_information(self, p):
        # Lange, Little & Taylor (1989), JASA 84, eq. (A.1)-(A.3): location is orthogonal to
        # (scale, df)
        from scipy.special import polygamma

        s, v = float(p["scale"]), float(p["df"])
        dd = 0.25 * float(polygamma(1, v / 2) - polygamma(1, (v + 1) / 2)) - (v + 5) / (
            2 * v * (v + 1) * (v + 3))
        ss, sd = 2 * v / ((v + 3) * s * s), -2 / ((v + 1) * (v + 3) * s)
        return np.array([[(v + 1) / ((v + 3) * s * s), 0, 0], [0, ss, sd], [0, sd, dd]])

    def mean(self, p):
        return jnp.where(p["df"] > 1, p["location"], jnp.nan)

    def variance(self, p):
        nu = p["df"]
        finite = nu > 2
        nu_ = jnp.where(finite, nu, 3.0)
        return jnp.where(finite, p["scale"] ** 2 * nu_ / (nu_ - 2),
                         jnp.where(nu > 1, jnp.inf, jnp.nan))

    def sample(self, p, size, rng=None):
        p = plain(p)
        return p["location"] + p["scale"] * rng_of(rng).standard_t(p["df"], size)


CATALOGUE = (Normal, LogNormal, Exponential, Gamma, Weibull, StudentT)
