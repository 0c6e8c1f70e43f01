"""Likelihood ratio, Wald and score tests (_inference/testing) and AIC tables
(_inference/comparison), against R, scipy and closed forms.

R values are printed by tests/reference/testing.R (output beside it, testing.out), run with
R 4.2.2 Patched (2022-11-10 r83330), MASS 7.3-58.2, fitdistrplus 1.1-8, pscl 1.5.5, car 3.1-1.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

import mlekit as mk
from conftest import shared_csv
from mlekit._inference.comparison import compare
from mlekit._inference.testing import (
    chi_bar_components,
    describe,
    lr_test,
    mixture_sf,
    score_test,
    wald_test,
)

# count tables with R's fits in testing.R: a few extra zeros (A), mild over-dispersion (B)
TABLE_A = np.repeat(np.arange(9.0), [16, 30, 45, 45, 34, 20, 10, 4, 2])
TABLE_B = np.repeat(np.arange(11.0), [12, 32, 42, 42, 30, 20, 11, 6, 3, 2, 1])


@pytest.fixture(scope="module")
def beef(groundbeef):
    return {name: mk.fit(name, groundbeef)
            for name in ("exponential", "gamma", "weibull", "lognormal")}


@pytest.fixture(scope="module")
def toxocara():
    return shared_csv("toxocara.csv")["number"].to_numpy(dtype=float)


@pytest.fixture(scope="module")
def counts(toxocara):
    return {name: mk.fit(name, toxocara) for name in (
        "poisson", "zero_inflated_poisson", "negative_binomial",
        "zero_inflated_negative_binomial")}


# -- likelihood ratio ------------------------------------------------------------------------
def test_lr_exponential_in_gamma_is_interior(beef, groundbeef):
    # R: 2 * (fitdist(x, "gamma")$loglik - fitdist(x, "exp")$loglik); pchisq(stat, 1, lower=F)
    test = lr_test(beef["exponential"], beef["gamma"])
    assert test.statistic == pytest.approx(184.776565329, rel=1e-9)
    assert test.p_value == pytest.approx(stats.chi2.sf(test.statistic, 1), rel=1e-12)
    assert test.p_value == pytest.approx(4.39112569435e-42, rel=1e-8)
    assert (test.name, test.df, test.distribution, test.note) == (
        "likelihood ratio", 1, "chi2(1)", "")
    # the same restriction written as a fixed parameter of the same family
    fixed = lr_test(mk.fit("gamma", groundbeef, fixed={"shape": 1.0}), beef["gamma"])
    assert fixed.statistic == pytest.approx(test.statistic, rel=1e-10)
    assert "shape = 1.0 fixed" in fixed.hypothesis


def test_lr_poisson_in_negative_binomial_is_a_boundary_mixture(counts):
    # R: pscl::odTest(glm.nb(y ~ 1)): statistic and pchisq(stat, 1, lower=F) / 2
    test = lr_test(counts["poisson"], counts["negative_binomial"])
    assert test.statistic == pytest.approx(696.378687329, rel=1e-9)
    assert test.p_value == pytest.approx(0.5 * stats.chi2.sf(test.statistic, 1), rel=1e-12)
    assert test.p_value == pytest.approx(9.16548171668e-154, rel=1e-7)
    assert test.distribution == "0.5 chi2(0) + 0.5 chi2(1)"
    assert "size = infinity" in test.note and "Self & Liang" in test.note


def test_lr_poisson_in_zero_inflated_poisson(counts):
    # R: logLik of zeroinfl(y ~ 1 | 1, dist = "poisson") and glm(y ~ 1, poisson)
    test = lr_test(counts["poisson"], counts["zero_inflated_poisson"])
    assert test.statistic == pytest.approx(2 * (-397.036977183 + 507.533429785), rel=1e-10)
    assert test.p_value == pytest.approx(0.5 * stats.chi2.sf(test.statistic, 1), rel=1e-12)
    assert "pi = 0" in test.note


@pytest.mark.parametrize(("data", "full", "statistic", "p_value"), [
    (TABLE_A, "zero_inflated_poisson", 2.09349880801, 0.0739634733863),
    (TABLE_B, "negative_binomial", 5.21187850064, 0.0112165420604),
])
def test_lr_boundary_against_r_where_the_mixture_matters(data, full, statistic, p_value):
    # R: pchisq(stat, 1, lower.tail = FALSE) / 2 (pscl::odTest's p-value), testing.R tables A, B
    restricted, full = mk.fit("poisson", data), mk.fit(full, data)
    test = lr_test(restricted, full)
    assert test.statistic == pytest.approx(statistic, rel=1e-9)
    assert test.p_value == pytest.approx(p_value, rel=1e-9)
    interior = lr_test(restricted, full, boundary=0)  # the naive chi2(1) doubles the p-value
    assert interior.p_value == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-9)
    assert interior.distribution == "chi2(1)" and interior.note == ""


def test_lr_no_excess_statistic_is_zero_and_p_one(counts):
    # toxocara's zeros are what the negative binomial predicts: the zero-inflated fit sits at
    # pi -> 0 with the negative binomial's log-likelihood (pscl's zeroinfl stops short of it)
    test = lr_test(counts["negative_binomial"], counts["zero_inflated_negative_binomial"])
    assert test.statistic == 0.0 and test.p_value == 1.0
    assert "within rounding" in test.note


def test_lr_two_boundary_parameters(counts):
    test = lr_test(counts["poisson"], counts["zero_inflated_negative_binomial"])
    assert test.df == 2
    assert test.distribution == "0.25 chi2(0) + 0.5 chi2(1) + 0.25 chi2(2)"
    expected = 0.5 * stats.chi2.sf(test.statistic, 1) + 0.25 * stats.chi2.sf(test.statistic, 2)
    assert test.p_value == pytest.approx(expected, rel=1e-12)


def test_chi_bar_mixture_matches_simulation():
    # m of df restrictions on the boundary: LR ~ sum of max(Z, 0)^2 (boundary) + Z^2 (interior)
    rng = np.random.default_rng(7)
    z = rng.standard_normal((400_000, 3))
    for df, m in [(1, 1), (2, 1), (3, 2), (3, 3)]:
        draws = (np.maximum(z[:, :m], 0) ** 2).sum(axis=1) + (z[:, m:df] ** 2).sum(axis=1)
        components = chi_bar_components(df, m)
        assert sum(w for w, _ in components) == 1.0
        for t in (0.5, 2.0, 5.0):
            simulated = np.mean(draws >= t)
            assert mixture_sf(t, components) == pytest.approx(simulated, abs=4e-3)
    # pscl::odTest's 5% critical value is qchisq(0.90, 1) = 2.7055434541
    assert mixture_sf(2.7055434541, chi_bar_components(1, 1)) == pytest.approx(0.05, rel=1e-9)
    assert describe(chi_bar_components(2, 0)) == "chi2(2)"
    assert mixture_sf(0.0, chi_bar_components(1, 1)) == 1.0


def test_lr_refuses_what_it_cannot_test(beef, groundbeef, counts):
    with pytest.raises(mk.ModelError, match="n = 254.*n = 53"):
        lr_test(beef["exponential"], counts["zero_inflated_poisson"])
    other = mk.fit("gamma", groundbeef + 1.0)
    with pytest.raises(mk.ModelError, match="different data"):
        lr_test(beef["exponential"], other)
    with pytest.raises(mk.ModelError, match="Pass the smaller model first"):
        lr_test(beef["gamma"], beef["exponential"])
    with pytest.raises(mk.ModelError, match="fewer"):
        lr_test(beef["gamma"], beef["weibull"])
    with pytest.raises(mk.FitError, match="did not converge"):
        lr_test(beef["exponential"], mk.fit("weibull", groundbeef, maxiter=1))
    with pytest.raises(mk.ModelError, match="not nested"):  # gamma beats this Student t
        lr_test(beef["gamma"], mk.fit("student_t", groundbeef))
    with pytest.raises(mk.ModelError, match="not nested"):
        lr_test(mk.fit("student_t", groundbeef, fixed={"location": 70.0, "scale": 20.0}),
                mk.fit("student_t", groundbeef, fixed={"df": 5.0}))
    with pytest.raises(mk.ModelError, match="boundary=2"):
        lr_test(beef["exponential"], beef["gamma"], boundary=2)
    with pytest.raises(mk.ModelError, match="must be a fit"):
        lr_test(beef["exponential"], "gamma")


# -- Wald ------------------------------------------------------------------------------------
def test_wald_one_equation_is_the_squared_z(beef):
    fit = beef["gamma"]
    z2 = ((fit.params["shape"] - 1.0) / fit.se["shape"]) ** 2
    for hypothesis in ("shape = 1", "shape == 1.0", {"shape": 1.0}, ([[1.0, 0.0]], [1.0])):
        test = wald_test(fit, hypothesis)
        assert test.statistic == pytest.approx(z2, rel=1e-12)
        assert test.p_value == pytest.approx(stats.chi2.sf(z2, 1), rel=1e-12)
        assert (test.name, test.df, test.distribution) == ("Wald", 1, "chi2(1)")
    # R: (shape - 1)^2 / V[1, 1] with V from numDeriv::hessian of the exact log-likelihood
    assert z2 == pytest.approx(77.4145761841, rel=1e-7)


def test_wald_two_equations_match_the_matrix_formula(beef):
    fit = beef["gamma"]
    shape, rate, cov = fit.params["shape"], fit.params["rate"], np.asarray(fit.cov)
    g = np.array([shape - 4.0, rate - 0.05])
    expected = g @ np.linalg.solve(cov, g)
    assert wald_test(fit, "shape = 4, rate = 0.05").statistic == pytest.approx(expected, rel=1e-12)
    # R: the same with numDeriv's covariance (car::linearHypothesis on fitdist's: 6.4017)
    assert expected == pytest.approx(6.39718803978, rel=1e-6)
    # non-linear: h = (shape / rate - 70, log(shape) - 1.5), G by hand
    h = np.array([shape / rate - 70.0, math.log(shape) - 1.5])
    jac = np.array([[1 / rate, -shape / rate**2], [1 / shape, 0.0]])
    expected = h @ np.linalg.solve(jac @ cov @ jac.T, h)
    test = wald_test(fit, "shape / rate = 70; log(shape) = 1.5")
    assert test.statistic == pytest.approx(expected, rel=1e-10)
    assert test.df == 2 and test.p_value == pytest.approx(stats.chi2.sf(expected, 2), rel=1e-12)


def test_wald_uses_the_fit_covariance(beef):
    fit = beef["gamma"]
    robust = dataclasses.replace(fit, cov=np.asarray(fit.cov) * 4.0, cov_kind="robust")
    plain = wald_test(fit, "shape = 3").statistic
    test = wald_test(robust, "shape = 3")
    assert test.statistic == pytest.approx(plain / 4.0, rel=1e-12)
    assert "robust" in test.note


def test_wald_keyword_and_vector_parameters(counts):
    fit = counts["poisson"]
    z2 = ((fit.params["lambda"] - 8.0) / fit.se["lambda"]) ** 2
    assert wald_test(fit, "lambda = 8").statistic == pytest.approx(z2, rel=1e-12)
    cat = mk.fit(mk.Categorical(), [0, 1, 1, 2, 2, 2, 2, 0, 1, 2])
    se0 = math.sqrt(cat.cov[0, 0])
    test = wald_test(cat, "probs[0] = 0.3")
    assert test.statistic == pytest.approx(((0.2 - 0.3) / se0) ** 2, rel=1e-10)
    # a value on the edge of the space is tested, with a warning that chi2 does not hold there
    zip_fit = counts["zero_inflated_poisson"]
    assert "not inside the parameter space" in wald_test(zip_fit, {"pi": 0.0}).note


def test_wald_refuses_what_it_cannot_test(beef, groundbeef):
    fit = beef["gamma"]
    with pytest.raises(mk.ModelError, match="redundant"):
        wald_test(fit, "shape = 1, 2 * shape = 2")
    with pytest.raises(mk.ModelError, match="no covariance"):
        wald_test(dataclasses.replace(fit, cov=None), "shape = 1")
    with pytest.raises(mk.ModelError, match="no free parameter 'scale'"):
        wald_test(fit, {"scale": 1.0})
    with pytest.raises(mk.ModelError, match="is fixed"):
        wald_test(mk.fit("normal", groundbeef, fixed={"mean": 70.0}), {"mean": 71.0})
    with pytest.raises(mk.ModelError, match=r"\(r, 2\)"):
        wald_test(fit, ([[1.0, 0.0, 0.0]], [1.0]))
    with pytest.raises(mk.ModelError, match="not a hypothesis"):
        wald_test(fit, 1.0)
    with pytest.raises(mk.ModelError, match="not finite"):
        wald_test(fit, "log(shape - 10) = 0")
    with pytest.raises(mk.ModelError, match="attribute"):
        wald_test(fit, "shape.real = 1")


# -- score -----------------------------------------------------------------------------------
def test_score_poisson_closed_forms(counts, toxocara):
    x, lam0 = toxocara, 8.0
    fit = counts["poisson"]
    observed = score_test(fit, {"lambda": lam0})
    closed = (x.sum() / lam0 - x.size) ** 2 / (x.sum() / lam0**2)
    assert observed.statistic == pytest.approx(closed, rel=1e-12)
    assert observed.p_value == pytest.approx(stats.chi2.sf(closed, 1), rel=1e-12)
    assert (observed.name, observed.df, observed.distribution) == ("score", 1, "chi2(1)")
    # R: anova(glm(y ~ 0 + offset(log(8)), poisson), glm(y ~ 1, poisson), test = "Rao")
    expected = score_test(fit, {"lambda": lam0}, information="expected")
    assert expected.statistic == pytest.approx(3.05660377359, rel=1e-10)
    assert expected.p_value == pytest.approx(0.0804095747477, rel=1e-9)
    assert "expected information" in expected.note


def test_score_normal_mean_with_sd_free(groundbeef):
    x, mu0 = groundbeef, 75.0
    test = score_test(mk.fit("normal", x), {"mean": mu0})
    # by hand, natural units: sd at the restricted maximum, score (s, 0), information matrix
    n, r = x.size, x - mu0
    var0 = np.mean(r**2)
    sd0 = math.sqrt(var0)
    score = np.array([r.sum() / var0, 0.0])
    info = np.array([[n / var0, 2 * r.sum() / sd0**3], [2 * r.sum() / sd0**3, 2 * n / var0]])
    assert test.statistic == pytest.approx(score @ np.linalg.solve(info, score), rel=1e-10)


def test_three_tests_agree_near_the_null(groundbeef):
    fit = mk.fit("normal", groundbeef)
    mu0 = fit.params["mean"] + 0.5 * fit.se["mean"]
    lr = lr_test(mk.fit("normal", groundbeef, fixed={"mean": mu0}), fit).statistic
    wald = wald_test(fit, {"mean": mu0}).statistic
    score = score_test(fit, {"mean": mu0}).statistic
    assert wald == pytest.approx(0.25, rel=1e-10)
    assert lr == pytest.approx(wald, rel=0.01) and score == pytest.approx(wald, rel=0.01)


def test_score_refuses_what_it_cannot_test(beef, groundbeef):
    fit = beef["gamma"]
    with pytest.raises(mk.ModelError, match="inside their space"):
        score_test(fit, {"rate": -1.0})
    with pytest.raises(mk.ModelError, match="no free parameter"):
        score_test(fit, {"scale": 1.0})
    with pytest.raises(mk.ModelError, match="non-empty dict"):
        score_test(fit, {})
    with pytest.raises(mk.ModelError, match="is fixed"):
        score_test(mk.fit("normal", groundbeef, fixed={"mean": 70.0}), {"mean": 71.0})
    with pytest.raises(mk.ModelError, match="scalar"):
        score_test(mk.fit(mk.Categorical(), [0, 1, 1, 2, 2, 2]), {"probs": [0.3, 0.3, 0.4]})
    with pytest.raises(mk.ModelError, match="information="):
        score_test(fit, {"shape": 1.0}, information="fisher")


# -- rendering -------------------------------------------------------------------------------
def test_test_result_renders_itself(beef):
    test = lr_test(beef["exponential"], beef["gamma"])
    text = str(test)
    assert text.splitlines()[0] == ("Likelihood ratio test: exponential (k = 1) within gamma "
                                    "(k = 2)")
    assert "statistic = 184.777" in text and "p-value = 4.39e-42" in text
    assert "<div" in test._repr_html_() and "chi2(1)" in test._repr_html_()
    data = json.loads(json.dumps(test.to_dict()))
    assert data["test"] == "likelihood ratio" and data["df"] == 1
    assert dataclasses.is_dataclass(test)
    with pytest.raises(dataclasses.FrozenInstanceError):
        test.statistic = 0.0


# -- model comparison ------------------------------------------------------------------------
def test_compare_groundbeef_against_r_and_by_hand(beef):
    table = compare(*beef.values())
    # R: fitdist(x, ...)$aic, $bic (fitdistrplus), testing.R
    r_values = {"gamma": (2511.25022738, 2518.32489591), "weibull": (2514.44943973, 2521.52410826),
                "lognormal": (2526.63859735, 2533.71326589),
                "exponential": (2694.02679271, 2697.56412697)}
    assert [row.name for row in table.rows] == ["gamma", "weibull", "lognormal", "exponential"]
    assert table.best == "gamma" and table.n == 254
    aic = {name: -2 * f.loglik + 2 * f.k for name, f in beef.items()}
    raw = {name: math.exp(-(a - min(aic.values())) / 2) for name, a in aic.items()}
    for row in table.rows:
        fit = beef[row.name]
        assert row.aic == pytest.approx(r_values[row.name][0], abs=1e-6)
        assert row.bic == pytest.approx(r_values[row.name][1], abs=1e-6)
        assert row.aic == pytest.approx(aic[row.name], rel=1e-14)
        correction = 2 * fit.k * (fit.k + 1) / (254 - fit.k - 1)
        assert row.aicc == pytest.approx(aic[row.name] + correction, rel=1e-14)
        assert row.delta_aic == pytest.approx(aic[row.name] - aic["gamma"], abs=1e-12)
        assert row.weight == pytest.approx(raw[row.name] / sum(raw.values()), rel=1e-12)
    assert table.fits["gamma"] is beef["gamma"]


def test_compare_renders_and_exports(beef):
    table = compare([beef["gamma"], beef["weibull"], beef["gamma"]])
    assert [row.name for row in table.rows] == ["gamma", "gamma (2)", "weibull"]
    text = str(table).splitlines()
    assert text[0] == "Model comparison (n = 254), best first by AIC"
    assert text[1].split() == ["model", "loglik", "k", "AIC", "AICc", "BIC", "dAIC", "weight"]
    assert len({len(line) for line in text[1:]}) == 1  # aligned
    assert "<table>" in table._repr_html_()
    frame = table.to_pandas()
    assert list(frame.index) == ["gamma", "gamma (2)", "weibull"]
    assert frame.loc["weibull", "k"] == 2
    data = json.loads(json.dumps(table.to_dict()))
    assert data["best"] == "gamma" and len(data["rows"]) == 3
    named = compare(beef["gamma"], beef["weibull"], names=["G", "W"])
    assert named.best == "G" and named.rows[0].model == "gamma"


def test_compare_notes_and_refusals(beef, counts, groundbeef):
    tiny = compare(mk.fit("gamma", [1.0, 2.0, 4.0]), mk.fit("exponential", [1.0, 2.0, 4.0]))
    gamma_row = next(r for r in tiny.rows if r.name == "gamma")
    assert gamma_row.aicc is None and any("AICc of gamma" in n for n in tiny.notes)
    assert "n/a" in str(tiny)
    ints = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 2.0, 3.0, 6.0])
    mixed = compare(mk.fit("poisson", ints), mk.fit("normal", ints))
    assert any("not comparable" in n for n in mixed.notes)
    unconverged = compare(beef["gamma"], mk.fit("weibull", groundbeef, maxiter=1))
    assert any("did not converge" in n for n in unconverged.notes) and " *" in str(unconverged)
    with pytest.raises(mk.ModelError, match="gamma: n = 254, poisson: n = 53"):
        compare(beef["gamma"], counts["poisson"])
    with pytest.raises(mk.ModelError, match="distinct"):
        compare(beef["gamma"], beef["weibull"], names=["a", "a"])
    with pytest.raises(mk.ModelError, match="at least one"):
        compare()
