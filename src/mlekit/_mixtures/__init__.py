"""Mixture models: Gaussian mixtures of every covariance structure (EM start, Newton finish)."""

from .gaussian import GaussianMixture
from .general import Mixture
from .select import SelectK, select_k

__all__ = ["GaussianMixture", "Mixture", "SelectK", "select_k"]
