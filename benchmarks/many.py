"""Many small fits: ``mk.fit_many`` against a Python loop of scipy's ``fit``.

Run as ``.venv/bin/python benchmarks/many.py`` (``make bench``). The batched-fit issue's case:
10,000 datasets of n = 1,000, gamma (``scipy.stats.gamma.fit(d, floc=0)``, target >= 8x) and
Weibull (``scipy.stats.weibull_min.fit(d, floc=0)``, target >= 50x); mlekit's side includes
the standard errors, scipy's does not. scipy's loop is timed on the first ``--scipy-members``
datasets and scaled to all of them (its time per fit is steady: each fit is independent);
mlekit runs all of them twice: the first call (compilation or the persistent cache) is
reported apart, the second is the steady time.
Reported: datasets per second, the ratio, and the largest difference of mlekit's maximized
log-likelihood from scipy's at scipy's estimates (>= 0: mlekit's maxima are at least as high).
Options: ``--members``, ``--n``, ``--scipy-members``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.stats as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import machine, machine_line  # noqa: E402

SEED = 20261130
CASES = {  # family -> (sampler, scipy fit, scipy loglik, target ratio)
    "gamma": (lambda rng, shape: rng.gamma(2.5, 3.0, shape),
              lambda d: st.gamma.fit(d, floc=0),
              lambda d, p: st.gamma.logpdf(d, *p).sum(), 8.0),
    "weibull": (lambda rng, shape: 3.0 * rng.weibull(1.7, shape),
                lambda d: st.weibull_min.fit(d, floc=0),
                lambda d, p: st.weibull_min.logpdf(d, *p).sum(), 50.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=1_000)
    parser.add_argument("--scipy-members", type=int, default=500)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import mlekit as mk

    info = machine()
    print(machine_line(info))
    print(f"{args.members} datasets x n = {args.n}; scipy timed on {args.scipy_members} and "
          "scaled\n")
    print(f"{'family':<8} {'scipy/s':>10} {'mlekit 1st':>11} {'mlekit/s':>10} {'ratio':>7} "
          f"{'target':>7} {'met':>4} {'converged':>10} {'dloglik min':>12}")
    results = []
    for name, (sample, scipy_fit, scipy_loglik, target) in CASES.items():
        rng = np.random.default_rng(SEED)
        data = sample(rng, (args.members, args.n))
        m = min(args.scipy_members, args.members)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            fits = [scipy_fit(d) for d in data[:m]]
            scipy_each = (time.perf_counter() - t0) / m
        family = mk.family(name)
        t0 = time.perf_counter()
        mk.fit_many(family, data)  # compiles (or loads) the batch programs
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch = mk.fit_many(family, data)
        ours = time.perf_counter() - t0
        ref = np.array([scipy_loglik(d, p) for d, p in zip(data[:m], fits, strict=True)])
        dloglik = float(np.min(batch.loglik[:m] - ref))
        ratio = scipy_each * args.members / ours
        row = {"family": name, "members": args.members, "n": args.n,
               "scipy_per_s": 1 / scipy_each, "mlekit_first_s": first,
               "mlekit_per_s": args.members / ours, "ratio": ratio, "target": target,
               "met": ratio >= target, "converged": int(batch.converged.sum()),
               "dloglik_min": dloglik}
        results.append(row)
        print(f"{name:<8} {row['scipy_per_s']:>10.0f} {first:>10.2f}s "
              f"{row['mlekit_per_s']:>10.0f} {ratio:>7.1f} {target:>7.0f} "
              f"{'yes' if row['met'] else 'no':>4} {row['converged']:>10} {dloglik:>12.2e}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2))


if __name__ == "__main__":
    main()
