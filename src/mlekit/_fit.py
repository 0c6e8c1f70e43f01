"""``mk.fit``: validate, reduce, maximize, then infer and diagnose — in that order."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from ._censored import Censored, CensoredModel
from ._data import check_range, has_spread, observe
from ._diagnostics import (
    Diagnostic,
    boundary_diagnostic,
    convergence_diagnostics,
    coordinate_labels,
    identification,
    nonregular_diagnostic,
    running_off,
    small_sample_diagnostic,
)
from ._errors import BoundaryEstimate, DataError, FitError, ModelError, NoEstimate
from ._families import family as family_by_name
from ._families.base import Family
from ._inference.context import FitContext
from ._inference.covariances import check_kind
from ._inference.misspecification import misspecification_diagnostic
from ._model import Model
from ._optimize import BASIS, Layout, Objective, Status, maximize
from ._optimize.first_order import (
    assemble_without_hessian,
    check_method,
    maximize_first_order,
    revise,
)
from ._optimize.prior import LogPrior
from ._params import plain_value as _plain
from ._params import readonly_array as _readonly
from ._priors_check import check_priors
from ._result import Fit, _se_of

#: start values are computed from a strided subsample of at most this many observations
START_SAMPLE = 1 << 15


def fit(
    model: Model | str,
    data,
    *,
    fixed: Mapping[str, float] | None = None,
    start: Mapping[str, float] | None = None,
    maxiter: int = 200,
    cov: str = "observed",
    groups=None,
    starts: int | Sequence[Mapping[str, float]] | None = None,
    seed: int = 0,
    strict: bool = False,
    prior: Mapping[str, object] | None = None,
    penalty=None,
    weights=None,
    method: str = "newton",
    batch_size: int | None = None,
    epochs: int | None = None,
    learning_rate: float | None = None,
    validation=None,
    patience: int | None = None,
    progress=None,
) -> Fit:
    r"""Fit ``model`` to ``data`` by maximum likelihood.

    Finds :math:`\hat\theta = \arg\max_\theta \sum_i \log p(x_i \mid \theta)` by Newton's
    method with exact derivatives (or a closed form, verified to have score ~0), and returns
    estimates with standard errors from the observed Fisher information
    :math:`I(\hat\theta) = -\nabla^2 \ell(\hat\theta)`.

    Parameters
    ----------
    model : Model or str
        A family (``mk.Gamma()``), its name (``"gamma"``), or a user model (``mk.Model``).
    data : array-like
        One-dimensional observations (list, numpy array, pandas Series).
    fixed : dict, optional
        Parameters held at given values (not estimated; not counted in ``k``).
    start : dict, optional
        Start values in natural units; by default moment estimates or a closed form.
    maxiter : int
        Newton iteration cap.
    cov : {"observed", "expected", "opg", "robust", "cluster"}
        The covariance behind ``se`` and Wald intervals (see :meth:`Fit.cov_as`).
    groups : array-like, optional
        One cluster label per observation, for ``cov="cluster"``.
    starts : int or list of dict, optional
        Search for other local maxima: ``starts=N`` runs N Newton maximizations from dispersed
        points (the default start, and the model's start rule on random subsamples, jittered)
        in one vectorized batch; a list gives the start values (natural units, like
        ``start=``) to run besides the default. The fit reports the best maximum;
        ``fit.optima`` lists every distinct one (log-likelihood, parameters, how many starts
        reached it) and a ``multiple_optima`` diagnostic says when there are several.
    seed : int
        Seed of the dispersed starts.
    strict : bool
        Raise :class:`FitError` where there is no valid estimate (an ``error`` diagnostic, or
        no convergence) instead of returning the fit that says so.
    prior : dict, optional
        ``{parameter: mk.priors.Normal(0, 1), ...}``: a maximum a posteriori (MAP) fit, the mode
        of likelihood x prior, with the Laplace approximation (inverse negative Hessian of the
        log-posterior) as its covariance. The key ``"coefficients"`` puts the prior on every
        coefficient of a regression but the intercept. ``mk.priors.Flat()`` gives the MLE.
    penalty : mk.L2, mk.L1 or mk.ElasticNet, optional
        A penalty on a regression's coefficients (shorthand for Normal / Laplace priors,
        without their constants); L1 terms are solved by proximal Newton, with exact zeros.
    weights : array-like, optional
        Frequency weights, one per observation (>= 0): observation i counts ``weights[i]``
        times, so integer weights give the fit of the data with the rows repeated; ``n`` is
        their sum. (Covariances other than the observed one, the bootstrap, the score test and
        multiple starts do not take weights yet, and say so.)
    method : {"newton", "lbfgs", "adam"}
        The maximizer. ``"newton"`` (default): trust-region Newton with the exact Hessian.
        For models with many parameters (a neural network), first-order methods from optax on
        the per-observation negative log-likelihood
        :math:`f(u) = -\frac{1}{n}\sum_i \log p(x_i \mid \theta(u))` in the unconstrained
        coordinates: ``"lbfgs"``, full-batch L-BFGS with a line search (up to ``maxiter``
        iterations); ``"adam"``, minibatch Adam (``epochs`` passes of ``batch_size`` rows,
        shuffled with ``seed``; same seed, same fit). Either way the fit is judged once at the
        end on all the data by the engine's test (score ~0, Hessian negative definite), and
        standard errors come from the exact Hessian there while ``k <= 2000`` (beyond, none:
        a ``standard_errors_skipped`` note). Adam with a fixed number of epochs is reported as
        stopped (``converged`` False, an ``iteration_limit`` diagnostic) unless that test passes.
    batch_size, epochs, learning_rate : int, int, float, optional
        Adam's rows per step (default 128; the last partial batch is padded with zero
        weights), passes over the data (default 100) and step size (default 1e-3).
    validation : array-like, optional
        Adam only: held-out data in the same form as ``data``, scored after every epoch; the
        fit keeps the parameters of the epoch with the best held-out log-likelihood, which the
        message reports.
    patience : int, optional
        Adam with ``validation``: stop after this many epochs without a held-out gain.
    progress : bool or callable, optional
        ``True``: a line per epoch (L-BFGS: per iteration) on stderr; a callable gets
        ``(epoch, loglik, heldout)`` (``loglik`` the epoch's minibatch estimate of the
        log-likelihood, ``heldout`` the held-out log-likelihood or None).

    Returns
    -------
    Fit
        With ``diagnostics``: ``error`` (no valid MLE: ``converged`` is False, and where the
        data admit no MLE at all, ``params`` are None and ``loglik`` is the supremum),
        ``warning`` (the estimate stands, some inference does not), ``note`` (advice).

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Normal(), [2.0, 4.0, 6.0], fixed={"mean": 4.0})
    >>> round(fit.params["sd"] ** 2, 6)  # sum((x - 4)^2) / n
    2.666667
    >>> lbfgs = mk.fit(mk.Gamma(), [1.2, 0.7, 3.1, 2.2, 1.9], method="lbfgs")
    >>> lbfgs.converged
    True
    """
    return fit_with(model, data, fixed=fixed, start=start, maxiter=maxiter, cov=cov,
                    groups=groups, starts=starts, seed=seed, strict=strict, prior=prior,
                    penalty=penalty, weights=weights, method=method, batch_size=batch_size,
                    epochs=epochs, learning_rate=learning_rate, validation=validation,
                    patience=patience, progress=progress)


def fit_with(model, data, *, fixed=None, start=None, maxiter=200, cov="observed", groups=None,
             starts=None, seed=0, strict=False, prior=None, penalty=None, weights=None,
             explain_prior: bool = True, method="newton", batch_size=None, epochs=None,
             learning_rate=None, validation=None, patience=None, progress=None) -> Fit:
    """:func:`fit`, and for callers that fit many times (a penalty's path, cross-validation)
    ``explain_prior=False``: a MAP fit then skips asking the model whether the data alone
    would have a maximum (for a binary GLM an exact separation check, costlier than the fit)."""
    if method != "newton" and (_partitioned(data) or starts is not None or penalty is not None):
        what = ("a partitioned dataset" if _partitioned(data) else
                "starts=" if starts is not None else "penalty=")
        raise ModelError(f"method={method!r} does not take {what} yet: use method='newton' "
                         "(the default), or drop it (a prior= works with both).")
    if _partitioned(data):
        from ._distributed import fit_dataset

        return fit_dataset(model, data, fixed=fixed, start=start, maxiter=maxiter, cov=cov,
                           groups=groups, starts=starts, strict=strict, prior=prior,
                           penalty=penalty, weights=weights)
    model = _resolve_model(model)
    model, data = model.encode(data)
    if validation is not None:  # held-out data in the data's form (a head's pairs: rows)
        validation = model.encode(validation)[1]
    options = check_method(method, batch_size=batch_size, epochs=epochs,
                           learning_rate=learning_rate, seed=seed, validation=validation,
                           patience=patience, progress=progress, event_ndim=model.event_ndim)
    if isinstance(data, Censored):  # the family's likelihood of incomplete observations
        model, data, weights = _censored_model(model, data, weights)
    check_kind(cov, groups)
    if not (isinstance(maxiter, int) and maxiter >= 0):
        raise ModelError(f"maxiter={maxiter!r} must be a non-negative integer, e.g. 200.")
    if not isinstance(strict, bool):
        raise ModelError(f"strict={strict!r} must be True or False.")
    x, lo, hi = observe(data, "data", ndim=1 + model.event_ndim,
                        measure=not model.stats_prove_support or weights is not None)
    weights = _check_weights(weights, x.shape[0])
    on_boundary, found = {}, ()
    # with a prior, data without an interior MLE (a boundary, no estimate) may still have a
    # posterior mode: the likelihood's verdict becomes a note, and the posterior is maximized
    covered = _prior_names(model, prior, penalty)
    without_prior = []

    def signalled(step):
        """``step()``, or None where it signals data without an interior MLE: a signal the
        priors cover becomes a note, a boundary is held there, no estimate at all is raised."""
        nonlocal model, on_boundary, found
        try:
            return step()
        except (BoundaryEstimate, NoEstimate) as err:
            if covered and (isinstance(err, NoEstimate) or set(err.held) <= covered):
                without_prior.append(err)  # a boundary the priors do not reach stays one
            elif isinstance(err, NoEstimate):
                raise
            else:
                model = err.model or model
                on_boundary, found = err.held, (err,)
            return None

    try:
        stats = _proven_stats(model, x) if lo is None else None
        if stats is not None:
            model = model.with_stats(stats)
        else:
            if lo is None:  # the full checks, which raise the precise error
                lo, hi = check_range(x, "data")
            prepared = signalled(lambda: model.prepare(x, (lo, hi)))
            if prepared is not None:
                model, x = prepared
        fixed_values = _check_values(model, fixed, "fixed")
        start_values = _check_values(model, start, "start")
        if all(name in fixed_values for name in model.params):
            raise ModelError("every parameter is fixed; leave at least one free to estimate.")
        priors, shown = check_priors(model, x, prior, penalty, fixed_values)
        signalled(lambda: model.check_existence(x, fixed_values, stats))
        on_boundary = {n: np.asarray(v, dtype=float) for n, v in on_boundary.items()
                       if n not in fixed_values}
        if without_prior and not start:  # the data's own start rule sits at the boundary
            start_values = _prior_starts(priors, without_prior, model)
        search = _check_starts(model, starts, seed)
        if search is not None and weights is not None:
            raise ModelError("starts= does not take weights= yet; pass start={...} instead.")
        if search is not None and priors:
            raise ModelError("starts= searches for maxima of the likelihood; with a prior or "
                             "penalty it is not available yet: pass start={...} instead.")
        out = _fit_checked(model, x, fixed_values, start_values, on_boundary, found, maxiter,
                           stats, search, priors, weights, options)
        if shown:
            out = dataclasses.replace(out, prior=shown)
        if _no_clean_maximum(out) or (priors and out.converged and explain_prior):
            # the model may know why there is no maximum (a GLM: separated data); with a prior
            # the data may have none without it, which the fit should say
            why = model.no_maximum(x, fixed_values)
            if why is not None and priors:
                without_prior.append(why)
            elif why is not None:
                out = _no_estimate(model, x, fixed_values, why)
        if without_prior:
            out = dataclasses.replace(out, _found=out._found + tuple(
                _without_prior(err) for err in without_prior))
    except NoEstimate as err:
        model = err.model or model
        out = _no_estimate(model, x, _check_values(model, fixed, "fixed"), err)
    if strict:
        _raise_errors(out)
    return out if cov == "observed" or not out.converged else out.cov_as(cov, groups=groups)


def _partitioned(data) -> bool:
    """A partitioned dataset (``mk.dataset``) or a dask collection, fitted where it lives."""
    from ._distributed.partitions import Dataset

    return isinstance(data, Dataset) or type(data).__module__.startswith("dask.")


def _censored_model(model, data: Censored, weights):
    """(CensoredModel, rows, weights) for censored / truncated / binned data."""
    if model.event_ndim or not isinstance(model, Family):
        raise ModelError(f"censored, truncated and binned data are fitted with a univariate "
                         f"family (mk.Weibull(), ...); got {model.name}.")
    if data.weights is not None:
        if weights is not None:
            raise ModelError("binned data carry their counts as weights; weights= would count "
                             "them twice.")
        if model.support.integer:
            raise ModelError(f"mk.Binned's bins (e_i, e_i+1] suit continuous families; for "
                             f"{model.name}, pass the values with weights=counts.")
        weights = data.weights
    return CensoredModel(model), data.rows, weights


def _check_weights(weights, n: int) -> np.ndarray | None:
    """Frequency weights: one finite number >= 0 per observation, not all 0."""
    if weights is None:
        return None
    raw = weights.to_numpy() if hasattr(weights, "to_numpy") else weights
    w = np.asarray(raw, dtype=float).ravel()
    if w.shape != (n,):
        raise DataError(f"weights has {w.size} values for {n} observations; give one per "
                        "observation.")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"weights[{i}] = {float(w[i])!r}: frequency weights must be finite "
                        "and >= 0 (how many times each observation counts).")
    if not np.any(w > 0):
        raise DataError("every weight is 0: there is nothing to fit.")
    return w


def _count(total: float) -> int | float:
    """n as reported: an integer where the weights add up to one."""
    return int(round(total)) if abs(total - round(total)) < 1e-9 * max(1.0, total) else total


def _prior_names(model, prior, penalty) -> set[str]:
    """The parameters ``prior=`` / ``penalty=`` name (before they are checked)."""
    names = set(prior) if isinstance(prior, Mapping) else set()
    if "coefficients" in names or penalty is not None:
        names |= set(model.coefficients) | set(getattr(penalty, "params", None) or ())
    return names


def _prior_starts(priors, errors, model) -> dict[str, np.ndarray]:
    """Start values from the priors' centres, for the parameters the data alone put at the
    boundary (all of them where the data admit no estimate at all)."""
    names = set()
    for err in errors:
        names |= set(priors) if isinstance(err, NoEstimate) else set(err.held)
    return {n: np.broadcast_to(np.asarray(priors[n].centre, dtype=float),
                               model.params[n].shape).copy()
            for n in names if n in priors and priors[n].centre is not None}


def _without_prior(err) -> Diagnostic:
    """The note a MAP fit carries where the likelihood alone has no interior maximum."""
    why = err.message if isinstance(err, NoEstimate) else str(err)
    return Diagnostic(
        "without_prior", "note",
        f"without the prior there would be no interior maximum likelihood estimate ({why}); "
        "the estimate exists because of the prior and leans on it",
        "report it as a MAP estimate under the stated prior, and check how it moves with the "
        "prior's scale")


def _fit_checked(model, x, fixed_values, start_values, on_boundary, found, maxiter, stats,
                 search=None, priors=None, weights=None, options=None):
    """Maximize over data that passed the checks: order statistics and boundary estimates
    first, then Newton on the rest (from several starts with ``search``); infer and
    diagnose."""
    # order-statistic MLEs first; the regular parameters are then maximized given them
    boundary = {n: np.asarray(v, dtype=float) for n, v in
                (model.boundary_estimate(x).items() if model.presolved else ())
                if n not in fixed_values}
    held = {**boundary, **on_boundary}
    run = _maximize(model, x, fixed_values, held, start_values, maxiter, stats, priors, weights,
                    options)
    if options is not None:  # a first-order method: its own result, no Newton retries
        if run.result.hess is None:
            return assemble_without_hessian(model, run.layout, run.objective, run.result,
                                            fixed_values, run.boundary)
        return revise(_assemble(model, run, fixed_values, maxiter,
                                tuple(boundary_diagnostic(err, model) for err in found)), options)
    fallback = None
    if (run.result.status is not Status.CONVERGED and not held and not start_values
            and weights is None and isinstance(x, np.ndarray)):  # (it reads the data)
        fallback = model.boundary_fallback(x, fixed_values)
    extra = tuple(boundary_diagnostic(err, model) for err in found)
    optima = ()
    if search is not None and run.layout.k and run.result.status is not Status.NONFINITE:
        run, optima, found_optima = _search(model, x, run, search, maxiter)
        extra += found_optima
    if fallback is not None:
        boundary, x_rest, why = fallback
        retry = _maximize(model, x_rest, fixed_values, boundary, start_values, maxiter,
                          priors=priors)
        if retry.result.status is Status.CONVERGED:
            run = retry
            extra += (Diagnostic("no_local_maximum", "warning", why,
                                 "compare with the family without a threshold (by AIC), or fix "
                                 "the threshold with fixed={...}"),)
    elements = tuple(label for err in found for label in err.elements)
    out = _assemble(model, run, fixed_values, maxiter, extra, elements)
    return dataclasses.replace(out, optima=optima) if optima else out


def _check_starts(model, starts, seed):
    """``starts=`` / ``seed=`` validated: None, (number, seed) or (list of dicts, seed)."""
    if starts is None:
        return None
    if not (isinstance(seed, int) and not isinstance(seed, bool)):
        raise ModelError(f"seed={seed!r} must be an integer.")
    if isinstance(starts, int) and not isinstance(starts, bool):
        if starts < 1:
            raise ModelError(f"starts={starts!r} must be a positive number of starts, e.g. 20.")
        return starts, seed
    if isinstance(starts, Sequence) and starts and all(isinstance(s, Mapping) for s in starts):
        return [_check_values(model, s, "starts[i]") for s in starts], seed
    raise ModelError(f"starts={starts!r} must be a number of starts (e.g. 20) or a list of "
                     "start-value dicts such as [{'location': 0.0}, {'location': 5.0}].")


def _search(model, x, run: _Run, search, maxiter):
    """Maximize from many starts at once; continue from the best maximum found where it beats
    the default run's. Returns (the run, the distinct optima, their diagnostics)."""
    from ._optimize.multistart import dispersed_starts, explore, optima_diagnostics

    starts, seed = search
    layout, objective, u = run.layout, run.objective, run.result.u
    held = objective.fixed
    own = model.starting_points(x, starts, seed) if isinstance(starts, int) else None
    if own is not None:  # the model's own rule (a mixture: EM from other seeds)
        points = np.stack([u] + [layout.pack(p, held) for p in own[: starts - 1]])
    elif isinstance(starts, int):
        points = dispersed_starts(model, layout, held, x, u, starts, seed)
    else:
        here = objective.natural(u)[0]
        points = np.stack([u] + [layout.pack({**here, **s}, held) for s in starts])
    optima = explore(model, layout, held, x, points, maxiter, canonical=model.canonical,
                     stats=objective.stats)
    ll = run.result.loglik
    if optima and (run.result.status is not Status.CONVERGED
                   or optima[0].loglik > ll + 1e-9 * max(1.0, abs(ll))):
        result = maximize(objective, optima[0].u, maxiter=maxiter)  # its derivatives, verified
        if result.status is Status.CONVERGED:
            run = dataclasses.replace(run, result=result, closed_form=False)
    return run, optima, optima_diagnostics(optima, optima.failed, len(points), layout.names)


def _no_clean_maximum(fit: Fit) -> bool:
    """No maximum, or only a ridge where the likelihood flattens out (singular or barely
    conditioned information), for a fit with estimates: where a model's ``no_maximum`` is
    asked. A converged fit with a well-conditioned information is a maximum: nothing asked."""
    doubtful = {"not_identifiable", "ill_conditioned"} & {d.code for d in fit._found}
    return (not fit.converged or bool(doubtful)) and all(
        v is not None for v in fit.params.values())


def _raise_errors(fit: Fit) -> None:
    """``strict=True``: a fit without a valid estimate is an exception, not a result."""
    errors = [d for d in fit.diagnostics if d.severity == "error"]
    if errors or not fit.converged:
        first = errors[0] if errors else None
        what = f"{first.message}. {first.remedy}" if first else fit.message
        raise FitError(f"no maximum likelihood estimate for {fit.model_name}: {what} "
                       "(strict=True; pass strict=False to get the fit with its diagnostics).")


def _no_estimate(model, x, fixed, err: NoEstimate) -> Fit:
    """The result where the data admit no MLE: no estimates, the supremum of the
    log-likelihood, and an error diagnostic saying why and what would make it estimable."""
    free = tuple(n for n in model.params if n not in fixed)
    diagnostic = Diagnostic(err.code, "error", err.message, err.remedy)
    return Fit(
        model_name=model.name,
        params={n: _plain(fixed[n]) if n in fixed else (_plain(err.limit[n]) if n in err.limit
                                                           else None) for n in model.params},
        se={n: (_plain(err.limit_se[n]) if n in err.limit_se else None) for n in free},
        cov=None,
        param_names=free,
        loglik=float(err.loglik),
        n=int(x.shape[0]),
        k=sum(model.params[n].constraint.free_size(model.params[n].shape) for n in free),
        converged=False,
        message=f"no maximum likelihood estimate exists for these data ({err.code})",
        iterations=0,
        _found=(diagnostic,),
        fixed={n: _plain(v) for n, v in fixed.items()},
        _shapes={n: model.params[n].shape for n in free},
    )


@dataclass(frozen=True)
class _Run:
    """One maximization: what was held at which values, and what Newton found."""

    layout: Layout
    objective: Objective
    result: object
    boundary: dict
    closed_form: bool
    start: np.ndarray  # where Newton started (the direction travelled matters, see running_off)


def _proven_stats(model, x) -> np.ndarray | None:
    """The sufficient statistics, where they prove the data valid (finite, in the support,
    enough of them, not all equal); else None, and the caller runs the full checks."""
    if x.shape[0] < model.min_n:
        return None
    stats = model.proven_stats(x)
    if stats is None or (model.needs_spread and not has_spread(x)):
        return None
    return stats


def sample_of(x, all_rows: bool = False):
    """A strided subsample of at most START_SAMPLE observations (``all_rows``: the data
    themselves) of data in memory; a partitioned dataset's own sample, kept by its first pass."""
    own = getattr(x, "sample", None)
    if own is not None:
        return own
    return x if all_rows else x[:: max(1, x.shape[0] // START_SAMPLE)]


def start_theta(model, layout, held, start_values, stats, sample) -> tuple[dict, bool]:
    """(start values in natural units, whether they are the closed-form MLE): the closed form
    from the statistics where the model has one and the caller gave no start, else the
    model's start rule on ``sample`` for what the caller's values do not cover."""
    if not start_values and stats is not None:
        theta = model.closed_form(stats, held)
        if theta is not None:
            return theta, True
    given = set(start_values) >= set(layout.names)
    return {**({} if given else model.start(sample)), **start_values}, False


def _maximize(model, x, fixed, boundary, start_values, maxiter, stats=None, priors=None,
              weights=None, options=None) -> _Run:
    held = {**fixed, **boundary}
    layout = Layout.of(model, held)
    sample = sample_of(x)
    in_memory = isinstance(x, np.ndarray)
    if stats is None and model.sufficient and weights is None and in_memory:
        stats = model.suffstats(x)
    log_prior = LogPrior(priors, layout) if priors else None
    l1 = log_prior is not None and log_prior.has_l1
    theta0, closed_form = start_theta(model, layout, held, start_values,
                                      stats if log_prior is None else None, sample)
    basis = None if l1 else model.basis(sample, held)  # L1 terms need their own coordinates
    if basis is not None:  # centred at the start: it round-trips exactly
        names, T = basis
        origin = np.array([float(theta0[n]) for n in names])
        layout = dataclasses.replace(layout, basis=tuple(names))
        held = {**held, BASIS: np.column_stack([np.asarray(T, dtype=np.float64), origin])}
        log_prior = LogPrior(priors, layout) if priors else None
    objective = (Objective(model, layout, held, x, stats, log_prior, weights) if in_memory
                 else x.objective(model, layout, held, stats, log_prior))
    cold = layout.pack({n: theta0[n] for n in layout.names}, held)
    u0 = cold
    # a partitioned dataset: every evaluation is a pass over it, which the start saves
    if (objective.stats is None and not start_values and log_prior is None and options is None
            and x.shape[0] >= (8 * START_SAMPLE if in_memory else sample.shape[0] + 1)):
        u0 = _warm_start(model, layout, held, x, cold, maxiter)

    def solve(u):
        if options is not None:
            return maximize_first_order(objective, u, maxiter, options)
        if l1:
            from ._optimize.proximal import maximize_l1

            return maximize_l1(objective, u, log_prior.l1_weight, log_prior.l1_centre, maxiter)
        return maximize(objective, u, maxiter=maxiter)

    result = solve(u0)
    if result.status is Status.NONFINITE and result.iterations == 0 and u0 is not cold:
        # the subsample's MLE can leave observations it never saw outside a support that moves
        # with the parameters (thresholds, GEV / GPD end points): start again from the cold start
        result = solve(cold)
    if result.status is Status.NONFINITE and result.iterations == 0:
        shown = {n: np.asarray(theta0[n]).tolist() for n in layout.names}
        raise FitError(
            f"the log-likelihood of {model.name} is not finite at the start values {shown}; "
            "pass start={...} where every observation has positive density."
        )
    return _Run(layout, objective, result, boundary, closed_form, np.asarray(u0, dtype=float))


def _kink_note(labels) -> Diagnostic:
    return Diagnostic(
        "l1_zero", "note",
        f"{', '.join(labels)} {'is' if len(labels) == 1 else 'are'} exactly 0 under the L1 "
        "penalty (Laplace prior): the log-posterior has a kink there, so the Laplace "
        "approximation gives no standard error; the others' are computed treating them as known",
        "for the uncertainty of the selection itself use mk.cv or a bootstrap of the whole "
        "procedure; a smaller alpha keeps more coefficients")


class _PlainView:
    """The objective in the parameters' own coordinates (u_plain = A u), for the diagnostics
    that name parameters by coordinate; the identity view where the layout has no basis."""

    def __init__(self, layout: Layout, objective: Objective):
        self.objective = objective
        self.a, self.c = layout.to_plain(objective.fixed)
        self.a_inv = np.linalg.inv(self.a) if layout.basis else self.a

    def u(self, u):
        return self.a @ np.asarray(u, dtype=float) + self.c

    def hess(self, hess):
        return self.a_inv.T @ np.asarray(hess, dtype=float) @ self.a_inv

    def loglik(self, u_plain) -> float:
        return float(self.objective(self.a_inv @ (u_plain - self.c))[0])


def _warm_start(model, layout, fixed, x, u0, maxiter) -> np.ndarray:
    """The MLE on a strided subsample: within O(1/sqrt(START_SAMPLE)) of the full-data MLE, so
    Newton on all the data needs only two or three steps (measured at n = 1e6: Student t from
    its moment start took 10 full passes, from here 4)."""
    sample = np.ascontiguousarray(sample_of(x))
    result = maximize(Objective(model, layout, fixed, sample), u0, maxiter=maxiter)
    return result.u if result.status is Status.CONVERGED else u0


def _resolve_model(model) -> Model:
    if isinstance(model, str):
        return family_by_name(model)
    if isinstance(model, type) and issubclass(model, Model):
        name = model.__name__
        raise ModelError(f"model={name} is a class; pass an instance, {name}().")
    if not isinstance(model, Model):
        raise ModelError(
            f"model={model!r} is not a model; pass a family such as mk.Gamma(), a family name "
            "such as 'gamma', or mk.Model(logpdf, params={...})."
        )
    return model


def _check_values(model: Model, values, argname: str) -> dict[str, np.ndarray]:
    """Validate ``fixed=`` / ``start=``: known names, right shapes, inside the constraints."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ModelError(f"{argname} must be a dict of parameter name -> value; got {values!r}.")
    out = {}
    for name, value in values.items():
        if name not in model.params:
            raise ModelError(
                f"{argname}={{{name!r}: ...}}: {model.name} has no parameter {name!r}; "
                f"its parameters are {list(model.params)}."
            )
        spec = model.params[name]
        arr = np.asarray(value, dtype=float)
        if arr.shape != spec.shape:
            raise ModelError(
                f"{argname}[{name!r}] has shape {arr.shape}; {name!r} has shape {spec.shape}."
            )
        if not spec.constraint.contains(arr):
            raise ModelError(
                f"{argname}[{name!r}] = {value!r} is outside the parameter space "
                f"({name} must be {spec.constraint.describe()})."
            )
        out[name] = arr
    return out


def _assemble(model, run: _Run, fixed, maxiter, extra_diagnostics=(), on_boundary=()) -> Fit:
    """The result of a maximization. ``on_boundary``: labels of estimates on the boundary of
    the parameter space (held there, as whole parameters, or pinned elements of a vector)."""
    layout, objective, result, boundary = run.layout, run.objective, run.result, run.boundary
    natural, _ = objective.natural(result.u)
    params = {**natural, **fixed, **boundary}
    params = {n: params[n] for n in model.params}  # declaration order
    names = tuple(n for n in model.params if n in natural or n in boundary)
    shapes = {n: model.params[n].shape for n in names}
    nonregular = tuple(n for n in names if n in model.nonregular(params) or n in on_boundary)
    converged = result.status is Status.CONVERGED
    unidentified = None
    plain = _PlainView(layout, objective)
    if converged:  # decided where Newton worked (well conditioned), named in the parameters
        unidentified = identification(result.hess, layout, result.u,
                                      lambda u: float(objective(u)[0]))
        if unidentified is not None and layout.basis:
            unidentified = identification(plain.hess(result.hess), layout.plain(),
                                          plain.u(result.u), plain.loglik) or unidentified
    pinned = tuple(label for label in on_boundary if label not in shapes)  # vector entries
    missing = pinned
    if unidentified is not None:
        missing += unidentified.labels
    prior = objective.prior
    at_kink = ()
    if prior is not None and prior.has_l1:  # a lasso's exact zeros
        at_kink = tuple(int(i) for i in np.flatnonzero(
            (prior.l1_weight > 0) & (result.u == prior.l1_centre)))
        owners = coordinate_labels(layout)
        missing += tuple(label for i in at_kink for label in owners[i])
    context = FitContext(model, objective, layout, fixed, boundary, np.asarray(result.u), names,
                         shapes, nonregular, maxiter, np.asarray(result.hess), missing,
                         tuple(on_boundary), at_kink)
    cov = None
    if result.status is not Status.NONFINITE:
        cov = context.natural_cov(-context.hess)
    se = _se_of(cov, names, shapes, nonregular, missing)
    message = result.message
    if run.closed_form and converged and result.iterations == 0:
        message = "closed form, verified: score ~ 0 and Hessian negative definite"
    if unidentified is not None:
        message = "score ~ 0 on a ridge of equal maxima (the Hessian is singular there)"
    if boundary and layout.k == 0:
        message = ("on the boundary of the parameter space: the maximum of the likelihood"
                   if on_boundary else
                   "order statistics of the data: the maximum of the likelihood in closed form")
    diagnostics = convergence_diagnostics(
        result, objective.count, unidentified,
        plain.hess(result.hess) if layout.basis and result.grad.size else None)
    ask = converged or (model.diverging_at_stop and result.status is not Status.NONFINITE)
    why = (model.diverging(sample_of(objective.x, all_rows=True), params)
           if ask and prior is None else None)
    if isinstance(why, Diagnostic):  # the model's own account (a collapsing component)
        converged, message = False, why.message
        diagnostics += (why,)
    elif why is not None:
        converged, message = False, why
        diagnostics += (Diagnostic(
            "estimate_at_infinity", "error", why,
            "the maximum likelihood estimate does not exist for these data: fix the parameter, "
            "or choose the limiting family (e.g. half-normal for the skew normal)"),)
    elif converged and unidentified is None and not run.closed_form and not at_kink:
        off = running_off(plain.loglik, plain.u(run.start), plain.u(result.u),
                          plain.hess(result.hess), objective.count, layout.plain())
        if off is not None:
            converged = False
            message = "the likelihood rises towards the edge of the parameter space"
            diagnostics += (off,)
    regular_only = tuple(n for n in nonregular if n not in on_boundary)
    if regular_only:
        diagnostics += (nonregular_diagnostic(model, regular_only, params),)
    diagnostics += tuple(extra_diagnostics)
    deferred = ()
    if not converged:  # no maximum: errors measured where the optimizer stopped mean nothing
        cov, se = None, dict.fromkeys(se)
    else:
        k = layout.k + len(boundary) + len(pinned)
        if (unidentified is None and not on_boundary and prior is None
                and objective.weights is None):
            deferred = (partial(misspecification_diagnostic, context),)
        count = _count(objective.count)
        small = small_sample_diagnostic(count, k)
        diagnostics += ((small,) if small else ()) + tuple(model.notes(params, count, fixed))
    log_posterior, loglik = None, float(result.loglik)
    if prior is not None:  # Newton maximized the log-posterior: take the prior back out
        log_posterior = loglik
        loglik = log_posterior - prior.value(result.u, objective.fixed)
        if at_kink:
            diagnostics += (_kink_note(tuple(label for i in at_kink for label in owners[i])),)
    return Fit(
        model_name=model.name,
        params={n: _plain(v) for n, v in params.items()},
        se={n: (None if v is None else _plain(v)) for n, v in se.items()},
        cov=None if cov is None else _readonly(cov),
        param_names=names,
        loglik=loglik,
        log_posterior=log_posterior,
        n=_count(objective.count),
        k=layout.k + sum(int(np.size(v)) for v in boundary.values()) + len(pinned),
        converged=converged,
        message=message,
        iterations=result.iterations,
        _found=diagnostics,
        fixed={n: _plain(v) for n, v in fixed.items()},
        score_max=(float(np.max(np.abs(result.grad)) / objective.count) if result.grad.size
                   else 0.0),
        _shapes=shapes,
        _context=context,
        _deferred=deferred,
    )
