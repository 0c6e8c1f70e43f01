"""Cases for the positive families: beta, inverse Gaussian, Rayleigh, log-logistic, inverse
gamma, Fréchet (scipy's beta, invgauss, rayleigh, fisk, invgamma, invweibull).

Parameter ranges: shapes that put scipy's ppf(1e-250) below 2.2e-308 (beta's shape1 and the
log-logistic's shape below ~0.82) are left to tests/families/test_positive.py, because XLA
flushes subnormal inputs to zero. Fréchet shapes stay above 2 because scipy's invweibull
reports finite means and variances where they diverge (mean 1.74 at shape 0.46, variance
-11.2 at shape 1.5); the family tests check ours are infinite there."""

from __future__ import annotations

from scipy import stats

import mlekit as mk
from cases import Case
from cases import log_uniform as _positive


def _beta_fit(x):
    a, b, _, _ = stats.beta.fit(x, floc=0, fscale=1)
    return {"shape1": a, "shape2": b}


def _invgauss_fit(x):
    mu, _, scale = stats.invgauss.fit(x, floc=0)
    return {"mean": mu * scale, "shape": scale}


def _rayleigh_fit(x):
    _, scale = stats.rayleigh.fit(x, floc=0)
    return {"scale": scale}


def _shape_scale_fit(dist):
    def fit(x):
        c, _, scale = dist.fit(x, floc=0)
        return {"shape": c, "scale": scale}

    return fit


CASES = [
    Case(
        family=mk.Beta(),
        truth={"shape1": 2.0, "shape2": 5.0},
        draw_params=lambda r: {"shape1": _positive(r, -0.15, 2.5),
                               "shape2": _positive(r, -0.15, 2.5)},
        scipy=lambda p: stats.beta(p["shape1"], p["shape2"]),
        scipy_fit=_beta_fit,
    ),
    Case(
        family=mk.InverseGaussian(),
        truth={"mean": 2.0, "shape": 3.0},
        draw_params=lambda r: {"mean": _positive(r, -2, 2), "shape": _positive(r, -2, 3)},
        scipy=lambda p: stats.invgauss(p["mean"] / p["shape"], scale=p["shape"]),
        scipy_fit=_invgauss_fit,
    ),
    Case(
        family=mk.Rayleigh(),
        truth={"scale": 2.0},
        draw_params=lambda r: {"scale": _positive(r, -2, 2)},
        scipy=lambda p: stats.rayleigh(scale=p["scale"]),
        scipy_fit=_rayleigh_fit,
    ),
    Case(
        family=mk.LogLogistic(),
        truth={"shape": 3.0, "scale": 2.0},
        draw_params=lambda r: {"shape": _positive(r, -0.15, 2), "scale": _positive(r, -2, 2)},
        scipy=lambda p: stats.fisk(p["shape"], scale=p["scale"]),
        scipy_fit=_shape_scale_fit(stats.fisk),
    ),
    Case(
        family=mk.InverseGamma(),
        truth={"shape": 3.0, "scale": 2.0},
        draw_params=lambda r: {"shape": _positive(r, -1, 2.5), "scale": _positive(r, -2, 2)},
        scipy=lambda p: stats.invgamma(p["shape"], scale=p["scale"]),
        scipy_fit=_shape_scale_fit(stats.invgamma),
    ),
    Case(
        family=mk.Frechet(),
        truth={"shape": 2.5, "scale": 3.0},
        draw_params=lambda r: {"shape": _positive(r, 0.75, 2), "scale": _positive(r, -2, 2)},
        scipy=lambda p: stats.invweibull(p["shape"], scale=p["scale"]),
        scipy_fit=_shape_scale_fit(stats.invweibull),
    ),
]
