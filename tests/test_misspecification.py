"""The information-matrix test (White 1982) and the "misspecified" diagnostic built on it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlekit as mk
from conftest import shared_csv
from mlekit._inference.misspecification import (
    information_matrix_test,
    misspecification_diagnostic,
)


@pytest.fixture(scope="module")
def toxocara():
    return shared_csv("toxocara.csv")["number"].to_numpy(dtype=float)


@pytest.fixture(scope="module")
def dax_returns():
    return np.diff(np.log(shared_csv("eustockmarkets.csv")["DAX"].to_numpy(dtype=float)))


def _context(model, x, **kw):
    return mk.fit(model, x, **kw)._context


# -- real data: flagged where the family is wrong, quiet where it fits --------------------------
def test_poisson_on_overdispersed_toxocara_is_flagged(toxocara):
    diag = misspecification_diagnostic(_context(mk.Poisson(), toxocara))
    assert diag is not None and diag.code == "misspecified" and diag.severity == "warning"
    assert "poisson" in diag.message and "lambda" in diag.message
    assert "1 df" in diag.message and "p < 1e-300" in diag.message
    assert "cov='robust'" in diag.remedy and "negative binomial" in diag.remedy


def test_normal_on_dax_returns_is_flagged(dax_returns):
    diag = misspecification_diagnostic(_context(mk.Normal(), dax_returns))
    assert diag is not None and diag.code == "misspecified"
    assert "normal" in diag.message and "2 df" in diag.message and "sd" in diag.message
    assert "Student t" in diag.remedy


def test_families_that_fit_are_not_flagged(toxocara, dax_returns):
    nb = information_matrix_test(_context(mk.NegativeBinomial(), toxocara))
    t = information_matrix_test(_context(mk.StudentT(), dax_returns))
    assert nb.p_value > 0.5 and nb.df == 3  # statistic 2.13
    # statistic ~10.0 on 5 df, p ~0.075: some residual structure (volatility clustering makes
    # returns dependent), but not at the diagnostic's level 0.01
    assert 0.02 < t.p_value < 0.2 and t.df == 5
    assert misspecification_diagnostic(_context(mk.NegativeBinomial(), toxocara)) is None
    assert misspecification_diagnostic(_context(mk.StudentT(), dax_returns)) is None


def test_result_is_a_finite_test_result(toxocara, dax_returns):
    for model, x in [(mk.Poisson(), toxocara), (mk.Normal(), dax_returns),
                     (mk.Gamma(), toxocara + 0.5)]:
        test = information_matrix_test(_context(model, x))
        assert isinstance(test, mk.TestResult) and test.name == "information matrix"
        assert math.isfinite(test.statistic) and test.statistic >= 0
        assert 0.0 <= test.p_value <= 1.0 and test.distribution == f"chi2({test.df})"
        assert test.to_dict()["test"] == "information matrix" and "coordinates" in test.note


# -- independent references ---------------------------------------------------------------------
def test_poisson_is_the_dean_lawless_overdispersion_statistic(toxocara):
    # model-based variance of (x - lambda)^2 - lambda given the score x - lambda is 2 lambda^2,
    # so T = n (m2 - mean)^2 / (2 mean^2): Dean & Lawless (1989), squared
    for x in (toxocara, np.array([0, 1, 1, 2, 0, 3, 1, 0, 2, 5, 1, 0.0])):
        n, mean, m2 = x.size, x.mean(), x.var()
        test = information_matrix_test(_context(mk.Poisson(), x))
        assert test.df == 1
        assert test.statistic == pytest.approx(n * (m2 - mean) ** 2 / (2 * mean**2), rel=1e-9)
    assert information_matrix_test(_context(mk.Poisson(), toxocara)).statistic == \
        pytest.approx(12936.62, rel=1e-6)


def test_normal_is_jarque_bera(dax_returns):
    # with the model's variance the indicators are (z^3 - 3z)/sd and z^4 - 4z^2 + 1 (the mean's
    # is linear in the scores and drops out), whose residual variances given the scores are 6 and
    # 24 (Hermite polynomials): T = n b1 / 6 + n (b2 - 3)^2 / 24 (Hall 1987), up to the Monte
    # Carlo error of the variance (about 3% with 2^20 draws)
    rng = np.random.default_rng(7)
    for x in (dax_returns, rng.normal(3.0, 2.0, 300), rng.standard_t(5, 400)):
        z = (x - x.mean()) / x.std()
        jb = x.size * np.mean(z**3) ** 2 / 6 + x.size * (np.mean(z**4) - 3) ** 2 / 24
        test = information_matrix_test(_context(mk.Normal(), x))
        assert test.df == 2
        assert test.statistic == pytest.approx(jb, rel=0.05)


def _white_normal_numpy(x):
    """White's sample form for the normal in (mean, log sd), written out by hand."""
    n, mu, sd = x.size, x.mean(), x.std()
    z = (x - mu) / sd
    s = np.c_[z / sd, z**2 - 1]
    hbar = np.array([[-1 / sd**2, 0.0], [0.0, -2.0]])  # mean Hessian at the maximum
    d = np.c_[(z**2 - 1) / sd**2, (z**3 - 3 * z) / sd, z**4 - 4 * z**2 + 1]
    grad = [np.c_[-2 * z / sd**3, (2 - 4 * z**2) / sd**2],  # d d_i / d(mean, log sd)
            np.c_[-3 * (z**2 - 1) / sd**2, (6 * z - 4 * z**3) / sd],
            np.c_[-(4 * z**3 - 8 * z) / sd, 8 * z**2 - 4 * z**4]]
    big_d = np.array([g.mean(axis=0) for g in grad])
    psi = d - s @ np.linalg.solve(hbar, big_d.T)
    v = psi.T @ psi / n
    # the first indicator is (z^2 - 1)/sd^2 = score(log sd)/sd^2 exactly: dropped
    dbar = d.mean(axis=0)[1:]
    return n * dbar @ np.linalg.solve(v[1:, 1:], dbar)


