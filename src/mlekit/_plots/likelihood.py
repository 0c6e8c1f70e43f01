"""The likelihood itself: profiles and two-parameter confidence regions."""

from __future__ import annotations

import math

import numpy as np

from .._errors import ModelError
from .common import PALETTE, _check_points, _context, _new_axes, _title


# -- the likelihood: profiles and contours ----------------------------------------------------
def _scalar_names(fit, ctx) -> list[str]:
    return [n for n in fit.param_names
            if np.ndim(fit.params[n]) == 0 and n not in ctx.presolved]


def _chosen(fit, ctx, params, kind: str) -> list[str]:
    usable = _scalar_names(fit, ctx)
    chosen = [params] if isinstance(params, str) else list(params)
    for name in chosen:
        if name not in usable:
            why = ("not a parameter of the fit" if name not in fit.params else
                   "fixed, not estimated" if name not in fit.param_names else
                   "not a scalar" if np.ndim(fit.params[name]) else
                   "estimated before the likelihood is maximized (an order statistic)")
            raise ModelError(f"params contains {name!r}, {why}: kind={kind!r} draws estimated "
                             f"scalar parameters; choose from {usable}.")
    return chosen


def _reference_loglik(fit, ctx) -> float:
    """The maximum the profiles are measured from (a MAP fit's: the log-posterior)."""
    if ctx.objective.prior is None:
        return float(fit.loglik)
    return float(ctx.objective(np.asarray(ctx.u, dtype=float))[0])


def _span(ci, estimate: float, se, bounds, pad: float) -> tuple[float, float]:
    lo, hi = float(ci[0]), float(ci[1])
    scale = se if se is not None and np.isfinite(se) and se > 0 else abs(estimate) * 0.1 or 1.0
    if not np.isfinite(lo) or ci.lower_open:
        lo = estimate - 4 * scale
    if not np.isfinite(hi) or ci.upper_open:
        hi = estimate + 4 * scale
    width = hi - lo
    lo, hi = lo - pad * width, hi + pad * width
    a, b = bounds
    if lo <= a:
        lo = a + 1e-3 * (estimate - a) if np.isfinite(a) else lo
    if hi >= b:
        hi = b - 1e-3 * (b - estimate) if np.isfinite(b) else hi
    return lo, hi


def _profile_plot(fit, ax, level: float, params, points):
    import matplotlib.pyplot as plt

    from .._inference.intervals import chi2_1_quantile, context_for, profile
    from .._inference.profile import Element, profile_loglik

    ctx = context_for(fit, "profile")
    names = _chosen(fit, ctx, params, "profile") if params is not None else _scalar_names(
        fit, ctx)
    if not names:
        raise ModelError(f"kind='profile' draws estimated scalar parameters, and this fit's "
                         f"({list(fit.param_names)}) are vectors or order statistics; use "
                         "fit.conf_int(method='profile') for their elements.")
    points = _check_points(points, 41)
    if ax is not None and len(names) > 1:
        raise ModelError(f"ax= holds one profile and there are {len(names)} ({names}); pass "
                         "params='name' for one, or leave ax out for a figure of all.")
    if ax is None:
        w, h = plt.rcParams["figure.figsize"]
        k = len(names)
        fig, axes = plt.subplots(1, k, figsize=(w * (1 + 0.75 * (k - 1)), h), squeeze=False,
                                 layout="constrained")
        axes = list(axes[0])
    else:
        fig, axes = ax.figure, [ax]
    cut = 0.5 * chi2_1_quantile(level)
    top = _reference_loglik(fit, ctx)
    for ax_j, name in zip(axes, names, strict=True):
        estimate, se = float(fit.params[name]), fit.se.get(name)
        ci = profile(fit, name, level)
        bounds = ctx.model.params[name].constraint.bounds()
        lo, hi = _span(ci, estimate, se, bounds, 0.25)
        grid = np.unique(np.r_[np.linspace(lo, hi, points), estimate])
        rel = profile_loglik(ctx, Element(name), grid, se) - top
        ax_j.plot(grid, rel, color=PALETTE[0], lw=1.6, label="profile")
        ax_j.axhline(-cut, color=PALETTE[1], lw=1.0, ls="--",
                     label=f"{level:.0%} cut-off (χ²₁)")
        for end, is_open in ((ci[0], ci.lower_open), (ci[1], ci.upper_open)):
            if not is_open and np.isfinite(end):
                ax_j.axvline(end, color=PALETTE[2], lw=1.0, ls=":")
        ax_j.axvline(estimate, color="black", lw=0.8, ls="-", alpha=0.5)
        finite = rel[np.isfinite(rel)]
        ax_j.set_ylim(max(float(finite.min()) if finite.size else -2 * cut, -3.0 * cut),
                      0.1 * cut)
        ax_j.set_xlabel(name)
        ax_j.set_ylabel("Profile log-likelihood − max")
        ax_j.set_title(f"{fit.model_name}: profile of {name} (n = {fit.n})", fontsize="medium")
    axes[0].legend(fontsize="small", loc="lower center")
    return fig


