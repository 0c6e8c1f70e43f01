r"""Information quantities: the link between maximum likelihood and machine learning's losses.

For data with empirical distribution :math:`\hat p` and a model :math:`p_\theta`, the negative
log-likelihood per observation is the cross-entropy
:math:`-\ell(\theta)/n = H(\hat p, p_\theta) = -\sum_v \hat p(v) \log p_\theta(v)`, which for
discrete data splits into :math:`H(\hat p) + KL(\hat p \,\|\, p_\theta)`. The entropy does not
depend on :math:`\theta`, so maximizing the likelihood is minimizing the KL divergence from
the empirical distribution to the model (the categorical's cross-entropy is machine
learning's log loss; for continuous data only the cross-entropy is finite).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ._data import observe
from ._errors import ModelError


@dataclass(frozen=True)
class Empirical:
    """The empirical distribution of observations: the distinct ``values`` and their
    ``probs`` (relative frequencies, weighted where the data are); ``n`` observations."""

    values: np.ndarray
    probs: np.ndarray
    n: float

    @property
    def discrete(self) -> bool:
        return bool(np.all(self.values == np.round(self.values)))


def empirical(x, weights=None) -> Empirical:
    """The empirical distribution of ``x`` (one-dimensional), with frequency ``weights``.

    Examples
    --------
    >>> import mlekit as mk
    >>> mk.empirical([0, 1, 1, 2]).probs.tolist()
    [0.25, 0.5, 0.25]
    """
    x, _, _ = observe(x, "x")
    values, index = np.unique(x, return_inverse=True)
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape or np.any(~np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ModelError("weights must be one finite number >= 0 per observation, not all 0.")
    counts = np.bincount(index, weights=w, minlength=values.size)
    keep = counts > 0
    return Empirical(values[keep], counts[keep] / counts.sum(), float(w.sum()))


def entropy(p, base: float | None = None) -> float:
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i` (nats; ``base=2`` for bits), with
    :math:`0 \log 0 = 0`.

    Parameters
    ----------
    p : Empirical or array-like
        An empirical distribution (:func:`empirical`) or a probability vector (>= 0, summing
        to 1).
    base : float, optional
        The logarithm's base (default e).

    Examples
    --------
    >>> import mlekit as mk
    >>> round(mk.entropy([0.5, 0.25, 0.25], base=2), 12)
    1.5
    """
    probs = _probabilities(p, "p")
    positive = probs[probs > 0]
    h = float(-np.sum(positive * np.log(positive)))
    return h / math.log(base) if base is not None else h


def kl_divergence(p, q, base: float | None = None) -> float:
    r"""Kullback-Leibler divergence :math:`KL(p \,\|\, q) = \sum_v p(v) \log(p(v)/q(v))`
    (:math:`\int p \log(p/q)` for densities): how much worse q codes data drawn from p.

    Parameters
    ----------
    p : Empirical, array-like, Fit, or (family, params)
        The reference distribution: an empirical distribution, a probability vector, a fitted
        model (``mk.fit(...)``) or a family with parameter values.
    q : array-like, Fit, or (family, params)
        The approximating distribution: a probability vector as long as p's, or a model. For
        an empirical p, the model's probability of each observed value (discrete data; for
        continuous data the divergence from a sample is infinite: compare cross-entropies,
        ``fit.cross_entropy``). Two continuous families: by the trapezoid rule on a grid mapped
        far into the tails; two discrete families: summed over the support up to a tail mass
        below 1e-17.
    base : float, optional
        The logarithm's base (default e).

    Examples
    --------
    >>> import mlekit as mk
    >>> kl = mk.kl_divergence((mk.Normal(), {"mean": 0.0, "sd": 1.0}),
    ...                       (mk.Normal(), {"mean": 1.0, "sd": 1.0}))
    >>> round(kl, 10)  # (mu1 - mu2)^2 / (2 sd^2)
    0.5
    """
    p_model, q_model = _as_model(p), _as_model(q)
    if p_model is None:
        probs, values = _probabilities(p, "p"), _support_values(p)
        if q_model is not None:
            family, params = q_model
            if values is None:
                raise ModelError("p is a probability vector without values: give q as a "
                                 "probability vector too, or p as mk.empirical(data).")
            if not family.support.integer or not np.all(values == np.round(values)):
                raise ModelError(
                    f"KL(empirical || {family.name}) is infinite for continuous data (the "
                    "sample puts mass on points, the model density on none); compare models by "
                    "their cross-entropy (fit.cross_entropy = -loglik / n) instead.")
            log_q = np.asarray(family.logpdf(jnp.asarray(values), params), dtype=float)
        else:
            log_q = np.log(_probabilities(q, "q"))
            if log_q.shape != probs.shape:
                raise ModelError(f"p has {probs.size} probabilities and q {log_q.size}: give "
                                 "them over the same outcomes.")
        kl = _kl_sum(probs, log_q)
    elif q_model is None:
        raise ModelError("q must be a model too, (family, params) or a fit, when p is one.")
    else:
        kl = _kl_models(p_model, q_model)
    return kl / math.log(base) if base is not None else kl


