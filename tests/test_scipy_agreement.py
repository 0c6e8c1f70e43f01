"""Agreement with scipy.stats: log-densities, maximized likelihoods, closed forms, the score and
Hessian at the estimate, and standard errors against the closed-form Fisher information.

Every family's log-density is compared with scipy's on random points and random parameters.
Fits are compared by negative log-likelihood: ours must be no worse than scipy's fit (closed
forms in numpy for the discrete families), both evaluated with scipy's own ``logpdf``.

To keep the suite fast, every fit uses data of length ``N`` (one compiled shape per family).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

import mlekit as mk
from cases import log_uniform as _positive
from cases.continuous import _gamma_fit, _lognormal_fit, _t_fit, _weibull_fit
from mlekit._params import REAL, SIMPLEX

#: the data length of every fit in this module: one padded shape (512), compiled once
N = 500
K = 4  # categories of the categorical family


@dataclass(frozen=True)
class Case:
    """A family with its scipy counterpart.

    ``draw_params(rng)`` gives random natural parameters, ``draw_points(rng, size)`` random
    points of the support, ``draw_data(rng, size)`` a sample to fit, ``scipy_logpdf(x, p)`` the
    scipy log-density at natural parameters ``p``, and ``scipy_fit(x)`` scipy's (or the numpy
    closed-form) estimate in natural parameters.
    """

    family: mk.Family
    draw_params: Callable
    draw_points: Callable
    draw_data: Callable
    scipy_logpdf: Callable
    scipy_fit: Callable
    #: the parameter whose value sets the scale of a location parameter (None: no location)
    spread: str | None = None


def _categorical_logpmf(x, p):
    return np.log(np.asarray(p["probs"]))[np.asarray(x, dtype=int)]


CASES = {
    "normal": Case(
        mk.Normal(),
        lambda r: {"mean": r.normal(0, 5), "sd": _positive(r, -2.0, 2.0)},
        lambda r, n: r.normal(0, 10, n),
        lambda r, n: r.normal(3.0, 2.0, n),
        lambda x, p: stats.norm.logpdf(x, p["mean"], p["sd"]),
        lambda x: dict(zip(("mean", "sd"), stats.norm.fit(x), strict=True)),
        spread="sd",
    ),
    "lognormal": Case(
        mk.LogNormal(),
        lambda r: {"meanlog": r.normal(0, 2), "sdlog": _positive(r, -1.5, 1)},
        lambda r, n: r.lognormal(0, 2, n),
        lambda r, n: r.lognormal(1.0, 0.5, n),
        lambda x, p: stats.lognorm.logpdf(x, s=p["sdlog"], scale=np.exp(p["meanlog"])),
        _lognormal_fit,
        spread="sdlog",
    ),
    "exponential": Case(
        mk.Exponential(),
        lambda r: {"rate": _positive(r, -2.0, 2.0)},
        lambda r, n: np.concatenate([[0.0], r.lognormal(0, 2, n - 1)]),
        lambda r, n: r.exponential(2.0, n),
        lambda x, p: stats.expon.logpdf(x, scale=1 / p["rate"]),
        lambda x: {"rate": 1 / stats.expon.fit(x, floc=0)[1]},
    ),
    "gamma": Case(
        mk.Gamma(),
        lambda r: {"shape": _positive(r, -1.5, 3), "rate": _positive(r, -2.0, 2.0)},
        lambda r, n: r.lognormal(0, 2, n),
        lambda r, n: r.gamma(2.5, 1 / 1.5, n),
        lambda x, p: stats.gamma.logpdf(x, a=p["shape"], scale=1 / p["rate"]),
        _gamma_fit,
    ),
    "weibull": Case(
        mk.Weibull(),
        lambda r: {"shape": _positive(r, -1, 1.5), "scale": _positive(r, -2.0, 2.0)},
        lambda r, n: r.lognormal(0, 1.5, n),
        lambda r, n: 3.0 * r.weibull(1.5, n),
        lambda x, p: stats.weibull_min.logpdf(x, c=p["shape"], scale=p["scale"]),
        _weibull_fit,
    ),
    "student_t": Case(
        mk.StudentT(),
        lambda r: {"location": r.normal(0, 5), "scale": _positive(r, -2.0, 2.0),
                   "df": _positive(r, -1, 4)},
        lambda r, n: r.normal(0, 20, n),
        lambda r, n: 1.0 + 2.0 * r.standard_t(4.0, n),
        lambda x, p: stats.t.logpdf(x, p["df"], p["location"], p["scale"]),
        _t_fit,
        spread="scale",
    ),
    "poisson": Case(
        mk.Poisson(),
        lambda r: {"lambda": _positive(r, -3, 4)},
        lambda r, n: r.integers(0, 60, n).astype(float),
        lambda r, n: r.poisson(3.0, n).astype(float),
        lambda x, p: stats.poisson.logpmf(x, p["lambda"]),
        lambda x: {"lambda": np.mean(x)},
    ),
    "bernoulli": Case(
        mk.Bernoulli(),
        lambda r: {"prob": r.uniform(0.001, 0.999)},
        lambda r, n: r.integers(0, 2, n).astype(float),
        lambda r, n: (r.random(n) < 0.3).astype(float),
        lambda x, p: stats.bernoulli.logpmf(x, p["prob"]),
        lambda x: {"prob": np.mean(x)},
    ),
    "categorical": Case(
        mk.Categorical(k=K),
        lambda r: {"probs": r.dirichlet(np.full(K, 0.7))},
        lambda r, n: r.integers(0, K, n).astype(float),
        lambda r, n: r.choice(K, size=n, p=[0.1, 0.2, 0.3, 0.4]).astype(float),
        _categorical_logpmf,
        lambda x: {"probs": np.bincount(x.astype(int), minlength=K) / x.size},
    ),
}
NAMES = list(CASES)


def _seed(name: str, salt: int = 0) -> int:
    """A fixed seed per family (stable across runs, unlike hash())."""
    return sum(ord(c) * 31**i for i, c in enumerate(name)) % 2**31 + salt


def _as_jax(params: dict) -> dict:
    return {k: jnp.asarray(v, dtype=jnp.float64) for k, v in params.items()}


def _scipy_loglik(case: Case, x, params) -> float:
    return float(np.sum(case.scipy_logpdf(x, {k: np.asarray(v) for k, v in params.items()})))


@functools.cache
def fitted(name: str, n: int = N):
    """(data, fit) for a family, computed once per module run."""
    case = CASES[name]
    x = case.draw_data(np.random.default_rng(_seed(name, n)), n)
    return x, mk.fit(case.family, x)


# -- log-densities -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_logpdf_equals_scipy(name):
    case = CASES[name]
    rng = np.random.default_rng(_seed(name))
    for _ in range(6):
        params = case.draw_params(rng)
        x = case.draw_points(rng, 64)
        ours = np.asarray(case.family.logpdf(jnp.asarray(x), _as_jax(params)))
        theirs = case.scipy_logpdf(x, params)
        assert ours.shape == x.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-11,
                                   err_msg=f"{name} at {params}")


# -- maximized likelihood against scipy's fits -------------------------------------------------
def _check_against_scipy(name, x, fit):
    case = CASES[name]
    assert fit.converged, fit.message
    reference = case.scipy_fit(x)
    nll_scipy = -_scipy_loglik(case, x, reference)
    assert np.isfinite(nll_scipy)
    assert -fit.loglik <= nll_scipy + 1e-9 * abs(nll_scipy), (fit.params, reference)
    # fit.loglik is the log-likelihood at fit.params, as scipy computes it
    ours_by_scipy = _scipy_loglik(case, x, fit.params)
    assert fit.loglik == pytest.approx(ours_by_scipy, rel=1e-9)
    assert fit.n == x.size


@pytest.mark.parametrize("name", NAMES)
def test_loglik_at_least_scipys(name):
    x, fit = fitted(name)
    _check_against_scipy(name, x, fit)


@pytest.mark.slow
@pytest.mark.parametrize("n", [2000, 70_000])  # 70_000 spans two chunks of 2**16
@pytest.mark.parametrize("name", NAMES)
def test_loglik_at_least_scipys_large_n(name, n):
    x, fit = fitted(name, n)
    _check_against_scipy(name, x, fit)


def test_scipy_agrees_with_our_estimates_where_both_are_exact():
    """The closed-form families give scipy's estimates themselves (not just as good an NLL)."""
    for name in ("normal", "lognormal", "exponential"):
        x, fit = fitted(name)
        reference = CASES[name].scipy_fit(x)
        for key, value in reference.items():
            assert fit.params[key] == pytest.approx(value, rel=1e-12), (name, key)


