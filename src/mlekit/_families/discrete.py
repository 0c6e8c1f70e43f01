"""Discrete families: counts, binary outcomes and categories."""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .._errors import BoundaryEstimate, DataError, ModelError, NoEstimate
from .._heads import constructor
from .._model import Support, data_range
from .._params import Positive, Simplex, UnitInterval
from .base import Family, count_table, plain, rng_of, sum_of
from .logspecial import log_gamma_p_q

COUNTS = Support(lower=0.0, lower_open=False, integer=True)
BINARY = Support(lower=0.0, upper=1.0, lower_open=False, upper_open=False, integer=True)


def _boundary_error(param: str, value: float, why: str) -> BoundaryEstimate:
    """``param``'s MLE is ``value``, on the boundary of the parameter space."""
    return BoundaryEstimate(why, held={param: float(value)})


@dataclass(frozen=True, repr=False)
class Poisson(Family):
    r"""Poisson: :math:`\log f = x\log\lambda - \lambda - \log x!`, x = 0, 1, 2, ...

    Closed form :math:`\hat\lambda = \bar x` (also the start value). Parameter ``lambda`` as
    in R's ``dpois``. Distribution functions through the regularized incomplete gamma:
    :math:`P(X \le k) = Q(k+1, \lambda)`, :math:`P(X > k) = P(k+1, \lambda)`, in log space (finite
    far into both tails), at :math:`k = \lfloor x \rfloor`.

    Examples
    --------
    >>> import mlekit as mk
    >>> mk.fit(mk.Poisson(), [0, 2, 1, 3]).params
    {'lambda': 1.5}
    """

    name = "poisson"
    kind = "discrete"
    stats_prove_support = True  # from the frequency table: see proven_stats
    description = "counts 0, 1, 2, ..."
    formula = "P(x) = lambda^x exp(-lambda) / x!,  x = 0, 1, 2, ..."
    support = COUNTS
    PARAMS = {"lambda": Positive()}
    sufficient = True

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        if data_range(x, span)[1] == 0:
            raise _boundary_error("lambda", 0.0, "all observations are 0")
        return model, x

    def logpdf(self, x, p):
        lam = p["lambda"]
        return jss.xlogy(x, lam) - lam - jss.gammaln(x + 1)  # xlogy: finite at 0

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        counts = count_table(x)
        if counts is not None:
            return self._from_counts(counts)
        from scipy.special import gammaln  # imported here: scipy.special costs 0.3 s to import

        log_factorials = sum_of(lambda part, out: gammaln(part + 1, out=out), x)
        return np.array([float(x.shape[0]), float(x.sum()), log_factorials])

    def proven_stats(self, x):
        counts = count_table(x)  # proves the data are counts; not all 0 (prepare's rule)
        return None if counts is None or counts.shape[0] < 2 else self._from_counts(counts)

    @staticmethod
    def _from_counts(counts):
        from scipy.special import gammaln

        k = np.arange(counts.shape[0], dtype=float)
        return np.array([float(counts.sum()), float(counts @ k), float(counts @ gammaln(k + 1))])

    def loglik_stats(self, s, p):
        lam = p["lambda"]
        return jss.xlogy(s[1], lam) - s[0] * lam - s[2]

    def closed_form(self, stats, fixed):
        return {"lambda": np.asarray(stats[1] / stats[0])}

    def start(self, x):
        return {"lambda": np.asarray(max(float(np.mean(x)), 1e-8))}

    def _log_p_q(self, x, p):
        k = jnp.floor(x)
        inside = k >= 0
        lower, upper = log_gamma_p_q(jnp.where(inside, k, 0.0) + 1, p["lambda"])
        return inside, lower, upper

    def logcdf(self, x, p):
        inside, _, upper = self._log_p_q(x, p)
        return jnp.where(inside, upper, -jnp.inf)

    def logsf(self, x, p):
        inside, lower, _ = self._log_p_q(x, p)
        return jnp.where(inside, lower, 0.0)

    def mean(self, p):
        return jnp.asarray(p["lambda"], float)

    def variance(self, p):
        return jnp.asarray(p["lambda"], float)

    def sample(self, p, size, rng=None):
        return rng_of(rng).poisson(plain(p)["lambda"], size).astype(float)


