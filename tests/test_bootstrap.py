"""The bootstrap and the batched Newton solver behind it.

Replicate b resamples with ``np.random.default_rng(seed).spawn(R)[b]`` (a documented contract),
so a test can rebuild any replicate's data and refit it with ``mk.fit``. Sizes and replicate
counts repeat across tests so compiled shapes are shared.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats as st

import mlekit as mk
from mlekit._inference.bootstrap import BootstrapResult, bca_ends, bootstrap
from mlekit._optimize import batched

R = 199


def ctx_of(model, x, **kw):
    fit = mk.fit(model, x, **kw)
    assert fit.converged
    return fit._context


def resample(seed, replicates, b, x):
    gen = np.random.default_rng(seed).spawn(replicates)[b]
    return x[gen.integers(0, x.shape[0], size=x.shape[0])]


def flat_params(fit, names):
    return np.concatenate([np.ravel(fit.params[n]) for n in names])


def normal_logpdf(x, p):
    z = (x - p["m"]) / p["s"]
    return -0.5 * z * z - jnp.log(p["s"]) - 0.5 * jnp.log(2 * jnp.pi)


USER_NORMAL = mk.Model(normal_logpdf, params={"m": mk.Real(init=0.0), "s": mk.Positive(init=1.0)},
                       name="user normal")


# -- coverage and standard errors ------------------------------------------------------------
def test_percentile_interval_covers_the_exponential_rate_at_the_nominal_rate():
    """200 data sets of n = 50 from Exp(rate 2), R = 199 each: the 90% percentile interval
    covers 2 in 90% of them, within 3 binomial standard errors (0.064)."""
    rng = np.random.default_rng(20240601)
    datasets, level, truth = 200, 0.90, 2.0
    covered = 0
    for i in range(datasets):
        x = rng.exponential(1 / truth, 50)
        lo, hi = bootstrap(ctx_of(mk.Exponential(), x), replicates=R, seed=i).conf_int(
            level)["rate"]
        covered += lo <= truth <= hi
    se = np.sqrt(level * (1 - level) / datasets)
    assert abs(covered / datasets - level) <= 3 * se


@pytest.mark.parametrize("kind", ["nonparametric", "parametric"])
def test_bootstrap_se_of_the_normal_mean_is_sd_over_root_n(kind, groundbeef):
    """The replicate mean has variance sd_hat^2 / n (sd_hat the MLE) under both resampling
    schemes; an SD from R draws has relative Monte Carlo error ~ 1 / sqrt(2 (R - 1))."""
    replicates = 1999
    fit = mk.fit(mk.Normal(), groundbeef)
    boot = bootstrap(fit._context, replicates=replicates, kind=kind, seed=7)
    expected = fit.params["sd"] / np.sqrt(fit.n)
    assert boot.se["mean"] == pytest.approx(expected, rel=4 / np.sqrt(2 * (replicates - 1)))
    assert boot.bias["mean"] == pytest.approx(0.0, abs=4 * expected / np.sqrt(replicates))


# -- BCa ---------------------------------------------------------------------------------------
def test_bca_agrees_with_scipy_for_the_exponential_rate(groundbeef):
    """Different random numbers, so agreement within Monte Carlo error: with R = 4999 the
    end points' relative MC error is ~0.2% each (measured spread 0.1-0.16%)."""
    boot = bootstrap(ctx_of(mk.Exponential(), groundbeef), replicates=4999, seed=11)
    ours = boot.conf_int(0.95, "bca")["rate"]
    ref = st.bootstrap((groundbeef,), lambda x, axis: 1 / np.mean(x, axis=axis),
                       n_resamples=4999, method="BCa", confidence_level=0.95,
                       rng=np.random.default_rng(11)).confidence_interval
    assert ours.method == "bootstrap BCa (nonparametric)"
    np.testing.assert_allclose(ours, (ref.low, ref.high), rtol=1e-2)


def test_bca_acceleration_matches_the_jackknife(groundbeef):
    """The infinitesimal jackknife's a and the jackknife's (scipy's) differ by O(1/n)."""
    boot = bootstrap(ctx_of(mk.Normal(), groundbeef), replicates=R, seed=0)
    for j, stat in enumerate((np.mean, np.std)):  # the MLEs of mean and sd
        jack = np.array([stat(np.delete(groundbeef, i)) for i in range(groundbeef.size)])
        d = jack.mean() - jack
        a = np.sum(d**3) / (6 * np.sum(d**2) ** 1.5)
        assert boot.acceleration[j] == pytest.approx(a, rel=5e-2)


