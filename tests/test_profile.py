"""Profile-likelihood intervals: exact closed-form profiles, bbmle on groundbeef, invariance under
reparametrization, open ends, vector-parameter elements and transforms."""

import math
from statistics import NormalDist

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import digamma, gammaln
from scipy.stats import chi2

import mlekit as mk
from mlekit._inference.profile import Element, profile_interval, profile_loglik

INF = math.inf
POSITIVE = (0.0, INF)


def interval(fit, g, level=0.95, bounds=POSITIVE, **kw):
    """The profile interval of g through the fit's context, centred on g(theta-hat)."""
    est = fit.transform(g)
    return profile_interval(fit._context, g, level, est.value, est.se, bounds, **kw)


def crossings(loglik_p, estimate, lo, hi, level=0.95, xtol=1e-14):
    """Both roots of 2 (l_p(estimate) - l_p(psi)) = chi2_1(level) in (lo, estimate), (estimate,
    hi), by scipy's brentq."""
    q = chi2.ppf(level, 1)

    def f(psi):
        return 2.0 * (loglik_p(estimate) - loglik_p(psi)) - q

    return (brentq(f, lo, estimate, xtol=xtol, rtol=1e-15),
            brentq(f, estimate, hi, xtol=xtol, rtol=1e-15))


def assert_rel(actual, expected, rtol):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol, atol=0)


# -- closed-form profiles of the gamma on groundbeef -------------------------------------------

class GammaProfiles:
    """The gamma's profiles in closed form (up to 1-D root finding): rate-hat(a) = a / mean(x);
    shape-hat(b) solves digamma(a) = log b + mean(log x); for the mean m, the shape solves
    log(a / m) + 1 - digamma(a) + mean(log x) - mean(x) / m = 0."""

    def __init__(self, x):
        self.n, self.xbar, self.mlog = x.size, x.mean(), np.log(x).mean()

    def loglik(self, a, b):
        return self.n * (a * math.log(b) - gammaln(a) + (a - 1) * self.mlog - b * self.xbar)

    def shape(self, a):
        return self.loglik(a, a / self.xbar)

    def rate(self, b):
        a = brentq(lambda a: digamma(a) - math.log(b) - self.mlog, 1e-3, 1e3, xtol=1e-15)
        return self.loglik(a, b)

    def mean(self, m):
        a = brentq(lambda a: math.log(a / m) + 1 - digamma(a) + self.mlog - self.xbar / m,
                   1e-3, 1e3, xtol=1e-15)
        return self.loglik(a, a / m)


@pytest.fixture(scope="module")
def gamma_fit(groundbeef):
    return mk.fit(mk.Gamma(), groundbeef)


@pytest.fixture(scope="module")
def exp_fit(groundbeef):
    return mk.fit(mk.Exponential(), groundbeef)


@pytest.mark.parametrize("name", ["shape", "rate"])
def test_gamma_matches_the_exact_profile(gamma_fit, groundbeef, name):
    exact = GammaProfiles(groundbeef)
    est = gamma_fit.params[name]
    ends = crossings(getattr(exact, name), est, 0.2 * est, 5 * est)
    ci = interval(gamma_fit, Element(name))
    assert_rel(ci, ends, 1e-7)  # measured: ~1e-14
    assert ci.method == "profile" and ci.note == "" and not (ci.lower_open or ci.upper_open)


def test_profile_loglik_is_the_exact_profile(gamma_fit, groundbeef):
    exact = GammaProfiles(groundbeef)
    psis = np.array([2.5, 3.5, 4.0, 4.5, 6.0, -1.0])
    got = profile_loglik(gamma_fit._context, Element("shape"), psis)
    np.testing.assert_allclose(got[:-1], [exact.shape(a) for a in psis[:-1]], rtol=1e-12)
    assert np.isnan(got[-1])  # outside the shape's range: no constrained maximum
    at_estimate = profile_loglik(gamma_fit._context, Element("shape"),
                                 [gamma_fit.params["shape"]])
    assert at_estimate[0] == pytest.approx(gamma_fit.loglik, rel=1e-14)


def test_exponential_matches_the_exact_profile(exp_fit, groundbeef):
    """One free parameter: no other parameter to maximize over, l(r) = n log r - r sum(x)."""
    n, total = groundbeef.size, groundbeef.sum()
    est = exp_fit.params["rate"]
    ends = crossings(lambda r: n * math.log(r) - r * total, est, 0.2 * est, 5 * est, xtol=1e-16)
    for level in (0.95, 0.99):
        ends = crossings(lambda r: n * math.log(r) - r * total, est, 0.2 * est, 5 * est,
                         level=level, xtol=1e-16)
        assert_rel(interval(exp_fit, Element("rate"), level), ends, 1e-7)  # measured: ~1e-15


