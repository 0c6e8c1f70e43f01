"""Passes over partitioned data on a Dask scheduler: one to read, validate and reduce the data
(and, for families with sufficient statistics, to finish with them), then one per Newton
evaluation, each mapping the compiled per-partition log-likelihood, score and Hessian over
the partitions and summing them up a tree.

The log-likelihood is a sum over observations, so a sum over partitions of partial sums is
the same function: the optimizer, the inference and the diagnostics run on the driver,
unchanged, against :class:`ShardedObjective`.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from .._data import Chunks, check_range
from .._errors import BoundaryEstimate, DataError, FitError, NoEstimate
from .._optimize.objective import Objective, chunk_scores, summed_derivs
from .partitions import Dataset

#: partitions summed per node of the reduction tree
FAN_IN = 8
#: rows kept from the data for start values, coordinates and the subsample diagnostics
SAMPLE_ROWS = 1 << 15
#: persist the rows in memory when they take at most this share of the memory available
MEMORY_SHARE = 0.5


@functools.cache
def reuse_buffers() -> None:
    """Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand freed memory back
    to the system). That turns off glibc's adaptive mmap threshold, so every buffer over
    128 KB (a chunk, XLA's temporaries) is a fresh mmap, and hands back the heap's top at
    every free over 64 KB: each is faulted in again at the next chunk. A 1.8-million-row
    Weibull partition's pass took 91 ms so, 32 ms with these limits (30 ms without the
    variable). Memory still goes back to the system, in 64 MB steps."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to undo
        pass


def load(part, reader, model, label: str):
    """One partition as the model reads it: (rows, weights or None, the model its data
    resolve, or None where they alone cannot). Errors name the partition and its row."""
    from .._errors import ModelError

    reuse_buffers()
    try:
        x, w = reader(part)
        if model.event_ndim == 0 and x.ndim == 2 and x.shape[1] == 1:  # a one-column block
            x = x.reshape(-1)
        if x.shape[0] == 0:
            return x, w, None
        lo, hi = check_range(x, "data")
        try:
            prepared, x = model.prepare(x, (lo, hi))
        except (NoEstimate, BoundaryEstimate):  # rules about all the data (enough of them,
            prepared = None  # some spread, every category seen): decided on the driver
        return x, w, prepared
    except (DataError, ModelError) as err:
        raise type(err)(f"{label}: {err} (rows counted from 0 within this partition)") from None


@dataclass(frozen=True)
class Summary:
    """What the first pass learns about the data, combined up the reduction tree."""

    n: int
    count: float
    lo: float
    hi: float
    stats: tuple  # one array per partition, or None where the model has no statistics
    sample: tuple  # strided rows of each partition
    models: tuple  # the model each partition's data resolve (None: undecided)
    #: every distinct value of discrete data (None: more than DISTINCT of them somewhere), so
    #: that the driver's checks see a rare category or the only zero however it samples
    distinct: np.ndarray | None


#: distinct values of discrete data kept per partition
DISTINCT = 4096


def mergeable(model) -> bool:
    """Whether the model's sufficient statistics of partitions merge into the data's."""
    from .._model import Model

    return bool(model.sufficient) and (model.additive_stats
                                       or type(model).merge_stats is not Model.merge_stats)


