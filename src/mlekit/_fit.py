"""``mk.fit``: validate, reduce, maximize, then infer and diagnose — in that order."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._data import observe
from ._diagnostics import convergence_diagnostics
from ._errors import FitError, ModelError
from ._families import family as family_by_name
from ._inference import covariance
from ._model import Model
from ._optimize import Layout, Objective, Status, maximize
from ._params import split_flat
from ._result import Fit, _plain

#: start values are computed from a strided subsample of at most this many observations
START_SAMPLE = 1 << 15


def fit(
    model: Model | str,
    data,
    *,
    fixed: Mapping[str, float] | None = None,
    start: Mapping[str, float] | None = None,
    maxiter: int = 200,
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

    Returns
    -------
    Fit

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Normal(), [2.0, 4.0, 6.0], fixed={"mean": 4.0})
    >>> round(fit.params["sd"] ** 2, 6)  # sum((x - 4)^2) / n
    2.666667
    """
    model = _resolve_model(model)
    if not (isinstance(maxiter, int) and maxiter >= 0):
        raise ModelError(f"maxiter={maxiter!r} must be a non-negative integer, e.g. 200.")
    x, lo, hi = observe(data, "data", ndim=1 + model.event_ndim)
    model, x = model.prepare(x, (lo, hi))
    fixed_values = _check_values(model, fixed, "fixed")
    start_values = _check_values(model, start, "start")
    layout = Layout.of(model, fixed_values)
    if layout.k == 0:
        raise ModelError("every parameter is fixed; leave at least one free to estimate.")

    objective = Objective(model, layout, fixed_values, x)
    theta0 = None
    if not start_values and objective.stats is not None:
        theta0 = model.closed_form(objective.stats, fixed_values)
    closed_form = theta0 is not None
    if theta0 is None:
        sample = x[:: max(1, x.shape[0] // START_SAMPLE)]
        theta0 = {**model.start(sample), **start_values}
    u0 = layout.pack({n: theta0[n] for n in layout.names})
    if objective.stats is None and not start_values and x.shape[0] >= 8 * START_SAMPLE:
        u0 = _warm_start(model, layout, fixed_values, x, u0, maxiter)
    result = maximize(objective, u0, maxiter=maxiter)
    if result.status is Status.NONFINITE and result.iterations == 0:
        shown = {n: np.asarray(theta0[n]).tolist() for n in layout.names}
        raise FitError(
            f"the log-likelihood of {model.name} is not finite at the start values {shown}; "
            "pass start={...} where every observation has positive density."
        )
    return _assemble(model, layout, objective, result, fixed_values, closed_form)


def _warm_start(model, layout, fixed, x, u0, maxiter) -> np.ndarray:
    """The MLE on a strided subsample: within O(1/sqrt(START_SAMPLE)) of the full-data MLE, so
    Newton on all the data needs only two or three steps (measured at n = 1e6: Student t from
    its moment start took 10 full passes, from here 4)."""
    sample = np.ascontiguousarray(x[:: x.shape[0] // START_SAMPLE])
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


def _assemble(model, layout, objective, result, fixed, closed_form) -> Fit:
    natural, jac = objective.natural(result.u)
    params = {**natural, **fixed}
    params = {n: params[n] for n in model.params}  # declaration order
    cov = covariance(result.hess, jac) if result.status is not Status.NONFINITE else None
    if cov is None:
        se = dict.fromkeys(layout.names)
    else:
        se = split_flat(np.sqrt(np.maximum(np.diag(cov), 0.0)), layout.names, layout.shapes)
    converged = result.status is Status.CONVERGED
    message = result.message
    if closed_form and converged and result.iterations == 0:
        message = "closed form, verified: score ~ 0 and Hessian negative definite"
    return Fit(
        model_name=model.name,
        params={n: _plain(v) for n, v in params.items()},
        se={n: (None if v is None else _plain(v)) for n, v in se.items()},
        cov=None if cov is None else _readonly(cov),
        param_names=layout.names,
        loglik=float(result.loglik),
        n=objective.n,
        k=layout.k,
        converged=converged,
        message=message,
        iterations=result.iterations,
        diagnostics=convergence_diagnostics(result, objective.n),
        fixed={n: _plain(v) for n, v in fixed.items()},
        score_max=float(np.max(np.abs(result.grad)) / objective.n) if result.grad.size else 0.0,
        _shapes=dict(zip(layout.names, layout.shapes, strict=True)),
    )


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a