def test_bca_shifts_the_exponential_rate_interval_down(groundbeef):
    """The rate is 1 / mean of right-skewed data: the acceleration is negative (-skewness /
    (6 sqrt n)) and so is the bias correction (the resampled mean's median is below its
    mean), so both BCa ends lie below the percentile ends of the same replicates."""
    boot = bootstrap(ctx_of(mk.Exponential(), groundbeef), replicates=1999, seed=3)
    assert boot.acceleration[0] < 0
    pct, bca = boot.conf_int()["rate"], boot.conf_int(interval="bca")["rate"]
    assert bca.lower < pct.lower and bca.upper < pct.upper
    assert pct.method == "bootstrap percentile"


def test_bca_without_bias_or_acceleration_is_the_percentile_interval():
    reps = np.random.default_rng(0).normal(size=(1000, 2))
    estimate = np.median(reps, axis=0)  # half the replicates below: z0 = 0
    tails = np.array([0.05, 0.95])
    ends, clipped = bca_ends(reps, estimate, np.zeros(2), tails)
    np.testing.assert_allclose(ends, np.quantile(reps, tails, axis=0), rtol=1e-12)
    assert not clipped.any()


def test_bca_past_its_pole_takes_the_extreme_replicate():
    """With a (z0 + z) >= 1 the BCa level is undefined; its limit is the end of the range."""
    reps = np.arange(1.0, 101.0)[:, None]
    ends, _ = bca_ends(reps, np.array([50.5]), np.array([0.6]), np.array([0.025, 0.975]))
    assert ends[1, 0] == 100.0 and 1.0 < ends[0, 0] < 50.5
    ends, clipped = bca_ends(reps, np.array([0.0]), np.array([0.0]), np.array([0.025, 0.975]))
    assert clipped[0]  # every replicate above the estimate: z0 capped, not infinite
    assert np.all(np.isfinite(ends))


# -- batched refits equal single fits ------------------------------------------------------------
@pytest.mark.parametrize("model", [mk.Gamma(), mk.Weibull(), USER_NORMAL],
                         ids=["gamma", "weibull", "user"])
def test_replicates_equal_single_fits_of_the_resampled_data(model, groundbeef):
    seed = 5
    boot = bootstrap(ctx_of(model, groundbeef), replicates=R, seed=seed)
    assert boot.failed == 0
    for b in (0, 1, 97, 198):
        fit = mk.fit(model, resample(seed, R, b, groundbeef))
        np.testing.assert_allclose(boot.estimates[b], flat_params(fit, boot.labels), rtol=1e-8)


def test_parametric_replicates_equal_single_fits_of_the_draws(groundbeef):
    seed, model = 2, mk.Weibull()
    ctx = ctx_of(model, groundbeef)
    boot = bootstrap(ctx, replicates=R, kind="parametric", seed=seed)
    streams = np.random.default_rng(seed).spawn(R)
    for b in (0, 150):
        x = model.sample(ctx.params(), groundbeef.size, streams[b])
        np.testing.assert_allclose(boot.estimates[b], flat_params(mk.fit(model, x), boot.labels),
                                   rtol=1e-8)


def test_weighted_batch_equals_single_fits_without_sufficient_statistics(groundbeef):
    """The direct weighted-log-density path for a family that would use its statistics."""
    ctx = ctx_of(mk.Gamma(), groundbeef)
    rng = np.random.default_rng(0)
    n, size = groundbeef.size, 16
    index = rng.integers(0, n, size=(size, n))
    counts = np.stack([np.bincount(i, minlength=n) for i in index]).astype(float)
    derivs = batched.resampled(ctx.model, ctx.layout, {}, groundbeef, counts)
    result = batched.maximize_batch(derivs, np.tile(ctx.u, (size, 1)))
    assert result.converged.all()
    rows = batched.natural_rows(ctx.layout, {}, result.u)
    for b in range(0, size, 5):
        fit = mk.fit(mk.Gamma(), groundbeef[index[b]])
        np.testing.assert_allclose(rows[b], flat_params(fit, ctx.names), rtol=1e-8)


