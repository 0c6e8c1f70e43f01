"""Extreme-value families: the shape -> 0 limits (values and derivatives), the far tails, the
moments near shape = 0, fits from the automatic starts, and agreement with R on real data."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import stats

import mlekit as mk
from conftest import shared_csv
from mlekit._families import extremes


@pytest.fixture(autouse=True)
def _fifty_digits():
    """mpmath at 50 digits for these tests only (its precision is global state)."""
    with mp.workdps(50):
        yield

N = 500
GEV = mk.GeneralizedExtremeValue()
GPD_LOC = 3.0
GPD = mk.GeneralizedPareto(loc=GPD_LOC)
GEV_NAMES = ("loc", "scale", "shape")
GPD_NAMES = ("scale", "shape")


# -- exact references (mpmath, 50 digits) -----------------------------------------------------

def _mp_L(z, s):
    """log(1 + s z)/s, z at s = 0."""
    return z if s == 0 else mp.log1p(s * z) / s


def _mp_gev_logpdf(x, loc, scale, s):
    z = (mp.mpf(x) - loc) / scale
    L = _mp_L(z, s)
    return -mp.log(scale) - (1 + s) * L - mp.exp(-L)


def _mp_gpd_logpdf(x, scale, s):
    L = _mp_L((mp.mpf(x) - GPD_LOC) / scale, s)
    return -mp.log(scale) - (1 + s) * L


def _mp_derivatives(fun, point):
    """(value, gradient, Hessian) of fun at point by mpmath's high-precision differences."""
    k = len(point)
    pt = [mp.mpf(v) for v in point]
    unit = [tuple(int(i == j) for j in range(k)) for i in range(k)]
    grad = [mp.diff(fun, pt, unit[i]) for i in range(k)]
    hess = [[mp.diff(fun, pt, tuple(a + b for a, b in zip(unit[i], unit[j], strict=True)))
             for j in range(k)] for i in range(k)]
    return (float(fun(*pt)), np.array([float(g) for g in grad]),
            np.array([[float(h) for h in row] for row in hess]))


def _jax_derivatives(family, names):
    """jitted (v, x) -> (value, gradient, Hessian) of sum_i logpdf(x_i) in the natural
    parameters v: compiled once per family, for every shape tested."""
    def total(v, x):
        return jnp.sum(family.logpdf(x, dict(zip(names, v, strict=True))))

    fun = jax.jit(lambda v, x: (total(v, x), jax.grad(total)(v, x), jax.hessian(total)(v, x)))
    return lambda point, x: tuple(np.asarray(a) for a in fun(jnp.asarray(point, dtype=float),
                                                              jnp.asarray(x, dtype=float)))


GEV_DERIVATIVES = _jax_derivatives(GEV, GEV_NAMES)
GPD_DERIVATIVES = _jax_derivatives(GPD, GPD_NAMES)


# -- shape -> 0: values, gradients and Hessians exact and continuous --------------------------

# shapes at 0, tiny, inside the series branch (|shape z| < 0.1) and on both sides of its edge
SHAPES = (0.0, 1e-12, -1e-12, 1e-6, -0.03, 0.0999999, 0.1000001, -0.0999999, -0.1000001, 0.3)


@pytest.mark.parametrize("shape", SHAPES)
def test_gev_value_gradient_and_hessian_are_exact_through_shape_zero(shape):
    x = np.array([0.0, 1.0, 2.0, -1.0])
    loc, scale = 0.0, 1.0  # z = x, so |shape z| crosses the series' edge 0.1 at x = 1
    ours = GEV_DERIVATIVES((loc, scale, shape), x)
    ref = [_mp_derivatives(lambda a, b, c, xi=xi: _mp_gev_logpdf(xi, a, b, c), (loc, scale, shape))
           for xi in x]
    value = sum(r[0] for r in ref)
    grad = sum(r[1] for r in ref)
    hess = sum(r[2] for r in ref)
    assert ours[0] == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(ours[1], grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[2], hess, rtol=1e-11, atol=1e-11)


