r"""First-order maximizers for models with many parameters: full-batch L-BFGS and minibatch
Adam (both from optax), on the same unconstrained coordinates ``u`` as Newton.

Newton needs the k x k Hessian at every step: for a neural network with thousands of weights
that is the whole cost. These methods need only gradients. Both minimize the negative
log-likelihood (plus the negative log-prior of a MAP fit) per observation,

.. math:: f(u) = -\frac{1}{n}\Big(\sum_i w_i \log p(x_i \mid \theta(u)) + \log \pi(\theta(u))\Big),

and hand back a :class:`NewtonResult` evaluated once at the end on all the data: the
log-likelihood, the score and (for k <= :data:`HESSIAN_MAX_K`) the exact Hessian, from which
the fit's standard errors come. The verdict is the engine's own: converged only where the
Newton decrement (twice the log-likelihood still to gain) is ~0 and the Hessian is negative
definite; without a Hessian (k > HESSIAN_MAX_K), where the score is ~0.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import DataError, ModelError
from .newton import NewtonResult, Status, newton_decrement

METHODS = ("newton", "lbfgs", "adam")
#: above this many free parameters no Hessian is computed (2000 x 2000: 32 MB and a costly
#: eigendecomposition); the fit then has no standard errors, and a note says so
HESSIAN_MAX_K = 2000
#: L-BFGS stops when max |score| / n falls below this ...
SCORE_TOL = 1e-12
#: ... or when the log-likelihood changes by less than this, relative, in STILL_ITERATIONS
#: iterations in a row (one tiny change is often the line search at float64's resolution of
#: the value, after which the curvature conditions still make progress: logistic regression
#: estimates went from 3e-8 to 5e-10 relative of Newton's by not stopping at the first)
RELATIVE_TOL = 1e-12
STILL_ITERATIONS = 3
#: converged: the Newton decrement (twice the log-likelihood still to gain) below this times
#: max(1, 1e-6 |loglik|): within ~1e-4 standard errors of the maximum
DECREMENT_TOL = 1e-8
#: converged without a Hessian (k > HESSIAN_MAX_K): max |score| / n below this
SCORE_REPORT_TOL = 1e-6
ADAM_DEFAULTS = {"batch_size": 128, "epochs": 100, "learning_rate": 1e-3}


@dataclass(frozen=True)
class FirstOrder:
    """The checked options of ``mk.fit(..., method="lbfgs" | "adam")``."""

    method: str
    batch_size: int | None = None
    epochs: int | None = None
    learning_rate: float | None = None
    seed: int = 0
    validation: np.ndarray | None = None
    patience: int | None = None
    progress: Callable | None = None


def check_method(method, *, batch_size=None, epochs=None, learning_rate=None, seed=0,
                 validation=None, patience=None, progress=None, event_ndim: int = 0
                 ) -> FirstOrder | None:
    """Validate ``method=`` and its options: None for Newton (the default), else the
    :class:`FirstOrder` options, with the held-out data read and checked."""
    if method not in METHODS:
        raise ModelError(f"method={method!r} is not a method; use 'newton' (exact Hessian, the "
                         "default), 'lbfgs' (full-batch, many parameters) or 'adam' (minibatches, "
                         "very many parameters or observations).")
    given = {"batch_size": batch_size, "epochs": epochs, "learning_rate": learning_rate,
             "validation": validation, "patience": patience, "progress": progress}
    only_adam = ("batch_size", "epochs", "learning_rate", "validation", "patience")
    allowed = {"newton": (), "lbfgs": ("progress",), "adam": (*only_adam, "progress")}[method]
    for name, value in given.items():
        if value is not None and name not in allowed:
            users = "method='adam'" if name in only_adam else "method='lbfgs' or 'adam'"
            raise ModelError(f"{name}={_short(value)} does not apply to method={method!r}: it is "
                             f"an option of {users}; drop it or pass {users}.")
    if method == "newton":
        return None
    for name in ("batch_size", "epochs", "patience"):
        value = given[name]
        if value is not None and not (isinstance(value, int | np.integer)
                                      and not isinstance(value, bool) and value >= 1):
            raise ModelError(f"{name}={value!r} must be a positive integer, e.g. "
                             f"{ {'batch_size': 128, 'epochs': 100, 'patience': 5}[name]}.")
    if learning_rate is not None and not (
            isinstance(learning_rate, int | float | np.floating) and not isinstance(
                learning_rate, bool) and np.isfinite(learning_rate) and learning_rate > 0):
        raise ModelError(f"learning_rate={learning_rate!r} must be a positive number, e.g. 1e-3.")
    if not (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        raise ModelError(f"seed={seed!r} must be an integer.")
    if patience is not None and validation is None:
        raise ModelError(f"patience={patience} stops on the held-out log-likelihood: pass "
                         "validation= (held-out data in the same form as the data) with it.")
    if progress is not None and progress is not True and progress is not False \
            and not callable(progress):
        raise ModelError(f"progress={_short(progress)} must be True (a line per epoch on "
                         "stderr) or a callable progress(epoch, loglik, heldout).")
    held_out = None
    if validation is not None:
        from .._data import check_range, observe

        held_out = observe(validation, "validation", ndim=1 + event_ndim)[0]
        check_range(held_out, "validation")
    defaults = ADAM_DEFAULTS if method == "adam" else {}
    return FirstOrder(
        method,
        batch_size=None if batch_size is None and not defaults
        else int(batch_size or defaults["batch_size"]),
        epochs=None if not defaults else int(epochs or defaults["epochs"]),
        learning_rate=None if not defaults else float(learning_rate or defaults["learning_rate"]),
        seed=int(seed), validation=held_out, patience=None if patience is None else int(patience),
        progress=_stderr_progress(method) if progress is True else (progress or None))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"<{type(value).__name__}>"


def _stderr_progress(method: str) -> Callable:
    """progress(epoch, loglik, heldout) writing one line to stderr."""
    what = "epoch" if method == "adam" else "iteration"

    def progress(epoch, loglik, heldout):
        tail = "" if heldout is None else f"  held-out loglik {heldout:.6g}"
        print(f"{method} {what} {epoch}: loglik {loglik:.6g}{tail}", file=sys.stderr)

    return progress


# -- the compiled programs ----------------------------------------------------------------------
# module-level and keyed on (model, layout, prior kinds, optimizer): one program per model
# structure; the optimizers come from lru-cached factories so that equal settings hit the cache

@functools.cache
def _lbfgs():
    import optax

    return optax.lbfgs()


@functools.lru_cache(maxsize=32)
def _adam(learning_rate: float):
    import optax

    return optax.adam(learning_rate)


def _log_prior(theta, args, kinds):
    return sum((jnp.sum(kind.log_density(theta[name], *args[name])) for name, kind in kinds),
               jnp.zeros(()))


def _loglik(u, fixed, x, w, args, model, layout, kinds):
    """sum_i w_i log p(x_i | theta(u)) and the log-prior (traceable)."""
    theta = layout.unpack(u, fixed)
    return jnp.sum(w * model.logpdf(x, theta)), _log_prior(theta, args, kinds)


@partial(jax.jit, static_argnames=("model", "layout", "kinds"))
def _value_and_grad(u, fixed, x, w, args, model, layout, kinds):
    """(loglik + log-prior, its gradient) on all the data."""
    return jax.value_and_grad(lambda v: sum(_loglik(v, fixed, x, w, args, model, layout,
                                                    kinds)))(u)


@partial(jax.jit, static_argnames=("model", "layout"))
def _total(u, fixed, x, model, layout):
    """The log-likelihood of (held-out) data, unweighted."""
    return jnp.sum(model.logpdf(x, layout.unpack(u, fixed)))


@partial(jax.jit, static_argnames=("model", "layout", "kinds", "opt"))
def _lbfgs_step(u, state, fixed, x, w, args, scale, model, layout, kinds, opt):
    import optax

    def loss(v):
        return -sum(_loglik(v, fixed, x, w, args, model, layout, kinds)) * scale

    value, grad = optax.value_and_grad_from_state(loss)(u, state=state)
    updates, state = opt.update(grad, state, u, value=value, grad=grad, value_fn=loss)
    return optax.apply_updates(u, updates), state, value, grad


@partial(jax.jit, static_argnames=("model", "layout", "kinds", "opt"))
def _adam_step(u, state, idx, mask, fixed, x, w, args, data_scale, prior_scale, model, layout,
               kinds, opt):
    import optax

    xb, wb = x[idx], w[idx] * mask

    def loss(v):
        ll, lp = _loglik(v, fixed, xb, wb, args, model, layout, kinds)
        return -(ll * data_scale + lp * prior_scale)

    value, grad = jax.value_and_grad(loss)(u)
    updates, state = opt.update(grad, state, u)
    return optax.apply_updates(u, updates), state, value


# -- the maximizers -----------------------------------------------------------------------------

@dataclass
class _Problem:
    """The objective's pieces as device arrays, shared by the steps."""

    objective: object
    fixed: dict
    x: jax.Array
    w: jax.Array
    args: dict
    kinds: tuple
    count: float

    @classmethod
    def of(cls, objective):
        prior = objective.prior
        w = objective.weights
        return cls(objective, {k: jnp.asarray(v) for k, v in objective.fixed.items()},
                   jnp.asarray(objective.x, dtype=jnp.float64),
                   jnp.ones(objective.n) if w is None else jnp.asarray(w, dtype=jnp.float64),
                   {} if prior is None else prior.args, () if prior is None else prior.kinds,
                   objective.count)

    def loglik_and_score(self, u) -> tuple[float, np.ndarray]:
        ob = self.objective
        value, grad = _value_and_grad(jnp.asarray(u), self.fixed, self.x, self.w, self.args,
                                      ob.model, ob.layout, self.kinds)
        return float(value), np.asarray(grad, dtype=float)


