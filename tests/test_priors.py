"""MAP estimation: priors on any parameter, penalties (L2, L1, elastic net) with exact zeros.

References nobody here wrote: conjugate posterior modes in closed form, and scikit-learn's
LogisticRegression optimum (its objective C * sum(loss) + penalty, divided by C, is ours with
alpha = 1 / C)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mlekit as mk
from conftest import shared_csv

BIRTHWT = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui + ftv"


def _coefs(fit, names=None):
    names = names or [n for n in fit.param_names if n != "Intercept"]
    return np.array([fit.params[n] for n in names])


def _penalized_nll(X, y, intercept, beta, alpha, l1_ratio):
    """scikit-learn's objective divided by C: sum of log losses + alpha (r|b|_1 + (1-r)|b|^2/2)."""
    eta = intercept + X @ beta
    nll = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
    return nll + alpha * (l1_ratio * np.sum(np.abs(beta))
                          + 0.5 * (1.0 - l1_ratio) * np.sum(beta**2))


def _sklearn(X, y, alpha, l1_ratio):
    from sklearn.linear_model import LogisticRegression

    solver = "lbfgs" if l1_ratio == 0 else "saga"
    model = LogisticRegression(C=1.0 / alpha, l1_ratio=l1_ratio, solver=solver, tol=1e-14,
                               max_iter=1_000_000)
    model.fit(X, y)
    return model.intercept_[0], model.coef_[0]


# -- conjugate closed forms --------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), frac=st.floats(0.0, 1.0), a=st.floats(1.2, 20.0),
       b=st.floats(1.2, 20.0))
def test_bernoulli_with_a_beta_prior_has_the_conjugate_mode(n, frac, a, b):
    k = int(round(frac * n))
    x = np.r_[np.ones(k), np.zeros(n - k)]
    fit = mk.fit(mk.Bernoulli(), x, prior={"prob": mk.priors.Beta(a, b)})
    assert fit.converged
    # to Newton's tolerance: a decrement ~0 puts it within ~1e-8 posterior sds of the mode
    mode = (k + a - 1) / (n + a + b - 2)
    assert abs(fit.params["prob"] - mode) <= 1e-6 * fit.se["prob"]
    # the log-posterior is the log-likelihood plus the Beta log-density at the mode
    p = fit.params["prob"]
    assert fit.loglik == pytest.approx(k * math.log(p) + (n - k) * math.log1p(-p), rel=1e-12)
    assert fit.log_posterior == pytest.approx(fit.loglik + stats.beta.logpdf(p, a, b),
                                              rel=1e-12)


def test_normal_mean_with_a_normal_prior_is_the_precision_weighted_mean():
    x = np.array([1.0, 2.0, 4.0, 7.5])
    sd, mu0, tau = 2.0, -1.0, 0.5
    fit = mk.fit(mk.Normal(), x, fixed={"sd": sd}, prior={"mean": mk.priors.Normal(mu0, tau)})
    precision = len(x) / sd**2 + 1 / tau**2
    assert fit.params["mean"] == pytest.approx((x.sum() / sd**2 + mu0 / tau**2) / precision,
                                               rel=1e-10)
    assert fit.se["mean"] == pytest.approx(precision ** -0.5, rel=1e-9)  # the Laplace sd


def test_poisson_zeros_with_a_gamma_prior_give_the_posterior_mode_and_say_so():
    fit = mk.fit(mk.Poisson(), np.zeros(10), prior={"lambda": mk.priors.Gamma(2.0, 1.0)})
    assert fit.converged and abs(fit.params["lambda"] - 1 / 11) <= 1e-6 * fit.se["lambda"]
    assert [d.code for d in fit.diagnostics] == ["without_prior"]


def test_a_flat_prior_gives_the_mle_exactly():
    x = shared_csv("groundbeef.csv")["serving"].to_numpy()
    mle = mk.fit(mk.Gamma(), x)
    flat = mk.fit(mk.Gamma(), x, prior={"shape": mk.priors.Flat(), "rate": mk.priors.Flat()})
    assert flat.params == mle.params and flat.se == mle.se and flat.loglik == mle.loglik
    assert flat.prior == {"shape": "Flat()", "rate": "Flat()"}
    assert "Maximum a posteriori" in str(flat) and "the MAP estimate is the MLE" in str(flat)


