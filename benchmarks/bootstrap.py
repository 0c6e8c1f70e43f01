"""The bootstrap: R = 999 replicates refitted in batches against a Python loop of ``mk.fit`` and
against ``scipy.stats.bootstrap`` with a scipy ``fit`` per resample.

Run as ``.venv/bin/python benchmarks/bootstrap.py``. For gamma and Weibull at n = 1e3 and 1e4:

- ``mlekit``: ``fit.bootstrap(999)`` (nonparametric). "1st" is the first call in the process
  (compiled programs loaded from the persistent cache, or compiled), "steady" the median of
  further calls.
- ``loop``: ``mk.fit`` on each of the same resamples (replicate b's data come from
  ``np.random.default_rng(seed).spawn(R)[b]``), so the replicate estimates must agree:
  "max rel diff" is the largest relative difference between the two.
- ``scipy``: ``scipy.stats.bootstrap((x,), statistic, method="percentile",
  vectorized=False)`` with ``statistic`` the shape from ``gamma.fit(x, floc=0)`` /
  ``weibull_min.fit(x, floc=0)``; the median of up to 3 runs while they take under 5 s (the
  first call in a process carries ~0.4 s of scipy's own start-up).

A loop or scipy run projected (from its first fits) to take over ``--limit`` seconds is not
run in full: its time is the projection, marked with ``~``. Ratios are other / mlekit steady.
Options: ``--replicates``, ``--limit``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mlekit as mk  # noqa: E402
from run import machine, timed  # noqa: E402  (one timing rule for every benchmark)

SEED = 20261130
SIZES = (1_000, 10_000)
CASES = {
    "gamma": (lambda rng, n: rng.gamma(2.5, 3.0, n), lambda x: st.gamma.fit(x, floc=0)[0]),
    "weibull": (lambda rng, n: 2.0 * rng.weibull(1.5, n),
                lambda x: st.weibull_min.fit(x, floc=0)[0]),
}
#: fits timed first, to project a loop's total
PROBE = 20
#: a run is repeated (median of up to 3) while the runs so far took less than this
REPEAT_BUDGET = 5.0


def resamples(x: np.ndarray, replicates: int, seed: int):
    """The bootstrap's own resamples, replicate by replicate (its documented streams)."""
    for gen in np.random.default_rng(seed).spawn(replicates):
        yield x[gen.integers(0, x.shape[0], size=x.shape[0])]


def loop_fits(family: str, x: np.ndarray, replicates: int, limit: float):
    """(seconds, projected?, replicate estimates or None) of mk.fit over the resamples."""
    data = resamples(x, replicates, SEED)
    t0 = time.perf_counter()
    rows = [list(mk.fit(family, next(data)).params.values()) for _ in range(PROBE)]
    per = (time.perf_counter() - t0) / PROBE
    if per * replicates > limit:
        return per * replicates, True, None
    rows += [list(mk.fit(family, xb).params.values()) for xb in data]
    return time.perf_counter() - t0, False, np.array(rows)


def scipy_bootstrap(statistic, x: np.ndarray, replicates: int, limit: float):
    """(seconds, projected?) of scipy.stats.bootstrap with one scipy fit per resample."""
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    for _ in range(PROBE // 4):
        statistic(x[rng.integers(0, x.shape[0], x.shape[0])])
    per = (time.perf_counter() - t0) / (PROBE // 4)
    if per * replicates > limit:
        return per * replicates, True
    seconds, _ = timed(lambda: st.bootstrap((x,), statistic, n_resamples=replicates,
                                            method="percentile", vectorized=False,
                                            rng=np.random.default_rng(SEED)), 3, REPEAT_BUDGET)
    return seconds, False


def run_case(family: str, n: int, replicates: int, limit: float) -> dict:
    draw, statistic = CASES[family]
    x = draw(np.random.default_rng(SEED + n), n)
    fit = mk.fit(family, x)
    t0 = time.perf_counter()
    boot = fit.bootstrap(replicates, seed=SEED)
    first = time.perf_counter() - t0
    steady, _ = timed(lambda: fit.bootstrap(replicates, seed=SEED), 3, 30.0)
    loop_s, loop_projected, rows = loop_fits(family, x, replicates, limit)
    diff = None
    if rows is not None and boot.failed == 0:
        diff = float(np.max(np.abs(boot.estimates - rows) / np.abs(rows)))
    scipy_s, scipy_projected = scipy_bootstrap(statistic, x, replicates, limit)
    return dict(family=family, n=n, replicates=replicates, failed=boot.failed,
                mlekit_first_s=first, mlekit_steady_s=steady, loop_s=loop_s,
                loop_projected=loop_projected, scipy_s=scipy_s, scipy_projected=scipy_projected,
                max_rel_diff=diff)


def print_table(rows: list[dict]) -> None:
    head = (f"{'family':<8} {'n':>6} {'1st':>7} {'steady':>7} {'loop':>8} {'ratio':>6} "
            f"{'scipy':>8} {'ratio':>6} {'max rel diff':>12}")
    print(head)
    print("-" * len(head))
    for r in rows:
        loop = ("~" if r["loop_projected"] else "") + f"{r['loop_s']:.2f}"
        sp = ("~" if r["scipy_projected"] else "") + f"{r['scipy_s']:.2f}"
        diff = "-" if r["max_rel_diff"] is None else f"{r['max_rel_diff']:.1e}"
        print(f"{r['family']:<8} {r['n']:>6} {r['mlekit_first_s']:>7.2f} "
              f"{r['mlekit_steady_s']:>7.2f} {loop:>8} {r['loop_s'] / r['mlekit_steady_s']:>6.1f} "
              f"{sp:>8} {r['scipy_s'] / r['mlekit_steady_s']:>6.1f} {diff:>12}")
    print("times in seconds for all replicates; ratio = other / mlekit steady; "
          "~ = projected from the first fits")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=999)
    parser.add_argument("--limit", type=float, default=60.0,
                        help="seconds beyond which a loop or scipy run is projected, not run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = [run_case(family, n, args.replicates, args.limit) for family in CASES
            for n in SIZES]
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
