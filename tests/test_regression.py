"""Regression by maximum likelihood: linear and generalized linear models through formulas and
arrays, checked against least squares (numpy), statsmodels' independent implementations
(observed-information standard errors), and R (tests/reference/regression.R / .out)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import mlekit as mk
from conftest import SHARED_DATA, shared_csv


@pytest.fixture(scope="module")
def birthwt():
    return shared_csv("birthwt.csv")


@pytest.fixture(scope="module")
def mtcars():
    return shared_csv("mtcars.csv")


BIRTHWT = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui + ftv"


def _birthwt_design(bw):
    X = pd.get_dummies(bw[["age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"]],
                       columns=["race"], drop_first=True, dtype=float)
    order = ["age", "lwt", "race_2", "race_3", "smoke", "ptl", "ht", "ui", "ftv"]
    return sm.add_constant(X[order]), bw["low"].to_numpy(dtype=float)


def _values(fit):
    return np.array([fit.params[n] for n in fit.param_names])


def _ses(fit):
    return np.array([fit.se[n] for n in fit.param_names])


def test_lm_is_least_squares_with_the_mle_of_sd(mtcars):
    fit = mk.lm("mpg ~ wt + hp", mtcars)
    X = np.c_[np.ones(len(mtcars)), mtcars[["wt", "hp"]].to_numpy()]
    y = mtcars["mpg"].to_numpy()
    coef, rss = np.linalg.lstsq(X, y, rcond=None)[:2]
    n, p = X.shape
    assert fit.param_names == ("Intercept", "wt", "hp", "sd")
    np.testing.assert_allclose(_values(fit)[:3], coef, rtol=1e-10)
    assert fit.params["sd"] == pytest.approx(math.sqrt(rss[0] / n), rel=1e-10)
    # the observed information gives sd_mle^2 (X'X)^-1 for the coefficients, sd / sqrt(2n)
    cov = rss[0] / n * np.linalg.inv(X.T @ X)
    np.testing.assert_allclose(_ses(fit)[:3], np.sqrt(np.diag(cov)), rtol=1e-8)
    assert fit.se["sd"] == pytest.approx(fit.params["sd"] / math.sqrt(2 * n), rel=1e-8)
    # R's sigma, sqrt(RSS / (n - p)), is shown beside it and labelled
    note = [d for d in fit.diagnostics if d.code == "biased_variance"][0]
    assert f"{math.sqrt(rss[0] / (n - p)):.6g}" in note.message and "not the MLE" in note.message


def test_formula_and_arrays_give_the_same_fit(mtcars):
    by_formula = mk.lm("mpg ~ wt + hp", mtcars)
    by_arrays = mk.lm(X=mtcars[["wt", "hp"]], y=mtcars["mpg"])
    assert by_arrays.param_names == by_formula.param_names
    np.testing.assert_allclose(_values(by_arrays), _values(by_formula), rtol=1e-12)
    no_intercept = mk.glm(X=mtcars[["wt", "hp"]].to_numpy(), y=mtcars["mpg"], intercept=False)
    assert no_intercept.param_names == ("x1", "x2", "sd")


def test_logistic_regression_matches_statsmodels(birthwt):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial")
    X, y = _birthwt_design(birthwt)
    ref = sm.Logit(y, X).fit(method="newton", tol=1e-14, disp=0)
    np.testing.assert_allclose(_values(fit), ref.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(_ses(fit), ref.bse.to_numpy(), rtol=1e-6)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)
    assert fit.param_names[3:5] == ("C(race)[T.2]", "C(race)[T.3]")  # treatment contrasts


def test_probit_uses_the_observed_information_like_statsmodels(birthwt):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial", link="probit")
    X, y = _birthwt_design(birthwt)
    ref = sm.Probit(y, X).fit(method="newton", tol=1e-14, disp=0)
    np.testing.assert_allclose(_values(fit), ref.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(_ses(fit), ref.bse.to_numpy(), rtol=1e-6)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)


def test_poisson_with_an_offset_in_the_formula():
    ins = shared_csv("insurance.csv")
    fit = mk.glm("Claims ~ C(District) + C(Group) + C(Age) + offset(log(Holders))", ins,
                 family="poisson")
    X = sm.add_constant(pd.get_dummies(ins[["District", "Group", "Age"]].astype(str),
                                       drop_first=True, dtype=float))
    ref = sm.GLM(ins["Claims"], X, family=sm.families.Poisson(),
                 offset=np.log(ins["Holders"])).fit(tol=1e-14)
    np.testing.assert_allclose(_values(fit), ref.params.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(_ses(fit), ref.bse.to_numpy(), rtol=1e-6)  # canonical link
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)
    # the offset as an argument instead: the same fit
    same = mk.glm("Claims ~ C(District) + C(Group) + C(Age)", ins, family="poisson",
                  offset=np.log(ins["Holders"]))
    np.testing.assert_allclose(_values(same), _values(fit), rtol=1e-10)


def test_binomial_counts_and_frequency_weights_agree_with_the_binary_fit(birthwt):
    grouped = birthwt.groupby(["race", "smoke"])["low"].agg(["sum", "count"]).reset_index()
    grouped["fail"] = grouped["count"] - grouped["sum"]
    counts = mk.glm("cbind(sum, fail) ~ C(race) + smoke", grouped, family="binomial")
    binary = mk.glm("low ~ C(race) + smoke", birthwt, family="binomial")
    np.testing.assert_allclose(_values(counts), _values(binary), rtol=1e-8)
    np.testing.assert_allclose(_ses(counts), _ses(binary), rtol=1e-6)
    long = pd.concat([grouped.assign(y=1, w=grouped["sum"]),
                      grouped.assign(y=0, w=grouped["fail"])])
    weighted = mk.glm("y ~ C(race) + smoke", long, family="binomial", weights="w")
    np.testing.assert_allclose(_values(weighted), _values(binary), rtol=1e-8)
    assert weighted.loglik == pytest.approx(binary.loglik, rel=1e-10)


def test_negative_binomial_regression_matches_statsmodels():
    wb = shared_csv("warpbreaks.csv")
    fit = mk.glm("breaks ~ C(wool) + C(tension)", wb, family="negative_binomial")
    X = sm.add_constant(pd.get_dummies(wb[["wool", "tension"]].astype(str), drop_first=True,
                                       dtype=float))
    ref = sm.NegativeBinomial(wb["breaks"], X, loglike_method="nb2").fit(
        method="newton", tol=1e-14, maxiter=200, disp=0)
    np.testing.assert_allclose(_values(fit)[:-1], ref.params.to_numpy()[:-1], rtol=1e-6)
    assert fit.params["size"] == pytest.approx(1 / ref.params["alpha"], rel=1e-6)
    assert fit.loglik == pytest.approx(ref.llf, rel=1e-10)


def test_gamma_regression_with_a_log_link_finds_the_mle_of_the_shape(mtcars):
    fit = mk.glm("mpg ~ wt + hp", mtcars, family="gamma", link="log")
    y = mtcars["mpg"].to_numpy()
    X = np.c_[np.ones(len(y)), mtcars[["wt", "hp"]].to_numpy()]

    def loglik(theta):  # the gamma log-likelihood with rate = shape / mu, by scipy
        from scipy import stats

        beta, shape = theta[:3], math.exp(theta[3])
        mu = np.exp(X @ beta)
        return np.sum(stats.gamma.logpdf(y, shape, scale=mu / shape))

    from scipy import optimize

    start = np.r_[_values(fit)[:3], math.log(fit.params["shape"])]
    best = optimize.minimize(lambda t: -loglik(t), start + 0.01, method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert fit.loglik >= -best.fun - 1e-8
    assert fit.loglik == pytest.approx(loglik(start), rel=1e-12)


def test_bad_regression_input_is_named():
    df = pd.DataFrame({"y": [0, 1, 2], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(mk.DataError, match=r"response\[2\] = 2.0 .*binomial"):
        mk.glm("y ~ x", df, family="binomial")
    with pytest.raises(mk.ModelError, match="link='probit' is not available for the poisson"):
        mk.glm("y ~ x", df, family="poisson", link="probit")
    with pytest.raises(mk.ModelError, match="could not be evaluated"):
        mk.glm("y ~ z", df)
    with pytest.raises(mk.ModelError, match="family='gauss'"):
        mk.glm("y ~ x", df, family="gauss")
    with pytest.raises(mk.ModelError, match="either a formula"):
        mk.glm("y ~ x", df, X=[[1.0]], y=[1.0])


# -- against R (tests/reference/regression.R, run from the repository root; its output in
# regression.out). R's glm stops on the change in deviance (~1e-5 short for probit); the
# "exact" blocks continue its Fisher scoring to a score of ~1e-12, and are the reference.
REFERENCE = Path(__file__).resolve().parent / "reference" / "regression.out"


def _r_blocks() -> dict:
    """{(section title, "R" | "exact" | "R tight", ...): {label: [numbers]}} from the .out."""
    out, section, sub = {}, None, None
    for line in REFERENCE.read_text().splitlines():
        if line.startswith("===="):
            section = line.strip("= ").strip()
            continue
        if line.startswith("-- "):
            kind = "exact" if line.startswith("-- exact") else (
                "tight" if "epsilon = 1e-15" in line else "R")
            if kind == "R" and "gamma.shape" in line:
                kind = "gamma.shape tight" if "it.lim = 100" in line else "gamma.shape"
            sub = out.setdefault((section, kind), {})
            continue
        if sub is not None and ": " in line:
            label, values = line.rsplit(": ", 1)
            try:
                sub[label.strip()] = [float(v) for v in values.split()]
            except ValueError:
                sub[label.strip()] = values.split()
    return out


R = _r_blocks() if REFERENCE.exists() else {}


def _r(section_start: str, kind: str = "exact") -> dict:
    (key,) = [k for k in R if k[0].startswith(section_start) and k[1] == kind]
    return R[key]


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_birthwt_binomial_matches_r(birthwt, link):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial", link=link)
    ref = _r(f'1. birthwt: binomial(link = "{link}")')
    np.testing.assert_allclose(_values(fit), ref["estimate"], rtol=1e-7, atol=1e-12)
    assert fit.loglik == pytest.approx(ref["logLik"][0], rel=1e-8)
    assert fit.aic == pytest.approx(ref["AIC"][0], rel=1e-8)
    if link == "logit":  # canonical: the observed information is R's expected one
        np.testing.assert_allclose(_ses(fit), ref["std. error"], rtol=1e-6)


def test_insurance_poisson_with_offset_matches_r():
    ins = shared_csv("insurance.csv")
    fit = mk.glm("Claims ~ C(District) + C(Group) + C(Age) + offset(log(Holders))", ins,
                 family="poisson")
    ref = _r("2. Insurance")
    np.testing.assert_allclose(_values(fit), ref["estimate"], rtol=1e-7)
    np.testing.assert_allclose(_ses(fit), ref["std. error"], rtol=1e-6)
    assert fit.loglik == pytest.approx(ref["logLik"][0], rel=1e-8)


def test_warpbreaks_poisson_and_negative_binomial_match_r():
    wb = shared_csv("warpbreaks.csv")
    fit = mk.glm("breaks ~ C(wool) + C(tension)", wb, family="poisson")
    ref = _r("3. warpbreaks: poisson")
    np.testing.assert_allclose(_values(fit), ref["estimate"], rtol=1e-7)
    np.testing.assert_allclose(_ses(fit), ref["std. error"], rtol=1e-6)
    assert fit.loglik == pytest.approx(ref["logLik"][0], rel=1e-8)
    nb = mk.glm("breaks ~ C(wool) + C(tension)", wb, family="negative_binomial")
    ref = _r("5. warpbreaks: negative binomial", "tight")  # MASS::glm.nb, score ~1e-13
    np.testing.assert_allclose(_values(nb)[:-1], ref["estimate"], rtol=1e-7)
    theta = _r("5. warpbreaks: negative binomial", "R")["theta (size)"][0]
    assert nb.params["size"] == pytest.approx(theta, rel=1e-6)
    assert nb.loglik == pytest.approx(ref["logLik"][0], rel=1e-8)


def test_mtcars_lm_and_gamma_match_r(mtcars):
    fit = mk.lm("mpg ~ wt + hp", mtcars)
    ref = _r("4a. mtcars: lm", "R")
    np.testing.assert_allclose(_values(fit)[:3], ref["estimate"], rtol=1e-10)
    # R's SEs use sqrt(RSS/(n-p)); at the MLE sd they are R's times sqrt((n-p)/n)
    np.testing.assert_allclose(_ses(fit)[:3], ref["SE with sigma MLE (SE*sqrt((n-p)/n))"],
                               rtol=1e-8)
    assert fit.params["sd"] == pytest.approx(ref["sigma MLE = sqrt(RSS/n)"][0], rel=1e-10)
    assert fit.loglik == pytest.approx(ref["logLik"][0], rel=1e-10)
    # the summary's t values and p-values are R's (sd^2 = RSS/(n-p), Student's t on n-p df)
    table = {line.split()[0]: line.split() for line in str(fit).splitlines()
             if line.split() and line.split()[0] in fit.param_names}
    assert "t value" in str(fit) and "Student's t on 29 df" in str(fit)
    for name, t, p in zip(fit.param_names[:3], ref["t value"], ref["Pr(>|t|)"], strict=True):
        assert float(table[name][3]) == pytest.approx(t, abs=1e-3)
        assert float(table[name][4]) == pytest.approx(p, rel=1e-2)
    gamma = mk.glm("mpg ~ wt + hp", mtcars, family="gamma", link="log")
    exact = _r('6. mtcars: Gamma(link = "log")')
    np.testing.assert_allclose(_values(gamma)[:3], exact["estimate"], rtol=1e-7)
    shape = _r('6. mtcars: Gamma(link = "log")', "gamma.shape tight")
    assert gamma.params["shape"] == pytest.approx(shape["alpha (shape), SE"][0], rel=1e-7)
    assert gamma.loglik == pytest.approx(shape["logLik at MLE shape"][0], rel=1e-10)


def test_binomial_counts_and_weights_match_r(birthwt):
    grouped = birthwt.groupby(["race", "smoke"])["low"].agg(["sum", "count"]).reset_index()
    grouped["fail"] = grouped["count"] - grouped["sum"]
    counts = mk.glm("cbind(sum, fail) ~ C(race) + smoke", grouped, family="binomial")
    ref = _r("7. birthwt aggregated")
    np.testing.assert_allclose(_values(counts), ref["estimate"], rtol=1e-7)
    np.testing.assert_allclose(_ses(counts), ref["std. error"], rtol=1e-6)
    assert counts.loglik == pytest.approx(ref["logLik"][0], rel=1e-10)


def test_summary_shows_r_style_z_tests_of_the_coefficients(birthwt):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial")
    ref = _r('1. birthwt: binomial(link = "logit")')
    text = fit.summary()
    assert "z value  Pr(>|z|)" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    for name, z, p in zip(fit.param_names, ref["z value"], ref["Pr(>|z|)"], strict=True):
        assert float(rows[name][3]) == pytest.approx(z, abs=6e-4)
        assert float(rows[name][4]) == pytest.approx(p, rel=5e-3)  # shown to 3 digits
    assert "z value" not in mk.fit(mk.Normal(), [1.0, 2.0, 4.0]).summary()  # not regressions


def test_predictions_with_standard_errors_match_statsmodels(birthwt):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial")
    X, y = _birthwt_design(birthwt)
    ref = sm.Logit(y, X).fit(method="newton", tol=1e-14, disp=0)
    new = birthwt.iloc[:7]
    mu, se_mu = fit.predict(new, se=True)
    np.testing.assert_allclose(mu, ref.predict(X.iloc[:7]), rtol=1e-8)
    x = X.iloc[:7].to_numpy()
    se_eta = np.sqrt(np.einsum("ij,jk,ik->i", x, ref.cov_params().to_numpy(), x))
    eta, se_link = fit.predict(new, scale="link", se=True)
    np.testing.assert_allclose(se_link, se_eta, rtol=1e-6)
    np.testing.assert_allclose(se_mu, mu * (1 - mu) * se_eta, rtol=1e-6)  # d mu / d eta
    np.testing.assert_allclose(fit.predict()[:7], mu, rtol=1e-12)  # the data fitted
    with pytest.raises(mk.DataError, match="newdata"):
        fit.predict(birthwt.drop(columns="age"))
    with pytest.raises(mk.ModelError, match="not a regression"):
        mk.fit(mk.Normal(), [1.0, 2.0, 4.0]).predict()


def test_predictions_carry_the_formulas_offset():
    ins = shared_csv("insurance.csv")
    fit = mk.glm("Claims ~ C(District) + C(Group) + C(Age) + offset(log(Holders))", ins,
                 family="poisson")
    doubled = ins.assign(Holders=2 * ins["Holders"])
    np.testing.assert_allclose(fit.predict(doubled), 2 * fit.predict(ins), rtol=1e-12)
    np.testing.assert_allclose(fit.predict(ins), fit.predict(), rtol=1e-12)


def test_separation_is_found_exactly_and_named():
    complete = mk.glm(X=[1.0, 2, 3, 4, 5, 6], y=[0, 0, 0, 1, 1, 1], family="binomial")
    (d,) = complete.diagnostics
    assert d.code == "separation" and d.severity == "error" and "x1" in d.message
    assert "complete separation" in d.message and not complete.converged
    assert complete.loglik == 0.0  # the supremum: every observation predicted
    # a tie at the boundary: quasi-complete; the two tied rows keep probability 1/2
    quasi = mk.glm(X=[1.0, 2, 3, 4, 4, 5, 6, 7], y=[0, 0, 0, 0, 1, 1, 1, 1],
                   family="binomial")
    assert "quasi-complete separation" in quasi.diagnostics[0].message
    assert quasi.loglik == pytest.approx(2 * math.log(0.5), rel=1e-9)
    with pytest.raises(mk.FitError, match="separation"):
        mk.glm(X=[1.0, 2, 3, 4, 5, 6], y=[0, 0, 0, 1, 1, 1], family="binomial", strict=True)


# -- NIST StRD linear regression (certificates in the .dat headers) --------------------------
NIST = SHARED_DATA / "nist_strd"


def _certificate(name):
    import re

    text = (NIST / f"{name}.dat").read_text()
    rows = re.findall(r"^\s*B\d+\s+(\S+)\s+(\S+)", text, re.M)
    sd = float(re.search(r"Residual\s+Standard Deviation\s+(\S+)", text).group(1))
    return np.array([float(a) for a, _ in rows]), np.array([float(b) for _, b in rows]), sd


def _digits(value, certified):
    """The log relative error: the number of correct significant digits."""
    return float(np.min(-np.log10(np.abs(np.asarray(value) - certified) / np.abs(certified)
                                  + 1e-16)))


def _nist_design(name, powers):
    data = pd.read_csv(NIST / f"{name}.csv")
    if powers is None:  # Longley: six covariates
        return data.drop(columns="y").to_numpy(), data["y"]
    return np.column_stack([data["x"] ** k for k in range(1, powers + 1)]), data["y"]


@pytest.mark.parametrize("name,powers,intercept,digits", [
    ("Norris", 1, True, 9), ("Pontius", 2, True, 9), ("NoInt1", 1, False, 9),
    ("NoInt2", 1, False, 9), ("Longley", None, True, 9), ("Wampler3", 5, True, 9),
    ("Wampler4", 5, True, 9), ("Wampler5", 5, True, 9),
    # a degree-10 polynomial: its powers of x, rounded to float64, already differ from the
    # certificate's exact ones in the 8th digit of the solution. (R 4.2.2's
    # lm(y ~ x + I(x^2) + ... + I(x^10)) gives NA for I(x^10): its QR tolerance drops it.)
    ("Filip", 10, True, 7)])
def test_nist_linear_problems_to_certified_digits(name, powers, intercept, digits):
    # NIST's SDs use RSS / (n - p); the MLE's use RSS / n
    X, y = _nist_design(name, powers)
    fit = mk.lm(X=X, y=y, intercept=intercept)
    coef, se, sd = _certificate(name)
    n, p = len(y), len(coef)
    assert fit.converged
    assert _digits(_values(fit)[:-1], coef) >= digits
    assert _digits(_ses(fit)[:-1] * math.sqrt(n / (n - p)), se) >= digits
    assert _digits(fit.params["sd"] * math.sqrt(n / (n - p)), sd) >= digits


@pytest.mark.parametrize("name", ["Wampler1", "Wampler2"])
def test_nist_exact_fits_give_the_coefficients_and_no_sd(name):
    # the certificates: residual SD 0 and coefficient SDs 0 (y is exactly a quintic in x)
    X, y = _nist_design(name, 5)
    fit = mk.lm(X=X, y=y)
    coef, se, sd = _certificate(name)
    assert (se == 0).all() and sd == 0
    assert [d.code for d in fit.diagnostics] == ["exact_fit"] and not fit.converged
    assert _digits(_values(fit)[:-1], coef) >= 9
    assert all(fit.se[c] == 0.0 for c in fit.param_names[:-1])
    assert fit.params["sd"] == 0.0 and fit.se["sd"] is None and fit.loglik == math.inf


def test_interactions_and_transforms_in_formulas(mtcars):
    fit = mk.lm("mpg ~ wt * C(am) + np.log(hp)", mtcars)
    # main effects first, then the interaction: R's order too
    assert fit.param_names[:-1] == ("Intercept", "wt", "C(am)[T.1]", "np.log(hp)",
                                    "wt:C(am)[T.1]")
    X = np.c_[np.ones(len(mtcars)), mtcars["wt"], mtcars["am"], np.log(mtcars["hp"]),
              mtcars["wt"] * mtcars["am"]]
    coef = np.linalg.lstsq(X, mtcars["mpg"], rcond=None)[0]
    np.testing.assert_allclose(_values(fit)[:-1], coef, rtol=1e-9)


def test_the_command_line_fits_a_glm(tmp_path):
    import json

    from typer.testing import CliRunner

    from mlekit.cli import app

    wb = shared_csv("warpbreaks.csv")
    path = tmp_path / "warpbreaks.csv"
    wb.to_csv(path, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["glm", str(path), "breaks ~ C(wool) + C(tension)",
                                 "--family", "poisson"])
    assert result.exit_code == 0 and "z value" in result.output
    out = json.loads(runner.invoke(app, ["glm", str(path), "breaks ~ C(wool) + C(tension)",
                                         "--family", "poisson", "--json"]).output)
    ref = _r("3. warpbreaks: poisson")
    np.testing.assert_allclose([out["params"][n] for n in out["param_names"]],
                               ref["estimate"], rtol=1e-7)
    assert set(out["conf_int"]) == set(out["param_names"])
    bad = runner.invoke(app, ["glm", str(path), "breaks ~ nosuch", "--family", "poisson"])
    assert bad.exit_code == 2 and "could not be evaluated" in bad.output


def test_deviances_and_dispersion_match_r(birthwt, mtcars):
    fit = mk.glm(BIRTHWT, birthwt, family="binomial")
    ref = _r('1. birthwt: binomial(link = "logit")', "R")
    stats = fit.statistics
    assert stats["deviance"] == pytest.approx(ref["deviance"][0], rel=1e-9)
    assert stats["null_deviance"] == pytest.approx(ref["null deviance"][0], rel=1e-9)
    assert (stats["df_residual"], stats["df_null"]) == (ref["df.residual"][0], ref["df.null"][0])
    assert "null deviance = 234.672 on 188 df" in fit.summary()
    ins = shared_csv("insurance.csv")  # with an offset: the null model is fitted with it
    fit = mk.glm("Claims ~ C(District) + C(Group) + C(Age) + offset(log(Holders))", ins,
                 family="poisson")
    ref = _r("2. Insurance", "R")
    assert fit.statistics["deviance"] == pytest.approx(ref["deviance"][0], rel=1e-7)
    assert fit.statistics["null_deviance"] == pytest.approx(ref["null deviance"][0], rel=1e-9)
    gamma = mk.glm("mpg ~ wt + hp", mtcars, family="gamma", link="log")
    ref = _r('6. mtcars: Gamma(link = "log")')
    assert gamma.statistics["deviance"] == pytest.approx(ref["deviance"][0], rel=1e-8)
    lm = mk.lm("mpg ~ wt + hp", mtcars)  # the Gaussian deviance is the residual sum of squares
    ref = _r("4a. mtcars: lm", "R")
    assert lm.statistics["deviance"] == pytest.approx(ref["deviance (RSS)"][0], rel=1e-10)
    assert mk.fit(mk.Normal(), [1.0, 2.0, 4.0]).statistics == {}


@pytest.mark.parametrize("family,link,sm_family", [
    ("poisson", "identity", lambda: sm.families.Poisson(sm.families.links.Identity())),
    ("binomial", "log", lambda: sm.families.Binomial(sm.families.links.Log())),
    ("gamma", "inverse", lambda: sm.families.Gamma()),
    ("gaussian", "log", lambda: sm.families.Gaussian(sm.families.links.Log())),
])
def test_other_links_reach_statsmodels_optimum(family, link, sm_family):
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 2.0, 400)
    mean = {"poisson": 2.0 + 3.0 * x, "binomial": np.exp(-2.0 + 0.6 * x),
            "gamma": 1.0 / (0.5 + 0.3 * x), "gaussian": np.exp(0.5 + 0.4 * x)}[family]
    y = {"poisson": lambda: rng.poisson(mean), "binomial": lambda: rng.binomial(1, mean),
         "gamma": lambda: rng.gamma(4.0, mean / 4.0),
         "gaussian": lambda: rng.normal(mean, 0.3)}[family]().astype(float)
    fit = mk.glm(X=x, y=y, family=family, link=link)
    ref = sm.GLM(y, sm.add_constant(x), family=sm_family()).fit(tol=1e-14, maxiter=500)
    np.testing.assert_allclose(_values(fit)[:2], ref.params, rtol=1e-6)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_expected_information_gives_rs_standard_errors(birthwt, link):
    # R's glm reports SEs from the expected (Fisher scoring) information; for a
    # non-canonical link it differs from the observed one, mlekit's default
    fit = mk.glm(BIRTHWT, birthwt, family="binomial", link=link, cov="expected")
    ref = _r(f'1. birthwt: binomial(link = "{link}")')
    np.testing.assert_allclose(_ses(fit), ref["std. error"], rtol=1e-6)
    assert fit.cov_kind == "expected"


def test_gamma_expected_information_at_the_mle_shape(mtcars):
    fit = mk.glm("mpg ~ wt + hp", mtcars, family="gamma", link="log", cov="expected")
    shape = _r('6. mtcars: Gamma(link = "log")', "gamma.shape tight")
    np.testing.assert_allclose(_ses(fit)[:3], shape["SE at estimate, dispersion 1/alpha"],
                               rtol=1e-6)
    assert fit.se["shape"] == pytest.approx(shape["alpha (shape), SE"][1], rel=1e-6)


def test_polars_tables_fit_and_predict_like_pandas(mtcars):
    import polars as pl

    table = pl.from_pandas(mtcars)
    by_polars, by_pandas = mk.lm("mpg ~ wt + hp", table), mk.lm("mpg ~ wt + hp", mtcars)
    np.testing.assert_allclose(_values(by_polars), _values(by_pandas), rtol=1e-12)
    np.testing.assert_allclose(by_polars.predict(table.head(3)), by_pandas.predict(mtcars.head(3)),
                               rtol=1e-12)
