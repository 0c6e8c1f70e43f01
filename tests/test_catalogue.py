"""Every family of the catalogue against scipy.stats, by one set of generic checks.

For each :class:`cases.Case`:

- log-density, log-CDF and log-survival equal scipy's at random parameters (property tests:
  hypothesis draws the seed of each parameter set and its points), on points drawn
  from the family's own sampler and on points deep in both tails (scipy's ``ppf``/``isf`` at
  1e-250, where ``log(cdf)`` computed naively would still work but the CDF of a slightly
  farther point underflows; family-specific tests go farther, against mpmath);
- the mean and variance equal scipy's (hypothesis-drawn parameters); the sampler's draws
  have them and pass a KS test;
- a fit on N = 500 draws has a log-likelihood (evaluated by scipy) at least scipy's fit's,
  within 1e-9 relative; where scipy's fit fails the test records it;
- round trip: a fit of 20,000 draws at known parameters recovers each within 4 standard errors;
- exponential families: the sufficient statistics give the same log-likelihood as the sum of
  log-densities;
- the catalogue lists every family and builds it by name.
"""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import mlekit as mk
from cases import Case, all_cases

CASES = all_cases()
N = 500  # one padded shape (512) per family for the fits compared with scipy
N_ROUND_TRIP = 20_000


def _ids(cases):
    return [c.id for c in cases]


def _univariate(c: Case) -> bool:
    return c.family.kind != "multivariate"


def _scipy_logdensity(dist, x):
    return dist.logpmf(x) if hasattr(dist, "logpmf") else dist.logpdf(x)


def _ours(fun, x, params):
    p = {k: jnp.asarray(v) for k, v in params.items()}
    return np.asarray(fun(jnp.asarray(x), p))


def _close(ours, ref, rtol, what):
    ours, ref = np.asarray(ours), np.asarray(ref)
    finite = np.isfinite(ref)
    assert np.all(np.isfinite(ours[finite])), f"{what}: not finite where scipy is"
    np.testing.assert_allclose(ours[finite], ref[finite], rtol=rtol, atol=rtol, err_msg=what)


WITH_SCIPY = [c for c in CASES if c.scipy is not None]
UNIVARIATE_SCIPY = [c for c in WITH_SCIPY if _univariate(c)]