@dataclass(frozen=True, repr=False)
class Bernoulli(Family):
    r"""Bernoulli: :math:`\log f = x\log p + (1-x)\log(1-p)`, x in {0, 1}.

    Closed form :math:`\hat p = \bar x` (also the start value). Parameter ``prob`` as in R's
    ``dbinom(x, 1, prob)``.
    """

    name = "bernoulli"
    from_logits = constructor(
        "bernoulli", "A bernoulli likelihood whose logits are fn(inputs, params), fitted "
        "to pairs mk.fit(model, (inputs, targets)) (see mlekit._heads).")
    kind = "discrete"
    stats_prove_support = True  # from the frequency table: see proven_stats
    description = "binary outcomes 0/1"
    formula = "P(x) = prob^x (1-prob)^(1-x),  x in {0, 1}"
    support = BINARY
    PARAMS = {"prob": UnitInterval()}
    sufficient = True

    def prepare(self, x, span=None):
        model, x = super().prepare(x, span)
        lo, hi = data_range(x, span)
        if lo == hi:
            raise _boundary_error("prob", lo, f"all observations are {lo:g}")
        return model, x

    def logpdf(self, x, p):
        # xlogy / xlog1py: 0 log 0 = 0, so the boundary estimates p = 0, 1 have a likelihood
        return jss.xlogy(x, p["prob"]) + jss.xlog1py(1 - x, -p["prob"])

    additive_stats = True  # sums over observations: the parts' add up

    def suffstats(self, x):
        return np.array([float(x.shape[0]), float(x.sum())])

    def proven_stats(self, x):
        counts = count_table(x)  # proves the data are 0/1 with both present (prepare's rules)
        if counts is None or counts.shape[0] != 2 or counts[1] == 0 or counts[0] == 0:
            return None
        return np.array([float(counts.sum()), float(counts[1])])

    def loglik_stats(self, s, p):
        return jss.xlogy(s[1], p["prob"]) + jss.xlog1py(s[0] - s[1], -p["prob"])

    def closed_form(self, stats, fixed):
        return {"prob": np.asarray(stats[1] / stats[0])}

    def start(self, x):
        return {"prob": np.asarray(np.clip(np.mean(x), 1e-6, 1 - 1e-6))}

    def logcdf(self, x, p):
        k = jnp.floor(x)  # a discrete CDF at x is the CDF at floor(x)
        return jnp.where(k < 0, -jnp.inf, jnp.where(k >= 1, 0.0, jnp.log1p(-p["prob"])))

    def logsf(self, x, p):
        k = jnp.floor(x)
        return jnp.where(k < 0, 0.0, jnp.where(k >= 1, -jnp.inf, jnp.log(p["prob"])))

    def mean(self, p):
        return jnp.asarray(p["prob"], float)

    def variance(self, p):
        return p["prob"] * (1 - p["prob"])

    def sample(self, p, size, rng=None):
        return (rng_of(rng).random(size) < plain(p)["prob"]).astype(float)