def test_white_form_matches_a_direct_numpy_implementation(toxocara):
    x = np.array([1.2, -0.3, 2.8, 0.4, 1.9, -1.1, 0.7, 3.6, 1.0, 0.2, -0.6, 2.2])
    test = information_matrix_test(_context(mk.Normal(), x), variance="white")
    assert test.df == 2 and "White" in test.note
    assert test.statistic == pytest.approx(_white_normal_numpy(x), rel=1e-8)
    # Poisson in u = log(lambda): s = x - lam, d = s^2 - lam, D = -lam, Hbar = -lam: psi = d - s
    lam = toxocara.mean()
    s, d = toxocara - lam, (toxocara - lam) ** 2 - lam
    white = toxocara.size * d.mean() ** 2 / np.mean((d - s) ** 2)
    test = information_matrix_test(_context(mk.Poisson(), toxocara), variance="white")
    assert test.statistic == pytest.approx(white, rel=1e-9)


# -- size: false alarms at the nominal rate --------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("model, draw", [
    (mk.Normal(), lambda rng, n: rng.normal(10.0, 2.0, n)),
    (mk.Poisson(), lambda rng, n: rng.poisson(3.0, n).astype(float)),
], ids=["normal", "poisson"])
def test_false_alarm_rate_is_nominal(model, draw):
    # R fits of data simulated from the model itself (one n: no recompiles); the rejection rate
    # at 0.05 must be 0.05 within Monte Carlo error (0.051 with the slack). Measured at 200 reps:
    # normal 0.025, poisson 0.045 (at 300: 0.043, 0.040)
    reps, n, alpha = 200, 150, 0.05
    p = np.array([information_matrix_test(_context(model, draw(np.random.default_rng(i), n)))
                  .p_value for i in range(reps)])
    rate = float(np.mean(p < alpha))
    assert abs(rate - alpha) <= 3 * math.sqrt(alpha * (1 - alpha) / reps) + 0.005, rate


# -- when it does not run ------------------------------------------------------------------------
def test_large_data_use_a_strided_subsample():
    x = np.random.default_rng(3).gamma(2.0, 1.5, 50_001)
    test = information_matrix_test(_context(mk.Gamma(), x))
    assert "on 16667 of the 50001 observations (every 3)" in test.note
    assert test.p_value > 0.01
    assert misspecification_diagnostic(_context(mk.Gamma(), x)) is None


def test_skipped_where_it_does_not_apply():
    rng = np.random.default_rng(5)
    # order-statistic estimates (presolved): no smooth likelihood
    for model, x in [(mk.Uniform(), rng.uniform(0, 1, 200)),
                     (mk.Pareto(), 1 + rng.pareto(3.0, 200))]:
        ctx = _context(model, x)
        assert misspecification_diagnostic(ctx) is None
        with pytest.raises(mk.ModelError, match="order statistics"):
            information_matrix_test(ctx)
    # k = 11 free parameters: 66 indicators, too costly for every fit
    labels = rng.integers(0, 12, 2000).astype(float)
    assert misspecification_diagnostic(_context(mk.Categorical(), labels)) is None
    # binary data: H + s s' is linear in the score, the equality holds whatever the data
    binary = _context(mk.Bernoulli(), rng.integers(0, 2, 300).astype(float))
    assert misspecification_diagnostic(binary) is None
    with pytest.raises(mk.ModelError, match="linear function of the scores"):
        information_matrix_test(binary)
    with pytest.raises(mk.ModelError, match="variance="):
        information_matrix_test(_context(mk.Poisson(), [1.0, 2, 3]), variance="sandwich")


def test_fixed_parameters_leave_the_free_ones_tested(dax_returns):
    test = information_matrix_test(_context(mk.Normal(), dax_returns, fixed={"mean": 0.0}))
    assert test.df == 1 and test.p_value < 1e-10
