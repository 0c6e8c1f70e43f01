"""The result object: immutable, JSON-safe, self-rendering (golden files), invariance + delta."""

import dataclasses
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import mlekit as mk

GOLDEN = Path(__file__).parent / "golden"


def golden(name):
    return (GOLDEN / name).read_text()


def test_summary_golden(groundbeef):
    assert mk.fit("gamma", groundbeef).summary() + "\n" == golden("gamma_groundbeef.txt")
    fixed = mk.fit("normal", groundbeef, fixed={"mean": 70})
    assert fixed.summary() + "\n" == golden("normal_fixed_groundbeef.txt")
    cat = mk.fit(mk.Categorical(), [0, 1, 1, 2, 2, 2, 2, 0, 1, 2])
    assert str(cat) + "\n" == golden("categorical.txt")
    assert mk.fit("gamma", groundbeef)._repr_html_() + "\n" == golden("gamma_groundbeef.html")


def test_summary_golden_with_other_intervals_and_covariances(groundbeef):
    gamma = mk.fit("gamma", groundbeef)
    assert gamma.summary(ci="profile", crlb=True) + "\n" == golden(
        "gamma_groundbeef_profile_crlb.txt")
    robust = mk.fit("exponential", groundbeef, cov="robust")
    text = robust.summary(0.9, ci="bootstrap", interval="bca", replicates=500, seed=3)
    assert text + "\n" == golden("exponential_bootstrap_robust.txt")


def test_rounding_to_uncertainty():
    from mlekit._render import decimals_for, fmt

    assert decimals_for(0.34) == 2 and fmt(4.0083, 2) == "4.01"
    assert decimals_for(0.0049) == 4 and fmt(0.054427, 4) == "0.0544"
    assert decimals_for(25.0) == 0 and fmt(1234.56, 0) == "1235"
    assert decimals_for(250.0) == -1 and fmt(1234.56, -1) == "1230"
    assert decimals_for(0.0) is None and fmt(1.23456789, None) == "1.23457"


def test_result_is_immutable(groundbeef):
    fit = mk.fit("gamma", groundbeef)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.loglik = 0.0
    with pytest.raises(ValueError):
        fit.cov[0, 0] = 1.0


def test_to_dict_is_json_safe_and_complete(groundbeef):
    fit = mk.fit("weibull", groundbeef)
    d = json.loads(json.dumps(fit.to_dict()))
    for key in ("params", "se", "cov", "param_names", "loglik", "aic", "bic", "n", "k",
                "converged", "message", "iterations", "diagnostics"):
        assert key in d
    assert d["param_names"] == ["shape", "scale"] and d["k"] == 2 and d["n"] == 254
    np.testing.assert_allclose(d["cov"], fit.cov)
    assert d["diagnostics"] == []


def test_information_criteria(groundbeef):
    fit = mk.fit("gamma", groundbeef)
    assert fit.aic == pytest.approx(-2 * fit.loglik + 4)
    assert fit.bic == pytest.approx(-2 * fit.loglik + 2 * np.log(254))


def test_fixed_parameters_are_not_counted(groundbeef):
    fit = mk.fit("normal", groundbeef, fixed={"mean": 70.0})
    assert fit.k == 1 and fit.param_names == ("sd",) and fit.params["mean"] == 70.0
    assert fit.params["sd"] == pytest.approx(np.sqrt(np.mean((groundbeef - 70.0) ** 2)), rel=1e-12)
    assert set(fit.se) == {"sd"} and fit.cov.shape == (1, 1)


def test_wald_interval(groundbeef):
    fit = mk.fit("normal", groundbeef)
    lo, hi = fit.conf_int(0.90)["mean"]
    z = 1.6448536269514722
    assert lo == pytest.approx(fit.params["mean"] - z * fit.se["mean"], rel=1e-12)
    assert hi == pytest.approx(fit.params["mean"] + z * fit.se["mean"], rel=1e-12)


def test_transform_invariance_and_delta_method(groundbeef):
    fit = mk.fit("gamma", groundbeef)
    est = fit.transform(lambda p: p["shape"] / p["rate"])  # the mean
    a, b = fit.params["shape"], fit.params["rate"]
    assert est.value == pytest.approx(a / b, rel=1e-12)
    grad = np.array([1 / b, -a / b**2])
    assert est.se == pytest.approx(np.sqrt(grad @ fit.cov @ grad), rel=1e-10)
    # the gamma mean MLE is the sample mean (score equation for rate)
    assert est.value == pytest.approx(groundbeef.mean(), rel=1e-12)
    # closed form: with the observed information of the gamma at its MLE, grad' I^-1 grad
    # reduces to a / (n b^2): the fitted distribution's variance over n
    assert est.se == pytest.approx(np.sqrt(a / b**2 / groundbeef.size), rel=1e-10)


