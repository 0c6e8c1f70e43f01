"""What every plot needs: the constants, the fit's data as plots read them, the checks of
the arguments, new axes and titles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ModelError
from .distribution import _evaluate, _has, quantile

KINDS = ("density", "qq", "pp", "cdf", "profile", "contour", "survival")
COMPARE_KINDS = ("density", "cdf", "qq", "pp")
#: the options each kind takes (beyond ax, level and params)
OPTIONS = {"density": ("bins",), "qq": (), "pp": (), "cdf": ("band",),
           "profile": ("points",), "contour": ("levels", "points"), "survival": ("band",)}
#: Okabe & Ito's colour-blind-safe palette (blue, vermillion, green, purple, orange, sky blue)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DATA_COLOUR, DATA_EDGE = "#BBBBBB", "#777777"
MARKERS = ("o", "s", "^", "D", "v", "P")
GRID = 200  # points on a fitted curve (padded to 256 with the data of the same size: one compile)
EPS = np.finfo(float).eps


# -- the fit's data --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fitted:
    """A univariate fit's distribution and its sorted exact data."""

    model: object
    params: dict
    x: np.ndarray
    discrete: bool
    name: str

    def logpdf(self, x):
        return _evaluate(self.model, "logpdf", x, self.params)

    def cdf(self, x):
        return np.exp(_evaluate(self.model, "tails", x, self.params)[0])

    def quantile(self, p):
        return quantile(self.model, self.params, p, bracket=(self.x[0], self.x[-1]))


def _context(fit):
    ctx = fit._context
    if ctx is None:
        raise ModelError("this fit carries no data to plot; plots need the fit from mk.fit.")
    return ctx


def _check_converged(fit) -> None:
    if not fit.converged:
        raise ModelError(f"the fit did not converge ({fit.message}): its plots would show a "
                         "point that is not the maximum; fix the fit first (see "
                         "fit.diagnostics).")


def _all_params(fit, model) -> dict:
    return {n: np.asarray(fit.params[n], dtype=float) for n in model.params}


def _is_censored(model) -> bool:
    from .._censored import CensoredModel

    return isinstance(model, CensoredModel)


def _exact_values(ctx) -> np.ndarray:
    if not isinstance(ctx.x, np.ndarray):
        raise ModelError("the data are a partitioned dataset, read where they live: plots need "
                         "them in memory; fit a sample (or collect them) to plot.")
    x = np.asarray(ctx.x, dtype=float)
    w = ctx.objective.weights
    if w is None:
        return x
    w = np.asarray(w, dtype=float)
    if np.any(w != np.round(w)) or np.any(w < 0) or w.sum() > 1e7:
        raise ModelError("the fit has non-integer (or more than 1e7) frequency weights: plots "
                         "of the data need each observation's count; refit with integer weights "
                         "or repeated rows.")
    return np.repeat(x, w.astype(np.int64))


def _univariate(fit, kind: str, needs_cdf: bool = True) -> _Fitted:
    """The fitted distribution of a univariate fit, or a ModelError saying why there is none."""
    ctx = _context(fit)
    model = ctx.model
    if _is_censored(model):
        raise ModelError(f"kind={kind!r} needs exact data, and this fit's are censored or "
                         "truncated: use kind='survival' (Kaplan-Meier against the fitted "
                         "survival function), 'profile' or 'contour'.")
    if getattr(model, "event_ndim", 0) or np.ndim(ctx.x) != 1:
        raise ModelError(f"kind={kind!r} compares the data with one fitted univariate "
                         f"distribution; {fit.model_name} is a multivariate or regression "
                         "model: use kind='profile' or 'contour'.")
    if needs_cdf and not (_has(model, "logcdf") and _has(model, "logsf")):
        raise ModelError(f"kind={kind!r} needs the distribution function, and "
                         f"{fit.model_name} defines no logcdf / logsf: use kind='density', "
                         "'profile' or 'contour'.")
    x = np.sort(_exact_values(ctx))
    return _Fitted(model, _all_params(fit, model), x, bool(model.support.integer),
                   fit.model_name)


# -- checks of the arguments ------------------------------------------------------------------
def _check_kind(kind, kinds: tuple, what: str) -> str:
    if kind not in kinds:
        raise ModelError(f"kind={kind!r} is not a {what} kind; use one of {kinds}.")
    return kind


def _check_options(kind: str, options: dict) -> dict:
    unknown = sorted(set(options) - set(OPTIONS[kind]))
    if unknown:
        allowed = ", ".join(OPTIONS[kind]) or "none"
        raise ModelError(f"kind={kind!r} takes no option {', '.join(unknown)}; its options: "
                         f"{allowed}.")
    return options


def _check_points(points, default: int) -> int:
    points = default if points is None else points
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 5:
        raise ModelError(f"points={points!r} must be an integer >= 5 (grid points per axis).")
    return int(points)


def _new_axes(ax):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ModelError("plots are drawn with matplotlib, which is not installed: "
                         "pip install 'mlekit[plot]'.") from None

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(layout="constrained")


def _title(ax, what: str, name: str, n: int) -> None:
    ax.set_title(f"{name}: {what} (n = {n})", fontsize="medium")


def _grid(f: _Fitted, points: int = GRID) -> np.ndarray:
    """Points across the data (a little beyond), inside the support's interior."""
    lo, hi = float(f.x[0]), float(f.x[-1])
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(lo), 1.0) * 0.1
    support = f.model.support
    a = max(lo - pad, support.lower + (1e-3 * (hi - lo + pad) if support.lower_open else 0.0))
    b = min(hi + pad, support.upper - (1e-3 * (hi - lo + pad) if support.upper_open else 0.0))
    return np.linspace(a, b, points)


def _integers(f: _Fitted) -> np.ndarray:
    """The integers to show a count model on: the data's range, and where the fit puts most of
    its mass (at most 400 values)."""
    q = (f.quantile(np.array([1e-3, 1 - 1e-3])) if _has(f.model, "logcdf")
         and _has(f.model, "logsf") else f.x[[0, -1]])
    a = min(float(f.x[0]), float(q[0]))
    b = max(float(f.x[-1]), float(q[1]))
    b = min(b, a + 400)
    return np.arange(a, b + 1)
