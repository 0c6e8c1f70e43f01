"""The batched pass of :func:`mlekit.fit_many`: the checks of ``Model.prepare`` vectorized over
the members, starts by the model's rule, one batched Newton run per block of members (from
sufficient statistics where the family has them, else over the padded data with weight 0 on
padding), and standard errors from each member's Hessian at its maximum.

It returns None where it does not apply (see :func:`fast_fits`); members it cannot settle are
marked, and the caller fits them alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import numpy as np

from ._data import batches_on_threads, check_range
from ._diagnostics import CONDITION_LIMIT, WEAK_CURVATURE
from ._errors import MlekitError
from ._model import Model
from ._optimize import batched
from ._optimize.objective import Layout
from ._params import flat_labels

#: a standard error this many times the estimate (or 1) marks a nearly flat likelihood
FLAT_SE = 10.0
#: at most this many values (members x padded length) per block: the memory of a block
BLOCK_VALUES = 1 << 24


@dataclass(frozen=True)
class FastFits:
    labels: tuple[str, ...]
    settled: np.ndarray
    params: np.ndarray
    se: np.ndarray
    loglik: np.ndarray
    iterations: np.ndarray
    n: np.ndarray


def applies(model: Model, members: list) -> bool:
    """The batched pass covers plain univariate samples of models whose data checks are the
    base ones (support, size, spread): no order-statistic or non-smooth parameters, no data-
    dependent reshaping, no design."""
    t = type(model)
    return (model.event_ndim == 0 and not model.presolved
            and not getattr(model, "nonsmooth", ())
            # a family with statistics is checked by them, as mk.fit does; others by the base
            # rules, which the batch repeats
            and (model.sufficient or t.prepare is Model.prepare)
            and t.check_existence is Model.check_existence and t.basis is Model.basis
            and all(isinstance(m, (np.ndarray, list, tuple)) for m in members))


def fast_fits(model: Model, members: list, fixed: dict, start: dict, maxiter: int,
              report=None) -> FastFits | None:
    if not members or not applies(model, members):
        return None
    try:
        arrays = [np.asarray(m, dtype=float).ravel() for m in members]
    except (TypeError, ValueError):
        return None
    fixed = {k: np.asarray(v, dtype=float) for k, v in fixed.items()}
    if set(fixed) - set(model.params) or set(start) - set(model.params) or \
            all(n in fixed for n in model.params):
        return None  # the single fits give the precise error
    layout = Layout.of(model, fixed)
    labels = tuple(flat_labels(layout.names, dict(zip(layout.names, layout.shapes,
                                                      strict=True))))
    size = len(arrays)
    lengths = np.array([a.size for a in arrays])
    stats_model = model.sufficient
    proven = {}
    if stats_model:  # the statistics prove a member's data valid, as in mk.fit
        from ._fit import _proven_stats

        for i, a in enumerate(arrays):
            found = _proven_stats(model, a) if a.size else None
            if found is not None:
                proven[i] = np.asarray(found, dtype=float)
        valid = np.array([i in proven for i in range(len(arrays))], dtype=bool)
    else:
        valid = _valid(model, arrays)
    out_u = np.zeros((size, layout.k))
    loglik = np.full(size, np.nan)
    status = np.full(size, batched.SKIPPED)
    iterations = np.zeros(size, dtype=int)
    hess = np.zeros((size, layout.k, layout.k))
    order = np.argsort(lengths, kind="stable")  # similar lengths share a padded block
    blocks = list(_blocks(order[valid[order]], lengths))

    def run(block):
        xs = [arrays[i] for i in block]
        stats = np.stack([proven[i] for i in block]) if stats_model else None
        u0 = _starts_of_rows(model, layout, start, xs) if stats is None else None
        if u0 is None:
            u0 = np.stack([_start_u(model, layout, fixed, start, x,
                                    None if stats is None else stats[j])
                           for j, x in enumerate(xs)])
        # padded to a power of two of members: one compiled shape serves many blocks
        width = _width(len(block))
        members = np.arange(width) < len(block)
        u0 = np.concatenate([u0, np.repeat(u0[:1], width - len(block), axis=0)])
        derivs = _derivs(model, layout, fixed, xs + xs[:1] * (width - len(block)),
                         None if stats is None else np.concatenate(
                             [stats, np.repeat(stats[:1], width - len(block), axis=0)]))
        result = batched.maximize_batch(derivs, u0, maxiter=maxiter, members=members)
        m = len(block)
        return (block, result.u[:m], result.loglik[:m], result.status[:m],
                result.iterations[:m], result.hess[:m])

    done = 0
    for block, u, ll, st, it, h in batches_on_threads(run, blocks, "mlekit-many"):
        out_u[block], loglik[block], status[block], iterations[block], hess[block] = \
            u, ll, st, it, h
        done += len(block)
        if report is not None:
            report(done, size)
    params, cov = _natural(layout, fixed, out_u, hess)
    se = np.sqrt(np.maximum(np.diagonal(cov, axis1=1, axis2=2), 0.0))
    settled = ((status == batched.CONVERGED) & np.all(np.isfinite(params), axis=1)
               & np.all(np.isfinite(se), axis=1) & np.all(se > 0, axis=1)
               & np.isfinite(loglik) & _clean(hess, lengths)
               # a likelihood nearly flat along some parameter (a t's df running to infinity)
               # has no point Newton lands on reproducibly: fitted alone, it says so
               & np.all(se <= FLAT_SE * np.maximum(np.abs(params), 1.0), axis=1))
    return FastFits(labels, settled, params, se, loglik, iterations, lengths.astype(float))


def _clean(hess: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Maxima a single fit's diagnostics could not question: every coordinate's curvature
    above the running-off test's threshold, and the scaled information's condition number
    below the ill-conditioning warning's (the others are fitted alone, which runs them)."""
    info = -np.nan_to_num(hess, nan=0.0, posinf=0.0, neginf=0.0)
    diag = np.diagonal(info, axis1=1, axis2=2)
    ok = np.all(diag >= WEAK_CURVATURE * lengths[:, None], axis=1) & np.all(diag > 0, axis=1)
    d = np.sqrt(np.where(diag > 0, diag, 1.0))
    lam = np.linalg.eigvalsh(info / (d[:, :, None] * d[:, None, :]))
    return ok & (lam[:, 0] > 0) & (lam[:, -1] < CONDITION_LIMIT * lam[:, 0])


