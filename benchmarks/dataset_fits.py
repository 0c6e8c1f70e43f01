"""Distributed fits: ``mk.fit(model, mk.dataset(glob))`` on a local Dask cluster against one
in-memory pass over the same data.

Run as ``.venv/bin/python benchmarks/dataset_fits.py`` (``make bench``). The distributed issue's
case: 2e8 rows of gamma(shape 2, scale 1.5) draws (set ``MLEKIT_BENCH_ROWS``, e.g. 2e6, for a
smoke run), written chunk by chunk from a seeded generator to 16 Parquet files in a temporary
directory (several row groups per file, at most ~2 M rows each; one partition per row group),
removed at the end. A ``distributed.LocalCluster`` with one single-threaded worker process per
core fits ``mk.Gamma()`` (merged sufficient statistics: one read pass) and ``mk.Weibull()``
(the read pass, then one pass per Newton evaluation, on the rows the workers keep in memory).

Reported per fit, from the dataset's ``progress`` callback: passes, seconds and rows/s of the
read pass and of the Newton passes (the first Newton pass, which compiles on every worker, is
shown apart; the rate is the median of the rest), the wall time, the estimates. Peak memory:
this process's resident set during each fit (polled every 0.05 s; target <= 500 MB) and each
worker's (polled with ``client.run`` every 0.25 s).

Against: the whole column loaded into one numpy array in this process (when it fits in half the
available memory), then one pass of the gamma's statistics (``np.log(x).sum()``, ``x.sum()``)
and one Newton pass of the in-memory Weibull fit (its objective's value, score and Hessian at
the estimate), each the median of 3; also ``mk.fit(model, x)`` whole, and the largest relative
difference between the dataset fit's estimates and the in-memory fit's (they should agree to
rounding). ratio = the cluster's rows/s per pass / in memory's (> 1: the cluster is faster).
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from run import machine, machine_line

SEED = 20261207
ROWS = int(float(os.environ.get("MLEKIT_BENCH_ROWS", "2e8")))
FILES = 16
GROUP_ROWS = 2_000_000  # at most this many rows per row group (one partition each)
MIN_GROUPS = 4  # row groups per file at least
SHAPE, SCALE = 2.0, 1.5
DRIVER_TARGET_MB = 500.0
POLL_S = 0.05
WORKER_EVERY = 5  # workers are polled every 5th tick (0.25 s): client.run costs a round trip
MB = 1 << 20


def write_dataset(directory: Path, rows: int) -> tuple[str, int]:
    """Gamma draws in FILES Parquet files, one row group per generated chunk (the generator
    never holds more than one chunk). Returns (the glob, the number of row groups)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    per_file = np.diff(np.linspace(0, rows, FILES + 1).astype(np.int64))
    groups = 0
    for i, file_rows in enumerate(per_file):
        count = max(MIN_GROUPS, math.ceil(file_rows / GROUP_ROWS))
        sizes = np.diff(np.linspace(0, file_rows, count + 1).astype(np.int64))
        schema = pa.schema([("x", pa.float64())])
        with pq.ParquetWriter(directory / f"part-{i:02d}.parquet", schema) as writer:
            for size in sizes[sizes > 0]:
                chunk = rng.gamma(SHAPE, SCALE, int(size))
                writer.write_table(pa.table({"x": chunk}, schema=schema),
                                   row_group_size=int(size))
                groups += 1
    return str(directory / "*.parquet"), groups


def load_column(pattern: str, rows: int) -> np.ndarray:
    """The whole column in one numpy array, filled row group by row group (no second copy)."""
    import glob

    import pyarrow.parquet as pq

    x, at = np.empty(rows), 0
    for path in sorted(glob.glob(pattern)):
        file = pq.ParquetFile(path)
        for g in range(file.metadata.num_row_groups):
            part = file.read_row_group(g, columns=["x"]).column(0).to_numpy()
            x[at:at + part.size] = part
            at += part.size
    assert at == rows, (at, rows)
    return x


def rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


class PeakMemory:
    """Peak resident set of this process and of each worker, polled in a background thread."""

    def __init__(self, client):
        self.client = client
        self.driver, self.workers = 0, {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self):
        self.driver = self.start = rss()
        self._poll_workers()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.driver = max(self.driver, rss())
        self._poll_workers()

    def _poll(self):
        tick = 0
        while not self._stop.wait(POLL_S):
            self.driver = max(self.driver, rss())
            tick += 1
            if tick % WORKER_EVERY == 0:
                self._poll_workers()

    def _poll_workers(self):
        try:
            for addr, value in self.client.run(rss).items():
                self.workers[addr] = max(self.workers.get(addr, 0), value)
        except Exception as err:  # a busy or restarting worker: note it, keep polling
            self.errors.append(f"{type(err).__name__}: {err}")


