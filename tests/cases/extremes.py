"""Cases for the extreme-value families. scipy's ``genextreme`` takes ``c = -shape`` (the
opposite sign convention to evd's and ours); ``genpareto`` takes ``c = shape``."""

from __future__ import annotations

import numpy as np
from scipy import stats

import mlekit as mk
from cases import Case

GPD_LOC = 2.0  # the known threshold of the GPD case (a non-default option)


def _gev_params(rng):
    # shapes on both sides of 0, up to where the variance (0.5) diverges
    return {"loc": rng.uniform(-5, 5), "scale": float(np.exp(rng.uniform(-1, 1))),
            "shape": rng.uniform(-0.45, 0.7)}


def _gev_fit(x):
    c, loc, scale = stats.genextreme.fit(x)
    return {"loc": loc, "scale": scale, "shape": -c}


def _gpd_params(rng):
    return {"scale": float(np.exp(rng.uniform(-1, 1))), "shape": rng.uniform(-0.45, 1.1)}


def _gpd_fit(x):
    c, _, scale = stats.genpareto.fit(x, floc=GPD_LOC)
    return {"scale": scale, "shape": c}


CASES = [
    Case(
        family=mk.GeneralizedExtremeValue(),
        truth={"loc": 10.0, "scale": 2.0, "shape": 0.2},
        draw_params=_gev_params,
        scipy=lambda p: stats.genextreme(-p["shape"], loc=p["loc"], scale=p["scale"]),
        scipy_fit=_gev_fit,
    ),
    Case(
        family=mk.GeneralizedPareto(loc=GPD_LOC),
        truth={"scale": 2.0, "shape": 0.2},
        draw_params=_gpd_params,
        scipy=lambda p: stats.genpareto(p["shape"], loc=GPD_LOC, scale=p["scale"]),
        scipy_fit=_gpd_fit,
    ),
]