#: hypothesis draws the seed of the parameters and points; each example is one parameter set.
#: Derandomized, so CI is reproducible (60 seeds per family were checked by hand, clean)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
examples = settings(max_examples=8, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("case", WITH_SCIPY, ids=_ids(WITH_SCIPY))
@examples
@given(seed=seeds)
def test_log_density_matches_scipy(case: Case, seed: int):
    rng = np.random.default_rng(seed)
    params = case.draw_params(rng)
    dist = case.scipy(params)
    x = case.family.sample(params, 200, rng)
    _close(_ours(case.family.logpdf, x, params), _scipy_logdensity(dist, x), case.rtol,
           f"logpdf at {params}")


@pytest.mark.parametrize("case", UNIVARIATE_SCIPY, ids=_ids(UNIVARIATE_SCIPY))
@examples
@given(seed=seeds)
def test_log_cdf_and_survival_match_scipy(case: Case, seed: int):
    rng = np.random.default_rng(seed)
    params = case.draw_params(rng)
    dist = case.scipy(params)
    x = case.family.sample(params, 200, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tails = np.array([dist.ppf(1e-250), dist.isf(1e-250), dist.ppf(1e-12),
                          dist.isf(1e-12)])
    # XLA on CPU flushes subnormal numbers (|x| < 2.2e-308) to zero: such points are 0 to it
    tails = tails[np.isfinite(tails) & ~((tails != 0) & (np.abs(tails) < np.finfo(float).tiny))]
    # within a few ulps of a finite end of the support that depends on the parameters (GEV and
    # GPD with shape < 0) the tail probability is ill-conditioned: rounding x or the end point
    # moves log F by units, for scipy as for us; those points are not comparable
    ends = np.array([e for e in np.asarray(dist.support(), dtype=float) if np.isfinite(e)])
    if ends.size:
        gap = np.min(np.abs(tails[:, None] - ends[None, :]), axis=1)
        tails = tails[gap > 1e-9 * np.maximum(1.0, np.abs(tails))]
    if case.family.kind == "discrete":
        x, tails = np.unique(np.round(x)), np.unique(np.round(tails))
    for fun, ref in ((case.family.logcdf, dist.logcdf), (case.family.logsf, dist.logsf)):
        what = f"{fun.__name__} at {params}"
        _close(_ours(fun, x, params), ref(x), case.rtol * 100, what)
        # scipy computes some tails as log(1 - cdf), good to ~1e-6 there; the family tests
        # check the far tails tightly against mpmath
        _close(_ours(fun, tails, params), ref(tails), case.tail_rtol, what + " (tails)")


@pytest.mark.parametrize("case", UNIVARIATE_SCIPY, ids=_ids(UNIVARIATE_SCIPY))
@examples
@given(seed=seeds)
def test_moments_match_scipy(case: Case, seed: int):
    rng = np.random.default_rng(seed)
    params = case.draw_params(rng)
    dist = case.scipy(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, var = float(dist.mean()), float(dist.var())
    ours_mean = float(_ours(lambda _, p: case.family.mean(p), 0.0, params))
    ours_var = float(_ours(lambda _, p: case.family.variance(p), 0.0, params))
    for ours, ref, what in ((ours_mean, mean, "mean"), (ours_var, var, "variance")):
        if math.isfinite(ref):
            assert ours == pytest.approx(ref, rel=1e-8, abs=1e-12), (what, params)
        else:
            assert not math.isfinite(ours), (what, params, ours)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_sampler_draws_from_the_family(case: Case):
    rng = np.random.default_rng(4)
    x = case.family.sample(case.truth, N_ROUND_TRIP, rng)
    assert x.shape[0] == N_ROUND_TRIP
    mean = np.asarray(_ours(lambda _, p: case.family.mean(p), 0.0, case.truth))
    var = np.asarray(_ours(lambda _, p: case.family.variance(p), 0.0, case.truth))
    sd = np.sqrt(np.diagonal(var) if var.ndim == 2 else var)
    if np.all(np.isfinite(sd)):
        z = (x.mean(axis=0) - mean) / (sd / math.sqrt(N_ROUND_TRIP))
        assert np.all(np.abs(z) < 5), f"sample mean off by {z} standard errors"
    if case.family.kind == "continuous":
        # against the family's own CDF (itself checked against scipy and mpmath above)
        cdf = np.exp(_ours(case.family.logcdf, np.sort(x), case.truth))
        assert stats.kstest(np.sort(x), lambda v: np.interp(v, np.sort(x), cdf)).pvalue > 1e-4


def _scipy_loglik(case, x, params):
    return float(np.sum(_scipy_logdensity(case.scipy(params), x)))


FITTABLE = [c for c in WITH_SCIPY if c.scipy_fit is not None]


@pytest.mark.parametrize("case", FITTABLE, ids=_ids(FITTABLE))
def test_fit_at_least_as_good_as_scipy(case: Case, record_property):
    rng = np.random.default_rng(5)
    x = case.family.sample(case.truth, N, rng)
    fit = mk.fit(case.family, x, **case.fit_options)
    assert fit.converged or case.family.boundary, fit.message
    ours = _scipy_loglik(case, x, fit.params)
    assert ours == pytest.approx(fit.loglik, rel=1e-10, abs=1e-8)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _scipy_loglik(case, x, case.scipy_fit(x))
    except Exception as err:  # scipy failing to fit is a finding, recorded
        record_property("scipy_fit_failed", repr(err))
        return
    if not math.isfinite(theirs):
        record_property("scipy_fit_nonfinite", theirs)
        return
    assert ours >= theirs - 1e-9 * abs(theirs), (ours, theirs)
    record_property("loglik_gain_over_scipy", ours - theirs)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_round_trip_recovers_the_parameters(case: Case):
    x = case.family.sample(case.truth, N_ROUND_TRIP, np.random.default_rng(6))
    fit = mk.fit(case.family, x, **case.fit_options)
    assert fit.converged, fit.message
    for name, true in case.truth.items():
        est = np.asarray(fit.params[name])
        if name in case.family.boundary:
            assert fit.se[name] is None
            assert np.all(np.abs(est - true) <= 1e-2 * np.maximum(1.0, np.abs(true)))
            continue
        se = np.asarray(fit.se[name])
        z = np.abs(est - np.asarray(true)) / se
        assert np.all(z < 4), f"{name}: estimate {est} vs {true}, {z} standard errors off"


SUFFICIENT = [c for c in CASES if c.family.exponential_family]


@pytest.mark.parametrize("case", SUFFICIENT, ids=_ids(SUFFICIENT))
def test_sufficient_statistics_give_the_same_loglik(case: Case):
    rng = np.random.default_rng(7)
    x = case.family.sample(case.truth, N, rng)
    model, x = case.family.prepare(x)
    params = case.draw_params(rng)
    if model.boundary:  # the statistics hold given the order statistics
        params.update(model.boundary_estimate(x))
    params = {k: jnp.asarray(v) for k, v in params.items()}
    direct = float(jnp.sum(model.logpdf(jnp.asarray(x), params)))
    via_stats = float(model.loglik_stats(model.suffstats(x), params))
    assert via_stats == pytest.approx(direct, rel=1e-10)


def test_catalogue_lists_every_family_and_builds_it_by_name():
    infos = mk.families()
    assert len(infos) >= 35
    names = [i.name for i in infos]
    assert len(set(names)) == len(names)
    for info in infos:
        assert info.kind in ("continuous", "discrete", "multivariate")
        assert info.params and info.support and info.description
        assert getattr(mk, info.cls.__name__) is info.cls
        assert info.to_dict()["name"] == info.name
    tested = {c.family.name for c in CASES}
    assert set(names) <= tested, f"families without a test case: {set(names) - tested}"
