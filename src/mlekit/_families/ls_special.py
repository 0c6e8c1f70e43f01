"""Special functions for the skew-normal and von Mises families, in log space and in JAX.

- Owen's T function, scaled: ``tau(h, a) = exp(h^2/2) T(h, a)`` (no underflow), by
  Gauss-Legendre quadrature of its defining integral for ``a <= 1`` and Owen's identity for
  ``a > 1``;
- the skew-normal log-CDF and log-survival function, accurate in both far tails: every
  probability is written as a sum of positive terms, and the light tail (where Phi(z) - 2T(z, a)
  cancels completely) as one positive integral, computed by Gauss-Laguerre quadrature after a
  change of variable that makes its exponent linear;
- the von Mises probability of an arc, by Gauss-Legendre quadrature of the density over the
  arc's monotone pieces, each cut where the density has fallen by e^-40 below its largest value
  there (so the nodes sit where the mass is, whatever kappa), with the largest value in log space.

Every branch a ``jnp.where`` discards is evaluated at harmless substitute inputs (the "double
where"), so values and gradients stay finite.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import jax.scipy.special as jss
import numpy as np

from .base import log1mexp

LOG_PI = math.log(math.pi)
LOG_2PI = math.log(2 * math.pi)
SQRT2 = math.sqrt(2.0)

_GL_X, _GL_W = np.polynomial.legendre.leggauss(40)
_LAG_X, _LAG_W = np.polynomial.laguerre.laggauss(40)
#: Owen's integrand exp(-h^2 x^2 / 2) is below e^-72 beyond h x = 12: the quadrature stops there
_OWEN_CUT = 12.0
#: the light-tail integral goes to Gauss-Laguerre where its singularity (at -s0) is this far away
_LAGUERRE_FROM = 3.0
#: the von Mises density is cut where it has fallen by this factor (in log) below its maximum
_VM_CUT = 40.0


def _clip(x, lo, hi):
    """x limited to [lo, hi], with the whole gradient passing at the ends (jnp.clip halves it
    there, at ties)."""
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x))


def _legendre(fun, lo, hi):
    """Gauss-Legendre sum of ``fun`` over [lo, hi] (arrays broadcast; nodes on a new last axis)."""
    lo, hi = jnp.asarray(lo)[..., None], jnp.asarray(hi)[..., None]
    half = 0.5 * (hi - lo)
    t = lo + half * (1.0 + _GL_X)
    return jnp.sum(_GL_W * half * fun(t), axis=-1)


def _upper_gauss(t):
    """exp(t^2/2) Phi(-t) for t >= 0 (= erfcx(t/sqrt 2)/2): never underflows."""
    return 0.5 * jss.erfcx(t / SQRT2)


def _owen_tau_small(h, a):
    """exp(h^2/2) T(h, a) for h >= 0, 0 <= a <= 1: (1/2pi) int_0^a e^{-h^2 x^2/2}/(1+x^2) dx."""
    far = h * a > _OWEN_CUT
    top = jnp.where(far, _OWEN_CUT / jnp.where(far, h, 1.0), a)
    return _legendre(lambda x: jnp.exp(-0.5 * (h[..., None] * x) ** 2) / (1.0 + x * x),
                     jnp.zeros_like(top), top) / (2 * math.pi)


def _owen_pieces(h, a):
    """The pieces every skew-normal probability at |z| = h >= 0, shape a >= 0 is built from:
    (tau, E(h), light), with tau = exp(h^2/2) T(h, a) (Owen's T, scaled), E(t) = exp(t^2/2)
    Phi(-t), and light = log P(Z <= -h).

    One quadrature of Owen's integrand serves both: for a <= 1 it is T(h, a) itself; for a > 1,
    T(ah, 1/a), and Owen's identity T(h, a) = [Phi(h)Phi(-ah) + Phi(ah)Phi(-h)]/2 - T(ah, 1/a)
    gives T(h, a) (its terms cancel at most by a factor ~4, as T(h, a) >= T(h, 1) =
    Phi(h)Phi(-h)/2).

    The light tail P(Z <= -h) = (1/pi) int_a^inf exp(-h^2 (1 + x^2)/2) / (1 + x^2) dx. With
    s0 = a^2 h^2 / 2 and x^2 = a^2 + 2w/h^2 it is exp(-h^2/2 - s0) h / (2 sqrt 2 pi)
    int_0^inf e^-w (s0 + w)^-1/2 (s0 + h^2/2 + w)^-1 dw: Gauss-Laguerre, accurate where the
    singularity at w = -s0 is far enough (s0 >= 3; measured against mpmath: 1e-14 there, 4e-11
    from s0 >= 1). Nearer, the probability is not small relative to Phi(-h) (at least
    ~2 Phi(-2.45) of it), and the differences Phi(-h) - 2T(h, a) (a <= 1) or
    2T(ah, 1/a) - Phi(-ah) erf(h/sqrt 2) (a > 1) lose at most two digits.
    """
    small = a <= 1.0
    b = jnp.where(small, 1.0, a)  # >= 1
    bh = b * h
    t = _owen_tau_small(bh, jnp.where(small, a, 1.0 / b))  # scaled T(h, a) or T(ah, 1/a)
    e_h, e_bh = _upper_gauss(h), _upper_gauss(bh)
    damp = jnp.exp(-0.5 * (b * b - 1.0) * h * h)  # exp(h^2/2) Phi(-bh) = e_bh * damp
    first = 0.5 * (jss.ndtr(h) * e_bh * damp + jss.ndtr(bh) * e_h)
    tau = jnp.where(small, t, first - t * damp)
    # the light tail, near: a difference of positive terms, scaled by exp(-(bh)^2/2); where the
    # Laguerre form is used instead, cancellation may leave it <= 0: the floor keeps the
    # discarded branch finite
    diff = jnp.where(small, e_h - 2 * t, 2 * t - e_bh * jss.erf(h / SQRT2))
    near = -0.5 * bh * bh + jnp.log(jnp.maximum(diff, 1e-300))
    s0 = 0.5 * (a * h) ** 2
    lag = s0 >= _LAGUERRE_FROM
    hl, al = jnp.where(lag, h, 1.0), jnp.where(lag, a, 4.0)
    s0l = 0.5 * (al * hl) ** 2
    w = _LAG_X
    integral = jnp.sum(_LAG_W / (jnp.sqrt(s0l[..., None] + w)
                                 * (s0l[..., None] + 0.5 * hl[..., None] ** 2 + w)), axis=-1)
    far = -0.5 * hl * hl - s0l + jnp.log(hl / (2 * SQRT2)) - LOG_PI + jnp.log(integral)
    return tau, e_h, jnp.where(lag, far, near)


def owen_tau(h, a):
    """exp(h^2/2) T(h, a) for h >= 0, a >= 0 (Owen's T function, scaled)."""
    return _owen_pieces(h, a)[0]


def skew_normal_log_cdf_sf(z, alpha):
    """(log P(Z <= z), log P(Z > z)) for Z skew-normal(0, 1, alpha), accurate in both tails.

    By symmetry (-Z is skew-normal with -alpha) only shapes a = |alpha| >= 0 are computed, at
    z' = z sign(alpha). With h = |z'| and light = log P(Z <= -h) (at most 1/2):

    - z' < 0: log F = light, log S = log(1 - exp(light));
    - z' >= 0: log S = log(Phi(-h) + 2T(h, a)) (both positive; exp(-h^2/2) taken out), and
      log F = log(1 - S) where S < 1/2, else log(erf(h/sqrt 2) + exp(light)), since |Z| is
      half-normal whatever a, so F(h) - F(-h) = erf(h/sqrt 2).
    """
    z, alpha = jnp.broadcast_arrays(jnp.asarray(z, dtype=float), jnp.asarray(alpha, dtype=float))
    pos = alpha >= 0
    zz = jnp.where(pos, z, -z)
    a, h = jnp.abs(alpha), jnp.abs(zz)
    tau, e_h, light = _owen_pieces(h, a)
    neg = zz < 0
    log_sf_upper = -0.5 * h * h + jnp.log(e_h + 2 * tau)
    log_sf = jnp.where(neg, log1mexp(light), log_sf_upper)
    small_sf = log_sf_upper < -math.log(2.0)
    log_cdf = jnp.where(neg, light, jnp.where(
        small_sf, log1mexp(jnp.where(small_sf, log_sf_upper, -1.0)),
        jnp.log(jss.erf(h / SQRT2) + jnp.exp(light))))
    return jnp.where(pos, log_cdf, log_sf), jnp.where(pos, log_sf, log_cdf)


# -- von Mises -------------------------------------------------------------------------------

def _log_half_arc(p, q, kappa):
    """log int_p^q exp(kappa (cos t - 1)) dt for 0 <= p <= q <= pi (the density decreases).

    The integrand is cut where it falls e^-40 below its value at p; Gauss-Legendre on the rest.
    Returns -inf for an empty arc.
    """
    empty = q <= p
    p, q = jnp.where(empty, 0.0, p), jnp.where(empty, 1.0, q)
    cos_p = jnp.cos(p)
    v = cos_p - _VM_CUT / kappa
    inside = v > -1.0
    cut = jnp.where(inside, jnp.arccos(jnp.where(inside, v, 0.0)), math.pi)
    top = jnp.where(q < cut, q, cut)
    k, pn = kappa[..., None], p[..., None]
    # cos t - cos p = -2 sin((t+p)/2) sin((t-p)/2): no cancellation when t, p are close
    total = _legendre(lambda t: jnp.exp(-2 * k * jnp.sin(0.5 * (t + pn)) * jnp.sin(0.5 * (t - pn))),
                      p, top)
    return jnp.where(empty, -jnp.inf, -2 * kappa * jnp.sin(0.5 * p) ** 2 + jnp.log(total))


def von_mises_log_arc(lo, hi, kappa):
    """log P(lo < Y <= hi) for Y von Mises(0, kappa) on the circle, lo <= hi <= lo + 2 pi.

    The arc is shifted so that lo lies in [-pi, pi), cut at 0, pi and 2 pi into pieces on which
    cos is monotone, and each piece reflected onto [0, pi]. The normalizing constant is
    2 pi I0(kappa) = 2 pi i0e(kappa) e^kappa.
    """
    lo, hi, kappa = jnp.broadcast_arrays(jnp.asarray(lo, dtype=float),
                                         jnp.asarray(hi, dtype=float),
                                         jnp.asarray(kappa, dtype=float))
    turns = jnp.floor((lo + math.pi) / (2 * math.pi))
    lo = lo - 2 * math.pi * turns
    hi = hi - 2 * math.pi * turns
    ps, qs = [], []
    for start, end, flip in ((-math.pi, 0.0, -1.0), (0.0, math.pi, 1.0),
                             (math.pi, 2 * math.pi, -1.0), (2 * math.pi, 3 * math.pi, 1.0)):
        a, b = _clip(lo, start, end), _clip(hi, start, end)
        # onto [0, pi]: t -> t - start (rising pieces), or t -> end - t (falling pieces)
        ps.append(a - start if flip > 0 else end - b)
        qs.append(b - start if flip > 0 else end - a)
    # the four pieces in one quadrature (one program, not four)
    stacked = _log_half_arc(jnp.stack(ps), jnp.stack(qs), jnp.broadcast_to(kappa, (4,) + lo.shape))
    top = jnp.max(stacked, axis=0)
    some = jnp.isfinite(top)  # else the arc is empty: probability 0
    top_safe = jnp.where(some, top, 0.0)
    log_mass = top_safe + jnp.log(jnp.sum(jnp.exp(jnp.where(some, stacked - top_safe, 0.0)),
                                          axis=0))
    return jnp.where(some, log_mass - LOG_2PI - jnp.log(jss.i0e(kappa)), -jnp.inf)


def von_mises_second_moment(kappa):
    """E[Y^2] for Y von Mises(0, kappa) on (-pi, pi]: 2 int_0^pi y^2 f(y) dy by quadrature
    (the integrand is cut where exp(kappa (cos y - 1)) < e^-40)."""
    kappa = jnp.asarray(kappa, dtype=float)
    v = 1.0 - _VM_CUT / kappa
    inside = v > -1.0
    top = jnp.where(inside, jnp.arccos(jnp.where(inside, v, 0.0)), math.pi)
    k = kappa[..., None]
    m2 = _legendre(lambda y: y * y * jnp.exp(-2 * k * jnp.sin(0.5 * y) ** 2), jnp.zeros_like(top),
                   top)
    return 2 * m2 / (2 * math.pi * jss.i0e(kappa))
