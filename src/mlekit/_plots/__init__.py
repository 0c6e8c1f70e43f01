r"""Plots of a fit: the data against the fitted distribution, and the likelihood itself.

:func:`plot` draws one kind of figure for one fit, :func:`compare_plot` overlays several fits
of the same data (fitdistrplus's ``denscomp`` / ``cdfcomp`` / ``qqcomp`` / ``ppcomp``).

- ``density``: histogram (or, for counts, observed relative frequencies) and the fitted
  density or probability mass;
- ``qq``: the fitted quantiles :math:`F^{-1}(p_i)` at R's ``ppoints(n)`` against the sorted
  data; ``pp``: :math:`F(x_{(i)})` against ``ppoints(n)``;
- ``cdf``: the empirical CDF, the fitted CDF and its pointwise delta-method band
  :math:`F \pm z \sqrt{\nabla_\theta F' \,\mathrm{Cov}\, \nabla_\theta F}`;
- ``profile``: :math:`\ell_p(\theta_j) - \hat\ell` with the profile interval and the
  :math:`\chi^2_1` cut-off;
- ``contour``: likelihood regions :math:`\{2(\hat\ell - \ell_p(\theta_a, \theta_b)) \le
  \chi^2_2(\text{level})\}`, the others maximized at each grid point;
- ``survival``: Kaplan-Meier (with Greenwood's band) and the fitted survival function.

The quantile function :func:`quantile` is generic: bisection on the family's CDF (in a
coordinate where the support is the real line), integer bisection for discrete families.
matplotlib is imported only by the functions that draw.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import ModelError
from .common import (
    COMPARE_KINDS,
    DATA_COLOUR,
    DATA_EDGE,
    KINDS,
    MARKERS,
    PALETTE,
    _check_converged,
    _check_kind,
    _check_options,
    _grid,
    _integers,
    _new_axes,
    _title,
    _univariate,
)
from .distribution import (
    _bucket,
    ecdf,
    ppoints,
    quantile,  # noqa: F401 (re-exported: the public helpers)
)
from .likelihood import (
    _contour_plot,
    _profile_plot,
    likelihood_surface,  # noqa: F401
)
from .survival import KaplanMeier, _survival, kaplan_meier  # noqa: F401


# -- the public entry points ------------------------------------------------------------------
def plot(fit, kind: str = "density", *, ax=None, level: float = 0.95,
         params: Sequence[str] | str | None = None, **options):
    r"""Draw one diagnostic plot of a fit; returns the matplotlib Figure.

    Parameters
    ----------
    fit : Fit
        A converged fit from :func:`mlekit.fit`.
    kind : {"density", "qq", "pp", "cdf", "profile", "contour", "survival"}
        ``density``: histogram (counts: relative frequencies) with the fitted density (mass);
        ``qq``: :math:`F^{-1}(p_i)` at ``ppoints(n)`` (x) against the sorted data (y);
        ``pp``: :math:`F(x_{(i)})` (x) against ``ppoints(n)`` (y); ``cdf``: the empirical CDF,
        the fitted CDF and its delta-method band at ``level``; ``profile``:
        :math:`\ell_p(\theta_j) - \hat\ell` over the profile interval at ``level``, with the
        :math:`\chi^2_1` cut-off; ``contour``: the likelihood regions
        :math:`2(\hat\ell - \ell_p) \le \chi^2_2` of two parameters; ``survival``:
        Kaplan-Meier (exact or right-censored data) with the fitted :math:`S(t)`.
    ax : matplotlib Axes, optional
        Where to draw (``profile`` of one parameter only); default a new figure.
    level : float
        Coverage of the bands and of the profile interval.
    params : str or sequence of str, optional
        ``profile``: the parameters (default every estimated scalar one); ``contour``: the
        pair (default the first two).
    **options
        ``bins`` (density: anything ``numpy.histogram`` takes; default numpy's "auto", the
        more bins of Freedman-Diaconis and Sturges, within 5-100); ``band`` (cdf, survival:
        draw the band, default True); ``points`` (profile: grid points, default 41; contour:
        per axis, default 41); ``levels`` (contour: coverages, default (0.5, 0.8, 0.95)).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mlekit as mk, numpy as np
    >>> from mlekit._plots import plot
    >>> fit = mk.fit(mk.Gamma(), np.random.default_rng(1).gamma(3.0, 2.0, 100))
    >>> fig = plot(fit, "qq")
    >>> fig.axes[0].get_xlabel()
    'Theoretical quantiles'
    """
    from .._inference.intervals import check_level

    _check_kind(kind, KINDS, "plot")
    level = check_level(level)
    _check_options(kind, options)
    if params is not None and kind not in ("profile", "contour"):
        raise ModelError(f"params= chooses the parameters of kind='profile' or 'contour'; "
                         f"kind={kind!r} shows the whole fitted distribution.")
    _check_converged(fit)
    if kind in ("density", "qq", "pp", "cdf"):
        f = _univariate(fit, kind, needs_cdf=kind != "density")
        fig, ax = _new_axes(ax)
        if kind == "density":
            _draw_density(ax, [f], [PALETTE[0]], [None], options.get("bins"))
        elif kind == "cdf":
            _draw_cdf(ax, [f], [PALETTE[0]], [None], fit, level, options.get("band", True))
        else:
            _draw_probability(ax, kind, [f], [PALETTE[0]], [None])
        what = {"density": "observed and fitted probabilities" if f.discrete else
                "data and fitted density", "cdf": "empirical and fitted CDF", "qq": "Q-Q plot",
                "pp": "P-P plot"}[kind]
        _title(ax, what, f.name, f.x.size)
        return fig
    if kind == "survival":
        return _survival(fit, ax, level, options.get("band", True))
    if kind == "profile":
        return _profile_plot(fit, ax, level, params, options.get("points"))
    return _contour_plot(fit, ax, params, options.get("levels", (0.5, 0.8, 0.95)),
                         options.get("points"))


def compare_plot(fits, kind: str = "density", *, names: Sequence[str] | None = None, ax=None,
                 **options):
    """Overlay several fits of the same data (fitdistrplus's denscomp, cdfcomp, qqcomp,
    ppcomp); returns the matplotlib Figure.

    Parameters
    ----------
    fits : sequence of Fit
        Converged univariate fits of the same data.
    kind : {"density", "cdf", "qq", "pp"}
        What to overlay (see :func:`plot`); ``cdf`` draws no bands.
    names : sequence of str, optional
        Legend labels, one per fit (default the model names).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.
    **options
        ``bins`` for ``density``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import mlekit as mk, numpy as np
    >>> from mlekit._plots import compare_plot
    >>> x = np.random.default_rng(1).gamma(3.0, 2.0, 100)
    >>> fig = compare_plot([mk.fit(mk.Gamma(), x), mk.fit(mk.Weibull(), x)], "cdf")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['empirical', 'gamma', 'weibull']
    """
    _check_kind(kind, COMPARE_KINDS, "comparison")
    _check_options(kind, options)
    fits = list(fits) if not hasattr(fits, "converged") else [fits]
    if not fits:
        raise ModelError("fits is empty: give the fits to compare, e.g. [fit_a, fit_b].")
    if len(fits) > len(PALETTE):
        raise ModelError(f"{len(fits)} fits: compare at most {len(PALETTE)} in one plot.")
    for fit in fits:
        _check_converged(fit)
    dists = [_univariate(fit, kind, needs_cdf=kind != "density") for fit in fits]
    first = dists[0].x
    for i, f in enumerate(dists[1:], 1):
        if f.x.shape != first.shape or not np.array_equal(f.x, first):
            raise ModelError(f"fits[{i}] was fitted to other data than fits[0]: compare_plot "
                             "overlays fits of the same data; fit every model to the same x.")
    if names is None:
        names = [f.name for f in dists]
    names = [str(s) for s in names]
    if len(names) != len(dists):
        raise ModelError(f"names has {len(names)} labels for {len(dists)} fits; give one each.")
    if kind == "density" and len({f.discrete for f in dists}) > 1:
        raise ModelError("the fits mix discrete and continuous families: their densities and "
                         "probability masses do not share a scale; compare kind='cdf' instead.")
    fig, ax = _new_axes(ax)
    colours = list(PALETTE[: len(dists)])
    if kind == "density":
        _draw_density(ax, dists, colours, names, options.get("bins"))
    elif kind == "cdf":
        _draw_cdf(ax, dists, colours, names, None, 0.95, False)
    else:
        _draw_probability(ax, kind, dists, colours, names)
    what = {"density": "densities", "cdf": "CDFs", "qq": "Q-Q plots", "pp": "P-P plots"}[kind]
    _title(ax, f"{len(dists)} fitted {what}", "comparison", first.size)
    if not (kind == "density" and dists[0].discrete):  # that one orders its own legend
        ax.legend(fontsize="small")
    return fig


# -- density, cdf, qq, pp ---------------------------------------------------------------------
def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _bins(x: np.ndarray, bins):
    if bins is not None:
        return bins
    edges = np.histogram_bin_edges(x, bins="auto")  # max(Freedman-Diaconis, Sturges)
    if not 5 <= edges.size - 1 <= 100:
        edges = np.histogram_bin_edges(x, bins=int(np.clip(edges.size - 1, 5, 100)))
    return edges


def _draw_density(ax, dists, colours, names, bins) -> None:
    x = dists[0].x
    if dists[0].discrete:
        k = np.unique(np.concatenate([_integers(f) for f in dists]))
        values, counts = np.unique(x, return_counts=True)
        ax.bar(values, counts / x.size, width=0.8, color=DATA_COLOUR, edgecolor=DATA_EDGE,
               label="observed")
        for i, (f, colour, name) in enumerate(zip(dists, colours, names, strict=True)):
            offset = 0.15 * (i - (len(dists) - 1) / 2) if len(dists) > 1 else 0.0
            pmf = np.exp(f.logpdf(k))
            ax.vlines(k + offset, 0, pmf, color=colour, lw=1.2)
            ax.plot(k + offset, pmf, MARKERS[i], color=colour, ms=4, ls="none",
                    label=name or "fitted")
        ax.set_xlabel("x")
        ax.set_ylabel("Relative frequency / probability")
        _integer_ticks(ax)
        handles, labels = ax.get_legend_handles_labels()  # the data first, as drawn
        first = labels.index("observed")
        order = [first] + [i for i in range(len(labels)) if i != first]
        ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize="small")
        return
    heights, _, _ = ax.hist(x, bins=_bins(x, bins), density=True, color=DATA_COLOUR,
                            edgecolor=DATA_EDGE, label="data")
    top = float(np.max(heights))
    for i, (f, colour, name) in enumerate(zip(dists, colours, names, strict=True)):
        grid = _grid(f)
        dens = np.exp(f.logpdf(grid))
        ax.plot(grid, dens, color=colour, lw=1.6, ls=("-", "--", ":", "-.")[i % 4],
                label=name or "fitted")
        inner = dens[np.isfinite(dens)][len(grid) // 50:]
        top = max(top, min(float(inner.max()) if inner.size else top, 2.0 * top))
    ax.set_ylim(0, 1.05 * top)
    ax.set_xlabel("x")
    ax.set_ylabel("Density")
    if names == [None]:
        ax.legend(fontsize="small")


def cdf_band(fit, x, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The fitted CDF at ``x`` and its pointwise delta-method band at ``level``:
    :math:`F(x; \hat\theta) \mp z \sqrt{g' \,\mathrm{Cov}\, g}`, :math:`g = \partial F /
    \partial \theta` over the estimated parameters (by automatic differentiation), clipped to
    [0, 1]. Returns ``(F, lower, upper)``; the band is NaN where the fit has no covariance.
    """
    from .._inference.fisher import _z

    f = _univariate(fit, "cdf")
    x = np.asarray(x, dtype=float).ravel()
    cdf = f.cdf(x)
    if fit.cov is None or not fit.param_names:
        nan = np.full(x.shape, np.nan)
        return cdf, nan, nan
    names = tuple(fit.param_names)
    shapes = tuple(np.shape(fit.params[n]) for n in names)
    theta = np.concatenate([np.ravel(np.asarray(fit.params[n], dtype=float)) for n in names])
    held = {n: v for n, v in f.params.items() if n not in names}
    grad = _cdf_gradient(f.model, names, shapes)
    padded = np.full(_bucket(x.size), x[0])
    padded[: x.size] = x
    g = np.asarray(grad(theta, padded, held), dtype=float)[: x.size]
    var = np.einsum("ij,jk,ik->i", g, np.asarray(fit.cov, dtype=float), g)
    half = _z(level) * np.sqrt(np.maximum(var, 0.0))
    return cdf, np.clip(cdf - half, 0.0, 1.0), np.clip(cdf + half, 0.0, 1.0)


