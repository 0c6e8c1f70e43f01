"""Multiple starts in one batch (:mod:`mlekit._optimize.multistart`): every local maximum of a
multimodal likelihood is found, starts reaching one maximum are counted once, symmetries merge
through ``canonical``, and the diagnostics say what was found.

The reference maxima are found independently: a dense grid of the log-likelihood in numpy,
each bump refined by brentq on the score.
"""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import mlekit as mk
from mlekit._optimize import batched
from mlekit._optimize.multistart import (
    Optima,
    Optimum,
    dispersed_starts,
    explore,
    optima_diagnostics,
)

X = np.array([-10.0, -9.9, 0.0, 10.0, 10.1])
SCALE = 0.1
STARTS = 50


def context(model, x, **kw):
    return mk.fit(model, x, **kw)._context


@pytest.fixture(scope="module")
def cauchy():
    return context(mk.Cauchy(), X, fixed={"scale": SCALE})


def run(ctx, starts, maxiter=200, canonical=None):
    return explore(ctx.model, ctx.layout, ctx.held, ctx.x, starts, maxiter, canonical,
                   ctx.objective.stats)


def cauchy_maxima(x, s):
    """Every local maximum of the Cauchy location log-likelihood with known scale."""
    def loglik(m):
        return -np.sum(np.log1p(((x[:, None] - m) / s) ** 2), axis=0) - x.size * np.log(np.pi * s)

    def score(m):
        d = x - m
        return np.sum(2 * d / (s * s + d * d))

    grid = np.linspace(x.min() - 1, x.max() + 1, 400_001)
    ll = loglik(grid)
    bumps = np.flatnonzero((ll[1:-1] > ll[:-2]) & (ll[1:-1] > ll[2:])) + 1
    roots = np.array([brentq(score, grid[i - 1], grid[i + 1], xtol=1e-14) for i in bumps])
    return roots, loglik(roots)


@pytest.mark.parametrize(("x", "scale", "maxima"), [
    (X, SCALE, 3),
    (np.array([-7.0, -3.0, 0.0, 2.0, 9.0, 15.0]), 0.5, 6),
    (np.array([-7.0, -3.0, 0.0, 2.0, 9.0, 15.0, 15.3, 40.0]), 0.3, 7),
])
@pytest.mark.parametrize("seed", [1, 2])
def test_cauchy_location_finds_every_local_maximum(x, scale, maxima, seed):
    where, heights = cauchy_maxima(x, scale)
    assert where.size == maxima  # the example is multimodal
    ctx = context(mk.Cauchy(), x, fixed={"scale": scale})
    starts = dispersed_starts(ctx.model, ctx.layout, ctx.held, ctx.x, ctx.u, STARTS, seed=seed)
    optima = run(ctx, starts)
    assert isinstance(optima, Optima) and all(isinstance(o, Optimum) for o in optima)
    found = np.array([o.params["location"] for o in optima])
    assert len(optima) == where.size
    for m, h in zip(where, heights, strict=True):
        i = np.argmin(np.abs(found - m))
        assert abs(found[i] - m) < 1e-6
        assert optima[i].loglik == pytest.approx(h, abs=1e-9)
    assert sum(o.count for o in optima) + optima.failed == STARTS
    lls = [o.loglik for o in optima]
    assert lls == sorted(lls, reverse=True)
    best = optima[0]
    assert best.converged and best.params["scale"] == scale  # held parameters too
    assert list(best.params) == ["location", "scale"]
    assert best.u.shape == (1,)
    json.dumps(best.to_dict())


def test_starts_reaching_one_maximum_are_one_optimum(cauchy):
    optima = run(cauchy, [[0.01], [-0.02]])
    assert len(optima) == 1 and optima[0].count == 2 and optima.failed == 0
    assert optima[0].params["location"] == pytest.approx(cauchy_maxima(X, SCALE)[0][1],
                                                         abs=1e-6)


def test_members_that_do_not_converge_are_counted_apart(cauchy):
    optima = run(cauchy, [[0.0], [30.0], [-40.0]], maxiter=1)
    assert optima.failed == 2 and optima.failures == {"max iterations": 2}
    assert [o.count for o in optima] == [1]


def pair_logpdf(x, p):  # a and b enter symmetrically: (a, b) and (b, a) are one fit
    def comp(m):
        return -0.5 * (x - m) ** 2 - 0.5 * jnp.log(2 * jnp.pi)

    return jnp.logaddexp(comp(p["a"]), comp(p["b"])) - jnp.log(2.0)


