"""The covariance types of a fit, all from the per-observation log-likelihood.

With ``H`` the Hessian of the log-likelihood and ``s_i`` the score of observation i (both in the
unconstrained coordinates ``u``, mapped to natural units by the Jacobian; at the maximum this is
exact):

- ``observed``: ``(-H)^-1``, the inverse observed information (the default);
- ``expected``: ``I(theta)^-1 / n`` with the per-observation Fisher information
  ``I = E[-d^2 log p(X) / d theta^2]`` — in closed form where the family gives it, an exact sum
  over the support for discrete families (to a tail mass below 1e-17), else by Monte Carlo from
  the family's sampler, with the Monte Carlo error of the standard errors reported;
- ``opg``: ``(sum s_i s_i')^-1``, the outer product of the scores (BHHH);
- ``robust``: the sandwich ``H^-1 (sum s_i s_i') H^-1`` (Huber-White, HC0), valid when the model
  is misspecified (it then estimates the KL-closest member);
- ``cluster``: the sandwich with the scores summed within groups first (CR0).
"""

from __future__ import annotations

import numpy as np

from .._errors import ModelError
from .._optimize.objective import chunk_derivs
from .context import FitContext, rows

KINDS = ("observed", "expected", "opg", "robust", "cluster")

LABELS = {
    "observed": "observed information",
    "expected": "expected (Fisher) information",
    "opg": "outer product of the scores (OPG / BHHH)",
    "robust": "robust sandwich (Huber-White, HC0)",
    "cluster": "cluster-robust sandwich (CR0)",
}

#: Monte Carlo draws for the expected information: batches of one compiled chunk shape (the
#: shape of the round-trip fits at n = 20,000, so tests and users share its compiled program)
MC_BATCHES, MC_BATCH = 8, 1 << 15
#: a discrete support is summed to where the remaining mass is below exp(-40) ~ 4e-18
TAIL_LOG_MASS = -40.0
MAX_SUPPORT = 1 << 22


def check_kind(kind, groups=None) -> str:
    if kind not in KINDS:
        raise ModelError(f"cov={kind!r} is not a covariance type; use one of {KINDS}.")
    if (kind == "cluster") != (groups is not None):
        raise ModelError(
            "cov='cluster' needs groups=... (one label per observation), and groups= is only "
            f"used with cov='cluster'; got cov={kind!r} with groups="
            f"{'given' if groups is not None else 'None'}."
        )
    return kind


def covariance_of(ctx: FitContext, kind: str, groups=None, seed=0
                  ) -> tuple[np.ndarray | None, str]:
    """(covariance over ``ctx.names`` or None where singular, a note for the summary)."""
    check_kind(kind, groups)
    if kind != "observed":
        ctx.likelihood_only(f"cov_as({kind!r})")
    if kind == "observed":
        return ctx.natural_cov(-ctx.hessian()), ""
    if kind == "expected":
        info, note = expected_information(ctx, seed)
        return ctx.natural_cov(ctx.n * info), note
    if kind == "opg":
        return ctx.natural_cov(ctx.objective.score_products(ctx.u)), ""
    if kind == "robust":
        return ctx.natural_cov(-ctx.hessian(), ctx.objective.score_products(ctx.u)), ""
    scores = ctx.objective.scores(ctx.u)
    sums, count = _group_sums(scores, groups, ctx.n)
    return ctx.natural_cov(-ctx.hessian(), sums.T @ sums), f"{count} clusters"


def _group_sums(scores: np.ndarray, groups, n: int) -> tuple[np.ndarray, int]:
    labels = np.asarray(groups.to_numpy() if hasattr(groups, "to_numpy") else groups)
    if labels.shape != (n,):
        raise ModelError(
            f"groups has shape {labels.shape}; it needs one label per observation, shape ({n},)."
        )
    _, index = np.unique(labels, return_inverse=True)
    count = int(index.max()) + 1
    if count < 2:
        raise ModelError("groups has a single cluster; cluster-robust errors need several.")
    sums = np.zeros((count, scores.shape[1]))
    np.add.at(sums, index.reshape(-1), scores)
    return sums, count


# -- the expected information ------------------------------------------------------------------
def expected_information(ctx: FitContext, seed=0) -> tuple[np.ndarray, str]:
    """Per-observation expected information in ``u`` coordinates, and how it was computed."""
    model, params = ctx.model, ctx.params()
    exact = model.expected_information(params)
    if exact is not None:
        return _natural_to_u(ctx, np.asarray(exact, dtype=float)), "closed form"
    if model.event_ndim == 0 and model.support.integer:
        points = _discrete_points(ctx, params)
        if points is not None:
            weights = np.exp(np.asarray(model.logpdf(points, params)))
            return _weighted_info(ctx, points, weights / weights.sum()), (
                f"exact sum over {points.size} support points")
    return _monte_carlo_info(ctx, params, seed)