# -- closed forms ------------------------------------------------------------------------------
def test_normal_closed_form_uses_the_biased_variance():
    fit = mk.fit(mk.Normal(), [1.0, 2.0, 4.0])
    assert fit.params["mean"] == pytest.approx(7 / 3, rel=1e-15)
    assert fit.params["sd"] ** 2 == pytest.approx(14 / 9, rel=1e-14)
    assert fit.params["sd"] ** 2 != pytest.approx(14 / 6, rel=1e-3)


def test_normal_closed_form():
    x, fit = fitted("normal")
    xbar = np.mean(x)
    biased = np.sum((x - xbar) ** 2) / x.size
    assert fit.params["mean"] == pytest.approx(xbar, rel=1e-14)
    assert fit.params["sd"] == pytest.approx(np.sqrt(biased), rel=1e-13)
    assert fit.params["sd"] != pytest.approx(np.std(x, ddof=1), rel=1e-6)


def test_lognormal_closed_form_is_the_normal_on_log_x():
    x, fit = fitted("lognormal")
    lx = np.log(x)
    assert fit.params["meanlog"] == pytest.approx(np.mean(lx), rel=1e-14)
    assert fit.params["sdlog"] == pytest.approx(np.std(lx), rel=1e-13)
    on_logs = mk.fit(mk.Normal(), lx)
    assert fit.params["meanlog"] == pytest.approx(on_logs.params["mean"], rel=1e-14)
    assert fit.params["sdlog"] == pytest.approx(on_logs.params["sd"], rel=1e-14)
    # the Jacobian term: loglik(lognormal) = loglik(normal on log x) - sum(log x)
    assert fit.loglik == pytest.approx(on_logs.loglik - np.sum(lx), rel=1e-12)


