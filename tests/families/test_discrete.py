"""Bernoulli, Poisson and Categorical: distribution functions at floor(x) and in the far tails
(against mpmath), moments, samplers, and the categorical, which has no scipy counterpart. The
closed-form MLEs are checked in tests/test_scipy_agreement.py, degenerate data in
tests/test_errors.py."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import mlekit as mk

mp.mp.dps = 50
N = 500


def _at(fun, x, params):
    return np.asarray(fun(jnp.asarray(x, dtype=float), params))


# -- Poisson ------------------------------------------------------------------------------------

def _poisson_tails(k, lam):
    """(P(X <= k), P(X > k)) = (Q(k + 1, lambda), P(k + 1, lambda)), the regularized upper and
    lower incomplete gamma functions, each computed directly in high precision."""
    return (mp.gammainc(k + 1, lam, mp.inf, regularized=True),
            mp.gammainc(k + 1, 0, lam, regularized=True))


@pytest.mark.parametrize(("k", "lam"), [
    (1000, 3.0),  # P(X > 1000) ~ 3^1001 e^-3 / 1001! ~ 1e-2094: far below the smallest double
    (400, 3.0), (10, 3.0), (0, 3.0), (25, 0.01), (3, 1e4), (20_000, 1e4), (9_000, 1e4),
])
def test_poisson_tails_against_mpmath(k, lam):
    p = {"lambda": jnp.asarray(lam)}
    lower, upper = _poisson_tails(mp.mpf(k), mp.mpf(lam))
    exact_sf = float(mp.log(upper)) if upper < 0.5 else float(mp.log1p(-lower))
    exact_cdf = float(mp.log(lower)) if lower < 0.5 else float(mp.log1p(-upper))
    assert float(_at(mk.Poisson().logsf, k, p)) == pytest.approx(exact_sf, rel=1e-10)
    assert float(_at(mk.Poisson().logcdf, k, p)) == pytest.approx(exact_cdf, rel=1e-10)


def test_poisson_distribution_functions_step_at_the_integers():
    p = {"lambda": jnp.asarray(2.5)}
    x = np.array([-3.0, -0.5, 0.0, 0.99, 1.0, 2.5, 7.0])
    k = np.floor(x)
    cdf = [float(mp.log(mp.fsum(mp.exp(-2.5) * mp.mpf(2.5) ** j / mp.factorial(j)
                                for j in range(int(v) + 1)))) if v >= 0 else -math.inf
           for v in k]
    np.testing.assert_allclose(_at(mk.Poisson().logcdf, x, p), cdf, rtol=1e-12)
    sf = _at(mk.Poisson().logsf, x, p)
    assert sf[0] == sf[1] == 0.0
    np.testing.assert_allclose(np.exp(sf[2:]), -np.expm1(cdf[2:]), rtol=1e-12)


def test_poisson_moments_and_sampler():
    p = {"lambda": jnp.asarray(4.0)}
    assert float(mk.Poisson().mean(p)) == float(mk.Poisson().variance(p)) == 4.0
    x = mk.Poisson().sample({"lambda": 4.0}, N, rng=1)
    assert x.dtype == float and np.all(x == np.round(x)) and x.min() >= 0
    np.testing.assert_array_equal(x, mk.Poisson().sample(p, N, rng=np.random.default_rng(1)))


def test_poisson_log_cdf_is_differentiable_in_lambda():
    # d/d lambda log P(X <= k) = -pmf(k) / cdf(k)
    k, lam = 4.0, 3.0
    grad = jax.grad(lambda q: mk.Poisson().logcdf(jnp.asarray(k), {"lambda": q}))(lam)
    pmf = math.exp(-lam) * lam**4 / 24
    cdf = sum(math.exp(-lam) * lam**j / math.factorial(j) for j in range(5))
    assert float(grad) == pytest.approx(-pmf / cdf, rel=1e-9)


# -- Bernoulli ----------------------------------------------------------------------------------

def test_bernoulli_distribution_functions():
    prob = 1e-20  # log(1 - prob) must not round to 0 (log1p)
    p = {"prob": jnp.asarray(prob)}
    x = np.array([-1.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(_at(mk.Bernoulli().logcdf, x, p),
                                  [-math.inf, -prob, -prob, 0.0, 0.0])
    np.testing.assert_array_equal(_at(mk.Bernoulli().logsf, x, p),
                                  [0.0, math.log(prob), math.log(prob), -math.inf, -math.inf])
    q = {"prob": jnp.asarray(0.3)}
    assert float(mk.Bernoulli().mean(q)) == 0.3
    assert float(mk.Bernoulli().variance(q)) == pytest.approx(0.21, rel=1e-15)
    x = mk.Bernoulli().sample({"prob": 0.3}, 20_000, rng=2)
    assert set(np.unique(x)) == {0.0, 1.0}
    assert abs(x.mean() - 0.3) < 5 * math.sqrt(0.21 / 20_000)


# -- Categorical (no scipy counterpart) ---------------------------------------------------------

PROBS = np.array([0.1, 0.2, 0.3, 0.4])


def test_categorical_distribution_functions_over_ordered_codes():
    p = {"probs": jnp.asarray(PROBS)}
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 2.9, 3.0, 7.0])
    cdf = np.array([0.0, 0.1, 0.1, 0.3, 0.6, 0.6, 1.0, 1.0])
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(_at(mk.Categorical(k=4).logcdf, x, p), np.log(cdf),
                                   rtol=1e-14)
        np.testing.assert_allclose(_at(mk.Categorical(k=4).logsf, x, p), np.log(1 - cdf),
                                   rtol=1e-14)


def test_categorical_survival_of_rare_top_categories_is_not_one_minus_cdf():
    # 1 - cdf(0) would round to 0; the survival sums the probabilities above instead
    probs = np.array([1 - 3e-20, 1e-20, 2e-20])
    p = {"probs": jnp.asarray(probs)}
    sf = _at(mk.Categorical(k=3).logsf, np.array([0.0, 1.0]), p)
    np.testing.assert_allclose(sf, np.log([3e-20, 2e-20]), rtol=1e-14)


def test_categorical_moments_are_the_codes():
    p = {"probs": jnp.asarray(PROBS)}
    codes = np.arange(4)
    mean = float(codes @ PROBS)
    assert float(mk.Categorical().mean(p)) == pytest.approx(mean, rel=1e-15)
    assert float(mk.Categorical().variance(p)) == pytest.approx(
        float((codes - mean) ** 2 @ PROBS), rel=1e-14)


def test_categorical_sampler_and_round_trip_without_k():
    x = mk.Categorical().sample({"probs": PROBS}, 20_000, rng=3)
    assert x.dtype == float and set(np.unique(x)) == {0.0, 1.0, 2.0, 3.0}
    freq = np.bincount(x.astype(int)) / x.size
    assert np.all(np.abs(freq - PROBS) < 5 * np.sqrt(PROBS * (1 - PROBS) / x.size))
    fit = mk.fit(mk.Categorical(), x)  # k taken from the data
    np.testing.assert_allclose(fit.params["probs"], freq, rtol=1e-12)
    assert np.all(np.abs(fit.params["probs"] - PROBS) < 4 * np.asarray(fit.se["probs"]))


def test_categorical_log_cdf_gradient_is_finite_everywhere():
    x = jnp.asarray([-1.0, 0.0, 1.0, 2.0, 3.0, 9.0])

    def total(probs, fun):
        v = fun(x, {"probs": probs})
        return jnp.sum(jnp.where(jnp.isfinite(v), v, 0.0))

    for fun in (mk.Categorical(k=4).logcdf, mk.Categorical(k=4).logsf):
        g = jax.grad(total)(jnp.asarray(PROBS), fun)
        assert np.all(np.isfinite(np.asarray(g)))
