r"""Penalties as shorthand for priors: ``mk.L2(alpha)``, ``mk.L1(alpha)``,
``mk.ElasticNet(alpha, l1_ratio)``, on the total log-likelihood :math:`\ell`.

The penalized fit maximizes

.. math::  \ell(\theta) - \alpha \left( r \|\beta\|_1 + \frac{1 - r}{2} \|\beta\|_2^2 \right)

over the penalized parameters :math:`\beta` (a regression's coefficients but the intercept,
by default), with r = 1 for L1, 0 for L2. L2 is a N(0, 1/sqrt(alpha)) prior, L1 a
Laplace(0, 1/alpha) prior, up to their normalizing constants, which a penalty leaves out (so
the fit's ``log_posterior`` is :math:`\ell` minus the penalty, the negative of scikit-learn's
objective divided by C). scikit-learn's ``LogisticRegression(C=c)`` is ``alpha = 1 / c``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._errors import ModelError
from ._params import RealLine
from .priors import Prior


@dataclass(frozen=True, repr=False)
class _Quadratic(Prior):
    """A penalty on one parameter as an (unnormalized) prior: -l2/2 theta^2 - l1 |theta|."""

    l2: float = 0.0
    l1_weight: float = 0.0

    @staticmethod
    def log_density(value, l2, l1_weight):
        return -0.5 * l2 * value * value

    @property
    def l1(self):
        return (self.l1_weight, 0.0) if self.l1_weight > 0 else None


class Penalty:
    r"""Penalty :math:`\alpha (r \|\beta\|_1 + (1 - r) \|\beta\|^2 / 2)` on ``params`` (default:
    a regression's coefficients; the intercept too with ``intercept=True``).

    ``standardize=True`` penalizes each coefficient on the scale of its column, :math:`s_j
    \beta_j` with :math:`s_j` the column's standard deviation (so the penalty does not depend
    on the units of the covariates); the estimates stay on the original scale."""

    kind: ClassVar[str] = "ElasticNet"

    def __init__(self, alpha: float, l1_ratio: float, *, intercept: bool = False,
                 standardize: bool = False, params=None):
        alpha, l1_ratio = float(alpha), float(l1_ratio)
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise ModelError(f"{self.kind}(alpha={alpha!r}): alpha must be a finite number >= 0 "
                             "(scikit-learn's C is 1 / alpha).")
        if not 0.0 <= l1_ratio <= 1.0:
            raise ModelError(f"{self.kind}(l1_ratio={l1_ratio!r}): l1_ratio must be in [0, 1] "
                             "(1: L1, 0: L2).")
        self.alpha, self.l1_ratio = alpha, l1_ratio
        self.intercept, self.standardize = bool(intercept), bool(standardize)
        self.params = None if params is None else tuple(params)

    def __repr__(self):
        ratio = f", l1_ratio={self.l1_ratio:g}" if self.kind == "ElasticNet" else ""
        return f"{self.kind}(alpha={self.alpha:g}{ratio})"

    def __eq__(self, other):
        return isinstance(other, Penalty) and repr(self) == repr(other) and (
            self.intercept, self.standardize, self.params) == (
            other.intercept, other.standardize, other.params)

    def __hash__(self):
        return hash(repr(self))

    def priors(self, model, x: np.ndarray) -> dict[str, Prior]:
        """{parameter: its penalty as a prior} for ``model`` on its prepared data ``x``."""
        names = self._names(model)
        scales = self._scales(model, x, names)
        out = {}
        for name in names:
            spec = model.params[name]
            if self.l1_ratio > 0 and not isinstance(spec.constraint, RealLine):
                raise ModelError(f"{self!r} on {name!r}: an L1 penalty needs a parameter on the "
                                 f"real line; {name} must be {spec.constraint.describe()}.")
            s = scales.get(name, 1.0)
            out[name] = _Quadratic(l2=self.alpha * (1.0 - self.l1_ratio) * s * s,
                                   l1_weight=self.alpha * self.l1_ratio * s)
        return out

    def _names(self, model) -> tuple[str, ...]:
        if self.params is not None:
            unknown = [n for n in self.params if n not in model.params]
            if unknown:
                raise ModelError(f"{self!r}: {model.name} has no parameter {unknown[0]!r}; its "
                                 f"parameters are {list(model.params)}.")
            return self.params
        if not model.coefficients:
            raise ModelError(f"{self!r} penalizes a regression's coefficients, and {model.name} "
                             "has none: name the parameters, e.g. "
                             f"{self.kind}(..., params={list(model.params)[:1]}).")
        return tuple(c for c in model.coefficients if self.intercept or c != "Intercept")

    def _scales(self, model, x, names) -> dict[str, float]:
        if not self.standardize:
            return {}
        if model.design_columns is None:
            raise ModelError(f"{self!r} with standardize=True needs a design matrix (a GLM); "
                             f"{model.name} has none.")
        design = np.asarray(x)[:, model.design_columns]
        sd = design.std(axis=0)
        return {c: float(sd[j]) for j, c in enumerate(model.coefficients) if c in names}


class L2(Penalty):
    r"""Ridge: :math:`(\alpha/2) \|\beta\|^2`, a N(0, 1/sqrt(alpha)) prior (up to its constant).

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.glm(X=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], y=[0, 0, 0, 1, 1, 1], family="binomial",
    ...              penalty=mk.L2(1.0))  # separated data: no MLE, but a MAP estimate
    >>> fit.converged
    True
    """

    kind = "L2"

    def __init__(self, alpha: float, **options):
        super().__init__(alpha, 0.0, **options)


class L1(Penalty):
    r"""Lasso: :math:`\alpha \|\beta\|_1`, a Laplace(0, 1/alpha) prior (up to its constant);
    solved by proximal Newton, so coefficients are exactly 0."""

    kind = "L1"

    def __init__(self, alpha: float, **options):
        super().__init__(alpha, 1.0, **options)


class ElasticNet(Penalty):
    r""":math:`\alpha (r \|\beta\|_1 + (1 - r) \|\beta\|^2 / 2)` with ``l1_ratio`` r, as
    scikit-learn's ``l1_ratio``."""
