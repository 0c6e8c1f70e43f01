"""Location-scale families and the von Mises distribution: far tails against mpmath, closed
forms, infinite skew-normal shapes, and degenerate data."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import special as sps

import mlekit as mk
from conftest import problems

N = 500
mp.mp.dps = 50


def _ours(fun, x, params):
    return np.asarray(fun(jnp.asarray(x, dtype=float), {k: jnp.asarray(float(v))
                                                      for k, v in params.items()}))


def _rel(ours, ref):
    ref = float(ref)
    return abs(float(ours) - ref) / max(abs(ref), 1e-300)


# -- far tails against mpmath ------------------------------------------------------------------

def test_cauchy_tails_are_exact_where_the_naive_cdf_fails():
    p = {"location": 2.0, "scale": 3.0}
    for z in (-1e300, -1e12, -5.0, 0.5, 1e8, 1e300):
        x = 2.0 + 3.0 * z
        zz = (mp.mpf(x) - 2) / 3
        cdf, sf = mp.atan2(1, -zz) / mp.pi, mp.atan2(1, zz) / mp.pi  # each exact where small
        log_cdf = mp.log(cdf) if cdf < 0.5 else mp.log1p(-sf)
        log_sf = mp.log(sf) if sf < 0.5 else mp.log1p(-cdf)
        assert _rel(_ours(mk.Cauchy().logcdf, x, p), log_cdf) < 1e-13, z
        assert _rel(_ours(mk.Cauchy().logsf, x, p), log_sf) < 1e-13, z
    # the log-density far out: log(1 + z^2) without overflow
    x = 2.0 + 3.0 * 1e200
    ref = -mp.log(mp.pi * 3) - mp.log(1 + ((mp.mpf(x) - 2) / 3) ** 2)
    assert _rel(_ours(mk.Cauchy().logpdf, x, p), ref) < 1e-14


def test_logistic_laplace_gumbel_tails_against_mpmath():
    p = {"location": 1.0, "scale": 2.0}
    refs = {
        "logistic": lambda z: (-mp.log1p(mp.exp(-z)), -mp.log1p(mp.exp(z))),
        "laplace": lambda z: ((z - mp.log(2), mp.log1p(-mp.exp(z) / 2)) if z < 0 else
                              (mp.log1p(-mp.exp(-z) / 2), -z - mp.log(2))),
        "gumbel": lambda z: (-mp.exp(-z), mp.log(-mp.expm1(-mp.exp(-z))) if z > 0 else
                             mp.log1p(-mp.exp(-mp.exp(-z)))),
    }
    for name, ref in refs.items():
        family = mk.family(name)
        for z in (-700.0, -30.0, -3.0, 0.25, 5.0, 40.0, 700.0):
            if name == "gumbel" and z == -700.0:
                z = -6.0  # log F = -e^700 is finite but its tail is -inf at any precision
            x = 1.0 + 2.0 * z
            zz = (mp.mpf(x) - 1) / 2
            log_cdf, log_sf = ref(zz)
            assert _rel(_ours(family.logcdf, x, p), log_cdf) < 1e-13, (name, z)
            assert _rel(_ours(family.logsf, x, p), log_sf) < 1e-13, (name, z)


def _sn_log_owen_t(h, a):
    """log T(h, a) for h >= 0, a > 0, the integrand scaled so quad's absolute tolerance holds."""
    w = 1 / h if h else a
    pts = [mp.mpf(0)] + [k * w for k in (1, 10, 100) if k * w < a] + [a]
    integral = mp.quad(lambda t: mp.exp(-h * h * t * t / 2) / (1 + t * t), pts)
    return -h * h / 2 + mp.log(integral) - mp.log(2 * mp.pi)


def _sn_log_light_tail(h, a):
    """log P(Z <= -h) = log[(1/pi) int_a^inf exp(-h^2 (1+t^2)/2)/(1+t^2) dt], h > 0, a >= 0."""
    w = 1 / (h * h * a + h)
    pts = [a, a + w, a + 10 * w, a + 100 * w, mp.inf]
    integral = mp.quad(lambda t: mp.exp(-h * h * (t * t - a * a) / 2) / (1 + t * t), pts)
    return -h * h * (1 + a * a) / 2 + mp.log(integral) - mp.log(mp.pi)


