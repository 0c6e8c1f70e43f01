r"""Incomplete observations: ``mk.Censored(left, right)`` (fitdistrplus's coding),
``mk.Survival(time, event)``, ``mk.Truncated(data, lower, upper)`` and
``mk.Binned(edges, counts)``, fitted with any family that has a CDF.

Each observation contributes

- exact (left == right): :math:`\log f(x)`;
- left-censored (left missing): :math:`\log F(r)`;
- right-censored (right missing): :math:`\log S(l)`;
- interval (left < right): :math:`\log(F(r) - F(l))`, as
  :math:`\log F(r) + \log(1 - e^{\log F(l) - \log F(r)})` where :math:`F(r) \le 1/2`, else
  :math:`\log S(l) + \log(1 - e^{\log S(r) - \log S(l)})` (each difference taken on the side
  where it does not cancel);

and, truncated to [L, U] (observed only there), minus :math:`\log(F(U) - F(L))`: the same
interval probability, so one function computes both. For a discrete family the ends are
inclusive: right-censored at l means X >= l, an interval [l, r] means l <= X <= r, truncation
to [L, U] keeps L <= X <= U (so ``lower=1`` fits a zero-truncated count model).

Every kind of data becomes rows ``[left, right, kind, lower, upper, truncation]`` (an open end
holds a finite stand-in, never read), so the censored model is a model like any other (a
per-observation log-likelihood) and the engine, the inference and the diagnostics apply
unchanged; sufficient statistics do not, and are not used. Binned data are intervals with
their counts as frequency weights.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ._errors import DataError, ModelError, NoEstimate
from ._families.base import Family, log1mexp
from ._model import Model

#: kinds of an observation (column 2) and of its truncation (column 5, where EXACT = none)
EXACT, LEFT, RIGHT, INTERVAL = 0.0, 1.0, 2.0, 3.0
NOT_TRUNCATED = EXACT
LOG_HALF = math.log(0.5)
KIND_NAMES = {EXACT: "exact", INTERVAL: "interval", LEFT: "left-censored",
              RIGHT: "right-censored"}


def _coded(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """[lo, hi, kind] from ends with NaN for an open one (validated by the caller)."""
    kind = np.where(np.isnan(lo), LEFT, np.where(np.isnan(hi), RIGHT,
                                                 np.where(lo == hi, EXACT, INTERVAL)))
    return np.column_stack([np.where(np.isnan(lo), hi, lo), np.where(np.isnan(hi), lo, hi),
                            kind])


class Censored:
    """Observations known exactly or only to lie in an interval, coded as fitdistrplus's
    ``fitdistcens``: ``left == right`` exact; ``left`` missing (NaN / None) left-censored at
    ``right``; ``right`` missing right-censored at ``left``; ``left < right`` an interval.

    ``mk.Truncated``, ``mk.Binned`` and ``mk.Survival`` build the same object; pass it to
    :func:`mlekit.fit` as the data, with any univariate family that has a CDF.

    Examples
    --------
    >>> import mlekit as mk
    >>> data = mk.Censored([1.0, 2.0, None, 4.0], [1.0, 3.0, 0.5, None])
    >>> data.counts
    {'exact': 1, 'interval': 1, 'left-censored': 1, 'right-censored': 1}
    >>> fit = mk.fit(mk.Weibull(), mk.Censored([1.0, 2.2, 0.7, 3.0, 1.4, 2.0],
    ...                                        [1.0, 2.2, 0.7, None, 1.4, 2.5]))
    >>> fit.converged
    True
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
        observed = _coded(lo, hi)
        open_side = np.full(lo.size, math.inf)
        self.rows = np.column_stack([observed, _truncation(-open_side, open_side,
                                                           observed[:, 0])])
        #: frequency weights (binned data: the counts), or None
        self.weights: np.ndarray | None = None
        #: True for binned data, whose bins (e_i, e_i+1] suit continuous families only
        self.binned = False

    @property
    def counts(self) -> dict[str, int]:
        return kind_counts(self.rows)

    def _with_rows(self, rows: np.ndarray) -> Censored:
        """The same data (weights, binning) over other rows: built without re-checking."""
        out = object.__new__(Censored)
        out.rows, out.weights, out.binned = rows, self.weights, self.binned
        return out

    @property
    def truncated(self) -> bool:
        return bool(np.any(self.rows[:, 5] != NOT_TRUNCATED))

    def __len__(self):
        return self.rows.shape[0]

    def __repr__(self):
        counts = ", ".join(f"{v} {k}" for k, v in self.counts.items() if v)
        return f"<Censored data: {counts}{', truncated' if self.truncated else ''}>"


