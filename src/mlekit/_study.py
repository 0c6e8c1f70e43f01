r"""Simulation studies of the estimator: ``mk.study(model, truth, n=[...], reps=...)``.

For each sample size n, ``reps`` datasets are drawn from the data model (the fitted model at
``truth``, or ``data_model`` at ``data_truth``: misspecification) and fitted together by
:func:`mlekit.fit_many`. Against the target θ* (the truth, or under misspecification the
member of the model closest in Kullback-Leibler divergence to the data model, found
independently by quadrature and numerical minimization of KL), each parameter gets

- bias, variance, MSE of the estimates; the Cramér-Rao bound :math:`[nI(\theta^*)]^{-1}` and
  the efficiency CRLB / variance (well specified only);
- the coverage of Wald intervals from the model-based standard errors and, under
  misspecification, from sandwich (robust) standard errors, which target θ*;
- optionally the coverage of profile-likelihood intervals on the first ``profile_reps`` fits;
- a normality check of :math:`(\hat\theta - \theta^*)/\widehat{SE}`: its mean, its SD and the
  Kolmogorov-Smirnov p-value against N(0, 1).

Monte Carlo standard errors of the coverages are :math:`\sqrt{c(1-c)/R}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ._errors import DataError, ModelError
from ._model import Model

#: draws behind a Monte Carlo expected information (families without a closed form)
INFO_DRAWS = 200_000
#: quadrature points for the KL projection
GRID = 20_001


@dataclass(frozen=True, eq=False)
class Study:
    """The result of :func:`study`: ``table`` (one row per sample size and parameter) and the
    settings. ``str(study)`` renders the table; ``plot()`` draws bias, efficiency and coverage
    against n."""

    model_name: str
    data_name: str
    target: dict
    truth: dict
    reps: int
    level: float
    misspecified: bool
    table: object = field(repr=False)

    def __str__(self) -> str:
        head = (f"Simulation study: {self.model_name} fitted to data from {self.data_name} "
                f"at {_fmt(self.truth)}; {self.reps} replications per n, "
                f"{self.level:.0%} intervals")
        if self.misspecified:
            head += (f"\nmisspecified: the estimates target the KL projection {_fmt(self.target)}"
                     " (the model's member closest to the data model)")
        return head + "\n\n" + self.table.to_string(index=False, float_format=lambda v:
                                                      f"{v:.4g}")

    def plot(self, path=None):
        """Bias, efficiency (well specified) and coverage against n, one line per parameter;
        saved to ``path`` if given. Returns the matplotlib figure."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        t = self.table
        panels = ["bias", "coverage_wald"] + (["efficiency"] if not self.misspecified
                                              else ["coverage_robust"])
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2))
        for ax, column in zip(axes, panels, strict=True):
            for name, part in t.groupby("parameter", sort=False):
                ax.plot(part["n"], part[column], marker="o", label=name)
            if column.startswith("coverage"):
                ax.axhline(self.level, color="grey", lw=0.8, ls="--")
            if column == "efficiency":
                ax.axhline(1.0, color="grey", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.set_xlabel("n")
            ax.set_title(column.replace("_", " "))
        axes[0].legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


def study(model, truth: Mapping[str, float], n: Sequence[int] = (20, 50, 200, 1000), *,
          reps: int = 2000, seed: int = 0, data_model=None, data_truth=None,
          level: float = 0.95, profile_reps: int = 0) -> Study:
    r"""Check what the asymptotic theory promises by simulation: consistency, efficiency
    against the Cramér-Rao bound, interval coverage, and (with ``data_model``)
    misspecification.

    Parameters
    ----------
    model : Model or str
        The model fitted (a family with scalar parameters and a sampler).
    truth : dict
        Its parameters that generate the data (with ``data_model``: omit, and give
        ``data_truth``).
    n : sequence of int
        Sample sizes.
    reps : int
        Datasets per sample size.
    seed : int
    data_model, data_truth : optional
        Draw the data from another family (misspecification); the estimates then target the
        KL projection, computed independently and shown as the target.
    level : float
        Interval coverage.
    profile_reps : int
        Also the coverage of profile-likelihood intervals, on this many fits per n (each a
        profile search: slower).

    Returns
    -------
    Study

    Examples
    --------
    >>> import mlekit as mk
    >>> s = mk.study(mk.Exponential(), {"rate": 2.0}, n=[50], reps=200, seed=1)
    >>> row = s.table.iloc[0]
    >>> bool(abs(row["bias"]) < 0.1 and 0.85 < row["coverage_wald"] <= 1.0)
    True
    """
    import pandas as pd
    from scipy import stats

    from ._fit import _resolve_model
    from ._many import fit_many

    model = _resolve_model(model)
    misspecified = data_model is not None
    data_model = model if data_model is None else _resolve_model(data_model)
    generating = dict(truth if not misspecified or data_truth is None else data_truth)
    _check(model, data_model, generating, n, reps, level)
    if misspecified:
        target = kl_projection(model, data_model, generating, seed=seed)
    else:
        target = {k: float(v) for k, v in generating.items()}
    names = list(model.params)
    theta = np.array([target[k] for k in names])
    info = None if misspecified else expected_information(model, target, seed)
    z = _z(level)
    rows = []
    rng = np.random.default_rng(seed)
    for size in n:
        draws = np.asarray(data_model.sample(generating, int(size) * reps, rng), dtype=float)
        data = draws.reshape(reps, int(size))
        batch = fit_many(model, data)
        ok = batch.converged
        est, se = batch.params[ok], batch.se[ok]
        robust = _robust_se(model, names, est, data[ok]) if misspecified else None
        profile = _profile_coverage(batch, names, theta, level, profile_reps)
        crlb = (np.full(len(names), np.nan) if info is None
                else np.diag(np.linalg.inv(info)) / size)
        for j, name in enumerate(names):
            e, s = est[:, j], se[:, j]
            variance = float(np.var(e, ddof=1))
            zs = (e - theta[j]) / s
            row = {"n": int(size), "parameter": name, "target": theta[j],
                   "mean": float(np.mean(e)), "bias": float(np.mean(e) - theta[j]),
                   "variance": variance, "mse": float(np.mean((e - theta[j]) ** 2)),
                   "crlb": float(crlb[j]),
                   "efficiency": float(crlb[j] / variance) if variance > 0 else math.nan,
                   "coverage_wald": float(np.mean(np.abs(zs) <= z))}
            if robust is not None:
                row["coverage_robust"] = float(np.mean(np.abs(e - theta[j]) <= z * robust[:, j]))
            if profile is not None:
                row["coverage_profile"] = profile[j]
            row.update({"z_mean": float(np.mean(zs)), "z_sd": float(np.std(zs, ddof=1)),
                        "z_ks_p": float(stats.kstest(zs, "norm").pvalue),
                        "failed": int((~ok).sum())})
            rows.append(row)
    return Study(model.name, data_model.name, target, {k: float(v) for k, v in
                                                        generating.items()},
                 reps, level, misspecified, pd.DataFrame(rows))


def _check(model, data_model, truth, n, reps, level):
    for name, p in model.params.items():
        if p.shape:
            raise ModelError(f"study needs scalar parameters; {model.name}'s {name!r} has "
                             f"shape {p.shape}.")
    missing = set(data_model.params) - set(truth)
    if missing:
        raise ModelError(f"truth must give every parameter of {data_model.name}: missing "
                         f"{sorted(missing)}.")
    extra = set(truth) - set(data_model.params)
    if extra:
        raise ModelError(f"truth names {sorted(extra)}, not parameters of {data_model.name} "
                         f"({list(data_model.params)}).")
    sizes = list(n)
    if not sizes or any(not isinstance(m, (int, np.integer)) or m < 2 for m in sizes):
        raise ModelError(f"n={n!r} must be sample sizes (whole numbers >= 2).")
    if not isinstance(reps, (int, np.integer)) or reps < 10:
        raise ModelError(f"reps={reps!r} must be a whole number >= 10.")
    if not 0 < level < 1:
        raise ModelError(f"level={level!r} must lie in (0, 1), e.g. 0.95.")
    try:
        data_model.sample({k: float(v) for k, v in truth.items()}, 1, 0)
    except NotImplementedError:
        raise ModelError(f"{data_model.name} defines no sampler to simulate data from.") from None


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _fmt(params: Mapping) -> str:
    return ", ".join(f"{k}={v:.6g}" for k, v in params.items())


def expected_information(model: Model, params: Mapping, seed: int = 0) -> np.ndarray:
    """Per-observation Fisher information at ``params`` in natural units: the model's closed
    form, else the mean of -Hessian log p over INFO_DRAWS draws."""
    theta = {k: float(v) for k, v in params.items()}
    exact = model.expected_information(theta)
    if exact is not None:
        return np.asarray(exact, dtype=float)
    names = list(model.params)
    x = np.asarray(model.sample(theta, INFO_DRAWS, np.random.default_rng([seed, 7])),
                   dtype=float)
    vec = jnp.array([theta[k] for k in names])

    def total(v):
        return jnp.mean(model.logpdf(jnp.asarray(x), dict(zip(names, v, strict=True))))

    return -np.asarray(jax.hessian(total)(vec))


def kl_projection(model: Model, data_model: Model, data_truth: Mapping, seed: int = 0) -> dict:
    r"""argmin over the model's parameters of KL(g || f_θ) = const − ∫ g log f_θ, for the data
    model's density g: the integral by the trapezoid rule on a grid mapped far into the tails
    (:func:`_quadrature_grid`), maximized by BFGS with exact gradients. A computation
    independent of the fits: it never sees simulated datasets."""
    from scipy import optimize

    truth = {k: float(v) for k, v in data_truth.items()}
    draws = np.asarray(data_model.sample(truth, 100_000, np.random.default_rng([seed, 11])),
                       dtype=float)
    if data_model.support.integer:
        raise ModelError("the KL projection is computed for continuous data models.")
    grid, dx = _quadrature_grid(data_model.support, draws)
    weights = np.exp(np.asarray(data_model.logpdf(jnp.asarray(grid), truth))) * dx
    weights = weights / weights.sum()
    names = list(model.params)
    constraints = [model.params[k].constraint for k in names]
    start = model.start(draws[:20_000])
    u0 = np.array([float(c.inverse(np.asarray(start[k], dtype=float)))
                   for k, c in zip(names, constraints, strict=True)])
    g, w = jnp.asarray(grid), jnp.asarray(weights)

    def negative(u):
        p = {k: c.forward(u[i]) for i, (k, c) in enumerate(zip(names, constraints,
                                                               strict=True))}
        return -jnp.sum(w * model.logpdf(g, p))

    value_and_grad = jax.jit(jax.value_and_grad(negative))
    found = optimize.minimize(lambda u: tuple(np.asarray(a, dtype=float) for a in
                                              value_and_grad(jnp.asarray(u))),
                              u0, jac=True, method="BFGS", options={"gtol": 1e-12})
    u = found.x
    return {k: float(c.forward(jnp.asarray(u[i])))
            for i, (k, c) in enumerate(zip(names, constraints, strict=True))}


def _quadrature_grid(support, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points x(t) and weights x'(t) dt of the trapezoid rule on a uniform t grid mapped onto
    the support so that it reaches far into heavy tails: x = c + s sinh(t) on the real line
    (|x - c| up to 1e12 s), x = L + s e^t on [L, inf), a logistic map on [L, U]; c and s
    the draws' median and interquartile range."""
    lower, upper = support.lower, support.upper
    q1, c, q3 = np.quantile(draws, [0.25, 0.5, 0.75])
    s = max(q3 - q1, 1e-300)
    if math.isfinite(lower) and math.isfinite(upper):
        t = np.linspace(-40.0, 40.0, GRID)
        e = np.exp(-np.abs(t))
        p = np.where(t >= 0, 1 / (1 + e), e / (1 + e))
        x, dx = lower + (upper - lower) * p, (upper - lower) * p * (1 - p)
    elif math.isfinite(lower):
        t = np.linspace(math.log(1e-12), math.log(1e12), GRID)
        x, dx = lower + s * np.exp(t), s * np.exp(t)
    elif math.isfinite(upper):
        t = np.linspace(math.log(1e-12), math.log(1e12), GRID)
        x, dx = upper - s * np.exp(t), s * np.exp(t)
    else:
        t = np.linspace(-math.asinh(1e12), math.asinh(1e12), GRID)
        x, dx = c + s * np.sinh(t), s * np.cosh(t)
    inside = ~support.violations(x) & np.isfinite(x)
    return x[inside], (dx * (t[1] - t[0]))[inside]


def _robust_se(model: Model, names: list[str], est: np.ndarray, data: np.ndarray
               ) -> np.ndarray:
    """Sandwich standard errors A^-1 B A^-1 per replication, in natural units: A the
    observed information, B the sum of the scores' outer products (both at the estimate)."""
    return np.asarray(_sandwich_se(jnp.asarray(est), jnp.asarray(data), model, tuple(names)))


@partial(jax.jit, static_argnames=("model", "names"))
def _sandwich_se(est, data, model, names):
    """Compiled once per model and shape (not per study call)."""
    def loglik(v, x):
        return model.logpdf(x, dict(zip(names, v, strict=True)))

    def one(v, x):
        scores = jax.jacfwd(loglik)(v, x)            # (n, k)
        hess = jax.hessian(lambda w: jnp.sum(loglik(w, x)))(v)
        a_inv = jnp.linalg.inv(-hess)
        return jnp.sqrt(jnp.diag(a_inv @ (scores.T @ scores) @ a_inv))

    return jax.vmap(one)(est, data)


def _profile_coverage(batch, names, theta, level, reps: int):
    if not reps:
        return None
    hits = np.zeros(len(names))
    count = 0
    for i in range(min(reps, len(batch))):
        if not batch.converged[i]:
            continue
        intervals = batch[i].conf_int(level, method="profile")
        for j, name in enumerate(names):
            ci = intervals[name]
            lower = -np.inf if ci.lower is None else ci.lower
            upper = np.inf if ci.upper is None else ci.upper
            hits[j] += lower <= theta[j] <= upper
        count += 1
    if not count:
        raise DataError("no replication converged: no profile coverage to report.")
    return hits / count
