r"""Multiple starts: many Newton maximizations from dispersed points, run as one batch
(:mod:`.batched`), and the distinct local maxima they reach.

A log-likelihood can have several local maxima (a Cauchy location in small samples, mixtures,
change points); one Newton run finds the one uphill of its start. :func:`dispersed_starts`
spreads start points over the parameter space, :func:`explore` maximizes from all of them at
once on the shared data and clusters the converged members: two members reached the same
maximum when their log-likelihoods agree within the tolerance of likelihood comparisons AND
their points agree in standard-error units,

.. math:: \sqrt{(u_1 - u_2)^\top (-H)(u_1 - u_2)} < 10^{-2},

with ``H`` the Hessian at the better one (a metric free of the parameters' scales).
:func:`optima_diagnostics` turns the optima into the findings a fit reports.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .._data import Chunks, parallel_map, split
from .._diagnostics import Diagnostic
from .._model import Model
from .._params import RealLine, plain_value, split_flat
from . import batched as bt
from .objective import Layout

#: log-likelihoods that agree this closely (relative to max(1, |ll|)) may be one maximum: the
#: tolerance of likelihood comparisons (``LOGLIK_TOL`` of :mod:`.._inference.testing`), far above
#: what converged members differ by (a Newton decrement <= 1e-12 scale)
LOGLIK_TOL = 1e-9
#: points closer than this in standard-error units are one maximum: converged members of one
#: maximum lie ~1e-6 apart, distinct maxima are separated by a valley (>~1 standard error)
SAME_POINT = 1e-2
#: the best maximum reached by fewer than this share of the starts (or by one start) is a
#: warning: a better one may remain unfound; failures above this share are reported
FEW_SHARE = 0.2
#: jitter (standard deviation) of log / logit / log-odds coordinates: a factor of e
JITTER = 1.0
#: halvings towards the default start of a start where the log-likelihood is not finite
REPAIRS = 8
#: optima shown in a diagnostic's message
SHOWN = 5


@dataclass(frozen=True)
class Optimum:
    """One local maximum: its log-likelihood, the parameters there in natural units (free and
    held, in ``model.params`` order), the unconstrained point ``u``, how many starts reached it,
    and whether it is a verified maximum (score ~0, Hessian negative definite: always True for
    optima from :func:`explore`, whose non-converged members form none)."""

    loglik: float
    params: dict
    u: np.ndarray
    count: int
    converged: bool

    def to_dict(self) -> dict:
        """JSON-safe: floats, lists, ints, bools."""
        return {"loglik": float(self.loglik),
                "params": {n: np.asarray(v, dtype=float).tolist() for n, v in self.params.items()},
                "u": np.asarray(self.u, dtype=float).tolist(),
                "count": int(self.count), "converged": bool(self.converged)}


class Optima(tuple):
    """The distinct optima, best first (a tuple of :class:`Optimum`), with ``failed``: how many
    starts did not reach a verified maximum, and ``failures``: why (reason -> count)."""

    failed: int
    failures: dict

    def __new__(cls, optima=(), failed: int = 0, failures: Mapping[str, int] | None = None):
        out = super().__new__(cls, optima)
        out.failed, out.failures = int(failed), dict(failures or {})
        return out


# -- the batch's derivatives -------------------------------------------------------------------
def _padded(members: int) -> int:
    """Members per batch: a power of two >= MIN_BATCH, so few batch shapes are ever compiled."""
    return max(bt.MIN_BATCH, 1 << (max(members, 1) - 1).bit_length())


def _batch(model: Model, layout: Layout, held: Mapping, x: np.ndarray, stats, size: int
           ) -> bt.Derivs:
    """Derivatives of the full-data log-likelihood at ``size`` points at once. Every member
    shares the data and its padding weights (no per-member weights: a start costs no memory
    per observation), or the sufficient statistics."""
    held = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (size, *np.shape(v)))
            for k, v in held.items()}
    if stats is None and model.sufficient:
        stats = model.suffstats(x)
    if stats is not None:
        stats = np.asarray(stats, dtype=np.float64)
        return bt.from_stats(model, layout, held, np.broadcast_to(stats, (size, *stats.shape)))
    parts = Chunks.from_array(x).parts

    def derivs(u, active):
        u, (order, count) = np.asarray(u, dtype=np.float64), bt._schedule(active)

        def run(pieces):  # x and w shared: the flags (False, False)
            return bt._summed([bt.batch_chunk_derivs(u, held, xs, w, order, count, model, layout,
                                               False, False) for xs, w in pieces])

        totals = parallel_map(run, split(parts))  # long data: chunks on all cores
        return tuple(np.sum([t[i] for t in totals], axis=0) for i in range(3))

    return derivs


# -- start points ------------------------------------------------------------------------------
def dispersed_starts(model: Model, layout: Layout, held: Mapping, x: np.ndarray,
                     u_default: np.ndarray, number: int, seed) -> np.ndarray:
    """``number`` start points (number, k) in the unconstrained coordinates; row 0 is
    ``u_default``.

    Row i >= 1 takes the model's own start rule on a random subsample of the data, of a size
    between 1 and sqrt(n) (log-uniform), drawn without repeats until every observation has
    been used: small subsamples put location-type parameters near clusters of the data, where
    the local maxima of location likelihoods are. A parameter the
    rule cannot give on a subsample (a spread of one point) keeps its default. Every second row
    (and every row where the rule gave the default) is then jittered: by ``JITTER`` in log /
    logit coordinates (a factor of e), and in real coordinates by the spread of the subsample
    starts (1 where they do not vary). A point where
    the log-likelihood or its derivatives are not finite is pulled halfway towards the default,
    up to ``REPAIRS`` times, then replaced by it. Deterministic for a given ``seed`` (anything
    ``np.random.default_rng`` takes).
    """
    rng = np.random.default_rng(seed)
    u0 = np.asarray(u_default, dtype=np.float64).ravel()
    number, n = int(number), int(x.shape[0])
    out = np.tile(u0, (number, 1))
    if number <= 1 or u0.size == 0:
        return out
    # subsamples are consecutive runs of a shuffled order, reshuffled when used up: with few
    # observations every one of them seeds some start
    order, used = rng.permutation(n), 0
    to_plain = layout.to_plain(held)
    for i in range(1, number):
        m = min(n, int(n ** rng.uniform(0.0, 0.5)))  # floor: one observation is common
        if used + m > n:
            order, used = rng.permutation(n), 0
        out[i] = _start_from(model, layout, x[np.sort(order[used:used + m])], u0, to_plain)
        used += m
    real = np.concatenate([np.full(s, isinstance(c, RealLine))
                           for c, s in zip(layout.constraints, layout.sizes, strict=True)])
    q75, q25 = np.percentile(out[1:], [75, 25], axis=0)
    spread = np.where((q75 > q25) & real, (q75 - q25) / 1.349, JITTER)  # robust sd
    jitter = rng.standard_normal(out.shape) * spread
    # row 0 and every other row stay as the start rule gave them, unless it gave the default
    keep = (np.arange(number) % 2 == 0) & np.any(out != u0, axis=1)
    keep[0] = True
    jitter[keep] = 0.0
    out += jitter
    return _repair(out, u0, _batch(model, layout, held, x, None, _padded(number)))


def _start_from(model: Model, layout: Layout, sample: np.ndarray, u0: np.ndarray,
                to_plain: np.ndarray) -> np.ndarray:
    """The model's start values on ``sample`` in u; the default where a value is unusable.
    Pieced together in the parameters' own coordinates (``to_plain``: see Layout.to_plain)."""
    a, c = to_plain
    u = a @ u0 + c
    try:  # a start rule may fail on a subsample of one or two points in any way: keep u0
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theta = model.start(sample)
            pieces = [np.ravel(c.inverse(np.asarray(theta[name], dtype=float)))
                      if c.contains(np.asarray(theta[name], dtype=float)) else None
                      for name, c in zip(layout.names, layout.constraints, strict=True)]
    except Exception:  # noqa: BLE001
        return u0.copy()
    i = 0
    for piece, size in zip(pieces, layout.sizes, strict=True):
        if piece is not None and piece.size == size and np.all(np.isfinite(piece)):
            u[i:i + size] = piece
        i += size
    return np.linalg.solve(a, u - c) if layout.basis else u


