"""Inference on a fit: Fisher information, covariance, intervals, the delta method."""

from .fisher import Estimate, covariance, delta_method, wald_interval

__all__ = ["Estimate", "covariance", "delta_method", "wald_interval"]