def _check_levels(levels) -> list[float]:
    try:
        out = sorted(float(v) for v in levels)
    except (TypeError, ValueError):
        out = []
    if not out or any(not 0 < v < 1 for v in out):
        raise ModelError(f"levels={levels!r} must be coverages strictly between 0 and 1, "
                         "e.g. (0.5, 0.8, 0.95).")
    return out


def likelihood_surface(fit, names: tuple[str, str], a_grid, b_grid) -> np.ndarray:
    r"""The profile log-likelihood :math:`\ell_p(a, b) = \max_{\text{others}} \ell` on the grid
    ``a_grid`` x ``b_grid`` (rows follow ``b``), each point warm-started from its neighbour;
    NaN where the maximization fails. With no other free parameter it is the log-likelihood
    itself."""
    from .._optimize import Layout, Objective, Status, maximize

    ctx = _context(fit)
    a, b = names
    theta = ctx.params()
    held = {k: v for k, v in ctx.held.items() if k in ctx.model.params}
    free = Layout.of(ctx.model, {**held, a: 0.0, b: 0.0})
    out = np.full((len(b_grid), len(a_grid)), np.nan)
    if free.k == 0:
        objective = ctx.objective
        for j, vb in enumerate(b_grid):
            for i, va in enumerate(a_grid):
                u = ctx.layout.pack({**theta, a: va, b: vb}, ctx.objective.fixed)
                out[j, i] = objective(u)[0]
        return out
    base = Objective(ctx.model, free, {**held, a: theta[a], b: theta[b]}, ctx.x,
                     ctx.objective.stats, None, ctx.objective.weights)
    u_hat = free.pack(theta)
    u_row = u_hat
    for j, vb in enumerate(b_grid):
        order = range(len(a_grid)) if j % 2 == 0 else range(len(a_grid) - 1, -1, -1)
        u = u_row
        for n_done, i in enumerate(order):
            objective = base.holding({**held, a: np.asarray(a_grid[i]),
                                      b: np.asarray(vb)})
            with np.errstate(all="ignore"):
                result = maximize(objective, u, maxiter=max(ctx.maxiter, 50))
                if result.status is not Status.CONVERGED:
                    result = maximize(objective, u_hat, maxiter=max(ctx.maxiter, 50))
            if result.status is Status.CONVERGED:
                out[j, i], u = result.loglik, result.u
                if n_done == 0:
                    u_row = result.u
    return out


def _contour_plot(fit, ax, params, levels, points):
    from .._inference.intervals import context_for, profile

    ctx = context_for(fit, "contour")
    if ctx.objective.prior is not None:
        raise ModelError("kind='contour' draws likelihood regions, and this is a MAP fit (a "
                         "prior): fit without prior= / penalty=, or use kind='profile'.")
    levels = _check_levels(levels)
    points = _check_points(points, 41)
    if params is None:
        usable = _scalar_names(fit, ctx)
        if len(usable) < 2:
            raise ModelError(f"kind='contour' needs two estimated scalar parameters, and this "
                             f"fit has {usable}; use kind='profile'.")
        names = usable[:2]
    else:
        names = _chosen(fit, ctx, params, "contour")
        if len(names) != 2 or names[0] == names[1]:
            raise ModelError(f"params={params!r}: kind='contour' draws a pair of distinct "
                             "parameters, e.g. params=('shape', 'rate').")
    # the region at the largest level reaches where the 1-D profile drops by chi2_2 / 2
    chi2_top = -2.0 * math.log1p(-levels[-1])
    wide = math.erf(math.sqrt(chi2_top / 2.0))
    grids = []
    for name in names:
        estimate, se = float(fit.params[name]), fit.se.get(name)
        ci = profile(fit, name, min(wide, 1 - 1e-9))
        bounds = ctx.model.params[name].constraint.bounds()
        grids.append(np.linspace(*_span(ci, estimate, se, bounds, 0.1), points))
    surface = likelihood_surface(fit, tuple(names), *grids)
    deviance = 2.0 * (_reference_loglik(fit, ctx) - surface)
    fig, ax = _new_axes(ax)
    from matplotlib.lines import Line2D

    handles = []
    for k, lev in enumerate(levels):
        colour = PALETTE[k % len(PALETTE)]
        ax.contour(grids[0], grids[1], np.ma.masked_invalid(deviance),
                   levels=[-2.0 * math.log1p(-lev)], colors=[colour], linewidths=1.4)
        handles.append(Line2D([], [], color=colour, lw=1.4, label=f"{lev:.0%}"))
    ax.plot(fit.params[names[0]], fit.params[names[1]], "+", color="black", ms=9, mew=1.5)
    handles.append(Line2D([], [], color="black", marker="+", ls="none", ms=9, label="MLE"))
    ax.legend(handles=handles, fontsize="small", title="region (χ²₂)", title_fontsize="small")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    _title(ax, f"likelihood regions of {names[0]}, {names[1]}", fit.model_name, fit.n)
    return fig