def test_exponential_closed_form():
    x, fit = fitted("exponential")
    assert fit.params["rate"] == pytest.approx(x.size / np.sum(x), rel=1e-14)


def test_poisson_closed_form():
    x, fit = fitted("poisson")
    assert fit.params["lambda"] == pytest.approx(np.mean(x), rel=1e-14)


def test_bernoulli_closed_form():
    x, fit = fitted("bernoulli")
    assert fit.params["prob"] == pytest.approx(np.mean(x), rel=1e-14)


def test_categorical_closed_form():
    x, fit = fitted("categorical")
    freq = np.bincount(x.astype(int), minlength=K) / x.size
    np.testing.assert_allclose(fit.params["probs"], freq, rtol=1e-14)
    assert np.sum(fit.params["probs"]) == pytest.approx(1.0, rel=1e-15)


def test_gamma_profile_equation_holds():
    """The gamma MLE solves log(a) - digamma(a) = log(mean) - mean(log x), rate = a / mean."""
    from scipy import special

    x, fit = fitted("gamma")
    a, rate = fit.params["shape"], fit.params["rate"]
    s = np.log(np.mean(x)) - np.mean(np.log(x))
    assert np.log(a) - special.digamma(a) == pytest.approx(s, rel=1e-11)
    assert rate == pytest.approx(a / np.mean(x), rel=1e-12)


# -- the score and the Hessian in natural units, computed here with JAX -------------------------
def _natural_derivatives(name: str, x: np.ndarray, fit):
    """(theta, gradient, Hessian) of sum(logpdf) in the natural parameters at fit.params."""
    family = CASES[name].family
    names = tuple(family.params)
    shapes = [np.shape(fit.params[n]) for n in names]
    theta = np.concatenate([np.ravel(fit.params[n]) for n in names])
    xj = jnp.asarray(x)

    def ll(flat):
        params, i = {}, 0
        for n, shape in zip(names, shapes, strict=True):
            size = int(np.prod(shape)) if shape else 1
            params[n] = flat[i:i + size].reshape(shape) if shape else flat[i]
            i += size
        return jnp.sum(family.logpdf(xj, params))

    flat = jnp.asarray(theta)
    grad = np.asarray(jax.grad(ll)(flat))
    hess = np.asarray(jax.hessian(ll)(flat))
    return theta, grad, hess


def _param_scales(name: str, fit) -> np.ndarray:
    """A natural scale per coordinate: |theta| for positive or unit parameters, the spread for
    a location parameter."""
    case = CASES[name]
    out = []
    for n, p in case.family.params.items():
        value = np.ravel(fit.params[n])
        if p.constraint == REAL:
            out.append(np.full(value.shape, fit.params[case.spread]))
        else:
            out.append(np.abs(value))
    return np.concatenate(out)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "categorical"])
