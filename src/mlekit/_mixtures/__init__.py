"""Mixture models: Gaussian mixtures of every covariance structure (EM start, Newton finish)."""

from .gaussian import GaussianMixture
from .select import SelectK, select_k

__all__ = ["GaussianMixture", "SelectK", "select_k"]
