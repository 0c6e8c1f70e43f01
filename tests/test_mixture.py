"""Gaussian mixtures: against mclust (tests/reference/mixture.R / .out, tight EM tolerance) on
Old Faithful, and against scikit-learn's GaussianMixture iterate by iterate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlekit as mk
from conftest import reference_block, shared_csv
from mlekit._mixtures.gaussian import em_steps

OUT = Path(__file__).parent / "reference" / "mixture.out"


def _mclust(title_start: str) -> dict:
    return reference_block(OUT, title_start)


@pytest.fixture(scope="module")
def faithful():
    return shared_csv("faithful.csv")[["eruptions", "waiting"]].to_numpy()


def _by_mclust_order(ref, k, d):
    """mclust's components (means column by column, covariances d x d each) sorted as ours."""
    means = ref["mean"].reshape(k, d)  # R: a d x G matrix, read column by column
    covs = ref["variance"].reshape(k, d, d)
    order = np.lexsort(means.T[::-1])
    return ref["pro"][order], means[order], covs[order]


@pytest.mark.parametrize("title,k,seed,rtol", [
    ('Mclust(faithful, G=2, modelNames="VVV", control', 2, 0, 1e-6),
    # three components have several local maxima: k-means++ from seed 2 ends at mclust's.
    # That maximum is flat (a weight moves 1e-5 for 1.5e-10 of log-likelihood), and EM,
    # linear, stops short of it even at tol 1e-14: ours, Newton's, is higher by 1.5e-10
    ('Mclust(faithful, G=3, modelNames="VVV", control', 3, 2, 3e-5)])
def test_faithful_mixtures_match_mclust(faithful, title, k, seed, rtol):
    ref = _mclust(title)
    fit = mk.fit(mk.GaussianMixture(k, seed=seed), faithful)
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    assert fit.loglik >= ref["loglik"][0] - 1e-12 * abs(ref["loglik"][0])
    weights, means, covs = _by_mclust_order(ref, k, 2)
    np.testing.assert_allclose(fit.params["weights"], weights, rtol=rtol)
    np.testing.assert_allclose(fit.params["means"], means, rtol=rtol)
    for j in range(k):
        np.testing.assert_allclose(fit.params[f"cov{j + 1}"], covs[j], rtol=rtol)


def test_three_components_have_a_higher_maximum_than_mclusts(faithful):
    # from seed 0 a thin component sits on the many eruptions recorded as ~1.8 min
    # (Old Faithful's values are rounded): a legitimate local maximum above mclust's
    ref = _mclust('Mclust(faithful, G=3, modelNames="VVV", control')["loglik"][0]
    fit = mk.fit(mk.GaussianMixture(3), faithful)
    assert fit.converged and fit.loglik > ref + 10
    assert np.min(np.linalg.eigvalsh(fit.params["cov1"])) < 0.01


def test_one_variable_mixture_matches_mclust(faithful):
    ref = _mclust('Mclust(faithful$waiting, G=2, modelNames="V"')
    fit = mk.fit(mk.GaussianMixture(2), faithful[:, 1:])
    assert fit.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    np.testing.assert_allclose(fit.params["weights"], ref["pro"], rtol=1e-6)
    np.testing.assert_allclose(fit.params["means"].ravel(), ref["mean"], rtol=1e-6)
    np.testing.assert_allclose([fit.params["cov1"][0, 0], fit.params["cov2"][0, 0]],
                               ref["variance"], rtol=1e-6)


def test_mclusts_default_tolerance_stops_short_and_newton_does_not(faithful):
    tight = _mclust('Mclust(faithful, G=2, modelNames="VVV", control')["loglik"][0]
    default = _mclust('Mclust(faithful, G=2, modelNames="VVV") default')["loglik"][0]
    fit = mk.fit(mk.GaussianMixture(2), faithful)
    assert default < tight - 1e-8  # EM's relative-change rule stopped before the maximum
    assert fit.loglik >= tight - 1e-9 * abs(tight)
    assert fit.score_max < 1e-6  # the score of the marginal likelihood is ~0


@pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")
@pytest.mark.parametrize("covariance", ["full", "tied", "diag", "spherical"])
def test_em_iterates_match_scikit_learn(faithful, covariance):
    from sklearn.mixture import GaussianMixture as SkGM

    model, x = mk.GaussianMixture(2, covariance).prepare(faithful)
    start = {"weights": np.array([0.5, 0.5]), "means": np.array([[2.0, 55.0], [4.5, 80.0]])}
    spread = np.cov(x, rowvar=False, bias=True)
    if covariance == "full":
        start.update(cov1=spread, cov2=spread * 1.5)
        precisions = np.stack([np.linalg.inv(spread), np.linalg.inv(spread * 1.5)])
    elif covariance == "tied":
        start["cov"] = spread
        precisions = np.linalg.inv(spread)
    elif covariance == "diag":
        start["var"] = np.stack([np.diag(spread), np.diag(spread) * 1.5])
        precisions = 1 / start["var"]
    else:
        start["var"] = np.array([1.0, 2.0])
        precisions = 1 / start["var"]
    steps = 7
    ours, _, done = em_steps(model, x, start, maxiter=steps, tol=None, floor=0.0)
    sk = SkGM(2, covariance_type=covariance, weights_init=start["weights"],
              means_init=start["means"], precisions_init=precisions, max_iter=steps, tol=0.0,
              reg_covar=0.0, n_init=1).fit(x)
    assert done == steps
    np.testing.assert_allclose(ours["weights"], sk.weights_, rtol=1e-10)
    np.testing.assert_allclose(ours["means"], sk.means_, rtol=1e-10)
    if covariance == "full":
        np.testing.assert_allclose(np.stack([ours["cov1"], ours["cov2"]]), sk.covariances_,
                                   rtol=1e-10)
    elif covariance == "tied":
        np.testing.assert_allclose(ours["cov"], sk.covariances_, rtol=1e-10)
    else:
        np.testing.assert_allclose(ours["var"], sk.covariances_, rtol=1e-10)


def test_every_covariance_structure_fits_with_standard_errors(faithful):
    for covariance in ("full", "tied", "diag", "spherical"):
        fit = mk.fit(mk.GaussianMixture(2, covariance), faithful)
        assert fit.converged, covariance
        assert np.all(np.isfinite(fit.se["means"])) and fit.se["means"].shape == (2, 2)


def test_bad_mixture_specifications_are_refused(faithful):
    with pytest.raises(mk.ModelError, match="k must be a number of components"):
        mk.GaussianMixture(0)
    with pytest.raises(mk.ModelError, match=r"covariance='banana'\) must be one of"):
        mk.GaussianMixture(2, "banana")
    with pytest.raises(mk.DataError, match="two-dimensional"):
        mk.fit(mk.GaussianMixture(2), faithful[:, 0])


def test_responsibilities_labels_and_samples(faithful):
    from sklearn.mixture import GaussianMixture as SkGM

    fit = mk.fit(mk.GaussianMixture(2), faithful)
    resp = fit.predict_proba()
    assert resp.shape == (272, 2) and np.allclose(resp.sum(axis=1), 1.0)
    sk = SkGM(2, tol=1e-14, max_iter=100_000, reg_covar=0.0, random_state=0).fit(faithful)
    order = np.argsort(sk.means_[:, 0])  # ours: components sorted by their means
    np.testing.assert_allclose(resp, sk.predict_proba(faithful)[:, order], atol=1e-6)
    np.testing.assert_array_equal(fit.predict(), np.argmax(resp, axis=1))
    new = fit.predict_proba([[2.0, 50.0], [4.5, 85.0]])
    assert new[0, 0] > 0.99 and new[1, 1] > 0.99
    draws = fit.sample(20_000, seed=1)
    assert draws.shape == (20_000, 2)
    np.testing.assert_allclose(draws.mean(axis=0), faithful.mean(axis=0), rtol=0.02)
    np.testing.assert_array_equal(draws, fit.sample(20_000, seed=1))
    with pytest.raises(mk.ModelError, match="not a mixture"):
        mk.fit(mk.Normal(), faithful[:, 0]).predict_proba()


def test_multiple_starts_find_the_distinct_maxima_of_three_components(faithful):
    fit = mk.fit(mk.GaussianMixture(3), faithful, starts=8)
    assert len(fit.optima) >= 3 and fit.optima.failed == 0
    assert [d.code for d in fit.diagnostics] == ["multiple_optima"]
    ref = _mclust('Mclust(faithful, G=3, modelNames="VVV", control')["loglik"][0]
    assert any(abs(o.loglik - ref) < 1e-6 for o in fit.optima)  # mclust's is among them
    assert fit.loglik == max(o.loglik for o in fit.optima)