def test_a_map_fit_says_what_it_is():
    fit = mk.fit(mk.Normal(), [1.0, 2.0, 4.0, 7.5],
                 prior={"mean": mk.priors.Cauchy(0.0, 2.5), "sd": mk.priors.HalfCauchy(2.0)})
    text = str(fit)
    assert text.startswith("Maximum a posteriori (MAP) fit: normal")
    assert "mean ~ Cauchy(0, 2.5); sd ~ HalfCauchy(2)" in text
    assert "Laplace approximation (inverse negative Hessian of the log-posterior)" in text
    m, s = fit.params["mean"], fit.params["sd"]
    lp = stats.cauchy.logpdf(m, 0, 2.5) + math.log(2) + stats.cauchy.logpdf(s, 0, 2)
    assert fit.log_posterior == pytest.approx(fit.loglik + lp, rel=1e-12)
    assert fit.loglik == pytest.approx(stats.norm.logpdf([1.0, 2.0, 4.0, 7.5], m, s).sum(),
                                       rel=1e-12)


# -- the separation of the regression issue: an L2 prior gives a MAP estimate --------------------
def test_separated_data_with_an_l2_prior_converge_and_the_error_becomes_a_note():
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0, 0, 0, 1, 1, 1]
    assert mk.glm(X=x, y=y, family="binomial").diagnostics[0].code == "separation"
    fit = mk.glm(X=x, y=y, family="binomial", penalty=mk.L2(1.0))
    assert fit.converged
    assert [(d.code, d.severity) for d in fit.diagnostics if d.code != "small_sample"] == [
        ("without_prior", "note")]
    assert "complete separation" in fit.diagnostics[-1].message
    b0, b1 = _sklearn(np.array(x)[:, None], np.array(y, dtype=float), 1.0, 0.0)
    assert fit.params["x1"] == pytest.approx(b1[0], rel=1e-7)
    assert fit.params["Intercept"] == pytest.approx(b0, rel=1e-7)


# -- penalties against scikit-learn -------------------------------------------------------------
@pytest.fixture(scope="module")
def sparse_problem():
    rng = np.random.default_rng(20261130)
    n, p = 5000, 50
    X = rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[:5] = [1.0, -1.0, 0.5, -0.5, 0.8]
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + X @ beta)))).astype(float)
    return X, y


@pytest.mark.parametrize("alpha,l1_ratio", [(10.0, 0.0), (20.0, 1.0), (20.0, 0.5)])
def test_penalized_logistic_regression_reaches_sklearns_optimum(sparse_problem, alpha, l1_ratio):
    X, y = sparse_problem
    penalty = mk.ElasticNet(alpha, l1_ratio)
    fit = mk.glm(X=X, y=y, family="binomial", penalty=penalty)
    assert fit.converged
    ours = _penalized_nll(X, y, fit.params["Intercept"], _coefs(fit), alpha, l1_ratio)
    b0, b = _sklearn(X, y, alpha, l1_ratio)
    theirs = _penalized_nll(X, y, b0, b, alpha, l1_ratio)
    assert ours <= theirs * (1 + 1e-12)  # at least as good an optimum
    assert ours == pytest.approx(theirs, rel=1e-8)
    assert fit.log_posterior == pytest.approx(-ours, rel=1e-12)  # loglik - penalty
    if l1_ratio > 0:
        assert set(np.flatnonzero(_coefs(fit))) == set(np.flatnonzero(b))
        assert np.sum(_coefs(fit) == 0.0) > 10  # exact zeros, not 1e-9


@pytest.mark.parametrize("alpha,l1_ratio", [(5.0, 0.0), (3.0, 1.0)])
def test_penalized_birthwt_reaches_sklearns_optimum(alpha, l1_ratio):
    bw = shared_csv("birthwt.csv")
    fit = mk.glm(BIRTHWT, bw, family="binomial", penalty=mk.ElasticNet(alpha, l1_ratio))
    rows = fit._context.x
    X, y = rows[:, 5:], rows[:, 0]  # the design without its intercept column
    ours = _penalized_nll(X, y, fit.params["Intercept"], _coefs(fit), alpha, l1_ratio)
    from sklearn.linear_model import LogisticRegression

    if l1_ratio == 0:
        b0, b = _sklearn(X, y, alpha, 0.0)
    else:  # saga crawls on birthwt's unscaled columns (lwt ~ 100); liblinear penalizes the
        # intercept too, unless its scaling is huge, which makes that penalty ~0
        model = LogisticRegression(C=1 / alpha, l1_ratio=1.0, solver="liblinear", tol=1e-12,
                                   intercept_scaling=1e6, max_iter=100_000).fit(X, y)
        b0, b = model.intercept_[0], model.coef_[0]
    theirs = _penalized_nll(X, y, b0, b, alpha, l1_ratio)
    assert ours <= theirs * (1 + 1e-10)
    assert ours == pytest.approx(theirs, rel=1e-6)
    if l1_ratio > 0:
        assert set(np.flatnonzero(_coefs(fit))) == set(np.flatnonzero(np.abs(b) > 1e-8))


