"""Cases for the classic continuous families: Normal, LogNormal, Exponential, Gamma, Weibull,
StudentT (scipy: norm, lognorm, expon, gamma, weibull_min, t, in our parametrizations)."""

from __future__ import annotations

import numpy as np
from scipy import stats

import mlekit as mk
from cases import Case
from cases import log_uniform as _positive


def _lognormal_fit(x):
    s, _, scale = stats.lognorm.fit(x, floc=0)
    return {"meanlog": np.log(scale), "sdlog": s}


def _gamma_fit(x):
    a, _, scale = stats.gamma.fit(x, floc=0)
    return {"shape": a, "rate": 1 / scale}


def _weibull_fit(x):
    c, _, scale = stats.weibull_min.fit(x, floc=0)
    return {"shape": c, "scale": scale}


def _t_fit(x):
    df, loc, scale = stats.t.fit(x)
    return {"location": loc, "scale": scale, "df": df}


CASES = [
    Case(
        family=mk.Normal(),
        truth={"mean": 3.0, "sd": 2.0},
        draw_params=lambda r: {"mean": r.normal(0, 5), "sd": _positive(r, -2.0, 2.0)},
        scipy=lambda p: stats.norm(p["mean"], p["sd"]),
        scipy_fit=lambda x: dict(zip(("mean", "sd"), stats.norm.fit(x), strict=True)),
    ),
    Case(
        family=mk.LogNormal(),
        truth={"meanlog": 1.0, "sdlog": 0.5},
        draw_params=lambda r: {"meanlog": r.normal(0, 2), "sdlog": _positive(r, -1.5, 1)},
        scipy=lambda p: stats.lognorm(p["sdlog"], scale=np.exp(p["meanlog"])),
        scipy_fit=_lognormal_fit,
    ),
    Case(
        family=mk.Exponential(),
        truth={"rate": 0.5},
        draw_params=lambda r: {"rate": _positive(r, -2.0, 2.0)},
        scipy=lambda p: stats.expon(scale=1 / p["rate"]),
        scipy_fit=lambda x: {"rate": 1 / stats.expon.fit(x, floc=0)[1]},
    ),
    Case(
        family=mk.Gamma(),
        truth={"shape": 2.5, "rate": 1.5},
        draw_params=lambda r: {"shape": _positive(r, -1.5, 3), "rate": _positive(r, -2.0, 2.0)},
        scipy=lambda p: stats.gamma(p["shape"], scale=1 / p["rate"]),
        scipy_fit=_gamma_fit,
    ),
    Case(
        family=mk.Weibull(),
        truth={"shape": 1.5, "scale": 3.0},
        draw_params=lambda r: {"shape": _positive(r, -1, 1.5), "scale": _positive(r, -2.0, 2.0)},
        scipy=lambda p: stats.weibull_min(p["shape"], scale=p["scale"]),
        scipy_fit=_weibull_fit,
    ),
    Case(
        family=mk.StudentT(),
        truth={"location": 1.0, "scale": 2.0, "df": 4.0},
        draw_params=lambda r: {"location": r.normal(0, 5), "scale": _positive(r, -2.0, 2.0),
                               "df": _positive(r, -1, 4)},
        scipy=lambda p: stats.t(p["df"], p["location"], p["scale"]),
        scipy_fit=_t_fit,
    ),
]
