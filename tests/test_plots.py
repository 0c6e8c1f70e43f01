"""Plots of a fit (mlekit._plots): every kind renders, draws what it says (checked against
scipy / statsmodels / hand computations), refuses what does not apply, and matches its baseline
image (regenerate with MLEKIT_UPDATE_BASELINES=1 after an intended change)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import scipy.stats as st  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

import mlekit as mk  # noqa: E402
from mlekit._plots import (  # noqa: E402
    KINDS,
    cdf_band,
    compare_plot,
    kaplan_meier,
    likelihood_surface,
    plot,
    ppoints,
    quantile,
)

BASELINE = Path(__file__).parent / "baseline"
UPDATE = os.environ.get("MLEKIT_UPDATE_BASELINES") == "1"
TOL = 10.0
#: fixed, machine-independent settings (matplotlib's bundled DejaVu Sans, no hinting)
RC = {"figure.figsize": (4.0, 3.0), "figure.dpi": 72, "savefig.dpi": 72, "font.size": 7.0,
      "font.family": "DejaVu Sans", "text.hinting": "none", "axes.titlesize": 7.0,
      "path.simplify": False, "svg.hashsalt": "mlekit"}
#: kinds each fit (data kind) supports; the others must raise
CONTINUOUS = KINDS
DISCRETE = ("density", "qq", "pp", "cdf", "profile", "survival")
CENSORED = ("survival", "profile", "contour")


@pytest.fixture(autouse=True)
def _fixed_style():
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(RC)
        yield
    plt.close("all")


# -- fits shared by the tests (one data size per family: one compile each) --------------------
N = 200


@pytest.fixture(scope="module")
def gamma_fit():
    x = np.random.default_rng(20240501).gamma(3.0, 1.0 / 0.5, N)
    return mk.fit(mk.Gamma(), x)


@pytest.fixture(scope="module")
def poisson_fit():
    return mk.fit(mk.Poisson(), np.random.default_rng(7).poisson(3.2, N).astype(float))


@pytest.fixture(scope="module")
def survival_data():
    rng = np.random.default_rng(11)
    life = 3.0 * rng.weibull(1.5, 100)
    censor = rng.uniform(0.0, 5.0, 100)
    return np.minimum(life, censor), (life <= censor).astype(int)


@pytest.fixture(scope="module")
def weibull_fit(survival_data):
    return mk.fit(mk.Weibull(), mk.Survival(*survival_data))


def _fits(gamma_fit, poisson_fit, weibull_fit):
    return {"gamma": (gamma_fit, CONTINUOUS), "poisson": (poisson_fit, DISCRETE),
            "weibull": (weibull_fit, CENSORED)}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _line(ax, label):
    lines = [line for line in ax.lines if line.get_label() == label]
    assert len(lines) == 1, [line.get_label() for line in ax.lines]
    return lines[0]


# -- every kind renders, or refuses ------------------------------------------------------------
@pytest.mark.parametrize("which", ["gamma", "poisson", "weibull"])
def test_every_kind_renders_or_refuses(which, gamma_fit, poisson_fit, weibull_fit):
    fit, kinds = _fits(gamma_fit, poisson_fit, weibull_fit)[which]
    for kind in KINDS:
        if kind in kinds:
            assert _png(plot(fit, kind)).startswith(b"\x89PNG"), kind
        else:
            with pytest.raises(mk.ModelError) as err:
                plot(fit, kind)
            if which == "weibull":  # the data-based kinds point to the one that applies
                assert "kind='survival'" in str(err.value)
            else:  # a one-parameter fit has no pair to contour
                assert "two estimated scalar parameters" in str(err.value)


def test_compare_plot_kinds_render(gamma_fit):
    x = gamma_fit._context.x
    fits = [gamma_fit, mk.fit(mk.Weibull(), x), mk.fit(mk.LogNormal(), x)]
    for kind in ("density", "cdf", "qq", "pp"):
        fig = compare_plot(fits, kind, names=["G", "W", "LN"])
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert {"G", "W", "LN"} <= set(labels), (kind, labels)
        assert "n = 200" in fig.axes[0].get_title()
        _png(fig)


# -- what is drawn -------------------------------------------------------------------------------
def test_ppoints_is_r():
    # R: ppoints(5) = (1:5 - 3/8) / (5 + 1 - 2 * 3/8); ppoints(20) = (1:20 - 1/2) / 20
    np.testing.assert_allclose(ppoints(5), (np.arange(1, 6) - 0.375) / 5.25)
    np.testing.assert_allclose(ppoints(20), (np.arange(1, 21) - 0.5) / 20)


def test_qq_and_pp_points(gamma_fit):
    x = np.sort(gamma_fit._context.x)
    ref = st.gamma(gamma_fit.params["shape"], scale=1.0 / gamma_fit.params["rate"])
    ax = plot(gamma_fit, "qq").axes[0]
    points = _line(ax, "data")
    np.testing.assert_array_equal(points.get_ydata(), x)  # the sorted data
    np.testing.assert_allclose(points.get_xdata(), ref.ppf(ppoints(N)), rtol=1e-9)
    assert ax.get_xlabel() == "Theoretical quantiles"
    assert ax.get_title() == "gamma: Q-Q plot (n = 200)"
    ax = plot(gamma_fit, "pp").axes[0]
    points = _line(ax, "data")
    np.testing.assert_allclose(points.get_xdata(), ref.cdf(x), rtol=1e-9)
    np.testing.assert_array_equal(points.get_ydata(), ppoints(N))
    np.testing.assert_array_equal(_line(ax, "y = x").get_xdata(), [0.0, 1.0])


def test_density_histogram_and_curve(gamma_fit, poisson_fit):
    ax = plot(gamma_fit, "density").axes[0]
    bars = ax.patches
    area = sum(b.get_height() * b.get_width() for b in bars)
    assert area == pytest.approx(1.0)  # density=True
    curve = _line(ax, "fitted")
    ref = st.gamma(gamma_fit.params["shape"], scale=1.0 / gamma_fit.params["rate"])
    np.testing.assert_allclose(curve.get_ydata(), ref.pdf(curve.get_xdata()), rtol=1e-9)
    # counts: bars of relative frequencies, points of the fitted mass
    ax = plot(poisson_fit, "density").axes[0]
    x = poisson_fit._context.x
    values, counts = np.unique(x, return_counts=True)
    heights = {round(b.get_x() + b.get_width() / 2): b.get_height() for b in ax.patches}
    assert heights == pytest.approx(dict(zip(values.astype(int).tolist(), counts / x.size,
                                             strict=True)))
    points = _line(ax, "fitted")
    np.testing.assert_allclose(points.get_ydata(),
                               st.poisson.pmf(points.get_xdata(), poisson_fit.params["lambda"]))


def test_cdf_band_is_the_delta_method_and_shrinks_with_n(gamma_fit):
    grid = np.linspace(0.5, 15.0, 200)  # the plots' grid size: their compiled gradient
    cdf, lower, upper = cdf_band(gamma_fit, grid, 0.9)
    assert np.all(lower <= cdf) and np.all(cdf <= upper)
    assert np.all((lower >= 0) & (upper <= 1))
    # the gradient of F by central differences of scipy's gamma CDF, through fit.cov
    a, r = gamma_fit.params["shape"], gamma_fit.params["rate"]
    h = 1e-6

    def f(shape, rate):
        return st.gamma.cdf(grid, shape, scale=1.0 / rate)

    g = np.column_stack([(f(a + h, r) - f(a - h, r)) / (2 * h),
                         (f(a, r + h) - f(a, r - h)) / (2 * h)])
    half = st.norm.ppf(0.95) * np.sqrt(np.einsum("ij,jk,ik->i", g, gamma_fit.cov, g))
    inside = (cdf - half > 0) & (cdf + half < 1)
    np.testing.assert_allclose(upper[inside] - cdf[inside], half[inside], rtol=1e-5)
    # four times the data: the band about halves
    big = mk.fit(mk.Gamma(), np.random.default_rng(5).gamma(a, 1.0 / r, 4 * N))
    _, lo4, hi4 = cdf_band(big, grid, 0.9)
    ratio = np.median((hi4 - lo4)[inside] / (upper - lower)[inside])
    assert 0.35 < ratio < 0.65
    # the plot draws that band around that curve
    ax = plot(gamma_fit, "cdf", level=0.9).axes[0]
    assert "90% band (delta method)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(ax.collections) == 1


def test_quantile_inverts_the_cdf():
    p = np.array([1e-12, 1e-6, 0.01, 0.2, 0.5, 0.8, 0.99, 1 - 1e-9])
    cases = [(mk.Normal(), {"mean": 1.0, "sd": 2.0}, st.norm(1.0, 2.0)),
             (mk.Gamma(), {"shape": 0.4, "rate": 2.0}, st.gamma(0.4, scale=0.5)),
             (mk.Beta(), {"shape1": 2.0, "shape2": 3.0}, st.beta(2.0, 3.0)),
             (mk.Cauchy(), {"location": 0.0, "scale": 1.0}, st.cauchy())]
    for family, params, ref in cases:
        q = quantile(family, params, p, bracket=(0.1, 3.0))
        np.testing.assert_allclose(ref.cdf(q), p, rtol=0, atol=1e-10, err_msg=family.name)
        np.testing.assert_allclose(q, ref.ppf(p), rtol=1e-8, atol=1e-12, err_msg=family.name)
        assert quantile(family, params, [0.0, 1.0]).tolist() == [family.support.lower,
                                                                  family.support.upper]


def test_quantile_of_a_discrete_family_is_the_smallest_k():
    p = np.r_[np.random.default_rng(3).uniform(size=40), 1e-9, 1 - 1e-9]
    cases = [(mk.Poisson(), {"lambda": 3.5}, st.poisson(3.5)),
             (mk.NegativeBinomial(), {"size": 2.0, "mu": 4.0}, st.nbinom(2.0, 2.0 / 6.0)),
             (mk.Binomial(size=10), {"prob": 0.3}, st.binom(10, 0.3))]
    for family, params, ref in cases:
        k = quantile(family, params, p, bracket=(0.0, 3.0))
        assert np.all(k == np.round(k))
        assert np.all(ref.cdf(k) >= p) and np.all(ref.cdf(k - 1) < p), family.name
        np.testing.assert_array_equal(k, ref.ppf(p))


def test_kaplan_meier_by_hand():
    # times 1, 2, 2+, 3, 4+ (event 1/0): at 1: 5 at risk, 1 dies -> 4/5; at 2: 4 at risk,
    # 1 dies -> 4/5 * 3/4 = 3/5; at 3: 2 at risk, 1 dies -> 3/10
    km = kaplan_meier([1.0, 2.0, 2.0, 3.0, 4.0], [1, 1, 0, 1, 0])
    np.testing.assert_array_equal(km.time, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(km.at_risk, [5.0, 4.0, 2.0])
    np.testing.assert_allclose(km.survival, [0.8, 0.6, 0.3])
    greenwood = [1 / 20, 1 / 20 + 1 / 12, 1 / 20 + 1 / 12 + 1 / 2]
    np.testing.assert_allclose(km.se, km.survival * np.sqrt(greenwood))


def test_kaplan_meier_agrees_with_statsmodels(survival_data, weibull_fit):
    from statsmodels.duration.survfunc import SurvfuncRight

    time, event = survival_data
    km = kaplan_meier(time, event)
    ref = SurvfuncRight(time, event)
    np.testing.assert_allclose(km.time, ref.surv_times)
    np.testing.assert_allclose(km.survival, ref.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(km.se, ref.surv_prob_se, rtol=1e-10)
    # the plot draws that step function and the fitted exp(log S)
    ax = plot(weibull_fit, "survival").axes[0]
    steps = _line(ax, "Kaplan-Meier")
    np.testing.assert_allclose(steps.get_ydata()[1:-1], km.survival)
    fitted = _line(ax, "fitted")
    ref_sf = st.weibull_min(weibull_fit.params["shape"], scale=weibull_fit.params["scale"])
    np.testing.assert_allclose(fitted.get_ydata(), ref_sf.sf(fitted.get_xdata()), rtol=1e-9)
    assert ax.get_title() == "weibull (censored data): survival (n = 100)"


def test_profile_marks_the_interval_and_the_cut_off(gamma_fit):
    fig = plot(gamma_fit, "profile", level=0.9, params="shape")
    ax = fig.axes[0]
    curve = _line(ax, "profile")
    x, y = curve.get_xdata(), curve.get_ydata()
    at_mle = np.argmin(np.abs(x - gamma_fit.params["shape"]))
    assert y[at_mle] == pytest.approx(0.0, abs=1e-9) and np.nanmax(y) <= 1e-9
    cut = _line(ax, "90% cut-off (χ²₁)").get_ydata()[0]
    assert cut == pytest.approx(-0.5 * st.chi2.ppf(0.9, 1))
    lo, hi = gamma_fit.conf_int(0.9, method="profile")["shape"]
    verticals = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":")
    assert verticals == pytest.approx([lo, hi])
    assert x.min() < lo and hi < x.max()
    # the curve crosses the cut-off at the interval's ends
    assert np.interp(lo, x, y) == pytest.approx(cut, abs=0.02)
    assert len(plot(gamma_fit, "profile").axes) == 2  # every estimated parameter


def test_contour_is_the_likelihood_surface(gamma_fit):
    x = gamma_fit._context.x
    shapes, rates = np.array([2.5, 3.0, 3.5]), np.array([0.4, 0.5])
    surface = likelihood_surface(gamma_fit, ("shape", "rate"), shapes, rates)
    ref = [[st.gamma.logpdf(x, a, scale=1 / r).sum() for a in shapes] for r in rates]
    np.testing.assert_allclose(surface, ref, rtol=1e-12)
    ax = plot(gamma_fit, "contour", levels=(0.5, 0.95)).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["50%", "95%", "MLE"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("shape", "rate")


def test_contour_maximizes_the_other_parameters():
    x = st.t.rvs(5.0, loc=1.0, scale=2.0, size=60, random_state=np.random.default_rng(2))
    fit = mk.fit(mk.StudentT(), x)
    a, b = fit.params["location"] + 0.3, fit.params["scale"] * 1.2
    surface = likelihood_surface(fit, ("location", "scale"), [a], [b])
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda log_df: -st.t.logpdf(x, math.exp(log_df), a, b).sum(),
                           bounds=(0.0, 5.0), method="bounded", options={"xatol": 1e-10})
    assert surface[0, 0] == pytest.approx(-best.fun, rel=1e-10)


# -- refusals ------------------------------------------------------------------------------------
def test_errors_name_the_argument_and_the_fix(gamma_fit, weibull_fit):
    with pytest.raises(mk.ModelError, match=r"kind='hist' .*'density', 'qq'"):
        plot(gamma_fit, "hist")
    with pytest.raises(mk.ModelError, match="kind='qq' takes no option bins"):
        plot(gamma_fit, "qq", bins=10)
    with pytest.raises(mk.ModelError, match="'scale', not a parameter"):
        plot(gamma_fit, "contour", params=("shape", "scale"))
    with pytest.raises(mk.ModelError, match="params= chooses"):
        plot(gamma_fit, "density", params="shape")
    with pytest.raises(mk.ModelError, match="level"):
        plot(gamma_fit, "cdf", level=95)
    with pytest.raises(mk.ModelError, match="did not converge"):
        plot(mk.fit(mk.Weibull(), gamma_fit._context.x, maxiter=1), "qq")
    with pytest.raises(mk.ModelError, match="kind='survival'"):
        plot(weibull_fit, "qq")
    with pytest.raises(mk.ModelError, match="other data"):
        compare_plot([gamma_fit, mk.fit(mk.Gamma(), gamma_fit._context.x[::-1] + 1)], "cdf")
    with pytest.raises(mk.ModelError, match="comparison kind"):
        compare_plot([gamma_fit], "profile")


def test_interval_censored_data_have_no_kaplan_meier(survival_data):
    time, event = survival_data  # as many rows as weibull_fit's: its compiled likelihood
    left = np.where(np.arange(time.size) % 10 == 0, 0.9 * time, time)
    right = np.where(event == 1, time, np.nan)
    fit = mk.fit(mk.Weibull(), mk.Censored(left, right))
    assert fit.converged
    with pytest.raises(mk.ModelError, match="exact or right-censored"):
        plot(fit, "survival")


def test_multivariate_fits_are_refused():
    fit = mk.fit(mk.MultivariateNormal(), np.random.default_rng(0).normal(size=(40, 2)))
    for kind in ("density", "qq", "survival"):
        with pytest.raises(mk.ModelError, match="multivariate or regression"):
            plot(fit, kind)


# -- images --------------------------------------------------------------------------------------
def _figures(gamma_fit, poisson_fit, weibull_fit):
    x = gamma_fit._context.x
    yield "gamma_density", lambda: plot(gamma_fit, "density")
    yield "gamma_qq", lambda: plot(gamma_fit, "qq")
    yield "gamma_pp", lambda: plot(gamma_fit, "pp")
    yield "gamma_cdf", lambda: plot(gamma_fit, "cdf")
    yield "gamma_profile", lambda: plot(gamma_fit, "profile", params="shape")
    yield "gamma_contour", lambda: plot(gamma_fit, "contour")
    yield "poisson_density", lambda: plot(poisson_fit, "density")
    yield "poisson_cdf", lambda: plot(poisson_fit, "cdf")
    yield "weibull_survival", lambda: plot(weibull_fit, "survival")
    yield "compare_density", lambda: compare_plot([gamma_fit, mk.fit(mk.Weibull(), x)],
                                                  "density")


def test_images_match_their_baselines(gamma_fit, poisson_fit, weibull_fit, tmp_path):
    failures = []
    for name, draw in _figures(gamma_fit, poisson_fit, weibull_fit):
        expected, actual = BASELINE / f"{name}.png", tmp_path / f"{name}.png"
        fig = draw()
        fig.savefig(actual)
        plt.close(fig)
        if UPDATE:
            BASELINE.mkdir(exist_ok=True)
            expected.write_bytes(actual.read_bytes())
            continue
        if not expected.exists():
            failures.append(f"{name}: no baseline {expected}")
            continue
        diff = compare_images(str(expected), str(actual), tol=TOL)
        if diff is not None:
            failures.append(diff)
    assert not failures, (
        "plots differ from tests/baseline/ (tol=" + str(TOL) + "):\n" + "\n".join(failures)
        + "\nIf the change is intended, regenerate the baselines with "
        "MLEKIT_UPDATE_BASELINES=1 .venv/bin/pytest tests/test_plots.py -k images, and "
        "review the new images before committing them.")


def test_chi2_two_cut_offs():
    # the contour levels: chi2_2 quantiles have the closed form -2 log(1 - level)
    for level in (0.5, 0.8, 0.95):
        assert -2 * math.log1p(-level) == pytest.approx(st.chi2.ppf(level, 2))
