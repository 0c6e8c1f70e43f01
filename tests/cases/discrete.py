"""Cases for Bernoulli, Poisson and Categorical (scipy: bernoulli, poisson; none for the
categorical, which tests/families/test_discrete.py covers instead)."""

from __future__ import annotations

import numpy as np
from scipy import stats

import mlekit as mk
from cases import Case

K = 4


def _discrete_fit(dist, bounds, to_ours):
    """scipy's own fit for a discrete family (``scipy.stats.fit``: discrete distributions have
    no ``.fit``), in our parameters."""
    def fit(x):
        res = stats.fit(dist, x, bounds=bounds)
        return to_ours(res.params)

    return fit


CASES = [
    Case(
        family=mk.Bernoulli(),
        truth={"prob": 0.3},
        draw_params=lambda r: {"prob": r.uniform(0.02, 0.98)},
        scipy=lambda p: stats.bernoulli(p["prob"]),
        scipy_fit=_discrete_fit(stats.bernoulli, {"p": (0, 1)}, lambda q: {"prob": q.p}),
    ),
    Case(
        family=mk.Poisson(),
        truth={"lambda": 3.0},
        draw_params=lambda r: {"lambda": float(np.exp(r.uniform(-3, 5)))},
        scipy=lambda p: stats.poisson(p["lambda"]),
        scipy_fit=_discrete_fit(stats.poisson, {"mu": (0, 100)}, lambda q: {"lambda": q.mu}),
    ),
    Case(
        family=mk.Categorical(),
        truth={"probs": np.array([0.1, 0.2, 0.3, 0.4])},
        draw_params=lambda r: {"probs": r.dirichlet(np.full(K, 0.7))},
    ),
]