def test_score_is_zero_and_hessian_negative_definite(name):
    x, fit = fitted(name)
    assert fit.converged, fit.message
    theta, grad, hess = _natural_derivatives(name, x, fit)
    scaled = np.abs(grad * _param_scales(name, fit)) / fit.n
    assert np.max(scaled) < 1e-6, (name, grad)
    eig = np.linalg.eigvalsh(hess)
    assert np.all(eig < 0), (name, eig)
    # the Newton decrement (log-likelihood still to gain, doubled) is at rounding level
    assert grad @ np.linalg.solve(-hess, grad) < 1e-10 * max(1.0, abs(fit.loglik))
    # at a maximum the reported covariance is the inverse observed information in natural units
    expected = np.linalg.inv(-hess)
    d = np.sqrt(np.diag(expected))
    np.testing.assert_allclose(np.diag(fit.cov), d**2, rtol=1e-6)
    np.testing.assert_allclose(fit.cov / np.outer(d, d), expected / np.outer(d, d), atol=1e-6)


def test_categorical_score_on_the_simplex():
    """On the simplex the score is zero along the tangent space (sum of changes = 0), and the
    Hessian restricted to it (and in the unconstrained softmax coordinates) is negative
    definite."""
    x, fit = fitted("categorical")
    assert fit.converged, fit.message
    p, grad, hess = _natural_derivatives("categorical", x, fit)
    # an orthonormal basis of the tangent space {v : sum(v) = 0}
    basis = np.linalg.svd(np.eye(K) - 1.0 / K)[0][:, : K - 1]
    tangent = basis.T @ grad
    assert np.max(np.abs(tangent)) / fit.n < 1e-10, grad
    assert np.all(np.linalg.eigvalsh(basis.T @ hess @ basis) < 0)

    xj = jnp.asarray(x)

    def ll_u(u):
        return jnp.sum(CASES["categorical"].family.logpdf(xj, {"probs": SIMPLEX.forward(u)}))

    u = jnp.asarray(SIMPLEX.inverse(p))
    assert np.max(np.abs(np.asarray(jax.grad(ll_u)(u)))) / fit.n < 1e-10
    assert np.all(np.linalg.eigvalsh(np.asarray(jax.hessian(ll_u)(u))) < 0)


# -- standard errors against the closed-form Fisher information ---------------------------------
def test_normal_standard_errors():
    x, fit = fitted("normal")
    sd, n = fit.params["sd"], fit.n
    assert fit.se["mean"] == pytest.approx(sd / np.sqrt(n), rel=1e-9)
    assert fit.se["sd"] == pytest.approx(sd / np.sqrt(2 * n), rel=1e-9)
    assert abs(fit.cov[0, 1]) < 1e-12 * fit.cov[0, 0]  # mean and sd are orthogonal at the MLE


def test_lognormal_standard_errors():
    x, fit = fitted("lognormal")
    sd, n = fit.params["sdlog"], fit.n
    assert fit.se["meanlog"] == pytest.approx(sd / np.sqrt(n), rel=1e-9)
    assert fit.se["sdlog"] == pytest.approx(sd / np.sqrt(2 * n), rel=1e-9)


def test_exponential_standard_error():
    x, fit = fitted("exponential")
    assert fit.se["rate"] == pytest.approx(fit.params["rate"] / np.sqrt(fit.n), rel=1e-9)


def test_poisson_standard_error():
    x, fit = fitted("poisson")
    assert fit.se["lambda"] == pytest.approx(np.sqrt(fit.params["lambda"] / fit.n), rel=1e-9)


def test_bernoulli_standard_error():
    x, fit = fitted("bernoulli")
    p = fit.params["prob"]
    assert fit.se["prob"] == pytest.approx(np.sqrt(p * (1 - p) / fit.n), rel=1e-9)


def test_categorical_covariance():
    x, fit = fitted("categorical")
    p = np.asarray(fit.params["probs"])
    expected = (np.diag(p) - np.outer(p, p)) / fit.n
    assert fit.cov.shape == (K, K)
    np.testing.assert_allclose(fit.cov, expected, rtol=1e-9, atol=1e-12 * np.max(expected))
    np.testing.assert_allclose(fit.se["probs"], np.sqrt(p * (1 - p) / fit.n), rtol=1e-9)
    # the probabilities sum to one, so their sum has no variance
    assert abs(np.sum(fit.cov)) < 1e-12 * np.max(expected)
