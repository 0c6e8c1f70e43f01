"""The result of a fit: immutable, self-describing, and rendered by ``_render``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from . import _render
from ._diagnostics import Diagnostic
from ._errors import ModelError
from ._inference import Estimate, delta_method, wald_interval
from ._params import split_flat

CI_METHODS = ("wald",)


def _flatten(values: Mapping) -> dict:
    """{name: scalar or array} -> {label: float}, labelling vector entries 'name[i]'."""
    out = {}
    for name, value in values.items():
        arr = np.asarray(value, dtype=float)
        if arr.ndim == 0:
            out[name] = float(arr)
        else:
            for index in np.ndindex(arr.shape):
                out[f"{name}[{','.join(map(str, index))}]"] = float(arr[index])
    return out


def _plain(value):
    """numpy scalars -> float, arrays stay arrays (read-only)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Fit:
    """A maximum likelihood fit.

    Attributes
    ----------
    params : dict
        Estimates in natural units (fixed parameters included, at their fixed values).
    se : dict
        Standard errors of the free parameters from the observed Fisher information
        (None where the information is singular, with a diagnostic saying so).
    cov : ndarray or None
        Covariance of the free parameters, rows/columns in ``param_names`` order (a vector
        parameter contributes one row per element).
    loglik, n, k : float, int, int
        Maximized log-likelihood, number of observations, number of free parameters.
    converged : bool
        True only when the score is ~0 and the Hessian is negative definite.
    diagnostics : tuple of Diagnostic
        Empty when all is well.
    """

    model_name: str
    params: Mapping[str, float | np.ndarray]
    se: Mapping[str, float | np.ndarray | None]
    cov: np.ndarray | None
    param_names: tuple[str, ...]
    loglik: float
    n: int
    k: int
    converged: bool
    message: str
    iterations: int
    diagnostics: tuple[Diagnostic, ...] = ()
    fixed: Mapping[str, float | np.ndarray] = field(default_factory=dict)
    score_max: float = 0.0
    _shapes: Mapping[str, tuple] = field(default_factory=dict, repr=False)
    #: the covariance behind ``se`` / ``cov``: "observed", "expected", "opg", "robust", "cluster"
    cov_kind: str = "observed"
    #: how that covariance was computed, where it matters (e.g. Monte Carlo and its error)
    cov_note: str = ""
    _context: object = field(default=None, repr=False, compare=False)

    # -- information criteria ---------------------------------------------------------------
    @property
    def aic(self) -> float:
        """-2 loglik + 2k."""
        return -2.0 * self.loglik + 2.0 * self.k

    @property
    def bic(self) -> float:
        """-2 loglik + k log n."""
        return -2.0 * self.loglik + self.k * math.log(self.n)

    # -- intervals and derived quantities ---------------------------------------------------
    def conf_int(self, level: float = 0.95, method: str = "wald") -> dict:
        """Confidence intervals ``{name: (lo, hi)}`` for the free parameters.

        ``method="wald"``: estimate -/+ z * se, from the observed information.
        """
        if not 0 < level < 1:
            raise ModelError(f"level={level!r} must lie strictly between 0 and 1, e.g. 0.95.")
        if method not in CI_METHODS:
            raise ModelError(
                f"method={method!r} is not an interval method here; use one of {CI_METHODS}."
            )
        out = {}
        for name in self.param_names:
            se = self.se.get(name)
            if se is None:
                why = ("its estimator is non-regular (an order statistic or threshold)"
                       if any(d.code == "nonregular" for d in self.diagnostics) else
                       "the observed information is singular")
                raise ModelError(
                    f"no Wald interval for {name!r}: {why} (see fit.diagnostics)."
                )
            lo, hi = wald_interval(np.asarray(self.params[name]), np.asarray(se), level)
            out[name] = (_plain(lo), _plain(hi))
        return out

    def transform(self, fun: Callable[[dict], object], level: float = 0.95) -> Estimate:
        """The MLE of g(theta) — g(theta-hat), by invariance — with its delta-method SE.

        ``fun`` takes the parameter dict and must be written with ``jax.numpy`` operations
        (plain arithmetic works as is).

        Examples
        --------
        >>> import mlekit as mk
        >>> fit = mk.fit(mk.Exponential(), [1.0, 2.0, 3.0])
        >>> fit.transform(lambda p: 1 / p["rate"]).value  # the mean
        2.0
        """
        if not callable(fun):
            raise ModelError(f"transform needs a function of the parameter dict; got {fun!r}.")
        if self.cov is None:
            raise ModelError("no delta-method error: the observed information is singular.")
        flat = np.concatenate([np.ravel(self.params[n]) for n in self.param_names])

        def unflatten(v):
            shapes = [self._shapes.get(n, ()) for n in self.param_names]
            return {**self.params, **split_flat(v, self.param_names, shapes)}

        est = delta_method(fun, flat, self.cov, unflatten)
        if not (np.all(np.isfinite(est.value)) and np.all(np.isfinite(est.se))):
            raise ModelError(
                f"g(theta-hat) = {est.value!r} with standard error {est.se!r} is not finite at "
                f"the estimates {dict(self.params)}; check g's domain (e.g. log of a negative)."
            )
        return Estimate(est.value, est.se, level)

    # -- flat views (one entry per scalar), for rendering -----------------------------------
    def _flat_params(self) -> dict:
        return _flatten(self.params)

    def _flat_se(self) -> dict:
        return _flatten({n: self.se[n] for n in self.param_names if self.se.get(n) is not None})

    def _fixed_labels(self) -> set:
        return {label for label in self._flat_params() if label.split("[")[0] in self.fixed}

    def _flat_ci(self, level: float) -> dict:
        out = {}
        for label, se in self._flat_se().items():
            lo, hi = wald_interval(self._flat_params()[label], se, level)
            out[label] = (lo, hi)
        return out

    # -- rendering and export --------------------------------------------------------------
    def summary(self, level: float = 0.95) -> str:
        """The table a person reads: estimates, SEs and intervals rounded to the uncertainty."""
        return _render.text(self, level)

    def __str__(self):
        return self.summary()

    def __repr__(self):
        return self.summary()

    def _repr_html_(self):
        return _render.to_html(self)

    def to_dict(self) -> dict:
        """A JSON-safe dict of the whole result."""

        def js(v):
            if v is None:
                return None
            arr = np.asarray(v, dtype=float)
            return float(arr) if arr.ndim == 0 else arr.tolist()

        return {
            "model": self.model_name,
            "params": {k: js(v) for k, v in self.params.items()},
            "se": {k: js(v) for k, v in self.se.items()},
            "cov": js(self.cov),
            "param_names": list(self.param_names),
            "fixed": {k: js(v) for k, v in self.fixed.items()},
            "loglik": float(self.loglik),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "n": int(self.n),
            "k": int(self.k),
            "converged": bool(self.converged),
            "message": self.message,
            "iterations": int(self.iterations),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
