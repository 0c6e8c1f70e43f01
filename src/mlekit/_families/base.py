"""What every family shares: value semantics, a name, and chunk statistics helpers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from .._model import Model
from .._params import Param


@dataclass(frozen=True)
class Family(Model):
    """A named parametric family; frozen, so equal families share compiled code."""

    name: ClassVar[str] = "family"
    PARAMS: ClassVar[Mapping[str, Param]] = {}
    #: one line for `mlekit families`
    description: ClassVar[str] = ""

    @property
    def params(self) -> Mapping[str, Param]:
        return self.PARAMS

    def __repr__(self):
        return f"{type(self).__name__}()"


def moments_stats(y, w):
    """Chunk statistics [sum w, weighted mean, centred sum of squares] of y (JAX).

    Merged across chunks with :func:`merge_moments`: stable where sum(y^2) - n*mean^2 is not.
    """
    n = jnp.sum(w)
    mean = jnp.sum(w * y) / jnp.maximum(n, 1e-300)
    m2 = jnp.sum(w * (y - mean) ** 2)
    return jnp.stack([n, mean, m2])


def merge_moments(parts) -> np.ndarray:
    """Chan et al.'s pairwise merge of [n, mean, M2] triples."""
    n, mean, m2 = 0.0, 0.0, 0.0
    for nb, mb, m2b in np.asarray(parts, dtype=float).reshape(-1, 3):
        if nb == 0:
            continue
        total = n + nb
        delta = mb - mean
        mean = mean + delta * nb / total
        m2 = m2 + m2b + delta * delta * n * nb / total
        n = total
    return np.array([n, mean, m2])


def gaussian_loglik(stats, mu, sigma):
    """Normal log-likelihood from [n, mean, M2] (JAX)."""
    n, mean, m2 = stats[0], stats[1], stats[2]
    ss = m2 + n * (mean - mu) ** 2
    return -0.5 * n * jnp.log(2 * jnp.pi) - n * jnp.log(sigma) - ss / (2 * sigma**2)


def gaussian_closed_form(stats, fixed, loc: str, scale: str) -> dict:
    """Normal MLE from [n, mean, M2], honouring a fixed location or scale.

    The variance is the biased M2/n (the MLE), never M2/(n-1).
    """
    n, mean, m2 = (float(v) for v in stats)
    mu = float(fixed[loc]) if loc in fixed else mean
    out = {loc: np.asarray(mu)}
    if scale not in fixed:
        out[scale] = np.asarray(np.sqrt((m2 + n * (mean - mu) ** 2) / n))
    return {k: v for k, v in out.items() if k not in fixed}
