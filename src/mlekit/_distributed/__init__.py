"""Fits of data beyond one machine's memory: partitioned datasets on a Dask scheduler."""

from .fit import fit_dataset
from .partitions import Dataset, dataset

__all__ = ["Dataset", "dataset", "fit_dataset"]
