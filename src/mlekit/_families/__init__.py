"""Parametric families, reachable by class (``mk.Gamma()``) or by name (``mk.family("gamma")``).

Each module lists its families in ``CATALOGUE``; this package collects them into one registry,
which is the single source of truth for ``mk.families()``, ``mk.family(name)``, the CLI's
``--dist`` and the public class names.
"""

from __future__ import annotations

import dataclasses

from .._errors import ModelError
from . import (
    continuous,
    counts,
    discrete,
    extremes,
    location_scale,
    multivariate,
    positive,
    threshold,
)
from .base import Family
from .catalogue import FamilyInfo, describe

_MODULES = (continuous, location_scale, positive, extremes, threshold, discrete, counts,
            multivariate)
FAMILIES: dict[str, type[Family]] = {cls.name: cls for m in _MODULES for cls in m.CATALOGUE}
ALIASES = {"norm": "normal", "gaussian": "normal", "lnorm": "lognormal", "exp": "exponential",
           "t": "student_t", "studentt": "student_t", "gev": "generalized_extreme_value",
           "gpd": "generalized_pareto", "nbinom": "negative_binomial", "binom": "binomial",
           "pois": "poisson", "geom": "geometric", "unif": "uniform",
           "invgauss": "inverse_gaussian",
           "mvn": "multivariate_normal", "zip": "zero_inflated_poisson",
           "zinb": "zero_inflated_negative_binomial", "llogis": "loglogistic"}


def family(name: str, **options) -> Family:
    """The family called ``name`` (R's names and a few aliases), e.g. ``family("gamma")``;
    ``options`` go to its constructor, e.g. ``family("binomial", size=10)``."""
    key = str(name).strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in FAMILIES:
        raise ModelError(
            f"unknown family {name!r}; choose one of: {', '.join(sorted(FAMILIES))}."
        )
    cls = FAMILIES[key]
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        takes = f"its options are {known}" if known else "it takes no options"
        raise ModelError(f"family {key!r} has no option {unknown[0]!r}; {takes}.")
    try:
        return cls(**options)
    except TypeError as err:  # a required option left out (e.g. the binomial's size)
        missing = str(err).rsplit(":", 1)[-1].strip().strip("'")
        raise ModelError(
            f"family {key!r} needs the option {missing!r}: family({key!r}, {missing}=...), or "
            f"-o {missing}=... on the command line."
        ) from None


def families() -> tuple[FamilyInfo, ...]:
    """The catalogue: one :class:`FamilyInfo` (name, parameters, support, kind, exponential
    family or not, regular or not) per family, in catalogue order.

    Examples
    --------
    >>> import mlekit as mk
    >>> info = {f.name: f for f in mk.families()}
    >>> info["gamma"].params, info["gamma"].exponential_family
    (('shape', 'rate'), True)
    """
    return tuple(describe(cls) for cls in FAMILIES.values())


CLASSES = {cls.__name__: cls for cls in FAMILIES.values()}
globals().update(CLASSES)
__all__ = ["FAMILIES", "Family", "FamilyInfo", "family", "families", *CLASSES]