def _sn_reference(z, alpha):
    """(log F, log(1 - F)) of the standard skew normal at high precision."""
    z, alpha = mp.mpf(z), mp.mpf(alpha)
    if alpha < 0:
        log_sf, log_cdf = _sn_reference(-z, -alpha)
        return log_cdf, log_sf
    if z < 0:
        log_cdf = _sn_log_light_tail(-z, alpha)
        return log_cdf, mp.log1p(-mp.exp(log_cdf))
    sf = mp.ncdf(-z) + (2 * mp.exp(_sn_log_owen_t(z, alpha)) if alpha else 0)
    return mp.log1p(-sf), mp.log(sf)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 1.0, 3.0, -3.0, 40.0, -1000.0])
def test_skew_normal_log_cdf_and_survival_in_both_far_tails(alpha):
    p = {"xi": 1.0, "omega": 2.0, "alpha": alpha}
    zs = [-300.0, -38.0, -4.0, -0.3, 0.0, 0.7, 4.0, 38.0, 300.0]
    x = 1.0 + 2.0 * np.array(zs)
    log_cdf = _ours(mk.SkewNormal().logcdf, x, p)
    log_sf = _ours(mk.SkewNormal().logsf, x, p)
    for z, c, s in zip(zs, log_cdf, log_sf, strict=True):
        ref_c, ref_s = _sn_reference(z, alpha)
        # log-probabilities that are 0 in double precision (|log| < 1e-300) compare absolutely
        assert _rel(c, ref_c) < 1e-11, (z, alpha, c, ref_c)
        assert _rel(s, ref_s) < 1e-11, (z, alpha, s, ref_s)


def test_skew_normal_light_tail_beyond_underflow():
    # P(X <= xi - 40 omega) for alpha = 5 is about exp(-20800): far below the smallest double
    p = {"xi": 0.0, "omega": 1.0, "alpha": 5.0}
    ours = float(_ours(mk.SkewNormal().logcdf, -40.0, p))
    assert _rel(ours, _sn_reference(-40.0, 5.0)[0]) < 1e-12
    assert ours < -20000


def test_skew_normal_distribution_functions_have_finite_exact_gradients():
    fam = mk.SkewNormal()
    for fun in (fam.logcdf, fam.logsf):
        f = jax.jit(lambda x, alpha, fun=fun: fun(x, {"xi": 0.0, "omega": 1.0, "alpha": alpha}))
        grad = jax.jit(jax.grad(f, argnums=(0, 1)))
        # the branch points: z = 0, alpha = 0, |alpha| = 1, the quadrature switch a h = 4
        for x, alpha in ((0.0, 0.0), (0.0, 1.0), (-4.0, 1.0), (-2.0, 2.0), (3.0, -0.5),
                         (-30.0, 2.0), (30.0, -2.0), (0.5, 1e4)):
            g = [float(v) for v in grad(x, alpha)]
            assert all(np.isfinite(g)), (fun.__name__, x, alpha, g)
            eps = 1e-6
            fd = [(float(f(x + eps, alpha)) - float(f(x - eps, alpha))) / (2 * eps),
                  (float(f(x, alpha + eps)) - float(f(x, alpha - eps))) / (2 * eps)]
            assert g == pytest.approx(fd, rel=1e-5, abs=1e-9), (fun.__name__, x, alpha)


def _vm_log_prob(lo, hi, mu, kappa):
    """log P(lo < X <= hi) for the von Mises at high precision, the integrand scaled by its
    largest value so quad's absolute tolerance holds."""
    lo, hi, mu, kappa = (mp.mpf(v) for v in (lo, hi, mu, kappa))
    pts = sorted({lo, hi, *[mu + j * mp.pi for j in range(-3, 4) if lo < mu + j * mp.pi < hi]})
    top = max(kappa * mp.cos(t - mu) for t in pts)
    w = 1 / mp.sqrt(kappa + 1)
    pts = sorted({*pts, *[t + s * k * w for t in pts for s in (-1, 1) for k in (1, 5)
                          if lo < t + s * k * w < hi]})
    integral = mp.quad(lambda t: mp.exp(kappa * mp.cos(t - mu) - top), pts)
    return top + mp.log(integral) - mp.log(2 * mp.pi * mp.besseli(0, kappa))