@pytest.mark.parametrize("name", ["shape", "scale"])
def test_weibull_ends_are_where_the_fit_with_the_parameter_fixed_crosses(groundbeef, name):
    """No closed form: l_p at the ends, from mk.fit(..., fixed={name: end}), is chi2 / 2 below
    the maximum."""
    fit = mk.fit(mk.Weibull(), groundbeef)
    for end in interval(fit, Element(name)):
        held = mk.fit(mk.Weibull(), groundbeef, fixed={name: end})
        assert 2 * (fit.loglik - held.loglik) == pytest.approx(chi2.ppf(0.95, 1), abs=1e-9)


# -- bbmle ---------------------------------------------------------------------------------------

#: confint(profile(mle2(nll, ...))) on fitdistrplus::groundbeef$serving, R 4.2.2 Patched
#: (2022-11-10 r83330), bbmle 1.0.25: tests/reference/profile_bbmle.R, output in
#: profile_bbmle.out. bbmle interpolates a spline through profile points, good to ~2e-5.
BBMLE = {
    ("gamma", "shape", 0.95): (3.37640540024, 4.71777948909),
    ("gamma", "rate", 0.95): (0.0452876075942, 0.0646917180678),
    ("gamma", "shape", 0.90): (3.47297103924, 4.59842506848),
    ("gamma", "rate", 0.90): (0.0466839911684, 0.0629646753767),
    ("exponential", "rate", 0.95): (0.011976514333, 0.01531767098),
    ("exponential", "rate", 0.90): (0.0122249726488, 0.0150286778467),
}


@pytest.mark.parametrize(("family", "name", "level"), list(BBMLE))
def test_matches_bbmle(gamma_fit, exp_fit, family, name, level):
    fit = gamma_fit if family == "gamma" else exp_fit
    assert_rel(interval(fit, Element(name), level), BBMLE[family, name, level], 1e-4)


# -- invariance ----------------------------------------------------------------------------------

def test_invariant_to_reparametrization_unlike_wald(exp_fit, groundbeef):
    def logpdf(x, p):
        return p["log_rate"] - jnp.exp(p["log_rate"]) * x

    user = mk.fit(mk.Model(logpdf, params={"log_rate": mk.Real(init=0.0)}), groundbeef)
    by_log = interval(user, lambda p: jnp.exp(p["log_rate"]))
    by_rate = interval(exp_fit, Element("rate"))
    assert_rel(by_log, by_rate, 1e-7)
    mean = interval(exp_fit, lambda p: 1 / p["rate"])
    assert_rel(mean, (1 / by_rate[1], 1 / by_rate[0]), 1e-7)
    # Wald intervals move with the scale: rate vs exp(log rate), 1 / rate vs the mean
    wald_rate = exp_fit.conf_int()["rate"]
    wald_log = np.exp(user.conf_int()["log_rate"])
    assert np.max(np.abs(np.subtract(wald_log, wald_rate)) / wald_rate) > 1e-3
    est = exp_fit.transform(lambda p: 1 / p["rate"])
    z = NormalDist().inv_cdf(0.975)
    wald_mean = np.array([est.value - z * est.se, est.value + z * est.se])
    assert np.max(np.abs(wald_mean - (1 / wald_rate[1], 1 / wald_rate[0])) / wald_mean) > 1e-3


# -- open ends -----------------------------------------------------------------------------------

def test_student_t_df_on_normal_data_has_no_upper_end():
    z = np.random.default_rng(1).normal(size=50)
    fit = mk.fit(mk.StudentT(), z)
    assert fit.converged
    ci = interval(fit, Element("df"), name="df")
    assert ci.upper_open and ci.upper == INF and not ci.lower_open
    assert 0 < ci.lower < fit.params["df"]
    assert "no upper end point" in ci.note and "df" in ci.note
    assert not np.any(np.isnan(ci))
    # the other parameters' profiles are bounded on both sides
    loc = interval(fit, Element("location"), bounds=(-INF, INF))
    assert np.all(np.isfinite(loc)) and loc.note == ""


def test_open_lower_side_returns_the_bound():
    """A likelihood that flattens as theta -> 0: one observation from N(0, theta^2 + 1) leaves
    every theta near 0 within 1.92 of the maximum."""
    def logpdf(x, p):
        var = p["theta"] ** 2 + 1.0
        return -0.5 * (jnp.log(2 * jnp.pi * var) + x**2 / var)

    fit = mk.fit(mk.Model(logpdf, params={"theta": mk.Positive(init=1.0)}), [2.0])
    ci = interval(fit, Element("theta"), name="theta")
    assert ci.lower == 0.0 and ci.lower_open and not ci.upper_open
    assert "no lower end point" in ci.note and "theta -> 0" in ci.note
    # the upper end solves 2 (l(theta-hat) - l(theta)) = chi2 exactly
    def loglik(t):
        return float(logpdf(2.0, {"theta": t}))

    est = fit.params["theta"]
    q = chi2.ppf(0.95, 1)
    upper = brentq(lambda t: 2 * (loglik(est) - loglik(t)) - q, est, 1e3, xtol=1e-14)
    assert_rel(ci.upper, upper, 1e-7)


