"""mlekit against scipy.stats: fit time and log-likelihood, plus a cold ``mlekit fit`` CLI run.

Run as ``.venv/bin/python benchmarks/run.py`` (``make bench``). Options:

--quick        skip a scipy fit at n=1e7 when its time, projected linearly from n=1e6,
               exceeds 60 s (in practice: Student-t); the mlekit side still runs.
--cold-cache   use a fresh, empty JAX compilation cache (a temp dir) for this process and
               the CLI runs, so "first call" includes a real compilation.
--json PATH    also write the results as JSON.

Times: scipy is the median of up to 5 repeats (1 repeat when a fit takes over 5 s); mlekit
"first" is the first call in this process for that family and size (compilation or
persistent-cache load), "steady" the median of further repeats. ratio = scipy / mlekit.
dloglik = mlekit's fit.loglik minus sum(scipy logpdf) at scipy's own estimate (>= 0 is good).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy
import scipy.stats as st

SEED = 20240601
SIZES = (1_000_000, 10_000_000)
TARGET_N = 1_000_000  # the speed targets are stated at this size
QUICK_LIMIT_S = 60.0
CLI_TARGET_S = 1.5


@dataclass(frozen=True)
class Case:
    family: str  # mlekit family name
    target: float  # wanted scipy / mlekit steady-state ratio at TARGET_N
    sample: object  # (rng, n) -> data
    scipy_fit: object  # x -> scipy parameter tuple
    scipy_loglik: object  # (x, scipy params) -> log-likelihood


CASES = (
    Case("normal", 1.5,
         lambda rng, n: rng.normal(10.0, 2.0, n),
         st.norm.fit,
         lambda x, p: st.norm.logpdf(x, *p).sum()),
    Case("gamma", 1.5,
         lambda rng, n: rng.gamma(2.5, 3.0, n),
         lambda x: st.gamma.fit(x, floc=0),
         lambda x, p: st.gamma.logpdf(x, *p).sum()),
    Case("weibull", 20.0,
         lambda rng, n: 5.0 * rng.weibull(1.7, n),
         lambda x: st.weibull_min.fit(x, floc=0),
         lambda x, p: st.weibull_min.logpdf(x, *p).sum()),
    Case("student_t", 50.0,
         lambda rng, n: 1.0 + 2.0 * rng.standard_t(4.0, n),
         st.t.fit,
         lambda x, p: st.t.logpdf(x, *p).sum()),
)


@dataclass
class Row:
    family: str
    n: int
    scipy_s: float | None = None
    mlekit_first_s: float = 0.0
    mlekit_steady_s: float = 0.0
    dloglik: float | None = None
    converged: bool = False
    iterations: int = 0
    target: float | None = None
    params: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if self.scipy_s is None else self.scipy_s / self.mlekit_steady_s

    @property
    def ratio_first(self) -> float | None:
        return None if self.scipy_s is None else self.scipy_s / self.mlekit_first_s


def timed(fn, repeats: int, budget_s: float):
    """Median wall time of up to ``repeats`` calls (stopping once ``budget_s`` is spent)."""
    times, result = [], None
    while len(times) < repeats and sum(times) <= budget_s:
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run_case(mk, case: Case, n: int, scipy_estimate_s: float | None, quick: bool) -> Row:
    x = case.sample(np.random.default_rng(SEED), n)
    row = Row(case.family, n, target=case.target if n == TARGET_N else None)

    t0 = time.perf_counter()
    mk.fit(case.family, x)
    row.mlekit_first_s = time.perf_counter() - t0
    row.mlekit_steady_s, fit = timed(lambda: mk.fit(case.family, x), repeats=5, budget_s=10.0)
    row.converged, row.iterations, row.params = fit.converged, fit.iterations, fit.params

    if quick and scipy_estimate_s is not None and scipy_estimate_s > QUICK_LIMIT_S:
        print(f"  skip scipy {case.family} n={n:.0e}: projected {scipy_estimate_s:.0f} s "
              f"> {QUICK_LIMIT_S:.0f} s (--quick)", flush=True)
        return row
    row.scipy_s, est = timed(lambda: case.scipy_fit(x), repeats=5, budget_s=5.0)
    row.dloglik = fit.loglik - float(case.scipy_loglik(x, est))
    return row


def run_cli(tmp: Path) -> dict:
    """Wall time of ``mlekit fit FILE --dist gamma`` on 1,000 points, 3 separate processes."""
    exe = Path(sys.executable).parent / "mlekit"
    path = tmp / "gamma_1000.csv"
    x = np.random.default_rng(SEED).gamma(2.5, 3.0, 1000)
    np.savetxt(path, x, header="x", comments="", fmt="%.17g")
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        try:
            proc = subprocess.run([str(exe), "fit", str(path), "--dist", "gamma"],
                                  capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as err:
            return {"available": False, "error": str(err)}
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            return {"available": False, "error": (proc.stderr or proc.stdout).strip()[-300:]}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import mlekit"], check=True)
    return {"available": True, "times_s": times, "min_s": min(times),
            "median_s": statistics.median(times), "import_s": time.perf_counter() - t0}


def machine_line(info: dict) -> str:
    """One line naming the machine and the numeric stack, for a benchmark's header."""
    return (f"machine: {info['cpu']}, {info['cores']} cores; numpy {info['numpy']}, "
            f"jax {info['jax']} ({info['jax_backend']})")