def test_transform_by_expression_vector_and_profile(groundbeef):
    fit = mk.fit("gamma", groundbeef)
    by_lambda = fit.transform(lambda p: p["shape"] / p["rate"])
    by_text = fit.transform("shape / rate")
    assert (by_text.value, by_text.se, by_text.name) == (by_lambda.value, by_lambda.se,
                                                         "shape / rate")
    both = fit.transform(lambda p: jnp.stack([p["shape"] / p["rate"],
                                              p["shape"] / p["rate"] ** 2]), name="mean, var")
    assert both.cov.shape == (2, 2) and both.se[0] == pytest.approx(by_lambda.se, rel=1e-12)
    assert both.cov[0, 1] == pytest.approx(
        np.array([1, 0]) @ both.cov @ np.array([0, 1]), rel=1e-12)
    profile = fit.transform("shape / rate", name="mean", method="profile")
    assert profile.conf_int.method == "profile" and profile.name == "mean"
    lo, hi = profile.conf_int
    assert lo < profile.value < hi
    with pytest.raises(mk.ModelError, match="scalar"):
        fit.transform(lambda p: jnp.stack([p["shape"], p["rate"]]), method="profile")


def test_categorical_covariance_is_multinomial():
    x = [0, 1, 1, 2, 2, 2, 2, 0, 1, 2]
    fit = mk.fit(mk.Categorical(), x)
    p = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(fit.params["probs"], p, rtol=1e-12)
    np.testing.assert_allclose(fit.cov, (np.diag(p) - np.outer(p, p)) / 10, rtol=1e-9,
                               atol=1e-15)
    assert fit.k == 2


def test_user_model_zero_inflated_poisson():
    import jax.numpy as jnp
    import jax.scipy.special as jss
    from scipy import optimize, stats

    def zip_logpdf(x, p):
        pois = x * jnp.log(p["lambda"]) - p["lambda"] - jss.gammaln(x + 1)
        zero = jnp.logaddexp(jnp.log(p["pi"]), jnp.log1p(-p["pi"]) - p["lambda"])
        return jnp.where(x == 0, zero, jnp.log1p(-p["pi"]) + pois)

    model = mk.Model(zip_logpdf, params={"pi": mk.UnitInterval(init=0.5),
                                         "lambda": mk.Positive(init=1.0)}, name="zip")
    rng = np.random.default_rng(3)
    x = np.where(rng.random(500) < 0.3, 0, rng.poisson(2.5, 500))
    fit = mk.fit(model, x)
    assert fit.converged and fit.model_name == "zip"

    def nll(q):  # an independent reference: scipy's optimizer on scipy's pmf
        pi, lam = q
        p0 = pi + (1 - pi) * np.exp(-lam)
        return -np.sum(np.where(x == 0, np.log(p0), np.log1p(-pi) + stats.poisson.logpmf(x, lam)))

    ref = optimize.minimize(nll, [0.5, 1.0], method="L-BFGS-B", bounds=[(1e-6, 1 - 1e-6),
                            (1e-6, None)], options={"ftol": 1e-15, "gtol": 1e-12})
    assert fit.params["pi"] == pytest.approx(ref.x[0], rel=1e-5)
    assert fit.params["lambda"] == pytest.approx(ref.x[1], rel=1e-5)
    assert -fit.loglik <= ref.fun + 1e-9 * abs(ref.fun)


def test_transform_bootstrap_interval_is_the_percentile_of_g_over_the_replicates(groundbeef):
    fit = mk.fit("weibull", groundbeef)
    sample = fit.bootstrap(200, seed=5)
    median = fit.transform("scale * log(2) ** (1 / shape)", method="bootstrap", sample=sample)
    by_hand = sample.estimates[:, 1] * np.log(2) ** (1 / sample.estimates[:, 0])
    assert median.conf_int == pytest.approx(tuple(np.quantile(by_hand, [0.025, 0.975])),
                                            rel=1e-12)
    assert median.conf_int.method == "bootstrap percentile"
    again = fit.transform("scale * log(2) ** (1 / shape)", method="bootstrap", replicates=200,
                          seed=5)
    assert again.conf_int == median.conf_int  # the same seed draws the same replicates
    # parameters' intervals from the same replicates
    assert fit.conf_int(method="bootstrap", sample=sample) == sample.conf_int()