def maximize_first_order(objective, u0: np.ndarray, maxiter: int, options: FirstOrder
                         ) -> NewtonResult:
    """Maximize ``objective`` from ``u0`` by ``options.method``; the result is evaluated once
    at the end on all the data (with the Hessian where k <= HESSIAN_MAX_K). ``hess`` is None
    where it was skipped."""
    problem = _Problem.of(objective)
    u0 = np.asarray(u0, dtype=np.float64)
    ll0, g0 = problem.loglik_and_score(u0)
    if not (np.isfinite(ll0) and np.all(np.isfinite(g0))):
        return NewtonResult(u0, ll0, g0, np.full((u0.size, u0.size), np.nan), 0,
                            Status.NONFINITE, "the log-likelihood or its gradient is not finite "
                            "at the start", np.inf)
    if options.method == "lbfgs":
        u, iterations, status, message = _run_lbfgs(problem, u0, maxiter, options.progress)
    else:
        u, iterations, status, message = _run_adam(problem, u0, options)
    return _verdict(problem, u, iterations, status, message)


def _run_lbfgs(problem: _Problem, u, maxiter: int, progress):
    ob, opt = problem.objective, _lbfgs()
    state, previous, still = opt.init(jnp.asarray(u)), None, 0
    u = jnp.asarray(u)
    scale = 1.0 / problem.count
    for it in range(maxiter):
        new, new_state, value, grad = _lbfgs_step(u, state, problem.fixed, problem.x, problem.w,
                                                  problem.args, scale, ob.model, ob.layout,
                                                  problem.kinds, opt)
        value = float(value)  # the loss at u (before this step)
        if progress is not None:
            progress(it, -value * problem.count, None)
        if float(jnp.max(jnp.abs(grad))) < SCORE_TOL:
            return np.asarray(u), it, Status.CONVERGED, f"L-BFGS: score ~ 0 after {it} iterations"
        flat = previous is not None and abs(previous - value) <= RELATIVE_TOL * abs(value)
        still = still + 1 if flat else 0
        if still >= STILL_ITERATIONS:
            return (np.asarray(u), it, Status.CONVERGED,
                    f"L-BFGS: the log-likelihood stopped changing after {it} iterations")
        if not bool(jnp.all(jnp.isfinite(new))):
            return (np.asarray(u), it, Status.STALLED,
                    f"L-BFGS stalled after {it} iterations: the line search left the region "
                    "where the log-likelihood is finite")
        u, state, previous = new, new_state, value
    return (np.asarray(u), maxiter, Status.MAX_ITERATIONS,
            f"L-BFGS stopped after maxiter={maxiter} iterations")


