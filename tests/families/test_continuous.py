"""The classic continuous families: far-tail distribution functions against mpmath (where the
naive formulas underflow or cancel), moments at the edges of the parameter space, gradients,
samplers. The closed-form MLEs are checked in tests/test_scipy_agreement.py."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import mlekit as mk

mp.mp.dps = 50


def _p(**kw):
    return {k: jnp.asarray(float(v)) for k, v in kw.items()}


def _at(fun, x, params):
    return float(fun(jnp.asarray(float(x)), params))


def _log_complement(tail):
    """log(1 - tail) in high precision (mp.log1p keeps a tiny tail)."""
    return float(mp.log1p(-tail))


# -- normal and log-normal --------------------------------------------------------------------

@pytest.mark.parametrize("z", [-40.0, -1e3, -1e10, -5.0, 0.5, 10.0, 40.0])
def test_normal_log_cdf_and_survival_in_both_tails(z):
    p = _p(mean=1.0, sd=2.0)
    x = 1.0 + 2.0 * z
    cdf = mp.ncdf(z)
    assert _at(mk.Normal().logcdf, x, p) == pytest.approx(float(mp.log(cdf)), rel=1e-13)
    assert _at(mk.Normal().logsf, x, p) == pytest.approx(float(mp.log(mp.ncdf(-z))), rel=1e-13)


def test_lognormal_tails_at_extreme_points():
    p = _p(meanlog=0.5, sdlog=0.8)
    for x in (1e-300, 1e-20, 1e20, 1e300):
        z = (mp.log(x) - mp.mpf(0.5)) / mp.mpf(0.8)
        assert _at(mk.LogNormal().logcdf, x, p) == pytest.approx(float(mp.log(mp.ncdf(z))),
                                                                 rel=1e-12)
        assert _at(mk.LogNormal().logsf, x, p) == pytest.approx(float(mp.log(mp.ncdf(-z))),
                                                                rel=1e-12)
    # outside the support: no mass below 0
    assert _at(mk.LogNormal().logcdf, 0.0, p) == -math.inf
    assert _at(mk.LogNormal().logsf, -1.0, p) == 0.0


def test_lognormal_moments():
    p = _p(meanlog=0.3, sdlog=1e-5)  # variance by expm1: sdlog^2 = 1e-10 is not lost
    m = mp.exp(mp.mpf(0.3) + mp.mpf(1e-5) ** 2 / 2)
    v = mp.expm1(mp.mpf(1e-5) ** 2) * mp.exp(2 * mp.mpf(0.3) + mp.mpf(1e-5) ** 2)
    assert float(mk.LogNormal().mean(p)) == pytest.approx(float(m), rel=1e-14)
    assert float(mk.LogNormal().variance(p)) == pytest.approx(float(v), rel=1e-12)


# -- exponential and Weibull ------------------------------------------------------------------

def test_exponential_log_cdf_near_zero():
    p = _p(rate=2.0)
    for x in (1e-20, 1e-200, 1e-300):  # 1 - exp(-2x) rounds to 0 for all of them
        exact = float(mp.log(-mp.expm1(-2 * mp.mpf(x))))
        assert _at(mk.Exponential().logcdf, x, p) == pytest.approx(exact, rel=1e-13)
    assert _at(mk.Exponential().logsf, 1e6, p) == -2e6
    # far above: log(1 - e^-40) = -e^-40 (not 0)
    assert _at(mk.Exponential().logcdf, 20.0, p) == pytest.approx(-math.exp(-40.0), rel=1e-13)
    assert _at(mk.Exponential().logcdf, 0.0, p) == -math.inf
    assert _at(mk.Exponential().logsf, 0.0, p) == 0.0


@pytest.mark.parametrize("x", [1e-200, 1e-5, 0.7, 3.0, 50.0, 1e5])
def test_weibull_tails_against_mpmath(x):
    k, lam = 5.0, 2.0
    p = _p(shape=k, scale=lam)
    h = (mp.mpf(x) / lam) ** k  # cumulative hazard: underflows in doubles at x = 1e-200
    assert _at(mk.Weibull().logsf, x, p) == pytest.approx(float(-h), rel=1e-13)
    assert _at(mk.Weibull().logcdf, x, p) == pytest.approx(float(mp.log(-mp.expm1(-h))),
                                                           rel=1e-13)


def test_weibull_variance_at_large_shape():
    # Gamma(1 + 2/k) - Gamma(1 + 1/k)^2 cancels for large k; the expm1 form does not
    k, lam = 300.0, 2.0
    g1, g2 = mp.gamma(1 + 1 / mp.mpf(k)), mp.gamma(1 + 2 / mp.mpf(k))
    p = _p(shape=k, scale=lam)
    assert float(mk.Weibull().variance(p)) == pytest.approx(float(lam**2 * (g2 - g1**2)),
                                                            rel=1e-11)
    assert float(mk.Weibull().mean(p)) == pytest.approx(float(lam * g1), rel=1e-14)


# -- gamma -------------------------------------------------------------------------------------

def _gamma_reference(a, x):
    p = mp.gammainc(a, 0, x, regularized=True)
    q = mp.gammainc(a, x, mp.inf, regularized=True)
    return (float(mp.log(p)) if p < 0.5 else _log_complement(q),
            float(mp.log(q)) if q < 0.5 else _log_complement(p))


@pytest.mark.parametrize(("shape", "x"), [
    (3.0, 2000.0),  # Q = e^-2000 ...: underflows
    (3.0, 1e-300),  # P ~ x^3 / 6: underflows
    (3.0, 40.0), (3.0, 0.01), (3.0, 1e-21), (0.3, 1e-19), (0.3, 1e-200), (0.3, 800.0),
    (0.3, 0.5), (50.0, 3.0),
    (50.0, 400.0), (400.0, 30.0), (1e4, 1.2e4),
])
def test_gamma_tails_against_mpmath(shape, x):
    p = _p(shape=shape, rate=1.0)
    lower, upper = _gamma_reference(mp.mpf(shape), mp.mpf(x))
    assert _at(mk.Gamma().logcdf, x, p) == pytest.approx(lower, rel=1e-10)
    assert _at(mk.Gamma().logsf, x, p) == pytest.approx(upper, rel=1e-10)


@pytest.mark.parametrize(("x", "which"), [(40.0, 1), (1e-300, 0), (2.0, 0)])
def test_gamma_distribution_functions_have_second_derivatives_in_shape(x, which):
    # jax's own gammainc has no second derivative in the shape; a censored Newton fit needs it
    def ours(a):
        p = {"shape": a, "rate": jnp.asarray(1.0)}
        return (mk.Gamma().logcdf if which == 0 else mk.Gamma().logsf)(jnp.asarray(x), p)

    def exact(a):
        lo, hi = (0, x) if which == 0 else (x, mp.inf)
        return mp.log(mp.gammainc(a, lo, hi, regularized=True))

    a = mp.mpf(3.0)
    assert float(jax.grad(ours)(3.0)) == pytest.approx(float(mp.diff(exact, a)), rel=1e-9)
    assert float(jax.hessian(ours)(3.0)) == pytest.approx(float(mp.diff(exact, a, 2)), rel=1e-8)


def test_gamma_rate_scales_the_argument():
    p = _p(shape=2.5, rate=4.0)
    lower, upper = _gamma_reference(mp.mpf(2.5), mp.mpf(4.0) * 300)
    assert _at(mk.Gamma().logsf, 300.0, p) == pytest.approx(upper, rel=1e-12)
    assert _at(mk.Gamma().logcdf, 300.0, p) == pytest.approx(lower, rel=1e-10)
    assert _at(mk.Gamma().logcdf, 0.0, p) == -math.inf
    assert _at(mk.Gamma().logsf, -2.0, p) == 0.0


# -- Student t ---------------------------------------------------------------------------------

def _t_tail(t, df):
    """P(T <= -|t|) in high precision."""
    t, df = mp.mpf(abs(t)), mp.mpf(df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2


@pytest.mark.parametrize(("t", "df"), [
    (1e80, 3.0),  # the tail ~ t^-3 = 1e-240 ... and far below the smallest double at 1e300
    (1e300, 3.0), (1e10, 30.0), (40.0, 30.0), (3.0, 0.3), (1e-3, 5.0), (2.0, 1e4), (60.0, 1e4),
    (-1e80, 3.0), (-5.0, 2.0),
])
def test_student_t_tails_against_mpmath(t, df):
    p = _p(location=0.0, scale=1.0, df=df)
    tail = _t_tail(t, df)
    small, big = float(mp.log(tail)), _log_complement(tail)
    cdf, sf = (big, small) if t > 0 else (small, big)
    assert _at(mk.StudentT().logsf, t, p) == pytest.approx(sf, rel=1e-11)
    assert _at(mk.StudentT().logcdf, t, p) == pytest.approx(cdf, rel=1e-11)


def test_student_t_is_smooth_through_its_centre():
    p = _p(location=2.0, scale=3.0, df=4.0)
    assert _at(mk.StudentT().logcdf, 2.0, p) == math.log(0.5)
    assert _at(mk.StudentT().logsf, 2.0, p) == math.log(0.5)
    # d/dx log F at the centre = f(centre) / F = 2 f(centre)
    grad = jax.grad(lambda x: mk.StudentT().logcdf(x, p))(2.0)
    f0 = math.exp(float(mk.StudentT().logpdf(jnp.asarray(2.0), p)))
    assert float(grad) == pytest.approx(2 * f0, rel=1e-12)
    for x in (2.0 + 1e-9, 2.0 + 1e-7):
        exact = float(mp.log(1 - _t_tail((x - 2.0) / 3.0, 4.0)))
        assert _at(mk.StudentT().logcdf, x, p) == pytest.approx(exact, rel=1e-14)


def test_student_t_moments_where_they_do_not_exist():
    t = mk.StudentT()
    assert math.isnan(float(t.mean(_p(location=1.0, scale=1.0, df=1.0))))
    assert float(t.mean(_p(location=1.0, scale=1.0, df=1.5))) == 1.0
    assert math.isinf(float(t.variance(_p(location=0.0, scale=1.0, df=2.0))))
    assert math.isnan(float(t.variance(_p(location=0.0, scale=1.0, df=0.8))))
    assert float(t.variance(_p(location=0.0, scale=2.0, df=4.0))) == 8.0


# -- derivatives (censored fits will differentiate these) --------------------------------------

FAR = {  # family, params, points from below the support through both far tails
    "normal": (mk.Normal(), _p(mean=0.0, sd=1.0), [-1e3, -40.0, 0.0, 40.0, 1e3]),
    "lognormal": (mk.LogNormal(), _p(meanlog=0.0, sdlog=1.0), [-1.0, 0.0, 1e-300, 1.0, 1e300]),
    "exponential": (mk.Exponential(), _p(rate=2.0), [-1.0, 0.0, 1e-300, 1.0, 1e3]),
    "gamma": (mk.Gamma(), _p(shape=3.0, rate=1.0), [-1.0, 0.0, 1e-300, 3.0, 2000.0]),
    "weibull": (mk.Weibull(), _p(shape=5.0, scale=2.0), [-1.0, 0.0, 1e-200, 2.0, 50.0]),
    "student_t": (mk.StudentT(), _p(location=0.0, scale=1.0, df=3.0),
                  [-1e300, -1e80, 0.0, 1e-9, 1e80]),
}


@pytest.mark.parametrize("name", list(FAR))
def test_derivatives_of_the_distribution_functions_are_finite(name):
    # first and second derivatives in the parameters, as a Newton fit of censored data needs
    family, params, points = FAR[name]
    x = jnp.asarray(points)
    for fun in (family.logcdf, family.logsf):
        def total(p, f=fun):
            v = f(x, p)
            return jnp.sum(jnp.where(jnp.isfinite(v), v, 0.0))

        for d in (jax.grad(total)(params), jax.hessian(total)(params)):
            for k, g in jax.tree_util.tree_leaves_with_path(d):
                assert np.all(np.isfinite(np.asarray(g))), (name, fun.__name__, k, g)


def test_student_t_log_survival_is_differentiable_in_df():
    # d/d(df) log P(T > 3) by autodiff equals the derivative of mpmath's function
    p = _p(location=0.0, scale=1.0, df=5.0)
    grad = jax.grad(lambda q: mk.StudentT().logsf(jnp.asarray(3.0), q))(p)["df"]
    exact = mp.diff(lambda d: mp.log(_t_tail(3.0, d)), mp.mpf(5.0))
    assert float(grad) == pytest.approx(float(exact), rel=1e-10)


# -- samplers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("family", [mk.Normal(), mk.LogNormal(), mk.Exponential(), mk.Gamma(),
                                    mk.Weibull(), mk.StudentT()], ids=lambda f: f.name)
def test_samplers_take_seeds_and_jax_parameters(family):
    params = {k: jnp.asarray(1.5) for k in family.PARAMS}
    a = family.sample(params, 5, rng=7)
    b = family.sample({k: 1.5 for k in family.PARAMS}, 5, rng=np.random.default_rng(7))
    assert isinstance(a, np.ndarray) and a.shape == (5,) and a.dtype == float
    np.testing.assert_array_equal(a, b)
