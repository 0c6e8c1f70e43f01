"""Count families (binomial, geometric, negative binomial, zero-inflated Poisson and negative
binomial): the zero-inflated ones against numpy mixtures of scipy's distributions, far tails
against mpmath, the closed forms, R on real data, derivatives of the distribution functions,
and the data for which no MLE exists."""

from __future__ import annotations

import math
import re

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import optimize, special, stats

import mlekit as mk
from conftest import problems, shared_csv

N = 500


def _p(params):
    return {k: jnp.asarray(v, dtype=float) for k, v in params.items()}


def _ours(fun, x, params):
    return np.asarray(fun(jnp.asarray(x, dtype=float), _p(params)))


@pytest.fixture(scope="module")
def toxocara():
    return shared_csv("toxocara.csv")["number"].to_numpy(dtype=float)


# -- zero-inflated families against a mixture of scipy's distributions ---------------------------

def _zip_parts(p):
    return p["pi"], stats.poisson(p["lambda"])


def _zinb_parts(p):
    return p["pi"], stats.nbinom(p["size"], p["size"] / (p["size"] + p["mu"]))


ZERO_INFLATED = [
    (mk.ZeroInflatedPoisson(), _zip_parts,
     lambda r: {"pi": r.uniform(0.02, 0.9), "lambda": float(np.exp(r.uniform(-2, 4)))}),
    (mk.ZeroInflatedNegativeBinomial(), _zinb_parts,
     lambda r: {"pi": r.uniform(0.02, 0.9), "size": float(np.exp(r.uniform(-2, 3))),
                "mu": float(np.exp(r.uniform(-2, 4)))}),
]


