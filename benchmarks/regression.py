"""Logistic regression: ``mk.glm(family="binomial")`` against statsmodels and scikit-learn.

Run as ``.venv/bin/python benchmarks/regression.py`` (``make bench``). The regression issue's
case: n = 1e6 observations, p = 20 standard-normal predictors plus an intercept, dense, with
true coefficients of moderate size (the outcomes overlap: a finite MLE exists).

- **mlekit**: ``mk.glm(X=X, y=y, family="binomial")`` (it adds the intercept column itself).
  "1st" is the first call in the process (compiled programs loaded from the persistent cache,
  or compiled), "steady" the median of further calls.
- **statsmodels**: ``Logit(y, Xc).fit(method="newton", tol=1e-12, maxiter=100)`` on a design
  ``Xc`` with its constant column built beforehand (not timed: statsmodels wants it from the
  user; building it costs about one column copy, see "add_constant" in the output).
- **scikit-learn**: ``LogisticRegression`` unpenalized (``C=np.inf``; ``penalty=None`` on
  releases before 1.8, where ``penalty`` was not yet deprecated), ``fit_intercept=True``,
  ``tol=1e-12``, ``max_iter=10_000``, with ``solver="newton-cholesky"`` and ``"lbfgs"``.

Every estimate is compared with a reference optimum: mlekit's estimate polished by numpy
Newton steps (XᵀWX by BLAS) until the step is at rounding level. "rel dβ" is
max_j |β_j - β*_j| / max_j |β*_j|, "dloglik" is ℓ(β*) - ℓ(β) (both ℓ by the same numpy sum;
>= 0 up to rounding). The issue asks for the same optimum to 1e-8 (rel dβ <= 1e-8).
Ratios are other / mlekit steady. Targets: statsmodels / mlekit >= 3, (fastest scikit-learn) /
mlekit >= 1.2.

Also measured directly: XᵀWX for the (n, p + 1) design in numpy (BLAS) against jax.numpy
(XLA, jitted, steady), over the whole array and over the engine's chunks of 65,536 rows, and a
closed-form logistic pass (value, gradient, XᵀWX) in XLA over those chunks. The engine's own
pass (``mlekit._optimize.linear``) takes per-observation derivatives in η from autodiff and
forms Xᵀd and XᵀWX by BLAS (a symmetric rank-k update per chunk, on both cores), which these
measurements chose. Then where mlekit's time goes: three fits with the engine's stages
wrapped in timers (design, checks, the separation check, start values, the design in Newton's
coordinates, the derivative passes on the warm start's subsample and on all n, inference),
shown for the fit of median total; the
separation check (``detect_separation``) and one derivative pass also timed alone, and the
deferred diagnostics.
The VM may be shared: the load average is printed at the start and the end.

Options: ``--n``, ``--p``, ``--quick`` (fewer repeats, no breakdown), ``--json PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import machine, timed  # noqa: E402  (one timing rule for every benchmark)

SEED = 20261130
N, P = 1_000_000, 20
TOL = 1e-8  # "the same optimum to 1e-8"
TARGET_STATSMODELS, TARGET_SKLEARN = 3.0, 1.2
XLA_CHUNK = 1 << 16  # the engine's chunk of rows (mlekit._data.CHUNK)


def make_data(n: int, p: int, seed: int = SEED):
    """Standard normal X (n, p); y ~ Bernoulli(logistic(b0 + X b)) with b0 = -0.4 and b_j of
    alternating sign and size 0.05..0.5 (||b|| ~ 1.3: overlapping classes, P(y=1) ~ 0.4)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    b = np.linspace(0.05, 0.5, p) * np.where(np.arange(p) % 2 == 0, 1.0, -1.0)
    eta = -0.4 + X @ b
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return X, y, np.concatenate([[-0.4], b])