@dataclass(frozen=True, repr=False)
class Categorical(Family):
    r"""Categorical over k categories coded 0..k-1: :math:`\log f = \log p_x`.

    Closed form: the observed frequencies :math:`\hat p_j = n_j / n`; its negative
    log-likelihood per observation is the cross-entropy of the empirical distribution.
    Parameter ``probs`` (a vector). With ``k=None`` the number of categories is taken
    from the data (the largest code + 1). Start values: the frequencies with half a count
    added to each category. The log-CDF and log-survival treat the codes as ordered 0..k-1
    (the survival summed from the top, not as 1 - CDF); the mean and variance are the code's.
    """

    name = "categorical"
    from_logits = constructor(
        "categorical", "A categorical likelihood whose logits are fn(inputs, params), fitted "
        "to pairs mk.fit(model, (inputs, targets)) (see mlekit._heads).")
    description = "one of k categories, coded 0..k-1"
    formula = "P(x = j) = probs[j],  j = 0..k-1"
    kind = "discrete"
    support_text = "integers 0..k-1"
    stats_prove_support = True  # from the frequency table: see proven_stats
    PARAMS = {"probs": Simplex(2)}  # the declaration's form; the length k is set by the data
    k: int | None = None
    #: categories never observed: their MLE is 0, pinned there (set by ``prepare``)
    empty: tuple[int, ...] = ()
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
        return {"probs": Simplex(self.k, zeros=self.empty)}

    @property
    def support(self):
        upper = math.inf if self.k is None else self.k - 1
        return Support(lower=0.0, upper=upper, lower_open=False, upper_open=False, integer=True)

    def merge_prepared(self, parts, whole):
        """The whole's: its sample holds every category code of every partition."""
        return whole

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
            empty = tuple(np.flatnonzero(counts == 0).tolist())
            if len(empty) > model.k - 2:
                raise NoEstimate(
                    f"only category {int(np.argmax(counts))} of {model.k} is observed: the MLE "
                    "puts probability 1 on it, so no category probabilities can be estimated",
                    "check the data, or merge categories")
            raise BoundaryEstimate(
                f"categories {list(empty)} are never observed", model=Categorical(model.k, empty),
                elements=tuple(f"probs[{j}]" for j in empty))
        return model, x

    def logpdf(self, x, p):
        return jnp.log(p["probs"])[x.astype(jnp.int32)]

    def suffstats(self, x):
        return np.bincount(x.astype(np.int64), minlength=self.k).astype(float)

    def proven_stats(self, x):
        counts = count_table(x)  # proves the codes; every category observed (prepare's rules)
        if (counts is None or counts.shape[0] < 2 or np.any(counts == 0)
                or (self.k is not None and counts.shape[0] != self.k)):
            return None
        return counts.astype(float)

    def with_stats(self, stats):
        return self if self.k is not None else Categorical(k=int(stats.shape[0]))

    def loglik_stats(self, s, p):
        return jnp.sum(jss.xlogy(s, p["probs"]))

    def closed_form(self, stats, fixed):
        return {"probs": np.asarray(stats / stats.sum())}

    def start(self, x):
        counts = np.bincount(x.astype(np.int64), minlength=self.k) + 0.5
        counts[list(self.empty)] = 0.0
        return {"probs": counts / counts.sum()}

    def _cumulative(self, x, p, sums, below, above):
        """log sums[floor(x)] for codes 0..k-2; ``below`` under 0, ``above`` from k-1 on."""
        j = jnp.floor(x)
        k = sums.shape[-1]
        inside = (j >= 0) & (j < k - 1)
        s = sums[jnp.clip(j, 0, k - 1).astype(jnp.int32)]
        return jnp.where(inside, jnp.log(jnp.where(inside, s, 1.0)),
                         jnp.where(j < 0, below, above))

    def logcdf(self, x, p):
        return self._cumulative(x, p, jnp.cumsum(p["probs"]), -jnp.inf, 0.0)

    def logsf(self, x, p):
        probs = p["probs"]
        above = jnp.cumsum(probs[::-1])[::-1]  # above[j] = P(X >= j)
        return self._cumulative(x, p, jnp.append(above[1:], 0.0), 0.0, -jnp.inf)

    def mean(self, p):
        probs = jnp.asarray(p["probs"], float)
        return jnp.sum(jnp.arange(probs.shape[-1]) * probs)

    def variance(self, p):
        probs = jnp.asarray(p["probs"], float)
        codes = jnp.arange(probs.shape[-1])
        return jnp.sum((codes - jnp.sum(codes * probs)) ** 2 * probs)

    def sample(self, p, size, rng=None):
        probs = np.asarray(p["probs"], float)
        return rng_of(rng).choice(probs.shape[0], size=size, p=probs / probs.sum()).astype(float)

    def __repr__(self):
        return "Categorical()" if self.k is None else f"Categorical(k={self.k})"

    def boundary_interval(self, label, quantile, x):
        """The likelihood-ratio interval of a never-observed category's probability: with
        probs[j] = psi the others are maximized at (1 - psi) n_i / n, so the deviance is
        -2 n log(1 - psi) and the interval is [0, 1 - exp(-q / (2n))]."""
        return 0.0, -math.expm1(-quantile / (2.0 * x.shape[0]))


CATALOGUE = (Bernoulli, Poisson, Categorical)
