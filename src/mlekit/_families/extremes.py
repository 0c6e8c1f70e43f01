"""Extreme-value families: the generalized extreme value distribution (block maxima) and the
generalized Pareto distribution (exceedances over a threshold).

Both are written through one function, ``L = log(1 + shape z) / shape`` (which tends to ``z``
as shape -> 0), so that the shape = 0 members (Gumbel, exponential) are not special cases but
points of a smooth function: the log-density, its gradient and its Hessian are exact there and
continuous through it, which Newton with automatic derivatives needs (a fit of Gumbel-like
data crosses shape = 0). Where the support depends on the parameters, the log-density is -inf
outside it, so Newton rejects steps that leave an observation outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .._errors import ModelError
from .._model import Support
from .._params import Positive, Real
from .base import Family, log1mexp, rng_of

EULER = 0.5772156649015329
LOG2_OVER_LOG3 = math.log(2) / math.log(3)

#: |shape * z| below which log(1 + u)/u is summed as a series. The direct form's derivatives
#: cancel near u = 0 (its second derivative loses about eps/|u|^3: 1e-13 at 0.1); the series,
#: in w = (u/(2+u))^2 < 0.0028, is exact to rounding in value and derivatives after TERMS terms
SMALL = 0.1
TERMS = 8

#: |shape| below which the moments' ratios of gamma functions are summed as power series
#: (coefficients from mpmath; the direct forms cancel like eps/shape and eps/shape^2)
SMALL_SHAPE = 0.05
#: (Gamma(1 - s) - 1) / s = sum_k MEAN_SERIES[k] s^k
MEAN_SERIES = (
    0.5772156649015329, 0.9890559953279725, 0.9074790760808863, 0.9817280868344002,
    0.9819950689031453, 0.9931491146212762, 0.9960017604424315, 0.998105693783129,
    0.9990252676219549, 0.9995156560727775, 0.9997565975086012, 0.9998782713151333,
    0.9999390642064443, 0.9999695177634821, 0.999984752699377, 0.9999923744790732,
    0.9999961865894733, 0.9999980930811309)
#: (Gamma(1 - 2s) - Gamma(1 - s)^2) / s^2 = sum_k VAR_SERIES[k] s^k (the constant is pi^2/6)
VAR_SERIES = (
    1.6449340668482264, 4.303077228549151, 11.718339177218882, 26.53141916464012,
    57.676112859609745, 120.6254077476928, 247.65840041981136, 502.649810616349,
    1013.6553090068471, 2036.6542815160842, 4083.6549298829505, 8178.65476684538,
    16369.654755395653, 32752.65467280418, 65519.654613867395, 131054.65456242379,
    262125.65452425514, 524268.6544960786)

#: start values keep every observation inside the support with this much room (a fraction of
#: the data's spread on that side beyond its extreme): the start is computed from a subsample
#: of long data, whose extremes the full data may exceed
MARGIN = 0.25


def _horner(coefs, s):
    acc = jnp.zeros_like(s) + coefs[-1]
    for c in coefs[-2::-1]:
        acc = c + s * acc
    return acc


def _log1p_ratio(u):
    """log(1 + u)/u for u > -1 (1 at u = 0), with exact first and second derivatives through 0.

    For |u| < SMALL the series of log(1 + u) = 2 atanh(v), v = u/(2 + u):
    log(1 + u)/u = 2/(2 + u) sum_k w^k/(2k + 1), w = v^2, whose terms fall by w < 0.0028 each
    (8 terms instead of the 20 that 1 - u/2 + u^2/3 - ... needs: measured 20% less time per
    Hessian pass). Elsewhere log(1 + u)/u: rounding 1 + u costs a relative error below 1e-15 in
    the logarithm there, so the plain log serves (XLA's CPU log is vectorized, its log1p is
    not). Each branch is fed only arguments where it is valid (the "double where"), so neither
    leaks NaN into gradients; u <= -1 (outside the support) gives a finite dummy that callers
    mask.
    """
    small = jnp.abs(u) < SMALL
    us = jnp.where(small, u, 0.0)
    r = 1.0 / (2.0 + us)
    w = (us * r) ** 2
    acc = jnp.zeros_like(w) + 1.0 / (2 * TERMS - 1)
    for k in range(TERMS - 2, -1, -1):
        acc = 1.0 / (2 * k + 1) + w * acc
    ud = jnp.where(small | (u <= -1.0), 1.0, u)
    return jnp.where(small, 2.0 * r * acc, jnp.log(1.0 + ud) / ud)


def _np_ratio_log(z, s):
    """numpy log(1 + s z)/s (z at s = 0) for the start values' log-likelihoods."""
    return z if abs(s) < 1e-12 else np.log1p(s * z) / s


