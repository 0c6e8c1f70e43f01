"""Censored observations against R: fitdistrplus::fitdistcens and survival::survreg (intercept
only), references in tests/reference/censored.R / .out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mlekit as mk
from conftest import reference_block, shared_csv

OUT = Path(__file__).parent / "reference" / "censored.out"


def _r(title_start: str) -> dict:
    return reference_block(OUT, title_start)


@pytest.mark.parametrize("name", ["fluazinam", "salinity", "smokedfish"])
def test_lognormal_fits_of_censored_data_match_fitdistcens(name):
    data = shared_csv(f"{name}.csv")
    ref = _r(f"fitdistcens({name}")
    fit = mk.fit(mk.LogNormal(), mk.Censored(data["left"], data["right"]))
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["loglik"][0], rel=1e-10)
    # optim's Nelder-Mead (reltol 1e-14) lands ~1e-7 from the maximum; ours has score ~0
    np.testing.assert_allclose([fit.params["meanlog"], fit.params["sdlog"]], ref["estimate"],
                               rtol=1e-6)
    # fitdistcens's SEs come from optim's finite-difference Hessian: ~1e-5 accurate
    np.testing.assert_allclose([fit.se["meanlog"], fit.se["sdlog"]], ref["se"], rtol=1e-4)


@pytest.mark.parametrize("dist", ["weibull", "lognormal"])
def test_lung_survival_matches_survreg(dist):
    lung = shared_csv("lung.csv")
    ref = _r(f'survreg(Surv(time, status) ~ 1, lung, dist="{dist}")')
    data = mk.Survival(lung["time"], lung["status"])  # R's coding: 1 censored, 2 dead
    # survreg's log-linear parametrization: log T = mu + sigma W
    if dist == "weibull":
        fit = mk.fit(mk.Weibull(), data)
        mu, log_sigma = fit.transform("log(scale)"), fit.transform("-log(shape)")
    else:
        fit = mk.fit(mk.LogNormal(), data)
        mu, log_sigma = fit.transform("meanlog"), fit.transform("log(sdlog)")
    assert fit.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    np.testing.assert_allclose([mu.value, log_sigma.value], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose([mu.se, log_sigma.se], ref["se"], rtol=1e-4)


def test_ovarian_weibull_and_exponential_match_survreg():
    ovarian = shared_csv("ovarian.csv")
    data = mk.Survival(ovarian["futime"], ovarian["fustat"])
    weibull = mk.fit(mk.Weibull(), data)
    ref = _r('survreg(Surv(futime, fustat) ~ 1, ovarian, dist="weibull")')
    assert weibull.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    got = [weibull.transform("log(scale)"), weibull.transform("-log(shape)")]
    np.testing.assert_allclose([g.value for g in got], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose([g.se for g in got], ref["se"], rtol=1e-4)
    exponential = mk.fit(mk.Exponential(), data)
    ref = _r('survreg(Surv(futime, fustat) ~ 1, ovarian, dist="exponential")')
    assert exponential.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    mu = exponential.transform("-log(rate)")
    assert mu.value == pytest.approx(ref["estimate"][0], rel=1e-6)
    assert mu.se == pytest.approx(ref["se"][0], rel=1e-4)


def test_censored_data_are_coded_and_checked():
    data = mk.Censored([1.0, 2.0, None, 4.0], [1.0, 3.0, 0.5, np.nan])
    assert data.counts == {"exact": 1, "interval": 1, "left-censored": 1, "right-censored": 1}
    for left, right, match in [([1.0], [1.0, 2.0], "one pair per observation"),
                               ([None], [None], "neither left nor right"),
                               ([3.0], [2.0], "left <= right"),
                               ([1.0], [np.inf], "infinite")]:
        with pytest.raises(mk.DataError, match=match):
            mk.Censored(left, right)
    with pytest.raises(mk.DataError, match="outside the support"):
        mk.fit(mk.LogNormal(), mk.Censored([-1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    with pytest.raises(mk.DataError, match="event has values"):
        mk.Survival([1.0, 2.0], [0, 5])


def test_data_that_are_all_censored_on_one_side_have_no_mle():
    fit = mk.fit(mk.Weibull(), mk.Survival([1.0, 2.0, 3.0, 4.0, 5.0], [0, 0, 0, 0, 0]))
    assert not fit.converged and fit.diagnostics[0].code == "no_estimate"
    assert "every observation is right-censored" in fit.diagnostics[0].message
    left = mk.fit(mk.LogNormal(), mk.Censored([None, None, None], [1.0, 2.0, 3.0]))
    assert "left-censored" in left.diagnostics[0].message



AFT_DISTS = ["weibull", "lognormal", "loglogistic", "exponential", "gaussian", "logistic"]


@pytest.fixture(scope="module")
def lung():
    return shared_csv("lung.csv")


def _survreg_scale(fit) -> list:
    """survreg's parameters: the coefficients, then Log(scale) where it is estimated."""
    out = [fit.transform(name) for name in fit.param_names if name != "scale"]
    return out + ([fit.transform("log(scale)")] if "scale" in fit.params else [])