def test_bic_picks_the_three_components_of_a_simulated_mixture():
    rng = np.random.default_rng(20261130)
    means = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 4.0]])
    covs = [np.eye(2), np.array([[1.0, 0.5], [0.5, 1.0]]), np.diag([0.5, 2.0])]
    x = np.vstack([rng.multivariate_normal(m, c, n)
                   for m, c, n in zip(means, covs, [300, 200, 250], strict=True)])
    table = mk.select_k(mk.GaussianMixture, x, k=[2, 3, 4])
    assert table.best_k == 3
    frame = table.to_pandas()
    assert frame.loc[frame["BIC"].idxmin(), "k"] == 3 and (frame["ICL"] >= frame["BIC"]).all()
    fit = table.best
    np.testing.assert_allclose(fit.params["means"], means[np.lexsort(means.T[::-1])], atol=0.2)
    np.testing.assert_allclose(fit.params["weights"], np.array([300, 250, 200]) / 750,
                               atol=0.03)


def test_the_command_line_fits_a_mixture(tmp_path):
    import json

    from typer.testing import CliRunner

    from mlekit.cli import app

    path = tmp_path / "faithful.csv"
    shared_csv("faithful.csv").to_csv(path, index=False)
    runner = CliRunner()
    out = runner.invoke(app, ["mixture", str(path), "--columns", "eruptions,waiting", "--k",
                              "2", "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    ref = _mclust('Mclust(faithful, G=2, modelNames="VVV", control')
    assert got["loglik"] == pytest.approx(ref["loglik"][0], rel=1e-8)
    text = runner.invoke(app, ["mixture", str(path), "-c", "eruptions,waiting", "--covariance",
                               "diag"])
    assert text.exit_code == 0 and "gaussian mixture (k=2, diag)" in text.output
    bad = runner.invoke(app, ["mixture", str(path), "--columns", "eruptions,nosuch"])
    assert bad.exit_code == 2 and "nosuch" in bad.output and "Traceback" not in bad.output


def test_a_component_trapped_by_a_repeated_point_is_reported_and_a_prior_fixes_it():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2)),
                   np.tile([[2.5, 2.5]], (5, 1))])
    fit = mk.fit(mk.GaussianMixture(3), x)
    assert not fit.converged and fit.cov is None
    (d,) = fit.diagnostics
    assert d.code == "degenerate_component" and d.severity == "error"
    assert "component 2" in d.message and "InverseWishart" in d.remedy
    prior = {f"cov{j}": mk.priors.InverseWishart(4.0, np.cov(x.T) / 3) for j in (1, 2, 3)}
    fixed = mk.fit(mk.GaussianMixture(3), x, prior=prior)
    assert fixed.converged and fixed.diagnostics == ()
    smallest = min(np.linalg.eigvalsh(fixed.params[f"cov{j}"]).min() for j in (1, 2, 3))
    assert smallest > 1e-3


def test_the_inverse_wishart_prior_is_scipys():
    import jax.numpy as jnp
    from scipy import stats

    prior = mk.priors.InverseWishart(5.0, [[2.0, 0.3], [0.3, 1.0]])
    value = np.array([[1.0, 0.2], [0.2, 0.7]])
    ours = float(prior.log_density(jnp.asarray(value), 5.0, jnp.asarray(prior.scale)))
    assert ours == pytest.approx(stats.invwishart.logpdf(value, 5.0, prior.scale), rel=1e-12)
    with pytest.raises(mk.ModelError, match="df must exceed"):
        mk.priors.InverseWishart(0.5, np.eye(2))
    with pytest.raises(mk.ModelError, match="covariance matrix"):
        mk.fit(mk.Normal(), [1.0, 2.0, 3.0], prior={"sd": prior})


def test_every_interval_type_and_transforms_work_on_a_mixture(faithful):
    fit = mk.fit(mk.GaussianMixture(2), faithful)
    wald = fit.conf_int()
    profile = fit.conf_int(method="profile")
    lo, hi = profile["weights"]
    assert np.all(lo < fit.params["weights"]) and np.all(fit.params["weights"] < hi)
    np.testing.assert_allclose(lo, wald["weights"][0], rtol=0.05)  # near-quadratic here
    boot = fit.conf_int(method="bootstrap", replicates=50, seed=1)
    assert np.all(boot["means"][0] < fit.params["means"])
    # the mixture's mean waiting time: by invariance the MLE is the sample mean
    mean = fit.transform("weights[0] * means[0,1] + weights[1] * means[1,1]")
    assert mean.value == pytest.approx(faithful[:, 1].mean(), rel=1e-9) and mean.se > 0


