"""Optimizers: Newton trust-region with exact Hessians on an unconstrained parametrization."""

from .newton import NewtonResult, Status, maximize
from .objective import Layout, Objective

__all__ = ["Layout", "Objective", "NewtonResult", "Status", "maximize"]