def Survival(time, event) -> Censored:  # noqa: N802 - a data constructor, like Censored
    """Right-censored lifetimes: ``event`` true (1, or R's status 2) where the lifetime ended
    at ``time``, false (0 / 1) where it was still running then.

    Examples
    --------
    >>> import mlekit as mk
    >>> mk.Survival([5.0, 8.0, 12.0], [1, 0, 1]).counts["right-censored"]
    1
    """
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


def Truncated(data, lower=None, upper=None) -> Censored:  # noqa: N802 - a data constructor
    r"""Observations seen only inside [``lower``, ``upper``]: each one's log-likelihood is
    divided by the probability of that range, :math:`\log f(x) - \log(F(U) - F(L))`.

    ``data`` are exact values or ``mk.Censored`` / ``mk.Survival`` data (truncation combines
    with censoring: left truncation of lifetimes is delayed entry). ``lower`` / ``upper`` are
    numbers or one per observation; None or an infinite value leaves that side open.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Normal(), mk.Truncated([0.2, 0.9, 1.4, 0.5, 1.1, 0.3], lower=0.0))
    >>> fit.converged
    True
    """
    if isinstance(data, Censored):
        out = data._with_rows(data.rows.copy())
    else:
        values = np.asarray(_floats(data, "data"), dtype=float).ravel()
        if np.isnan(values).any():
            i = int(np.argmax(np.isnan(values)))
            raise DataError(f"data[{i}] is missing; for censored values use mk.Censored.")
        out = Censored(values, values)
    n = len(out)
    lo, hi = _bound(lower, "lower", n, -math.inf), _bound(upper, "upper", n, math.inf)
    if np.all(np.isinf(lo)) and np.all(np.isinf(hi)):
        raise DataError("Truncated needs lower= or upper= (a finite bound).")
    wrong = lo >= hi
    if wrong.any():
        i = int(np.argmax(wrong))
        raise DataError(f"observation {i}: lower = {lo[i]!r} >= upper = {hi[i]!r}; truncation "
                        "needs lower < upper.")
    kind = out.rows[:, 2]
    low_end = np.where(kind == LEFT, -math.inf, out.rows[:, 0])
    high_end = np.where(kind == RIGHT, math.inf, out.rows[:, 1])
    outside = (low_end < lo) | (high_end > hi)
    if outside.any():
        i = int(np.argmax(outside))
        raise DataError(f"observation {i} ({low_end[i]!r} .. {high_end[i]!r}) lies outside its "
                        f"truncation range [{lo[i]!r}, {hi[i]!r}]: truncated data can only be "
                        "observed inside it; check the bounds or censor the value instead.")
    out.rows[:, 3:6] = _truncation(lo, hi, out.rows[:, 0])
    return out


