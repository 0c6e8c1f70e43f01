"""Covariance types against closed forms and statsmodels; the Cramer-Rao bound; Wald intervals
on the unconstrained scale."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import mlekit as mk
from mlekit._inference.covariances import _monte_carlo_info, _natural_to_u

RNG = np.random.default_rng(20261130)
X_NORMAL = RNG.gamma(3.0, 2.0, 300)  # skewed on purpose: the sandwich differs from the rest
COUNTS = RNG.negative_binomial(2, 0.3, 400).astype(float)  # over-dispersed


def central_moments(x):
    d = x - x.mean()
    return [np.mean(d**k) for k in (2, 3, 4)]


def test_normal_covariances_equal_their_closed_forms():
    x, n = X_NORMAL, X_NORMAL.size
    m2, m3, m4 = central_moments(x)
    fit = mk.fit(mk.Normal(), x)
    sd2 = fit.params["sd"] ** 2
    assert sd2 == pytest.approx(m2, rel=1e-12)
    info_inv = np.diag([sd2 / n, sd2 / (2 * n)])
    np.testing.assert_allclose(fit.cov, info_inv, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.cov_as("expected").cov, info_inv, rtol=1e-10, atol=1e-14)
    # sandwich H^-1 J H^-1 with J from the scores (x-mu)/s^2 and ((x-mu)^2 - s^2)/s^3
    s = np.sqrt(m2)
    robust = np.array([[m2 / n, m3 / (2 * n * s)],
                       [m3 / (2 * n * s), (m4 - m2**2) / (4 * n * m2)]])
    np.testing.assert_allclose(fit.cov_as("robust").cov, robust, rtol=1e-9)
    meat = n * np.array([[1 / m2, m3 / s**5], [m3 / s**5, (m4 - m2**2) / s**6]])
    np.testing.assert_allclose(fit.cov_as("opg").cov, np.linalg.inv(meat), rtol=1e-9)


def test_exponential_covariances_equal_their_closed_forms(groundbeef):
    x, n = groundbeef, groundbeef.size
    fit = mk.fit(mk.Exponential(), x)
    rate = 1 / x.mean()
    assert fit.cov[0, 0] == pytest.approx(rate**2 / n, rel=1e-12)
    assert fit.cov_as("expected").cov[0, 0] == pytest.approx(rate**2 / n, rel=1e-12)
    assert fit.cov_as("robust").cov[0, 0] == pytest.approx(rate**4 * x.var() / n, rel=1e-10)
    assert fit.cov_as("opg").cov[0, 0] == pytest.approx(1 / (n * x.var()), rel=1e-10)
    assert fit.crlb()[0, 0] == pytest.approx(rate**2 / n, rel=1e-12)


def _statsmodels_poisson(cov_type, **kwds):
    sm = pytest.importorskip("statsmodels.api")
    model = sm.GLM(COUNTS, np.ones((COUNTS.size, 1)), family=sm.families.Poisson())
    return model.fit(cov_type=cov_type, cov_kwds=kwds or None, tol=1e-14)


def test_poisson_sandwich_equals_statsmodels_hc0():
    """statsmodels 0.15: GLM(y, 1, Poisson).fit(cov_type="HC0") estimates log(lambda)."""
    ref = _statsmodels_poisson("HC0")
    beta, se_beta = float(ref.params[0]), float(ref.bse[0])
    log_model = mk.Model(lambda x, p: x * p["b"] - jnp.exp(p["b"]) - jnp.asarray(
        __import__("jax").scipy.special.gammaln(x + 1)), params={"b": mk.Real(init=1.0)})
    on_log_scale = mk.fit(log_model, COUNTS, cov="robust")
    assert on_log_scale.params["b"] == pytest.approx(beta, rel=1e-10)
    assert on_log_scale.se["b"] == pytest.approx(se_beta, rel=1e-8)
    # the sandwich is invariant at the maximum: lambda's is exp(b)^2 times b's
    natural = mk.fit(mk.Poisson(), COUNTS).cov_as("robust")
    assert natural.se["lambda"] == pytest.approx(np.exp(beta) * se_beta, rel=1e-8)
    # and the robust errors are larger than the model-based ones: the counts are over-dispersed
    assert natural.se["lambda"] > 1.5 * mk.fit(mk.Poisson(), COUNTS).se["lambda"]


def test_cluster_sandwich_equals_statsmodels_without_small_sample_correction():
    groups = np.repeat(np.arange(40), COUNTS.size // 40)
    ref = _statsmodels_poisson("cluster", groups=groups, use_correction=False)
    fit = mk.fit(mk.Poisson(), COUNTS, cov="cluster", groups=groups)
    assert fit.cov_kind == "cluster" and "40 clusters" in fit.cov_note
    assert fit.se["lambda"] == pytest.approx(np.exp(ref.params[0]) * ref.bse[0], rel=1e-8)


def test_expected_information_by_exact_sums():
    fit = mk.fit(mk.Poisson(), COUNTS, cov="expected")
    assert "exact sum" in fit.cov_note
    assert fit.cov[0, 0] == pytest.approx(COUNTS.mean() / COUNTS.size, rel=1e-12)
    trials = RNG.binomial(12, 0.3, 200).astype(float)
    binom = mk.fit(mk.Binomial(size=12), trials).cov_as("expected")
    p = trials.mean() / 12
    assert binom.cov[0, 0] == pytest.approx(p * (1 - p) / (12 * 200), rel=1e-12)
    cat = mk.fit(mk.Categorical(), [0, 1, 1, 2, 2, 2, 2, 0, 1, 2]).cov_as("expected")
    probs = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(cat.cov, (np.diag(probs) - np.outer(probs, probs)) / 10,
                               atol=1e-14)


@pytest.mark.parametrize("family, x", [
    (mk.StudentT(), 2.0 * RNG.standard_t(4.0, 3000) + 1.0),
    (mk.Weibull(), 3.0 * RNG.weibull(1.7, 3000)),
    (mk.Gamma(), RNG.gamma(2.5, 1.0, 3000)),
], ids=["student_t", "weibull", "gamma"])
def test_closed_form_information_equals_its_monte_carlo_estimate(family, x):
    ctx = mk.fit(family, x)._context
    params = ctx.params()
    exact = _natural_to_u(ctx, family.expected_information(params))
    estimate, note = _monte_carlo_info(ctx, params, seed=1)
    relative_error = float(note.rsplit("<=", 1)[1])
    assert relative_error < 0.01
    # each entry within a few times the reported error of the (square roots of) the diagonal
    scale = np.sqrt(np.outer(np.diag(exact), np.diag(exact)))
    assert np.max(np.abs(estimate - exact) / scale) < 10 * relative_error


def test_expected_information_by_monte_carlo_reports_its_error():
    x = RNG.logistic(1.0, 2.0, 500)
    fit = mk.fit(mk.Logistic(), x, cov="expected")
    assert "Monte Carlo" in fit.cov_note and "relative error" in fit.cov_note
    # the logistic's information is known: 1/(3 s^2) for the location
    s = fit.params["scale"]
    assert fit.se["location"] == pytest.approx(np.sqrt(3 * s * s / 500), rel=0.02)
    assert "Monte Carlo" in fit.summary()


def test_crlb_is_the_inverse_expected_information_and_shows_in_the_summary():
    fit = mk.fit(mk.Normal(), X_NORMAL)
    sd2 = fit.params["sd"] ** 2
    np.testing.assert_allclose(fit.crlb(), np.diag([sd2, sd2 / 2]) / X_NORMAL.size, rtol=1e-10)
    text = fit.summary(crlb=True)
    assert "CRLB sd" in text
    with pytest.raises(ValueError):
        fit.crlb()[0, 0] = 1.0


def test_fit_cov_argument_equals_cov_as_and_the_summary_names_it(groundbeef):
    direct = mk.fit(mk.Gamma(), groundbeef, cov="robust")
    later = mk.fit(mk.Gamma(), groundbeef).cov_as("robust")
    np.testing.assert_array_equal(direct.cov, later.cov)
    assert direct.cov_kind == "robust"
    assert "standard errors: robust sandwich" in direct.summary()
    d = json.loads(json.dumps(direct.to_dict()))
    assert d["cov_kind"] == "robust"
    back = direct.cov_as("observed")
    np.testing.assert_allclose(back.cov, mk.fit(mk.Gamma(), groundbeef).cov, rtol=1e-12)


def test_every_covariance_on_a_user_model_and_the_errors():
    model = mk.Model(lambda x, p: stats_free_normal(x, p), params={
        "m": mk.Real(init=0.0), "s": mk.Positive(init=1.0)})
    fit = mk.fit(model, X_NORMAL)
    reference = mk.fit(mk.Normal(), X_NORMAL)
    for kind in ("observed", "opg", "robust"):
        np.testing.assert_allclose(fit.cov_as(kind).cov, reference.cov_as(kind).cov, rtol=1e-8,
                                   atol=1e-12)
    with pytest.raises(mk.ModelError, match="no sampler"):
        fit.cov_as("expected")
    with pytest.raises(mk.ModelError, match="not a covariance type"):
        mk.fit(mk.Normal(), X_NORMAL, cov="sandwich")
    with pytest.raises(mk.ModelError, match="groups"):
        reference.cov_as("cluster")
    with pytest.raises(mk.ModelError, match="one label per observation"):
        reference.cov_as("cluster", groups=[1, 2, 3])
    with pytest.raises(mk.ModelError, match="groups"):
        reference.cov_as("robust", groups=np.zeros(X_NORMAL.size))


def stats_free_normal(x, p):
    z = (x - p["m"]) / p["s"]
    return -0.5 * jnp.log(2 * jnp.pi) - jnp.log(p["s"]) - 0.5 * z * z


def test_wald_interval_on_the_unconstrained_scale_stays_inside_the_space():
    x = np.array([0.1, 0.3, 2.0])
    fit = mk.fit(mk.Exponential(), x)
    natural = fit.conf_int()["rate"]
    logged = fit.conf_int(scale="unconstrained")["rate"]
    assert natural[0] < 0 < logged[0]  # the natural interval leaves the parameter space
    z, rate, se = stats.norm.ppf(0.975), fit.params["rate"], fit.se["rate"]
    assert logged == pytest.approx((rate * np.exp(-z * se / rate), rate * np.exp(z * se / rate)),
                                   rel=1e-12)
    assert natural.method == "wald" and logged.method == "wald (log scale)"
    assert "Wald (log scale)" in fit.summary(scale="unconstrained")
    bern = mk.fit(mk.Bernoulli(), [1, 1, 1, 1, 0])
    lo, hi = bern.conf_int(scale="unconstrained")["prob"]
    assert 0 < lo < hi < 1 and bern.conf_int()["prob"][1] > 1
    cat = mk.fit(mk.Categorical(), [0, 1, 1, 2, 2, 2, 2, 0, 1, 2])
    assert cat.conf_int(scale="unconstrained")["probs"].method == "wald (natural scale)"


def test_presolved_parameters_keep_their_rows_under_every_covariance():
    x = RNG.laplace(1.0, 2.0, 400)
    fit = mk.fit(mk.Laplace(), x)
    for kind in ("opg", "robust", "expected"):
        other = fit.cov_as(kind)
        assert other.se["location"] == pytest.approx(fit.se["location"], rel=1e-12)
        assert other.se["scale"] > 0
    uniform = mk.fit(mk.Uniform(), RNG.uniform(0, 1, 50))
    assert uniform.cov_as("robust").se == {"min": None, "max": None}