def _batches(n: int, size: int, rng: np.random.Generator):
    """One epoch's minibatches: (indices, mask) of fixed shape (size,), the rows in the order
    of ``rng.permutation(n)``; the last partial batch padded with row 0 at weight 0."""
    order = rng.permutation(n)
    pad = -n % size
    idx = np.concatenate([order, np.zeros(pad, dtype=order.dtype)]).reshape(-1, size)
    mask = np.concatenate([np.ones(n), np.zeros(pad)]).reshape(-1, size)
    return idx, mask


def _run_adam(problem: _Problem, u, options: FirstOrder):
    ob = problem.objective
    opt = _adam(options.learning_rate)
    n, size = ob.n, min(options.batch_size, ob.n)
    data_scale, prior_scale = n / (size * problem.count), 1.0 / problem.count
    rng = np.random.default_rng(options.seed)
    held = None if options.validation is None else jnp.asarray(options.validation,
                                                              dtype=jnp.float64)
    if held is not None:
        _check_held_out(problem, u, options.validation)
    u = jnp.asarray(u)
    state = opt.init(u)
    best = (-np.inf, u, 0)  # (held-out loglik, parameters, epoch)
    waited, epoch = 0, 0
    for epoch in range(1, options.epochs + 1):
        idx, mask = _batches(n, size, rng)
        losses = []
        for i in range(idx.shape[0]):
            u, state, value = _adam_step(u, state, idx[i], mask[i], problem.fixed, problem.x,
                                         problem.w, problem.args, data_scale, prior_scale,
                                         ob.model, ob.layout, problem.kinds, opt)
            losses.append(value)
        loglik = -float(jnp.mean(jnp.stack(losses))) * problem.count
        heldout = None
        if held is not None:
            heldout = float(_total(u, problem.fixed, held, ob.model, ob.layout))
            if np.isfinite(heldout) and heldout > best[0]:
                best, waited = (heldout, u, epoch), 0
            else:
                waited += 1
        if options.progress is not None:
            options.progress(epoch, loglik, heldout)
        if not bool(jnp.all(jnp.isfinite(u))):
            return (np.asarray(best[1]), epoch, Status.NONFINITE,
                    f"Adam diverged in epoch {epoch} (non-finite parameters): lower "
                    f"learning_rate={options.learning_rate:g}")
        if options.patience is not None and waited >= options.patience:
            break
    if held is None:
        return (np.asarray(u), epoch, Status.MAX_ITERATIONS,
                f"Adam stopped after epochs={epoch} (a fixed number of passes)")
    m = options.validation.shape[0]
    why = (f"stopped early after {epoch} epochs ({options.patience} without a held-out gain)"
           if epoch < options.epochs else f"stopped after epochs={epoch}")
    return (np.asarray(best[1]), epoch, Status.MAX_ITERATIONS,
            f"Adam {why}; kept epoch {best[2]}, best held-out loglik {best[0]:.10g} "
            f"({best[0] / m:.6g} per held-out observation)")