def _repair(starts: np.ndarray, u0: np.ndarray, derivs: bt.Derivs) -> np.ndarray:
    """Pull starts where the derivatives are not finite halfway towards ``u0``, repeatedly."""
    count = starts.shape[0]
    size = _padded(count)
    u = np.concatenate([starts, np.tile(u0, (size - count, 1))])
    bad = np.arange(size) < count
    for _ in range(REPAIRS + 1):
        with np.errstate(all="ignore"):
            bad &= ~bt._finite(*derivs(u, bad))
        if not bad.any():
            break
        u[bad] = u0 + 0.5 * (u[bad] - u0)
    u[bad] = u0
    return u[:count]


# -- exploring: maximize from every start, cluster the maxima ----------------------------------
def explore(model: Model, layout: Layout, held: Mapping, x: np.ndarray, starts_u: np.ndarray,
            maxiter: int, canonical: Callable[[dict], dict] | None = None, stats=None) -> Optima:
    """Maximize from every row of ``starts_u`` (B, k) in one batch and return the distinct local
    maxima reached, best first, as :class:`Optima` (its ``failed`` counts the starts that did
    not converge; they form no optimum).

    ``canonical`` maps a parameter dict (natural units, free and held) to an equivalent one, for
    symmetries (label switching: sort the components); points are compared after it, so
    permuted solutions count as one optimum, reported at its canonical point. It must map a
    maximum to a maximum of the same log-likelihood and keep the held parameters. ``stats``:
    the sufficient statistics, where the objective has them (then the data are not read).
    """
    starts = np.atleast_2d(np.asarray(starts_u, dtype=np.float64))
    count, size = starts.shape[0], _padded(starts.shape[0])
    u0 = np.concatenate([starts, np.repeat(starts[:1], size - count, axis=0)])
    derivs = _batch(model, layout, held, x, stats, size)
    result = bt.maximize_batch(derivs, u0, maxiter=maxiter, members=np.arange(size) < count)
    status = result.status[:count]
    failures = {bt.STATUS_NAMES[c].replace("_", " "): int(np.sum(status == c))
                for c in np.unique(status) if c != bt.CONVERGED}
    ok = np.concatenate([status == bt.CONVERGED, np.zeros(size - count, dtype=bool)])
    u = np.array(result.u)
    held_b = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (size, *np.shape(v)))
              for k, v in held.items()}
    if canonical is not None and ok.any():
        rows = bt.natural_rows(layout, held_b, u)
        for b in np.flatnonzero(ok):
            theta = canonical(_params_of(model, layout, held, rows[b]))
            u[b] = layout.pack({n: theta[n] for n in layout.names}, held)
    # the Hessians where the members stopped (maximize_batch keeps them to itself): one pass
    with np.errstate(all="ignore"):
        ll, g, h = derivs(u, ok)
        good = ok & bt._finite(ll, g, h)
        good[good] = np.all(np.linalg.eigvalsh(-h[good]) > 0, axis=1)
    if (lost := int((ok & ~good).sum())):
        failures["not a maximum at its canonical point"] = lost
    reps = _cluster(np.flatnonzero(good), ll, u, h)
    rows = bt.natural_rows(layout, held_b, u)
    optima = [Optimum(float(ll[b]), _params_of(model, layout, held, rows[b]), u[b].copy(), c,
                      True) for b, c in reps]
    return Optima(optima, count - sum(c for _, c in reps), failures)


