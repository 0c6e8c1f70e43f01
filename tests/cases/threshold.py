"""Cases for the non-regular families: Uniform, Pareto and the threshold forms."""

from __future__ import annotations

import numpy as np
from scipy import stats

import mlekit as mk
from cases import Case
from cases import log_uniform as _positive


def _uniform_params(rng):
    lo = rng.uniform(-5, 5)
    return {"min": lo, "max": lo + _positive(rng, -2, 2)}


def _uniform_fit(x):
    loc, scale = stats.uniform.fit(x)
    return {"min": loc, "max": loc + scale}


def _pareto_fit(x):
    b, _, scale = stats.pareto.fit(x, floc=0)
    return {"shape": b, "scale": scale}


def _weibull3_fit(x):
    c, loc, scale = stats.weibull_min.fit(x)
    return {"shape": c, "scale": scale, "threshold": loc}


def _lognormal3_fit(x):
    s, loc, scale = stats.lognorm.fit(x)
    return {"meanlog": np.log(scale), "sdlog": s, "threshold": loc}


def _gamma3_fit(x):
    a, loc, scale = stats.gamma.fit(x)
    return {"shape": a, "rate": 1 / scale, "threshold": loc}


CASES = [
    Case(
        family=mk.Uniform(),
        truth={"min": 2.0, "max": 5.0},
        draw_params=_uniform_params,
        scipy=lambda p: stats.uniform(loc=p["min"], scale=p["max"] - p["min"]),
        scipy_fit=_uniform_fit,
    ),
    Case(
        family=mk.Pareto(),
        truth={"shape": 2.5, "scale": 3.0},
        draw_params=lambda r: {"shape": _positive(r, -1, 1.5), "scale": _positive(r, -2, 2)},
        scipy=lambda p: stats.pareto(b=p["shape"], scale=p["scale"]),
        scipy_fit=_pareto_fit,
        # scipy's log(1 - (scale/x)^shape) cancels just above the scale (1e-5 off at the
        # 1e-12 quantile); ours is exact there (tests/families/test_threshold.py, mpmath)
        tail_rtol=1e-4,
    ),
    Case(
        family=mk.Weibull3(),
        truth={"shape": 3.0, "scale": 5.0, "threshold": 10.0},
        draw_params=lambda r: {"shape": _positive(r, -1, 1.5), "scale": _positive(r, -1, 2),
                               "threshold": r.uniform(-10, 10)},
        scipy=lambda p: stats.weibull_min(p["shape"], loc=p["threshold"], scale=p["scale"]),
        scipy_fit=_weibull3_fit,
    ),
    Case(
        family=mk.LogNormal3(),
        truth={"meanlog": 1.0, "sdlog": 0.5, "threshold": 10.0},
        draw_params=lambda r: {"meanlog": r.uniform(-2, 2), "sdlog": _positive(r, -1.5, 0.5),
                               "threshold": r.uniform(-10, 10)},
        scipy=lambda p: stats.lognorm(p["sdlog"], loc=p["threshold"], scale=np.exp(p["meanlog"])),
        scipy_fit=_lognormal3_fit,
    ),
    Case(
        family=mk.Gamma3(),
        truth={"shape": 4.0, "rate": 2.0, "threshold": 10.0},
        draw_params=lambda r: {"shape": _positive(r, -1, 2), "rate": _positive(r, -2, 2),
                               "threshold": r.uniform(-10, 10)},
        scipy=lambda p: stats.gamma(p["shape"], loc=p["threshold"], scale=1 / p["rate"]),
        scipy_fit=_gamma3_fit,
    ),
]
