"""Families on the positive half-line (and the unit interval): beta, inverse Gaussian,
Rayleigh, log-logistic, inverse gamma and Fréchet. Parameter names follow R's d* functions
(base R, statmod, VGAM, actuar, evd). Distribution functions in log space, accurate in both far
tails (the incomplete gamma and beta functions from :mod:`.logspecial`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np
from jax import lax
from jax.nn import softplus

from .._model import Support
from .._params import Positive
from .base import Family, log1mexp, log_diff_exp, rng_of, sum_of
from .continuous import Gamma
from .logspecial import log_beta, log_beta_cdf_sf, log_gamma_p_q

POSITIVE_REALS = Support(lower=0.0)
UNIT_INTERVAL = Support(lower=0.0, upper=1.0)
LOG_2PI = math.log(2 * math.pi)
LOG_2 = math.log(2.0)
EULER = 0.5772156649015329


def _safe(ok, x, fill):
    """x where ok, else a harmless stand-in (the "double where": no NaN gradients leak from the
    branch a later jnp.where discards)."""
    return jnp.where(ok, x, fill)


def _softplus_fast(t):
    """log(1 + e^t) for the log-density (the hot path): the log-sum-exp form with a detached
    shift is exact in value and derivatives and avoids log1p, which XLA does not vectorize on
    CPU; the absolute error (< 1e-16) is what a log-likelihood needs."""
    m = lax.stop_gradient(jnp.maximum(t, 0.0))
    return m + jnp.log(jnp.exp(-m) + jnp.exp(t - m))


def _log1mexp_neg_exp(lh):
    """log(1 - exp(-exp(lh))), the log-probability of a cumulative hazard exp(lh), also where
    exp(lh) underflows: there it is lh - exp(lh)/2 (error below exp(lh)^2/24)."""
    small = lh < -20.0
    series = _safe(small, lh, -30.0)
    direct = _safe(small, 0.0, lh)
    return jnp.where(small, series - 0.5 * jnp.exp(series), log1mexp(-jnp.exp(direct)))


def _finite_moment(ok, value_at):
    """value_at(ok) where the moment exists, inf elsewhere (value_at gets a mask to make its
    arguments harmless where it is not used)."""
    return jnp.where(ok, value_at(ok), jnp.inf)


@dataclass(frozen=True, repr=False)
class Beta(Family):
    r"""Beta on (0, 1): :math:`f(x) = x^{a-1}(1-x)^{b-1} / B(a, b)`.

    Parameters ``shape1`` (a), ``shape2`` (b) as in R's ``dbeta``. An exponential family:
    fitted from :math:`(n, \sum\log x, \sum\log(1-x))` by Newton on the two digamma equations
    :math:`\psi(a) - \psi(a+b) = \overline{\log x}`, :math:`\psi(b) - \psi(a+b) =
    \overline{\log(1-x)}`, started at the approximation :math:`a \approx 1/2 + G_x / (2(1 - G_x
    - G_{1-x}))` (G the geometric means). Start values (with a parameter fixed) by the method
    of moments, clipped positive. The log-CDF and log-survival come from the continued
    fraction of the incomplete beta function in log space, each tail computed directly.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Beta(), [0.1, 0.25, 0.3, 0.45, 0.6, 0.2])
    >>> {k: round(v, 4) for k, v in fit.params.items()}
    {'shape1': 2.4017, 'shape2': 5.1614}
    """

    name = "beta"
    description = "proportions and probabilities; 0 < x < 1"
    formula = "f(x) = x^(shape1-1) (1-x)^(shape2-1) / B(shape1, shape2),  0 < x < 1"
    support = UNIT_INTERVAL
    PARAMS = {"shape1": Positive(), "shape2": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # finite sums of log x and log(1 - x) prove 0 < x < 1

    def logpdf(self, x, p):
        a, b = p["shape1"], p["shape2"]
        # log(1 - x): 1 - x is exact above 1/2 and its absolute error below is < 1e-16
        return (a - 1) * jnp.log(x) + (b - 1) * jnp.log(1 - x) - log_beta(a, b)

    def logcdf(self, x, p):
        return log_beta_cdf_sf(p["shape1"], p["shape2"], x)[0]

    def logsf(self, x, p):
        return log_beta_cdf_sf(p["shape1"], p["shape2"], x)[1]

    def log_tails(self, x, p):
        return log_beta_cdf_sf(p["shape1"], p["shape2"], x)

    def mean(self, p):
        return p["shape1"] / (p["shape1"] + p["shape2"])

    def variance(self, p):
        a, b = p["shape1"], p["shape2"]
        return a * b / ((a + b) ** 2 * (a + b + 1))

    def sample(self, p, size, rng=None):
        # with a shape below ~0.1 some draws lie within 1e-16 of 0 or 1 and round to it
        return rng_of(rng).beta(p["shape1"], p["shape2"], size)

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        log1m = sum_of(lambda part, out: np.log1p(np.negative(part, out=out), out=out), x)
        return np.array([float(x.shape[0]), sum_of(np.log, x), log1m])

    def loglik_stats(self, s, p):
        a, b = p["shape1"], p["shape2"]
        return (a - 1) * s[1] + (b - 1) * s[2] - s[0] * log_beta(a, b)

    def closed_form(self, stats, fixed):
        """Newton on the digamma equations (concave: halve the step until it stays positive
        and the log-likelihood rises); the engine verifies the result."""
        from scipy import special as sps  # imported here: it costs 0.3 s at import time

        n, s1, s2 = (float(v) for v in stats)
        g = np.array([s1 / n, s2 / n])
        spare = 1.0 - math.exp(g[0]) - math.exp(g[1])  # > 0 by the AM-GM inequality
        if not spare > 0:
            return None
        names = ("shape1", "shape2")
        theta = np.array([float(fixed[k]) if k in fixed else 0.5 + math.exp(gk) / (2 * spare)
                          for k, gk in zip(names, g, strict=True)])
        free = np.array([k not in fixed for k in names])

        def loglik(t):
            return float((t[0] - 1) * g[0] + (t[1] - 1) * g[1] - sps.betaln(t[0], t[1]))

        for _ in range(200):
            a, b = theta
            grad = sps.digamma(a + b) - sps.digamma(np.array([a, b])) + g
            t = sps.polygamma(1, a + b)
            hess = t - np.diag(sps.polygamma(1, np.array([a, b])))
            step = np.zeros(2)
            step[free] = -np.linalg.solve(hess[np.ix_(free, free)], grad[free])
            scale, base = 1.0, loglik(theta)
            while scale > 1e-12 and not (np.all(theta + scale * step > 0)
                                         and loglik(theta + scale * step) >= base - 1e-15):
                scale /= 2
            theta = theta + scale * step
            if np.all(np.abs(scale * step) <= 1e-14 * theta):
                break
        if not np.all(np.isfinite(theta) & (theta > 0)):
            return None
        return {k: np.asarray(v) for k, v, f in zip(names, theta, free, strict=True) if f}

    def start(self, x):
        m, v = float(np.mean(x)), float(np.var(x))
        common = max(m * (1 - m) / max(v, 1e-300) - 1, 1e-3)  # > 0 unless x sits at 0 and 1
        return {"shape1": np.asarray(max(m * common, 1e-3)),
                "shape2": np.asarray(max((1 - m) * common, 1e-3))}


@dataclass(frozen=True, repr=False)
class InverseGaussian(Family):
    r"""Inverse Gaussian (Wald): :math:`f(x) = \sqrt{\lambda / (2\pi x^3)}
    \exp(-\lambda (x-\mu)^2 / (2\mu^2 x))`, x > 0.

    Parameters ``mean`` (μ), ``shape`` (λ) as in R's ``statmod::dinvgauss``. An exponential
    family with statistics :math:`(n, \sum x, \sum 1/x, \sum\log x)` (and shifted sums that
    keep nearly constant data accurate, see :meth:`suffstats`) and closed form
    :math:`\hat\mu = \bar x`, :math:`1/\hat\lambda = \overline{1/x} - 1/\bar x` (with μ fixed,
    :math:`1/\hat\lambda = \overline{(x-\mu)^2/(\mu^2 x)}`; with λ fixed, :math:`\hat\mu = \bar
    x`). Start values the same, from the data. The CDF
    :math:`\Phi(r_1) + e^{2\lambda/\mu}\Phi(-r_2)`, :math:`r_{1,2} = \sqrt{\lambda/x}(x/\mu \mp
    1)`, is summed in log space (``log_ndtr``), so :math:`e^{2\lambda/\mu}` never overflows.
    """

    name = "inverse_gaussian"
    description = "first-passage times of Brownian motion with drift; x > 0"
    formula = "f(x) = sqrt(shape / (2 pi x^3)) exp(-shape (x - mean)^2 / (2 mean^2 x))"
    support = POSITIVE_REALS
    PARAMS = {"mean": Positive(), "shape": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        m, lam = p["mean"], p["shape"]
        return (0.5 * (jnp.log(lam) - LOG_2PI) - 1.5 * jnp.log(x)
                - lam * (x - m) ** 2 / (2 * m * m * x))

    def _log_terms(self, x, p):
        """(log Phi(r1), log Phi(-r1), 2 shape/mean + log Phi(-r2)) at valid x, and the mask."""
        m, lam = p["mean"], p["shape"]
        ok = x > 0
        xs = _safe(ok, x, m)
        root = jnp.sqrt(lam / xs)
        r1, r2 = root * (xs / m - 1), root * (xs / m + 1)
        return jss.log_ndtr(r1), jss.log_ndtr(-r1), 2 * lam / m + jss.log_ndtr(-r2), ok

    def logcdf(self, x, p):
        below, _, second, ok = self._log_terms(x, p)
        return jnp.where(ok, jnp.logaddexp(below, second), -jnp.inf)

    def logsf(self, x, p):
        _, above, second, ok = self._log_terms(x, p)
        return jnp.where(ok, log_diff_exp(above, second), 0.0)

    def mean(self, p):
        return p["mean"]

    def variance(self, p):
        return p["mean"] ** 3 / p["shape"]

    def sample(self, p, size, rng=None):
        return rng_of(rng).wald(p["mean"], p["shape"], size)

    def suffstats(self, x):
        """(n, sum x, sum 1/x, sum log x) and, about a shift c (the mean of a subsample),
        c, sum (x-c)/x and sum (x-c)^2/x: the quadratic term then needs no cancelling
        difference like mean(1/x) - 1/mean(x), which loses all digits for nearly constant
        data (the shift trick of one-pass variances)."""
        n = x.shape[0]
        c = float(np.mean(x[:: max(1, n // 1024)]))

        def centred(part, out, power):
            np.subtract(part, c, out=out)
            if power == 2:
                np.square(out, out=out)
            return np.divide(out, part, out=out)

        return np.array([float(n), float(x.sum()), sum_of(np.reciprocal, x), sum_of(np.log, x),
                         c, sum_of(lambda part, out: centred(part, out, 1), x),
                         sum_of(lambda part, out: centred(part, out, 2), x)])

    def _quad(self, s, m):
        """sum (x - m)^2 / x from the statistics: with d = m - c, the sum of
        ((x-c) - d)^2 / x = sum (x-c)^2/x - 2 d sum (x-c)/x + d^2 sum 1/x."""
        d = m - s[4]
        return s[6] - 2 * d * s[5] + d * d * s[2]

    def loglik_stats(self, s, p):
        m, lam = p["mean"], p["shape"]
        quad = self._quad(s, m) / (m * m)
        return 0.5 * s[0] * (jnp.log(lam) - LOG_2PI) - 1.5 * s[3] - 0.5 * lam * quad

    def closed_form(self, stats, fixed):
        n = float(stats[0])
        m = float(fixed["mean"]) if "mean" in fixed else float(stats[1]) / n
        out = {} if "mean" in fixed else {"mean": np.asarray(m)}
        if "shape" not in fixed:
            inv_shape = float(self._quad(stats, m)) / (n * m * m)
            if not inv_shape > 0:
                return None
            out["shape"] = np.asarray(1.0 / inv_shape)
        return out

    def start(self, x):
        m = float(np.mean(x))
        # mean(1/x - 1/m) summed as mean((x - m)^2 / (m^2 x)): positive term by term
        inv_shape = float(np.mean((x - m) ** 2 / x)) / (m * m)
        return {"mean": np.asarray(m), "shape": np.asarray(1.0 / max(inv_shape, 1e-300))}


@dataclass(frozen=True, repr=False)
class Rayleigh(Family):
    r"""Rayleigh: :math:`f(x) = (x/\sigma^2) \exp(-x^2/(2\sigma^2))`, x > 0.

    Parameter ``scale`` (σ) as in VGAM's ``drayleigh``. An exponential family with statistics
    :math:`(n, \sum x^2, \sum\log x)` and closed form :math:`\hat\sigma^2 = \sum x^2 / (2n)`
    (also the start value). :math:`\log F = \log(1 - e^{-h})`, :math:`h = x^2/(2\sigma^2)`,
    from :math:`\log h` (finite where h underflows); :math:`\log S = -h`.
    """

    name = "rayleigh"
    description = "magnitude of a 2-D Gaussian vector (wind speed, wave height); x > 0"
    formula = "f(x) = (x / scale^2) exp(-x^2 / (2 scale^2))"
    support = POSITIVE_REALS
    PARAMS = {"scale": Positive()}
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        s = p["scale"]
        return jnp.log(x) - 2 * jnp.log(s) - x * x / (2 * s * s)

    def _log_hazard(self, x, p):
        """log(x^2 / (2 scale^2)) at valid x, and the mask."""
        ok = x > 0
        return 2 * (jnp.log(_safe(ok, x, 1.0)) - jnp.log(p["scale"])) - LOG_2, ok

    def logcdf(self, x, p):
        lh, ok = self._log_hazard(x, p)
        return jnp.where(ok, _log1mexp_neg_exp(lh), -jnp.inf)

    def logsf(self, x, p):
        lh, ok = self._log_hazard(x, p)
        return jnp.where(ok, -jnp.exp(lh), 0.0)

    def mean(self, p):
        return p["scale"] * math.sqrt(math.pi / 2)

    def variance(self, p):
        return (4 - math.pi) / 2 * p["scale"] ** 2

    def sample(self, p, size, rng=None):
        return rng_of(rng).rayleigh(p["scale"], size)

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x @ x), sum_of(np.log, x)])

    def loglik_stats(self, s, p):
        sc = p["scale"]
        return s[2] - 2 * s[0] * jnp.log(sc) - s[1] / (2 * sc * sc)

    def closed_form(self, stats, fixed):
        return {"scale": np.asarray(math.sqrt(float(stats[1]) / (2 * float(stats[0]))))}

    def start(self, x):
        return {"scale": np.asarray(math.sqrt(float(x @ x) / (2 * x.shape[0])))}


@dataclass(frozen=True, repr=False)
class LogLogistic(Family):
    r"""Log-logistic (Fisk): :math:`\log X` is logistic with location :math:`\log s` and scale
    :math:`1/k`; :math:`F(x) = 1 / (1 + (x/s)^{-k})`,
    :math:`f(x) = (k/s)(x/s)^{k-1} / (1 + (x/s)^k)^2`, x > 0.

    Parameters ``shape`` (k), ``scale`` (s) as in actuar's ``dllogis``. Start values from the
    logistic fit of log x by quantiles: :math:`\log s` = the median of log x, :math:`1/k` =
    IQR(log x) / (2 log 3) (the logistic's quartiles are ±scale·log 3). The mean needs k > 1,
    the variance k > 2 (else inf).
    """

    name = "loglogistic"
    description = "survival times whose hazard can rise then fall; x > 0"
    formula = "f(x) = (shape/scale) (x/scale)^(shape-1) / (1 + (x/scale)^shape)^2"
    support = POSITIVE_REALS
    PARAMS = {"shape": Positive(), "scale": Positive()}
    min_n = 2
    needs_spread = True

    def logpdf(self, x, p):
        k, s = p["shape"], p["scale"]
        t = k * (jnp.log(x) - jnp.log(s))
        return jnp.log(k) - jnp.log(x) + t - 2 * _softplus_fast(t)

    def logcdf(self, x, p):
        ok = x > 0
        t = p["shape"] * (jnp.log(_safe(ok, x, 1.0)) - jnp.log(p["scale"]))
        return jnp.where(ok, -softplus(-t), -jnp.inf)

    def logsf(self, x, p):
        ok = x > 0
        t = p["shape"] * (jnp.log(_safe(ok, x, 1.0)) - jnp.log(p["scale"]))
        return jnp.where(ok, -softplus(t), 0.0)

    def mean(self, p):
        k, s = p["shape"], p["scale"]

        def value(ok):
            b = jnp.pi / _safe(ok, k, 2.0)
            return s * b / jnp.sin(b)

        return _finite_moment(k > 1, value)

    def variance(self, p):
        k, s = p["shape"], p["scale"]

        def value(ok):
            b = jnp.pi / _safe(ok, k, 4.0)
            return s * s * (2 * b / jnp.sin(2 * b) - (b / jnp.sin(b)) ** 2)

        return _finite_moment(k > 2, value)

    def sample(self, p, size, rng=None):
        return p["scale"] * np.exp(rng_of(rng).logistic(0.0, 1.0, size) / p["shape"])

    def start(self, x):
        lx = np.log(x)
        q1, med, q3 = np.percentile(lx, [25, 50, 75])
        s = (q3 - q1) / (2 * math.log(3))
        if not s > 0:  # ties fill the quartiles: the logistic's sd is scale * pi / sqrt(3)
            s = max(float(lx.std()) * math.sqrt(3) / math.pi, 1e-8)
        return {"shape": np.asarray(1.0 / s), "scale": np.asarray(math.exp(med))}


@dataclass(frozen=True, repr=False)
class InverseGamma(Family):
    r"""Inverse gamma: :math:`1/X \sim` Gamma(shape, rate = scale);
    :math:`f(x) = s^a x^{-a-1} e^{-s/x} / \Gamma(a)`, x > 0.

    Parameters ``shape`` (a), ``scale`` (s) as in actuar's ``dinvgamma``. An exponential family
    with statistics :math:`(n, \sum 1/x, \sum\log x)`: the gamma's on 1/x, and so its 1-D
    profile: :math:`\hat s = a / \overline{1/x}` given a, and a from Newton on
    :math:`\log a - \psi(a) = \log\overline{1/x} + \overline{\log x}` (Minka's start, also the
    start value). With the shape fixed the scale is closed; with the scale fixed the shape
    solves :math:`\psi(a) = \log s - \overline{\log x}`. :math:`F(x) = Q(a, s/x)`, the upper
    regularized incomplete gamma, in log space in both tails. The mean needs a > 1, the
    variance a > 2.
    """

    name = "inverse_gamma"
    description = "reciprocal of a gamma variable (variances, heavy right tails); x > 0"
    formula = "f(x) = scale^shape x^(-shape-1) exp(-scale/x) / Gamma(shape)"
    support = POSITIVE_REALS
    PARAMS = {"shape": Positive(), "scale": Positive()}
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        a, s = p["shape"], p["scale"]
        return a * jnp.log(s) - jss.gammaln(a) - (a + 1) * jnp.log(x) - s / x

    def _log_p_q(self, x, p):
        ok = x > 0
        z = p["scale"] / _safe(ok, x, 1.0)
        lower, upper = log_gamma_p_q(p["shape"], z)
        return lower, upper, ok

    def logcdf(self, x, p):
        _, upper, ok = self._log_p_q(x, p)
        return jnp.where(ok, upper, -jnp.inf)

    def logsf(self, x, p):
        lower, _, ok = self._log_p_q(x, p)
        return jnp.where(ok, lower, 0.0)

    def mean(self, p):
        a, s = p["shape"], p["scale"]
        return _finite_moment(a > 1, lambda ok: s / (_safe(ok, a, 2.0) - 1))

    def variance(self, p):
        a, s = p["shape"], p["scale"]

        def value(ok):
            a_ = _safe(ok, a, 3.0)
            return s * s / ((a_ - 1) ** 2 * (a_ - 2))

        return _finite_moment(a > 2, value)

    def sample(self, p, size, rng=None):
        return p["scale"] / rng_of(rng).gamma(p["shape"], 1.0, size)

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), sum_of(np.reciprocal, x), sum_of(np.log, x)])

    def loglik_stats(self, s, p):
        a, sc = p["shape"], p["scale"]
        return s[0] * (a * jnp.log(sc) - jss.gammaln(a)) - (a + 1) * s[2] - sc * s[1]

    def closed_form(self, stats, fixed):
        n, sinv, slx = (float(v) for v in stats)
        if "shape" in fixed:
            return {"scale": np.asarray(float(fixed["shape"]) * n / sinv)}
        if "scale" in fixed:
            a = _inverse_digamma(math.log(float(fixed["scale"])) - slx / n)
            return None if a is None else {"shape": np.asarray(a)}
        # the gamma's profile on y = 1/x: statistics (n, sum y, sum log y)
        gamma = Gamma().closed_form(np.array([n, sinv, -slx]), {})
        return None if gamma is None else {"shape": gamma["shape"], "scale": gamma["rate"]}

    def start(self, x):
        g = Gamma().start(1.0 / x)
        return {"shape": g["shape"], "scale": g["rate"]}


def _inverse_digamma(c: float) -> float | None:
    """The a > 0 with digamma(a) = c (Newton from Minka's start), or None."""
    from scipy import special as sps

    a = math.exp(c) + 0.5 if c >= -2.22 else -1.0 / (c + EULER)
    for _ in range(100):
        step = (sps.digamma(a) - c) / sps.polygamma(1, a)
        a = a - step if a - step > 0 else a / 2
        if abs(step) <= 1e-15 * a:
            return a
    return a if math.isfinite(a) and a > 0 else None


@dataclass(frozen=True, repr=False)
class Frechet(Family):
    r"""Fréchet (inverse Weibull, type II extreme value) with location 0:
    :math:`F(x) = \exp(-(x/s)^{-k})`, :math:`f(x) = (k/s)(x/s)^{-k-1} \exp(-(x/s)^{-k})`, x > 0.

    Parameters ``shape`` (k), ``scale`` (s) as in ``evd::dfrechet`` with ``loc = 0``. log X is
    Gumbel (for maxima) with location log s and scale 1/k: start values from its moments,
    :math:`k = \pi / (\sqrt6\,\mathrm{sd}(\log x))`, :math:`\log s = \overline{\log x} -
    \gamma/k`. :math:`\log F = -(x/s)^{-k}` exactly; :math:`\log S = \log(1 - e^{-h})`,
    :math:`h = (x/s)^{-k}`, from :math:`\log h` (finite where h underflows).
    The mean needs k > 1, the variance k > 2 (else inf).
    """

    name = "frechet"
    description = "block maxima with a heavy (power-law) upper tail; x > 0"
    formula = "f(x) = (shape/scale) (x/scale)^(-shape-1) exp(-(x/scale)^(-shape))"
    support = POSITIVE_REALS
    PARAMS = {"shape": Positive(), "scale": Positive()}
    min_n = 2
    needs_spread = True

    def logpdf(self, x, p):
        k, s = p["shape"], p["scale"]
        lz = jnp.log(x) - jnp.log(s)
        return jnp.log(k) - jnp.log(s) - (k + 1) * lz - jnp.exp(-k * lz)

    def _log_hazard(self, x, p):
        """log of (x/scale)^-shape, i.e. of -log F, at valid x, and the mask."""
        ok = x > 0
        return -p["shape"] * (jnp.log(_safe(ok, x, 1.0)) - jnp.log(p["scale"])), ok

    def logcdf(self, x, p):
        lh, ok = self._log_hazard(x, p)
        return jnp.where(ok, -jnp.exp(lh), -jnp.inf)

    def logsf(self, x, p):
        lh, ok = self._log_hazard(x, p)
        return jnp.where(ok, _log1mexp_neg_exp(lh), 0.0)

    def mean(self, p):
        k, s = p["shape"], p["scale"]
        return _finite_moment(k > 1, lambda ok: s * jnp.exp(jss.gammaln(1 - 1 / _safe(ok, k, 2.0))))

    def variance(self, p):
        k, s = p["shape"], p["scale"]

        def value(ok):
            k_ = _safe(ok, k, 4.0)
            g1, g2 = jnp.exp(jss.gammaln(1 - 1 / k_)), jnp.exp(jss.gammaln(1 - 2 / k_))
            return s * s * (g2 - g1 * g1)

        return _finite_moment(k > 2, value)

    def sample(self, p, size, rng=None):
        return p["scale"] * rng_of(rng).standard_exponential(size) ** (-1.0 / p["shape"])

    def start(self, x):
        lx = np.log(x)
        k = math.pi / math.sqrt(6) / max(float(lx.std()), 1e-8)
        return {"shape": np.asarray(k), "scale": np.asarray(math.exp(lx.mean() - EULER / k))}


CATALOGUE = (Beta, InverseGaussian, Rayleigh, LogLogistic, InverseGamma, Frechet)