def _assert_matches(fit, ref):
    assert fit.converged
    assert fit.loglik == pytest.approx(ref["loglik"][0], rel=1e-8)
    got = _survreg_scale(fit)
    np.testing.assert_allclose([g.value for g in got], ref["estimate"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([g.se for g in got], ref["se"], rtol=1e-4)


@pytest.mark.parametrize("dist", AFT_DISTS)
def test_aft_regression_matches_survreg(lung, dist):
    fit = mk.aft("Surv(time, status) ~ age + sex", lung, dist=dist)
    assert fit.param_names[:3] == ("Intercept", "age", "sex")
    _assert_matches(fit, _r(f'survreg(Surv(time, status) ~ age + sex, lung, dist="{dist}")'))


def test_aft_with_interval_and_left_censored_lifetimes_matches_survreg(lung):
    lo = np.floor(lung["time"] / 30.4) * 30.4
    hi = np.where(lung["status"] == 2, lo + 30.4, np.nan)
    table = lung.assign(lo=np.where(lo == 0, np.nan, lo), hi=hi)
    fit = mk.aft("Censored(lo, hi) ~ age + sex", table, dist="weibull")
    _assert_matches(fit, _r('survreg(Surv(lo, hi, type="interval2")'))
    # the same through arrays, with an interval's 0 end read as left-censoring
    X = lung[["age", "sex"]].to_numpy()
    arrays = mk.aft(X=X, y=mk.Censored(lo, hi), names=["age", "sex"], dist="weibull")
    assert arrays.loglik == pytest.approx(fit.loglik, rel=1e-12)


def test_aft_with_frequency_weights_matches_survreg(lung):
    w = np.resize([1.0, 2.0, 3.0], len(lung))
    fit = mk.aft("Surv(time, status) ~ age + sex", lung.assign(w=w), weights="w")
    _assert_matches(fit, _r("survreg(Surv(time, status) ~ age + sex, lung, weights="))


def test_aft_predictions_and_inference(lung):
    fit = mk.aft("Surv(time, status) ~ age + sex", lung, dist="lognormal")
    new = lung.iloc[:3]
    eta, se = fit.predict(new, scale="link", se=True)
    beta = [fit.params[c] for c in ("Intercept", "age", "sex")]
    np.testing.assert_allclose(eta, new[["age", "sex"]].to_numpy() @ beta[1:] + beta[0])
    median, se_median = fit.predict(new, se=True)  # exp(eta): the lognormal's median
    np.testing.assert_allclose(median, np.exp(eta))
    np.testing.assert_allclose(se_median, np.exp(eta) * se)
    profile = fit.conf_int(method="profile")
    wald = fit.conf_int()
    assert profile["age"].lower == pytest.approx(wald["age"].lower, rel=0.05)
    robust = fit.cov_as("robust")
    assert robust.se["sex"] > 0 and robust.se["sex"] != fit.se["sex"]
    smaller = mk.aft("Surv(time, status) ~ age", lung, dist="lognormal")
    assert mk.lr_test(smaller, fit).p_value < 0.01


def test_aft_refuses_bad_specifications(lung):
    with pytest.raises(mk.ModelError, match="dist="):
        mk.aft("Surv(time, status) ~ age", lung, dist="gompertz")
    with pytest.raises(mk.ModelError, match="not a column"):
        mk.aft("Surv(days, status) ~ age", lung)
    with pytest.raises(mk.DataError, match="outside the support"):
        mk.aft("Surv(time, status) ~ age", lung.assign(time=lung["time"] - 100))
    everyone_alive = mk.aft("Surv(time, status) ~ age", lung.assign(status=0))
    assert everyone_alive.diagnostics[0].code == "no_estimate"


# -- truncation ---------------------------------------------------------------------------------

def _truncnorm_sample(a, b, loc, scale, n, seed):
    from scipy import stats

    return stats.truncnorm.rvs((a - loc) / scale, (b - loc) / scale, loc=loc, scale=scale,
                               size=n, random_state=seed)


@pytest.mark.parametrize("lower, upper", [(-1.0, 5.0), (0.5, None), (None, 2.0)])
def test_truncated_normal_matches_scipy_truncnorm(lower, upper):
    from scipy import optimize, stats

    a, b = (-np.inf if lower is None else lower), (np.inf if upper is None else upper)
    x = _truncnorm_sample(a, b, 1.0, 2.0, 400, seed=3)
    fit = mk.fit(mk.Normal(), mk.Truncated(x, lower=lower, upper=upper))
    assert fit.converged

    def nll(theta):
        m, s = theta[0], np.exp(theta[1])
        return -stats.truncnorm.logpdf(x, (a - m) / s, (b - m) / s, loc=m, scale=s).sum()

    m, s = fit.params["mean"], fit.params["sd"]
    assert fit.loglik == pytest.approx(-nll([m, np.log(s)]), rel=1e-12)
    best = optimize.minimize(nll, [np.mean(x), np.log(np.std(x))], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000})
    np.testing.assert_allclose([m, np.log(s)], best.x, rtol=1e-6, atol=1e-7)
    assert fit.loglik >= -best.fun - 1e-9


def test_truncation_combined_with_censoring_matches_a_direct_likelihood():
    from scipy import optimize, stats

    rng = np.random.default_rng(7)
    t = stats.weibull_min.rvs(1.5, scale=10.0, size=3000, random_state=rng)
    entry = rng.uniform(0, 8, t.size)  # delayed entry: only lifetimes past entry are seen
    seen = t > entry
    t, entry = t[seen], entry[seen]
    stop = entry + rng.exponential(12, t.size)
    event = t <= stop
    time = np.minimum(t, stop)
    data = mk.Truncated(mk.Survival(time, event), lower=entry)
    fit = mk.fit(mk.Weibull(), data)

    def nll(theta):
        k, lam = np.exp(theta)
        d = stats.weibull_min(k, scale=lam)
        return -(np.where(event, d.logpdf(time), d.logsf(time)) - d.logsf(entry)).sum()

    best = optimize.minimize(nll, [0.0, 2.0], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    np.testing.assert_allclose(np.log([fit.params["shape"], fit.params["scale"]]), best.x,
                               rtol=1e-6)
    assert fit.loglik == pytest.approx(-nll(np.log([fit.params["shape"],
                                                    fit.params["scale"]])), rel=1e-12)
    naive = mk.fit(mk.Weibull(), mk.Survival(time, event))  # ignoring entry: biased
    assert abs(fit.params["shape"] - 1.5) < abs(naive.params["shape"] - 1.5)


def test_zero_truncated_poisson_solves_its_score_equation():
    x = np.array([1, 2, 1, 3, 1, 1, 2, 4, 1, 2, 5, 1])
    fit = mk.fit(mk.Poisson(), mk.Truncated(x, lower=1))
    lam = fit.params["lambda"]
    assert lam / -np.expm1(-lam) == pytest.approx(x.mean(), rel=1e-10)  # E[X | X >= 1]


def test_discrete_censoring_ends_are_inclusive():
    from scipy import stats

    fit = mk.fit(mk.Poisson(), mk.Censored([2, 3, 1, 0, 6], [4, 3, 1, 2, None]))
    d = stats.poisson(fit.params["lambda"])
    expected = (np.log(d.cdf(4) - d.cdf(1)) + d.logpmf(3) + d.logpmf(1) + np.log(d.cdf(2))
                + d.logsf(5))
    assert fit.loglik == pytest.approx(expected, rel=1e-12)


def test_truncated_data_are_checked():
    with pytest.raises(mk.DataError, match="outside its truncation range"):
        mk.Truncated([0.5, 3.0], lower=1.0)
    with pytest.raises(mk.DataError, match="lower < upper"):
        mk.Truncated([0.5], lower=1.0, upper=0.0)
    with pytest.raises(mk.DataError, match="lower= or upper="):
        mk.Truncated([0.5, 1.0])
    with pytest.raises(mk.DataError, match="one number or one per observation"):
        mk.Truncated([0.5, 1.0, 2.0], lower=[0.0, 0.1])
    # a bound at the support's end truncates nothing
    x = [0.5, 1.2, 2.0, 0.7, 3.1]
    same = mk.fit(mk.Gamma(), mk.Truncated(x, lower=0.0))
    assert same.loglik == pytest.approx(mk.fit(mk.Gamma(), x).loglik, rel=1e-12)


# -- binned data --------------------------------------------------------------------------------

def test_binned_fits_converge_to_the_exact_fit_as_bins_shrink():
    # a Weibull: its CDF is elementary (the gamma's incomplete gamma compiles for ~20 s)
    rng = np.random.default_rng(11)
    x = 4.5 * rng.weibull(1.8, 5000)
    exact = mk.fit(mk.Weibull(), x)
    errors = []
    for width in (1.0, 0.1, 0.01):
        edges = np.arange(0.0, x.max() + width, width)
        counts, _ = np.histogram(x, edges)
        fit = mk.fit(mk.Weibull(), mk.Binned(edges, counts))
        assert fit.converged and fit.n == x.size
        errors.append(abs(fit.params["shape"] / exact.params["shape"] - 1))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 1e-4


def test_binned_data_with_open_end_bins_match_a_direct_likelihood():
    from scipy import stats

    edges, counts = [-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0, np.inf], [30, 120, 80, 90, 110, 70]
    fit = mk.fit(mk.Normal(), mk.Binned(edges, counts))
    d = stats.norm(fit.params["mean"], fit.params["sd"])
    expected = np.dot(counts, np.log(np.diff(d.cdf(edges))))
    assert fit.loglik == pytest.approx(expected, rel=1e-12)
    with pytest.raises(mk.DataError, match="one more edge"):
        mk.Binned([0, 1, 2], [3, 4, 5])
    with pytest.raises(mk.DataError, match="increase strictly"):
        mk.Binned([0, 2, 1], [3, 4])
    with pytest.raises(mk.ModelError, match="weights=counts"):
        mk.fit(mk.Poisson(), mk.Binned([0, 2, 4], [3, 4]))
    with pytest.raises(mk.ModelError, match="twice"):
        mk.fit(mk.Normal(), mk.Binned(edges, counts), weights=np.ones(6))


# -- inference and diagnostics on censored fits ---------------------------------------------------

def test_every_inference_works_on_a_censored_fit():
    data = shared_csv("fluazinam.csv")
    censored = mk.Censored(data["left"], data["right"])
    fit = mk.fit(mk.LogNormal(), censored)
    profile = fit.conf_int(method="profile")
    assert profile["sdlog"].lower < fit.params["sdlog"] < profile["sdlog"].upper
    for kind in ("opg", "robust"):
        assert np.all(np.isfinite(list(fit.cov_as(kind).se.values())))
    with pytest.raises(mk.ModelError, match="censoring and truncation mechanism"):
        fit.cov_as("expected")
    boot = fit.bootstrap(replicates=40, seed=1)
    assert boot.se["meanlog"] == pytest.approx(fit.se["meanlog"], rel=0.5)
    at_estimate = fit.score_test({"meanlog": fit.params["meanlog"]})
    assert at_estimate.p_value == pytest.approx(1, abs=1e-6)
    mapped = mk.fit(mk.LogNormal(), censored, prior={"sdlog": mk.priors.Gamma(2.0, 1.0)})
    assert mapped.converged and mapped.params["sdlog"] != fit.params["sdlog"]
    weighted = mk.fit(mk.LogNormal(), censored, weights=np.full(len(censored), 2.0))
    assert weighted.loglik == pytest.approx(2 * fit.loglik, rel=1e-10)
    q10 = "exp(meanlog - 1.2815515655446004 * sdlog)"  # the 10% quantile
    wald, profile = fit.transform(q10), fit.transform(q10, method="profile")
    assert wald.conf_int.lower < wald.value < wald.conf_int.upper
    assert profile.conf_int.lower < wald.value < profile.conf_int.upper
    assert profile.conf_int.lower != pytest.approx(wald.conf_int.lower, rel=1e-3)


def test_intercept_only_aft_equals_the_family_fit_with_truncation():
    rng = np.random.default_rng(5)
    life = 10.0 * rng.weibull(1.3, 600)
    entry = rng.uniform(0, 5, life.size)
    seen = life > entry
    table = {"time": np.minimum(life[seen], 12.0), "status": (life[seen] <= 12.0).astype(int),
             "entry": entry[seen]}
    aft = mk.aft("Surv(time, status) ~ 1", table, dist="weibull", lower="entry")
    family = mk.fit(mk.Weibull(), mk.Truncated(mk.Survival(table["time"], table["status"]),
                                               lower=table["entry"]))
    assert aft.loglik == pytest.approx(family.loglik, rel=1e-12)
    assert aft.params["Intercept"] == pytest.approx(np.log(family.params["scale"]), rel=1e-9)
    assert aft.params["scale"] == pytest.approx(1 / family.params["shape"], rel=1e-9)
    assert aft.statistics["observations"]["truncated"] == seen.sum()


def test_families_with_order_statistic_estimates_refuse_censoring_unless_held():
    data = mk.Censored([1.0, 2.0, 3.0, 4.0, 2.5], [1.0, 2.0, 3.0, None, 2.5])
    with pytest.raises(mk.ModelError, match="min and max are estimated at an order statistic"):
        mk.fit(mk.Uniform(), data)
    with pytest.raises(mk.ModelError, match="location is estimated"):
        mk.fit(mk.Laplace(), data)
    held = mk.fit(mk.Laplace(), data, fixed={"location": 2.5})
    assert held.converged
