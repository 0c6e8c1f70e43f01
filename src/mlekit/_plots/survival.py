"""Kaplan-Meier against the fitted survival function."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._errors import ModelError
from .common import (
    DATA_COLOUR,
    GRID,
    PALETTE,
    _all_params,
    _context,
    _exact_values,
    _is_censored,
    _new_axes,
    _title,
)
from .distribution import _evaluate, _has


# -- survival ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class KaplanMeier:
    """The Kaplan-Meier estimate at the distinct event times: ``survival`` just after each,
    Greenwood's standard error ``se``, and the ``at_risk`` / ``events`` counts there."""

    time: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray


def kaplan_meier(time, event, weights=None) -> KaplanMeier:
    r"""Kaplan-Meier's product-limit estimate :math:`\hat S(t) = \prod_{t_j \le t}
    (1 - d_j / n_j)`, with Greenwood's :math:`\widehat{\mathrm{Var}} = \hat S^2 \sum_{t_j \le
    t} d_j / (n_j (n_j - d_j))`; a time censored at :math:`t_j` counts as at risk there.

    Examples
    --------
    >>> from mlekit._plots import kaplan_meier
    >>> km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> km.time.tolist(), km.survival.round(4).tolist()
    ([1.0, 2.0, 3.0], [0.8, 0.6, 0.3])
    """
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=bool).ravel()
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float).ravel()
    times = np.unique(t[e])
    order = np.argsort(t)
    ts, ws = t[order], w[order]
    at_risk = ws.sum() - np.r_[0.0, np.cumsum(ws)][np.searchsorted(ts, times, side="left")]
    events = np.bincount(np.searchsorted(times, t[e]), weights=w[e], minlength=times.size)
    surv = np.cumprod(1.0 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = events / (at_risk * (at_risk - events))
        se = surv * np.sqrt(np.cumsum(terms))
    return KaplanMeier(times, surv, np.where(surv > 0, se, 0.0), at_risk, events)


def _survival_data(fit):
    """(family, params, time, event, weights, discrete) for a survival plot."""
    from .._censored import EXACT, RIGHT

    ctx = _context(fit)
    model = ctx.model
    if _is_censored(model):
        rows = np.asarray(ctx.x, dtype=float) if isinstance(ctx.x, np.ndarray) else None
        if rows is None:
            _exact_values(ctx)  # raises: a partitioned dataset
        if model.truncated:
            raise ModelError("kind='survival' draws Kaplan-Meier, which for truncated data "
                             "needs the risk sets of delayed entry (not implemented); use "
                             "kind='profile' or 'contour'.")
        kinds = rows[:, 2]
        if np.any((kinds != EXACT) & (kinds != RIGHT)):
            raise ModelError("kind='survival': Kaplan-Meier needs exact or right-censored "
                             "times, and these data have left- or interval-censored ones "
                             "(their estimate is Turnbull's, not drawn here); use kind="
                             "'profile' or 'contour'.")
        family = model.family
        time = rows[:, 0] + np.where(family.support.integer & (kinds == RIGHT), 1.0, 0.0)
        event, weights = kinds == EXACT, ctx.objective.weights
    else:
        if getattr(model, "event_ndim", 0) or np.ndim(ctx.x) != 1:
            raise ModelError(f"kind='survival' needs lifetimes from a univariate fit; "
                             f"{fit.model_name} is a multivariate or regression model.")
        family, time = model, _exact_values(ctx)
        event, weights = np.ones(time.size, dtype=bool), None
    if not _has(family, "logsf"):
        raise ModelError(f"kind='survival' needs the survival function, and {fit.model_name} "
                         "defines no logsf; use kind='density'.")
    return family, _all_params(fit, family), time, event, weights, bool(family.support.integer)


def _survival(fit, ax, level: float, band: bool):
    from .._inference.fisher import _z

    family, params, time, event, weights, discrete = _survival_data(fit)
    km = kaplan_meier(time, event, weights)
    fig, ax = _new_axes(ax)
    start = family.support.lower if math.isfinite(family.support.lower) else float(time.min())
    end = float(time.max())
    steps_t, steps_s = np.r_[start, km.time, end], np.r_[1.0, km.survival, km.survival[-1:]]
    censored = ~np.asarray(event, dtype=bool)
    label = "Kaplan-Meier" if censored.any() else "empirical"
    if band and km.time.size:
        with np.errstate(divide="ignore", invalid="ignore"):  # R's conf.type = "log"
            spread = _z(level) * km.se / km.survival
            lower = np.where(km.survival > 0, km.survival * np.exp(-spread), 0.0)
            upper = np.minimum(1.0, km.survival * np.exp(spread))
        ok = np.isfinite(lower) & np.isfinite(upper)
        bt = np.r_[start, km.time[ok], end if ok.all() else km.time[ok][-1:]]
        lo = np.r_[1.0, lower[ok], lower[ok][-1:]]
        hi = np.r_[1.0, upper[ok], upper[ok][-1:]]
        ax.fill_between(bt, lo, hi, step="post", color=DATA_COLOUR, alpha=0.6, lw=0,
                        label=f"{level:.0%} band (Greenwood)")
    ax.step(steps_t, steps_s, where="post", color="black", lw=1.0, label=label)
    if censored.any():
        ct = np.sort(time[censored])
        idx = np.searchsorted(km.time, ct, side="right")
        ax.plot(ct, np.r_[1.0, km.survival][idx], "|", color="black", ms=6, label="censored")
    if discrete:
        grid = np.arange(math.floor(start), math.ceil(end) + 1)
    else:
        grid = np.linspace(start, end, GRID)
    sf = np.exp(_evaluate(family, "tails", grid, params)[1])
    if discrete:
        ax.step(grid, sf, where="post", color=PALETTE[0], lw=1.6, label="fitted")
    else:
        ax.plot(grid, sf, color=PALETTE[0], lw=1.6, label="fitted")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Time")
    ax.set_ylabel("Survival probability")
    ax.legend(fontsize="small")
    n = time.size if weights is None else round(float(np.sum(weights)))
    _title(ax, "survival", fit.model_name, int(n))
    return fig
