"""Cases for the count families of ``_families/counts.py``. scipy: ``binom(size, prob)``,
``geom(prob, loc=-1)`` (scipy counts trials, R and we count failures), ``nbinom(n=size,
p=size/(size+mu))``; scipy has no zero-inflated distributions (tests/families/test_counts.py
checks those against a numpy mixture of scipy's poisson / nbinom)."""

from __future__ import annotations

from scipy import stats

import mlekit as mk
from cases import Case
from cases import log_uniform as _positive

SIZE = 20  # the binomial case's known number of trials



def _nbinom(p):
    return stats.nbinom(p["size"], p["size"] / (p["size"] + p["mu"]))


def _scipy_fit(dist, bounds, to_ours):
    """scipy's own fit of a discrete family (``scipy.stats.fit``, differential evolution within
    ``bounds``: discrete distributions have no ``.fit``), in our parameters."""
    def fit(x):
        return to_ours(stats.fit(dist, x, bounds=bounds).params)

    return fit


def _nbinom_from_scipy(q):
    return {"size": q.n, "mu": q.n * (1 - q.p) / q.p}


CASES = [
    Case(
        family=mk.Binomial(size=SIZE),
        truth={"prob": 0.3},
        draw_params=lambda r: {"prob": r.uniform(0.02, 0.98)},
        scipy=lambda p: stats.binom(SIZE, p["prob"]),
        scipy_fit=_scipy_fit(stats.binom, {"n": (SIZE, SIZE), "p": (0, 1)},
                             lambda q: {"prob": q.p}),
    ),
    Case(
        family=mk.Geometric(),
        truth={"prob": 0.2},
        draw_params=lambda r: {"prob": r.uniform(0.02, 0.95)},
        scipy=lambda p: stats.geom(p["prob"], loc=-1),
        scipy_fit=_scipy_fit(stats.geom, {"p": (0, 1), "loc": (-1, -1)},
                             lambda q: {"prob": q.p}),
    ),
    Case(
        family=mk.NegativeBinomial(),
        truth={"size": 2.5, "mu": 4.0},
        draw_params=lambda r: {"size": _positive(r, -1.5, 3), "mu": _positive(r, -2, 5)},
        scipy=_nbinom,
        scipy_fit=_scipy_fit(stats.nbinom, {"n": (1e-3, 100), "p": (0, 1)}, _nbinom_from_scipy),
    ),
    Case(
        family=mk.ZeroInflatedPoisson(),
        truth={"pi": 0.3, "lambda": 3.0},
        draw_params=lambda r: {"pi": r.uniform(0.05, 0.8), "lambda": _positive(r, -1, 3)},
    ),
    Case(
        family=mk.ZeroInflatedNegativeBinomial(),
        truth={"pi": 0.3, "size": 2.0, "mu": 5.0},
        draw_params=lambda r: {"pi": r.uniform(0.05, 0.8), "size": _positive(r, -1, 2.5),
                               "mu": _positive(r, -1, 4)},
    ),
]