def Binned(edges, counts) -> Censored:  # noqa: N802 - a data constructor
    r"""Counts of observations per bin (edges[i], edges[i + 1]]: each bin contributes
    :math:`n_i \log(F(e_{i+1}) - F(e_i))`. The first edge may be ``-inf`` and the last ``inf``
    (open-ended bins, i.e. censored). For continuous families; counts of a discrete variable
    are its values with ``weights=``.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Exponential(), mk.Binned([0, 1, 2, 4, float("inf")], [40, 25, 22, 13]))
    >>> round(fit.params["rate"], 3)
    0.515
    """
    e = np.asarray(_floats(edges, "edges"), dtype=float).ravel()
    c = np.asarray(_floats(counts, "counts"), dtype=float).ravel()
    if e.size != c.size + 1:
        raise DataError(f"edges has {e.size} values for {c.size} counts; give one more edge "
                        "than counts (bin i is (edges[i], edges[i+1]]).")
    if np.isnan(e).any() or np.isnan(c).any():
        raise DataError("edges and counts must not be missing.")
    if np.any(np.diff(e) <= 0):
        i = int(np.argmax(np.diff(e) <= 0))
        raise DataError(f"edges must increase strictly; edges[{i}] = {e[i]!r} >= edges[{i + 1}] "
                        f"= {e[i + 1]!r}.")
    if np.isinf(e[1:-1]).any() or e[0] == math.inf or e[-1] == -math.inf:
        raise DataError("only the first edge may be -inf and only the last inf.")
    if np.any(c < 0) or not np.all(np.isfinite(c)):
        i = int(np.argmax((c < 0) | ~np.isfinite(c)))
        raise DataError(f"counts[{i}] = {c[i]!r}; counts are finite numbers >= 0.")
    used = c > 0  # an empty bin adds nothing (and may have probability 0 at the estimate)
    if not used.any():
        raise DataError("every count is 0: there is nothing to fit.")
    lo, hi = e[:-1][used], e[1:][used]
    out = Censored(np.where(np.isinf(lo), np.nan, lo), np.where(np.isinf(hi), np.nan, hi))
    out.weights, out.binned = c[used], True
    return out


def _bound(value, name: str, n: int, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default)
    arr = np.asarray(_floats(value, name), dtype=float).ravel()
    if arr.size == 1:
        arr = np.full(n, arr[0])
    if arr.shape != (n,):
        raise DataError(f"{name} has {arr.size} values for {n} observations; give one number "
                        "or one per observation.")
    if np.isnan(arr).any():
        raise DataError(f"{name} is missing for some observation; use inf / -inf for an open "
                        "side.")
    return arr


def _floats(values, name):
    try:
        return [np.nan if v is None else float(v) for v in np.asarray(values, dtype=object)
                .ravel()]
    except (TypeError, ValueError):
        raise DataError(f"{name} must be numbers (missing as NaN or None).") from None


def interval_logprob(family, p, lo, hi, kind, exact):
    """Per row: ``exact`` where kind is EXACT, log F(hi) (LEFT), log S(lo) (RIGHT), or
    log(F(hi) - F(lo)) (INTERVAL) on the side where the difference does not cancel.
    ``p`` may hold one value per row (a regression's parameters)."""
    cdf_lo, sf_lo = family.log_tails(lo, p)
    cdf_hi, sf_hi = family.log_tails(hi, p)
    # rows of other kinds get a constant in the differences, so no infinite derivative meets
    # their zero weight in the where
    is_interval = kind == INTERVAL
    by_cdf = cdf_hi + log1mexp(jnp.where(is_interval, cdf_lo - cdf_hi, -1.0))
    by_sf = sf_lo + log1mexp(jnp.where(is_interval, sf_hi - sf_lo, -1.0))
    interval = jnp.where(cdf_hi <= LOG_HALF, by_cdf, by_sf)
    return jnp.where(kind == EXACT, exact, jnp.where(
        kind == LEFT, cdf_hi, jnp.where(kind == RIGHT, sf_lo, interval)))


def rows_loglik(family, p, x, truncated: bool, censored: bool = True):
    """The log-likelihood of each row ``[left, right, kind, lower, upper, truncation, ...]``
    under ``family`` with parameters ``p``; without ``censored`` rows all exact (no CDF at
    their ends), without ``truncated`` none truncated."""
    out = family.logpdf(x[:, 0], p)
    if censored:
        out = interval_logprob(family, p, x[:, 0], x[:, 1], x[:, 2], out)
    if truncated:
        out = out - interval_logprob(family, p, x[:, 3], x[:, 4], x[:, 5], 0.0)
    return out


