r"""Censored observations: ``mk.Censored(left, right)`` (fitdistrplus's coding) and
``mk.Survival(time, event)``, fitted with any family that has a CDF.

Each observation contributes

- exact (left == right): :math:`\log f(x)`;
- left-censored (left missing): :math:`\log F(r)`;
- right-censored (right missing): :math:`\log S(l)`;
- interval (left < right): :math:`\log(F(r) - F(l))`, as
  :math:`\log F(r) + \log(1 - e^{\log F(l) - \log F(r)})` where :math:`F(r) \le 1/2`, else
  :math:`\log S(l) + \log(1 - e^{\log S(r) - \log S(l)})` (each difference taken on the side
  where it does not cancel).

The censored model is a model like any other (a per-observation log-likelihood over rows
``[left, right, kind]``), so the engine, the inference and the diagnostics apply unchanged;
sufficient statistics do not, and are not used.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ._errors import DataError, ModelError, NoEstimate
from ._model import Model

EXACT, LEFT, RIGHT, INTERVAL = 0.0, 1.0, 2.0, 3.0
LOG_HALF = math.log(0.5)


class Censored:
    """Observations known exactly or only to lie in an interval, coded as fitdistrplus's
    ``fitdistcens``: ``left == right`` exact; ``left`` missing (NaN / None) left-censored at
    ``right``; ``right`` missing right-censored at ``left``; ``left < right`` an interval.

    Examples
    --------
    >>> import mlekit as mk
    >>> data = mk.Censored([1.0, 2.0, None, 4.0], [1.0, 3.0, 0.5, None])
    >>> data.counts
    {'exact': 1, 'interval': 1, 'left-censored': 1, 'right-censored': 1}
    """

    def __init__(self, left, right):
        lo = np.asarray(_floats(left, "left"), dtype=float).ravel()
        hi = np.asarray(_floats(right, "right"), dtype=float).ravel()
        if lo.shape != hi.shape:
            raise DataError(f"left has {lo.size} values and right {hi.size}: give one pair per "
                            "observation.")
        if lo.size == 0:
            raise DataError("Censored data are empty: there is nothing to fit.")
        both = np.isnan(lo) & np.isnan(hi)
        if both.any():
            i = int(np.argmax(both))
            raise DataError(f"observation {i} has neither left nor right: it says nothing; drop "
                            "it.")
        for name, v in (("left", lo), ("right", hi)):
            if np.any(np.isinf(v)):
                i = int(np.argmax(np.isinf(v)))
                raise DataError(f"{name}[{i}] is infinite; code an open end as missing (NaN).")
        wrong = ~np.isnan(lo) & ~np.isnan(hi) & (lo > hi)
        if wrong.any():
            i = int(np.argmax(wrong))
            raise DataError(f"observation {i}: left = {lo[i]!r} > right = {hi[i]!r}; an interval "
                            "needs left <= right.")
        kind = np.where(np.isnan(lo), LEFT, np.where(np.isnan(hi), RIGHT,
                                                     np.where(lo == hi, EXACT, INTERVAL)))
        # rows [left, right, kind] with a finite stand-in where an end is open (never read)
        self.rows = np.column_stack([np.where(np.isnan(lo), hi, lo),
                                     np.where(np.isnan(hi), lo, hi), kind])

    @property
    def counts(self) -> dict[str, int]:
        kind = self.rows[:, 2]
        return {"exact": int(np.sum(kind == EXACT)), "interval": int(np.sum(kind == INTERVAL)),
                "left-censored": int(np.sum(kind == LEFT)),
                "right-censored": int(np.sum(kind == RIGHT))}

    def __len__(self):
        return self.rows.shape[0]


def Survival(time, event) -> Censored:  # noqa: N802 - a data constructor, like Censored
    """Right-censored lifetimes: ``event`` true (1, or R's status 2) where the lifetime ended
    at ``time``, false (0 / 1) where it was still running then."""
    t = np.asarray(_floats(time, "time"), dtype=float).ravel()
    e = np.asarray(event).ravel()
    if e.shape != t.shape:
        raise DataError(f"event has {e.size} values for {t.size} times.")
    values = set(np.unique(e).tolist())
    if values <= {0, 1}:
        died = e.astype(bool)
    elif values <= {1, 2}:  # survival::Surv's 1 = censored, 2 = dead
        died = e == 2
    else:
        raise DataError(f"event has values {sorted(values)}; use 1/0 (or True/False) for an "
                        "event / censored, or R's 2/1.")
    return Censored(t, np.where(died, t, np.nan))


def _floats(values, name):
    try:
        return [np.nan if v is None else float(v) for v in np.asarray(values, dtype=object)
                .ravel()]
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers (missing as NaN or None).") from None


class CensoredModel(Model):
    """A family's log-likelihood over censored rows (see the module notes)."""

    event_ndim = 1

    def __init__(self, family):
        if getattr(family, "event_ndim", 0):
            raise ModelError(f"censored data need a univariate family; {family.name} is not.")
        self.family = family
        self.name = f"{family.name} (censored data)"
        self.min_n = family.min_n

    def __eq__(self, other):
        return isinstance(other, CensoredModel) and self.family == other.family

    def __hash__(self):
        return hash((CensoredModel, self.family))

    @property
    def params(self):
        return self.family.params

    def logpdf(self, x, p):
        lo, hi, kind = x[:, 0], x[:, 1], x[:, 2]
        f = self.family
        exact = f.logpdf(lo, p)
        cdf_hi, sf_lo = f.logcdf(hi, p), f.logsf(lo, p)
        cdf_lo, sf_hi = f.logcdf(lo, p), f.logsf(hi, p)
        # an interval's probability, on the side where the difference does not cancel; rows
        # of other kinds get a constant there, so no infinite derivative meets their 0 weight
        is_interval = kind == INTERVAL
        by_cdf = cdf_hi + _log1mexp(jnp.where(is_interval, cdf_lo - cdf_hi, -1.0))
        by_sf = sf_lo + _log1mexp(jnp.where(is_interval, sf_hi - sf_lo, -1.0))
        interval = jnp.where(cdf_hi <= LOG_HALF, by_cdf, by_sf)
        return jnp.where(kind == EXACT, exact, jnp.where(
            kind == LEFT, cdf_hi, jnp.where(kind == RIGHT, sf_lo, interval)))

    def prepare(self, x, span=None):
        kinds = set(np.unique(x[:, 2]).tolist())
        if kinds in ({RIGHT}, {LEFT}):
            side = "right" if kinds == {RIGHT} else "left"
            where = "beyond the largest" if side == "right" else "below the smallest"
            raise NoEstimate(
                f"every observation is {side}-censored: the {self.family.name} likelihood keeps "
                f"increasing as the distribution moves {where} censoring time, so no maximum "
                "likelihood estimate exists",
                "observe some exact values or intervals, fix a parameter (fixed={...}), or fit "
                "with a prior (prior={...}) that bounds it")
        ends = np.r_[x[:, 0], x[:, 1]]
        bad = self.family.support.violations(ends)
        if bad.any():
            v = float(ends[int(np.argmax(bad))])
            raise DataError(f"a censoring end {v!r} lies outside the support of "
                            f"{self.family.name} ({self.family.support.describe()}).")
        return self, x

    def start(self, x):
        """The family's start on a stand-in for each observation: the exact value, the
        interval's midpoint, or the known end of a censored one."""
        lo, hi = x[:, 0], x[:, 1]
        return self.family.start(np.where(x[:, 2] == INTERVAL, 0.5 * (lo + hi), lo))


def _log1mexp(a):
    """log(1 - e^a) for a < 0, accurate at both ends (Maechler 2012)."""
    return jnp.where(a > -math.log(2.0), jnp.log(-jnp.expm1(a)), jnp.log1p(-jnp.exp(a)))
