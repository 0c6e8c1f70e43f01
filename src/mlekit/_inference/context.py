"""What a fit keeps for later inference: the model, the objective on the data, where the
maximum is, and how free parameters map to the rows of the result's covariance.

Every inference that needs more than the covariance (other covariance types, profile
likelihoods, score tests, the bootstrap) works from this and from the model's per-observation
log-likelihood only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._model import Model
from .._optimize import BASIS, Layout, Objective
from .fisher import covariance


@dataclass(frozen=True, eq=False)
class FitContext:
    """The maximization behind a :class:`~mlekit.Fit`.

    ``objective`` is the log-likelihood of the free parameters (``layout``) with the user's
    ``fixed`` values and the ``presolved`` order statistics / medians held; ``u`` is the maximum
    in unconstrained coordinates and ``hess`` the Hessian there, where the maximization left it
    (else it is computed on demand). ``names`` / ``shapes`` are the fit's ``param_names`` (free
    and presolved): the rows of every covariance.
    """

    model: Model
    objective: Objective
    layout: Layout
    fixed: Mapping[str, np.ndarray]
    presolved: Mapping[str, np.ndarray]
    u: np.ndarray
    names: tuple[str, ...]
    shapes: Mapping[str, tuple]
    nonregular: tuple[str, ...]
    maxiter: int
    hess: np.ndarray | None = field(default=None, repr=False)
    #: labels ("probs[2]", "b") of entries without a standard error although estimated: an
    #: element pinned on the boundary, or an entry the data do not determine (not identifiable)
    unestimable: tuple[str, ...] = ()
    #: labels of the estimates on the boundary of the parameter space: held scalars ("prob")
    #: or pinned entries of a vector ("probs[2]")
    on_boundary: tuple[str, ...] = ()
    #: coordinates of u exactly at an L1 prior's centre (a lasso's zeros): the log-posterior
    #: has a kink there, so they are treated as known in the Laplace approximation
    at_kink: tuple[int, ...] = ()

    def likelihood_only(self, what: str, smooth_prior_ok: bool = False) -> None:
        """Raise where ``what`` is a method of the likelihood alone and this is a MAP fit
        (``smooth_prior_ok``: it works on a smooth log-posterior, not across an L1 kink, and
        on the weighted log-likelihood), or where ``what`` does not take frequency weights."""
        from .._errors import ModelError

        if self.objective.weights is not None and not smooth_prior_ok:
            raise ModelError(f"{what} does not take frequency weights yet: for a weighted fit "
                             "use the observed information (fit.se, conf_int()) or the profile, "
                             "or repeat the rows instead of weighting them.")
        prior = self.objective.prior
        if prior is None or (smooth_prior_ok and not prior.has_l1):
            return

        kind = "a MAP fit with an L1 term" if smooth_prior_ok else "a MAP fit (a prior)"
        raise ModelError(f"{what} is not available for {kind}: its uncertainty is the Laplace "
                         "approximation (fit.se, fit.conf_int()); fit without prior= / penalty= "
                         "for the likelihood's own inference.")

    def in_memory(self, what: str) -> None:
        """Raise where ``what`` needs every row on this machine and the data are a
        partitioned dataset's (read where they live, never gathered here)."""
        if not isinstance(self.x, np.ndarray):
            self.x.refuse(what)

    @property
    def held(self) -> dict[str, np.ndarray]:
        """Everything not maximized by Newton: the fixed and the presolved parameters (and
        the layout's basis matrix, which the objective's coordinates need)."""
        basis = {k: v for k, v in self.objective.fixed.items() if k == BASIS}
        return {**self.fixed, **self.presolved, **basis}

    def hessian(self) -> np.ndarray:
        """The Hessian of the log-likelihood in ``u`` at ``u`` (no pass over the data when the
        maximization kept it)."""
        return self.hess if self.hess is not None else self.objective(self.u)[2]

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
        keep = np.concatenate(parts or [np.zeros(0, dtype=bool)])
        keep[list(self.at_kink)] = False
        return keep

    def natural_cov(self, bread_u: np.ndarray, meat_u: np.ndarray | None = None
                    ) -> np.ndarray | None:
        """The covariance over ``names`` from an information matrix in ``u`` (the bread) and,
        for sandwiches, the meat: ``J A^-1 B A^-1 J'``. Presolved parameters get zero rows, or
        their own asymptotic variance (medians). None when the bread is not positive definite.
        """
        _, jac = self.objective.natural(self.u)
        cov = covariance(-np.asarray(bread_u), jac, self.keep(), meat_u,
                         ridge=bool(self.unestimable))
        if cov is None or not self.presolved:
            return cov
        # the free parameters' block in the rows of names; the presolved (order statistics,
        # known at the sqrt(n) scale) get zero rows, or a median's own variance
        index = rows(self.names, self.shapes, self.layout.names)
        total = sum(int(np.prod(self.shapes[n], dtype=int)) for n in self.names)
        out = np.zeros((total, total))
        out[np.ix_(index, index)] = cov
        for name, var in self.model.presolved_variance(self.params(), self.n).items():
            if name in self.presolved:  # scalar parameters: one row each
                (i,) = rows(self.names, self.shapes, (name,))
                out[i, i] = var
        return out


def rows(names, shapes, subset) -> np.ndarray:
    """Rows of the parameters in ``subset`` (in ``names`` order) in a vector of ``names``
    flattened one after another."""
    index, start = [], 0
    for name in names:
        size = int(np.prod(shapes[name], dtype=int))
        if name in subset:
            index.extend(range(start, start + size))
        start += size
    return np.asarray(index, dtype=int)
