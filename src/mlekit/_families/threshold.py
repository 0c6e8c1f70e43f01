"""Non-regular families: parameters whose MLE sits on the boundary set by the data.

- ``Uniform``: both ends are order statistics, ``min(x)`` and ``max(x)``;
- ``Pareto``: the scale is ``min(x)``; the shape, given it, has a closed form;
- ``Weibull3``, ``LogNormal3``, ``Gamma3``: a threshold (lower end of the support) below the
  smallest observation. Their likelihood is unbounded as the threshold approaches ``min(x)``
  (for lognormal always, for Weibull and gamma when shape < 1), so the estimate is the local
  maximum (Smith 1985); it is regular only when shape > 2, and for 1 < shape <= 2 the
  threshold's estimator converges faster than 1/sqrt(n), so it gets no standard error.

Order statistics converge at rate 1/n, faster than the 1/sqrt(n) of regular parameters: the
engine estimates them first, then maximizes the rest given them, and reports standard errors
for the rest treating them as known (see ``Model.nonregular``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from .._model import Support
from .._params import Positive, Real
from .base import Family, log1mexp, rng_of, safe_where, sum_of
from .continuous import Gamma, LogNormal, Weibull


@dataclass(frozen=True, repr=False)
class Uniform(Family):
    r"""Uniform on [min, max]: :math:`f(x) = 1/(\max - \min)`.

    The MLE is the sample range, :math:`\widehat{\min} = x_{(1)}`, :math:`\widehat{\max} =
    x_{(n)}`: order statistics with error O(1/n), so the fit reports them without standard
    errors (a ``nonregular`` diagnostic says so). Parameters ``min``, ``max`` as R's ``dunif``.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Uniform(), [0.3, 1.2, 0.7, 2.5])
    >>> fit.params, fit.se["max"]
    ({'min': 0.3, 'max': 2.5}, None)
    """

    name = "uniform"
    description = "equally likely values between two ends"
    formula = "f(x) = 1 / (max - min),  min <= x <= max"
    support_text = "min <= x <= max"
    PARAMS = {"min": Real(), "max": Real()}
    boundary = ("min", "max")
    min_n = 2
    needs_spread = True

    def logpdf(self, x, p):
        inside = (x >= p["min"]) & (x <= p["max"])
        return jnp.where(inside, -jnp.log(p["max"] - p["min"]), -jnp.inf)

    def logcdf(self, x, p):
        z = jnp.clip((x - p["min"]) / (p["max"] - p["min"]), 0.0, 1.0)
        return safe_where(z > 0, jnp.log, z, -jnp.inf)

    def logsf(self, x, p):
        z = jnp.clip((p["max"] - x) / (p["max"] - p["min"]), 0.0, 1.0)
        return safe_where(z > 0, jnp.log, z, -jnp.inf)

    def mean(self, p):
        return (p["min"] + p["max"]) / 2

    def variance(self, p):
        return (p["max"] - p["min"]) ** 2 / 12

    def sample(self, p, size, rng=None):
        return rng_of(rng).uniform(p["min"], p["max"], size)

    def boundary_estimate(self, x):
        return {"min": np.asarray(x.min()), "max": np.asarray(x.max())}

    def start(self, x):
        return self.boundary_estimate(x)


@dataclass(frozen=True, repr=False)
class Pareto(Family):
    r"""Pareto (type I): :math:`f(x) = \alpha m^\alpha / x^{\alpha+1}`, :math:`x \ge m`.

    The scale's MLE is the smallest observation, :math:`\hat m = x_{(1)}` (an order statistic:
    no standard error, a ``nonregular`` diagnostic); given it the shape has the closed form
    :math:`\hat\alpha = n / \sum \log(x_i/\hat m)`, from the sufficient statistic
    :math:`\sum \log x`. Its standard error treats :math:`\hat m` as known (its error is O(1/n)).
    Parameters ``shape`` (α), ``scale`` (m) as VGAM's ``dpareto``.
    """

    name = "pareto"
    description = "power-law tails above a minimum; x > 0"
    formula = "f(x) = shape scale^shape / x^(shape + 1),  x >= scale"
    support = Support(lower=0.0)
    support_text = "x >= scale > 0"
    PARAMS = {"shape": Positive(), "scale": Positive()}
    boundary = ("scale",)
    min_n = 2
    needs_spread = True
    sufficient = True
    stats_prove_support = True  # a finite sum of log x proves every x > 0

    def logpdf(self, x, p):
        a, m = p["shape"], p["scale"]
        lx = safe_where(x >= m, jnp.log, x, 0.0)
        return jnp.where(x >= m, jnp.log(a) + a * jnp.log(m) - (a + 1) * lx, -jnp.inf)

    def logcdf(self, x, p):
        return jnp.where(x > p["scale"], log1mexp(self.logsf(x, p)), -jnp.inf)

    def logsf(self, x, p):
        a, m = p["shape"], p["scale"]
        # log(m/x) = -log1p((x - m)/m): x - m is exact near m, where log m - log x cancels
        above = x > m
        return jnp.where(above, -a * jnp.log1p(jnp.where(above, x - m, 0.0) / m), 0.0)

    def mean(self, p):
        a, m = p["shape"], p["scale"]
        return jnp.where(a > 1, a * m / jnp.where(a > 1, a - 1, 1.0), jnp.inf)

    def variance(self, p):
        a, m = p["shape"], p["scale"]
        ok = a > 2
        a_ = jnp.where(ok, a, 3.0)
        return jnp.where(ok, m * m * a_ / ((a_ - 1) ** 2 * (a_ - 2)), jnp.inf)

    def sample(self, p, size, rng=None):
        # numpy's pareto draws the Lomax (type II) variable X; scale * (1 + X) is type I
        return p["scale"] * (1.0 + rng_of(rng).pareto(p["shape"], size))

    def boundary_estimate(self, x):
        return {"scale": np.asarray(x.min())}

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), sum_of(np.log, x)])

    def loglik_stats(self, s, p):
        a, m = p["shape"], p["scale"]
        return s[0] * (jnp.log(a) + a * jnp.log(m)) - (a + 1) * s[1]

    def closed_form(self, stats, fixed):
        if "shape" in fixed or "scale" not in fixed:
            return None
        n, slx = float(stats[0]), float(stats[1])
        return {"shape": np.asarray(n / (slx - n * math.log(float(fixed["scale"]))))}

    def start(self, x):
        m = float(x.min())
        gap = float(np.mean(np.log(x))) - math.log(m)
        return {"shape": np.asarray(1.0 / max(gap, 1e-12)), "scale": np.asarray(m)}


@dataclass(frozen=True, repr=False)
class _ThresholdForm(Family):
    """A positive family shifted by a threshold: X = threshold + Y, Y from ``BASE``.

    The threshold is a plain real parameter whose log-density is -inf at or below it, so Newton
    never steps past the smallest observation; one compiled program serves every dataset.
    """

    BASE: ClassVar[Family]
    SHAPE: ClassVar[str | None] = "shape"  # the parameter whose value decides regularity
    threshold_form = True
    support_text = "x > threshold"
    min_n = 4
    needs_spread = True

    @property
    def params(self):
        return {**self.BASE.PARAMS, "threshold": Real()}

    def _base(self, p):
        return {k: p[k] for k in self.BASE.PARAMS}

    def logpdf(self, x, p):
        y = x - p["threshold"]
        return safe_where(y > 0, lambda v: self.BASE.logpdf(v, self._base(p)), y, -jnp.inf)

    def logcdf(self, x, p):
        y = x - p["threshold"]
        return safe_where(y > 0, lambda v: self.BASE.logcdf(v, self._base(p)), y, -jnp.inf)

    def logsf(self, x, p):
        y = x - p["threshold"]
        return safe_where(y > 0, lambda v: self.BASE.logsf(v, self._base(p)), y, 0.0)

    def mean(self, p):
        return p["threshold"] + self.BASE.mean(self._base(p))

    def variance(self, p):
        return self.BASE.variance(self._base(p))

    def sample(self, p, size, rng=None):
        return p["threshold"] + self.BASE.sample(self._base(p), size, rng)

    def nonregular(self, params):
        if self.SHAPE is None:
            return ()
        return ("threshold",) if float(params[self.SHAPE]) <= 2.0 else ()

    def boundary_fallback(self, x, fixed):
        """No local maximum (shape < 1): the likelihood grows without bound as the threshold
        tends to the smallest observation. Smith (1985): take the threshold at the minimum and
        fit the other parameters to the remaining n - 1 observations."""
        if "threshold" in fixed or x.shape[0] <= self.min_n:
            return None
        i = int(np.argmin(x))
        rest = np.delete(x, i)
        lo = float(x[i])
        if not float(rest.min()) > lo:
            return None  # ties at the minimum: the shifted data would contain zeros
        why = (f"the {self.name} likelihood has no local maximum: it grows without bound as the "
               f"threshold tends to the smallest observation {lo:g}, so the MLE does not exist; "
               "reported is the threshold at the minimum with the other parameters fitted to "
               f"the remaining n - 1 = {rest.shape[0]} observations (Smith 1985)")
        return {"threshold": np.asarray(lo)}, rest, why

    def start(self, x):
        """The best of a few thresholds below the minimum, each with the base family's start
        values on the shifted data, by log-likelihood: a coarse profile that lands Newton in the
        basin of the local maximum."""
        lo = float(x.min())
        spread = float(np.median(x)) - lo
        spread = spread if spread > 0 else float(np.std(x))
        best, best_ll = None, -math.inf
        for c in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0):
            t = lo - c * spread
            y = x - t
            base = self.BASE.start(y)
            ll = float(jnp.sum(self.BASE.logpdf(jnp.asarray(y), base)))
            if math.isfinite(ll) and ll > best_ll:
                best, best_ll = {**base, "threshold": np.asarray(t)}, ll
        return best


@dataclass(frozen=True, repr=False)
class Weibull3(_ThresholdForm):
    r"""Three-parameter Weibull: :math:`X - \text{threshold} \sim` Weibull(shape, scale).

    The local maximum of the likelihood (the global one is infinite as the threshold tends to
    the smallest observation when shape < 1). Regular for shape > 2; for 1 < shape <= 2 the
    threshold gets no standard error (``nonregular`` diagnostic). Start values: the best of a
    few thresholds below the minimum, each with the Weibull start on the shifted data.
    """

    name = "weibull3"
    description = "Weibull shifted by a threshold (lower end) below the data"
    formula = ("f(x) = (shape/scale) ((x-threshold)/scale)^(shape-1) "
               "exp(-((x-threshold)/scale)^shape),  x > threshold")
    BASE = Weibull()
    PARAMS = {**Weibull.PARAMS, "threshold": Real()}


@dataclass(frozen=True, repr=False)
class LogNormal3(_ThresholdForm):
    r"""Three-parameter log-normal: :math:`\log(X - \text{threshold}) \sim N(\mu, \sigma^2)`.

    The likelihood is unbounded as the threshold tends to the smallest observation (Hill
    1963); the estimate is the local maximum, which is regular where it exists.
    """

    name = "lognormal3"
    description = "log-normal shifted by a threshold (lower end) below the data"
    formula = ("f(x) = exp(-(log(x-threshold)-meanlog)^2 / (2 sdlog^2)) / "
               "((x-threshold) sdlog sqrt(2 pi)),  x > threshold")
    BASE = LogNormal()
    PARAMS = {**LogNormal.PARAMS, "threshold": Real()}
    SHAPE = None


@dataclass(frozen=True, repr=False)
class Gamma3(_ThresholdForm):
    r"""Three-parameter gamma: :math:`X - \text{threshold} \sim` Gamma(shape, rate).

    As Weibull3: the local maximum, regular for shape > 2; for 1 < shape <= 2 the threshold gets
    no standard error.
    """

    name = "gamma3"
    description = "gamma shifted by a threshold (lower end) below the data"
    formula = ("f(x) = rate^shape (x-threshold)^(shape-1) exp(-rate (x-threshold)) / "
               "Gamma(shape),  x > threshold")
    BASE = Gamma()
    PARAMS = {**Gamma.PARAMS, "threshold": Real()}


CATALOGUE = (Uniform, Pareto, Weibull3, LogNormal3, Gamma3)