def test_a_higher_point_on_the_profile_is_reported():
    """Cauchy location with the scale fixed: a start at -1.5 finds the local maximum near -1.3;
    walking the profile passes the higher one near 1.5, within 1.92 of it."""
    x = np.array([-1.5, 1.5, 1.6])
    fit = mk.fit(mk.Cauchy(), x, fixed={"scale": 0.5}, start={"location": -1.5})
    assert fit.params["location"] < 0
    ci = interval(fit, Element("location"), bounds=(-INF, INF), name="location")
    assert "local maximum" in ci.note and "location = " in ci.note


# -- vector parameters and transforms ----------------------------------------------------------

def test_categorical_element_is_the_binomial_profile():
    counts = np.array([8, 24, 27, 41])
    x = np.repeat(np.arange(4), counts)
    fit = mk.fit(mk.Categorical(), x)
    n = counts.sum()
    for j in (0, 3):
        c = counts[j]
        ends = crossings(lambda p, c=c: c * math.log(p) + (n - c) * math.log1p(-p),
                         c / n, 1e-6, 1 - 1e-6)
        assert_rel(interval(fit, Element("probs", (j,)), bounds=(0.0, 1.0)), ends, 1e-7)


def test_multivariate_normal_mean_element_is_the_marginal_profile():
    """With the covariance free, l_p(mu_j) = -n/2 log(s_jj + (xbar_j - mu_j)^2) + const: the
    ends are xbar_j -/+ sqrt(s_jj (exp(chi2 / n) - 1))."""
    y = np.random.default_rng(2).multivariate_normal([1.0, 2.0], [[1.0, 0.5], [0.5, 2.0]], 60)
    fit = mk.fit(mk.MultivariateNormal(), y)
    ci = interval(fit, Element("mean", (1,)), bounds=(-INF, INF))
    xbar, s = y[:, 1].mean(), y[:, 1].var()
    half = math.sqrt(s * math.expm1(chi2.ppf(0.95, 1) / 60))
    assert_rel(ci, (xbar - half, xbar + half), 1e-7)


def test_gamma_mean_transform_matches_the_exact_profile(gamma_fit, groundbeef):
    exact = GammaProfiles(groundbeef)
    g = lambda p: p["shape"] / p["rate"]  # noqa: E731
    est = gamma_fit.transform(g).value
    ci = interval(gamma_fit, g)
    assert_rel(ci, crossings(exact.mean, est, 0.5 * est, 2 * est), 1e-7)


# -- errors --------------------------------------------------------------------------------------

def test_bad_g_raises_model_error(gamma_fit):
    ctx, shape, se = gamma_fit._context, gamma_fit.params["shape"], gamma_fit.se["shape"]
    with pytest.raises(mk.ModelError, match="scalar"):
        profile_interval(ctx, lambda p: jnp.stack([p["shape"], p["rate"]]), 0.95, shape, se)
    with pytest.raises(mk.ModelError, match="KeyError"):
        profile_interval(ctx, lambda p: p["scale"], 0.95, shape, se)
    with pytest.raises(mk.ModelError, match="not finite"):
        profile_interval(ctx, lambda p: jnp.log(p["shape"] - 10.0), 0.95, shape, se)
    with pytest.raises(mk.ModelError, match="not g at the fit's maximum"):
        profile_interval(ctx, Element("shape"), 0.95, shape + 1.0, se)
    with pytest.raises(mk.ModelError, match="level"):
        profile_interval(ctx, Element("shape"), 1.5, shape, se)


def test_threshold_profile_approaches_the_edge_the_data_set():
    """Regression: the Weibull3 threshold's profile steps past min(x), where the likelihood is
    not finite; the search halves back toward that edge (as toward a bound of the parameter
    space) and finds the end point between the estimate and min(x)."""
    x = 5 + 2 * np.random.default_rng(3).weibull(1.5, 300)
    fit = mk.fit(mk.Weibull3(), x)
    assert fit.se["threshold"] is None  # non-regular (shape < 2): no Wald interval
    ci = fit.conf_int(method="profile")["threshold"]
    assert not ci.upper_open and fit.params["threshold"] < ci.upper < x.min()
    held = mk.fit(mk.Weibull3(), x, fixed={"threshold": ci.upper})
    assert 2 * (fit.loglik - held.loglik) == pytest.approx(chi2.ppf(0.95, 1), rel=1e-7)
