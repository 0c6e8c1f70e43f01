"""The positive families: far tails against mpmath, derivatives of the distribution functions
(censored fits need them), closed forms against their formulas, degenerate data, moments."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import special as sps

import mlekit as mk
from mlekit._families.logspecial import log_beta

N = 500


@pytest.fixture(autouse=True)
def _mpmath_precision():
    """50 digits for the references, restored afterwards (mpmath's precision is global)."""
    with mp.workdps(50):
        yield


def _at(fun, x, **params):
    p = {k: jnp.asarray(float(v)) for k, v in params.items()}
    return np.asarray(fun(jnp.asarray(np.asarray(x, dtype=float)), p))


def _check(ours, exact, rtol=1e-12):
    exact = np.array([float(e) for e in exact])
    assert np.all(np.isfinite(ours)), ours
    np.testing.assert_allclose(ours, exact, rtol=rtol, atol=0)


def _log_pair(lower, upper):
    """(log lower, log upper) of two complementary probabilities, each computed directly by
    mpmath: the one above 1/2 as log1p(-other), so no digits are lost to 1 - tiny."""
    pairs = list(zip(lower, upper, strict=True))
    return ([mp.log(lo) if lo < 0.5 else mp.log1p(-up) for lo, up in pairs],
            [mp.log(up) if up < 0.5 else mp.log1p(-lo) for lo, up in pairs])


def _log1mexp(v):
    """log(1 - exp(v)), v < 0, in mpmath without losing 1 - tiny or tiny - 0."""
    return mp.log(-mp.expm1(v)) if v > -1 else mp.log1p(-mp.exp(v))



# -- far tails against mpmath ----------------------------------------------------------------

@pytest.mark.parametrize("a, b", [(2.5, 3.5), (0.05, 0.3), (300.0, 500.0), (0.5, 40.0)])
def test_beta_tails_match_mpmath(a, b):
    # far below and above the bulk: betainc underflows to 0 (or rounds to 1) there
    mean = a / (a + b)
    xs = np.array([1e-300, 1e-20, mean / 50, mean, 1 - (1 - mean) / 50, 1 - 2.0**-50])
    lcdf = _at(mk.Beta().logcdf, xs, shape1=a, shape2=b)
    lsf = _at(mk.Beta().logsf, xs, shape1=a, shape2=b)
    # the upper tail by the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) (1 - x is exact here)
    exact_cdf, exact_sf = _log_pair(
        [mp.betainc(a, b, 0, mp.mpf(x), regularized=True) for x in xs],
        [mp.betainc(b, a, 0, 1 - mp.mpf(x), regularized=True) for x in xs])
    # large shapes: log B(a, b) and a log x cancel to ~1e-11 relative
    rtol = 1e-10 if a > 100 else 1e-12
    _check(lcdf, exact_cdf, rtol)
    _check(lsf, exact_sf, rtol)


def test_beta_outside_the_unit_interval():
    lcdf = _at(mk.Beta().logcdf, [-1.0, 0.0, 1.0, 2.0], shape1=2.0, shape2=3.0)
    lsf = _at(mk.Beta().logsf, [-1.0, 0.0, 1.0, 2.0], shape1=2.0, shape2=3.0)
    assert lcdf.tolist() == [-math.inf, -math.inf, 0.0, 0.0]
    assert lsf.tolist() == [0.0, 0.0, -math.inf, -math.inf]


def test_log_beta_is_accurate_where_jax_betaln_is_not():
    # jax.scipy.special.betaln is off by ~1e-6 near a = 8 (measured); ours is not
    a, b = np.array([8.0013798, 0.001, 1e5, 3.0]), np.array([2.6257308, 1e4, 3.0, 1e7])
    exact = [mp.log(mp.beta(mp.mpf(x), mp.mpf(y))) for x, y in zip(a, b, strict=True)]
    _check(np.asarray(log_beta(jnp.asarray(a), jnp.asarray(b))), exact, 1e-12)


@pytest.mark.parametrize("mean, shape", [(1.0, 2.0), (1.0, 500.0), (2.0, 0.01)])
def test_inverse_gaussian_tails_match_mpmath(mean, shape):
    # exp(2 shape / mean) = exp(1000) overflows for the second; the third is very skewed
    sd = math.sqrt(mean**3 / shape)
    xs = np.array([mean * 1e-3, max(mean - 3 * sd, mean / 10), mean, mean + 5 * sd,
                   mean + 60 * sd])
    m, lam = mp.mpf(mean), mp.mpf(shape)

    def cdf(x):
        x = mp.mpf(x)
        r = mp.sqrt(lam / x)
        return mp.ncdf(r * (x / m - 1)) + mp.exp(2 * lam / m) * mp.ncdf(-r * (x / m + 1))

    def sf(x):
        x = mp.mpf(x)
        r = mp.sqrt(lam / x)
        return mp.ncdf(-r * (x / m - 1)) - mp.exp(2 * lam / m) * mp.ncdf(-r * (x / m + 1))

    fam = mk.InverseGaussian()
    exact_cdf, exact_sf = _log_pair([cdf(x) for x in xs], [sf(x) for x in xs])
    _check(_at(fam.logcdf, xs, mean=mean, shape=shape), exact_cdf, 1e-11)
    _check(_at(fam.logsf, xs, mean=mean, shape=shape), exact_sf, 1e-11)


def test_rayleigh_tails_match_mpmath():
    xs = np.array([1e-200, 1e-5, 1.0, 50.0, 1e100])
    s = mp.mpf(2.0)
    h = [mp.mpf(x) ** 2 / (2 * s * s) for x in xs]
    _check(_at(mk.Rayleigh().logcdf, xs, scale=2.0), [_log1mexp(-v) for v in h])
    _check(_at(mk.Rayleigh().logsf, xs, scale=2.0), [-v for v in h])


def test_loglogistic_tails_match_mpmath():
    xs = np.array([1e-200, 1e-3, 2.0, 1e3, 1e200])
    k, s = mp.mpf(1.5), mp.mpf(2.0)
    z = [(mp.mpf(x) / s) ** k for x in xs]
    _check(_at(mk.LogLogistic().logcdf, xs, shape=1.5, scale=2.0), [-mp.log1p(1 / v) for v in z])
    _check(_at(mk.LogLogistic().logsf, xs, shape=1.5, scale=2.0), [-mp.log1p(v) for v in z])


def test_loglogistic_log_density_far_out():
    # the hot-path softplus must neither overflow nor lose the tails
    xs = np.array([1e-250, 1e250])
    k, s = mp.mpf(3.0), mp.mpf(2.0)
    exact = [mp.log(k / s * (mp.mpf(x) / s) ** (k - 1) / (1 + (mp.mpf(x) / s) ** k) ** 2)
             for x in xs]
    _check(_at(mk.LogLogistic().logpdf, xs, shape=3.0, scale=2.0), exact)


@pytest.mark.parametrize("a", [0.3, 3.0, 40.0])
def test_inverse_gamma_tails_match_mpmath(a):
    # F(x) = Q(a, scale/x): Q underflows for x -> 0, and P = 1 - F for x -> inf
    xs = np.array([1e-3, 0.05, 1.0, 30.0, 1e250])
    s = mp.mpf(2.0)
    fam = mk.InverseGamma()
    exact_sf, exact_cdf = _log_pair(
        [mp.gammainc(a, 0, s / mp.mpf(x), regularized=True) for x in xs],
        [mp.gammainc(a, s / mp.mpf(x), mp.inf, regularized=True) for x in xs])
    _check(_at(fam.logcdf, xs, shape=a, scale=2.0), exact_cdf)
    _check(_at(fam.logsf, xs, shape=a, scale=2.0), exact_sf)


def test_frechet_tails_match_mpmath():
    xs = np.array([1e-3, 0.5, 3.0, 1e3, 1e200])
    k, s = mp.mpf(2.5), mp.mpf(3.0)
    h = [(mp.mpf(x) / s) ** -k for x in xs]
    _check(_at(mk.Frechet().logcdf, xs, shape=2.5, scale=3.0), [-v for v in h])
    _check(_at(mk.Frechet().logsf, xs, shape=2.5, scale=3.0), [_log1mexp(-v) for v in h])


# -- derivatives of the distribution functions (censored fits) --------------------------------

def test_beta_log_cdf_derivatives_match_mpmath():
    def ours(v):
        return mk.Beta().logcdf(jnp.asarray(0.3), {"shape1": v[0], "shape2": v[1]})

    v = jnp.array([2.5, 3.5])
    grad, hess = (np.asarray(d) for d in jax.jit(
        lambda v: (jax.grad(ours)(v), jax.hessian(ours)(v)))(v))

    def exact(a, b):
        return mp.log(mp.betainc(a, b, 0, mp.mpf(0.3), regularized=True))

    ref_grad = [mp.diff(lambda a: exact(a, 3.5), 2.5), mp.diff(lambda b: exact(2.5, b), 3.5)]
    ref_hess = [mp.diff(exact, (2.5, 3.5), (2, 0)), mp.diff(exact, (2.5, 3.5), (1, 1))]
    _check(grad, ref_grad, 1e-10)
    _check([hess[0, 0], hess[0, 1]], ref_hess, 1e-9)


def test_inverse_gamma_log_survival_second_derivative_in_shape():
    # jax's gammainc has no second derivative in its first argument; ours does
    def ours(a):
        return mk.InverseGamma().logsf(jnp.asarray(0.7), {"shape": a, "scale": jnp.asarray(2.0)})

    def exact(a):
        return mp.log(mp.gammainc(a, 0, mp.mpf(2.0) / mp.mpf(0.7), regularized=True))

    # reverse over reverse: the partials are differentiable in every mode too
    _check(jax.jit(lambda a: [jax.grad(ours)(a), jax.grad(jax.grad(ours))(a)])(2.5),
           [mp.diff(exact, 2.5), mp.diff(exact, 2.5, 2)], 1e-10)


@pytest.mark.parametrize("family, params", [
    (mk.Beta(), {"shape1": 2.0, "shape2": 3.0}),
    (mk.InverseGaussian(), {"mean": 2.0, "shape": 3.0}),
    (mk.Rayleigh(), {"scale": 2.0}),
    (mk.LogLogistic(), {"shape": 3.0, "scale": 2.0}),
    (mk.InverseGamma(), {"shape": 3.0, "scale": 2.0}),
    (mk.Frechet(), {"shape": 2.5, "scale": 3.0}),
], ids=lambda v: getattr(v, "name", ""))
def test_censored_log_likelihood_has_finite_hessian(family, params):
    # what a censored fit differentiates: log-CDF and log-survival summed over the data, in
    # log-parameters, by reverse mode then forward mode, compiled
    x = jnp.asarray(family.sample(params, 64, np.random.default_rng(0)))
    names = list(params)

    def ll(u):
        p = {n: jnp.exp(u[i]) for i, n in enumerate(names)}
        return jnp.sum(family.logcdf(x[:32], p)) + jnp.sum(family.logsf(x[32:], p))

    u = jnp.log(jnp.array([params[n] for n in names]))
    h = np.asarray(jax.jit(jax.hessian(ll))(u))
    assert np.all(np.isfinite(h)) and np.all(np.linalg.eigvalsh(h) < 0)


# -- closed forms ----------------------------------------------------------------------------

def test_inverse_gaussian_closed_form():
    x = np.random.default_rng(1).wald(2.0, 3.0, N)
    fit = mk.fit(mk.InverseGaussian(), x)
    assert fit.message.startswith("closed form") and fit.iterations == 0
    assert fit.params["mean"] == pytest.approx(x.mean(), rel=1e-14)
    assert 1 / fit.params["shape"] == pytest.approx(np.mean(1 / x - 1 / x.mean()), rel=1e-10)
    # Fisher information: n shape / mean^3 and n / (2 shape^2)
    m, lam = fit.params["mean"], fit.params["shape"]
    assert fit.se["mean"] == pytest.approx(math.sqrt(m**3 / (lam * N)), rel=1e-8)
    assert fit.se["shape"] == pytest.approx(lam * math.sqrt(2 / N), rel=1e-8)
    fixed_mean = mk.fit(mk.InverseGaussian(), x, fixed={"mean": 1.5})
    quad = np.mean((x - 1.5) ** 2 / (1.5**2 * x))
    assert 1 / fixed_mean.params["shape"] == pytest.approx(quad, rel=1e-10)
    fixed_shape = mk.fit(mk.InverseGaussian(), x, fixed={"shape": 1.0})
    assert fixed_shape.params["mean"] == pytest.approx(x.mean(), rel=1e-12)


def test_inverse_gaussian_nearly_constant_data_keep_their_digits():
    # mean(1/x) - 1/mean(x) would cancel to nothing at a relative spread of 1e-7
    x = 1000.0 * (1 + 1e-7 * np.random.default_rng(7).standard_normal(N))
    fit = mk.fit(mk.InverseGaussian(), x)
    m = x.mean()
    assert fit.converged and fit.iterations == 0
    assert fit.params["shape"] == pytest.approx(1 / np.mean((x - m) ** 2 / (x * m * m)),
                                                rel=1e-9)


def test_rayleigh_closed_form():
    x = np.random.default_rng(2).rayleigh(2.0, N)
    fit = mk.fit(mk.Rayleigh(), x)
    scale = math.sqrt(np.sum(x**2) / (2 * N))
    assert fit.iterations == 0 and fit.params["scale"] == pytest.approx(scale, rel=1e-14)
    assert fit.se["scale"] == pytest.approx(scale / (2 * math.sqrt(N)), rel=1e-8)
    assert mk.fit(mk.Rayleigh(), [3.0]).params["scale"] == pytest.approx(3 / math.sqrt(2))


def test_inverse_gamma_is_the_gamma_on_reciprocals():
    x = 2.0 / np.random.default_rng(3).gamma(3.0, 1.0, N)
    fit = mk.fit(mk.InverseGamma(), x)
    gamma = mk.fit(mk.Gamma(), 1 / x)
    assert fit.iterations == 0
    assert fit.params["shape"] == pytest.approx(gamma.params["shape"], rel=1e-12)
    assert fit.params["scale"] == pytest.approx(gamma.params["rate"], rel=1e-12)
    # profile given the shape: scale = shape / mean(1/x)
    fixed = mk.fit(mk.InverseGamma(), x, fixed={"shape": 2.0})
    assert fixed.params["scale"] == pytest.approx(2.0 / np.mean(1 / x), rel=1e-14)
    # given the scale: digamma(shape) = log(scale) - mean(log x)
    fixed = mk.fit(mk.InverseGamma(), x, fixed={"scale": 1.5})
    assert sps.digamma(fixed.params["shape"]) == pytest.approx(
        math.log(1.5) - np.mean(np.log(x)), rel=1e-12)


def test_beta_solves_the_digamma_equations():
    x = np.random.default_rng(4).beta(0.4, 2.5, N)
    fit = mk.fit(mk.Beta(), x)
    a, b = fit.params["shape1"], fit.params["shape2"]
    assert fit.converged and fit.iterations == 0  # the closed form is the MLE already
    assert sps.digamma(a) - sps.digamma(a + b) == pytest.approx(np.mean(np.log(x)), rel=1e-12)
    assert sps.digamma(b) - sps.digamma(a + b) == pytest.approx(np.mean(np.log1p(-x)),
                                                                rel=1e-12)
    fixed = mk.fit(mk.Beta(), x, fixed={"shape1": 0.5})
    b = fixed.params["shape2"]
    assert sps.digamma(b) - sps.digamma(0.5 + b) == pytest.approx(np.mean(np.log1p(-x)),
                                                                  rel=1e-12)


def test_frechet_is_the_weibull_on_reciprocals():
    x = 3.0 * np.random.default_rng(5).standard_exponential(N) ** (-1 / 2.5)
    fit = mk.fit(mk.Frechet(), x)
    weibull = mk.fit(mk.Weibull(), 1 / x)
    assert fit.params["shape"] == pytest.approx(weibull.params["shape"], rel=1e-8)
    assert fit.params["scale"] == pytest.approx(1 / weibull.params["scale"], rel=1e-8)


def test_loglogistic_start_is_near_the_mle():
    x = 2.0 * np.exp(np.random.default_rng(6).logistic(0.0, 1.0, N) / 3.0)
    start = mk.LogLogistic().start(x)
    fit = mk.fit(mk.LogLogistic(), x)
    assert fit.converged and fit.iterations <= 6
    for name in ("shape", "scale"):
        assert abs(float(start[name]) - fit.params[name]) < 4 * fit.se[name]


# -- degenerate data -------------------------------------------------------------------------

@pytest.mark.parametrize("family", [mk.Beta(), mk.InverseGaussian(), mk.LogLogistic(),
                                    mk.InverseGamma(), mk.Frechet()], ids=lambda f: f.name)
def test_all_equal_data_has_no_mle(family):
    with pytest.raises(mk.FitError, match="all 5 observations equal 0.5.*no maximum"):
        mk.fit(family, [0.5] * 5, strict=True)


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_beta_rejects_the_ends_of_the_interval(value):
    with pytest.raises(mk.DataError, match=rf"x\[2\] = {value!r} is outside the support of beta"):
        mk.fit(mk.Beta(), [0.2, 0.4, value, 0.6])


@pytest.mark.parametrize("family", [mk.Rayleigh(), mk.InverseGaussian(), mk.Frechet()],
                         ids=lambda f: f.name)
def test_positive_families_reject_zero_and_negatives(family):
    for value in (0.0, -1.0):
        with pytest.raises(mk.DataError, match=rf"x\[1\] = {value!r} is outside the support"):
            mk.fit(family, [1.0, value, 2.0])


# -- moments ---------------------------------------------------------------------------------

def _moment(fun, **params):
    return float(fun({k: jnp.asarray(v) for k, v in params.items()}))


def test_moments_diverge_where_they_should():
    # scipy's invweibull says mean 1.74 at shape 0.46 and variance -11.2 at shape 1.5
    frechet = mk.Frechet()
    assert _moment(frechet.mean, shape=0.46, scale=1.0) == math.inf
    assert _moment(frechet.variance, shape=1.5, scale=1.0) == math.inf
    assert _moment(frechet.mean, shape=1.5, scale=1.0) == pytest.approx(
        math.gamma(1 - 1 / 1.5))
    for fam in (mk.LogLogistic(), mk.InverseGamma()):
        assert _moment(fam.mean, shape=1.0, scale=1.0) == math.inf
        assert _moment(fam.variance, shape=2.0, scale=1.0) == math.inf
        assert math.isfinite(_moment(fam.variance, shape=2.5, scale=1.0))


def test_moment_gradients_are_finite_at_divergent_shapes():
    # the double where: the discarded branch must not poison the gradient with NaN
    g = jax.grad(lambda k: mk.Frechet().variance({"shape": k, "scale": jnp.asarray(1.0)}))
    assert float(g(1.5)) == 0.0 and math.isfinite(float(g(3.0)))
