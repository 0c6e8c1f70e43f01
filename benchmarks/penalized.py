"""An L1 logistic regression path: ``mk.path`` against scikit-learn's saga and liblinear.

Run as ``.venv/bin/python benchmarks/penalized.py`` (``make bench``). The MAP issue's case:
n = 1e5, p = 100 standard-normal predictors (10 true non-zero coefficients), an intercept
(unpenalized), 50 alphas from alpha_max (every coefficient 0) down to alpha_max / 1000, each
fit warm-started from the previous.

- **mlekit**: ``mk.path(mk.glm(X=X, y=y, family="binomial"), penalty=mk.L1, alphas=grid)``
  (proximal Newton, exact zeros); the unpenalized fit that supplies the model is not timed.
- **saga**: ``LogisticRegression(C=1/alpha, l1_ratio=1, solver="saga", warm_start=True)``
  refitted along the grid (its intercept is not penalized).
- **liblinear**: the same with ``solver="liblinear"``; it penalizes the intercept as a column of
  ``intercept_scaling``, set to 100 so that its penalty is ~1% of the others' per unit.

The scikit-learn solvers run at ``tol`` 1e-4 (their default) and 1e-8. "Equal objective
accuracy": for every alpha, the objective sum(log loss) + alpha |beta|_1 of each solver's
estimate is compared with the best of all runs at that alpha; the table shows the largest
relative excess over the grid ("max gap") and the number of alphas where the non-zero set
differs from mlekit's. Options: ``--n``, ``--p``, ``--alphas``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import machine, machine_line  # noqa: E402

SEED = 20261130


def make_data(n: int, p: int, seed: int = SEED):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    beta[:10] = np.linspace(0.2, 1.0, 10) * np.where(np.arange(10) % 2 == 0, 1.0, -1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + X @ beta)))).astype(float)
    return X, y


def objective(X, y, b0, b, alpha) -> float:
    eta = b0 + X @ b
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + alpha * np.sum(np.abs(b)))


def run_mlekit(X, y, grid):
    import mlekit as mk

    fit = mk.glm(X=X, y=y, family="binomial")
    mk.path(fit, penalty=mk.L1, alphas=grid[:3])  # compile outside the timing
    t0 = time.perf_counter()
    p = mk.path(fit, penalty=mk.L1, alphas=grid)
    seconds = time.perf_counter() - t0
    names = [f"x{j + 1}" for j in range(X.shape[1])]
    est = [(f.params["Intercept"], np.array([f.params[c] for c in names])) for f in p.fits]
    return seconds, est, all(f.converged for f in p.fits)


def run_sklearn(X, y, grid, solver: str, tol: float):
    from sklearn.linear_model import LogisticRegression

    options = {"intercept_scaling": 100.0} if solver == "liblinear" else {}
    model = LogisticRegression(l1_ratio=1.0, solver=solver, tol=tol, max_iter=100_000,
                               warm_start=True, **options)
    est = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for alpha in grid:
            model.set_params(C=1.0 / alpha)
            model.fit(X, y)
            est.append((float(model.intercept_[0]), model.coef_[0].copy()))
        seconds = time.perf_counter() - t0
    return seconds, est


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--alphas", type=int, default=50)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import mlekit as mk
    from mlekit._regularization import alpha_max

    info = machine()
    print(machine_line(info))
    X, y = make_data(args.n, args.p)
    fit = mk.glm(X=X, y=y, family="binomial")
    top = alpha_max(fit._context.model, fit._context.x, {}, mk.L1(1.0))
    grid = top * (1 + 1e-9) * np.logspace(0, -3, args.alphas)
    print(f"L1 logistic path: n = {args.n:g}, p = {args.p}, {args.alphas} alphas from "
          f"{grid[0]:.4g} to {grid[-1]:.4g}")

    runs = {}
    seconds, est, ok = run_mlekit(X, y, grid)
    runs["mlekit path (proximal Newton)"] = (seconds, est)
    print(f"  done mlekit ({seconds:.2f} s, all converged: {ok})")
    for solver in ("saga", "liblinear"):
        for tol in (1e-4, 1e-8):
            seconds, est = run_sklearn(X, y, grid, solver, tol)
            runs[f"sklearn {solver} tol={tol:g}"] = (seconds, est)
            print(f"  done {solver} tol={tol:g} ({seconds:.2f} s)")

    objs = {name: np.array([objective(X, y, b0, b, a) for (b0, b), a in zip(est, grid,
                                                                              strict=True)])
            for name, (_, est) in runs.items()}
    best = np.min(np.stack(list(objs.values())), axis=0)
    ours = runs["mlekit path (proximal Newton)"][1]
    mk_s = runs["mlekit path (proximal Newton)"][0]
    print(f"\n{'solver':32s} {'s':>8s} {'ratio':>7s} {'max gap':>9s} {'support differs':>16s}")
    rows = []
    for name, (seconds, est) in runs.items():
        gap = float(np.max((objs[name] - best) / best))
        differs = sum(set(np.flatnonzero(b)) != set(np.flatnonzero(m[1]))
                      for (_, b), m in zip(est, ours, strict=True))
        print(f"{name:32s} {seconds:8.2f} {seconds / mk_s:6.2f}x {gap:9.1e} {differs:16d}")
        rows.append({"solver": name, "seconds": seconds, "ratio": seconds / mk_s,
                     "max_gap": gap, "support_differs": int(differs)})
    print("ratio = solver seconds / mlekit seconds; max gap = max over alphas of "
          "(objective - best) / best")
    out = {"machine": info, "n": args.n, "p": args.p, "alphas": args.alphas, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
