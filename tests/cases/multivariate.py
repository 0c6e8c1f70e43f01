"""Cases for the multivariate families: MultivariateNormal, Multinomial, Dirichlet.

The generic tests check only the log-density, the sampler's mean, the fits and the round trip
for kind "multivariate" (no CDFs or scalar moments). Families are given with their dimension
set, so that ``family.params`` works before any data are seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

import mlekit as mk
from cases import Case

D = 3


def _mvn_params(rng):
    a = rng.normal(size=(D, D))
    cov = a @ a.T + 0.5 * np.eye(D)
    return {"mean": rng.normal(0, 3, size=D), "cov": cov}


def _mvn_fit(x):
    mean, cov = stats.multivariate_normal.fit(x)
    return {"mean": mean, "cov": cov}


@dataclass(frozen=True)
class _Multinomial:
    """scipy's multinomial with each row's own number of trials (its total)."""

    probs: np.ndarray

    def logpmf(self, x):
        x = np.asarray(x)
        return stats.multinomial.logpmf(x, x.sum(-1), self.probs)


@dataclass(frozen=True)
class _Dirichlet:
    """scipy's dirichlet, which takes the components along the first axis: x.T."""

    alpha: np.ndarray

    def logpdf(self, x):
        return stats.dirichlet.logpdf(np.asarray(x).T, self.alpha)


CASES = [
    Case(
        family=mk.MultivariateNormal(d=D),
        truth={"mean": np.array([1.0, -2.0, 10.0]),
               "cov": np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])},
        draw_params=_mvn_params,
        scipy=lambda p: stats.multivariate_normal(p["mean"], p["cov"]),
        scipy_fit=_mvn_fit,
    ),
    Case(
        family=mk.Multinomial(k=4, size=20),
        truth={"probs": np.array([0.1, 0.2, 0.3, 0.4])},
        draw_params=lambda r: {"probs": r.dirichlet(np.full(4, 2.0))},
        scipy=lambda p: _Multinomial(np.asarray(p["probs"])),
    ),
    Case(
        family=mk.Dirichlet(k=D),
        truth={"alpha": np.array([0.8, 2.0, 5.0])},
        draw_params=lambda r: {"alpha": np.exp(r.uniform(-0.5, 2.0, size=D))},
        scipy=lambda p: _Dirichlet(np.asarray(p["alpha"])),
    ),
]
