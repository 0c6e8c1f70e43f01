"""Observations: validation of what the user passes, and the chunked layout the engine sums over.

Data are cut into chunks of ``CHUNK`` observations; the last chunk is padded (with a valid
observation, weight 0) to a power of two. Compiled code therefore sees at most a dozen shapes
whatever n is, and a new n never recompiles; each chunk fits in cache, which keeps the fused
log-density, gradient and Hessian in fast memory.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import DataError

CHUNK = 1 << 16
MIN_BUCKET = 1 << 6
WORKERS = min(os.cpu_count() or 1, 8)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mlekit")


def split(seq, parts: int = WORKERS) -> list:
    """``seq`` cut into at most ``parts`` contiguous pieces of near-equal length."""
    step = max(1, -(-len(seq) // parts))
    return [seq[i:i + step] for i in range(0, len(seq), step)]


def batches_on_threads(fun, batches: list, prefix: str):
    """``fun(batch)`` for each batch, yielded in order, on threads of their own named
    ``prefix``: not the shared pool, whose workers serve the numpy passes inside a batch (a
    family's statistics of long data) and would deadlock waiting on themselves. An error
    (or Ctrl-C) drops the batches not yet started."""
    if len(batches) < 2 or WORKERS < 2:
        yield from map(fun, batches)
        return
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix=prefix)
    try:
        yield from pool.map(fun, batches)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def parallel_map(fun, pieces: list) -> list:
    """[fun(p) for p in pieces], on threads: numpy's loops and XLA's executions release the GIL,
    so pieces of long data run on all cores."""
    if len(pieces) < 2 or WORKERS < 2 or threading.current_thread().name.startswith("mlekit"):
        # already on one of the pool's threads: waiting there for the pool's other (busy)
        # workers could wait forever, so nested calls run serially
        return [fun(p) for p in pieces]
    return list(_pool().map(fun, pieces))


def summed(x, fun):
    """``fun(x)`` of data in memory; of a partitioned dataset (see :mod:`mlekit._distributed`),
    ``fun`` of each partition's rows, summed (numbers, arrays, tuples or dicts of them), in
    one pass on the workers."""
    over = getattr(x, "summed", None)
    return fun(x) if over is None else over(fun)


def as_observations(values, name: str = "x") -> np.ndarray:
    """Validate raw data and return it as a 1-D float64 array (no copy if it already is one).

    Rules: one-dimensional (or a single column), numeric, non-empty, and finite.
    """
    return observe(values, name)[0]


def observe(values, name: str = "x", ndim: int = 1, measure: bool = True
            ) -> tuple[np.ndarray, float | None, float | None]:
    """:func:`as_observations`, plus the data's range (min, max), which the same check needs.

    ``ndim=2`` takes vector observations: an (n, d) array or a table of d columns, one row per
    observation (multivariate families). ``measure=False`` skips the range and the finiteness
    check (returning None, None): for callers that prove finiteness another way (finite
    sufficient statistics) and call :func:`check_range` only where that fails.
    """
    if values is None:
        raise DataError(f"{name} is None; pass the observations as an array, list or column.")
    if ndim == 1 and hasattr(values, "to_numpy") and getattr(values, "ndim", 1) == 2:
        if values.shape[1] != 1:
            raise DataError(
                f"{name} has {values.shape[1]} columns {list(values.columns)}; "
                "pick one, e.g. df['column']."
            )
        values = values.iloc[:, 0]
    raw = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if ndim == 1 and raw.ndim == 2 and 1 in raw.shape:
        raw = raw.reshape(-1)
    if raw.ndim != ndim:
        rule = ("one-dimensional (n observations); pass one column, or reshape with np.ravel"
                if ndim == 1 else
                "two-dimensional, one row per observation vector (n, d); for one vector "
                "pass x.reshape(1, -1)")
        raise DataError(f"{name} must be {rule}; got shape {raw.shape}.")
    if raw.size == 0:
        raise DataError(f"{name} is empty: there is nothing to fit. Pass at least one observation.")
    try:  # no copy when the data are float64 already
        x = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        i, bad = _first_non_numeric(raw.reshape(-1))
        shown = repr(str(bad)) if isinstance(bad, str) else repr(bad)
        where = f"{name}[{i}]" if ndim == 1 else f"{name}[{np.unravel_index(i, raw.shape)}]"
        raise DataError(
            f"{where} = {shown} is not a number; every observation must be numeric. "
            "Clean or drop that row."
        ) from None
    if not measure:
        return x, None, None
    lo, hi = check_range(x, name)
    return x, lo, hi


def check_range(x: np.ndarray, name: str = "x") -> tuple[float, float]:
    """(min, max) of the data, raising DataError on a non-finite value."""
    ndim = x.ndim
    # min and max propagate NaN and show infinities: two quick passes that also give the range
    # every support check needs; the per-value mask is built only when something is wrong
    lo, hi = float(x.min()), float(x.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = np.flatnonzero(~np.isfinite(x))
        i = bad[0] if ndim == 1 else tuple(int(j) for j in np.unravel_index(bad[0], x.shape))
        raise DataError(
            f"{name} has {bad.size} non-finite value(s) (NaN or infinite), the first "
            f"{name}[{i}] = {float(x.reshape(-1)[bad[0]])!r}; drop them first, e.g. "
            "x[np.isfinite(x)] (or --dropna on the command line)."
        )
    return lo, hi


def has_spread(x: np.ndarray) -> bool:
    """True when not all values are equal; usually decided by the first block."""
    first = x.reshape(-1)[0]
    flat = x.reshape(-1)
    return any(bool(np.any(flat[i:i + CHUNK] != first)) for i in range(0, flat.shape[0], CHUNK))


def _first_non_numeric(raw: np.ndarray):
    for i, v in enumerate(raw):
        try:
            float(v)
        except (TypeError, ValueError):
            return i, v
    return 0, raw[0]


def bucket(m: int) -> int:
    """The padded length of a chunk holding m observations: a power of two >= 64."""
    return max(MIN_BUCKET, 1 << (int(m) - 1).bit_length())


@dataclass(frozen=True)
class Chunks:
    """Observations on the device as (x, w) pairs of a few fixed shapes; w = 0 on padding."""

    parts: tuple[tuple[jax.Array, jax.Array], ...]
    n: int

    @classmethod
    def from_array(cls, x: np.ndarray, weights: np.ndarray | None = None) -> Chunks:
        """``x`` in chunks; ``weights`` (frequency weights, one per observation) become the
        chunks' weights, 0 on the padding as always."""
        n = x.shape[0]
        full = n // CHUNK
        parts = []
        # jax.device_put, not jnp.asarray: the same copy, 4x less overhead (1.3 vs 5.2 ms per 1e6)
        if full:
            ones = jnp.ones(CHUNK)
            parts = [(jax.device_put(x[i * CHUNK:(i + 1) * CHUNK]),
                      ones if weights is None else
                      jax.device_put(np.ascontiguousarray(weights[i * CHUNK:(i + 1) * CHUNK])))
                     for i in range(full)]
        rest = n - full * CHUNK
        if rest:
            size = bucket(rest)
            tail = np.empty((size, *x.shape[1:]), dtype=x.dtype)
            tail[:] = x[0]
            tail[:rest] = x[full * CHUNK:]
            w = np.zeros(size)
            w[:rest] = 1.0 if weights is None else weights[full * CHUNK:]
            parts.append((jax.device_put(tail), jax.device_put(w)))
        return cls(tuple(parts), n)