def check_rows(family, x: np.ndarray, moving: str) -> tuple[np.ndarray, bool, bool]:
    """Rows fit for ``family``: not all censored on one side (else no MLE: NoEstimate, naming
    what would move without bound), every end inside its support (else a DataError), a truncation
    bound at or beyond the support's own end dropped (nothing lies beyond it), and for a
    discrete family the lower ends moved to l - 1 (the ends are inclusive: P(X >= l) =
    S(l - 1)). Returns (rows, whether any row is still truncated, whether any is censored)."""
    one_side = set(np.unique(x[:, 2]).tolist())
    if one_side in ({RIGHT}, {LEFT}):
        side = "right" if one_side == {RIGHT} else "left"
        where = "past the largest" if side == "right" else "below the smallest"
        raise NoEstimate(
            f"every observation is {side}-censored: the likelihood keeps increasing as "
            f"{moving} moves {where} censoring time, so no maximum likelihood estimate exists",
            "observe some exact values or intervals, fix a parameter (fixed={...}), or fit "
            "with a prior (prior={...}) that bounds it")
    support = family.support
    x = x.copy()
    # an interval reaching an open end of the support is censored on that side: (0, r] of a
    # lifetime is "died before r" (R's survreg refuses the 0; fitdistcens reads it so)
    interval = x[:, 2] == INTERVAL
    from_bottom = interval & (x[:, 0] == support.lower) & support.lower_open
    to_top = interval & (x[:, 1] == support.upper) & support.upper_open
    x[from_bottom, 0], x[from_bottom, 2] = x[from_bottom, 1], LEFT
    x[to_top, 1], x[to_top, 2] = x[to_top, 0], RIGHT
    ends = np.r_[x[:, 0], x[:, 1]]
    bad = support.violations(ends)
    if bad.any():
        v = float(ends[int(np.argmax(bad))])
        raise DataError(f"a censoring end {v!r} lies outside the support of {family.name} "
                        f"({support.describe()}).")
    lower, upper = truncation_bounds(x)
    lower = np.where(lower <= support.lower, -math.inf, lower)
    upper = np.where(upper >= support.upper, math.inf, upper)
    x[:, 3:6] = _truncation(lower, upper, x[:, 0])
    if support.integer:  # inclusive lower ends
        for col, kinds in ((0, 2), (3, 5)):
            lower_side = (x[:, kinds] == RIGHT) | (x[:, kinds] == INTERVAL)
            x[:, col] = np.where(lower_side, x[:, col] - 1.0, x[:, col])
    return x, bool(np.any(x[:, 5] != NOT_TRUNCATED)), bool(np.any(x[:, 2] != EXACT))


def truncation_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) of each row's truncation, infinite where open."""
    t = x[:, 5]
    lower = np.where((t == RIGHT) | (t == INTERVAL), x[:, 3], -math.inf)
    upper = np.where((t == LEFT) | (t == INTERVAL), x[:, 4], math.inf)
    return lower, upper


def _truncation(lower: np.ndarray, upper: np.ndarray, stand_in: np.ndarray) -> np.ndarray:
    """Columns [lower, upper, kind] of truncation bounds (infinite where open): coded like
    censoring ends, NOT_TRUNCATED with the observation as stand-in where both are open."""
    coded = _coded(np.where(np.isinf(lower), np.nan, lower),
                   np.where(np.isinf(upper), np.nan, upper))
    open_both = np.isinf(lower) & np.isinf(upper)
    coded[open_both, 0] = coded[open_both, 1] = stand_in[open_both]
    coded[open_both, 2] = NOT_TRUNCATED
    return coded