def _check_held_out(problem: _Problem, u, held: np.ndarray) -> None:
    """Every held-out row has a finite log-density at the start."""
    ob = problem.objective
    per_row = np.asarray(jax.vmap(lambda row: _total(
        jnp.asarray(u), problem.fixed, row[None], ob.model, ob.layout))(jnp.asarray(held)))
    bad = ~np.isfinite(per_row)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"validation[{i}] has log-density {per_row[i]} under {ob.model.name} at "
                        "the start values; held-out rows must be in the same form as the data "
                        "and inside the model's support.")


def _verdict(problem: _Problem, u: np.ndarray, iterations: int, status: Status, message: str
             ) -> NewtonResult:
    """The result at ``u`` on all the data, judged by the engine's test (decrement ~0 and
    Hessian negative definite; the score alone where the Hessian is skipped)."""
    ob = problem.objective
    if ob.layout.k <= HESSIAN_MAX_K:
        ll, g, h = ob(u)
        finite = np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
        dec, definite = newton_decrement(g, h) if finite else (np.inf, False)
        passed = definite and dec <= DECREMENT_TOL * max(1.0, 1e-6 * abs(ll))
        test = "score ~ 0 and Hessian negative definite"
    else:
        ll, g = problem.loglik_and_score(u)
        h, dec = None, np.inf
        finite = np.isfinite(ll) and np.all(np.isfinite(g))
        passed = finite and float(np.max(np.abs(g))) / problem.count <= SCORE_REPORT_TOL
        test = "score ~ 0 (the Hessian was not computed: too many parameters)"
    if passed:
        status, message = Status.CONVERGED, f"{message}; verified: {test}"
    elif status is Status.CONVERGED:
        status = Status.STALLED
        message = (f"{message}, but the convergence test fails there (max |score|/n = "
                   f"{float(np.max(np.abs(g))) / problem.count:.3g}); not a verified maximum")
    else:
        message = (f"{message}; not a verified maximum (max |score|/n = "
                   f"{float(np.max(np.abs(g))) / problem.count:.3g})")
    return NewtonResult(np.asarray(u, dtype=float), float(ll), np.asarray(g, dtype=float), h,
                        iterations, status, message, float(dec))