def _cluster(members: np.ndarray, ll: np.ndarray, u: np.ndarray, h: np.ndarray
             ) -> list[tuple[int, int]]:
    """(representative, count) per distinct maximum, best first: each member, in decreasing
    log-likelihood, joins the first better maximum it matches, else starts its own."""
    reps: list[list[int]] = []
    for b in members[np.argsort(-ll[members], kind="stable")]:
        for rep in reps:
            r = rep[0]
            d = u[b] - u[r]
            if (abs(ll[b] - ll[r]) <= LOGLIK_TOL * max(1.0, abs(ll[b]), abs(ll[r]))
                    and np.sqrt(max(d @ (-h[r]) @ d, 0.0)) < SAME_POINT):
                rep[1] += 1
                break
        else:
            reps.append([int(b), 1])
    return [(r, c) for r, c in reps]


def _params_of(model: Model, layout: Layout, held: Mapping, row: np.ndarray) -> dict:
    """{name: plain value} over ``model.params`` from a row of free natural values."""
    theta = {**split_flat(row, layout.names, layout.shapes), **held}
    return {n: plain_value(theta[n]) for n in model.params}


# -- what a fit reports ------------------------------------------------------------------------
def optima_diagnostics(optima, failed: int, n_starts: int, names) -> tuple[Diagnostic, ...]:
    """Findings from a multi-start run: ``multiple_optima`` when the starts reached several
    local maxima (a warning when the best was reached by few starts, since a better one may
    then remain unfound; a note otherwise), ``starts_failed`` (a note) when at least
    ``FEW_SHARE`` of the starts did not converge. ``names``: the parameters to compare."""
    out = []
    if len(optima) > 1:
        best, shown = optima[0], tuple(optima[:SHOWN])
        few = best.count < 2 or best.count < FEW_SHARE * n_starts
        lls = ", ".join(f"{o.loglik:.4f} ({o.count} of {n_starts} starts)" for o in shown)
        more = f" and {len(optima) - SHOWN} more" if len(optima) > SHOWN else ""
        differ = [n for n in names if any(
            not np.allclose(o.params[n], best.params[n], rtol=1e-6, atol=1e-9) for o in shown)]
        where = "; ".join(f"{n}: " + " vs ".join(_show(o.params[n]) for o in shown)
                          for n in differ)
        message = (f"the starts reached {len(optima)} distinct local maxima of the "
                   f"log-likelihood, with log-likelihoods {lls}{more}"
                   + (f"; they differ in {where}" if where else ""))
        if few:
            message += (f"; the best was reached by only {best.count} of {n_starts} starts, so a "
                        "better maximum may remain unfound")
        out.append(Diagnostic(
            "multiple_optima", "warning" if few else "note", message,
            "run more starts (starts=...), inspect fit.optima to compare the maxima, or rule "
            "out the spurious ones with a constraint (fixed={...}, a bounded parameter)"))
    if failed and failed >= FEW_SHARE * n_starts:
        out.append(Diagnostic(
            "starts_failed", "note",
            f"{failed} of {n_starts} starts did not converge to a maximum (the iteration "
            "limit, a stall, or non-finite values); the maxima reported come from the others",
            "raise maxiter=, or check whether the likelihood runs off to a boundary or to "
            "infinity from some starts (a parameter that should be fixed or bounded)"))
    return tuple(out)


def _show(value) -> str:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    return "[" + ", ".join(f"{v:.4g}" for v in arr.ravel()) + "]"
