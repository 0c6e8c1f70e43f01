"""Maximum likelihood as machine learning's losses: cross-entropy, entropy and KL divergence,
checked against closed forms and scikit-learn."""

import math

import numpy as np
import pytest
from scipy.special import digamma, gammaln

import mlekit as mk


@pytest.mark.parametrize("family", ["categorical", "poisson"])
def test_cross_entropy_is_entropy_plus_kl_for_discrete_data(family):
    from scipy.stats import poisson

    x = np.random.default_rng(7).integers(0, 4, 1000).astype(float)
    fit = mk.fit(family, x)  # the categorical matches the frequencies; the Poisson does not
    data = mk.empirical(x)
    h = -np.sum(data.probs * np.log(data.probs))
    fitted = (np.bincount(x.astype(int), minlength=4) / x.size if family == "categorical"
              else poisson.pmf(data.values, fit.params["lambda"]))
    kl = np.sum(data.probs * np.log(data.probs / fitted))
    assert fit.cross_entropy == pytest.approx(h + kl, rel=1e-12)  # the identity
    assert mk.entropy(data) == pytest.approx(h, rel=1e-14)
    shown = fit.statistics
    assert shown["entropy"] == pytest.approx(h, rel=1e-14)
    assert shown["kl"] == pytest.approx(kl, rel=1e-10, abs=1e-15)
    assert shown["cross_entropy"] == pytest.approx(shown["entropy"] + shown["kl"], rel=1e-12)
    assert (kl > 0.05) == (family == "poisson")
    assert "cross-entropy = " in fit.summary()


def test_cross_entropy_is_scikit_learns_log_loss_and_mse_is_the_gaussian_nll():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(8)
    codes = rng.integers(0, 3, 600)
    fit = mk.fit(mk.Categorical(), codes.astype(float))
    predicted = np.tile(fit.params["probs"], (codes.size, 1))
    assert fit.cross_entropy == pytest.approx(log_loss(codes, predicted), rel=1e-12)
    x = rng.normal(size=600)
    y = (rng.random(600) < 1 / (1 + np.exp(-(0.3 + 1.1 * x)))).astype(float)
    logistic = mk.glm(X=x, y=y, family="binomial")
    assert logistic.cross_entropy == pytest.approx(log_loss(y, logistic.predict()), rel=1e-12)
    z = 2.0 + 0.5 * x + rng.normal(0.0, 0.7, 600)
    linear = mk.lm(X=x, y=z)
    mse = float(np.mean((z - linear.predict()) ** 2))
    assert linear.params["sd"] ** 2 == pytest.approx(mse, rel=1e-12)  # the MLE of sd^2
    assert linear.cross_entropy == pytest.approx(0.5 * math.log(2 * math.pi * math.e * mse),
                                                 rel=1e-12)


def test_kl_divergence_matches_closed_forms():
    normal = mk.kl_divergence((mk.Normal(), {"mean": 0.5, "sd": 1.2}),
                              (mk.Normal(), {"mean": -0.3, "sd": 2.0}))
    expected = math.log(2.0 / 1.2) + (1.2**2 + 0.8**2) / (2 * 2.0**2) - 0.5
    assert normal == pytest.approx(expected, rel=1e-10)
    a1, b1, a2, b2 = 2.0, 1.0, 3.5, 1.5
    gamma = mk.kl_divergence((mk.Gamma(), {"shape": a1, "rate": b1}),
                             (mk.Gamma(), {"shape": a2, "rate": b2}))
    expected = ((a1 - a2) * digamma(a1) - gammaln(a1) + gammaln(a2)
                + a2 * (math.log(b1) - math.log(b2)) + a1 * (b2 - b1) / b1)
    assert gamma == pytest.approx(expected, rel=1e-9)
    poisson = mk.kl_divergence((mk.Poisson(), {"lambda": 2.0}), (mk.Poisson(), {"lambda": 3.0}))
    assert poisson == pytest.approx(2.0 * math.log(2.0 / 3.0) + 1.0, rel=1e-12)
    assert mk.kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert mk.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert mk.entropy([0.25] * 4, base=2) == pytest.approx(2.0, rel=1e-15)


def test_refusals_name_the_rule():
    x = np.random.default_rng(9).normal(size=50)
    with pytest.raises(mk.ModelError, match="infinite for continuous data"):
        mk.kl_divergence(mk.empirical(x), mk.fit(mk.Normal(), x))
    with pytest.raises(mk.ModelError, match="sum to"):
        mk.entropy([0.5, 0.6])
    with pytest.raises(mk.ModelError, match="a probability mass and a density"):
        mk.kl_divergence((mk.Poisson(), {"lambda": 1.0}), (mk.Normal(), {"mean": 0, "sd": 1}))
