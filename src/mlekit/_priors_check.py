"""``prior=`` and ``penalty=`` of a fit, validated and resolved to one prior per parameter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._errors import ModelError
from ._params import PositiveDefinite, RealLine, SimplexConstraint


def check_priors(model, x: np.ndarray, prior, penalty, fixed: Mapping[str, np.ndarray]
                 ) -> tuple[dict, dict]:
    """({name: Prior} to maximize with (flat priors left out: they change nothing),
    {name: how the prior is shown}). The key ``"coefficients"`` of ``prior`` stands for every
    coefficient of a regression but its intercept."""
    from ._penalties import Penalty
    from .priors import Flat, Prior

    out, shown = {}, {}
    if prior is not None:
        if not isinstance(prior, Mapping):
            raise ModelError(f"prior={prior!r} must be a dict {{parameter: prior}}, e.g. "
                             "{'sd': mk.priors.HalfCauchy(2.0)}.")
        for name, p in prior.items():
            if not isinstance(p, Prior):
                raise ModelError(f"prior[{name!r}] = {p!r} is not a prior; use one of "
                                 "mk.priors.Normal(0, 1), Laplace, Cauchy, StudentT, HalfNormal, "
                                 "HalfCauchy, Exponential, Gamma, LogNormal, Beta, Flat.")
            for target in _targets(model, name):
                out[target], shown[target] = p, repr(p)
    if penalty is not None:
        if isinstance(penalty, type) and issubclass(penalty, Penalty):
            raise ModelError(f"penalty=mk.{penalty.__name__} needs its strength: "
                             f"mk.{penalty.__name__}(alpha), e.g. mk.{penalty.__name__}(0.1).")
        if not isinstance(penalty, Penalty):
            raise ModelError(f"penalty={penalty!r} must be mk.L2(alpha), mk.L1(alpha) or "
                             "mk.ElasticNet(alpha, l1_ratio).")
        for name, p in penalty.priors(model, x).items():
            if name in out:
                raise ModelError(f"{name!r} has both a prior ({out[name]!r}) and the penalty "
                                 f"{penalty!r}; give one of them.")
            out[name], shown[name] = p, repr(penalty)
    for name, p in out.items():
        _check_one(model, name, p, fixed)
    return {n: p for n, p in out.items() if not isinstance(p, Flat)}, shown


def _targets(model, name: str) -> tuple[str, ...]:
    if name in model.params:
        return (name,)
    if name == "coefficients" and model.coefficients:
        return tuple(c for c in model.coefficients if c != "Intercept")
    raise ModelError(f"prior[{name!r}]: {model.name} has no parameter {name!r}; its parameters "
                     f"are {list(model.params)}"
                     + ("" if not model.coefficients else
                        " ('coefficients' puts one prior on every coefficient)") + ".")


def _check_one(model, name: str, prior, fixed) -> None:
    if name in fixed:
        raise ModelError(f"prior[{name!r}]: {name} is fixed (fixed={{{name!r}: ...}}), so a "
                         "prior on it changes nothing; drop one of the two.")
    spec = model.params[name]
    constraint = spec.constraint
    if prior.matrix:
        if not isinstance(constraint, PositiveDefinite) or spec.shape != prior.scale.shape:
            raise ModelError(f"prior[{name!r}] = {prior!r} is a prior on a {prior.scale.shape} "
                             f"covariance matrix; {name} must be {constraint.describe()} of "
                             f"shape {spec.shape}.")
        return
    if isinstance(constraint, (SimplexConstraint, PositiveDefinite)):
        raise ModelError(f"prior[{name!r}]: priors are densities on each entry of a parameter, "
                         f"and {name} must be {constraint.describe()} (its entries are not free "
                         "one by one); no prior for it yet.")
    lo, hi = constraint.bounds()
    p_lo, p_hi = prior.support
    if p_lo > lo or p_hi < hi:
        raise ModelError(f"prior[{name!r}] = {prior!r} lives on [{p_lo:g}, {p_hi:g}], but {name} "
                         f"must be {constraint.describe()}: the prior must cover the parameter's "
                         "space (e.g. HalfCauchy for a positive parameter, Beta for a "
                         "probability, Normal for a real one).")
    if prior.l1 is not None and not isinstance(constraint, RealLine):
        raise ModelError(f"prior[{name!r}] = {prior!r}: a Laplace prior (an L1 penalty) needs a "
                         f"parameter on the real line; {name} must be {constraint.describe()}.")