def _natural_to_u(ctx: FitContext, info_natural: np.ndarray) -> np.ndarray:
    """J' I J: a natural-units information over all declared parameters, restricted to the free
    ones and carried to ``u`` (no score term: the expectation of the score is zero)."""
    shapes = {n: p.shape for n, p in ctx.model.params.items()}
    free = rows(tuple(shapes), shapes, ctx.layout.names)
    _, jac = ctx.objective.natural(ctx.u)
    return jac.T @ info_natural[np.ix_(free, free)] @ jac


def _weighted_info(ctx: FitContext, points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """-sum_j w_j d^2 log p(x_j) / du^2 for points x_j with weights w_j."""
    from .._data import Chunks

    chunks = Chunks.from_array(points)
    total = np.zeros((ctx.layout.k, ctx.layout.k))
    start = 0
    for x, pad in chunks.parts:
        m = int(np.sum(np.asarray(pad)))
        w = np.zeros(pad.shape[0])
        w[:m] = weights[start:start + m]
        start += m
        _, _, hess = chunk_derivs(np.asarray(ctx.u), ctx.objective.fixed, x, w, ctx.model,
                                  ctx.layout)
        total -= np.asarray(hess)
    return total


def _discrete_points(ctx: FitContext, params) -> np.ndarray | None:
    """The support points carrying all but exp(TAIL_LOG_MASS) of the mass, or None where that
    would take more than MAX_SUPPORT points (then Monte Carlo)."""
    return support_points(ctx.model, params, max(64.0, 2.0 * float(np.max(ctx.x))))


def support_points(model, params, upper: float = 64.0) -> np.ndarray | None:
    """A discrete model's support points carrying all but exp(TAIL_LOG_MASS) of its mass at
    ``params`` (an unbounded support searched from ``upper``, doubling), or None where that
    takes more than MAX_SUPPORT points or the model has no survival function."""
    support = model.support
    lower = 0.0 if not np.isfinite(support.lower) else support.lower
    lower = lower + 1 if support.lower_open and np.isfinite(support.lower) else lower
    if np.isfinite(support.upper):
        top = support.upper - (1 if support.upper_open else 0)
        if top - lower + 1 > MAX_SUPPORT:
            return None
        return np.arange(lower, top + 1, dtype=float)
    if not np.isfinite(support.lower):
        return None
    while upper <= MAX_SUPPORT:
        try:
            tail = float(model.logsf(np.asarray(upper), params))
        except NotImplementedError:
            return None
        if tail < TAIL_LOG_MASS:
            return np.arange(lower, upper + 1, dtype=float)
        upper *= 2
    return None


def _monte_carlo_info(ctx: FitContext, params, seed) -> tuple[np.ndarray, str]:
    model = ctx.model
    try:
        draws = [np.asarray(model.sample(params, MC_BATCH, rng=np.random.default_rng([seed, b])),
                            dtype=float) for b in range(MC_BATCHES)]
    except NotImplementedError:
        raise ModelError(
            f"cov='expected' needs the distribution of {model.name} to average over, and it "
            "defines no sampler or closed-form information; use cov='observed' (the default), "
            "'opg' or 'robust'."
        ) from None
    batches = [_weighted_info(ctx, x, np.full(x.shape[0], 1.0 / x.shape[0])) for x in draws]
    info = np.mean(batches, axis=0)
    se_batches = []
    for b in batches:  # the spread of the SEs across batches gives the Monte Carlo error
        cov = ctx.natural_cov(ctx.n * b)
        if cov is not None:
            se_batches.append(np.sqrt(np.maximum(np.diag(cov), 0.0)))
    note = f"Monte Carlo, {MC_BATCHES * MC_BATCH} draws"
    if len(se_batches) == MC_BATCHES:
        se = np.array(se_batches)
        kept = se.mean(axis=0) > 0  # presolved parameters' rows are exactly zero
        rel = float(np.max(se[:, kept].std(axis=0, ddof=1) / np.sqrt(MC_BATCHES)
                           / se[:, kept].mean(axis=0))) if kept.any() else np.nan
        if np.isfinite(rel):
            note += f"; Monte Carlo relative error of the standard errors <= {rel:.1e}"
    return info, note