def _sample_lmoments(x: np.ndarray) -> tuple[float, float, float]:
    """The first three sample L-moments (Hosking 1990), from probability-weighted moments."""
    y = np.sort(x)
    n = y.shape[0]
    i = np.arange(n, dtype=float)
    b0 = float(y.mean())
    b1 = float(np.dot(i, y)) / (n * (n - 1))
    b2 = float(np.dot(i * (i - 1), y)) / (n * (n - 1) * (n - 2)) if n > 2 else b1
    return b0, 2 * b1 - b0, 6 * b2 - 6 * b1 + b0


def _best(candidates, loglik):
    """The candidate start with the highest finite log-likelihood."""
    scores = [loglik(c) for c in candidates]
    scores = [v if math.isfinite(v) else -math.inf for v in scores]
    i = max(range(len(candidates)), key=scores.__getitem__)
    return {k: np.asarray(float(v)) for k, v in candidates[i].items()}


# -- generalized extreme value ------------------------------------------------------------------

def _gev_parts(x, p):
    """(inside the support, L = log(1 + shape z)/shape) with z = (x - loc)/scale."""
    s = p["shape"]
    z = (x - p["loc"]) / p["scale"]
    u = s * z
    return u > -1.0, z * _log1p_ratio(u)


def _gev_from_lmoments(l1: float, l2: float, s: float) -> dict:
    """loc and scale of the GEV with shape s and L-moments l1, l2 (Hosking, Wallis & Wood
    1985): l2 = scale Gamma(1 - s)(2^s - 1)/s, l1 = loc + scale (Gamma(1 - s) - 1)/s."""
    if abs(s) < 1e-8:
        scale = l2 / math.log(2)
        return {"loc": l1 - EULER * scale, "scale": scale, "shape": 0.0}
    g = math.gamma(1 - s)
    scale = l2 * s / (g * math.expm1(s * math.log(2)))
    return {"loc": l1 - scale * (g - 1) / s, "scale": scale, "shape": s}


#: the quantile-matching start uses these probabilities' -log: the 10%, 50% and 90% points
QUANTILE_LOGS = (-math.log(0.1), math.log(2.0), -math.log(0.9))


def _powm1(a: float, s: float) -> float:
    """(a^-s - 1)/s, log(1/a) at s = 0 (numpy-free scalar math)."""
    return -math.log(a) if abs(s) < 1e-12 else math.expm1(-s * math.log(a)) / s


def _gev_from_quantiles(q: tuple[float, float, float]) -> dict:
    """The GEV through three sample quantiles (10%, 50%, 90%): the shape solves
    (q90 - q50)/(q50 - q10) = ratio(shape), which increases with the shape, by bisection;
    loc and scale then follow. Quantiles exist for every shape, so this start suits heavy
    tails, where moments and L-moments do not exist (shape >= 1/2 and 1)."""
    a1, a2, a3 = QUANTILE_LOGS
    target = (q[2] - q[1]) / (q[1] - q[0])

    def ratio(s):
        return (_powm1(a3, s) - _powm1(a2, s)) / (_powm1(a2, s) - _powm1(a1, s))

    lo, hi = -5.0, 5.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ratio(mid) < target else (lo, mid)
    s = 0.5 * (lo + hi)
    scale = (q[2] - q[0]) / (_powm1(a3, s) - _powm1(a1, s))
    return {"loc": q[1] - scale * _powm1(a2, s), "scale": scale, "shape": s}


