"""Agreement with R on real data (../shared/data), to 1e-6 in estimates and 1e-4 in SEs.

The family-catalogue cases (logistic, Cauchy, lognormal, gamma, Poisson, negative binomial,
Student t on groundbeef, danishuni, endosulfan, toxocara, abbey and DAX returns) are further
down, with their own note; their script is tests/reference/catalogue.R.

Reference values come from R 4.2.2 (Debian), MASS 7.3-58.2, fitdistrplus 1.1-8, numDeriv
2016.8-1.1; the full script is tests/reference/groundbeef_abbey.R. R's optim-based fits are good
to ~1e-8 only, so the script also solves the score equations exactly (closed forms, or uniroot /
Newton to a score of ~1e-13) and takes SEs from the analytic observed information, which
numDeriv::hessian confirms to 10 digits. Those exact values are the references below.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pytest

import mlekit as mk
from conftest import problems, shared_csv

# (family, {param: (estimate, se)}, loglik, the R call)
GROUNDBEEF = [
    ("normal", {"mean": (73.645669291338578, 2.2471801904384603),
                "sd": (35.814158894324947, 1.5889963512071126)}, -1269.3095894588932,
     'MASS::fitdistr(x, "normal")  # closed form; sd with divisor n, SE = sd/sqrt(2n)'),
    ("lognormal", {"meanlog": (4.1693700894537065, 0.033669875427221566),
                   "sdlog": (0.53660951339525575, 0.023808197236294678)}, -1261.3192986762533,
     'MASS::fitdistr(x, "lognormal")  # closed form'),
    ("exponential", {"rate": (0.013578530952635519, 0.00085199280714793268)},
     -1346.0133963538938, 'MASS::fitdistr(x, "exponential")  # closed form'),
    ("gamma", {"shape": (4.0083390318290633, 0.34191282370933967),
               "rate": (0.054427355612348023, 0.0049461137044071709)}, -1253.625113689254,
     "uniroot(log(k)-digamma(k)-s, tol=1e-300) + Newton; SE from the analytic information "
     "(MASS::fitdistr(x, 'gamma', start=..., control=list(reltol=1e-15)): 4.00834977884)"),
    ("weibull", {"shape": (2.185612332259383, 0.10456642294714215),
                 "scale": (83.346668831632186, 2.5271217033683415)}, -1255.2247198636483,
     "uniroot on the Weibull profile score; SE from the analytic information "
     "(MASS::fitdistr(x, 'weibull', control=list(reltol=1e-15)): 2.18561233626, 83.3466693061)"),
]


@pytest.mark.parametrize("family,expected,loglik,r_call", GROUNDBEEF,
                         ids=[g[0] for g in GROUNDBEEF])
def test_groundbeef_matches_r(groundbeef, family, expected, loglik, r_call):
    fit = mk.fit(family, groundbeef)
    assert fit.converged and not problems(fit)
    for name, (est, se) in expected.items():
        assert fit.params[name] == pytest.approx(est, rel=1e-6), r_call
        assert fit.se[name] == pytest.approx(se, rel=1e-4), r_call
        # tighter than required: the engine solves the score equations to rounding
        assert fit.params[name] == pytest.approx(est, rel=1e-10)
        assert fit.se[name] == pytest.approx(se, rel=1e-8)
    assert fit.loglik == pytest.approx(loglik, rel=1e-12)


def test_abbey_student_t_matches_mass(abbey):
    # MASS::fitdistr(y, "t", control=list(reltol=1e-15, maxit=10000)) gives 9.96581551982,
    # 3.44056883047, 1.38207364526 (optim, ~1e-7); Newton-polished with the analytic score and
    # Hessian (score ~1e-15), the exact MLE and its SEs are:
    expected = {"location": (9.9658148784667322, 1.0433566864791495),
                "scale": (3.440568074745058, 0.89513991744374632),
                "df": (1.382073064504407, 0.48981413450962441)}
    fit = mk.fit(mk.StudentT(), abbey)
    assert fit.converged
    for name, (est, se) in expected.items():
        assert fit.params[name] == pytest.approx(est, rel=1e-8)
        assert fit.se[name] == pytest.approx(se, rel=1e-6)
    assert fit.loglik == pytest.approx(-106.95759661149326, rel=1e-12)
    # analytic vcov from the same script
    vcov = np.array([[1.088593175221, 0.433697970020, 0.210716320902],
                     [0.433697970020, 0.801275471801, 0.229423938539],
                     [0.210716320902, 0.229423938539, 0.239917886365]])
    np.testing.assert_allclose(fit.cov, vcov, rtol=1e-8)


def test_abbey_t_from_far_starts_reaches_the_global_maximum(abbey):
    # R: seven MASS start points and Nelder-Mead all reach loglik -106.957596611
    for start in ({"location": 15.0, "scale": 10.0, "df": 30.0},
                  {"location": 8.0, "scale": 1.0, "df": 0.5},
                  {"location": 9.0, "scale": 5.0, "df": 100.0}):
        fit = mk.fit(mk.StudentT(), abbey, start=start)
        assert fit.converged
        assert fit.loglik == pytest.approx(-106.95759661149326, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The family catalogue against R on real data (issue 3).
#
# Every number below is printed by tests/reference/catalogue.R (its output is kept beside it as
# tests/reference/catalogue.out), run with R 4.2.2 Patched (2022-11-10 r83330), MASS 7.3-58.2,
# fitdistrplus 1.1-8, numDeriv 2016.8-1.1, on ../shared/data (the script checks each file is
# identical to R's own copy of the data set).
#
# Each case holds
#   * R's own fits (fitdistrplus::fitdist / MASS::fitdistr, exact call quoted). Where R optimizes,
#     its estimate is only as good as optim's stopping rule and its SEs come from optim's
#     finite-difference Hessian, so they are compared at tolerances that reflect that (est_rtol,
#     se_rtol; None: R stopped short, see the note) and our loglik must be >= R's (R's loglik
#     at R's estimate: we must find a maximum at least as high);
#   * the exact MLE, which the script computes in R: closed forms, or the score equations
#     solved to rounding (uniroot on the profile score, then Newton with the analytic score and
#     Hessian; |score| ~1e-13 or less), with SEs from the analytic observed information
#     (numDeriv::hessian agrees to <= 5e-10 relative). Our fit must reproduce these tightly.


@dataclass(frozen=True)
class RFit:
    call: str
    estimate: dict[str, float]
    se: dict[str, float]
    loglik: float
    est_rtol: float | None  # None: R stopped short of the maximum (only loglik <= ours holds)
    se_rtol: float | None
    ll_rtol: float | None


@dataclass(frozen=True)
class RReference:
    id: str
    data: str  # key of DATA
    family: str
    r_fits: tuple[RFit, ...]
    exact: dict[str, tuple[float, float]]  # name -> (estimate, SE from the analytic information)
    exact_loglik: float
    exact_how: str


def _column(file: str, column: str) -> np.ndarray:
    return shared_csv(file)[column].to_numpy(dtype=float)


def _dax_returns() -> np.ndarray:
    return np.diff(np.log(_column("eustockmarkets.csv", "DAX")))  # R: diff(log(DAX)), n = 1859


DATA = {
    "groundbeef": lambda: _column("groundbeef.csv", "serving"),
    "danishuni": lambda: _column("danishuni.csv", "Loss"),
    "endosulfan": lambda: _column("endosulfan.csv", "ATV"),
    "toxocara": lambda: _column("toxocara.csv", "number"),
    "abbey": lambda: _column("abbey.csv", "abbey"),
    "dax": _dax_returns,
    "dax_percent": lambda: 100 * _dax_returns(),  # R: 100 * diff(log(DAX))
}

T_NAMES = ("location", "scale", "df")  # MASS: m, s, df


def _t(values):
    return dict(zip(T_NAMES, values, strict=True))


CATALOGUE_REFERENCES = [
    RReference(
        "groundbeef-logistic", "groundbeef", "logistic",
        (RFit('fitdistrplus::fitdist(x, "logis")  # Nelder-Mead, default reltol ~1.5e-8',
              {"location": 71.1741567447166, "scale": 20.3949371836462},
              {"location": 2.24648829161719, "scale": 1.05514739314607},
              -1270.44836678965, est_rtol=5e-4, se_rtol=1e-3, ll_rtol=1e-8),
         RFit('fitdistrplus::fitdist(x, "logis", control=list(reltol=1e-15, maxit=10000))',
              {"location": 71.1721199769181, "scale": 20.3981376738832},
              {"location": 2.24672495447725, "scale": 1.0554947133875},
              -1270.44836162628, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        {"location": (71.172119600302, 2.246724955604),
         "scale": (20.3981367132388, 1.05549461326675)},
        -1270.44836162628,
        "Newton with the analytic score/Hessian from the tight fitdist estimate; score ~1e-15"),
    RReference(
        "groundbeef-cauchy", "groundbeef", "cauchy",
        (RFit('fitdistrplus::fitdist(x, "cauchy")  # Nelder-Mead, default reltol ~1.5e-8',
              {"location": 67.3063984402194, "scale": 22.9480371284983},
              {"location": 2.72052206013907, "scale": 1.69841293398823},
              -1316.63609017165, est_rtol=5e-4, se_rtol=1e-3, ll_rtol=1e-8),
         RFit('fitdistrplus::fitdist(x, "cauchy", control=list(reltol=1e-15, maxit=10000))',
              {"location": 67.3037490639115, "scale": 22.9434698387294},
              {"location": 2.72077346058388, "scale": 1.69788247194467},
              -1316.63608616263, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        {"location": (67.3037455736284, 2.72077305218698),
         "scale": (22.9434697006239, 1.69788236116575)},
        -1316.63608616263,
        "Newton with the analytic score/Hessian from the tight fitdist estimate; score ~1e-16; "
        "the profile loglik over a location grid 0..200 (step 0.5) peaks at -1316.6387 < this, "
        "so the maximum is global"),
    RReference(
        "danishuni-lognormal", "danishuni", "lognormal",
        (RFit('fitdistrplus::fitdist(x, "lnorm")  # closed form; SE from a numerical Hessian',
              {"meanlog": 0.786950079838349, "sdlog": 0.716554513117642},
              {"meanlog": 0.0153928763253176, "sdlog": 0.0108843118382002},
              -4057.89746126544, est_rtol=1e-12, se_rtol=1e-3, ll_rtol=1e-12),
         RFit('MASS::fitdistr(x, "lognormal")  # closed form; SE sdlog/sqrt(n), sdlog/sqrt(2n)',
              {"meanlog": 0.786950079838349, "sdlog": 0.716554513117642},
              {"meanlog": 0.0153928763252367, "sdlog": 0.0108844072315408},
              -4057.89746126544, est_rtol=1e-12, se_rtol=1e-10, ll_rtol=1e-12)),
        {"meanlog": (0.786950079838349, 0.0153928763252367),
         "sdlog": (0.716554513117642, 0.0108844072315408)},
        -4057.89746126544,
        "closed form mean(log x), sqrt(mean((log x - meanlog)^2))"),
    RReference(
        "danishuni-gamma", "danishuni", "gamma",
        (RFit('fitdistrplus::fitdist(x, "gamma")  # Nelder-Mead from the moment start',
              {"shape": 1.29767617307214, "rate": 0.38339385943757},
              {"shape": 0.0354867688603011, "rate": 0.0127354548881267},
              -4767.09570035153, est_rtol=5e-4, se_rtol=1e-3, ll_rtol=1e-8),
         RFit('fitdistrplus::fitdist(x, "gamma", start=list(shape=m^2/v, rate=m/v), '
              "control=list(reltol=1e-14, maxit=10000))  # m, v = mean(x), var(x)",
              {"shape": 1.29760815192344, "rate": 0.383330697964086},
              {"shape": 0.0354847588945564, "rate": 0.0127334278890789},
              -4767.09568075169, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9),
         RFit('fitdistrplus::fitdist(x, "gamma", start=<moments>, optim.method="BFGS", '
              "control=list(reltol=1e-15, maxit=10000, parscale=c(1, m/v)))",
              {"shape": 1.2976084001935, "rate": 0.383330718511666},
              {"shape": 0.0354849351409374, "rate": 0.0127335321604697},
              -4767.09568075168, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        {"shape": (1.29760831058582, 0.0354851411381472),
         "rate": (0.383330712285512, 0.0127336458280134)},
        -4767.09568075167,
        "uniroot(log(a) - digamma(a) - (log(mean x) - mean(log x)), tol=1e-300) + 3 Newton "
        "steps (residual -3e-16), rate = a/mean(x); SE from the analytic information"),
    RReference(
        "endosulfan-lognormal", "endosulfan", "lognormal",
        (RFit('fitdistrplus::fitdist(x, "lnorm")  # closed form; SE from a numerical Hessian',
              {"meanlog": 2.55381626207749, "sdlog": 3.1472403612217},
              {"meanlog": 0.308612307306992, "sdlog": 0.218221756458084},
              -532.405201987192, est_rtol=1e-12, se_rtol=1e-3, ll_rtol=1e-12),
         RFit('MASS::fitdistr(x, "lognormal")  # closed form; SE sdlog/sqrt(n), sdlog/sqrt(2n)',
              {"meanlog": 2.55381626207749, "sdlog": 3.1472403612217},
              {"meanlog": 0.308612307996851, "sdlog": 0.218221855742204},
              -532.405201987192, est_rtol=1e-12, se_rtol=1e-10, ll_rtol=1e-12)),
        {"meanlog": (2.55381626207749, 0.308612307996851),
         "sdlog": (3.1472403612217, 0.218221855742204)},
        -532.405201987192,
        "closed form mean(log x), sqrt(mean((log x - meanlog)^2))"),
    RReference(
        "toxocara-poisson", "toxocara", "poisson",
        (RFit('MASS::fitdistr(x, "Poisson")  # closed form lambda = mean(x), SE sqrt(lambda/n)',
              {"lambda": 8.67924528301887}, {"lambda": 0.404671897915608},
              -507.533429785413, est_rtol=1e-12, se_rtol=1e-10, ll_rtol=1e-12),),
        {"lambda": (8.67924528301887, 0.404671897915608)},
        -507.533429785413,
        "closed form mean(x)"),
    RReference(
        "toxocara-negative_binomial", "toxocara", "negative_binomial",
        (RFit('MASS::fitdistr(x, "negative binomial")  # BFGS from the moment start',
              {"size": 0.396996600602158, "mu": 8.67924531845579},
              {"size": 0.0828504025046305, "mu": 1.9349184421233},
              -159.344086120797, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9),
         RFit('MASS::fitdistr(x, "negative binomial", control=list(reltol=1e-15, maxit=10000))',
              {"size": 0.396996780719587, "mu": 8.67924531845574},
              {"size": 0.0828504506414469, "mu": 1.93491803034065},
              -159.344086120802, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        {"size": (0.396996492683782, 0.0828511112618413),
         "mu": (8.67924528301885, 1.93491877802579)},
        -159.344086120796,
        "mu = mean(x); uniroot on the profile score sum(digamma(x+k)) - n digamma(k) + "
        "n log(k/(k+mu)), then Newton (score ~2e-14); SE from the analytic information"),
    RReference(
        "abbey-student_t", "abbey", "student_t",
        (RFit('MASS::fitdistr(x, "t")  # start m=median, s=IQR/2, df=10; BFGS, default control',
              _t((9.96576992677154, 3.44053865684252, 1.38205848211582)),
              _t((1.04335249040573, 0.895136721334914, 0.489808203368137)),
              -106.957596612558, est_rtol=1e-4, se_rtol=1e-3, ll_rtol=1e-9),
         RFit('MASS::fitdistr(x, "t", start=list(m=10, s=3, df=1.5), '
              "control=list(reltol=1e-15, maxit=10000))",
              _t((9.96581552374511, 3.44056884458642, 1.38207365878969)),
              _t((1.04335641238596, 0.895139491477413, 0.489813763489747)),
              -106.957596611494, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        _t(((9.96581487846673, 1.04335668647915), (3.44056807474506, 0.895139917443747),
            (1.38207306450441, 0.489814134509624))),
        -106.957596611493,
        "Newton with the analytic score/Hessian from the tight MASS estimate; score ~3e-15"),
    RReference(
        "dax_percent-student_t", "dax_percent", "student_t",
        (RFit('MASS::fitdistr(x, "t")  # x = 100*diff(log(DAX)); default start and control',
              _t((0.0784721232372942, 0.753880827370011, 4.19451623471354)),
              _t((0.0205377370329643, 0.0227253946870083, 0.442144758043308)),
              -2577.68950981729, est_rtol=1e-5, se_rtol=1e-3, ll_rtol=1e-9),
         RFit('MASS::fitdistr(x, "t", start=list(m=0.07, s=0.75, df=4), '
              "control=list(reltol=1e-15, maxit=10000, parscale=c(0.01, 0.1, 1)))",
              _t((0.0784721289470126, 0.753879269958188, 4.19449526477846)),
              _t((0.0205377122881181, 0.0227254049706641, 0.442141288075083)),
              -2577.68950981486, est_rtol=1e-6, se_rtol=1e-3, ll_rtol=1e-9)),
        _t(((0.0784721302853685, 0.0205377099553633), (0.753879241596065, 0.0227254619706666),
            (4.19449472200559, 0.442141429958686))),
        -2577.68950981486,
        "Newton with the analytic score/Hessian from the tight MASS estimate; score ~4e-13"),
    # Unscaled log-returns (scale ~0.0075). R's default call stops far short (df 4.46 instead
    # of 4.19, loglik 0.2 below the maximum): only the loglik bound is checked. With start and
    # parscale the estimate is good to 1e-7, but optim's finite-difference Hessian at this
    # scale is off by up to 2.3% (scale SE 2.219e-4 against the analytic 2.273e-4, which
    # numDeriv::hessian confirms; the percent-scale fit above gives the same SEs x 100), so
    # R's SEs are not compared here; the exact SEs below are.
    RReference(
        "dax-student_t", "dax", "student_t",
        (RFit('MASS::fitdistr(x, "t")  # x = diff(log(DAX)); default start and control',
              _t((0.000783685405242713, 0.00767354574931668, 4.4602637612092)),
              _t((0.000207507318640804, 0.000222540232222116, 0.497835333706867)),
              5983.1225083075, est_rtol=None, se_rtol=None, ll_rtol=None),
         RFit('MASS::fitdistr(x, "t", start=list(m=7e-4, s=7.5e-3, df=4), '
              "control=list(reltol=1e-15, maxit=10000, parscale=c(1e-4, 1e-3, 1)))",
              _t((0.000784721289918994, 0.00753879245283809, 4.19449531848449)),
              _t((0.000205573962133657, 0.000221941320379156, 0.441140588358353)),
              5983.321865937, est_rtol=1e-6, se_rtol=None, ll_rtol=1e-9)),
        _t(((0.000784721302853686, 0.000205377099553633),
            (0.00753879241596067, 0.000227254619706668),
            (4.19449472200564, 0.442141429958699))),
        5983.321865937,
        "Newton with the analytic score/Hessian from the tight MASS estimate; score ~9e-12"),
]


@functools.cache
def _fit(family: str, data: str):
    return mk.fit(mk.family(family), DATA[data]())


@pytest.mark.parametrize("ref", CATALOGUE_REFERENCES, ids=[r.id for r in CATALOGUE_REFERENCES])
def test_catalogue_matches_exact_mle_computed_in_r(ref):
    fit = _fit(ref.family, ref.data)
    assert fit.converged, fit.message
    assert not problems(fit), fit.diagnostics
    assert set(fit.params) == set(ref.exact)
    for name, (est, se) in ref.exact.items():
        # the engine stops at a Newton decrement <= 1e-12: within ~1e-6 SE of the maximum
        assert abs(fit.params[name] - est) <= 1e-6 * se, (name, fit.params[name], est)
        assert fit.params[name] == pytest.approx(est, rel=1e-9), ref.exact_how
        assert fit.se[name] == pytest.approx(se, rel=1e-8), ref.exact_how
    assert fit.loglik == pytest.approx(ref.exact_loglik, rel=1e-12)


@pytest.mark.parametrize("ref,r", [(ref, r) for ref in CATALOGUE_REFERENCES for r in ref.r_fits],
                         ids=[f"{ref.id}-{i}" for ref in CATALOGUE_REFERENCES
                              for i in range(len(ref.r_fits))])
def test_catalogue_matches_r_fit(ref, r):
    fit = _fit(ref.family, ref.data)
    # R's loglik at R's estimate can only be below the maximum (up to rounding)
    assert fit.loglik >= r.loglik - 1e-12 * abs(r.loglik), r.call
    if r.ll_rtol is not None:
        assert fit.loglik == pytest.approx(r.loglik, rel=r.ll_rtol), r.call
    for name, est in r.estimate.items():
        if r.est_rtol is not None:
            assert fit.params[name] == pytest.approx(est, rel=r.est_rtol), (name, r.call)
        if r.se_rtol is not None:  # R's SEs: optim's finite-difference Hessian
            assert fit.se[name] == pytest.approx(r.se[name], rel=r.se_rtol), (name, r.call)


def test_dax_t_fit_is_scale_equivariant():
    # 100 * returns: location and scale x 100, df unchanged, loglik - n log(100)
    small, big = _fit("student_t", "dax"), _fit("student_t", "dax_percent")
    assert big.params["location"] == pytest.approx(100 * small.params["location"], rel=1e-9)
    assert big.params["scale"] == pytest.approx(100 * small.params["scale"], rel=1e-9)
    assert big.params["df"] == pytest.approx(small.params["df"], rel=1e-9)
    assert big.loglik == pytest.approx(small.loglik - small.n * np.log(100), rel=1e-12)