class CensoredModel(Model):
    """A family's log-likelihood over censored and truncated rows (see the module notes)."""

    event_ndim = 1

    def __init__(self, family, truncated: bool = False, censored: bool = True):
        if getattr(family, "event_ndim", 0):
            raise ModelError(f"censored data need a univariate family; {family.name} is not.")
        for method in ("logcdf", "logsf"):
            if getattr(type(family), method, Family.logcdf) in (Family.logcdf, Family.logsf):
                raise ModelError(f"{family.name} defines no {method}: censored and truncated "
                                 "data need the distribution function.")
        self.family, self.truncated, self.censored = family, truncated, censored
        what = ", ".join(w for w, on in (("censored", censored), ("truncated", truncated)) if on)
        self.name = f"{family.name} ({what or 'censored'} data)"
        self.min_n = family.min_n

    def __eq__(self, other):
        return (isinstance(other, CensoredModel) and self.family == other.family
                and (self.truncated, self.censored) == (other.truncated, other.censored))

    def __hash__(self):
        return hash((CensoredModel, self.family, self.truncated, self.censored))

    @property
    def params(self):
        return self.family.params

    def logpdf(self, x, p):
        return rows_loglik(self.family, p, x, self.truncated, self.censored)

    def prepare(self, x, span=None):
        rows, truncated, censored = check_rows(self.family, x,
                                               f"the {self.family.name} distribution")
        return CensoredModel(self.family, truncated, censored), rows

    def merge_prepared(self, parts, whole):
        """Truncated or censored anywhere: the model with those terms, for every part."""
        models = [*parts, whole]
        return CensoredModel(self.family, any(m.truncated for m in models),
                             any(m.censored for m in models))

    def check_existence(self, x, fixed, stats=None):
        """Families whose MLE of some parameter is an order statistic or the median (uniform,
        Pareto, Laplace) have rules that censoring and truncation break, and a likelihood
        Newton cannot climb in them: refused unless those parameters are fixed."""
        f = self.family
        special = [n for n in (*getattr(f, "boundary", ()), *getattr(f, "nonsmooth", ()))
                   if n not in fixed]
        if special:
            raise ModelError(
                f"{f.name} with censored or truncated data: its {' and '.join(special)} "
                f"{'is' if len(special) == 1 else 'are'} estimated at an order statistic or "
                "the median of exact data, a rule censoring "
                "breaks, and the likelihood is not smooth in it; fix it (fixed={...}) or choose "
                "a smooth family.")

    def start(self, x):
        """The family's start on a stand-in for each observation: the exact value, the
        interval's midpoint, or the known end of a censored one."""
        return self.family.start(stand_ins(x, self.family.support.integer))

    def statistics(self, fit) -> dict:
        return observation_counts(fit._context.x)

    def sample(self, params, size, rng=None):
        raise ModelError(f"{self.name}: new data would need the censoring and truncation "
                         "mechanism, which the data do not record; use the nonparametric "
                         "bootstrap, or simulate from fit.model.family.")

    def expected_information(self, params):
        raise ModelError(f"{self.name}: the expected information averages over the censoring "
                         "and truncation mechanism, which the data do not record; use "
                         "cov='observed' (the default), 'opg' or 'robust'.")


def kind_counts(x: np.ndarray) -> dict[str, int]:
    """How many rows are of each kind (exact, interval, left-, right-censored)."""
    return {name: int(np.sum(x[:, 2] == code)) for code, name in KIND_NAMES.items()}


def observation_counts(x) -> dict:
    """``{"observations": {kind: count}}`` of rows (kinds present only), for the summary
    (of rows in memory, or of a partitioned dataset's, in one pass)."""
    from ._data import summed

    counts = summed(x, lambda rows: {**kind_counts(rows),
                                     "truncated": int(np.sum(rows[:, 5] != NOT_TRUNCATED))})
    return {"observations": {k: v for k, v in counts.items() if v}}


def stand_ins(x: np.ndarray, integer: bool = False) -> np.ndarray:
    """One value per row for start rules: the exact value, an interval's midpoint, a censored
    observation's known end."""
    lo = x[:, 0] + np.where(integer & ((x[:, 2] == RIGHT) | (x[:, 2] == INTERVAL)), 1.0, 0.0)
    hi = x[:, 1]
    return np.where(x[:, 2] == INTERVAL, 0.5 * (lo + hi), np.where(x[:, 2] == LEFT, hi, lo))