@functools.lru_cache(maxsize=32)
def _cdf_gradient(model, names: tuple, shapes: tuple):
    sizes = [math.prod(s) for s in shapes]

    def cdf(theta, x, held):
        params, i = dict(held), 0
        for name, shape, size in zip(names, shapes, sizes, strict=True):
            params[name] = theta[i:i + size].reshape(shape)
            i += size
        return jnp.exp(model.logcdf(x, params))

    return jax.jit(jax.jacfwd(cdf))


def _draw_cdf(ax, dists, colours, names, fit, level, band) -> None:
    x = dists[0].x
    values, fn = ecdf(x)
    lo_x = values[0] - 0.05 * (values[-1] - values[0] or 1.0)
    hi_x = values[-1] + 0.05 * (values[-1] - values[0] or 1.0)
    ax.step(np.r_[lo_x, values, hi_x], np.r_[0.0, fn, 1.0], where="post", color="black",
            lw=1.0, label="empirical")
    for i, (f, colour, name) in enumerate(zip(dists, colours, names, strict=True)):
        grid = _integers(f) if f.discrete else _grid(f)
        if band and fit is not None:
            cdf, lower, upper = cdf_band(fit, grid, level)
            if fit.cov is None:
                name = "fitted (no band: singular information)"
        else:
            cdf, lower, upper = f.cdf(grid), None, None
        step = "post" if f.discrete else None
        style = ("-", "--", ":", "-.")[i % 4]
        if f.discrete:
            ax.step(grid, cdf, where="post", color=colour, lw=1.4, ls=style,
                    label=name or "fitted")
        else:
            ax.plot(grid, cdf, color=colour, lw=1.4, ls=style, label=name or "fitted")
        if lower is not None and np.all(np.isfinite(lower)) and np.any(upper > lower):
            ax.fill_between(grid, lower, upper, step=step, color=colour, alpha=0.25, lw=0,
                            label=f"{level:.0%} band (delta method)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("x")
    ax.set_ylabel("Cumulative probability")
    if dists[0].discrete:
        _integer_ticks(ax)
    if names == [None]:
        ax.legend(fontsize="small", loc="lower right")


def _draw_probability(ax, kind, dists, colours, names) -> None:
    x = dists[0].x
    p = ppoints(x.size)
    for i, (f, colour, name) in enumerate(zip(dists, colours, names, strict=True)):
        if kind == "qq":
            xs, ys = f.quantile(p), x
        else:
            xs, ys = f.cdf(x), p
        ax.plot(xs, ys, MARKERS[i], color=colour, ms=3.5, ls="none", alpha=0.8,
                label=name or "data")
    if kind == "qq":
        ends = np.array([ax.dataLim.x0, ax.dataLim.x1, x[0], x[-1]])
        ends = ends[np.isfinite(ends)]
        lim = (float(ends.min()), float(ends.max()))
        ax.set_xlabel("Theoretical quantiles")
        ax.set_ylabel("Empirical quantiles")
    else:
        lim = (0.0, 1.0)
        ax.set_xlabel("Theoretical probabilities")
        ax.set_ylabel("Empirical probabilities")
    ax.plot(lim, lim, color="black", lw=0.8, ls="--", label="y = x")