def loglik(Xc: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    """Σ y η - log(1 + e^η), the Bernoulli log-likelihood, computed stably in numpy."""
    eta = Xc @ beta
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def xtwx_numpy(Xc: np.ndarray, w: np.ndarray) -> np.ndarray:
    """XᵀWX by BLAS: scale the rows of Xᵀ, then one GEMM."""
    return (Xc.T * w) @ Xc


def reference_optimum(Xc, y, beta0, steps: int = 8):
    """Newton from beta0 in numpy until the step is at rounding level: (β*, ℓ(β*), max|score|)."""
    beta = np.array(beta0, dtype=float)
    for _ in range(steps):
        mu = 1.0 / (1.0 + np.exp(-(Xc @ beta)))
        g = Xc.T @ (y - mu)
        H = xtwx_numpy(Xc, mu * (1.0 - mu))
        step = np.linalg.solve(H, g)
        beta = beta + step
        if np.max(np.abs(step)) <= 1e-15 * max(1.0, np.max(np.abs(beta))):
            break
    mu = 1.0 / (1.0 + np.exp(-(Xc @ beta)))
    return beta, loglik(Xc, y, beta), float(np.max(np.abs(Xc.T @ (y - mu))))


# -- the contenders -----------------------------------------------------------------------------

def run_mlekit(X, y, repeats: int):
    import mlekit as mk

    t0 = time.perf_counter()
    mk.glm(X=X, y=y, family="binomial")
    first = time.perf_counter() - t0
    steady, fit = timed(lambda: mk.glm(X=X, y=y, family="binomial"), repeats, 60.0)
    names = ["Intercept"] + [f"x{j + 1}" for j in range(X.shape[1])]
    beta = np.array([fit.params[c] for c in names])
    extra = "" if fit.converged else " (not converged)"
    return dict(name="mlekit glm", first_s=first, steady_s=steady, beta=beta,
                iterations=fit.iterations, own_loglik=fit.loglik, note=extra)


def run_statsmodels(Xc, y, repeats: int):
    import statsmodels.api as sm

    def go():
        return sm.Logit(y, Xc).fit(method="newton", tol=1e-12, maxiter=100, disp=0)

    t0 = time.perf_counter()
    go()
    first = time.perf_counter() - t0
    steady, res = timed(go, repeats, 30.0)
    conv = res.mle_retvals.get("converged", True)
    return dict(name="statsmodels Logit newton", first_s=first, steady_s=steady,
                beta=np.asarray(res.params), iterations=int(res.mle_retvals["iterations"]),
                own_loglik=float(res.llf), note="" if conv else " (not converged)")


def run_sklearn(X, y, solver: str, repeats: int):
    import sklearn
    from sklearn.linear_model import LogisticRegression

    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    unpenalized = {"C": np.inf} if (major, minor) >= (1, 8) else {"penalty": None}

    def go():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = LogisticRegression(solver=solver, tol=1e-12, max_iter=10_000,
                                       fit_intercept=True, **unpenalized).fit(X, y)
        return model, caught

    t0 = time.perf_counter()
    go()
    first = time.perf_counter() - t0
    steady, (model, caught) = timed(go, repeats, 30.0)
    beta = np.concatenate([model.intercept_, model.coef_[0]])
    note = " (warned: " + "; ".join(str(w.message)[:60] for w in caught) + ")" if caught else ""
    return dict(name=f"sklearn {solver}", first_s=first, steady_s=steady, beta=beta,
                iterations=int(np.max(model.n_iter_)), own_loglik=None, note=note)


# -- XᵀWX: BLAS against XLA ----------------------------------------------------------------------

def xtwx_compare(Xc: np.ndarray, y: np.ndarray, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    import mlekit  # noqa: F401  (float64 on, as in every fit)

    w = np.random.default_rng(SEED + 1).uniform(0.05, 0.25, Xc.shape[0])
    out = {}
    out["numpy_s"], ref = timed(lambda: xtwx_numpy(Xc, w), repeats, 10.0)
    out["numpy_gemm_only_s"], _ = timed(lambda: Xc.T @ Xc, repeats, 10.0)

    @jax.jit
    def xla(x, v):
        return (x.T * v) @ x

    xd, wd = jax.device_put(Xc), jax.device_put(w)
    xla(xd, wd).block_until_ready()
    out["jax_s"], got = timed(lambda: xla(xd, wd).block_until_ready(), repeats, 10.0)
    out["jax_rel_err"] = float(np.max(np.abs(np.asarray(got) - ref)) / np.max(np.abs(ref)))

    m = Xc.shape[0] // XLA_CHUNK * XLA_CHUNK
    parts = [(jax.device_put(Xc[i:i + XLA_CHUNK]), jax.device_put(w[i:i + XLA_CHUNK]))
             for i in range(0, m, XLA_CHUNK)]
    if parts:
        xla(*parts[0]).block_until_ready()

        def chunked():
            outs = [xla(a, b) for a, b in parts]
            return np.sum([np.asarray(o) for o in outs], axis=0)

        t, _ = timed(chunked, repeats, 10.0)
        out["jax_chunked_s"] = t * Xc.shape[0] / m  # scaled to all n rows

        # what a closed-form logistic pass (the engine's pass, without autodiff) would cost:
        # value, gradient X'(y - mu) and X'WX per chunk, summed on two threads like the engine
        @jax.jit
        def logistic_pass(x, yy, beta):
            eta = x @ beta
            mu = jax.nn.sigmoid(eta)
            value = jnp.sum(yy * eta - jnp.logaddexp(0.0, eta))
            return value, x.T @ (yy - mu), (x.T * (mu * (1.0 - mu))) @ x

        from mlekit._data import WORKERS, parallel_map, split

        out["workers"] = WORKERS
        work = [(a, jax.device_put(y[i:i + XLA_CHUNK]))
                for (a, _), i in zip(parts, range(0, m, XLA_CHUNK), strict=True)]
        beta = np.full(Xc.shape[1], 0.05)
        logistic_pass(*work[0], beta)[2].block_until_ready()

        def closed_form():
            def summed(piece):
                outs = [logistic_pass(a, b, beta) for a, b in piece]
                return [np.sum([np.asarray(o[i]) for o in outs], axis=0) for i in range(3)]
            return parallel_map(summed, split(work))

        t, _ = timed(closed_form, repeats, 10.0)
        out["jax_closed_form_pass_s"] = t * Xc.shape[0] / m
    return out


# -- where mlekit's time goes -------------------------------------------------------------------

def _instrumented(patches):
    """Wrap ``(owner, attribute, label, key)`` callables so that each call's wall time is added
    to ``times[label]`` (``key(args)`` may refine the label); returns (times, undo)."""
    times, saved = {}, []
    for owner, attr, label, key in patches:
        original = getattr(owner, attr)
        saved.append((owner, attr, original))

        def wrapper(*args, _f=original, _label=label, _key=key, **kwargs):
            t0 = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                name = _key(args) if _key else _label
                times.setdefault(name, []).append(time.perf_counter() - t0)

        setattr(owner, attr, wrapper)

    def undo():
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)

    return times, undo


def breakdown(X, y, fits: int = 3) -> dict:
    """Where ``mk.glm``'s time goes: ``fits`` fits with the engine's stages wrapped in timers
    (those of the fit with the median total), plus the separation check and one derivative
    pass timed alone. Private API: a benchmark may look inside; the caller survives it moving."""
    import importlib

    import mlekit as mk
    from mlekit._optimize import Layout, Objective
    from mlekit._optimize.linear import LinearPredictor
    from mlekit._regression.separation import detect_separation

    api = importlib.import_module("mlekit._regression.api")
    glm_mod = importlib.import_module("mlekit._regression.glm")
    fit_mod = importlib.import_module("mlekit._fit")
    n = X.shape[0]

    def by_size(args):
        return "pass, all n" if args[0].n == n else "pass, subsample"

    def design_by_size(args):  # called inside a pass (the first of each objective)
        size = "all n" if args[3].shape[0] == n else "subsample"
        return f"design in Newton's (QR) coordinates, Z = X T, {size}"

    patches = [
        (api, "from_arrays", "design: validate X, y; rows [y, trials, offset, w, X]", None),
        (LinearPredictor, "of", None, design_by_size),
        (fit_mod, "observe", "data checks (finite, shape)", None),
        (glm_mod.GLM, "prepare", "response checks (0/1)", None),
        (glm_mod.GLM, "check_existence", "separation check", None),
        (glm_mod.GLM, "start", "start values (least squares on a subsample)", None),
        (Objective, "direct", None, by_size),
        (fit_mod, "_assemble", "inference and diagnostics (_assemble)", None),
    ]
    runs = []
    for _ in range(fits):
        times, undo = _instrumented(patches)
        try:
            t0 = time.perf_counter()
            fit = mk.glm(X=X, y=y, family="binomial")
            total = time.perf_counter() - t0
        finally:
            undo()
        for size in ("all n", "subsample"):  # the passes' time without the set-up inside
            inner = times.get(f"design in Newton's (QR) coordinates, Z = X T, {size}", [])
            if inner and f"pass, {size}" in times:
                times[f"pass, {size}"][0] -= sum(inner)
        runs.append((total, {k: (sum(v), len(v)) for k, v in times.items()}))
    total, parts = sorted(runs, key=lambda r: r[0])[len(runs) // 2]  # the median fit, whole
    out = {"total_s": total, "parts": parts, "iterations": fit.iterations, "fits": fits}

    rows = api.from_arrays(X, y, intercept=True).rows()
    model = glm_mod.GLM("binomial", None, api.from_arrays(X, y, intercept=True).columns)
    out["separation_alone_s"], found = timed(
        lambda: detect_separation(rows[:, 4:], rows[:, 0], model.columns, trials=rows[:, 1],
                                  weights=rows[:, 3]), 3, 30.0)
    out["separation_found"] = found is not None
    model, rows = model.prepare(rows)  # as the fit sees it (binary responses)
    objective = Objective(model, Layout.of(model, {}), {}, rows)
    u = np.array([fit.params[c] for c in model.columns])
    objective(u)
    out["pass_alone_s"], _ = timed(lambda: objective(u), 3, 10.0)
    # the deferred diagnostics (the information-matrix test) run when diagnostics are read
    t0 = time.perf_counter()
    fit.diagnostics  # noqa: B018
    out["deferred_diagnostics_s"] = time.perf_counter() - t0
    return out


def print_breakdown(parts: dict) -> None:
    total = parts["total_s"]
    print(f"\nwhere mlekit's time goes (stages timed inside the fit; the fit of median total "
          f"time of {parts['fits']}: {total:.2f} s, {parts['iterations']} Newton iterations):")
    known = 0.0
    for label, (seconds, calls) in parts["parts"].items():
        known += seconds
        print(f"  {seconds:7.3f} s  {seconds / total:5.0%}  {label}"
              + (f" ({calls} calls, {seconds / calls:.3f} s each)" if calls > 1 else ""))
    rest = total - known
    print(f"  {rest:7.3f} s  {rest / total:5.0%}  rest (Newton's own algebra, Python, threads)")
    print(f"  alone: detect_separation {parts['separation_alone_s']:.3f} s "
          f"(separation found: {parts['separation_found']}); one value/gradient/Hessian pass "
          f"over all n {parts['pass_alone_s']:.3f} s; deferred diagnostics when first read "
          f"{parts['deferred_diagnostics_s']:.3f} s (not in the fit's time)")


# -- report -------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=N, help="observations (default 1e6)")
    ap.add_argument("--p", type=int, default=P, help="predictors besides the intercept")
    ap.add_argument("--quick", action="store_true",
                    help="fewer repeats (mlekit 3, others 1), no breakdown")
    ap.add_argument("--json", type=Path, metavar="PATH", help="write results as JSON")
    args = ap.parse_args(argv)
    n, p = int(args.n), args.p
    repeats = 3 if args.quick else 5
    other_repeats = 1 if args.quick else 3

    load0 = os.getloadavg()  # the VM is shared: say how busy it was
    t0 = time.perf_counter()
    import jax.numpy as jnp
    import sklearn
    import statsmodels

    import mlekit  # noqa: F401

    jnp.zeros(1).block_until_ready()
    info = machine() | {"statsmodels": statsmodels.__version__, "sklearn": sklearn.__version__}
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['platform']}")
    print(f"python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
          f"jax {info['jax']} ({info['jax_backend']}), statsmodels {info['statsmodels']}, "
          f"scikit-learn {info['sklearn']}; imports {time.perf_counter() - t0:.2f} s")
    X, y, truth = make_data(n, p)
    t0 = time.perf_counter()
    Xc = np.column_stack([np.ones(n), X])
    add_constant_s = time.perf_counter() - t0
    print(f"logistic regression: n = {n:.0e}, p = {p} + intercept, P(y = 1) = {y.mean():.3f}; "
          f"add_constant {add_constant_s * 1e3:.0f} ms\n", flush=True)

    results = [run_mlekit(X, y, repeats)]
    print(f"  done mlekit ({results[0]['steady_s']:.2f} s)", flush=True)
    results.append(run_statsmodels(Xc, y, other_repeats))
    print(f"  done statsmodels ({results[-1]['steady_s']:.2f} s)", flush=True)
    for solver in ("newton-cholesky", "lbfgs"):
        results.append(run_sklearn(X, y, solver, other_repeats))
        print(f"  done sklearn {solver} ({results[-1]['steady_s']:.2f} s)", flush=True)

    beta_ref, ll_ref, score_ref = reference_optimum(Xc, y, results[0]["beta"])
    scale = np.max(np.abs(beta_ref))
    for r in results:
        r["rel_dbeta"] = float(np.max(np.abs(r["beta"] - beta_ref)) / scale)
        r["dloglik"] = ll_ref - loglik(Xc, y, r["beta"])
        r["same_optimum"] = r["rel_dbeta"] <= TOL
    base = results[0]["steady_s"]
    for r in results:
        r["ratio"] = r["steady_s"] / base

    print(f"\nreference optimum: loglik {ll_ref:.10f}, max |score| {score_ref:.1e}, "
          f"max |beta* - truth| {np.max(np.abs(beta_ref - truth)):.4f}")
    head = (f"{'solver':<26}{'1st s':>8}{'steady s':>10}{'ratio':>8}{'iters':>7}"
            f"{'rel dβ':>10}{'dloglik':>10}{'1e-8':>6}")
    print(head)
    print("-" * len(head))
    for r in results:
        print(f"{r['name']:<26}{r['first_s']:8.2f}{r['steady_s']:10.3f}{r['ratio']:7.2f}x"
              f"{r['iterations']:7d}{r['rel_dbeta']:10.1e}{r['dloglik']:10.1e}"
              f"{'yes' if r['same_optimum'] else 'NO':>6}{r['note']}")
    sm_ratio = results[1]["ratio"]
    sk_ratio = min(r["ratio"] for r in results[2:])
    print("ratio = other steady / mlekit steady; rel dβ = max|β - β*| / max|β*|; "
          "dloglik = ℓ(β*) - ℓ(β)")
    print(f"target statsmodels / mlekit >= {TARGET_STATSMODELS}: {sm_ratio:.2f}x "
          f"{'met' if sm_ratio >= TARGET_STATSMODELS else 'NOT met'}")
    print(f"target fastest sklearn / mlekit >= {TARGET_SKLEARN}: {sk_ratio:.2f}x "
          f"{'met' if sk_ratio >= TARGET_SKLEARN else 'NOT met'}", flush=True)
    exact = [r for r in results[2:] if r["same_optimum"]]
    if len(exact) < len(results[2:]) and exact:
        best = min(exact, key=lambda r: r["ratio"])
        print(f"  (fastest sklearn that reaches the optimum to {TOL:g}: {best['name']}, "
              f"{best['ratio']:.2f}x {'met' if best['ratio'] >= TARGET_SKLEARN else 'NOT met'})")

    xt = xtwx_compare(Xc, y, repeats)
    print(f"\nXᵀWX, n = {n:.0e}, p = {p + 1} (steady medians): numpy/BLAS "
          f"{xt['numpy_s'] * 1e3:.1f} ms (GEMM XᵀX alone {xt['numpy_gemm_only_s'] * 1e3:.1f} "
          f"ms); jax.numpy/XLA jitted {xt['jax_s'] * 1e3:.1f} ms "
          f"({xt['jax_s'] / xt['numpy_s']:.1f}x numpy; max rel diff {xt['jax_rel_err']:.0e})"
          + (f"; XLA over chunks of {XLA_CHUNK} rows {xt['jax_chunked_s'] * 1e3:.1f} ms"
             if "jax_chunked_s" in xt else ""))
    if "jax_closed_form_pass_s" in xt:
        print(f"a closed-form logistic pass in XLA (value, X'(y - mu), X'WX; chunks on "
              f"{xt['workers']} threads): {xt['jax_closed_form_pass_s'] * 1e3:.1f} ms")

    parts = None
    if not args.quick:
        try:
            parts = breakdown(X, y)
        except Exception as err:  # private API moved: report, do not fail the benchmark
            print(f"\nbreakdown unavailable: {type(err).__name__}: {err}")
        else:
            print_breakdown(parts)
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"(at the start: {' '.join(f'{v:.2f}' for v in load0)})")

    if args.json:
        out = {"machine": info, "n": n, "p": p, "xtwx": xt, "breakdown": parts,
               "reference": {"loglik": ll_ref, "beta": beta_ref.tolist()},
               "results": [{k: (v.tolist() if isinstance(v, np.ndarray) else v)
                            for k, v in r.items()} for r in results]}
        args.json.write_text(json.dumps(out, indent=2, default=float))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