@pytest.mark.parametrize("mu, kappa", [(0.0, 0.05), (0.0, 50.0), (2.5, 3.0), (-1.0, 200.0),
                                       (3.0, 1e4)])
def test_von_mises_log_cdf_and_survival_against_mpmath(mu, kappa):
    p = {"mu": mu, "kappa": kappa}
    # (within 1e-3 of -pi or pi, one ulp of x moves the tail probability by more than 1e-10
    # relative: the conditioning of the problem, not the method)
    xs = [-math.pi + 1e-3, -math.pi + 0.3, -1.0, mu - 0.01, 0.0, 1.5, math.pi - 1e-3]
    log_cdf = _ours(mk.VonMises().logcdf, xs, p)
    log_sf = _ours(mk.VonMises().logsf, xs, p)
    for x, c, s in zip(xs, log_cdf, log_sf, strict=True):
        ref_c = _vm_log_prob(-mp.pi, x, mu, kappa)
        ref_s = _vm_log_prob(x, mp.pi, mu, kappa)
        # where one side is ~1 its log is computed from the other: compare to the complement
        if ref_c > -1:
            ref_c = mp.log1p(-mp.exp(ref_s))
        if ref_s > -1:
            ref_s = mp.log1p(-mp.exp(ref_c))
        assert _rel(c, ref_c) < 1e-10, (x, c, ref_c)
        assert _rel(s, ref_s) < 1e-10, (x, s, ref_s)


def test_von_mises_cdf_at_the_ends_and_beyond():
    p = {"mu": 1.0, "kappa": 2.0}
    x = jnp.asarray([-4.0, -math.pi, math.pi, 4.0])
    assert np.array_equal(_ours(mk.VonMises().logcdf, x, p), [-np.inf, -np.inf, 0.0, 0.0])
    assert np.array_equal(_ours(mk.VonMises().logsf, x, p), [0.0, 0.0, -np.inf, -np.inf])
    grad = jax.grad(lambda v: mk.VonMises().logcdf(v, {"mu": 1.0, "kappa": 2.0}))(1.0)
    assert float(grad) == pytest.approx(
        float(jnp.exp(mk.VonMises().logpdf(1.0, p) - mk.VonMises().logcdf(1.0, p))), rel=1e-10)


# -- closed forms --------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [N + 1, N])
def test_laplace_mle_is_the_median_and_mean_absolute_deviation(n):
    x = np.random.default_rng(n).laplace(3.0, 2.0, n)
    fit = mk.fit(mk.Laplace(), x)
    med = np.median(x)  # for even n: the midpoint of the two middle order statistics
    assert fit.params["location"] == med
    assert fit.params["scale"] == pytest.approx(np.mean(np.abs(x - med)), rel=1e-14)
    assert fit.loglik == pytest.approx(-n * (math.log(2 * fit.params["scale"]) + 1), rel=1e-13)
    # a maximum: moving the location off the median, or the scale, lowers the log-likelihood
    def loglik(loc, scale):
        return float(np.sum(-np.log(2 * scale) - np.abs(x - loc) / scale))
    s = fit.params["scale"]
    for loc, scale in ((med + 0.01, s), (med - 0.01, s), (med, 1.01 * s), (med, 0.99 * s)):
        assert loglik(loc, scale) < fit.loglik
    # the location is non-smooth (piecewise linear log-likelihood): set to the median first,
    # with its standard error from the expected information n/s^2; the scale is regular
    assert fit.converged and not problems(fit)
    assert fit.se["location"] == pytest.approx(s / math.sqrt(n), rel=1e-12)
    assert fit.se["scale"] == pytest.approx(s / math.sqrt(n), rel=1e-8)
    assert fit.cov[0, 1] == 0.0


