"""The catalogue's test cases: one :class:`Case` per family, declared next to each other in
``tests/cases/<module>.py`` (one module per family module), and run by the generic tests of
``tests/test_catalogue.py`` (scipy agreement, tails, moments, sampler, fits, round trips).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MODULES = ("continuous", "location_scale", "positive", "extremes", "threshold", "discrete",
           "counts", "multivariate")


@dataclass(frozen=True)
class Case:
    """A family, parameters to simulate from, and its scipy counterpart.

    family      : an instance, options set (e.g. ``mk.Binomial(size=10)``)
    truth       : natural parameters for the sampler round trip (n = 20,000)
    draw_params : rng -> random natural parameters for the distribution-function checks
    scipy       : params -> frozen scipy distribution (``logpdf``/``logpmf``, ``logcdf``,
                  ``logsf``, ``mean``, ``var``), or None where scipy lacks the family
    scipy_fit   : x -> scipy's own fit in our parameters, or None where scipy cannot fit it;
                  the fit must raise or return; the test records which
    rtol        : relative tolerance for the log-density and log-CDF checks
    """

    family: object
    truth: dict
    draw_params: Callable[[np.random.Generator], dict]
    scipy: Callable[[dict], object] | None = None
    scipy_fit: Callable[[np.ndarray], dict] | None = None
    rtol: float = 1e-9
    #: tolerance against scipy at the 1e-12 / 1e-250 tail points, where scipy's own log-CDF
    #: may cancel (the family tests check those points against mpmath)
    tail_rtol: float = 1e-5
    #: extra keyword options for the fit (e.g. start values a test wants to exercise)
    fit_options: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.family.name


def log_uniform(rng: np.random.Generator, lo: float = -1.0, hi: float = 1.0) -> float:
    """A positive parameter exp(U(lo, hi)): spread evenly over orders of magnitude."""
    return float(np.exp(rng.uniform(lo, hi)))


def all_cases() -> list[Case]:
    out = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"cases.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"cases.{name}":
                raise
            continue
        out.extend(module.CASES)
    return out