def _gev_room(p: dict, lo: float, mid: float, hi: float) -> bool:
    """True when the support holds the data with room to spare at the parameter-dependent end:
    below the smallest observation by MARGIN times (median - min) for shape > 0, above the
    largest by MARGIN times (max - median) for shape < 0 (the spread on that side, which stays
    finite-scale even when the other tail is very heavy)."""
    s = p["shape"]
    if s == 0.0:
        return True
    edge = lo - MARGIN * (mid - lo) if s > 0 else hi + MARGIN * (hi - mid)
    return p["scale"] > 0 and 1.0 + s * (edge - p["loc"]) / p["scale"] > 0


def _shrink(make, s: float, room) -> dict:
    """make(s) with s moved toward 0 (by factors 0.7) until room(make(s)); make(0) last."""
    for _ in range(60):
        p = make(s)
        if room(p):
            return p
        s *= 0.7
    return make(0.0)


def _gev_loglik_np(x: np.ndarray, p: dict) -> float:
    z = (x - p["loc"]) / p["scale"]
    if p["scale"] <= 0 or np.any(1.0 + p["shape"] * z <= 0):
        return -math.inf
    with np.errstate(over="ignore"):
        L = _np_ratio_log(z, p["shape"])
        return float(np.sum(-math.log(p["scale"]) - (1 + p["shape"]) * L - np.exp(-L)))