def summarize(loaded, model, cap: int) -> Summary:
    x, w, prepared = loaded
    n = int(x.shape[0])
    if n == 0:
        return Summary(0, 0.0, math.inf, -math.inf, (), (), (), np.empty(0))
    stats = (model.suffstats(x),) if mergeable(model) and w is None else (None,)
    stride = max(1, n // cap)
    distinct = None
    if model.support.integer and x.ndim == 1:
        values = np.unique(x)
        distinct = values if values.size <= DISTINCT else None
    return Summary(n, float(n if w is None else np.sum(w)), float(np.min(x)), float(np.max(x)),
                   stats, (x[::stride],), (prepared,), distinct)


def combine(*parts: Summary) -> Summary:
    distinct = [p.distinct for p in parts]
    return Summary(sum(p.n for p in parts), sum(p.count for p in parts),
                   min(p.lo for p in parts), max(p.hi for p in parts),
                   sum((p.stats for p in parts), ()), sum((p.sample for p in parts), ()),
                   sum((p.models for p in parts), ()),
                   None if any(d is None for d in distinct) else np.unique(
                       np.concatenate(distinct)))


def partition_derivs(loaded, u, fixed, model, layout):
    """(log-likelihood, score, Hessian) of one partition (on a worker, compiled as in
    memory: the same chunk shapes, so one compiled program per shape and worker)."""
    reuse_buffers()  # (the rows may have been read by another worker process)
    x, w = loaded[0], loaded[1]
    if x.shape[0] == 0:
        k = u.shape[0]
        return np.zeros(()), np.zeros(k), np.zeros((k, k))
    return tuple(summed_derivs(Chunks.from_array(x, w).parts, u, fixed, model, layout))


def partition_score_products(loaded, u, fixed, model, layout):
    """sum_i w_i s_i s_i' over one partition, the OPG's and the sandwich's raw material,
    without shipping the n x k scores (an observation of frequency weight w counts w
    times)."""
    x, w = loaded[0], loaded[1]
    k = u.shape[0]
    outer = np.zeros((k, k))
    if x.shape[0] == 0:
        return outer
    for xc, wc in Chunks.from_array(x, w).parts:
        s = np.asarray(chunk_scores(u, fixed, xc, wc, model, layout), dtype=float)  # w_i s_i
        weight = np.asarray(wc, dtype=float)
        keep = weight > 0  # (not the padding)
        outer += (s[keep] / weight[keep, None]).T @ s[keep]
    return outer


def add(*parts):
    """The sum of partial results: numbers, arrays, or tuples or dicts of them (None: an
    empty partition's)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    first = parts[0]
    if isinstance(first, dict):
        keys = dict.fromkeys(k for p in parts for k in p)
        return {k: add(*[p[k] for p in parts if k in p]) for k in keys}
    if isinstance(first, tuple):
        return tuple(add(*[p[i] for p in parts]) for i in range(len(first)))
    total = first
    for p in parts[1:]:
        total = total + p
    return total


def applied(loaded, fun):
    """``fun`` of one partition's rows (see :func:`mlekit._data.summed`); None if empty."""
    return fun(loaded[0]) if loaded[0].shape[0] else None


def tree(tasks: list, combiner):
    """The tasks reduced ``FAN_IN`` at a time, up a tree (the driver receives one result)."""
    from dask import delayed

    while len(tasks) > 1:
        tasks = [delayed(combiner, pure=False)(*tasks[i:i + FAN_IN])
                 for i in range(0, len(tasks), FAN_IN)]
    return tasks[0]


def print_pass(number: int, what: str, rows: int, seconds: float) -> None:
    """The command line's per-pass progress line (stderr)."""
    rate = rows / seconds if seconds > 0 else float("inf")
    print(f"pass {number} ({what}): {rows:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s)",
          file=sys.stderr, flush=True)


def available_memory() -> float:
    """Bytes the rows may take if persisted: the workers' memory on a cluster, else this
    machine's available memory."""
    client = current_client()
    if client is not None:
        workers = client.scheduler_info().get("workers", {}).values()
        return float(sum(w.get("memory_limit", 0) or 0 for w in workers))
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0.0


def current_client():
    """The active ``dask.distributed`` client, or None (then threads in this process)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


class ShardedData:
    """Partitioned data as the fit sees them: their size, a strided sample (start values,
    coordinates, the subsample diagnostics), and passes that reduce functions of the rows.

    Anything that would need every row on the driver (a bootstrap, a score test's refit)
    raises a :class:`FitError` saying so, instead of quietly using the sample.
    """

    def __init__(self, data: Dataset, rows: list, summary: Summary, persisted: bool,
                 lazy: list | None = None):
        self.data, self.rows, self.persisted = data, rows, persisted
        self.lazy = rows if lazy is None else lazy  # the rows as read from the source
        self.stats_parts = summary.stats
        self.span = (summary.lo, summary.hi)
        self.n, self.count = summary.n, summary.count
        self.sample = np.concatenate(summary.sample, axis=0)
        #: the sample and every distinct value of discrete data: what the model's checks of
        #: all the data (a category never seen, no zeros at all) are asked on
        self.check = (self.sample if summary.distinct is None
                      else np.concatenate([self.sample, summary.distinct]))
        self.models = summary.models
        self.shape = (self.n, *self.sample.shape[1:])
        self.ndim = len(self.shape)
        self.passes = 0
        self.seconds = 0.0

    def run(self, function, args: tuple, combiner, what: str):
        from dask import delayed

        tasks = [delayed(function, pure=False)(part, *args) for part in self.rows]
        start = time.perf_counter()
        out = tree(tasks, combiner).compute()
        self.record(what, time.perf_counter() - start)
        return out

    def record(self, what: str, seconds: float) -> None:
        self.seconds += seconds
        self.passes += 1
        if self.data.progress is not None:
            self.data.progress(self.passes, what, self.n, seconds)

    def derivs(self, u, fixed, model, layout):
        return self.run(partition_derivs, (u, fixed, model, layout), add, "newton")

    def score_products(self, u, fixed, model, layout):
        return self.run(partition_score_products, (u, fixed, model, layout), add, "scores")

    def summed(self, fun):
        return self.run(applied, (fun,), add, "statistics")

    def release(self) -> None:
        """Let the workers drop the rows (a fit its sufficient statistics finished): any
        later pass (other covariances, statistics) reads them again."""
        if self.persisted:
            self.rows, self.persisted = list(self.lazy), False

    def same_rows(self, other) -> bool:
        """The same partitions of the same source (dask's keys name their content)."""
        return (isinstance(other, ShardedData) and self.n == other.n
                and [p.key for p in self.data.parts] == [p.key for p in other.data.parts]
                and self.data.reader == other.data.reader)

    def objective(self, model, layout, fixed, stats=None, prior=None) -> ShardedObjective:
        return ShardedObjective(model, layout, fixed, self, stats, prior)

    def refuse(self, what: str = "this") -> None:
        raise FitError(f"{what} needs all {self.n:,} rows in memory here, and they are "
                       f"partitioned ({self.data.source}); a partitioned fit gives estimates, "
                       "standard errors (observed, opg, robust), profile intervals, transforms "
                       "and likelihood-ratio tests. For the rest, fit a sample in memory.")

    def _refuse(self, *args, **kwargs):
        self.refuse()

    __array__ = _refuse
    __getitem__ = _refuse

    def __len__(self):
        return self.n

    def __repr__(self):
        return f"ShardedData({self.n:,} rows in {len(self.rows)} partitions)"


class ShardedObjective(Objective):
    """:class:`Objective` whose sums over the data are passes over the partitions."""

    def __init__(self, model, layout, fixed, x: ShardedData, stats=None, prior=None):
        self.model, self.layout, self.x = model, layout, x
        self.prior, self.weights = prior, None
        self.fixed = {k: np.asarray(v, dtype=np.float64) for k, v in fixed.items()}
        self.stats = stats
        self._chunks, self._linear = None, None

    def holding(self, fixed):
        from .._optimize.objective import BASIS

        basis = {k: v for k, v in self.fixed.items() if k == BASIS}
        return ShardedObjective(self.model, self.layout, {**basis, **fixed}, self.x, self.stats,
                                self.prior)

    @property
    def linear(self):
        return None

    @property
    def n(self) -> int:
        return self.x.n

    @property
    def count(self) -> float:
        return self.x.count

    def direct(self, u):
        return self.x.derivs(np.asarray(u, dtype=np.float64), self.fixed, self.model,
                             self.layout)

    def scores(self, u):
        self.x.refuse("per-observation scores (cluster-robust errors, the bootstrap)")

    def score_products(self, u):
        return self.x.score_products(np.asarray(u, dtype=np.float64), self.fixed, self.model,
                                     self.layout)