# -- mixtures of any univariate families --------------------------------------------------------
def _scipy_mixture_optimum(logpdfs, x, theta0):
    """The maximum of sum log(sum_j w_j f_j) with scipy.stats densities, by scipy's optimizer
    from theta0 (its own implementation of the likelihood: the reference)."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    def nll(theta):
        return -float(np.sum(logsumexp(np.stack(logpdfs(x, theta), axis=1), axis=1)))

    res = minimize(nll, theta0, method="BFGS", options={"gtol": 1e-9})
    return -res.fun, res.x


def test_a_gamma_mixture_reaches_the_scipy_optimum():
    from scipy import stats

    rng = np.random.default_rng(1)
    x = np.r_[rng.gamma(2.0, 1.0, 400), rng.gamma(20.0, 0.5, 300)]
    fit = mk.fit(mk.Mixture(mk.Gamma(), k=2), x)
    assert fit.converged
    p = fit.params

    def logpdfs(x, t):  # t: logit w, log shapes, log rates
        w = 1 / (1 + np.exp(-t[0]))
        return [np.log(w) + stats.gamma.logpdf(x, np.exp(t[1]), scale=np.exp(-t[2])),
                np.log1p(-w) + stats.gamma.logpdf(x, np.exp(t[3]), scale=np.exp(-t[4]))]

    w = p["weights"][0]
    theta = np.log([w / (1 - w), p["shape1"], p["rate1"], p["shape2"], p["rate2"]])
    ll, best = _scipy_mixture_optimum(logpdfs, x, theta + 0.05)
    assert fit.loglik >= ll - 1e-8 * abs(ll)
    np.testing.assert_allclose(best, theta, atol=1e-4)
    assert fit.params["shape1"] < fit.params["shape2"]  # ordered by their means


def test_a_mixture_of_different_families_masks_each_support():
    from scipy import stats

    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(-3.0, 1.0, 300), rng.exponential(2.0, 300)]
    fit = mk.fit(mk.Mixture([mk.Normal(), mk.Exponential()]), x)
    assert fit.converged and fit.diagnostics == ()
    p = fit.params

    def logpdfs(x, t):
        w = 1 / (1 + np.exp(-t[0]))
        return [np.log(w) + stats.norm.logpdf(x, t[1], np.exp(t[2])),
                np.log1p(-w) + stats.expon.logpdf(x, scale=np.exp(-t[3]))]

    w = p["weights"][0]
    theta = np.array([np.log(w / (1 - w)), p["mean1"], np.log(p["sd1"]), np.log(p["rate2"])])
    ll, best = _scipy_mixture_optimum(logpdfs, x, theta + 0.05)
    assert fit.loglik >= ll - 1e-8 * abs(ll)
    np.testing.assert_allclose(best, theta, atol=1e-4)
    resp = fit.predict_proba()
    assert np.all(resp[x < 0, 0] == 1.0)  # no exponential density below 0


def test_poisson_mixtures_sample_and_classify():
    rng = np.random.default_rng(2)
    x = np.r_[rng.poisson(2.0, 600), rng.poisson(9.0, 400)].astype(float)
    fit = mk.fit(mk.Mixture(mk.Poisson(), k=2), x, starts=4)
    assert fit.converged and len(fit.optima) >= 1
    assert fit.params["lambda1"] == pytest.approx(2.0, abs=0.3)
    assert fit.params["lambda2"] == pytest.approx(9.0, abs=0.5)
    draws = fit.sample(5000, seed=0)
    assert draws.mean() == pytest.approx(x.mean(), rel=0.05)
    assert fit.predict([0.0, 15.0]).tolist() == [0, 1]


def test_bad_mixtures_are_refused():
    with pytest.raises(mk.ModelError, match="k must be a number of components >= 2"):
        mk.Mixture(mk.Gamma(), k=1)
    with pytest.raises(mk.ModelError, match="two or more families"):
        mk.Mixture([mk.Gamma()])
    with pytest.raises(mk.ModelError, match="univariate families"):
        mk.Mixture([mk.Normal(), mk.MultivariateNormal()])
    with pytest.raises(mk.DataError, match="outside the support of every component"):
        mk.fit(mk.Mixture(mk.Exponential(), k=2), [1.0, 2.0, -1.0, 3.0, 4.0, 5.0])


def test_intervals_on_a_mixture_of_families():
    rng = np.random.default_rng(3)
    x = np.r_[rng.exponential(1.0, 300), rng.exponential(8.0, 200)]
    fit = mk.fit(mk.Mixture(mk.Exponential(), k=2), x)
    assert fit.converged and fit.params["rate1"] > fit.params["rate2"]  # means ascending
    profile = fit.conf_int(method="profile")
    boot = fit.conf_int(method="bootstrap", replicates=50, seed=0)
    for name in ("rate1", "rate2"):
        assert profile[name][0] < fit.params[name] < profile[name][1]
        assert boot[name][0] < fit.params[name] < boot[name][1]
