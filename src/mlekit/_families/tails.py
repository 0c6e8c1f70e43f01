"""Distribution functions in log space for the classic families, accurate in the far tails and
differentiable (the incomplete gamma and beta functions themselves are in ``logspecial``).

Where a probability underflows (a Weibull cumulative hazard below ~1e-308, a far Student t
tail) its logarithm is still an ordinary number; these helpers compute it from
the leading terms of a series or an asymptotic expansion with everything in log space. The
complement of a small probability comes through ``log1mexp``, never as ``log(1 - p)``.

Every branch a ``jnp.where`` discards is evaluated at harmless substitute inputs (the "double
where"), so gradients stay finite: later fits of censored data differentiate these functions.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from .base import log1mexp, safe_where
from .logspecial import log_beta, log_beta_cdf_sf

LOG_HALF = -math.log(2.0)


def where_positive(x, fun, fill):
    """``fun(x)`` where x > 0, else ``fill`` (NaN-free gradients: see ``safe_where``)."""
    return safe_where(x > 0, fun, x, fill)


def log1mexp_neg_exp(lh):
    """log(1 - exp(-exp(lh))): the log-CDF of a cumulative hazard exp(lh) (Weibull,
    exponential). Where exp(lh) is tiny (it may underflow), the series log h - h/2 with
    h = exp(lh) (the next term, h^2/24, is below 1e-18 there), which stays finite."""
    small = lh < -20.0
    h = jnp.exp(lh)
    series = lh - 0.5 * h
    direct = log1mexp(-jnp.exp(jnp.where(small, 0.0, lh)))
    return jnp.where(small, series, direct)


def _log_t_far_tail(a, lz, lw):
    """log I_z(a, 1/2) for small z (< 1e-4), all in log space: the series
    I_z(a, 1/2) = z^a (1-z)^(1/2) / (a B(a, 1/2)) * sum_k c_k z^k, c_k = prod_{j<k}
    (a + 1/2 + j) / (a + 1 + j) <= 1, of which five terms leave an error below z^5 < 1e-20."""
    z = jnp.exp(lz)
    c, s = 1.0, 1.0
    zk = jnp.ones_like(z)
    for j in range(4):
        c = c * (a + 0.5 + j) / (a + 1.0 + j)
        zk = zk * z
        s = s + c * zk
    return a * lz + 0.5 * lw - jnp.log(a) - log_beta(a, 0.5) + jnp.log(s)


def log_student_t_cdf_sf(t, df):
    """(log P(T <= t), log P(T > t)) for Student t with ``df`` degrees of freedom.

    The tail P(T <= -|t|) = I_z(df/2, 1/2) / 2 with z = df / (df + t^2) and 1 - z =
    t^2 / (df + t^2) taken in log space from log df and log|t| (so |t| up to 1e308 is fine).
    In the far tails (z < 1e-4) the leading terms of the series of I_z with everything in logs
    (finite, with finite first and second derivatives, where the tail underflows); elsewhere
    ``log_beta_cdf_sf`` at z or, where z > 1/2, at 1 - z through I_z(a, b) = 1 - I_(1-z)(b, a)
    (1 - z computed as such, not by subtraction, keeps the digits near the centre). Within 1e-8
    of the centre the Taylor expansion 1/2 + t f(0): smooth through t = 0, where the tail
    formula (a function of |t|) would give a zero derivative.
    """
    t, df = jnp.broadcast_arrays(jnp.asarray(t, float), jnp.asarray(df, float))
    a = df / 2
    centre = jnp.abs(t) < 1e-8
    lt2 = 2 * jnp.log(jnp.where(centre, 1.0, jnp.abs(t)))
    ldf = jnp.log(df)
    lsum = jnp.logaddexp(ldf, lt2)
    lz, lw = ldf - lsum, lt2 - lsum  # log z, log(1 - z)
    far = lz < math.log(1e-4)
    big = lz < lw  # z < 1/2
    # the middle: one call, at z (the smaller there) or at 1 - z
    mid_z = jnp.where(far, -1.0, jnp.where(big, lz, lw))
    lo, hi = log_beta_cdf_sf(jnp.where(big, a, 0.5), jnp.where(big, 0.5, a), jnp.exp(mid_z))
    tail_mid = jnp.where(big, lo, hi)
    tail_far = _log_t_far_tail(a, jnp.where(far, lz, -10.0), jnp.where(far, lw, 0.0))
    tail = LOG_HALF + jnp.where(far, tail_far, tail_mid)
    body = log1mexp(tail)
    # near the centre: F(t) = 1/2 + t f(0) + O(t^3), f(0) = 1 / (sqrt(df) B(df/2, 1/2))
    f0 = jnp.exp(-log_beta(a, 0.5)) / jnp.sqrt(df)
    tc = jnp.where(centre, t, 0.0)
    lcdf = jnp.where(t < 0, tail, body)
    lsf = jnp.where(t < 0, body, tail)
    return (jnp.where(centre, LOG_HALF + jnp.log1p(2 * tc * f0), lcdf),
            jnp.where(centre, LOG_HALF + jnp.log1p(-2 * tc * f0), lsf))