def test_zeros_of_the_l1_penalty_have_no_se_and_the_others_treat_them_as_known(sparse_problem):
    X, y = sparse_problem
    fit = mk.glm(X=X, y=y, family="binomial", penalty=mk.L1(20.0))
    zero = [n for n in fit.param_names if fit.params[n] == 0.0]
    assert zero and all(fit.se[n] is None for n in zero)
    assert "l1_zero" in [d.code for d in fit.diagnostics]
    # the same SEs when the zeros are fixed at 0: the L1 term is linear around the others
    held = mk.glm(X=X, y=y, family="binomial", penalty=mk.L1(20.0, params=[
        n for n in fit.param_names if n != "Intercept" and n not in zero]),
        fixed=dict.fromkeys(zero, 0.0))
    for name in held.param_names:
        assert held.params[name] == pytest.approx(fit.params[name], rel=1e-7, abs=1e-10)
        assert held.se[name] == pytest.approx(fit.se[name], rel=1e-6)


def test_standardized_penalties_do_not_depend_on_the_units(sparse_problem):
    X, y = sparse_problem
    X = X[:500, :5]
    y = y[:500]
    a = mk.glm(X=X, y=y, family="binomial", penalty=mk.L1(5.0, standardize=True))
    b = mk.glm(X=X * 1000.0, y=y, family="binomial", penalty=mk.L1(5.0, standardize=True))
    np.testing.assert_allclose(_coefs(a), _coefs(b) * 1000.0, rtol=1e-7, atol=1e-12)


def test_priors_on_all_coefficients_and_on_the_scale_of_a_linear_model():
    mtcars = shared_csv("mtcars.csv")
    fit = mk.lm("mpg ~ wt + hp", mtcars,
                prior={"coefficients": mk.priors.Normal(0.0, 10.0),
                       "sd": mk.priors.HalfCauchy(5.0)})
    assert set(fit.prior) == {"wt", "hp", "sd"} and fit.converged
    mle = mk.lm("mpg ~ wt + hp", mtcars)
    assert abs(fit.params["wt"]) < abs(mle.params["wt"])  # shrunk towards 0


# -- bad specifications -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"prior": {"mean": mk.priors.Beta(2.0, 2.0)}}, r"lives on \[0, 1\].*mean must be"),
    ({"prior": {"nosuch": mk.priors.Normal()}}, "has no parameter 'nosuch'"),
    ({"prior": {"mean": 3.0}}, "is not a prior"),
    ({"prior": [mk.priors.Normal()]}, "must be a dict"),
    ({"prior": {"sd": mk.priors.Laplace(0.0, 1.0)}}, "needs a parameter on the real line"),
    ({"prior": {"mean": mk.priors.Normal()}, "fixed": {"mean": 1.0}}, "is fixed"),
    ({"penalty": mk.L2}, r"needs its strength: mk.L2\(alpha\)"),
    ({"penalty": mk.L2(1.0)}, "has none: name the parameters"),
    ({"starts": 5, "prior": {"mean": mk.priors.Normal()}}, "starts="),
])
def test_bad_priors_are_refused_with_the_rule(kwargs, match):
    with pytest.raises(mk.ModelError, match=match):
        mk.fit(mk.Normal(), [1.0, 2.0, 4.0], **kwargs)


@pytest.mark.parametrize("bad,match", [
    (lambda: mk.priors.Normal(0.0, -1.0), r"Normal\(scale=-1.0\): scale must be a positive"),
    (lambda: mk.priors.Beta(0.0, 1.0), "a must be a positive"),
    (lambda: mk.L1(-1.0), "alpha must be a finite number >= 0"),
    (lambda: mk.ElasticNet(1.0, 1.5), r"l1_ratio must be in \[0, 1\]"),
])
def test_bad_prior_numbers_are_refused(bad, match):
    with pytest.raises(mk.ModelError, match=match):
        bad()