def decomposition(fit) -> dict | None:
    r"""For a fit of a discrete univariate family to data in memory: its cross-entropy
    :math:`-\ell/n` and, computed apart, the data's entropy :math:`H(\hat p)` and
    :math:`KL(\hat p \,\|\, p_{\hat\theta})`, whose sum it is. None where it does not apply."""
    ctx = fit._context
    model = getattr(ctx, "model", None)
    support = getattr(model, "support", None)
    if (ctx is None or support is None or not support.integer or getattr(model, "event_ndim", 0)
            or not isinstance(ctx.x, np.ndarray) or ctx.x.ndim != 1
            or any(v is None for v in fit.params.values())):
        return None
    data = empirical(ctx.x, ctx.objective.weights)
    params = {k: np.asarray(v, dtype=float) for k, v in fit.params.items()}
    return {"cross_entropy": fit.cross_entropy, "entropy": entropy(data),
            "kl": kl_divergence(data, (model, params))}


def _as_model(d):
    """(family, params) of a fit or a (family, params) pair, else None."""
    if hasattr(d, "_context") and hasattr(d, "params"):
        model = d._context.model if d._context is not None else None
        if model is None or any(v is None for v in d.params.values()):
            raise ModelError("the fit has no estimates (see its diagnostics): no distribution.")
        return model, {k: np.asarray(v, dtype=float) for k, v in d.params.items()}
    if isinstance(d, tuple) and len(d) == 2 and isinstance(d[1], Mapping):
        family, params = d
        if not hasattr(family, "logpdf") or not hasattr(family, "support"):
            raise ModelError(f"{family!r} is not a family; give (mk.Normal(), {{...}}).")
        return family, {k: np.asarray(v, dtype=float) for k, v in params.items()}
    return None


def _support_values(p):
    return p.values if isinstance(p, Empirical) else None


def _probabilities(p, name: str) -> np.ndarray:
    probs = p.probs if isinstance(p, Empirical) else np.asarray(p, dtype=float).ravel()
    if probs.size == 0 or np.any(~np.isfinite(probs)) or np.any(probs < 0):
        raise ModelError(f"{name} must be probabilities (finite, >= 0); got {p!r}.")
    if abs(float(probs.sum()) - 1.0) > 1e-9:
        raise ModelError(f"{name}'s probabilities sum to {float(probs.sum())!r}, not 1; "
                         "normalize them, or pass mk.empirical(data).")
    return probs


def _kl_sum(probs: np.ndarray, log_q: np.ndarray) -> float:
    on = probs > 0
    if np.any(np.isneginf(log_q[on])):
        return math.inf  # q gives probability 0 to an outcome p gives some
    return float(np.sum(probs[on] * (np.log(probs[on]) - log_q[on])))


def _kl_models(p_model, q_model) -> float:
    (fp, pp), (fq, pq) = p_model, q_model
    if bool(fp.support.integer) != bool(fq.support.integer):
        raise ModelError(f"{fp.name} and {fq.name}: a probability mass and a density have no "
                         "KL divergence between them.")
    if fp.support.integer:
        from ._inference.covariances import support_points

        k = support_points(fp, pp)
        if k is None:
            raise ModelError(f"{fp.name}'s support at these parameters is too wide to sum "
                             "over (more than 4 million points).")
        log_p = np.asarray(fp.logpdf(jnp.asarray(k), pp), dtype=float)
        return _kl_sum(np.exp(log_p), np.asarray(fq.logpdf(jnp.asarray(k), pq), dtype=float))
    from ._study import _quadrature_grid

    draws = np.asarray(fp.sample(pp, 20_000, np.random.default_rng(0)), dtype=float)
    grid, dx = _quadrature_grid(fp.support, draws)
    log_p = np.asarray(fp.logpdf(jnp.asarray(grid), pp), dtype=float)
    log_q = np.asarray(fq.logpdf(jnp.asarray(grid), pq), dtype=float)
    mass = np.exp(log_p) * dx
    on = mass > 0
    if np.any(np.isneginf(log_q[on])):
        return math.inf
    return float(np.sum(mass[on] * (log_p[on] - log_q[on])))
