"""Parametric families, reachable by class or by name (``mk.family("gamma")``)."""

from __future__ import annotations

from .._errors import ModelError
from .base import Family
from .continuous import Exponential, Gamma, LogNormal, Normal, StudentT, Weibull
from .discrete import Bernoulli, Categorical, Poisson

FAMILIES: dict[str, type[Family]] = {
    cls.name: cls
    for cls in (Normal, LogNormal, Exponential, Gamma, Weibull, StudentT, Poisson, Bernoulli,
                Categorical)
}
ALIASES = {"norm": "normal", "gaussian": "normal", "lnorm": "lognormal", "exp": "exponential",
           "t": "student_t", "studentt": "student_t"}


def family(name: str, **options) -> Family:
    """The family called ``name`` (R's names and a few aliases), e.g. ``family("gamma")``."""
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in FAMILIES:
        raise ModelError(
            f"unknown family {name!r}; choose one of: {', '.join(sorted(FAMILIES))}."
        )
    return FAMILIES[key](**options)


__all__ = ["FAMILIES", "Family", "family", "Normal", "LogNormal", "Exponential", "Gamma",
           "Weibull", "StudentT", "Poisson", "Bernoulli", "Categorical"]