@dataclass(frozen=True, repr=False)
class GeneralizedExtremeValue(Family):
    r"""Generalized extreme value (GEV): the limit law of block maxima.

    .. math::
        F(x) = \exp\{-(1 + \xi z)^{-1/\xi}\}, \qquad
        \log f(x) = -\log\sigma - (1 + 1/\xi)\log(1 + \xi z) - (1 + \xi z)^{-1/\xi},

    with :math:`z = (x - \mu)/\sigma`, on :math:`1 + \xi z > 0`. Parameters ``loc`` (μ),
    ``scale`` (σ), ``shape`` (ξ) as R's ``evd::dgev`` (note that scipy's ``genextreme`` uses
    ``c = -shape``). ξ > 0 is the Fréchet type (heavy upper tail, lower end
    :math:`\mu - \sigma/\xi`), ξ = 0 the Gumbel limit :math:`\exp(-e^{-z})` (computed through a
    series in ξ, so values and first and second derivatives are exact and continuous there),
    ξ < 0 the (reversed) Weibull type (upper end :math:`\mu - \sigma/\xi`). The support depends
    on the parameters: the log-density is -inf outside it.

    The maximum likelihood estimate is regular (asymptotically normal, standard errors from
    the observed information) for ξ > -1/2; for -1 < ξ < -1/2 it exists but is non-regular
    (the end point is estimated faster than :math:`1/\sqrt n` and the usual standard errors do
    not apply); for ξ < -1 the likelihood is unbounded as the end point approaches the largest
    observation and no maximum likelihood estimate exists (Smith 1985).

    Start values: the better, by log-likelihood, of (a) the L-moment estimates of Hosking,
    Wallis & Wood (1985) (ξ from the sample L-skewness, clipped to [-0.9, 0.9]), and (b) the
    Gumbel method of moments :math:`\sigma = s\sqrt6/\pi`, :math:`\mu = \bar x - 0.5772\sigma`
    with ξ = 0.1 (as ismev's ``gev.fit``) and with ξ = 0; in each, ξ is moved toward 0 until
    every observation lies inside the support with room to spare (a quarter of the data's range
    beyond its extremes).

    Examples
    --------
    >>> import mlekit as mk
    >>> x = mk.GeneralizedExtremeValue().sample({"loc": 10.0, "scale": 2.0, "shape": 0.0},
    ...                                         500, rng=1)
    >>> fit = mk.fit(mk.GeneralizedExtremeValue(), x)
    >>> fit.converged, abs(fit.params["shape"]) < 3 * fit.se["shape"]
    (True, True)
    """

    name = "generalized_extreme_value"
    description = "block maxima (Gumbel, Frechet and reversed Weibull types)"
    formula = ("f(x) = t^(-1 - 1/shape) exp(-t^(-1/shape)) / scale,  "
               "t = 1 + shape (x - loc)/scale > 0 "
               "(shape = 0: t^(-1/shape) = exp(-(x - loc)/scale))")
    support_text = "1 + shape (x - loc)/scale > 0"
    PARAMS = {"loc": Real(), "scale": Positive(), "shape": Real()}
    threshold_form = True  # the end point depends on the parameters; regular only for shape > -1/2
    min_n = 3
    needs_spread = True

    def logpdf(self, x, p):
        inside, L = _gev_parts(x, p)
        val = -jnp.log(p["scale"]) - (1.0 + p["shape"]) * L - jnp.exp(-L)
        return jnp.where(inside, val, -jnp.inf)

    def logcdf(self, x, p):
        inside, L = _gev_parts(x, p)
        outside = jnp.where(p["shape"] > 0, -jnp.inf, 0.0)  # below the lower / above the upper end
        return jnp.where(inside, -jnp.exp(-L), outside)

    def logsf(self, x, p):
        inside, L = _gev_parts(x, p)
        e = jnp.exp(-L)  # -log F
        # log(1 - exp(-e)) = -L + log((1 - exp(-e))/e) = -L - e/2 + O(e^2): exact where e
        # would underflow (far upper tail); log1mexp elsewhere
        far = L > 18.0
        body = log1mexp(-jnp.where(far, 1.0, e))
        val = jnp.where(far, -L - 0.5 * e, body)
        outside = jnp.where(p["shape"] > 0, 0.0, -jnp.inf)
        return jnp.where(inside, val, outside)

    def mean(self, p):
        s = p["shape"]
        small = jnp.abs(s) < SMALL_SHAPE
        sd = jnp.where(small | (s >= 1), 0.5, s)
        ratio = jnp.where(small, _horner(MEAN_SERIES, jnp.where(small, s, 0.0)),
                          jnp.expm1(jss.gammaln(1 - sd)) / sd)
        return jnp.where(s < 1, p["loc"] + p["scale"] * ratio, jnp.inf)

    def variance(self, p):
        s = p["shape"]
        small = jnp.abs(s) < SMALL_SHAPE
        sd = jnp.where(small | (s >= 0.5), 0.25, s)
        g1, g2 = jss.gammaln(1 - sd), jss.gammaln(1 - 2 * sd)
        direct = jnp.exp(2 * g1) * jnp.expm1(g2 - 2 * g1) / (sd * sd)
        ratio = jnp.where(small, _horner(VAR_SERIES, jnp.where(small, s, 0.0)), direct)
        return jnp.where(s < 0.5, p["scale"] ** 2 * ratio, jnp.inf)

    def sample(self, p, size, rng=None):
        # F(x) = exp(-E) with E standard exponential: x = loc + scale (E^-shape - 1)/shape
        w = -np.log(rng_of(rng).standard_exponential(size))
        s = np.asarray(p["shape"], dtype=float)
        zero = s == 0
        s_safe = np.where(zero, 1.0, s)
        z = np.where(zero, w, np.expm1(s_safe * w) / s_safe)
        return p["loc"] + p["scale"] * z

    def start(self, x):
        lo, mid, hi = float(x.min()), float(np.median(x)), float(x.max())

        def room(p):
            return _gev_room(p, lo, mid, hi)

        l1, l2, l3 = _sample_lmoments(x)
        c = 2.0 / (3.0 + l3 / l2) - LOG2_OVER_LOG3
        s_lm = float(np.clip(-(7.8590 * c + 2.9554 * c * c), -0.9, 0.9))
        scale = float(np.std(x)) * math.sqrt(6) / math.pi
        mean = float(np.mean(x))

        def gumbel(s):
            return {"loc": mean - EULER * scale, "scale": scale, "shape": s}

        candidates = [_shrink(lambda s: _gev_from_lmoments(l1, l2, s), s_lm, room),
                      _shrink(gumbel, 0.1, room), gumbel(0.0)]
        q = tuple(float(v) for v in np.quantile(x, (0.1, 0.5, 0.9)))
        if q[0] < q[1] < q[2]:
            by_q = _gev_from_quantiles(q)
            candidates.append(by_q if room(by_q) else _shrink(
                lambda s: {**by_q, "shape": s}, by_q["shape"], room))
        return _best(candidates, lambda p: _gev_loglik_np(x, p))