def test_laplace_scale_with_the_location_fixed_is_regular():
    x = np.random.default_rng(1).laplace(3.0, 2.0, N)
    fit = mk.fit(mk.Laplace(), x, fixed={"location": 3.0})
    scale = np.mean(np.abs(x - 3.0))
    assert fit.converged
    assert fit.params["scale"] == pytest.approx(scale, rel=1e-12)
    # observed information n/s^2 at the MLE
    assert fit.se["scale"] == pytest.approx(scale / math.sqrt(N), rel=1e-8)


def _a1(kappa):
    return sps.i1e(kappa) / sps.i0e(kappa)


def test_von_mises_closed_form():
    x = mk.VonMises().sample({"mu": 2.8, "kappa": 3.0}, N, 0)
    fit = mk.fit(mk.VonMises(), x)
    c, s = np.cos(x).sum(), np.sin(x).sum()
    assert fit.message.startswith("closed form, verified")
    assert fit.params["mu"] == pytest.approx(math.atan2(s, c), abs=1e-13)
    assert _a1(fit.params["kappa"]) == pytest.approx(math.hypot(c, s) / N, rel=1e-13)
    # fixed mu: A1(kappa) = mean cos(x - mu); fixed kappa: mu is still atan2(S, C)
    fit_mu = mk.fit(mk.VonMises(), x, fixed={"mu": 2.5})
    assert _a1(fit_mu.params["kappa"]) == pytest.approx(np.mean(np.cos(x - 2.5)), rel=1e-12)
    fit_kappa = mk.fit(mk.VonMises(), x, fixed={"kappa": 1.0})
    assert fit_kappa.params["mu"] == pytest.approx(math.atan2(s, c), abs=1e-13)
    assert fit_mu.converged and fit_kappa.converged


def test_von_mises_wraps_around_pi_and_keeps_precision_when_concentrated():
    # data straddling +-pi: the mean direction is near pi, reported in (-pi, pi]
    x = mk.VonMises().sample({"mu": math.pi, "kappa": 20.0}, N, 1)
    assert x.min() < -3 and x.max() > 3
    fit = mk.fit(mk.VonMises(), x)
    assert fit.converged and -math.pi < fit.params["mu"] <= math.pi
    assert abs(math.remainder(fit.params["mu"] - math.pi, 2 * math.pi)) < 0.05
    # very concentrated data (kappa ~ 1e8): centred statistics, exact in mpmath
    y = mk.VonMises().sample({"mu": 0.3, "kappa": 1e8}, N, 2)
    fit = mk.fit(mk.VonMises(), y)
    rbar = mp.sqrt(mp.fsum(mp.cos(mp.mpf(v)) for v in y) ** 2
                   + mp.fsum(mp.sin(mp.mpf(v)) for v in y) ** 2) / N
    kappa = mp.findroot(lambda k: mp.besseli(1, k) / mp.besseli(0, k) - rbar, fit.params["kappa"])
    assert fit.converged
    assert fit.params["kappa"] == pytest.approx(float(kappa), rel=1e-6)


# -- the skew normal's infinite shape ------------------------------------------------------------

def test_skew_normal_recovers_moments_start_and_fits():
    truth = {"xi": 1.0, "omega": 2.0, "alpha": 4.0}
    x = mk.SkewNormal().sample(truth, 20_000, 3)
    start = mk.SkewNormal().start(x)
    for k, v in truth.items():
        assert float(start[k]) == pytest.approx(v, rel=0.3)
    assert mk.SkewNormal().diverging(x, mk.fit(mk.SkewNormal(), x).params) is None