def test_batched_newton_takes_the_scalar_solvers_path(groundbeef):
    """Per member: the same trust-region steps as newton.maximize from far-off starts (so
    the radius and indefinite Hessians matter), the same iterations and end point; a start
    where the log-likelihood overflows is flagged in both."""
    from mlekit._optimize import Status, maximize

    ctx = ctx_of(mk.Weibull(), groundbeef)
    starts = ctx.u + np.array([[0, 0], [3, -3], [-4, 5], [2, 2], [-3, -3], [6, 0]])
    derivs = batched.resampled(ctx.model, ctx.layout, {}, groundbeef,
                               np.ones((len(starts), groundbeef.size)))
    result = batched.maximize_batch(derivs, starts)
    for b, start in enumerate(starts):
        single = maximize(ctx.objective, start)
        assert result.iterations[b] == single.iterations
        assert result.converged[b] == (single.status is Status.CONVERGED)
        np.testing.assert_allclose(result.u[b], single.u, rtol=1e-12, atol=1e-12)
    assert result.status[-1] == batched.NONFINITE


def test_a_failing_member_does_not_spoil_the_others():
    """Member 1's data are all zero (no exponential MLE): it fails, member 0 converges."""
    ctx = ctx_of(mk.Exponential(), np.array([0.5, 1.0, 2.0, 4.0]))
    stats = np.array([[4.0, 7.5], [4.0, 0.0]])
    result = batched.maximize_batch(batched.from_stats(ctx.model, ctx.layout, {}, stats),
                                    np.tile(ctx.u, (2, 1)), maxiter=50)
    assert result.converged.tolist() == [True, False]
    assert np.exp(result.u[0, 0]) == pytest.approx(4 / 7.5, rel=1e-12)


