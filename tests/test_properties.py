"""Property tests (hypothesis): the parameter bijections, and the invariances of the MLE.

- every constraint's ``forward`` (unconstrained -> natural, JAX) and ``inverse`` (natural ->
  unconstrained, numpy) are inverse bijections, and ``forward`` lands inside the constraint;
- affine / scale equivariance: the MLE on transformed data is the transformed MLE;
- permutation invariance: the order of the observations does not matter;
- functional invariance: ``fit.transform(g).value == g(theta-hat)``, with the delta-method SE.

Data are drawn from a hypothesis-chosen seed at a fixed length ``N``, so every example reuses
one compiled program per family.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mlekit as mk
from mlekit._params import POSITIVE, REAL, SIMPLEX, UNIT, GreaterThan, OpenInterval

N = 500  # one padded shape (512) for every fit in this module

seeds = st.integers(min_value=0, max_value=2**32 - 1)
#: log10 of a positive scale factor
log_scales = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)


def _forward(c, u) -> np.ndarray:
    return np.asarray(c.forward(jnp.asarray(u, dtype=jnp.float64)))


def _reals(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


# -- constraints: forward and inverse are inverse bijections --------------------------------------
@settings(max_examples=50, deadline=None)
@given(u=_reals(-1e6, 1e6))
def test_real_line_is_the_identity(u):
    theta = _forward(REAL, u)
    assert theta == u
    assert REAL.inverse(theta) == u
    assert REAL.contains(theta)


@settings(max_examples=50, deadline=None)
@given(u=_reals(-30.0, 30.0))
def test_positive_round_trip(u):
    theta = _forward(POSITIVE, u)
    assert theta > 0 and POSITIVE.contains(theta)
    assert POSITIVE.inverse(theta) == pytest.approx(u, rel=1e-14, abs=1e-14)
    assert _forward(POSITIVE, POSITIVE.inverse(theta)) == pytest.approx(theta, rel=1e-14)


@settings(max_examples=50, deadline=None)
@given(theta=_reals(1e-12, 1e12))
def test_positive_round_trip_from_natural(theta):
    assert _forward(POSITIVE, POSITIVE.inverse(theta)) == pytest.approx(theta, rel=1e-14)


@settings(max_examples=50, deadline=None)
@given(u=_reals(-30.0, 30.0))
def test_unit_interval_round_trip(u):
    theta = _forward(UNIT, u)
    assert 0 < theta < 1 and UNIT.contains(theta)
    # sigmoid(u) loses the relative precision of 1 - theta as theta -> 1: the round trip is
    # accurate to about eps / (theta (1 - theta))
    tol = 1e-15 / (theta * (1 - theta))
    assert UNIT.inverse(theta) == pytest.approx(u, abs=max(tol, 1e-13))
    assert _forward(UNIT, UNIT.inverse(theta)) == pytest.approx(theta, rel=1e-14, abs=1e-16)


@settings(max_examples=50, deadline=None)
@given(theta=_reals(1e-10, 1 - 1e-10))
def test_unit_interval_round_trip_from_natural(theta):
    back = _forward(UNIT, UNIT.inverse(theta))
    assert back == pytest.approx(theta, rel=1e-13, abs=1e-16)


@settings(max_examples=50, deadline=None)
@given(lower=_reals(-100.0, 100.0), log_width=_reals(-1.0, 2.0), u=_reals(-10.0, 10.0))
def test_open_interval_round_trip(lower, log_width, u):
    upper = lower + 10.0**log_width
    assume(upper > lower)
    c = OpenInterval(lower, upper)
    theta = _forward(c, u)
    assert lower < theta < upper and c.contains(theta)
    # rounding of theta near |lower| >> width shows up in u amplified by 1 / (p (1 - p))
    p = (theta - lower) / (upper - lower)
    tol = 1e-15 * (abs(lower) + abs(upper)) / (upper - lower) / (p * (1 - p))
    assert c.inverse(theta) == pytest.approx(u, abs=max(tol, 1e-12))
    assert _forward(c, c.inverse(theta)) == pytest.approx(theta, abs=1e-14 * (1 + abs(upper)))


@settings(max_examples=50, deadline=None)
@given(lower=_reals(-100.0, 100.0), u=_reals(-10.0, 10.0))
def test_greater_than_round_trip(lower, u):
    c = GreaterThan(lower)
    theta = _forward(c, u)
    assert theta > lower and c.contains(theta)
    # theta - lower cancels where exp(u) << |lower|
    tol = 1e-15 * (abs(lower) + abs(theta)) / (theta - lower)
    assert c.inverse(theta) == pytest.approx(u, abs=max(tol, 1e-13))
    assert _forward(c, c.inverse(theta)) == pytest.approx(theta, abs=1e-14 * (1 + abs(theta)))


@settings(max_examples=50, deadline=None)
@given(u=st.lists(_reals(-20.0, 20.0), min_size=1, max_size=6))
def test_simplex_round_trip(u):
    u = np.asarray(u)
    p = _forward(SIMPLEX, u)
    assert p.shape == (u.size + 1,)
    assert np.all(p > 0) and SIMPLEX.contains(p)
    assert np.sum(p) == pytest.approx(1.0, abs=1e-14)
    assert SIMPLEX.free_size(p.shape) == u.size
    np.testing.assert_allclose(SIMPLEX.inverse(p), u, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_forward(SIMPLEX, SIMPLEX.inverse(p)), p, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(w=st.lists(_reals(1e-3, 1.0), min_size=2, max_size=7))
def test_simplex_round_trip_from_natural(w):
    p = np.asarray(w) / np.sum(w)
    np.testing.assert_allclose(_forward(SIMPLEX, SIMPLEX.inverse(p)), p, rtol=1e-13)


# -- invariance of the MLE ---------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(seed=seeds, log_a=log_scales, negative=st.booleans(), b=_reals(-1e3, 1e3))
def test_normal_is_affine_equivariant(seed, log_a, negative, b):
    a = (-1.0 if negative else 1.0) * 10.0**log_a
    x = np.random.default_rng(seed).normal(3.0, 2.0, N)
    base = mk.fit(mk.Normal(), x)
    moved = mk.fit(mk.Normal(), a * x + b)
    assert base.converged and moved.converged
    mean, sd = base.params["mean"], base.params["sd"]
    # the mean of a*x + b is exact up to rounding of the data themselves
    scale = abs(a) * (abs(mean) + sd) + abs(b)
    assert moved.params["mean"] == pytest.approx(a * mean + b, abs=1e-12 * scale)
    assert moved.params["sd"] == pytest.approx(abs(a) * sd, rel=1e-8)
    assert moved.se["mean"] == pytest.approx(abs(a) * base.se["mean"], rel=1e-8)
    # the log-likelihood moves by the log-Jacobian -n log|a|
    assert moved.loglik == pytest.approx(base.loglik - N * np.log(abs(a)), rel=1e-9, abs=1e-8)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, log_c=log_scales)
def test_exponential_is_scale_equivariant(seed, log_c):
    c = 10.0**log_c
    x = np.random.default_rng(seed).exponential(2.0, N)
    base, scaled = mk.fit(mk.Exponential(), x), mk.fit(mk.Exponential(), c * x)
    assert scaled.converged
    assert scaled.params["rate"] == pytest.approx(base.params["rate"] / c, rel=1e-12)
    assert scaled.se["rate"] == pytest.approx(base.se["rate"] / c, rel=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, log_c=log_scales, shape=_reals(0.3, 30.0))
def test_gamma_is_scale_equivariant(seed, log_c, shape):
    c = 10.0**log_c
    x = np.random.default_rng(seed).gamma(shape, 1.0, N)
    base, scaled = mk.fit(mk.Gamma(), x), mk.fit(mk.Gamma(), c * x)
    assert base.converged and scaled.converged
    assert scaled.params["shape"] == pytest.approx(base.params["shape"], rel=1e-8)
    assert scaled.params["rate"] == pytest.approx(base.params["rate"] / c, rel=1e-8)
    assert scaled.se["shape"] == pytest.approx(base.se["shape"], rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, log_c=log_scales, shape=_reals(0.5, 5.0))
def test_weibull_is_scale_equivariant(seed, log_c, shape):
    c = 10.0**log_c
    x = np.random.default_rng(seed).weibull(shape, N)
    base, scaled = mk.fit(mk.Weibull(), x), mk.fit(mk.Weibull(), c * x)
    assert base.converged and scaled.converged
    assert_same_estimate(scaled.params["shape"], base.params["shape"], base.se["shape"])
    assert_same_estimate(scaled.params["scale"], c * base.params["scale"],
                         c * base.se["scale"])


@settings(max_examples=15, deadline=None)
@given(seed=seeds, log_c=log_scales)
def test_lognormal_is_scale_equivariant(seed, log_c):
    c = 10.0**log_c
    x = np.random.default_rng(seed).lognormal(1.0, 0.5, N)
    base, scaled = mk.fit(mk.LogNormal(), x), mk.fit(mk.LogNormal(), c * x)
    assert scaled.params["meanlog"] == pytest.approx(
        base.params["meanlog"] + np.log(c), abs=1e-12 * (1 + abs(np.log(c))))
    assert scaled.params["sdlog"] == pytest.approx(base.params["sdlog"], rel=1e-10)


PERMUTATION_CASES = {
    "normal": lambda r: r.normal(3.0, 2.0, N),
    "gamma": lambda r: r.gamma(2.5, 1.0, N),
    "weibull": lambda r: 3.0 * r.weibull(1.5, N),
    "student_t": lambda r: 1.0 + 2.0 * r.standard_t(4.0, N),
    "poisson": lambda r: r.poisson(3.0, N).astype(float),
    "categorical": lambda r: r.choice(4, size=N, p=[0.1, 0.2, 0.3, 0.4]).astype(float),
}


def assert_same_estimate(value, expected, se, rtol=1e-8, se_units=1e-5, err_msg=""):
    """``value`` equals ``expected`` to ``rtol``, or to a negligible fraction of its standard
    error: Newton stops once the decrement is below tolerance, and may skip the polishing step
    when the estimate is already within ~1e-8 SE (see newton.POLISH_ABOVE)."""
    value, expected, se = (np.asarray(v, dtype=float) for v in (value, expected, se))
    tol = np.maximum(rtol * np.abs(expected), se_units * se)
    assert np.all(np.abs(value - expected) <= tol), (err_msg, value, expected, se)


@pytest.mark.parametrize("name", ["weibull", "student_t"])
@settings(max_examples=10, deadline=None)
@given(seed=seeds, perm_seed=seeds)
def test_newton_fit_is_permutation_invariant(name, seed, perm_seed):
    x = PERMUTATION_CASES[name](np.random.default_rng(seed))
    shuffled = np.random.default_rng(perm_seed).permutation(x)
    a, b = mk.fit(name, x), mk.fit(name, shuffled)
    assert a.converged and b.converged
    for key in a.params:
        assert_same_estimate(b.params[key], a.params[key], a.se[key], err_msg=key)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-12)
    np.testing.assert_allclose(b.cov, a.cov, rtol=1e-5, atol=1e-12 * np.max(np.abs(a.cov)))


@pytest.mark.parametrize("name", ["normal", "gamma", "poisson", "categorical"])
@settings(max_examples=10, deadline=None)
@given(seed=seeds, perm_seed=seeds)
def test_closed_forms_are_permutation_invariant_to_rounding(name, seed, perm_seed):
    x = PERMUTATION_CASES[name](np.random.default_rng(seed))
    shuffled = np.random.default_rng(perm_seed).permutation(x)
    a, b = mk.fit(name, x), mk.fit(name, shuffled)
    for key in a.params:
        np.testing.assert_allclose(b.params[key], a.params[key], rtol=1e-12, err_msg=key)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-13)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, log_scale=log_scales)
def test_transform_is_invariant_with_the_delta_method_se(seed, log_scale):
    x = np.random.default_rng(seed).exponential(10.0**log_scale, N)
    fit = mk.fit(mk.Exponential(), x)
    rate, se = fit.params["rate"], fit.se["rate"]
    mean = fit.transform(lambda p: 1 / p["rate"])
    assert mean.value == pytest.approx(1 / rate, rel=1e-14)
    assert mean.value == pytest.approx(np.mean(x), rel=1e-12)  # the MLE of the mean is x-bar
    assert mean.se == pytest.approx(se / rate**2, rel=1e-12)
    # the identity transform gives back the estimate and its standard error
    same = fit.transform(lambda p: p["rate"])
    assert same.value == pytest.approx(rate, rel=1e-15)
    assert same.se == pytest.approx(se, rel=1e-14)


@settings(max_examples=15, deadline=None)
@given(seed=seeds)
def test_gamma_mean_transform_matches_the_sample_mean(seed):
    """The MLE of the gamma mean shape/rate is x-bar (the rate's score equation), and its
    delta-method SE is grad' cov grad with grad = (1/rate, -shape/rate^2)."""
    x = np.random.default_rng(seed).gamma(2.5, 1.5, N)
    fit = mk.fit(mk.Gamma(), x)
    a, b = fit.params["shape"], fit.params["rate"]
    mean = fit.transform(lambda p: p["shape"] / p["rate"])
    assert mean.value == pytest.approx(np.mean(x), rel=1e-10)
    grad = np.array([1 / b, -a / b**2])
    assert mean.se == pytest.approx(np.sqrt(grad @ fit.cov @ grad), rel=1e-10)
