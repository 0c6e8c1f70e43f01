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

