"""Multivariate families: closed forms against numpy, fixed parameters, the data checks, the
Dirichlet MLE against an independent reference, and the covariance constraint's bijection."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import mlekit as mk
from mlekit._params import POSITIVE_DEFINITE, CovMatrix

N = 500
COV = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
MEAN = np.array([1.0, -2.0, 10.0])


def _mvn(n=N, seed=0, mean=MEAN):
    return np.random.default_rng(seed).multivariate_normal(mean, COV, n)



# -- multivariate normal ----------------------------------------------------------------------
def test_mvn_closed_form_is_the_mean_and_biased_covariance():
    x = _mvn()
    fit = mk.fit(mk.MultivariateNormal(), x)
    assert fit.converged and fit.iterations == 0 and "closed form" in fit.message
    np.testing.assert_allclose(fit.params["mean"], x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(fit.params["cov"], np.cov(x, rowvar=False, bias=True), rtol=1e-12)
    ref = stats.multivariate_normal(x.mean(axis=0), np.cov(x, rowvar=False, bias=True))
    assert fit.loglik == pytest.approx(ref.logpdf(x).sum(), rel=1e-12)
    assert fit.k == 3 + 6 and fit.param_names == ("mean", "cov")


def test_mvn_standard_errors_are_the_asymptotic_ones():
    # a full exponential family: at the MLE the observed information equals the expected one,
    # so se(mean_i) = sqrt(S_ii / n) and se(S_ij) = sqrt((S_ij^2 + S_ii S_jj) / n)
    x = _mvn()
    fit = mk.fit(mk.MultivariateNormal(), x)
    s = fit.params["cov"]
    np.testing.assert_allclose(fit.se["mean"], np.sqrt(np.diag(s) / N), rtol=1e-8)
    var = np.diag(s)
    np.testing.assert_allclose(fit.se["cov"], np.sqrt((s**2 + np.outer(var, var)) / N),
                               rtol=1e-8)
    # fit.cov covers every natural entry (cov's symmetric entries appear twice)
    assert fit.cov.shape == (3 + 9, 3 + 9)
    i01, i10 = 3 + 1, 3 + 3
    assert fit.cov[i01, i01] == pytest.approx(fit.cov[i10, i10], rel=1e-12)
    assert fit.cov[i01, i10] == pytest.approx(fit.cov[i01, i01], rel=1e-12)


def test_mvn_fixed_mean_gives_the_scatter_about_it():
    x = _mvn()
    mu = np.array([1.5, -2.0, 9.0])
    fit = mk.fit(mk.MultivariateNormal(), x, fixed={"mean": mu})
    assert fit.converged and fit.k == 6
    np.testing.assert_allclose(fit.params["cov"], (x - mu).T @ (x - mu) / N, rtol=1e-12)
    np.testing.assert_array_equal(fit.params["mean"], mu)


def test_mvn_fixed_cov_gives_the_sample_mean():
    x = _mvn()
    fit = mk.fit(mk.MultivariateNormal(), x, fixed={"cov": COV})
    assert fit.converged and fit.k == 3
    np.testing.assert_allclose(fit.params["mean"], x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(fit.se["mean"], np.sqrt(np.diag(COV) / N), rtol=1e-10)
    # no scatter is needed: fewer observations than dimensions are fine
    few = mk.fit(mk.MultivariateNormal(), x[:2], fixed={"cov": COV})
    np.testing.assert_allclose(few.params["mean"], x[:2].mean(axis=0), rtol=1e-13)


def test_mvn_newton_from_start_values_reaches_the_closed_form():
    x = _mvn()
    fit = mk.fit(mk.MultivariateNormal(), x, start={"mean": np.zeros(3), "cov": np.eye(3)})
    assert fit.converged and fit.iterations > 0
    np.testing.assert_allclose(fit.params["cov"], np.cov(x, rowvar=False, bias=True), rtol=1e-8)


def test_mvn_statistics_are_accurate_far_from_the_origin():
    # a one-pass sum(x x') - n mean mean' would lose all digits here
    x = _mvn(mean=MEAN + 1e8)
    fit = mk.fit(mk.MultivariateNormal(d=3), x)
    c = x - x.mean(axis=0)
    np.testing.assert_allclose(fit.params["cov"], c.T @ c / N, rtol=1e-10)


def test_mvn_takes_a_dataframe_with_d_columns():
    x = _mvn()
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    fit = mk.fit(mk.MultivariateNormal(), df)
    np.testing.assert_allclose(fit.params["cov"], np.cov(x, rowvar=False, bias=True), rtol=1e-12)


def test_mvn_singular_scatter_says_why():
    x = np.random.default_rng(1).normal(size=(3, 5))
    with pytest.raises(mk.FitError, match=r"singular: n=3 observations in d=5 dimensions"):
        mk.fit(mk.MultivariateNormal(), x, strict=True)
    y = _mvn()
    collinear = np.column_stack([y, y[:, 0] + 2 * y[:, 1]])
    with pytest.raises(mk.FitError, match="cov is singular: the columns are linearly dependent"):
        mk.fit(mk.MultivariateNormal(), collinear, strict=True)
    constant = y.copy()
    constant[:, 1] = 4.0
    fit = mk.fit(mk.MultivariateNormal(), constant)
    assert not fit.converged and "column 1 is constant" in fit.diagnostics[0].message


def test_mvn_dimension_checks():
    x = _mvn()
    with pytest.raises(mk.DataError, match="at least 2"):
        mk.fit(mk.MultivariateNormal(), x[:, :1])
    with pytest.raises(mk.DataError, match="3 columns but multivariate_normal was built with d=2"):
        mk.fit(mk.MultivariateNormal(d=2), x)
    with pytest.raises(mk.DataError, match="two-dimensional"):
        mk.fit(mk.MultivariateNormal(), x[:, 0])
    with pytest.raises(mk.ModelError, match="learns d from the data"):
        _ = mk.MultivariateNormal().params
    with pytest.raises(mk.ModelError, match="d >= 2"):
        mk.MultivariateNormal(d=1)
    with pytest.raises(mk.ModelError, match="outside the parameter space"):
        mk.fit(mk.MultivariateNormal(), x, fixed={"cov": -np.eye(3)})


# -- multinomial ------------------------------------------------------------------------------
def _counts(seed=2):
    rng = np.random.default_rng(seed)
    trials = rng.integers(1, 30, size=N)  # the number of trials varies by row
    return np.array([rng.multinomial(m, [0.1, 0.2, 0.3, 0.4]) for m in trials], dtype=float)


def test_multinomial_closed_form_pools_the_counts():
    x = _counts()
    fit = mk.fit(mk.Multinomial(), x)
    assert fit.converged and fit.k == 3 and "closed form" in fit.message
    totals = x.sum(axis=0)
    np.testing.assert_allclose(fit.params["probs"], totals / totals.sum(), rtol=1e-14)
    ref = stats.multinomial.logpmf(x, x.sum(axis=1), fit.params["probs"]).sum()
    assert fit.loglik == pytest.approx(ref, rel=1e-12)
    # the pooled counts are binomial: se(p_j) = sqrt(p_j (1 - p_j) / total trials)
    p = fit.params["probs"]
    np.testing.assert_allclose(fit.se["probs"], np.sqrt(p * (1 - p) / totals.sum()), rtol=1e-8)


def test_multinomial_rejects_non_counts_and_unobserved_categories():
    x = _counts()
    bad = x.copy()
    bad[7, 2] = 1.5
    with pytest.raises(mk.DataError, match=r"x\[7, 2\] = 1.5 \(row 7"):
        mk.fit(mk.Multinomial(), bad)
    bad[7, 2] = -1.0
    with pytest.raises(mk.DataError, match=r"x\[7, 2\] = -1.0 .* not a count"):
        mk.fit(mk.Multinomial(), bad)
    empty = x.copy()
    empty[:, 1] = 0.0
    fit = mk.fit(mk.Multinomial(), empty)  # a category never observed: its MLE is 0
    assert fit.params["probs"][1] == 0.0 and fit.se["probs"][1] is None
    assert "categories [1] are never observed" in fit.diagnostics[0].message
    trials = empty.sum()  # deviance -2 T log(1 - psi) over all T trials
    upper = fit.conf_int(method="profile")["probs"][1][1]
    assert upper == pytest.approx(-math.expm1(-stats.chi2.ppf(0.95, 1) / (2 * trials)), rel=1e-9)


def test_multinomial_size_is_checked_and_drives_the_sampler():
    x = _counts()
    with pytest.raises(mk.DataError, match="not size=20"):
        mk.fit(mk.Multinomial(size=20), x)
    draws = mk.Multinomial(size=20).sample({"probs": np.array([0.5, 0.5])}, 5, 0)
    assert draws.shape == (5, 2) and np.all(draws.sum(axis=1) == 20)
    fit = mk.fit(mk.Multinomial(size=20), mk.Multinomial(size=20).sample(
        {"probs": np.array([0.2, 0.3, 0.5])}, N, 3))
    assert fit.converged
    with pytest.raises(mk.ModelError, match="size="):
        mk.Multinomial().sample({"probs": np.array([0.5, 0.5])}, 5)


# -- Dirichlet --------------------------------------------------------------------------------
def _inverse_digamma(y):
    """psi^-1(y) by Newton (Minka 2000, appendix C)."""
    x = np.where(y >= -2.22, np.exp(y) + 0.5, -1.0 / (y + 0.5772156649015329))
    for _ in range(20):
        x = x - (special.digamma(x) - y) / special.polygamma(1, x)
    return x


def _minka_fixed_point(x, iterations=5000):
    """The Dirichlet MLE by Minka's fixed point alpha_j = psi^-1(psi(sum alpha) + mean log x_j),
    an independent reference (no mlekit, no optimizer)."""
    mean_log = np.log(x).mean(axis=0)
    alpha = np.ones(x.shape[1])
    for _ in range(iterations):
        new = _inverse_digamma(special.digamma(alpha.sum()) + mean_log)
        if np.max(np.abs(new - alpha)) < 1e-14 * np.max(alpha):
            break
        alpha = new
    return new


@pytest.mark.parametrize("alpha", [[0.8, 2.0, 5.0], [30.0, 10.0, 60.0]])
def test_dirichlet_fit_matches_minka_fixed_point(alpha):
    x = np.random.default_rng(4).dirichlet(alpha, N)
    fit = mk.fit(mk.Dirichlet(), x)
    assert fit.converged and fit.k == 3
    ref = _minka_fixed_point(x)
    np.testing.assert_allclose(fit.params["alpha"], ref, rtol=1e-7)
    scipy_ll = stats.dirichlet.logpdf(x.T, fit.params["alpha"]).sum()
    assert fit.loglik == pytest.approx(scipy_ll, rel=1e-12)
    assert fit.loglik >= stats.dirichlet.logpdf(x.T, ref).sum() - 1e-9 * abs(fit.loglik)


def test_dirichlet_moment_start_is_close():
    x = np.random.default_rng(5).dirichlet([2.0, 3.0, 5.0], N)
    start = mk.Dirichlet(k=3).start(x)["alpha"]
    np.testing.assert_allclose(start, _minka_fixed_point(x), rtol=0.2)


def test_dirichlet_rejects_rows_off_the_open_simplex():
    x = np.random.default_rng(6).dirichlet([1.0, 2.0, 3.0], N)
    off = x.copy()
    off[11] *= 1.01
    with pytest.raises(mk.DataError, match=r"row 11 of the data .* sums to 1.01"):
        mk.fit(mk.Dirichlet(), off)
    zero = x.copy()
    zero[4] = [0.0, 0.5, 0.5]
    with pytest.raises(mk.DataError, match=r"x\[4, 0\] = 0.0 .* not positive"):
        mk.fit(mk.Dirichlet(), zero)
    with pytest.raises(mk.FitError, match="no maximum likelihood"):
        mk.fit(mk.Dirichlet(), np.tile([0.2, 0.3, 0.5], (10, 1)), strict=True)
    with pytest.raises(mk.DataError, match="at least 2"):
        mk.fit(mk.Dirichlet(), np.ones((5, 1)))


def test_dirichlet_takes_a_dataframe():
    x = np.random.default_rng(7).dirichlet([1.0, 2.0, 3.0, 4.0], N)
    fit = mk.fit("dirichlet", pd.DataFrame(x, columns=list("abcd")))
    assert fit.params["alpha"].shape == (4,)
    np.testing.assert_allclose(fit.params["alpha"], _minka_fixed_point(x), rtol=1e-7)


# -- the covariance constraint ----------------------------------------------------------------
def _forward(u):
    return np.asarray(POSITIVE_DEFINITE.forward(jnp.asarray(u, dtype=jnp.float64)))


@settings(max_examples=50, deadline=None)
@given(d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), log_scale=st.floats(-3.0, 3.0))
def test_positive_definite_round_trip(d, seed, log_scale):
    m = d * (d + 1) // 2
    assert POSITIVE_DEFINITE.free_size((d, d)) == m
    u = np.random.default_rng(seed).normal(size=m)
    u[np.arange(d) * (np.arange(d) + 3) // 2] += log_scale  # the diagonal entries of L
    theta = _forward(u)
    assert theta.shape == (d, d) and np.array_equal(theta, theta.T)
    assert POSITIVE_DEFINITE.contains(theta)
    # the Cholesky factor of theta loses digits in proportion to its condition number
    tol = max(1e-9, 1e-14 * np.linalg.cond(theta))
    np.testing.assert_allclose(POSITIVE_DEFINITE.inverse(theta), u, rtol=tol, atol=tol)


@settings(max_examples=50, deadline=None)
@given(d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_positive_definite_round_trip_from_natural(d, seed):
    a = np.random.default_rng(seed).normal(size=(d, d))
    theta = a @ a.T + 0.1 * np.eye(d)
    np.testing.assert_allclose(_forward(POSITIVE_DEFINITE.inverse(theta)), theta,
                               rtol=1e-12, atol=1e-12 * np.abs(theta).max())


def test_positive_definite_contains_and_init():
    assert not POSITIVE_DEFINITE.contains(np.array([[1.0, 2.0], [2.0, 1.0]]))  # indefinite
    assert not POSITIVE_DEFINITE.contains(np.array([[1.0, 0.5], [0.4, 1.0]]))  # asymmetric
    assert not POSITIVE_DEFINITE.contains(np.ones(2))
    assert POSITIVE_DEFINITE.describe() == "a symmetric positive definite matrix"
    np.testing.assert_array_equal(CovMatrix(2, init=np.eye(2)).start(), np.eye(2))
    with pytest.raises(mk.ModelError, match="not a symmetric positive definite 2 x 2"):
        CovMatrix(2, init=np.zeros((2, 2)))
