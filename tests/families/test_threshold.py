"""Non-regular families: order-statistic MLEs, thresholds, and what the fit says about them."""

from __future__ import annotations

import math

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import mlekit as mk
from conftest import problems

N = 500


def test_uniform_mle_is_the_range_without_standard_errors():
    x = np.random.default_rng(0).uniform(-1.0, 3.0, N)
    fit = mk.fit(mk.Uniform(), x)
    assert fit.params == {"min": x.min(), "max": x.max()}
    assert fit.se == {"min": None, "max": None}
    assert fit.k == 2 and fit.converged
    assert fit.loglik == pytest.approx(-N * math.log(x.max() - x.min()), rel=1e-14)
    assert [d.code for d in fit.diagnostics] == ["nonregular"]
    assert "n/a" in fit.summary()
    with pytest.raises(mk.ModelError, match="non-regular"):
        fit.conf_int()


def test_pareto_scale_is_the_minimum_and_shape_its_closed_form():
    x = 2.0 * (1.0 + np.random.default_rng(1).pareto(3.0, N))
    fit = mk.fit(mk.Pareto(), x)
    m = x.min()
    shape = N / np.sum(np.log(x / m))
    assert fit.params["scale"] == m
    assert fit.params["shape"] == pytest.approx(shape, rel=1e-12)
    # with the scale known, the information for the shape is n / shape^2
    assert fit.se["shape"] == pytest.approx(shape / math.sqrt(N), rel=1e-8)
    assert fit.se["scale"] is None
    assert fit.k == 2
    # the delta method works for the regular parameter, treating the scale as known
    est = fit.transform(lambda p: 1 / p["shape"])
    assert est.se == pytest.approx(fit.se["shape"] / shape**2, rel=1e-8)


def test_pareto_with_fixed_scale_is_regular():
    x = 2.0 * (1.0 + np.random.default_rng(1).pareto(3.0, N))
    fit = mk.fit(mk.Pareto(), x, fixed={"scale": 1.5})
    assert fit.params["shape"] == pytest.approx(N / np.sum(np.log(x / 1.5)), rel=1e-12)
    assert not problems(fit) and fit.k == 1


def test_pareto_survival_near_the_scale_is_exact():
    # log(m/x) written as -log1p((x - m)/m): no cancellation just above the scale
    p = {"shape": jnp.asarray(2.5), "scale": jnp.asarray(3.0)}
    x = 3.0 * (1 + 1e-13)
    mp.mp.dps = 50
    exact = float(mp.log(1 - (mp.mpf(3) / mp.mpf(x)) ** mp.mpf(2.5)))
    assert float(mk.Pareto().logcdf(jnp.asarray(x), p)) == pytest.approx(exact, rel=1e-12)
    far = 3.0 * 1e300
    assert float(mk.Pareto().logsf(jnp.asarray(far), p)) == pytest.approx(-2.5 * math.log(1e300),
                                                                           rel=1e-14)


def test_weibull3_with_shape_above_two_is_regular():
    x = 10 + 5 * np.random.default_rng(2).weibull(3.0, N)
    fit = mk.fit(mk.Weibull3(), x)
    assert fit.converged and not problems(fit)
    assert fit.params["threshold"] < x.min()
    assert all(fit.se[n] is not None for n in ("shape", "scale", "threshold"))


def test_weibull3_with_shape_between_one_and_two_withholds_the_threshold_se():
    x = 10 + 5 * np.random.default_rng(3).weibull(1.5, N)
    fit = mk.fit(mk.Weibull3(), x)
    assert fit.converged
    assert fit.se["threshold"] is None and fit.se["shape"] is not None
    assert [d.code for d in fit.diagnostics] == ["nonregular"]
    # the covariance treats the threshold as known: its row is zero
    i = fit.param_names.index("threshold")
    assert np.all(fit.cov[i] == 0) and np.all(fit.cov[:, i] == 0)


def test_weibull3_without_local_maximum_falls_back_to_the_minimum():
    x = 10 + 5 * np.random.default_rng(4).weibull(0.7, N)
    fit = mk.fit(mk.Weibull3(), x)
    codes = [d.code for d in fit.diagnostics]
    assert "no_local_maximum" in codes and "nonregular" in codes
    assert fit.params["threshold"] == x.min()
    assert fit.n == N - 1  # the minimum itself defines the boundary
    assert fit.params["shape"] < 1
    # the same as a two-parameter Weibull on the shifted remaining data
    rest = np.sort(x)[1:] - x.min()
    two = mk.fit(mk.Weibull(), rest)
    assert fit.params["shape"] == pytest.approx(two.params["shape"], rel=1e-8)
    assert fit.loglik == pytest.approx(two.loglik, rel=1e-10)


def test_threshold_can_be_fixed():
    x = 10 + 5 * np.random.default_rng(2).weibull(3.0, N)
    fit = mk.fit(mk.Weibull3(), x, fixed={"threshold": 9.0})
    two = mk.fit(mk.Weibull(), x - 9.0)
    assert fit.params["shape"] == pytest.approx(two.params["shape"], rel=1e-8)
    assert not problems(fit)


def test_lognormal3_profile_given_threshold_is_the_lognormal_closed_form():
    x = 10 + np.exp(np.random.default_rng(5).normal(1.0, 0.5, N))
    fit = mk.fit(mk.LogNormal3(), x)
    assert fit.converged
    ly = np.log(x - fit.params["threshold"])
    assert fit.params["meanlog"] == pytest.approx(ly.mean(), rel=1e-8)
    assert fit.params["sdlog"] == pytest.approx(ly.std(), rel=1e-8)


def test_catalogue_marks_the_nonregular_families():
    regular = {f.name: f.regular for f in mk.families()}
    for name in ("uniform", "pareto", "weibull3", "lognormal3", "gamma3"):
        assert regular[name] is False
    assert regular["weibull"] is True