def fit_dataset(mk, model, pattern: str, client) -> dict:
    """One dataset fit, its passes and its peak memory; drops the fit (and with it the rows
    persisted on the workers) before returning."""
    passes = []

    def record(number, what, rows, seconds):
        passes.append((number, what, rows, seconds))

    with PeakMemory(client) as peak:
        t0 = time.perf_counter()
        fit = mk.fit(model, mk.dataset(pattern, column="x", progress=record))
        wall = time.perf_counter() - t0
    data = fit._context.objective.x
    out = {"params": dict(fit.params), "converged": fit.converged, "rows": data.n,
           "passes": data.passes, "pass_s": data.seconds, "persisted": data.persisted,
           "wall_s": wall, "log": passes, "driver_start": peak.start, "driver_peak": peak.driver,
           "worker_peak": dict(peak.workers), "poll_errors": peak.errors}
    del fit, data
    return out


def pass_rates(result: dict) -> dict:
    """Seconds and rows/s of the read pass and of the Newton passes (the first apart)."""
    read = [s for _, what, _, s in result["log"] if what == "read"]
    newton = [s for _, what, _, s in result["log"] if what == "newton"]
    others = [what for _, what, _, _ in result["log"] if what not in ("read", "newton")]
    rows = result["rows"]
    steady = newton[1:] or newton
    out = {"read_s": sum(read), "newton": len(newton), "others": others,
           "newton_first_s": newton[0] if newton else None,
           "newton_s": statistics.median(steady) if steady else None}
    out["read_rate"] = rows / out["read_s"] if read else None
    out["newton_rate"] = rows / out["newton_s"] if newton else None
    return out


def median_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def in_memory(mk, x: np.ndarray) -> dict:
    """The same fits on the array in this process, and one pass of each."""
    out = {}
    out["gamma_pass_s"] = median_time(lambda: (np.log(x).sum(), x.sum()))
    mk.fit(mk.Gamma(), x)  # first call: compiled programs loaded or compiled
    t0 = time.perf_counter()
    gamma = mk.fit(mk.Gamma(), x)
    out["gamma_fit_s"] = time.perf_counter() - t0
    out["gamma_params"] = dict(gamma.params)
    del gamma
    t0 = time.perf_counter()
    weibull = mk.fit(mk.Weibull(), x)
    out["weibull_first_s"] = time.perf_counter() - t0
    del weibull
    t0 = time.perf_counter()
    weibull = mk.fit(mk.Weibull(), x)
    out["weibull_fit_s"] = time.perf_counter() - t0
    out["weibull_params"] = dict(weibull.params)
    out["weibull_iterations"] = weibull.iterations
    ctx = weibull._context
    out["weibull_pass_s"] = median_time(lambda: ctx.objective.direct(ctx.u))
    del weibull
    return out


def rel_diff(a: dict, b: dict) -> float:
    return max(abs(float(a[k]) - float(b[k])) / abs(float(b[k])) for k in b)


