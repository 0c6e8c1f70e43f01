"""Optimizers: Newton trust-region with exact Hessians on an unconstrained parametrization."""

from .newton import NewtonResult, Status, maximize
from .objective import BASIS, Layout, Objective

__all__ = ["BASIS", "Layout", "Objective", "NewtonResult", "Status", "maximize"]