def test_long_data_statistics_inside_batches_do_not_deadlock():
    """Regression: a family's statistics of long data (n >= 4 blocks) run on the shared
    thread pool; the batches once ran there too and waited on it forever."""
    import threading

    x = np.random.default_rng(0).gamma(2.0, 3.0, 1 << 18)
    ctx, out = ctx_of(mk.Gamma(), x), []
    worker = threading.Thread(target=lambda: out.append(bootstrap(ctx, replicates=20, seed=0)),
                              daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert out and out[0].failed == 0


# -- presolved and fixed parameters --------------------------------------------------------------
def test_laplace_replicates_are_its_closed_form_on_each_resample(groundbeef):
    """Location presolved (the resample's median), scale by Newton given it."""
    seed = 1
    boot = bootstrap(ctx_of(mk.Laplace(), groundbeef), replicates=R, seed=seed)
    assert boot.labels == ("location", "scale")
    for b in (0, 42):
        x = resample(seed, R, b, groundbeef)
        med = np.median(x)
        np.testing.assert_allclose(boot.estimates[b], [med, np.mean(np.abs(x - med))],
                                   rtol=1e-9)
    ci = boot.conf_int(interval="bca")
    assert "presolved" in ci["location"].note and "presolved" not in ci["scale"].note


def test_uniform_ends_are_the_resample_range_and_say_they_are_non_regular(groundbeef):
    seed = 4
    boot = bootstrap(ctx_of(mk.Uniform(), groundbeef), replicates=R, seed=seed)
    x = resample(seed, R, 3, groundbeef)
    np.testing.assert_array_equal(boot.estimates[3], [x.min(), x.max()])
    assert "non-regular" in boot.conf_int()["max"].note


def test_fixed_parameters_stay_fixed(groundbeef):
    seed = 6
    boot = bootstrap(ctx_of(mk.Normal(), groundbeef, fixed={"mean": 70.0}), replicates=R,
                     seed=seed)
    assert boot.labels == ("sd",) and set(boot.conf_int()) == {"sd"}
    x = resample(seed, R, 10, groundbeef)
    assert boot.estimates[10, 0] == pytest.approx(np.sqrt(np.mean((x - 70.0) ** 2)), rel=1e-9)


def test_vector_parameters_get_array_ends():
    x = np.random.default_rng(0).integers(0, 3, 300).astype(float)
    boot = bootstrap(ctx_of(mk.Categorical(), x), replicates=R, seed=0)
    assert boot.labels == ("probs[0]", "probs[1]", "probs[2]")
    lo, hi = boot.conf_int()["probs"]
    assert lo.shape == hi.shape == (3,) and np.all(lo < hi)
    np.testing.assert_allclose(boot.estimates.sum(axis=1), 1.0, rtol=1e-12)


# -- seeds, failures, results --------------------------------------------------------------------
def test_the_same_seed_gives_the_same_replicates_and_runs_nest(groundbeef):
    ctx = ctx_of(mk.Weibull(), groundbeef)
    a = bootstrap(ctx, replicates=R, seed=9)
    b = bootstrap(ctx, replicates=R, seed=9)
    np.testing.assert_array_equal(a.estimates, b.estimates)
    assert a.conf_int() == b.conf_int()
    c = bootstrap(ctx, replicates=R, seed=10)
    assert not np.array_equal(a.estimates, c.estimates)
    shorter = bootstrap(ctx, replicates=40, seed=9)  # replicate b's stream does not depend on R
    np.testing.assert_allclose(shorter.estimates, a.estimates[:40], rtol=1e-12)


def test_failed_replicates_are_counted_dropped_and_reported():
    """Exponential data with 2 positive values in 50: a resample of zeros only (probability
    0.96^50 = 13%) has no MLE (the rate runs to infinity)."""
    x = np.r_[np.zeros(48), 1.0, 2.0]
    boot = bootstrap(ctx_of(mk.Exponential(), x), replicates=R, seed=0)
    zeros = sum(not resample(0, R, b, x).any() for b in range(R))
    assert boot.failed == zeros > 0.10 * R
    assert boot.estimates.shape == (R - zeros, 1)
    note = boot.conf_int()["rate"].note
    assert f"{zeros} failed" in note and "warning" in note
    assert sum(boot.failures.values()) == zeros


def test_too_few_successful_replicates_raise_fit_error(groundbeef):
    fit = mk.fit(mk.Weibull(), groundbeef, start={"shape": 40.0, "scale": 1.0}, maxiter=2)
    with pytest.raises(mk.FitError, match="bootstrap replicates could be refitted"):
        bootstrap(fit._context, replicates=20, seed=0)


def test_result_summaries_and_progress(groundbeef):
    calls = []
    boot = bootstrap(ctx_of(mk.Gamma(), groundbeef), replicates=R, seed=0,
                     progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (R, R) and all(t == R for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert isinstance(boot, BootstrapResult) and boot.kind == "nonparametric"
    assert boot.replicates == R and boot.estimates.shape == (R, 2)
    np.testing.assert_allclose(list(boot.se.values()), boot.estimates.std(axis=0, ddof=1))
    np.testing.assert_allclose(list(boot.bias.values()),
                               boot.estimates.mean(axis=0) - boot.estimate)
    frame = boot.to_pandas()
    assert list(frame.columns) == ["shape", "rate"] and len(frame) == R
    ci = boot.conf_int(0.9)
    assert isinstance(ci["shape"][0], float) and ci["shape"][0] < boot.estimate[0] < ci["shape"][1]
    assert f"{R} of {R} nonparametric" in ci["shape"].note


# -- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"replicates": 5}, "replicates=5 must be an integer >= 20"),
    ({"replicates": 100.0}, "replicates=100.0"),
    ({"replicates": True}, "replicates=True"),
    ({"kind": "jackknife"}, "kind='jackknife' is not allowed"),
    ({"seed": "abc"}, "seed='abc'"),
    ({"progress": 3}, "progress=3"),
])
def test_arguments_are_validated(kwargs, match, groundbeef):
    with pytest.raises(mk.ModelError, match=match):
        bootstrap(ctx_of(mk.Exponential(), groundbeef), **kwargs)


def test_interval_arguments_are_validated(groundbeef):
    ctx = ctx_of(mk.Exponential(), groundbeef)
    boot = bootstrap(ctx, replicates=R, seed=0)
    with pytest.raises(mk.ModelError, match="interval='studentized' is not allowed"):
        boot.conf_int(interval="studentized")
    with pytest.raises(mk.ModelError, match="level=1.5"):
        boot.conf_int(1.5)
    parametric = bootstrap(ctx, replicates=R, kind="parametric", seed=0)
    with pytest.raises(mk.ModelError, match="interval='bca' needs"):
        parametric.conf_int(interval="bca")


def test_parametric_needs_a_sampler_and_a_context(groundbeef):
    with pytest.raises(mk.ModelError, match="defines no sampler; use kind='nonparametric'"):
        bootstrap(ctx_of(USER_NORMAL, groundbeef), kind="parametric")
    with pytest.raises(mk.ModelError, match="fit._context"):
        bootstrap(mk.fit(mk.Exponential(), groundbeef))
