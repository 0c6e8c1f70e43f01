"""Goodness of fit (mlekit._gof.gof, exposed as fit.gof()): the statistics against R's
fitdistrplus::gofstat, the bootstrap p-values' calibration, the discrete chi-square, the
result object and the refusals."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import mlekit as mk
from mlekit import _gof
from mlekit._gof import GoodnessOfFit, gof

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():  # the repository checked out elsewhere: the shared copy
    DATA = Path("/work/shared/data")


def column(name: str, col: str) -> np.ndarray:
    import pandas as pd

    return pd.read_csv(DATA / f"{name}.csv")[col].to_numpy(dtype=float)


# -- against R -----------------------------------------------------------------------------------
# tests/reference/gof.R -> gof.out (R 4.2.2, fitdistrplus 1.1.8), groundbeef$serving, n = 254.
# R's fitdist uses optim for the gamma and the Weibull, which stops ~1e-4 (relative) short of the
# maximum; mlekit's Newton reaches the exact MLE. So the reference numbers are the statistics at
# the exact MLE (closed form, or uniroot on the profile score to 1e-15) computed by the very
# function gofstat calls:
#   fitdistrplus:::compute.gofstat.KSCvMAD(sort(x), n, dist, pdist, exact_mle, NULL, "mle")
# For the normal and the lognormal fitdist's estimate is the closed form, and
# gofstat(fitdist(x, dist, method = "mle")) prints the same numbers.
R_EXACT = {
    #            exact MLE (R)                              ks                  cvm
    #            ad
    "normal": ((73.6456692913386, 35.8141588943249), 0.165541861617378, 0.944901920724898,
               5.29555391434701),
    "lognormal": ((4.16937008945371, 0.536609513395256), 0.149308979684621,
                  0.827735776472374, 4.54365415719826),
    "gamma": ((4.00833903182906, 0.054427355612348), 0.128047897261898, 0.69367629305919,
              3.56709098145581),
    "weibull": ((2.18561233225938, 83.3466688316322), 0.139625636675338, 0.683959984464801,
                3.57307185091281),
}
# gofstat(fitdist(x, dist, method = "mle")) at R's optim estimate (same file): the statistics
# move in the 4th-5th digit with the estimate
R_OPTIM = {"gamma": (0.128124576377289, 0.693411203632795, 3.566019236437),
           "weibull": (0.139664576050963, 0.684099390043837, 3.57364604319343)}
FAMILIES = {"normal": mk.Normal(), "lognormal": mk.LogNormal(), "gamma": mk.Gamma(),
            "weibull": mk.Weibull()}


@pytest.fixture(scope="module")
def groundbeef():
    return column("groundbeef", "serving")


@pytest.mark.parametrize("name", list(R_EXACT))
def test_edf_statistics_match_fitdistrplus_gofstat(groundbeef, name):
    fit = mk.fit(FAMILIES[name], groundbeef)
    mle, ks, cvm, ad = R_EXACT[name]
    np.testing.assert_allclose(list(fit.params.values()), mle, rtol=1e-9)
    result = gof(fit, replicates=19)
    got = [result[k]["statistic"] for k in ("ks", "cvm", "ad")]
    np.testing.assert_allclose(got, [ks, cvm, ad], rtol=1e-8)
    if name in R_OPTIM:  # R's own fit: the same statistics, to its optimizer's accuracy
        np.testing.assert_allclose(got, R_OPTIM[name], rtol=1e-3)
    # the groundbeef servings are rounded (33 distinct values in 254): the result says so
    assert any("ties" in note for note in result.notes)


def test_anderson_darling_uses_the_log_tails():
    """Far in a tail 1 - u rounds to 0 (or u to 1); AD from logcdf / logsf stays finite and
    equals the formula evaluated in high precision."""
    from mpmath import mp, mpf, ncdf

    mp.dps = 40
    x = np.array([-9.0, -1.0, 0.0, 0.5, 2.0, 9.5])
    params = {"mean": 0.0, "sd": 1.0}
    got = _gof.edf_statistics(mk.Normal(), x, params)
    n = x.size
    u = [ncdf(mpf(float(v))) for v in np.sort(x)]
    ad = -n - sum((2 * i + 1) * (mp.log(u[i]) + mp.log(1 - u[n - 1 - i]))
                  for i in range(n)) / n
    assert got["ad"] == pytest.approx(float(ad), rel=1e-12)
    assert math.isfinite(got["ad"])


# -- the bootstrap p-values ----------------------------------------------------------------------
def test_bootstrap_p_values_are_uniform_under_the_null():
    """200 exponential samples of size 30, each tested with 99 refitted replicates: under the
    null the p-values are (nearly) uniform; the textbook tables, made for a known law, would
    pile them up near 1."""
    rng = np.random.default_rng(20240611)
    p = []
    for i in range(200):
        fit = mk.fit(mk.Exponential(), rng.exponential(2.5, 30))
        result = gof(fit, replicates=99, seed=i)
        assert result.replicates + result.failed == 99
        p.append([result[k]["p_value"] for k in ("ks", "cvm", "ad")])
    p = np.array(p)
    assert np.all((p >= 0.01) & (p <= 1.0))
    for j in range(3):
        assert stats.kstest(p[:, j], "uniform").pvalue > 0.01
    # and they detect a wrong law: lognormal data under an exponential fit
    fit = mk.fit(mk.Exponential(), np.random.default_rng(1).lognormal(0.0, 0.3, 100))
    assert gof(fit, replicates=99)["ad"]["p_value"] == pytest.approx(0.01)


def test_p_value_is_the_bootstrap_proportion():
    """p = (1 + #{T_b >= T}) / (B + 1), reproducible by seed: the same replicates drawn and
    refitted by hand give the same p-values."""
    x = np.random.default_rng(7).exponential(2.0, 40)
    fit = mk.fit(mk.Exponential(), x)
    result = gof(fit, replicates=39, seed=11)
    assert gof(fit, replicates=39, seed=11).tests["ks"] == result.tests["ks"]
    assert gof(fit, replicates=39, seed=12).tests["ks"] != result.tests["ks"]
    draws = fit._context.model.sample(fit._context.params(), 39 * 40,
                                      np.random.default_rng(11)).reshape(39, 40)
    rates = 1.0 / draws.mean(axis=1)  # the exponential's MLE, replicate by replicate
    observed = _gof.edf_statistics(mk.Exponential(), x, fit.params)
    replicated = [_gof.edf_statistics(mk.Exponential(), d, {"rate": r})
                  for d, r in zip(draws, rates, strict=True)]
    for key in ("ks", "cvm", "ad"):
        expected = (1 + sum(r[key] >= observed[key] for r in replicated)) / 40
        assert result[key]["p_value"] == pytest.approx(expected)
    # and against scipy's formulas at the same estimate
    u = np.sort(stats.expon.cdf(x, scale=1.0 / fit.params["rate"]))
    i = np.arange(1, 41)
    assert observed["ks"] == pytest.approx(max(np.max(i / 40 - u), np.max(u - (i - 1) / 40)))
    assert observed["cvm"] == pytest.approx(1 / 480 + np.sum((u - (2 * i - 1) / 80) ** 2))
    assert observed["ad"] == pytest.approx(
        -40 - np.mean((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1]))))


def test_fixed_parameters_stay_fixed_in_the_replicates():
    x = np.random.default_rng(3).gamma(2.0, 1.0, 50)
    fit = mk.fit(mk.Gamma(), x, fixed={"shape": 2.0})
    result = gof(fit, replicates=19)
    assert result.replicates == 19 and 0.05 <= result["ks"]["p_value"] <= 1.0
    assert result["ks"]["statistic"] == pytest.approx(
        _gof.edf_statistics(mk.Gamma(), x, fit.params)["ks"], rel=1e-14)


def test_an_estimate_at_an_order_statistic_makes_ad_infinite_and_says_so():
    x = np.random.default_rng(4).uniform(1.0, 3.0, 40)
    result = gof(mk.fit(mk.Uniform(), x), replicates=19)
    assert result["ad"]["statistic"] is None and result["ad"]["p_value"] is None
    assert any("Anderson-Darling is infinite" in note for note in result.notes)
    assert result["ks"]["p_value"] is not None


# -- discrete families: Pearson's chi-square -----------------------------------------------------
# tests/reference/gof.R -> gof.out: toxocara$number (n = 53), mlekit's cells given to R as
# chisqbreaks, the statistics at the exact MLE by
#   fitdistrplus:::compute.gofstat.Chi2(sort(y), n, dist, pdist, exact_mle, NULL, breaks)
# (for the Poisson, gofstat(fitdist(y, "pois"), chisqbreaks = ...) prints 149.759673032654 at
# optim's lambda, 5e-9 off mean(y))
R_CHISQ = {
    "poisson": (mk.Poisson(), (5, 6, 7, 8, 9, 10, 12), 149.759669411953, 6,
                8.69759456445586e-30, (36, 1, 1, 0, 2, 0, 2, 11),
                (7.23992713640159, 5.35163902664216, 6.6354553969148, 7.19884311929437,
                 6.94228057625873, 6.0253755944887, 8.19269598724182, 5.41378316275783)),
    "negative_binomial": (mk.NegativeBinomial(), (0, 1, 3, 6, 10, 17), 4.50619548226683, 4,
                          0.341813487922019, (14, 8, 6, 9, 3, 3, 10),
                          (15.3006626571752, 5.80861799439894, 6.84423714902542,
                           6.17320265014594, 5.14637238241376, 5.28467782930163,
                           8.44222933753915)),
}


@pytest.mark.parametrize("name", list(R_CHISQ))
def test_chisq_matches_fitdistrplus_with_the_same_cells(name):
    family, breaks, statistic, df, p_value, observed, expected = R_CHISQ[name]
    fit = mk.fit(family, column("toxocara", "number"))
    if name == "poisson":  # the whole path, bootstrap included
        t = gof(fit, replicates=19)["chisq"]
        assert 0.05 <= t["p_value_bootstrap"] <= 1.0
    else:  # the statistic alone: fit_many refits a negative binomial one by one (slow)
        t = _gof.chisq_statistic(fit._context.model, fit._context.x, fit.params, fit.k)
    assert t["breaks"] == breaks
    assert t["observed"] == observed and t["df"] == df
    np.testing.assert_allclose(t["expected"], expected, rtol=1e-8)
    assert t["statistic"] == pytest.approx(statistic, rel=1e-8)
    assert t["p_value"] == pytest.approx(p_value, rel=1e-7)
    assert t["cells"][0] == f"<= {breaks[0]}" and t["cells"][-1] == f">= {breaks[-1] + 1}"


def test_chisq_cells_and_statistic_against_scipy():
    x = np.random.default_rng(12).poisson(3.7, 200).astype(float)
    fit = mk.fit(mk.Poisson(), x)
    lam = fit.params["lambda"]
    t = gof(fit, replicates=19)["chisq"]
    b = np.array(t["breaks"])
    cdf = stats.poisson.cdf(b, lam)
    probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    expected = 200 * probs
    observed = np.bincount(np.searchsorted(b, x, side="left"), minlength=b.size + 1)
    np.testing.assert_allclose(t["expected"], expected, rtol=1e-10)
    assert t["observed"] == tuple(observed) and sum(t["observed"]) == 200
    assert math.isclose(sum(t["expected"]), 200.0, rel_tol=1e-12)
    assert t["statistic"] == pytest.approx(np.sum((observed - expected) ** 2 / expected),
                                           rel=1e-10)
    assert t["df"] == b.size + 1 - 1 - 1
    assert t["p_value"] == pytest.approx(stats.chi2.sf(t["statistic"], t["df"]), rel=1e-10)
    # the merge rule: every cell expects >= 5, and each cell but the last would expect < 5
    # without its largest value (merged no more than needed, from the lower end up)
    assert np.all(expected >= 5.0)
    lower = np.concatenate([[-1.0], b[:-1]])
    short = 200 * (stats.poisson.cdf(b - 1, lam) - stats.poisson.cdf(lower, lam))
    assert np.all((short < 5.0) | (b - 1 == lower) | (b == b[0]))


def test_chisq_with_no_degrees_of_freedom_says_so():
    x = np.random.default_rng(5).poisson(0.4, 30).astype(float)
    result = gof(mk.fit(mk.Poisson(), x), replicates=19)
    t = result["chisq"]
    assert t["cells"] == ("<= 0", ">= 1") and t["df"] == 0 and t["p_value"] is None
    assert any("df = 2 cells - 1 - 1 estimated parameters = 0" in note
               for note in result.notes)
    assert "chi-square law: none (df = 0)" in str(result)
    assert t["p_value_bootstrap"] is not None  # the bootstrap needs no degrees of freedom


# -- the result ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gamma_result():
    x = np.random.default_rng(8).gamma(4.0, 10.0, 60)
    return gof(mk.fit(mk.Gamma(), x), replicates=49, seed=3)


def test_result_is_an_immutable_mapping_of_tests(gamma_result):
    r = gamma_result
    assert isinstance(r, GoodnessOfFit)
    assert list(r) == ["ks", "cvm", "ad"] and "ks" in r and "chisq" not in r
    assert (r.model_name, r.n, r.replicates, r.failed) == ("gamma", 60, 49, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.replicates = 3
    with pytest.raises(TypeError):
        r["ks"]["p_value"] = 0.5
    with pytest.raises(KeyError, match="'ks', 'cvm', 'ad'"):
        r["chisq"]
    assert r["ks"]["p_value"] * 50 == pytest.approx(round(r["ks"]["p_value"] * 50))


def test_result_renders_and_serializes(gamma_result):
    text = str(gamma_result)
    lines = text.splitlines()
    assert lines[0] == "Goodness of fit: gamma, n = 60"
    assert lines[1].split() == ["statistic", "value", "p-value", "method"]
    rows = [line for line in lines if line.startswith(("Kolmogorov", "Cramer", "Anderson"))]
    assert len(rows) == 3 and len({len(r) for r in rows}) == 1  # aligned columns
    assert "parametric bootstrap, 49 refitted replicates" in rows[0]
    html = gamma_result._repr_html_()
    assert html.startswith('<div class="mlekit-gof">') and html.count("<tr>") == 4
    d = json.loads(json.dumps(gamma_result.to_dict()))
    assert d["tests"]["ad"]["statistic"] == gamma_result["ad"]["statistic"]
    assert (d["replicates"], d["failed"], d["seed"]) == (49, 0, 3)
    discrete = gof(mk.fit(mk.Poisson(), column("toxocara", "number")), replicates=19)
    d = json.loads(json.dumps(discrete.to_dict()))
    assert d["tests"]["chisq"]["cells"][0] == "<= 5" and len(d["tests"]["chisq"]["observed"]) == 8
    assert "cell   observed  expected" in str(discrete)


# -- refusals ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def normal_fit():
    return mk.fit(mk.Normal(), np.random.default_rng(9).normal(0.0, 1.0, 30))


@pytest.mark.parametrize("replicates", [18, 0, 19.0, True, "99"])
def test_replicates_must_be_an_integer_of_at_least_19(normal_fit, replicates):
    with pytest.raises(mk.ModelError, match=r"replicates=.* must be an integer >= 19"):
        gof(normal_fit, replicates=replicates)


def test_bad_seed_and_progress_are_refused(normal_fit):
    with pytest.raises(mk.ModelError, match="seed='x' must be an integer"):
        gof(normal_fit, replicates=19, seed="x")
    with pytest.raises(mk.ModelError, match="progress=3 must be"):
        gof(normal_fit, replicates=19, progress=3)
    seen = []
    gof(normal_fit, replicates=19, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (19, 19)


def test_weighted_fits_are_refused(normal_fit):
    x = np.random.default_rng(9).normal(0.0, 1.0, 30)
    fit = mk.fit(mk.Normal(), x, weights=np.full(30, 2.0))
    with pytest.raises(mk.ModelError, match="frequency weights.*np.repeat"):
        gof(fit)


def test_censored_data_are_refused_with_what_applies():
    data = mk.Censored([1.0, 2.2, 0.7, 3.0, 1.4, 2.0], [1.0, 2.2, 0.7, None, 1.4, 2.5])
    with pytest.raises(mk.ModelError, match="censored or truncated data") as err:
        gof(mk.fit(mk.Exponential(), data))
    assert "Kaplan-Meier" in str(err.value) and "likelihood-ratio" in str(err.value)


def test_map_fit_is_refused():
    x = np.random.default_rng(10).normal(1.0, 2.0, 25)
    fit = mk.fit(mk.Normal(), x, prior={"mean": mk.priors.Normal(0.0, 10.0)})
    with pytest.raises(mk.ModelError, match="MAP fit .prior on mean.*Refit without prior="):
        gof(fit)


def test_regressions_multivariate_and_non_fits_are_refused():
    rng = np.random.default_rng(11)
    x = rng.normal(size=40)
    table = {"y": 1.0 + 2.0 * x + rng.normal(size=40), "x": x}
    import pandas as pd

    with pytest.raises(mk.ModelError, match="regression .* residuals"):
        gof(mk.glm("y ~ x", pd.DataFrame(table)))
    fit = mk.fit(mk.MultivariateNormal(), rng.normal(size=(50, 2)))
    with pytest.raises(mk.ModelError, match="multivariate model .* each margin"):
        gof(fit)
    with pytest.raises(mk.ModelError, match="is not a fit"):
        gof(np.zeros(3))


def test_models_without_a_distribution_function_are_refused():
    import jax.numpy as jnp

    model = mk.Model(lambda x, p: -0.5 * (x - p["mu"]) ** 2 - 0.5 * jnp.log(2 * jnp.pi),
                     params={"mu": mk.Real(init=0.0)})
    fit = mk.fit(model, np.random.default_rng(2).normal(size=30))
    with pytest.raises(mk.ModelError, match="defines no logcdf: .* need its distribution"):
        gof(fit)


def test_unconverged_fit_is_refused():
    fit = mk.fit(mk.NegativeBinomial(), [1.0, 1.0, 2.0, 2.0, 1.0, 2.0, 1.0, 2.0])
    assert not fit.converged  # under-dispersed counts: the size runs off to infinity
    with pytest.raises(mk.FitError, match="did not converge .no maximum likelihood estimate"):
        gof(fit)


def test_too_few_refitted_replicates_is_refused(monkeypatch):
    fit = mk.fit(mk.Exponential(), np.random.default_rng(6).exponential(1.0, 20))
    real = _gof._estimates

    def failing(batch, model, params, m):  # every other replicate "fails"
        est, ok = real(batch, model, params, m)
        return est, ok & (np.arange(m) % 2 == 0)

    monkeypatch.setattr(_gof, "_estimates", failing)
    result = gof(fit, replicates=39)
    assert (result.replicates, result.failed) == (20, 19)
    assert any("19 of 39 bootstrap replicates did not refit" in note for note in result.notes)
    assert "the other 20" in str(result)
    with pytest.raises(mk.FitError, match="only 10 of 20 bootstrap replicates"):
        gof(fit, replicates=20)
