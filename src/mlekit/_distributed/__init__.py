"""Fits of data beyond one machine's memory: partitioned datasets on a Dask scheduler."""

from .dataset import Dataset, dataset
from .fit import fit_dataset

__all__ = ["Dataset", "dataset", "fit_dataset"]
