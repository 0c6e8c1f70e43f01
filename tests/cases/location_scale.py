"""Cases for the location-scale families and the von Mises distribution."""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, stats

import mlekit as mk
from cases import Case
from cases import log_uniform as _positive


def _loc_scale(rng):
    return {"location": rng.uniform(-10, 10), "scale": _positive(rng, -2, 2)}


def _fit_loc_scale(dist):
    def fit(x):
        loc, scale = dist.fit(x)
        return {"location": loc, "scale": scale}
    return fit


def _skew_normal_fit(x):
    a, loc, scale = stats.skewnorm.fit(x)
    return {"xi": loc, "omega": scale, "alpha": a}


class VonMisesOnCircle:
    """scipy's von Mises in mlekit's convention: support (-pi, pi], CDF from -pi.

    scipy (>= 1.12) defines the density periodically but its CDF as the unwrapped integral from
    loc - pi (so it is negative below that), and its mean and variance with the circle cut
    opposite loc. Here the CDF is the integral of scipy's density from -pi (by quadrature),
    the mean is scipy's, the variance by quadrature.
    """

    def __init__(self, mu: float, kappa: float):
        self.mu, self.kappa = float(mu), float(kappa)
        self.std = stats.vonmises(kappa)  # centred: the density at x is std.pdf(x - mu)

    def support(self):
        return (-math.pi, math.pi)

    def pdf(self, x):
        return self.std.pdf(np.asarray(x) - self.mu)

    def logpdf(self, x):
        return self.std.logpdf(np.asarray(x) - self.mu)

    def _mass(self, lo, hi):
        """P(lo < X <= hi) for -pi <= lo <= hi <= pi, by quadrature of scipy's density (scipy's
        CDF is good to only ~1e-6 relative at kappa ~ 50, and cancels where the mass is tiny)."""
        return integrate.quad(self.pdf, lo, hi, points=[self.mu] if lo < self.mu < hi else None,
                              epsabs=0.0, epsrel=1e-13, limit=200)[0]

    def _each(self, fun, x):
        x = np.asarray(x, dtype=float)
        return np.vectorize(fun, otypes=[float])(x)

    def cdf(self, x):
        return self._each(lambda v: self._mass(-math.pi, min(max(v, -math.pi), math.pi)), x)

    def sf(self, x):
        return self._each(lambda v: self._mass(min(max(v, -math.pi), math.pi), math.pi), x)

    def logcdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.cdf(x))

    def logsf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    def _root(self, fun, q):
        """The x in (-pi, pi) with fun(x) = q, fun monotone; nan where q is beyond what double
        precision resolves at the ends of the circle."""
        lo, hi = np.nextafter(-math.pi, 0.0), np.nextafter(math.pi, 0.0)
        f_lo, f_hi = float(fun(lo)), float(fun(hi))
        if not min(f_lo, f_hi) < q < max(f_lo, f_hi):
            return math.nan
        return optimize.brentq(lambda v: math.log(float(fun(v))) - math.log(q), lo, hi,
                               xtol=1e-15, rtol=1e-15)

    def ppf(self, q):
        return self._root(self.cdf, q)

    def isf(self, q):
        return self._root(self.sf, q)

    def mean(self):
        return math.pi - (math.pi - self.mu) % (2 * math.pi)

    def var(self):
        # by quadrature: scipy's vonmises.var is off by up to ~4e-5 relative (kappa ~ 50)
        return integrate.quad(lambda t: t * t * self.std.pdf(t), -math.pi, math.pi, points=[0.0],
                              epsabs=0.0, epsrel=1e-13, limit=200)[0]


def _von_mises_fit(x):
    kappa, loc, _ = stats.vonmises.fit(x, fscale=1)
    return {"mu": loc, "kappa": kappa}


CASES = [
    Case(
        family=mk.Cauchy(),
        truth={"location": 3.0, "scale": 2.0},
        draw_params=_loc_scale,
        scipy=lambda p: stats.cauchy(loc=p["location"], scale=p["scale"]),
        scipy_fit=_fit_loc_scale(stats.cauchy),
    ),
    Case(
        family=mk.Logistic(),
        truth={"location": -2.0, "scale": 1.5},
        draw_params=_loc_scale,
        scipy=lambda p: stats.logistic(loc=p["location"], scale=p["scale"]),
        scipy_fit=_fit_loc_scale(stats.logistic),
    ),
    Case(
        family=mk.Laplace(),
        truth={"location": 10.0, "scale": 1.0},
        draw_params=_loc_scale,
        scipy=lambda p: stats.laplace(loc=p["location"], scale=p["scale"]),
        scipy_fit=_fit_loc_scale(stats.laplace),
    ),
    Case(
        family=mk.Gumbel(),
        truth={"location": 5.0, "scale": 2.0},
        draw_params=_loc_scale,
        scipy=lambda p: stats.gumbel_r(loc=p["location"], scale=p["scale"]),
        scipy_fit=_fit_loc_scale(stats.gumbel_r),
    ),
    Case(
        family=mk.SkewNormal(),
        truth={"xi": 1.0, "omega": 2.0, "alpha": 4.0},
        draw_params=lambda r: {"xi": r.uniform(-5, 5), "omega": _positive(r, -1.5, 1.5),
                               "alpha": r.uniform(-8, 8)},
        scipy=lambda p: stats.skewnorm(p["alpha"], loc=p["xi"], scale=p["omega"]),
        scipy_fit=_skew_normal_fit,
    ),
    Case(
        family=mk.VonMises(),
        truth={"mu": 0.5, "kappa": 4.0},
        draw_params=lambda r: {"mu": r.uniform(-math.pi, math.pi), "kappa": _positive(r, -1, 4)},
        scipy=lambda p: VonMisesOnCircle(p["mu"], p["kappa"]),
        scipy_fit=_von_mises_fit,
    ),
]