def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def main() -> None:
    import psutil
    from distributed import Client, LocalCluster

    # dashboard_address=None still serves the scheduler's health page, on 8787 if it is free
    warnings.filterwarnings("ignore", message="Port 8787 is already in use")
    t0 = time.perf_counter()
    import mlekit as mk

    info = machine()
    print(machine_line(info) + f"; import mlekit {time.perf_counter() - t0:.2f} s")
    workers = os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="mlekit-distributed-"))
    try:
        t0 = time.perf_counter()
        pattern, groups = write_dataset(tmp, ROWS)
        size = sum(p.stat().st_size for p in tmp.glob("*.parquet"))
        print(f"{ROWS:,} rows of gamma({SHAPE:g}, {SCALE:g}): {FILES} Parquet files, {groups} row "
              f"groups (partitions), {size / MB:,.0f} MB, written in "
              f"{time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("mlekit"))  # the workers' imports are not a pass
            limit = min(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
            print(f"LocalCluster: {workers} worker processes x 1 thread, "
                  f"{limit / MB:,.0f} MB memory limit each; started and imported mlekit in "
                  f"{time.perf_counter() - t0:.1f} s\n", flush=True)
            results = {}
            for name, model in (("gamma", mk.Gamma()), ("weibull", mk.Weibull())):
                results[name] = fit_dataset(mk, model, pattern, client)
                print(f"  done {name}: {results[name]['wall_s']:.2f} s", flush=True)

        nbytes = ROWS * 8
        baseline = None
        if nbytes <= 0.5 * psutil.virtual_memory().available:
            t0 = time.perf_counter()
            x = load_column(pattern, ROWS)
            print(f"  in memory: loaded {nbytes / MB:,.0f} MB in {time.perf_counter() - t0:.1f} s",
                  flush=True)
            baseline = in_memory(mk, x)
            del x
        else:
            print(f"  in memory: skipped ({nbytes / MB:,.0f} MB > half the available memory)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("\nDataset fits (rows/s per pass; Newton: median pass after the first, which "
          "compiles)")
    head = (f"{'fit':<8} {'rows':>12} {'passes':>6} {'read s':>7} {'read rows/s':>12} "
            f"{'newton':>6} {'1st s':>6} {'pass s':>7} {'newton rows/s':>14} {'wall s':>7} "
            f"{'persisted':>9}  estimates")
    print(head)
    print("-" * len(head))
    rates = {}
    for name, r in results.items():
        q = rates[name] = pass_rates(r)
        est = ", ".join(f"{k} {float(v):.6g}" for k, v in r["params"].items())
        extra = f" (+ {', '.join(q['others'])})" if q["others"] else ""
        print(f"{name:<8} {r['rows']:>12,} {r['passes']:>6} {q['read_s']:>7.2f} "
              f"{fmt(q['read_rate'], ',.0f'):>12} {q['newton']:>6} "
              f"{fmt(q['newton_first_s'], '.2f'):>6} {fmt(q['newton_s'], '.3f'):>7} "
              f"{fmt(q['newton_rate'], ',.0f'):>14} {r['wall_s']:>7.2f} "
              f"{'yes' if r['persisted'] else 'no':>9}  {est}{extra}"
              f"{'' if r['converged'] else '  (not converged)'}")

    print("\nPeak resident memory during each fit (MB)")
    print(f"{'fit':<8} {'driver at start':>15} {'driver':>8} {'target':>7} {'met':>4} "
          f"{'workers min':>12} {'workers max':>12} {'workers sum':>12}")
    driver_met = True
    for name, r in results.items():
        peaks = list(r["worker_peak"].values()) or [0]
        met = r["driver_peak"] <= DRIVER_TARGET_MB * MB
        driver_met &= met
        print(f"{name:<8} {r['driver_start'] / MB:>15.0f} {r['driver_peak'] / MB:>8.0f} "
              f"{DRIVER_TARGET_MB:>7.0f} {'yes' if met else 'NO':>4} {min(peaks) / MB:>12.0f} "
              f"{max(peaks) / MB:>12.0f} {sum(peaks) / MB:>12.0f}")
        if r["poll_errors"]:
            print(f"  ({len(r['poll_errors'])} worker polls failed: {r['poll_errors'][0]})")

    ratios = {}
    if baseline is not None:
        print("\nAgainst one in-memory pass in this process (ratio = cluster rows/s per pass / "
              "in-memory rows/s per pass)")
        print(f"{'fit':<8} {'cluster pass':>13} {'memory pass':>12} {'ratio':>7} "
              f"{'mk.fit(x) s':>12} {'dataset s':>10} {'max rel diff':>13}")
        cases = (("gamma", "read_s", baseline["gamma_pass_s"], baseline["gamma_fit_s"]),
                 ("weibull", "newton_s", baseline["weibull_pass_s"], baseline["weibull_fit_s"]))
        for name, key, memory_s, fit_s in cases:
            cluster_s = rates[name][key]
            ratios[name] = memory_s / cluster_s
            diff = rel_diff(results[name]["params"], baseline[f"{name}_params"])
            print(f"{name:<8} {cluster_s * 1e3:>11.1f}ms {memory_s * 1e3:>10.1f}ms "
                  f"{ratios[name]:>7.3g} {fit_s:>12.3f} {results[name]['wall_s']:>10.2f} "
                  f"{diff:>13.1e}")
        print(f"(gamma: the read pass against np.log(x).sum() + x.sum(); Weibull: the median "
              f"Newton pass against the in-memory objective's pass at the estimate; the "
              f"in-memory Weibull fit took {baseline['weibull_iterations']} iterations, its "
              f"first call {baseline['weibull_first_s']:.2f} s)")

    summary = (f"summary: {ROWS:.0e} rows on {workers} workers; gamma {results['gamma']['passes']} "
               f"pass(es) in {results['gamma']['wall_s']:.1f} s, Weibull "
               f"{results['weibull']['passes']} in {results['weibull']['wall_s']:.1f} s; "
               f"driver peak {max(r['driver_peak'] for r in results.values()) / MB:.0f} MB "
               f"(target {DRIVER_TARGET_MB:.0f}: {'met' if driver_met else 'NOT met'})")
    if ratios:
        summary += (f"; per-pass throughput vs in memory: gamma {ratios['gamma']:.3g}x, "
                    f"Weibull {ratios['weibull']:.3g}x")
    print("\n" + summary)


if __name__ == "__main__":
    main()