def _valid(model: Model, arrays: list[np.ndarray]) -> np.ndarray:
    """Members whose data pass mk.fit's own checks (finite, then the model's ``prepare``:
    support, size, spread); the others are fitted alone, which says precisely what is
    wrong."""
    ok = np.zeros(len(arrays), dtype=bool)
    for i, a in enumerate(arrays):
        if not a.size:
            continue
        try:
            model.prepare(a, check_range(a, "data"))
        except MlekitError:
            continue
        ok[i] = True
    return ok


def _blocks(order: np.ndarray, lengths: np.ndarray):
    """Runs of members (in length order) of at most BLOCK_VALUES padded values and
    batched.MAX_BATCH members."""
    i = 0
    while i < order.size:
        take = 1
        while (i + take < order.size and take < batched.MAX_BATCH
               and (take + 1) * batched.padded_length(int(lengths[order[i + take]]))
               <= BLOCK_VALUES):
            take += 1
        yield order[i:i + take]
        i += take


def _start_u(model, layout, fixed, start, x, stats) -> np.ndarray:
    """The member's start in u, by mk.fit's rule (the closed form from its statistics where
    the family has one, else the start rule; ``start`` overrides either)."""
    from ._fit import start_theta

    theta, _ = start_theta(model, layout, fixed, start, stats, x)
    return layout.pack({n: theta[n] for n in layout.names}, fixed)


def _starts_of_rows(model, layout, start, xs: list[np.ndarray]) -> np.ndarray | None:
    """The members' starts in u from the model's vectorized rule, where the block's samples
    share one length and every free parameter is a scalar; else None."""
    if any(shape for shape in layout.shapes) or len({x.shape[0] for x in xs}) != 1:
        return None
    found = model.start_rows(np.stack(xs))
    if found is None:
        return None
    columns = []
    for name, c in zip(layout.names, layout.constraints, strict=True):
        values = np.broadcast_to(np.asarray(start.get(name, found[name]), dtype=float),
                                 (len(xs),))
        columns.append(np.asarray(c.inverse(values), dtype=float))
    return np.column_stack(columns)


def _width(m: int) -> int:
    """Members per compiled batch: a power of two >= batched.MIN_BATCH."""
    return max(batched.MIN_BATCH, 1 << (m - 1).bit_length())


def _derivs(model, layout, fixed, xs: list[np.ndarray], stats: np.ndarray | None):
    held = {k: np.broadcast_to(v, (len(xs), *np.shape(v))) for k, v in fixed.items()}
    if stats is not None:
        return batched.from_stats(model, layout, held, stats)
    return batched.padded(model, layout, held, xs)


def _natural(layout: Layout, fixed: dict, u: np.ndarray, hess: np.ndarray):
    """(natural flat parameters (B, p), their covariance (B, p, p)) from u and the Hessian in
    u: the inverse observed information carried by the Jacobian of u -> theta."""
    held = {k: np.broadcast_to(v, (u.shape[0], *np.shape(v))) for k, v in fixed.items()}
    params, jac = _natural_jacobian(np.asarray(u, dtype=np.float64),
                                    {k: np.asarray(v, dtype=np.float64) for k, v in held.items()},
                                    layout)
    params, jac = np.asarray(params), np.asarray(jac)
    info = -np.asarray(hess)
    finite = np.all(np.isfinite(info), axis=(1, 2))
    definite = np.zeros(u.shape[0], dtype=bool)
    definite[finite] = np.all(np.linalg.eigvalsh(info[finite]) > 0, axis=1)
    cov_u = np.full(info.shape, np.nan)
    cov_u[definite] = np.linalg.inv(info[definite])
    return params, jac @ cov_u @ np.swapaxes(jac, 1, 2)


@partial(jax.jit, static_argnames=("layout",))
def _natural_jacobian(u, held, layout):
    def one(u1, held1):
        f = partial(layout.natural_flat, fixed=held1)
        return f(u1), jax.jacfwd(f)(u1)

    return jax.vmap(one)(u, held)

