"""Regression by maximum likelihood: linear and generalized linear models through formulas or
arrays, fitted and reported by the same engine as every other model."""

from .api import aft, glm, lm
from .nls import nls

__all__ = ["aft", "glm", "lm", "nls"]