# -- generalized Pareto -------------------------------------------------------------------------

def _gpd_room(p: dict, hi: float) -> bool:
    """True when the support [0, -scale/shape) (shape < 0) holds the largest excess widened by
    MARGIN."""
    s = p["shape"]
    return p["scale"] > 0 and (s >= 0 or 1.0 + s * (1 + MARGIN) * hi / p["scale"] > 0)


def _gpd_loglik_np(y: np.ndarray, p: dict) -> float:
    z = y / p["scale"]
    if p["scale"] <= 0 or np.any(1.0 + p["shape"] * z <= 0):
        return -math.inf
    return float(np.sum(-math.log(p["scale"]) - (1 + p["shape"]) * _np_ratio_log(z, p["shape"])))


@dataclass(frozen=True, repr=False)
class GeneralizedPareto(Family):
    r"""Generalized Pareto (GPD): the limit law of exceedances over a high threshold.

    .. math::
        F(x) = 1 - (1 + \xi y/\sigma)^{-1/\xi}, \qquad
        \log f(x) = -\log\sigma - (1 + 1/\xi)\log(1 + \xi y/\sigma),

    with :math:`y = x - \text{loc} \ge 0` (and :math:`y < -\sigma/\xi` when ξ < 0).
    Parameters ``scale`` (σ) and ``shape`` (ξ) as R's ``evd::dgpd``; the threshold ``loc`` is a
    known option (``GeneralizedPareto(loc=10.0)``), not estimated, and the data must be
    >= loc. ξ = 0 is the exponential limit :math:`F = 1 - e^{-y/\sigma}` (computed through a
    series in ξ: values and first and second derivatives exact and continuous there); ξ < 0
    gives a parameter-dependent upper end :math:`\text{loc} - \sigma/\xi`, outside which the
    log-density is -inf. ξ = -1 is the uniform on [loc, loc + σ].

    As for the GEV (Smith 1985), the maximum likelihood estimate is regular for ξ > -1/2,
    non-regular for -1 < ξ < -1/2, and does not exist for ξ < -1 (the likelihood is unbounded
    as the end point approaches the largest observation).

    Start values: the better, by log-likelihood, of the method of moments of Hosking & Wallis
    (1987) on :math:`y` (:math:`\xi = (1 - \bar y^2/s^2)/2`, :math:`\sigma = \bar y(1 + \bar
    y^2/s^2)/2`) and the L-moment estimates (:math:`\xi = 2 - \lambda_1/\lambda_2`,
    :math:`\sigma = \lambda_1 (1 - \xi)`); in each, a negative ξ is moved toward 0 (with σ =
    :math:`\bar y (1 - \xi)`, the mean kept) until the largest observation lies inside the
    support with room to spare.

    Examples
    --------
    >>> import mlekit as mk
    >>> gpd = mk.GeneralizedPareto(loc=10.0)  # exceedances over the threshold 10
    >>> x = gpd.sample({"scale": 2.0, "shape": 0.3}, 500, rng=2)
    >>> fit = mk.fit(gpd, x)
    >>> fit.converged, fit.param_names
    (True, ('scale', 'shape'))
    >>> mk.fit(gpd, [9.0, 11.0, 12.5])
    Traceback (most recent call last):
    ...
    mlekit._errors.DataError: x[0] = 9.0 is outside the support of generalized_pareto (x >= 10)...
    """

    name = "generalized_pareto"
    description = "exceedances over a known threshold loc"
    formula = ("f(x) = (1 + shape (x - loc)/scale)^(-1 - 1/shape) / scale,  x >= loc "
               "(shape = 0: exp(-(x - loc)/scale) / scale)")
    support_text = "x >= loc (known); also x < loc - scale/shape when shape < 0"
    PARAMS = {"scale": Positive(), "shape": Real()}
    loc: float = 0.0
    threshold_form = True  # the upper end depends on the parameters when shape < 0
    min_n = 2
    needs_spread = True

    def __post_init__(self):
        try:
            ok = math.isfinite(float(self.loc))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ModelError(
                f"GeneralizedPareto(loc={self.loc!r}): the threshold loc must be a finite "
                "number, e.g. loc=10.0."
            )

    @property
    def support(self):
        return Support(lower=float(self.loc), lower_open=False)

    def _parts(self, x, p):
        y = x - self.loc
        z = y / p["scale"]
        u = p["shape"] * z
        return y, (y >= 0) & (u > -1.0), z * _log1p_ratio(u)

    def logpdf(self, x, p):
        _, inside, L = self._parts(x, p)
        return jnp.where(inside, -jnp.log(p["scale"]) - (1.0 + p["shape"]) * L, -jnp.inf)

    def logcdf(self, x, p):
        y, inside, L = self._parts(x, p)
        body = inside & (y > 0)
        val = log1mexp(-jnp.where(body, L, 1.0))
        return jnp.where(body, val, jnp.where(y > 0, 0.0, -jnp.inf))

    def logsf(self, x, p):
        y, inside, L = self._parts(x, p)
        return jnp.where(inside, -L, jnp.where(y < 0, 0.0, -jnp.inf))

    def mean(self, p):
        s = p["shape"]
        ok = s < 1
        return jnp.where(ok, self.loc + p["scale"] / (1 - jnp.where(ok, s, 0.0)), jnp.inf)

    def variance(self, p):
        s = p["shape"]
        ok = s < 0.5
        s_ = jnp.where(ok, s, 0.0)
        return jnp.where(ok, p["scale"] ** 2 / ((1 - s_) ** 2 * (1 - 2 * s_)), jnp.inf)

    def sample(self, p, size, rng=None):
        # the survival (1 + shape y/scale)^(-1/shape) = exp(-E), E standard exponential
        e = rng_of(rng).standard_exponential(size)
        s = np.asarray(p["shape"], dtype=float)
        zero = s == 0
        s_safe = np.where(zero, 1.0, s)
        y = np.where(zero, e, np.expm1(s_safe * e) / s_safe)
        return self.loc + p["scale"] * y

    def start(self, x):
        y = x - self.loc
        hi = float(y.max())
        m, v = float(y.mean()), float(y.var())
        l1, l2, _ = _sample_lmoments(y)
        r = m * m / v

        def keep_mean(s):
            return {"scale": m * (1 - s), "shape": s}

        candidates = [{"scale": m * (1 + r) / 2, "shape": (1 - r) / 2}]
        if l2 > 0:
            s = float(np.clip(2.0 - l1 / l2, -0.9, 0.9))
            candidates.append({"scale": l1 * (1 - s), "shape": s})
        candidates = [p if _gpd_room(p, hi) else _shrink(keep_mean, p["shape"],
                                                         lambda q: _gpd_room(q, hi))
                      for p in candidates]
        return _best(candidates, lambda p: _gpd_loglik_np(y, p))

    def __repr__(self):
        return "GeneralizedPareto()" if self.loc == 0.0 else f"GeneralizedPareto(loc={self.loc!r})"


CATALOGUE = (GeneralizedExtremeValue, GeneralizedPareto)