def test_likelihood_only_inference_refuses_a_map_fit():
    fit = mk.fit(mk.Normal(), [1.0, 2.0, 4.0, 7.5], prior={"mean": mk.priors.Normal(0, 1)})
    assert set(fit.conf_int(method="profile")) == {"mean", "sd"}  # the profile posterior
    for call in (lambda: fit.cov_as("robust"), lambda: fit.bootstrap(50),
                 lambda: fit.score_test({"mean": 0.0}), lambda: mk.lr_test(fit, fit),
                 lambda: fit.information_matrix_test()):
        with pytest.raises(mk.ModelError, match="MAP|prior"):
            call()


# -- the strength of the penalty: path and cross-validation -------------------------------------
def _sparse_data(n, amplitude, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 50))
    beta = np.zeros(50)
    beta[:5] = amplitude * np.array([1.0, -1.0, 1.0, -1.0, 1.0])
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + X @ beta)))).astype(float)
    return X, y


def test_the_path_starts_with_every_coefficient_zero_and_ends_near_the_mle():
    X, y = _sparse_data(400, 1.0, 1)
    mle = mk.glm(X=X[:, :8], y=y, family="binomial")
    p = mk.path(mle, penalty=mk.L1, n_alphas=12)
    table = p.to_pandas()
    assert table["nonzero"].iloc[0] == 0 and table["nonzero"].iloc[-1] == 8
    assert list(table["alpha"]) == sorted(table["alpha"], reverse=True)
    assert table["converged"].all()
    # at alpha_max the score of every coefficient is within alpha: it is the smallest such
    assert p.alphas[0] == pytest.approx(mk.path(mle, penalty=mk.L1, n_alphas=2).alphas[0])
    last = p.fits[-1]
    np.testing.assert_allclose(_coefs(last), _coefs(mle), atol=0.02)


def test_cross_validation_is_reproducible_and_the_one_se_choice_finds_the_support():
    # n = 2000, five coefficients of +-0.5 among 50: the lasso's one-standard-error choice
    # keeps exactly the true five here (on other seeds it may keep a few noise columns too:
    # cross-validation tunes prediction, not selection)
    X, y = _sparse_data(2000, 0.5, 0)
    fit = mk.glm(X=X, y=y, family="binomial")
    result = mk.cv(fit, penalty=mk.L1, folds=5, seed=0, n_alphas=20)
    chosen = [n for n in result.one_se.param_names
              if n != "Intercept" and result.one_se.params[n] != 0.0]
    assert chosen == ["x1", "x2", "x3", "x4", "x5"]
    assert result.alpha_1se >= result.best_alpha
    table = result.to_pandas()
    assert list(table.columns) == ["alpha", "heldout_loglik", "se", "nonzero", "choice"]
    assert table.loc[table["choice"] == "best", "heldout_loglik"].item() == table[
        "heldout_loglik"].max()
    again = mk.cv(fit, penalty=mk.L1, folds=5, seed=0, n_alphas=20)
    np.testing.assert_array_equal(again.mean, result.mean)


def test_cv_refuses_bad_arguments():
    fit = mk.glm(X=[0.0, 1, 2, 3, 4, 5, 6, 7], y=[0, 1, 0, 1, 1, 0, 1, 1], family="binomial")
    with pytest.raises(mk.ModelError, match="folds=1 must be an integer >= 2"):
        mk.cv(fit, folds=1)
    with pytest.raises(mk.ModelError, match="too few"):
        mk.cv(fit, folds=5)
    with pytest.raises(mk.ModelError, match="alphas="):
        mk.path(fit, alphas=[-1.0])


def test_the_command_line_fits_a_penalized_glm_and_cross_validates(tmp_path):
    import json

    from typer.testing import CliRunner

    from mlekit.cli import app

    bw = shared_csv("birthwt.csv")
    path = tmp_path / "birthwt.csv"
    bw.to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["glm", str(path), BIRTHWT, "--family", "binomial", "--penalty",
                              "l2", "--alpha", "5", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    direct = mk.glm(BIRTHWT, bw, family="binomial", penalty=mk.L2(5.0))
    assert got["params"]["age"] == pytest.approx(direct.params["age"], rel=1e-12)
    assert got["prior"]["age"] == "L2(alpha=5)" and got["log_posterior"] == pytest.approx(
        direct.log_posterior, rel=1e-12)
    cv = runner.invoke(app, ["glm", str(path), BIRTHWT, "--family", "binomial", "--penalty",
                             "l1", "--cv", "3", "--standardize"])
    assert cv.exit_code == 0 and "one-standard-error choice" in cv.output
    assert "Maximum a posteriori" in cv.output
    bad = runner.invoke(app, ["glm", str(path), BIRTHWT, "--family", "binomial", "--alpha", "1"])
    assert bad.exit_code == 2 and "--penalty" in bad.output