def test_gev_at_shape_zero_is_the_gumbel_with_its_derivatives():
    x = np.array([-3.0, 0.2, 1.9, 8.0])  # four points: the shape compiled above

    def gumbel(v):
        z = (jnp.asarray(x) - v[0]) / v[1]
        return jnp.sum(-jnp.log(v[1]) - z - jnp.exp(-z))

    point = jnp.array([0.5, 1.7])
    value, grad, hess = GEV_DERIVATIVES((0.5, 1.7, 0.0), x)
    g_value, g_grad, g_hess = jax.jit(
        lambda v: (gumbel(v), jax.grad(gumbel)(v), jax.hessian(gumbel)(v)))(point)
    assert float(value) == pytest.approx(float(g_value), rel=1e-15)
    np.testing.assert_allclose(grad[:2], g_grad, rtol=1e-14)
    np.testing.assert_allclose(hess[:2, :2], g_hess, rtol=1e-14)
    # the scipy Gumbel agrees too
    dist = stats.gumbel_r(loc=0.5, scale=1.7)
    p = {"loc": jnp.asarray(0.5), "scale": jnp.asarray(1.7), "shape": jnp.asarray(0.0)}
    np.testing.assert_allclose(GEV.logpdf(jnp.asarray(x), p), dist.logpdf(x), rtol=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
def test_gpd_value_gradient_and_hessian_are_exact_through_shape_zero(shape):
    x = GPD_LOC + np.array([0.0, 0.5, 1.0, 3.0])  # scale 1: |shape y| crosses 0.1 at y = 1
    point = (1.0, shape)
    ours = GPD_DERIVATIVES(point, x)
    ref = [_mp_derivatives(lambda b, c, xi=xi: _mp_gpd_logpdf(xi, b, c), point) for xi in x]
    assert ours[0] == pytest.approx(sum(r[0] for r in ref), rel=1e-14)
    np.testing.assert_allclose(ours[1], sum(r[1] for r in ref), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[2], sum(r[2] for r in ref), rtol=1e-11, atol=1e-11)


def test_gpd_at_shape_zero_is_the_exponential():
    y = np.array([0.0, 0.1, 2.0, 40.0])
    p = {"scale": jnp.asarray(2.5), "shape": jnp.asarray(0.0)}
    x = jnp.asarray(GPD_LOC + y)
    np.testing.assert_allclose(GPD.logpdf(x, p), -math.log(2.5) - y / 2.5, rtol=1e-15)
    np.testing.assert_allclose(GPD.logsf(x, p), -y / 2.5, rtol=1e-15)
    # derivatives at shape 0 from log f = -log(scale) - (1 + shape) L, with
    # L = z - shape z^2/2 + shape^2 z^3/3 - ..., z = y/scale
    value, grad, hess = GPD_DERIVATIVES((2.5, 0.0), GPD_LOC + y)
    z, sc = y / 2.5, 2.5
    assert value == pytest.approx(np.sum(-math.log(sc) - z), rel=1e-15)
    np.testing.assert_allclose(grad, [np.sum((z - 1) / sc), np.sum(z * z / 2 - z)], rtol=1e-14)
    exact = [[np.sum((1 - 2 * z) / sc**2), np.sum((z - z * z) / sc)],
             [np.sum((z - z * z) / sc), np.sum(z * z - 2 * z**3 / 3)]]
    np.testing.assert_allclose(hess, exact, rtol=1e-14)


def test_distribution_functions_have_finite_exact_gradients_at_shape_zero():
    # censored-data fits differentiate the log-CDF and log-survival: no NaN from the branches
    def mp_gev_logcdf(x, a, b, c):
        return -mp.exp(-_mp_L((mp.mpf(x) - a) / b, c))

    def mp_gev_logsf(x, a, b, c):
        return mp.log(-mp.expm1(mp_gev_logcdf(x, a, b, c)))

    for x in (-2.0, 0.5, 4.0, 30.0):
        for fun, ref in ((GEV.logcdf, mp_gev_logcdf), (GEV.logsf, mp_gev_logsf)):
            g = jax.grad(lambda v, fun=fun, x=x: fun(jnp.asarray(x), dict(zip(GEV_NAMES, v,
                                                                           strict=True))))
            ours = np.asarray(g(jnp.array([0.0, 1.0, 0.0])))
            exact = _mp_derivatives(lambda a, b, c, x=x, ref=ref: ref(x, a, b, c),
                                    (0.0, 1.0, 0.0))[1]
            np.testing.assert_allclose(ours, exact, rtol=1e-11, atol=1e-300)


# -- far tails against mpmath -------------------------------------------------------------------

def _gev_ref_logcdf(x, s):  # loc 0, scale 1
    return float(-mp.exp(-_mp_L(mp.mpf(x), mp.mpf(s))))


def _gev_ref_logsf(x, s):
    return float(mp.log(-mp.expm1(-mp.exp(-_mp_L(mp.mpf(x), mp.mpf(s))))))


@pytest.mark.parametrize("x, shape", [
    (800.0, 0.0),            # Gumbel far upper tail: exp(-z) underflows, log sf ~ -z
    (40.0, 0.0),
    (1e300, 0.5),            # Frechet: (1 + shape z)^(-1/shape) underflows
    (1e12, 0.05),
    (4.0 - 2.0**-40, -0.25),  # just below the upper end 4: 1 - F ~ 1e-51, F rounds to 1
])
def test_gev_upper_tail_log_survival_matches_mpmath(x, shape):
    p = {"loc": jnp.asarray(0.0), "scale": jnp.asarray(1.0), "shape": jnp.asarray(shape)}
    ours = float(GEV.logsf(jnp.asarray(x), p))
    assert ours == pytest.approx(_gev_ref_logsf(x, shape), rel=1e-12)


@pytest.mark.parametrize("x, shape", [
    (-700.0, 0.0),        # -exp(700): the CDF itself underflows
    (-2.0 + 1e-6, 0.5),   # just above the Frechet lower end -2
    (-8.0, -0.1),
])
def test_gev_lower_tail_log_cdf_matches_mpmath(x, shape):
    p = {"loc": jnp.asarray(0.0), "scale": jnp.asarray(1.0), "shape": jnp.asarray(shape)}
    ours = float(GEV.logcdf(jnp.asarray(x), p))
    assert ours == pytest.approx(_gev_ref_logcdf(x, shape), rel=1e-12)


def test_gev_outside_the_support():
    x = jnp.asarray([-3.0, 5.0])
    frechet = {"loc": jnp.asarray(0.0), "scale": jnp.asarray(1.0), "shape": jnp.asarray(0.5)}
    weibull = {"loc": jnp.asarray(0.0), "scale": jnp.asarray(1.0), "shape": jnp.asarray(-0.5)}
    # Frechet: -3 is below the lower end -2; reversed Weibull: 5 is above the upper end 2
    assert np.asarray(GEV.logpdf(x, frechet))[0] == -np.inf
    assert np.asarray(GEV.logcdf(x, frechet))[0] == -np.inf
    assert np.asarray(GEV.logsf(x, frechet))[0] == 0.0
    assert np.asarray(GEV.logpdf(x, weibull))[1] == -np.inf
    assert np.asarray(GEV.logcdf(x, weibull))[1] == 0.0
    assert np.asarray(GEV.logsf(x, weibull))[1] == -np.inf


def _gpd_ref(y, scale, s):
    """(log F, log S) at excess y by mpmath."""
    log_s = -_mp_L(mp.mpf(y) / scale, mp.mpf(s))
    return float(mp.log(-mp.expm1(log_s))), float(log_s)


@pytest.mark.parametrize("y, shape", [
    (1e-300, 0.3),        # just above the threshold: F ~ y/scale, 1 - S rounds to 0
    (1e-20, 0.0),
    (1e-20, -0.4),
    (1e300, 0.5),         # far upper tail
    (5e3, 0.0),           # exponential: S = exp(-2500) underflows
    (4.0 - 2.0**-40, -0.5),  # just below the upper end scale/|shape| = 4 (all exact in binary)
])
def test_gpd_tails_match_mpmath(y, shape):
    p = {"scale": jnp.asarray(2.0), "shape": jnp.asarray(shape)}
    x = jnp.asarray(GPD_LOC + y)
    y_exact = float(x) - GPD_LOC  # the excess the float x carries
    ref_cdf, ref_sf = _gpd_ref(y_exact, 2, shape)
    assert float(GPD.logcdf(x, p)) == pytest.approx(ref_cdf, rel=1e-12)
    assert float(GPD.logsf(x, p)) == pytest.approx(ref_sf, rel=1e-12)
    # the tiny excesses need loc = 0 to be representable; check them there too
    if y < 1e-10:
        zero = mk.GeneralizedPareto()
        ref_cdf, ref_sf = _gpd_ref(y, 2, shape)
        assert float(zero.logcdf(jnp.asarray(y), p)) == pytest.approx(ref_cdf, rel=1e-12)
        assert float(zero.logsf(jnp.asarray(y), p)) == pytest.approx(ref_sf, rel=1e-12)


def test_gpd_outside_the_support():
    p = {"scale": jnp.asarray(2.0), "shape": jnp.asarray(-0.5)}  # upper end loc + 4
    x = jnp.asarray([GPD_LOC - 1.0, GPD_LOC, GPD_LOC + 5.0])
    np.testing.assert_array_equal(GPD.logpdf(x, p), [-np.inf, -math.log(2.0), -np.inf])
    np.testing.assert_array_equal(GPD.logcdf(x, p), [-np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(GPD.logsf(x, p), [0.0, 0.0, -np.inf])


# -- moments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [0.0, 1e-9, -1e-4, 0.03, -0.0499, 0.0501, -0.2, 0.4])
def test_gev_moments_match_the_gamma_function_formulas(shape):
    p = {"loc": jnp.asarray(1.0), "scale": jnp.asarray(2.0), "shape": jnp.asarray(shape)}
    s = mp.mpf(shape)
    if shape == 0:
        mean, var = 1 + 2 * mp.euler, 4 * mp.pi**2 / 6
    else:
        mean = 1 + 2 * (mp.gamma(1 - s) - 1) / s
        var = 4 * (mp.gamma(1 - 2 * s) - mp.gamma(1 - s) ** 2) / s**2
    assert float(GEV.mean(p)) == pytest.approx(float(mean), rel=1e-13)
    assert float(GEV.variance(p)) == pytest.approx(float(var), rel=1e-12)


def test_moments_diverge_where_they_should():
    gev = {"loc": jnp.asarray(0.0), "scale": jnp.asarray(1.0)}
    assert float(GEV.variance({**gev, "shape": jnp.asarray(0.5)})) == math.inf
    assert math.isfinite(float(GEV.mean({**gev, "shape": jnp.asarray(0.5)})))
    assert float(GEV.mean({**gev, "shape": jnp.asarray(1.0)})) == math.inf
    gpd = {"scale": jnp.asarray(1.0)}
    assert float(GPD.variance({**gpd, "shape": jnp.asarray(0.5)})) == math.inf
    assert float(GPD.mean({**gpd, "shape": jnp.asarray(0.7)})) == pytest.approx(GPD_LOC + 1 / 0.3)
    assert float(GPD.mean({**gpd, "shape": jnp.asarray(1.0)})) == math.inf


def test_samplers_at_shape_zero_draw_the_gumbel_and_exponential():
    rng = np.random.default_rng(11)
    x = GEV.sample({"loc": 1.0, "scale": 2.0, "shape": 0.0}, 4000, rng)
    assert stats.kstest(x, stats.gumbel_r(loc=1.0, scale=2.0).cdf).pvalue > 1e-4
    y = GPD.sample({"scale": 2.0, "shape": 0.0}, 4000, rng)
    assert stats.kstest(y, stats.expon(loc=GPD_LOC, scale=2.0).cdf).pvalue > 1e-4
    w = GEV.sample({"loc": 0.0, "scale": 1.0, "shape": -0.4}, 4000, rng)
    assert w.max() < 2.5  # the upper end loc - scale/shape
    assert stats.kstest(w, stats.genextreme(0.4).cdf).pvalue > 1e-4


# -- fits from the automatic starts ---------------------------------------------------------------

def _scipy_gev_loglik(x):
    c, loc, scale = stats.genextreme.fit(x)
    return float(np.sum(stats.genextreme(c, loc=loc, scale=scale).logpdf(x)))


# reversed Weibull (shape < 0), Gumbel (0) and Frechet (> 0) types, the last two beyond the
# finite variance (0.5) and mean (1)
@pytest.mark.parametrize("shape", [-0.45, -0.2, 0.0, 0.1, 0.3, 0.6, 1.2])
def test_gev_fits_converge_from_the_automatic_start(shape):
    for seed in range(2):
        x = GEV.sample({"loc": 10.0, "scale": 2.0, "shape": shape}, N, seed)
        start = GEV.start(x)
        p0 = {k: jnp.asarray(v) for k, v in start.items()}
        assert np.all(np.isfinite(GEV.logpdf(jnp.asarray(x), p0))), start
        fit = mk.fit(GEV, x)
        assert fit.converged, (shape, seed, fit.message)
        assert abs(fit.params["shape"] - shape) < 4 * fit.se["shape"]
        assert fit.loglik >= _scipy_gev_loglik(x) - 1e-7


def test_gev_start_moves_the_shape_until_the_data_fit():
    # reversed-Weibull data whose estimates would put the upper end below the largest point:
    # the start keeps every observation inside, with room, and the fit converges from it
    rng = np.random.default_rng(21)
    x = np.concatenate([GEV.sample({"loc": 0.0, "scale": 1.0, "shape": -0.45}, N - 1, rng),
                        [4.0]])
    start = GEV.start(x)
    s, loc, scale = (float(start[k]) for k in ("shape", "loc", "scale"))
    assert s == 0.0 or 1 + s * (x.max() - loc) / scale > 0
    p0 = {k: jnp.asarray(v) for k, v in start.items()}
    assert np.all(np.isfinite(GEV.logpdf(jnp.asarray(x), p0)))
    assert mk.fit(GEV, x).converged


@pytest.mark.parametrize("shape", [-0.4, -0.1, 0.0, 0.3, 0.8, 1.5])
def test_gpd_fits_converge_from_the_automatic_start(shape):
    for seed in range(2):
        x = GPD.sample({"scale": 2.0, "shape": shape}, N, seed)
        fit = mk.fit(GPD, x)
        assert fit.converged, (shape, seed, fit.message)
        assert abs(fit.params["shape"] - shape) < 4 * fit.se["shape"]
        c, _, scale = stats.genpareto.fit(x, floc=GPD_LOC)
        theirs = float(np.sum(stats.genpareto(c, loc=GPD_LOC, scale=scale).logpdf(x)))
        assert fit.loglik >= theirs - 1e-7


# -- agreement with R on real data (tests/reference/extremes.R, output in extremes.out) ----------

def _dax_block_maxima(sign):
    """Maxima of sign * 100*diff(log(DAX)) over blocks of 20 trading days (92 blocks)."""
    dax = shared_csv("eustockmarkets.csv")["DAX"].to_numpy(dtype=float)
    r = sign * 100 * np.diff(np.log(dax))
    nb = r.shape[0] // 20
    return r[: 20 * nb].reshape(nb, 20).max(axis=1)


def _danish_excesses():
    loss = shared_csv("danishuni.csv")["Loss"].to_numpy(dtype=float)
    return loss[loss > 10]


# (data, family, R's estimate, R's SEs (numDeriv::hessian), R's loglik); R 4.2.2, numDeriv
# 2016.8-1.1: optim Nelder-Mead then BFGS (reltol = 1e-15) on the evd-form log-likelihood, then
# Newton steps with numDeriv::grad/hessian (gradients <= 1e-7 at the estimates); the exact
# calls are in tests/reference/extremes.R
R_FITS = {
    "dax_losses": (lambda: _dax_block_maxima(-1.0), GEV,
                   (1.31879582574769, 0.607079074397105, 0.226379006177732),
                   (0.071933049866901, 0.0579029665082932, 0.0861863024629503),
                   -111.024793486957),
    "dax_gains": (lambda: _dax_block_maxima(1.0), GEV,
                  (1.46815103894685, 0.664804867272845, 0.0246804337990533),
                  (0.076925903456205, 0.0553636632607501, 0.068963804679991),
                  -108.824637544246),
    "airquality_wind": (lambda: shared_csv("airquality.csv")["Wind"].to_numpy(dtype=float), GEV,
                        (8.56248167843809, 3.28842827724551, -0.177987267768118),
                        (0.292444774576873, 0.202983906943392, 0.048022583320142),
                        -407.6140235888),
    "danish_over_10": (_danish_excesses, mk.GeneralizedPareto(loc=10.0),
                       (6.97546825031466, 0.496985786098445),
                       (1.11349062652193, 0.136283816780745),
                       -374.892991621805),
}


@pytest.mark.parametrize("case", list(R_FITS))
def test_matches_r_on_real_data(case):
    data, family, estimate, se, loglik = R_FITS[case]
    fit = mk.fit(family, data())
    assert fit.converged
    for name, est, err in zip(fit.param_names, estimate, se, strict=True):
        assert fit.params[name] == pytest.approx(est, rel=1e-7, abs=1e-9), name
        assert fit.se[name] == pytest.approx(err, rel=1e-5), name
    assert fit.loglik == pytest.approx(loglik, rel=1e-11)
    assert fit.loglik >= loglik - 1e-9


def test_danish_fit_is_mcneils():
    # McNeil (1997), Danish fire losses over 10 million DKK: shape 0.497, scale 6.98
    fit = mk.fit(mk.GeneralizedPareto(loc=10.0), _danish_excesses())
    assert round(fit.params["shape"], 3) == 0.497 and round(fit.params["scale"], 2) == 6.98


# -- data checks, options, names, docs -----------------------------------------------------------

def test_gpd_data_below_the_threshold_raise_a_data_error_naming_it():
    with pytest.raises(mk.DataError, match=r"x\[1\] = 2.5 is outside the support"):
        mk.fit(GPD, [3.5, 2.5, 4.0, 5.0])


def test_constant_data_raise_a_data_error():
    for family in (GEV, GPD):
        with pytest.raises(mk.FitError, match="all 4 observations equal"):
            mk.fit(family, [4.0, 4.0, 4.0, 4.0], strict=True)


def test_gpd_threshold_option_is_checked_named_and_reachable_by_name():
    with pytest.raises(mk.ModelError, match="finite number"):
        mk.GeneralizedPareto(loc=math.nan)
    assert mk.family("gpd", loc=10) == mk.GeneralizedPareto(loc=10.0)
    assert repr(mk.GeneralizedPareto(loc=10.0)) == "GeneralizedPareto(loc=10.0)"
    assert repr(mk.GeneralizedPareto()) == "GeneralizedPareto()"
    assert mk.family("gev") == GEV
    assert GPD.support.describe() == "x >= 3"


def test_gpd_threshold_is_known_not_estimated():
    x = GPD.sample({"scale": 1.0, "shape": 0.1}, N, 3)
    fit = mk.fit(GPD, x)
    assert fit.param_names == ("scale", "shape") and fit.k == 2
    # the log-likelihood is that of the excesses x - loc under the GPD with loc = 0
    p = {k: jnp.asarray(v) for k, v in fit.params.items()}
    ll0 = float(jnp.sum(mk.GeneralizedPareto().logpdf(jnp.asarray(x - GPD_LOC), p)))
    assert fit.loglik == pytest.approx(ll0, rel=1e-12)


def test_fixed_shape_zero_is_the_gumbel_fit():
    x = GEV.sample({"loc": 3.0, "scale": 1.5, "shape": 0.0}, N, 5)
    fit = mk.fit(GEV, x, fixed={"shape": 0.0})
    loc, scale = stats.gumbel_r.fit(x)
    assert fit.params["loc"] == pytest.approx(loc, rel=1e-6)
    assert fit.params["scale"] == pytest.approx(scale, rel=1e-6)



def test_series_coefficients_are_the_taylor_coefficients():
    # Gamma(1 - s) = exp(sum_k a_k s^k) with a_1 = Euler's gamma, a_k = zeta(k)/k (k >= 2);
    # the exponential of the series by the recurrence b_n = sum_k k a_k b_(n-k) / n
    terms = len(extremes.VAR_SERIES) + 2
    a = [mp.mpf(0), +mp.euler] + [mp.zeta(k) / k for k in range(2, terms + 1)]
    gamma = [mp.mpf(1)]
    for n in range(1, terms + 1):
        gamma.append(sum(k * a[k] * gamma[n - k] for k in range(1, n + 1)) / n)
    for k, c in enumerate(extremes.MEAN_SERIES):  # (Gamma(1 - s) - 1)/s
        assert c == pytest.approx(float(gamma[k + 1]), rel=1e-15)
    square = [sum(gamma[i] * gamma[k - i] for i in range(k + 1)) for k in range(terms + 1)]
    for k, c in enumerate(extremes.VAR_SERIES):  # (Gamma(1 - 2s) - Gamma(1 - s)^2)/s^2
        assert c == pytest.approx(float(gamma[k + 2] * 2 ** (k + 2) - square[k + 2]), rel=1e-13)
