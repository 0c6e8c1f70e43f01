"""What a fit keeps for later inference: the model, the objective on the data, where the
maximum is, and how free parameters map to the rows of the result's covariance.

Every inference that needs more than the covariance (other covariance types, profile
likelihoods, score tests, the bootstrap) works from this and from the model's per-observation
log-likelihood only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._model import Model
from .._optimize import Layout, Objective
from .fisher import covariance


@dataclass(frozen=True, eq=False)
class FitContext:
    """The maximization behind a :class:`~mlekit.Fit`.

    ``objective`` is the log-likelihood of the free parameters (``layout``) with ``held`` (the
    user's ``fixed`` plus the ``presolved`` order statistics / medians) at their values; ``u`` is
    the maximum in unconstrained coordinates. ``names`` / ``shapes`` are the fit's
    ``param_names`` (free and presolved): the rows of every covariance.
    """

    model: Model
    objective: Objective
    layout: Layout
    held: Mapping[str, np.ndarray]
    fixed: Mapping[str, np.ndarray]
    presolved: Mapping[str, np.ndarray]
    u: np.ndarray
    names: tuple[str, ...]
    shapes: Mapping[str, tuple]
    nonregular: tuple[str, ...]
    maxiter: int

    @property
    def x(self) -> np.ndarray:
        return self.objective.x

    @property
    def n(self) -> int:
        return self.objective.n

    def params(self, u: np.ndarray | None = None) -> dict:
        """All parameters in natural units (numpy) at ``u`` (default: the estimate)."""
        natural, _ = self.objective.natural(self.u if u is None else u)
        out = {**self.held, **natural}
        return {n: np.asarray(out[n], dtype=float) for n in self.model.params}

    def keep(self) -> np.ndarray:
        """Mask over ``u``: False for the non-regular coordinates, treated as known."""
        parts = [np.full(size, name not in self.nonregular)
                 for name, size in zip(self.layout.names, self.layout.sizes, strict=True)]
        return np.concatenate(parts or [np.zeros(0, dtype=bool)])

    def natural_cov(self, bread_u: np.ndarray, meat_u: np.ndarray | None = None
                    ) -> np.ndarray | None:
        """The covariance over ``names`` from an information matrix in ``u`` (the bread) and,
        for sandwiches, the meat: ``J A^-1 B A^-1 J'``. Presolved parameters get zero rows, or
        their own asymptotic variance (medians). None when the bread is not positive definite.
        """
        _, jac = self.objective.natural(self.u)
        cov = covariance(-np.asarray(bread_u), jac, self.keep(), meat_u)
        if cov is None or not self.presolved:
            return cov
        cov = embed(cov, self.layout.names, self.names, self.shapes)
        params = self.params()
        for name, var in self.model.presolved_variance(params, self.n).items():
            if name in self.presolved:  # scalar parameters: one row each
                i = offset(self.names, self.shapes, name)
                cov[i, i] = var
        return cov


def offset(names, shapes, name) -> int:
    """Row of parameter ``name`` in a flat vector of ``names``."""
    sizes = [int(np.prod(shapes[n], dtype=int)) for n in names]
    return int(sum(sizes[: names.index(name)]))


def embed(cov, free, names, shapes) -> np.ndarray:
    """The covariance of the ``free`` parameters placed in the rows of ``names``; the others
    (order statistics, known at the sqrt(n) scale) get zero rows."""
    sizes = {n: int(np.prod(shapes[n], dtype=int)) for n in names}
    offsets = dict(zip(names, np.cumsum([0] + [sizes[n] for n in names])[:-1], strict=True))
    index = np.concatenate([np.arange(offsets[n], offsets[n] + sizes[n]) for n in free]
                           or [np.zeros(0, dtype=int)]).astype(int)
    total = sum(sizes.values())
    out = np.zeros((total, total))
    out[np.ix_(index, index)] = cov
    return out
