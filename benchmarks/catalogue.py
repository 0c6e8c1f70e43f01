"""The whole catalogue: fit time against scipy's, and exponential families against one pass.

Run as ``.venv/bin/python benchmarks/catalogue.py`` (part of ``make bench``). For every family:

- ``scipy``: at n = ``--n`` (default 1e5) draws at the test cases' true parameters, the median
  wall time of scipy's own ``fit`` (as the tests call it: ``floc=0`` etc.) against
  ``mk.fit``, the ratio scipy / mlekit, and dloglik = mlekit's log-likelihood minus scipy's at
  its estimate (both evaluated by scipy; >= 0 means mlekit found at least as high a maximum).
  scipy fits projected to take over ``--scipy-limit`` seconds are skipped (and say so).
- ``stats``: for exponential families at n = ``--n-stats`` (default 1e7), a fit against one
  call of the family's ``suffstats`` (the one pass that computes the sufficient statistics):
  the issue's target is fit / pass <= 1.5.

The families, parameters and scipy mappings are the test cases' (``tests/cases``), so the
benchmark measures exactly what the tests verify.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import mlekit as mk  # noqa: E402
from cases import all_cases  # noqa: E402
from run import timed  # noqa: E402  (benchmarks/run.py: one timing rule for both)

SEED = 20261122
STATS_TARGET = 1.5


def scipy_loglik(case, x, params) -> float:
    dist = case.scipy(params)
    logf = dist.logpmf if hasattr(dist, "logpmf") else dist.logpdf
    return float(np.sum(logf(x)))


def bench_scipy(case, n: int, limit_s: float) -> dict:
    x = case.family.sample(case.truth, n, np.random.default_rng(SEED))
    mk.fit(case.family, x, **case.fit_options)  # compile (or load from the cache) first
    ours_s, fit = timed(lambda: mk.fit(case.family, x, **case.fit_options), 5, 10.0)
    row = {"family": case.id, "n": n, "mlekit_s": ours_s, "converged": fit.converged,
           "iterations": fit.iterations}
    if case.scipy_fit is None:
        row["scipy"] = "scipy has no fit for this family"
        return row
    small = x[: max(n // 100, 1000)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            t0 = time.perf_counter()
            case.scipy_fit(small)
            projected = (time.perf_counter() - t0) * n / small.shape[0]
            if projected > limit_s:
                row["scipy"] = f"skipped: projected {projected:.0f} s > {limit_s:.0f} s"
                return row
            scipy_s, est = timed(lambda: case.scipy_fit(x), repeats=3, budget_s=limit_s)
        except Exception as err:  # scipy failing is a result
            row["scipy"] = f"failed: {type(err).__name__}: {err}"[:120]
            return row
    row.update(scipy_s=scipy_s, ratio=scipy_s / ours_s,
               dloglik=fit.loglik - scipy_loglik(case, x, est))
    return row


def bench_stats(case, n: int) -> dict:
    x = case.family.sample(case.truth, n, np.random.default_rng(SEED))
    model, prepared = case.family.prepare(x)
    mk.fit(case.family, x)
    fit_s, _ = timed(lambda: mk.fit(case.family, x), 5, 10.0)
    pass_s, _ = timed(lambda: model.suffstats(prepared), 5, 10.0)
    return {"family": case.id, "n": n, "fit_s": fit_s, "pass_s": pass_s,
            "ratio": fit_s / pass_s, "target": STATS_TARGET,
            "met": fit_s / pass_s <= STATS_TARGET}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=float, default=1e5)
    parser.add_argument("--n-stats", type=float, default=1e7)
    parser.add_argument("--scipy-limit", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated family names")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    cases = [c for c in all_cases() if not only or c.id in only]

    print(f"{'family':34} {'n':>8} {'mlekit':>9} {'scipy':>9} {'ratio':>8} {'dloglik':>10}")
    scipy_rows = []
    for case in cases:
        row = bench_scipy(case, int(args.n), args.scipy_limit)
        scipy_rows.append(row)
        if "ratio" in row:
            print(f"{row['family']:34} {row['n']:8.0e} {row['mlekit_s'] * 1e3:7.1f}ms "
                  f"{row['scipy_s'] * 1e3:7.0f}ms {row['ratio']:7.1f}x {row['dloglik']:10.3g}",
                  flush=True)
        else:
            print(f"{row['family']:34} {row['n']:8.0e} {row['mlekit_s'] * 1e3:7.1f}ms   "
                  f"{row['scipy']}", flush=True)

    print(f"\n{'exponential family':34} {'n':>8} {'fit':>9} {'one pass':>9} {'fit/pass':>9}")
    stats_rows = []
    for case in cases:
        if not case.family.exponential_family:
            continue
        row = bench_stats(case, int(args.n_stats))
        stats_rows.append(row)
        print(f"{row['family']:34} {row['n']:8.0e} {row['fit_s'] * 1e3:7.1f}ms "
              f"{row['pass_s'] * 1e3:7.1f}ms {row['ratio']:8.2f}  "
              f"{'met' if row['met'] else 'MISSED'} (<= {STATS_TARGET})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"scipy": scipy_rows, "stats": stats_rows},
                                              indent=2))


if __name__ == "__main__":
    main()