PAIR = mk.Model(pair_logpdf, params={"a": mk.Real(init=0.0), "b": mk.Real(init=1.0)})


def sort_pair(p):
    lo, hi = sorted((p["a"], p["b"]))
    return {**p, "a": lo, "b": hi}


def test_canonical_merges_permuted_solutions():
    x = np.concatenate([np.linspace(-3.0, -1.0, 20), np.linspace(2.0, 4.0, 20)])
    ctx = context(PAIR, x)
    starts = np.array([[-2.0, 3.0], [3.0, -2.0], [-1.5, 2.5], [2.5, -1.5]])
    plain = run(ctx, starts)
    assert len(plain) == 2 and [o.count for o in plain] == [2, 2]
    assert plain[0].loglik == pytest.approx(plain[1].loglik, abs=1e-9)
    merged = run(ctx, starts, canonical=sort_pair)
    assert len(merged) == 1 and merged[0].count == 4 and merged.failed == 0
    a, b = merged[0].params["a"], merged[0].params["b"]
    assert a < b and a == pytest.approx(-2.0, abs=0.1) and b == pytest.approx(3.0, abs=0.1)
    # dispersed starts of a model without a data-driven start rule still reach both labellings
    spread = dispersed_starts(ctx.model, ctx.layout, ctx.held, ctx.x, ctx.u, 20, seed=0)
    assert len(run(ctx, spread)) >= 2


def test_dispersed_starts_are_seeded_finite_and_start_at_the_default(cauchy):
    args = (cauchy.model, cauchy.layout, cauchy.held, cauchy.x, cauchy.u)
    a = dispersed_starts(*args, STARTS, seed=7)
    assert a.shape == (STARTS, 1) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a[0], cauchy.u)
    np.testing.assert_array_equal(a, dispersed_starts(*args, STARTS, seed=7))
    assert not np.array_equal(a, dispersed_starts(*args, STARTS, seed=8))
    assert np.ptp(a) > 10  # spread over the data's range


def test_dispersed_starts_keep_the_log_likelihood_finite():
    # Gumbel's start rule on one observation gives a scale of 1e-8, where exp(-z) overflows
    x = np.random.default_rng(3).gumbel(5.0, 2.0, 200)
    ctx = context(mk.Gumbel(), x)
    starts = dispersed_starts(ctx.model, ctx.layout, ctx.held, ctx.x, ctx.u, 30, seed=2)
    ll, g, h = ctx.objective(starts[0])
    for u in starts:
        ll, g, h = ctx.objective(u)
        assert np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    optima = run(ctx, starts)
    assert optima[0].loglik == pytest.approx(mk.fit(mk.Gumbel(), x).loglik, abs=1e-8)


def test_one_compiled_program_per_batch_shape(cauchy):
    starts = dispersed_starts(cauchy.model, cauchy.layout, cauchy.held, cauchy.x, cauchy.u,
                              STARTS, seed=1)
    run(cauchy, starts)
    before = batched.batch_chunk_derivs._cache_size()
    run(cauchy, starts[:40])  # 40 and 50 members: one padded batch of 64
    run(cauchy, starts[::-1])
    assert batched.batch_chunk_derivs._cache_size() == before


def optimum(loglik, location, count):
    return Optimum(loglik, {"location": location, "scale": SCALE}, np.array([location]), count,
                   True)


def test_diagnostics_warn_when_the_best_was_found_by_few_starts():
    optima = (optimum(-25.05, -9.95, 1), optimum(-31.05, 0.0, 45))
    (d,) = optima_diagnostics(optima, 4, 50, ("location",))
    assert d.code == "multiple_optima" and d.severity == "warning"
    assert "2 distinct local maxima" in d.message and "location: -9.95 vs 0" in d.message
    assert "1 of 50" in d.message and "scale" not in d.message.split("differ in")[1]
    assert "starts=" in d.remedy and "fit.optima" in d.remedy


def test_diagnostics_note_when_the_best_was_found_by_most_starts():
    optima = (optimum(-25.05, -9.95, 30), optimum(-31.05, 0.0, 5))
    diags = optima_diagnostics(optima, 15, 50, ("location",))
    assert [(d.code, d.severity) for d in diags] == [("multiple_optima", "note"),
                                                      ("starts_failed", "note")]
    assert "15 of 50 starts" in diags[1].message
    assert optima_diagnostics(optima[:1], 0, 50, ("location",)) == ()
