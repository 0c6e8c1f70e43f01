"""Likelihood heads: models whose parameters are arrays feeding a family's likelihood, fitted
like any model, against scikit-learn and the closed forms."""

import numpy as np
import pytest

import mlekit as mk


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.column_stack([X / 16.0, np.ones(len(X))]), y  # the bias as a last input


def linear(inputs, p):
    return inputs @ p["W"]


def softmax(classes: int = 10, inputs: int = 65):
    return mk.Categorical.from_logits(linear, params={
        "W": mk.Real(init=np.zeros((inputs, classes)), shape=(inputs, classes))})


def test_softmax_regression_with_an_l2_prior_is_scikit_learns(digits):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    X, y = digits
    C = 1.0  # scikit-learn minimizes ||W||^2 / 2 + C * NLL: a Normal(0, sqrt(C)) prior
    fit = mk.fit(softmax(), (X, y), prior={"W": mk.priors.Normal(0.0, np.sqrt(C))})
    assert fit.converged and np.shape(fit.params["W"]) == (65, 10)

    def objective(W):
        z = X @ W
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(y)), y].sum() + 0.5 * np.sum(W**2) / C

    reference = LogisticRegression(C=C, fit_intercept=False, tol=1e-12, max_iter=10_000)
    reference.fit(X, y)
    ours, theirs = objective(np.asarray(fit.params["W"])), objective(reference.coef_.T)
    assert ours == pytest.approx(theirs, rel=1e-8) and ours <= theirs * (1 + 1e-12)
    z = X @ np.asarray(fit.params["W"])
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    assert fit.cross_entropy == pytest.approx(log_loss(y, probs), rel=1e-12)  # = log loss


def test_bernoulli_logits_are_the_logistic_glm_and_the_mean_head_is_least_squares():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 2))
    inputs = np.column_stack([x, np.ones(400)])
    y = (rng.random(400) < 1 / (1 + np.exp(-(x @ [1.0, -0.5] + 0.2)))).astype(float)
    head = mk.Bernoulli.from_logits(lambda v, p: v @ p["b"],
                                    params={"b": mk.Real(init=np.zeros(3), shape=(3,))})
    fit = mk.fit(head, (inputs, y))
    glm = mk.glm(X=x, y=y, family="binomial")
    np.testing.assert_allclose(fit.params["b"], [glm.params["x1"], glm.params["x2"],
                                                 glm.params["Intercept"]], rtol=1e-8)
    assert fit.loglik == pytest.approx(glm.loglik, rel=1e-12)

    z = x @ [2.0, 1.0] + 0.5 + rng.normal(0.0, 0.3, 400)
    mean = mk.Normal.from_mean(lambda v, p: v @ p["b"],
                               params={"b": mk.Real(init=np.zeros(3), shape=(3,))})
    fit = mk.fit(mean, (inputs, z))
    ols, *_ = np.linalg.lstsq(inputs, z, rcond=None)
    np.testing.assert_allclose(fit.params["b"], ols, rtol=1e-9)
    mse = float(np.mean((z - inputs @ ols) ** 2))
    assert fit.params["sd"] ** 2 == pytest.approx(mse, rel=1e-9)  # the MLE: MSE, not RSS/(n-p)
    known = mk.fit(mk.Normal.from_mean(lambda v, p: v @ p["b"], sd=0.3,
                                       params={"b": mk.Real(init=np.zeros(3), shape=(3,))}),
                   (inputs, z))
    np.testing.assert_allclose(known.params["b"], ols, rtol=1e-9)  # sd fixed: still OLS


def test_heteroscedastic_head_equals_the_same_model_written_by_hand():
    import jax.numpy as jnp

    rng = np.random.default_rng(5)
    t = rng.uniform(-1, 1, 500)
    z = 1.0 + 2.0 * t + np.exp(-0.5 + 0.8 * t) * rng.normal(size=500)

    def mean_sd(v, p):
        return v[:, 0] * p["a"][1] + p["a"][0], jnp.exp(p["s"][0] + p["s"][1] * v[:, 0])

    params = {"a": mk.Real(init=np.zeros(2), shape=(2,)),
              "s": mk.Real(init=np.zeros(2), shape=(2,))}
    head = mk.fit(mk.Normal.from_mean_sd(mean_sd, params), (t[:, None], z))

    def by_hand(rows, p):
        mu, sd = mean_sd(rows[:, 1:], p)
        return -0.5 * ((rows[:, 0] - mu) / sd) ** 2 - jnp.log(sd) - 0.5 * jnp.log(2 * jnp.pi)

    plain = mk.fit(mk.Model(by_hand, params=params, event_ndim=1), np.column_stack([z, t]))
    for name in ("a", "s"):
        np.testing.assert_allclose(head.params[name], plain.params[name], rtol=1e-9)
        np.testing.assert_allclose(head.se[name], plain.se[name], rtol=1e-8)


def test_heads_refuse_bad_data():
    head = softmax(classes=3, inputs=2)
    with pytest.raises(mk.DataError, match="pairs"):
        mk.fit(head, np.zeros((5, 3)))
    with pytest.raises(mk.DataError, match="class code 0..2"):
        mk.fit(head, (np.zeros((4, 2)), [0, 1, 2, 3]))
    with pytest.raises(mk.DataError, match="one target per input row"):
        mk.fit(head, (np.zeros((4, 2)), [0, 1]))
    with pytest.raises(mk.ModelError, match="params must be"):
        mk.Categorical.from_logits(linear, params={"W": 1.0})


def test_a_network_mean_and_pytree_parameters():
    """A nonlinear mean (a tanh network whose weights are a nested pytree, as flax keeps
    them): the MLE of sd^2 is the mean squared residual at the fitted mean, whatever the mean
    function, and the estimates come back under the pytree's paths as arrays."""
    import jax.numpy as jnp

    rng = np.random.default_rng(6)
    t = rng.uniform(-2, 2, (300, 1))
    z = np.sin(1.5 * t[:, 0]) + rng.normal(0.0, 0.2, 300)
    start = np.random.default_rng(3)  # a start Newton takes to a verified local maximum
    tree = {"hidden": {"kernel": start.normal(0.0, 1.0, (1, 2)), "bias": np.zeros(2)},
            "out": {"kernel": start.normal(0.0, 1.0, (2, 1)), "bias": np.zeros(1)}}
    params, rebuild = mk.pytree_params(tree)

    def net(inputs, p):
        w = rebuild(p)
        hidden = jnp.tanh(inputs @ w["hidden"]["kernel"] + w["hidden"]["bias"])
        return (hidden @ w["out"]["kernel"] + w["out"]["bias"])[:, 0]

    fit = mk.fit(mk.Normal.from_mean(net, params), (t, z))
    assert fit.converged and np.shape(fit.params["hidden/kernel"]) == (1, 2)
    fitted = np.asarray(net(jnp.asarray(t), {k: jnp.asarray(v) for k, v in fit.params.items()}))
    assert fit.params["sd"] ** 2 == pytest.approx(np.mean((z - fitted) ** 2), rel=1e-9)
    assert 0.15 < fit.params["sd"] < 0.35  # the noise is 0.2; two tanh units fit sin coarsely