# -- the result ---------------------------------------------------------------------------------

def skipped_note(k: int):
    """The note of a fit whose Hessian was not computed."""
    from .._diagnostics import Diagnostic

    return Diagnostic(
        "standard_errors_skipped", "note",
        f"the model has k={k} free parameters, more than {HESSIAN_MAX_K}: the {k} x {k} Hessian "
        "was not computed, so there are no standard errors, covariance or Wald intervals, and "
        "convergence was judged by the score alone",
        "for uncertainty use a held-out log-likelihood, a bootstrap of the whole procedure, or "
        "fix most parameters (fixed={...}) and refit the rest with method='newton'")


def assemble_without_hessian(model, layout, objective, result: NewtonResult, fixed: dict,
                             boundary: dict):
    """The :class:`Fit` of a first-order run with k > HESSIAN_MAX_K: estimates, the full-data
    log-likelihood, no standard errors, and a note saying why."""
    from .._diagnostics import Diagnostic
    from .._params import plain_value
    from .._result import Fit

    natural, _ = objective.natural(result.u)
    params = {**natural, **fixed, **boundary}
    names = tuple(n for n in model.params if n in natural or n in boundary)
    found = (skipped_note(layout.k),)
    converged = result.status is Status.CONVERGED
    if not converged:
        found = (Diagnostic("iteration_limit", "error", result.message, _remedy()),) + found
    loglik, log_posterior = float(result.loglik), None
    if objective.prior is not None:
        log_posterior = loglik
        loglik -= objective.prior.value(result.u, objective.fixed)
    count = objective.count
    return Fit(
        model_name=model.name,
        params={n: plain_value(params[n]) for n in model.params},
        se=dict.fromkeys(names),
        cov=None,
        param_names=names,
        loglik=loglik,
        log_posterior=log_posterior,
        n=int(round(count)) if abs(count - round(count)) < 1e-9 * max(1.0, count) else count,
        k=layout.k + sum(int(np.size(v)) for v in boundary.values()),
        converged=converged,
        message=result.message,
        iterations=result.iterations,
        _found=found,
        fixed={n: plain_value(v) for n, v in fixed.items()},
        score_max=float(np.max(np.abs(result.grad)) / count) if result.grad.size else 0.0,
        _shapes={n: model.params[n].shape for n in names},
    )


def _remedy() -> str:
    return ("run more epochs= (or a larger maxiter= for L-BFGS), or finish from these estimates "
            "with method='lbfgs' / 'newton' and start=fit.params")


def revise(fit, options: FirstOrder):
    """A first-order fit's diagnostics: the iteration limit's remedy speaks of epochs."""
    found = tuple(dataclasses.replace(d, remedy=_remedy()) if d.code == "iteration_limit" else d
                  for d in fit._found)
    return dataclasses.replace(fit, _found=found)
