"""Mixture models: Gaussian mixtures of every covariance structure (EM start, Newton finish)."""

from .gaussian import GaussianMixture

__all__ = ["GaussianMixture"]