def machine() -> dict:
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": cores, "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "jax": jax.__version__,
            "jax_backend": jax.default_backend()}


def cell(value, spec: str, width: int, missing: str = "-") -> str:
    """``value`` formatted with ``spec`` (a format spec plus an optional literal suffix)."""
    fmt_spec, _, suffix = spec.partition("|")
    text = missing if value is None else format(value, fmt_spec) + suffix
    return text.rjust(width)


def print_table(rows: list[Row]) -> None:
    columns = ("family", "n", "scipy s", "mk 1st s", "mk s", "ratio", "ratio1st", "target",
               "met", "dloglik", "iters")
    widths = (10, 6, 9, 9, 8, 8, 8, 7, 4, 10, 5)
    head = " ".join(c.ljust(w) if i == 0 else c.rjust(w)
                    for i, (c, w) in enumerate(zip(columns, widths, strict=True)))
    print(head)
    print("-" * len(head))
    for r in rows:
        met = None
        if r.target is not None and r.ratio is not None:
            met = "yes" if r.ratio >= r.target else "NO"
        cells = (
            r.family.ljust(10), cell(r.n, ".0e", 6), cell(r.scipy_s, ".3f", 9, "skipped"),
            cell(r.mlekit_first_s, ".3f", 9), cell(r.mlekit_steady_s, ".4f", 8),
            cell(r.ratio, ".2f|x", 8), cell(r.ratio_first, ".2f|x", 8),
            cell(r.target, ".1f|x", 7), cell(met, "s", 4), cell(r.dloglik, ".2e", 10),
            cell(r.iterations, "d", 5),
        )
        print(" ".join(cells) + ("" if r.converged else "  (not converged)"))
    print(f"ratio = scipy time / mlekit steady time (ratio1st: / first call); targets at "
          f"n={TARGET_N:.0e}.\ndloglik = mlekit loglik - scipy loglik at scipy's estimate.")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip scipy fits projected > 60 s")
    ap.add_argument("--cold-cache", action="store_true", help="fresh JAX compilation cache")
    ap.add_argument("--json", type=Path, metavar="PATH", help="write results as JSON")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mlekit-bench-") as tmp:
        if args.cold_cache:
            os.environ["MLEKIT_CACHE_DIR"] = str(Path(tmp) / "jax-cache")
        t0 = time.perf_counter()
        import jax.numpy as jnp

        import mlekit as mk

        jnp.zeros(1).block_until_ready()  # JAX backend start-up is not charged to a fit
        info = machine() | {"import_mlekit_s": time.perf_counter() - t0}
        print(f"machine: {info['cpu']}, {info['cores']} cores, {info['platform']}")
        print(f"python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, "
              f"jax {info['jax']} ({info['jax_backend']}); import mlekit + jax start-up "
              f"{info['import_mlekit_s']:.2f} s{' (cold cache)' if args.cold_cache else ''}\n",
              flush=True)

        rows = []
        for case in CASES:
            estimate = None
            for n in SIZES:
                row = run_case(mk, case, n, estimate, args.quick)
                rows.append(row)
                if row.scipy_s is not None:
                    estimate = row.scipy_s * SIZES[-1] / n
                print(f"  done {case.family} n={n:.0e}", flush=True)
        print()
        print_table(rows)
        cli = run_cli(Path(tmp))

    print("\ncold CLI: mlekit fit <1000-row csv> --dist gamma (3 processes)")
    if cli["available"]:
        ok = "yes" if cli["median_s"] <= CLI_TARGET_S else "NO"
        print(f"  runs {', '.join(f'{t:.2f}' for t in cli['times_s'])} s; min {cli['min_s']:.2f} s,"
              f" median {cli['median_s']:.2f} s; target (median) <= {CLI_TARGET_S} s: {ok}")
        print(f"  (python -c 'import mlekit' alone: {cli['import_s']:.2f} s)")
    else:
        print(f"  CLI not available: {cli['error']}")

    if args.json:
        rows_out = [asdict(r) | {"ratio": r.ratio, "ratio_first": r.ratio_first} for r in rows]
        args.json.write_text(json.dumps({"machine": info, "fits": rows_out, "cli": cli},
                                        indent=2, default=float))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
