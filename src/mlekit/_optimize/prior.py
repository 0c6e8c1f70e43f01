"""The log-prior of a MAP fit as the optimizer sees it: a smooth part added to every pass
(value, gradient, Hessian in u, by autodiff), and an L1 part (Laplace priors) kept apart for
the proximal solver, as weights and centres over the coordinates of u."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .objective import Layout, _derivs


@partial(jax.jit, static_argnames=("layout", "kinds"))
def _prior_derivs(u, fixed, args, layout, kinds):
    def log_prior(v):
        theta = layout.unpack(v, fixed)
        return sum((jnp.sum(kind.log_density(theta[name], *args[name])) for name, kind in kinds),
                   jnp.zeros(()))

    return _derivs(log_prior, u)


class LogPrior:
    """The priors ``{name: Prior}`` over the free parameters of ``layout``. The prior's kinds
    are static (one compiled program per combination of prior families), its numbers data."""

    def __init__(self, priors: Mapping[str, object], layout: Layout):
        self.priors = {n: p for n, p in priors.items() if n in layout.names}
        self.kinds = tuple((n, type(p)) for n, p in sorted(self.priors.items()))
        self.args = {n: tuple(np.asarray(a, dtype=np.float64) for a in p.args)
                     for n, p in self.priors.items()}
        self.layout = layout
        weight, centre = np.zeros(layout.k), np.zeros(layout.k)
        start = 0
        for name, size in zip(layout.names, layout.sizes, strict=True):
            prior = self.priors.get(name)
            if prior is not None and prior.l1 is not None:
                weight[start:start + size], centre[start:start + size] = prior.l1
            start += size
        self.l1_weight, self.l1_centre = weight, centre

    @property
    def has_l1(self) -> bool:
        return bool(np.any(self.l1_weight > 0))

    def __call__(self, u: np.ndarray, fixed) -> tuple[float, np.ndarray, np.ndarray]:
        """(value, gradient, Hessian) of the smooth log-prior at u."""
        out = _prior_derivs(np.asarray(u, dtype=np.float64), fixed, self.args, self.layout,
                            self.kinds)
        return tuple(np.asarray(o, dtype=float) for o in out)

    def l1(self, u: np.ndarray) -> float:
        """The L1 part of the log-prior: -sum_j w_j |u_j - c_j|."""
        return -float(np.sum(self.l1_weight * np.abs(np.asarray(u) - self.l1_centre)))

    def value(self, u: np.ndarray, fixed) -> float:
        """The whole log-prior at u."""
        return float(self(u, fixed)[0]) + self.l1(u)