@pytest.mark.parametrize("family,parts,draw", ZERO_INFLATED, ids=lambda v: getattr(v, "name", ""))
def test_zero_inflated_distribution_is_the_mixture(family, parts, draw):
    rng = np.random.default_rng(10)
    x = np.concatenate([[-3.0, -0.5, 2.5], np.arange(0.0, 80.0)])
    for _ in range(5):
        params = draw(rng)
        pi, base = parts(params)
        k = np.floor(x)
        pmf = np.where(x == 0, pi, 0.0) + (1 - pi) * base.pmf(x)
        cdf = np.where(k < 0, 0.0, pi + (1 - pi) * base.cdf(k))
        sf = np.where(k < 0, 1.0, (1 - pi) * base.sf(k))
        with np.errstate(divide="ignore"):
            ref = {"logpdf": np.log(pmf[3:]), "logcdf": np.log(cdf), "logsf": np.log(sf)}
        ours = {"logpdf": _ours(family.logpdf, x[3:], params),
                "logcdf": _ours(family.logcdf, x, params), "logsf": _ours(family.logsf, x, params)}
        for what in ref:
            np.testing.assert_allclose(ours[what], ref[what], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{what} at {params}")
        # moments of the mixture: E X = (1-pi) m, E X^2 = (1-pi)(v + m^2)
        m, v = base.mean(), base.var()
        var = (1 - pi) * (v + m * m) - ((1 - pi) * m) ** 2
        assert float(family.mean(_p(params))) == pytest.approx((1 - pi) * m, rel=1e-12)
        assert float(family.variance(_p(params))) == pytest.approx(var, rel=1e-10)


@pytest.mark.parametrize("family,parts,draw", ZERO_INFLATED, ids=lambda v: getattr(v, "name", ""))
def test_zero_inflated_sampler_has_the_extra_zeros(family, parts, draw):
    params = draw(np.random.default_rng(11))
    pi, base = parts(params)
    x = family.sample(params, 20_000, np.random.default_rng(12))
    p0 = pi + (1 - pi) * base.pmf(0)
    observed = np.mean(x == 0)
    assert abs(observed - p0) < 5 * math.sqrt(p0 * (1 - p0) / x.size), (observed, p0)
    assert x.dtype == float and np.all(x >= 0) and np.all(x == np.round(x))


# -- far tails against mpmath (where the CDF itself underflows) ---------------------------------

def _binom_tails(n, p, k):
    p = mp.mpf(p)
    terms = [mp.binomial(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]
    return mp.fsum(terms[: k + 1]), mp.fsum(terms[k + 1:])


def _nbinom_tails(size, mu, k):
    p = mp.mpf(size) / (mp.mpf(size) + mp.mpf(mu))
    return (mp.betainc(size, k + 1, 0, p, regularized=True),
            mp.betainc(k + 1, size, 0, 1 - p, regularized=True))


def _poisson_tails(lam, k):
    return (mp.gammainc(k + 1, lam, mp.inf, regularized=True),
            mp.gammainc(k + 1, 0, lam, regularized=True))


def _inflated(pi, tails):
    cdf, sf = tails
    pi = mp.mpf(pi)
    return pi + (1 - pi) * cdf, (1 - pi) * sf


def _geometric_tails(p, k):
    sf = (1 - mp.mpf(p)) ** (k + 1)
    return -mp.expm1((k + 1) * mp.log1p(-mp.mpf(p))), sf


TAILS = [
    # family, params, k, mpmath (P(X <= k), P(X > k)), each computed directly
    (mk.Binomial(size=1000), {"prob": 0.9}, 10, lambda: _binom_tails(1000, 0.9, 10)),
    (mk.Binomial(size=1000), {"prob": 0.01}, 990, lambda: _binom_tails(1000, 0.01, 990)),
    (mk.Binomial(size=1000), {"prob": 1e-30}, 3, lambda: _binom_tails(1000, 1e-30, 3)),
    (mk.Binomial(size=1000), {"prob": 0.999}, 0, lambda: _binom_tails(1000, 0.999, 0)),
    (mk.Geometric(), {"prob": 0.3}, 10**6, lambda: _geometric_tails(0.3, 10**6)),
    (mk.Geometric(), {"prob": 1e-20}, 0, lambda: _geometric_tails(1e-20, 0)),
    (mk.NegativeBinomial(), {"size": 50.0, "mu": 1000.0}, 5, lambda: _nbinom_tails(50, 1000, 5)),
    (mk.NegativeBinomial(), {"size": 2.5, "mu": 1.0}, 2000, lambda: _nbinom_tails(2.5, 1, 2000)),
    (mk.NegativeBinomial(), {"size": 1e6, "mu": 3.0}, 100, lambda: _nbinom_tails(1e6, 3, 100)),
    (mk.NegativeBinomial(), {"size": 0.01, "mu": 1.0}, 10**4,
     lambda: _nbinom_tails(0.01, 1, 10**4)),
    (mk.ZeroInflatedPoisson(), {"pi": 0.3, "lambda": 2.0}, 400,
     lambda: _inflated(0.3, _poisson_tails(2, 400))),
    (mk.ZeroInflatedNegativeBinomial(), {"pi": 0.3, "size": 2.5, "mu": 1.0}, 2000,
     lambda: _inflated(0.3, _nbinom_tails(2.5, 1, 2000))),
]


@pytest.mark.parametrize("family,params,k,exact", TAILS,
                         ids=[f"{t[0].name}-{i}" for i, t in enumerate(TAILS)])
def test_far_tails_match_mpmath(family, params, k, exact):
    mp.mp.dps = 50
    cdf, sf = exact()
    # the side near 1 as log1p(-other side): 50 digits cannot hold 1 - 1e-110
    ref_cdf = float(mp.log(cdf) if cdf < 0.5 else mp.log1p(-sf))
    ref_sf = float(mp.log(sf) if sf < 0.5 else mp.log1p(-cdf))
    assert min(ref_cdf, ref_sf) < -40 or min(cdf, sf) < 1e-40
    ours_cdf = float(_ours(family.logcdf, float(k), params))
    ours_sf = float(_ours(family.logsf, float(k), params))
    assert ours_cdf == pytest.approx(ref_cdf, rel=1e-11, abs=1e-300)
    assert ours_sf == pytest.approx(ref_sf, rel=1e-11, abs=1e-300)


def test_binomial_and_negative_binomial_tails_underflowing_in_scipy_are_finite():
    # the CDF is ~exp(-2227): 0 in float64, so log(cdf) would be -inf
    assert stats.binom.cdf(10, 1000, 0.9) == 0.0
    lc = float(_ours(mk.Binomial(size=1000).logcdf, 10.0, {"prob": 0.9}))
    assert lc == pytest.approx(-2226.683728478956, rel=1e-12)
    ls = float(_ours(mk.NegativeBinomial().logsf, 5000.0, {"size": 2.0, "mu": 1.0}))
    assert math.isfinite(ls) and ls < -5000


def test_distribution_functions_outside_and_at_the_ends_of_the_support():
    b = mk.Binomial(size=5)
    x = np.array([-1.0, -0.5, 5.0, 7.5])
    np.testing.assert_array_equal(_ours(b.logcdf, x, {"prob": 0.4}), [-np.inf, -np.inf, 0, 0])
    np.testing.assert_array_equal(_ours(b.logsf, x, {"prob": 0.4}), [0, 0, -np.inf, -np.inf])
    for fam, params in ((mk.Geometric(), {"prob": 0.4}),
                        (mk.NegativeBinomial(), {"size": 2.0, "mu": 3.0}),
                        (mk.ZeroInflatedPoisson(), {"pi": 0.2, "lambda": 3.0}),
                        (mk.ZeroInflatedNegativeBinomial(), {"pi": 0.2, "size": 2.0, "mu": 3.0})):
        assert float(_ours(fam.logcdf, -1.0, params)) == -np.inf
        assert float(_ours(fam.logsf, -1.0, params)) == 0.0
        # a count between integers: the CDF steps only at integers
        assert _ours(fam.logcdf, 2.5, params) == pytest.approx(_ours(fam.logcdf, 2.0, params))


# -- derivatives of the distribution functions (censored data will need them) -----------------

# Hessians through the incomplete beta function's loop take seconds to compile: the negative
# binomial checks them (in size and mu), the binomial (the same function, in prob) only the
# gradient; the zero-inflated NB adds nothing beyond the NB and the ZIP.
DERIVATIVES = [
    (mk.Binomial(size=40), {"prob": 0.3}, False),
    (mk.Geometric(), {"prob": 0.3}, True),
    (mk.NegativeBinomial(), {"size": 2.3, "mu": 5.0}, True),
    (mk.ZeroInflatedPoisson(), {"pi": 0.3, "lambda": 4.0}, True),
]


@pytest.mark.parametrize("family,params,hessian", DERIVATIVES,
                         ids=[d[0].name for d in DERIVATIVES])
def test_log_cdf_and_survival_have_exact_derivatives(family, params, hessian):
    names = list(params)
    k = jnp.arange(0.0, 39.0)

    def total(v):
        p = dict(zip(names, v, strict=True))
        return jnp.sum(family.logcdf(k, p) + 2.0 * family.logsf(k, p))

    # value, gradient (reverse mode) and Hessian in one program, as the engine compiles them
    derivs = jax.jit(lambda v: (total(v), jax.grad(total)(v),
                                jax.hessian(total)(v) if hessian else jnp.zeros((v.size,) * 2)))
    v = np.array([params[n] for n in names])
    _, grad, hess = (np.asarray(d) for d in derivs(v))
    for i in range(len(names)):
        h = np.zeros(len(names))
        h[i] = 1e-6 * v[i]
        (up, grad_up, _), (down, grad_down, _) = derivs(v + h), derivs(v - h)
        assert grad[i] == pytest.approx((float(up) - float(down)) / (2 * h[i]), rel=1e-6)
        if hessian:
            fd_grad = (np.asarray(grad_up) - np.asarray(grad_down)) / (2 * h[i])
            np.testing.assert_allclose(hess[i], fd_grad, rtol=1e-5,
                                       atol=1e-6 * np.abs(hess).max())


# -- closed forms --------------------------------------------------------------------------------

def test_binomial_closed_form_and_both_ways_to_the_statistics():
    x = mk.Binomial(size=12).sample({"prob": 0.35}, N, 1)
    fit = mk.fit(mk.Binomial(size=12), x)
    assert fit.params["prob"] == pytest.approx(x.sum() / (N * 12), rel=1e-13)
    assert fit.message.startswith("closed form")
    assert fit.loglik == pytest.approx(stats.binom.logpmf(x, 12, fit.params["prob"]).sum(),
                                       rel=1e-12)
    # the information n size / (p (1 - p))
    p = fit.params["prob"]
    assert fit.se["prob"] == pytest.approx(math.sqrt(p * (1 - p) / (N * 12)), rel=1e-8)
    # sizes beyond the frequency table's reach sum log C(size, x) directly (log C(2^21, x) from
    # log-gammas of ~3e7 is good to ~3e-9 absolute, either way: hence the tolerance)
    big = mk.Binomial(size=2**21)
    y = big.sample({"prob": 1e-5}, N, 2)
    direct = float(jnp.sum(big.logpdf(jnp.asarray(y), _p({"prob": 2e-5}))))
    via_stats = float(big.loglik_stats(big.suffstats(y), _p({"prob": 2e-5})))
    assert via_stats == pytest.approx(direct, abs=N * 1e-8)
    assert via_stats == pytest.approx(stats.binom.logpmf(y, 2**21, 2e-5).sum(), abs=N * 1e-8)


def test_geometric_closed_form_counts_failures_as_r_dgeom():
    x = mk.Geometric().sample({"prob": 0.25}, N, 3)
    assert x.min() == 0  # failures before the first success, not trials
    fit = mk.fit(mk.Geometric(), x)
    assert fit.params["prob"] == pytest.approx(1 / (1 + x.mean()), rel=1e-13)
    assert fit.message.startswith("closed form")
    assert fit.loglik == pytest.approx(stats.geom.logpmf(x, fit.params["prob"], loc=-1).sum(),
                                       rel=1e-12)


def test_zero_inflated_poisson_closed_form_solves_the_truncated_mean_equation():
    x = mk.ZeroInflatedPoisson().sample({"pi": 0.4, "lambda": 2.5}, N, 4)
    fit = mk.fit(mk.ZeroInflatedPoisson(), x)
    lam, pi = fit.params["lambda"], fit.params["pi"]
    assert fit.message.startswith("closed form")
    assert lam / -math.expm1(-lam) == pytest.approx(x[x > 0].mean(), rel=1e-13)
    assert pi == pytest.approx(1 - x.mean() / lam, rel=1e-12)
    # with lambda fixed: pi + (1 - pi) exp(-lambda) = the fraction of zeros
    fixed = mk.fit(mk.ZeroInflatedPoisson(), x, fixed={"lambda": 3.0})
    e = math.exp(-3.0)
    assert fixed.params["pi"] == pytest.approx((np.mean(x == 0) - e) / (1 - e), rel=1e-12)
    # with pi fixed there is no closed form; Newton from the start values
    held = mk.fit(mk.ZeroInflatedPoisson(), x, fixed={"pi": 0.3})
    assert held.converged and held.k == 1
    assert held.loglik < fit.loglik


def test_negative_binomial_mle_is_the_mean_and_the_profile_root():
    x = mk.NegativeBinomial().sample({"size": 1.7, "mu": 6.0}, N, 5)
    fit = mk.fit(mk.NegativeBinomial(), x)
    mean = x.mean()

    def profile_score(k):
        return (special.digamma(x + k).sum() - N * special.digamma(k)
                + N * math.log(k / (k + mean)))

    size = optimize.brentq(profile_score, 0.1, 100, xtol=1e-14, rtol=1e-15)
    assert fit.params["mu"] == pytest.approx(mean, rel=1e-10)
    assert fit.params["size"] == pytest.approx(size, rel=1e-9)
    # with size fixed the MLE of mu is still the mean
    held = mk.fit(mk.NegativeBinomial(), x, fixed={"size": 3.0})
    assert held.params["mu"] == pytest.approx(mean, rel=1e-10)


# -- R on real data ------------------------------------------------------------------------------

def test_negative_binomial_matches_mass_fitdistr_on_toxocara(toxocara):
    # R 4.2.2, MASS 7.3-58.2:
    #   > toxocara <- read.csv("toxocara.csv"); options(digits = 15)
    #   > f <- MASS::fitdistr(toxocara$number, "negative binomial"); f; f$loglik
    #           size                 mu
    #     0.3969966006021584   8.6792453184557896
    #    (0.0828504025046305) (1.9349184421232979)
    #   [1] -159.344086120797
    # fitdistr stops at optim's reltol (~1e-8): its estimates are good to ~1e-6, its SEs (from
    # optim's finite-difference Hessian) to ~1e-5. The exact MLE (mu = mean(x) exactly; size
    # from the profile score, tests/test_reference_r.py) is size = 0.396996492683782.
    fit = mk.fit(mk.NegativeBinomial(), toxocara)
    assert fit.converged and not problems(fit)
    assert fit.params["size"] == pytest.approx(0.3969966006021584, rel=1e-5)
    assert fit.params["mu"] == pytest.approx(8.6792453184557896, rel=1e-5)
    assert fit.se["size"] == pytest.approx(0.0828504025046305, rel=1e-4)
    assert fit.se["mu"] == pytest.approx(1.9349184421232979, rel=1e-4)
    assert fit.loglik == pytest.approx(-159.344086120797, rel=1e-8)
    assert fit.loglik >= -159.344086120797 - 1e-10  # at least R's maximum
    assert fit.params["size"] == pytest.approx(0.396996492683782, rel=1e-9)
    assert fit.params["mu"] == pytest.approx(toxocara.mean(), rel=1e-12)


def test_zero_inflated_poisson_matches_fitdistrplus_on_toxocara(toxocara):
    # R 4.2.2, fitdistrplus 1.1-8 (no ZIP in R's base packages: the density written out):
    #   > dzip <- function(x, pi, lambda, log = FALSE) {
    #   +   d <- ifelse(x == 0, pi + (1 - pi) * exp(-lambda), (1 - pi) * dpois(x, lambda))
    #   +   if (log) log(d) else d }
    #   > pzip <- function(q, pi, lambda) ifelse(q < 0, 0, pi + (1 - pi) * ppois(q, lambda))
    #   > f <- fitdist(x, "zip", start = list(pi = 0.5, lambda = 5), discrete = TRUE,
    #   +              control = list(reltol = 1e-15, maxit = 10000))
    #   > f$estimate; f$sd; f$loglik
    #                   pi             lambda
    #    0.264145347624181 11.794783161962195
    #                   pi            lambda
    #    0.060559315089448 0.549959062972096
    #   [1] -397.036977178944
    #   > # exact: lambda / (1 - exp(-lambda)) = mean(x[x > 0]), pi = 1 - mean(x) / lambda
    #   > mp <- mean(x[x > 0])
    #   > lam <- uniroot(function(l) l / (1 - exp(-l)) - mp, c(1e-8, 100), tol = 1e-300)$root
    #   > print(c(lam, 1 - mean(x) / lam), digits = 17)
    #   [1] 11.79478281656601446  0.26414539224675759
    #   > print(sum(dzip(x, 1 - mean(x) / lam, lam, log = TRUE)), digits = 17)
    #   [1] -397.03697717894369
    fit = mk.fit(mk.ZeroInflatedPoisson(), toxocara)
    assert fit.converged
    assert fit.params["pi"] == pytest.approx(0.264145347624181, rel=1e-5)
    assert fit.params["lambda"] == pytest.approx(11.794783161962195, rel=1e-5)
    assert fit.se["pi"] == pytest.approx(0.060559315089448, rel=1e-4)
    assert fit.se["lambda"] == pytest.approx(0.549959062972096, rel=1e-4)
    assert fit.loglik == pytest.approx(-397.03697717894369, rel=1e-12)
    assert fit.params["pi"] == pytest.approx(0.26414539224675759, rel=1e-12)
    assert fit.params["lambda"] == pytest.approx(11.79478281656601446, rel=1e-12)


def test_zero_inflated_negative_binomial_without_excess_zeros_reduces_to_the_negative_binomial(
        toxocara):
    # 14 zeros of 53 (0.264) against the fitted negative binomial's P(0) = 0.289: no zero
    # inflation, so the MLE of pi is 0 and the maximum is the negative binomial's
    nb = mk.fit(mk.NegativeBinomial(), toxocara)
    zinb = mk.fit(mk.ZeroInflatedNegativeBinomial(), toxocara)
    assert zinb.params["pi"] < 1e-6
    assert zinb.loglik == pytest.approx(nb.loglik, rel=1e-10)
    assert zinb.params["size"] == pytest.approx(nb.params["size"], rel=1e-5)


# -- options and degenerate data -----------------------------------------------------------------

@pytest.mark.parametrize("size", [0, -3, 2.5, True, "10", float("nan"), float("inf"), None])
def test_binomial_size_must_be_a_positive_integer(size):
    with pytest.raises(mk.ModelError, match="positive integer"):
        mk.Binomial(size=size)


def test_binomial_size_is_an_option_by_name_and_value():
    assert mk.family("binomial", size=10) == mk.Binomial(size=10.0) == mk.Binomial(size=10)
    assert repr(mk.Binomial(size=np.int64(7))) == "Binomial(size=7)"
    with pytest.raises(mk.ModelError, match="size"):
        mk.family("binomial")
    with pytest.raises(mk.DataError, match=r"x\[1\] = 6.0 .*integers 0..5"):
        mk.fit(mk.Binomial(size=5), [1.0, 6.0, 2.0])


NO_ESTIMATE = [
    (mk.NegativeBinomial(), [0, 0, 0], "all observations are 0.*mu -> 0"),
    (mk.NegativeBinomial(), [1, 2, 3, 2, 1], r"variance 0.56 .*mean 1.8.*mk.Poisson\(\)"),
    (mk.NegativeBinomial(), [3, 3, 3], r"variance 0 .*mean 3.*size -> infinity"),
    # equi-dispersed: the variance (divisor n) equals the mean
    (mk.NegativeBinomial(), [0, 2, 0, 2], r"variance 1 .*mean 1:.*Poisson"),
    (mk.ZeroInflatedPoisson(), [0, 0], "all observations are 0"),
    (mk.ZeroInflatedNegativeBinomial(), [0, 0, 0], "all observations are 0"),
]


@pytest.mark.parametrize("family,x,message", NO_ESTIMATE,
                         ids=[f"{d[0].name}-{i}" for i, d in enumerate(NO_ESTIMATE)])
def test_data_without_an_mle_are_reported_saying_why(family, x, message):
    fit = mk.fit(family, np.asarray(x, dtype=float))
    assert not fit.converged and all(v is None for v in fit.params.values())
    (d,) = fit.diagnostics
    assert d.severity == "error" and d.code in ("no_estimate", "estimate_at_infinity")
    assert re.search(message, f"{d.message}. {d.remedy}")
    with pytest.raises(mk.FitError, match=message):
        mk.fit(family, np.asarray(x, dtype=float), strict=True)


def test_negative_binomial_without_over_dispersion_reports_the_poisson_supremum():
    x = np.array([1.0, 2.0, 3.0, 2.0, 1.0])
    fit = mk.fit(mk.NegativeBinomial(), x)
    assert fit.loglik == pytest.approx(mk.fit(mk.Poisson(), x).loglik, rel=1e-12)


BOUNDARY = [
    (mk.Binomial(size=5), [0, 0, 0], "prob", 0.0, "all observations are 0"),
    (mk.Binomial(size=5), [5, 5], "prob", 1.0, "all observations are 5"),
    (mk.Geometric(), [0, 0, 0], "prob", 1.0, "all observations are 0"),
    (mk.ZeroInflatedPoisson(), [1, 2, 3], "pi", 0.0, "no observation is 0"),
    (mk.ZeroInflatedPoisson(), [0, 1, 1, 0, 1], "pi", 0.0,
     "fraction of zeros, 0.4, does not exceed"),
    (mk.ZeroInflatedNegativeBinomial(), [1, 2, 5], "pi", 0.0, "no observation is 0"),
]


@pytest.mark.parametrize("family,x,name,value,message", BOUNDARY,
                         ids=[f"{d[0].name}-{i}" for i, d in enumerate(BOUNDARY)])
def test_boundary_estimates_are_reported_with_a_warning(family, x, name, value, message):
    fit = mk.fit(family, np.asarray(x, dtype=float))
    assert fit.converged and fit.params[name] == value and fit.se[name] is None
    (d,) = [d for d in fit.diagnostics if d.code == "boundary_estimate"]
    assert d.severity == "warning" and message in d.message and name in d.message
    lo, hi = fit.conf_int(method="profile")[name]
    assert (lo == value) if value == 0.0 else (hi == value)


def test_zero_inflated_poisson_without_excess_zeros_is_the_poisson_fit():
    x = np.array([0.0, 1, 1, 0, 1, 3, 2])
    fit, poisson = mk.fit(mk.ZeroInflatedPoisson(), x), mk.fit(mk.Poisson(), x)
    assert fit.params["lambda"] == pytest.approx(poisson.params["lambda"], rel=1e-8)
    assert fit.se["lambda"] == pytest.approx(poisson.se["lambda"], rel=1e-8)
    assert fit.loglik == pytest.approx(poisson.loglik, rel=1e-12)


def test_negative_binomial_just_over_dispersed_has_a_finite_mle():
    # variance (divisor n) 1.580 just above the mean 1.556: a finite MLE, with a large size
    x = np.array([0.0, 0, 0, 1, 2, 2, 3, 3, 3])
    n, mean = x.size, x.mean()
    assert 1 < x.var() / mean < 1.02
    fit = mk.fit(mk.NegativeBinomial(), x)
    assert fit.converged
    size = fit.params["size"]
    assert 20 < size < 1e4
    score = (special.digamma(x + size).sum() - n * special.digamma(size)
             + n * math.log(size / (size + mean)))
    assert abs(score) < 1e-8 / size



def test_existence_checks_see_the_fixed_parameters():
    # not over-dispersed: no MLE of size, but with size known the MLE of mu is the mean
    x = np.array([1.0, 2.0, 2.0, 3.0, 2.0, 1.0, 3.0, 2.0])
    with pytest.raises(mk.FitError, match="over-dispersed"):
        mk.fit(mk.NegativeBinomial(), x, strict=True)
    fit = mk.fit(mk.NegativeBinomial(), x, fixed={"size": 5.0})
    assert fit.converged and fit.params["mu"] == pytest.approx(x.mean(), rel=1e-10)
    # no zeros: pi's MLE is 0 (on the boundary); with pi fixed the Poisson part is estimated
    fit = mk.fit(mk.ZeroInflatedPoisson(), x)
    assert fit.params["pi"] == 0.0 and "boundary_estimate" in [d.code for d in fit.diagnostics]
    fit = mk.fit(mk.ZeroInflatedPoisson(), x, fixed={"pi": 0.2})
    assert fit.converged and not problems(fit)
    # with lambda fixed, pi is interior exactly when the zeros exceed exp(-lambda)
    y = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 1.0, 4.0, 2.0, 0.0, 5.0])  # 30% zeros
    fit = mk.fit(mk.ZeroInflatedPoisson(), y, fixed={"lambda": 1.0})  # exp(-1) = 0.37
    assert fit.params["pi"] == 0.0 and "fixed lambda" in fit.diagnostics[0].message
    fit = mk.fit(mk.ZeroInflatedPoisson(), y, fixed={"lambda": 3.0})  # exp(-3) = 0.05
    assert fit.converged and 0 < fit.params["pi"] < 1


def test_eager_distribution_functions_compile_once():
    """Regression: called outside a compiled program, the incomplete-gamma loops compiled
    anew on every call (~4 MB kept each, 33 ms a call); now one program per shape."""
    from mlekit._families import logspecial

    x = jnp.arange(0.0, 50.0)
    sizes = []
    for lam in (3.0, 4.0, 5.0, 6.0):
        mk.Poisson().logsf(x, {"lambda": jnp.asarray(lam)})
        sizes.append(logspecial._log_gamma_fraction._cache_size()
                     + logspecial._log_gamma_series._cache_size())
    assert sizes[-1] == sizes[1]
