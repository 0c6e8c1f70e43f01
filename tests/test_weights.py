"""Frequency weights: an observation of weight w counts w times, so integer weights give the
fit of the data with its rows repeated, and weight 0 drops a row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlekit as mk
from conftest import shared_csv

N = 40  # one data length for every example: one compiled shape


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), family=st.sampled_from(["gamma", "weibull", "lognormal"]))
def test_integer_weights_equal_repeated_rows(seed, family):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 1.5, N)
    w = rng.integers(0, 4, N).astype(float)
    w[0] = 1.0  # at least a few observations
    weighted = mk.fit(family, x, weights=w)
    repeated = mk.fit(family, np.repeat(x, w.astype(int)))
    if not repeated.converged:
        assert not weighted.converged
        return
    assert weighted.n == repeated.n == int(w.sum())
    for name in repeated.params:
        assert weighted.params[name] == pytest.approx(repeated.params[name], rel=1e-8)
        assert weighted.se[name] == pytest.approx(repeated.se[name], rel=1e-6)
    assert weighted.loglik == pytest.approx(repeated.loglik, rel=1e-10)
    assert weighted.aic == pytest.approx(repeated.aic, rel=1e-10)


def test_a_zero_weight_drops_the_row_and_weights_reach_mixtures():
    x = shared_csv("groundbeef.csv")["serving"].to_numpy()
    w = np.ones(x.size)
    w[:10] = 0.0
    np.testing.assert_allclose(list(mk.fit(mk.Gamma(), x, weights=w).params.values()),
                               list(mk.fit(mk.Gamma(), x[10:]).params.values()), rtol=1e-9)
    faithful = shared_csv("faithful.csv")[["eruptions", "waiting"]].to_numpy()
    w = np.random.default_rng(0).integers(1, 3, len(faithful)).astype(float)
    weighted = mk.fit(mk.GaussianMixture(2), faithful, weights=w)
    repeated = mk.fit(mk.GaussianMixture(2), np.repeat(faithful, w.astype(int), axis=0))
    assert weighted.loglik == pytest.approx(repeated.loglik, rel=1e-10)
    np.testing.assert_allclose(weighted.params["means"], repeated.params["means"], rtol=1e-9)


@pytest.mark.parametrize("weights,match", [
    ([1.0, 2.0], "2 values for 5 observations"),
    ([1.0, -1.0, 1.0, 1.0, 1.0], r"weights\[1\] = -1.0: frequency weights must be"),
    ([1.0, np.nan, 1.0, 1.0, 1.0], "must be finite"),
    ([0.0] * 5, "every weight is 0"),
])
def test_bad_weights_are_refused(weights, match):
    with pytest.raises(mk.DataError, match=match):
        mk.fit(mk.Gamma(), [1.0, 2.0, 3.0, 4.0, 5.0], weights=weights)


def test_inference_that_does_not_take_weights_says_so():
    x = shared_csv("groundbeef.csv")["serving"].to_numpy()
    w = np.arange(x.size) % 3 + 1.0
    fit = mk.fit(mk.Gamma(), x, weights=w)
    assert set(fit.conf_int(method="profile")) == {"shape", "rate"}
    for call in (lambda: fit.cov_as("robust"), lambda: fit.bootstrap(50),
                 lambda: fit.score_test({"shape": 2.0}),
                 lambda: mk.fit(mk.Gamma(), x, weights=w, starts=3)):
        with pytest.raises(mk.ModelError, match="weights"):
            call()
