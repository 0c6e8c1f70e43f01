"""Discrete families: counts, binary outcomes and categories."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .._errors import DataError, ModelError
from .._model import Support, data_range
from .._params import Positive, Simplex, UnitInterval
from .base import Family, sum_of

COUNTS = Support(lower=0.0, lower_open=False, integer=True)
BINARY = Support(lower=0.0, upper=1.0, lower_open=False, upper_open=False, integer=True)


def _boundary_error(family: str, param: str, value: str, why: str) -> DataError:
    return DataError(
        f"{why}: the MLE of {family} {param} is {value}, on the boundary of the parameter "
        "space, where the log-likelihood has no interior maximum and standard errors do not "
        "exist. Check the data, or fix the parameter with fixed={...}."
    )


@dataclass(frozen=True, repr=False)
class Poisson(Family):
    r"""Poisson: :math:`\log f = x\log\lambda - \lambda - \log x!`, x = 0, 1, 2, ...

    Closed form :math:`\hat\lambda = \bar x` (also the start value). Parameter ``lambda``.
    """

    name = "poisson"
    kind = "discrete"
    description = "counts 0, 1, 2, ..."
    support = COUNTS
    PARAMS = {"lambda": Positive()}
    sufficient = True

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        if data_range(x, span)[1] == 0:
            raise _boundary_error("poisson", "lambda", "0", "all observations are 0")
        return model, x

    def logpdf(self, x, p):
        lam = p["lambda"]
        return x * jnp.log(lam) - lam - jss.gammaln(x + 1)

    def suffstats(self, x):
        from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s to import

        log_factorials = sum_of(lambda part, out: gammaln(part + 1, out=out), x)
        return np.array([float(x.shape[0]), float(x.sum()), log_factorials])

    def loglik_stats(self, s, p):
        lam = p["lambda"]
        return s[1] * jnp.log(lam) - s[0] * lam - s[2]

    def closed_form(self, stats, fixed):
        return {"lambda": np.asarray(stats[1] / stats[0])}

    def start(self, x):
        return {"lambda": np.asarray(max(float(np.mean(x)), 1e-8))}


@dataclass(frozen=True, repr=False)
class Bernoulli(Family):
    r"""Bernoulli: :math:`\log f = x\log p + (1-x)\log(1-p)`, x in {0, 1}.

    Closed form :math:`\hat p = \bar x` (also the start value). Parameter ``prob``.
    """

    name = "bernoulli"
    kind = "discrete"
    description = "binary outcomes 0/1"
    support = BINARY
    PARAMS = {"prob": UnitInterval()}
    sufficient = True

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        lo, hi = data_range(x, span)
        if lo == hi:
            value = "1" if lo == 1 else "0"
            raise _boundary_error("bernoulli", "prob", value, f"all observations are {value}")
        return model, x

    def logpdf(self, x, p):
        return x * jnp.log(p["prob"]) + (1 - x) * jnp.log1p(-p["prob"])

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x.sum())])

    def loglik_stats(self, s, p):
        return s[1] * jnp.log(p["prob"]) + (s[0] - s[1]) * jnp.log1p(-p["prob"])

    def closed_form(self, stats, fixed):
        return {"prob": np.asarray(stats[1] / stats[0])}

    def start(self, x):
        return {"prob": np.asarray(np.clip(np.mean(x), 1e-6, 1 - 1e-6))}


@dataclass(frozen=True, repr=False)
class Categorical(Family):
    r"""Categorical over k categories coded 0..k-1: :math:`\log f = \log p_x`.

    Closed form: the observed frequencies :math:`\hat p_j = n_j / n`; its negative
    log-likelihood per observation is the cross-entropy of the empirical distribution.
    Parameter ``probs`` (a vector). With ``k=None`` the number of categories is taken
    from the data (the largest code + 1).
    """

    name = "categorical"
    description = "one of k categories, coded 0..k-1"
    kind = "discrete"
    support_text = "integers 0..k-1"
    PARAMS = {"probs": Simplex(2)}  # the declaration's form; the length k is set by the data
    k: int | None = None
    sufficient = True

    def __post_init__(self):
        if self.k is not None and (int(self.k) != self.k or self.k < 2):
            raise ModelError(f"Categorical(k={self.k!r}) needs an integer k >= 2 categories.")

    @property
    def params(self):
        if self.k is None:
            raise ModelError(
                "Categorical() learns k from the data at fit time; give k=... to use it alone."
            )
        return {"probs": Simplex(self.k)}

    @property
    def support(self):
        upper = math.inf if self.k is None else self.k - 1
        return Support(lower=0.0, upper=upper, lower_open=False, upper_open=False, integer=True)

    def prepare(self, x, span=None):
        model = self if self.k is not None else Categorical(k=max(int(np.max(x)) + 1, 2))
        bad = model.support.violations(x)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"x[{i}] = {float(x[i])!r} is not a category code of categorical(k={model.k}) "
                f"(integers 0..{model.k - 1}); recode the categories as 0..k-1."
            )
        counts = np.bincount(x.astype(np.int64), minlength=model.k)
        if np.any(counts == 0):
            empty = np.flatnonzero(counts == 0).tolist()
            raise _boundary_error(
                "categorical", f"probs{empty}", "0", f"categories {empty} are never observed"
            )
        return model, x

    def logpdf(self, x, p):
        return jnp.log(p["probs"])[x.astype(jnp.int32)]

    def suffstats(self, x):
        return np.bincount(x.astype(np.int64), minlength=self.k).astype(float)

    def loglik_stats(self, s, p):
        return jnp.sum(s * jnp.log(p["probs"]))

    def closed_form(self, stats, fixed):
        return {"probs": np.asarray(stats / stats.sum())}

    def start(self, x):
        counts = np.bincount(x.astype(np.int64), minlength=self.k) + 0.5
        return {"probs": counts / counts.sum()}

    def __repr__(self):
        return "Categorical()" if self.k is None else f"Categorical(k={self.k})"


CATALOGUE = (Bernoulli, Poisson, Categorical)