def test_skew_normal_shape_running_to_infinity_is_not_converged():
    # half-normal data: with every parameter free the likelihood rises towards the half-normal
    # limit (xi at the minimum, alpha -> infinity); Newton gets far enough for the score to
    # vanish, and diverging() recognizes the limit (before the scaled trust region it stopped
    # at its iteration limit instead)
    x = 3 + 2 * np.abs(np.random.default_rng(1).standard_normal(50))
    fit = mk.fit(mk.SkewNormal(), x)
    assert not fit.converged
    assert "estimate_at_infinity" in [d.code for d in fit.diagnostics]
    assert fit.params["alpha"] > 1e3
    why = mk.SkewNormal().diverging(x, fit.params)
    assert why is not None and "alpha -> +infinity" in why


def test_skew_normal_shape_at_infinity_with_xi_fixed_is_recognized():
    # xi fixed below all the data: the MLE of alpha is +infinity. The score in alpha decays like
    # phi(alpha z_min), so Newton's tolerance is met at a finite alpha; the estimate is flat in
    # alpha (a standard error far beyond the value) and diverging() names the cause
    x = np.abs(np.random.default_rng(0).standard_normal(N)) + 0.05
    fit = mk.fit(mk.SkewNormal(), x, fixed={"xi": 0.0})
    assert fit.params["alpha"] > 50
    assert fit.se["alpha"] is None or fit.se["alpha"] > 1e3 * fit.params["alpha"]
    assert "every observation lies above xi" in mk.SkewNormal().diverging(x, fit.params)
    # mirrored data: alpha -> -infinity
    assert "alpha -> -infinity" in mk.SkewNormal().diverging(-x, {**fit.params,
                                                                  "alpha": -fit.params["alpha"]})


# -- degenerate data -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cauchy", "logistic", "laplace", "gumbel", "skew_normal",
                                  "von_mises"])
def test_constant_data_raise(name):
    with pytest.raises(mk.FitError, match="all 5 observations equal 0.5"):
        mk.fit(mk.family(name), [0.5] * 5, strict=True)


def test_cauchy_with_more_than_half_the_data_tied_raises():
    with pytest.raises(mk.FitError, match="4 of the 7 observations equal 2.0"):
        mk.fit(mk.Cauchy(), [2.0, 2.0, 2.0, 2.0, -1.0, 5.0, 30.0], strict=True)
    # exactly half tied: the fit proceeds
    fit = mk.fit(mk.Cauchy(), [2.0, 2.0, 2.0, -1.0, 5.0, 30.0])
    assert np.isfinite(fit.loglik)


def test_skew_normal_needs_three_observations():
    with pytest.raises(mk.FitError, match="at least 3 observations"):
        mk.fit(mk.SkewNormal(), [0.1, 0.7], strict=True)


def test_von_mises_degenerate_directions_raise():
    # four directions that cancel: resultant length 0, the MLE is the uniform (kappa = 0)
    with pytest.raises(mk.FitError, match="mean resultant length"):
        mk.fit(mk.VonMises(), [0.0, math.pi / 2, math.pi, -math.pi / 2], strict=True)
    # with mu fixed opposite the data, the likelihood is largest at kappa -> 0 as well
    fit = mk.fit(mk.VonMises(), [0.1, 0.2, 0.3], fixed={"mu": -3.0})
    assert not fit.converged and "in the direction mu" in fit.diagnostics[0].message
    # angles in degrees: outside (-pi, pi]
    with pytest.raises(mk.DataError, match=r"x\[1\] = 90.0 .*radians"):
        mk.fit(mk.VonMises(), [0.0, 90.0, 180.0])
    with pytest.raises(mk.DataError, match="outside the support"):
        mk.fit(mk.VonMises(), [-math.pi, 0.5, 1.0])  # -pi itself is excluded: (-pi, pi]



def test_skew_normal_fit_with_every_point_above_xi_says_alpha_is_infinite():
    # xi fixed below all the data: the score in alpha fades like phi(alpha z_min), so Newton's
    # tests pass at a finite alpha; the engine asks the family and reports no MLE instead
    x = 1.0 + np.abs(np.random.default_rng(0).normal(size=N))
    fit = mk.fit(mk.SkewNormal(), x, fixed={"xi": 0.5})
    assert not fit.converged
    assert "estimate_at_infinity" in [d.code for d in fit.diagnostics]
    assert "alpha is infinite" in fit.message
