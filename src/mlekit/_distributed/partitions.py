"""Data that stay where they are: Parquet / CSV files by glob, dask arrays and DataFrames, read
partition by partition on a Dask scheduler.

A :class:`Dataset` is a list of partitions (each a lazy table or array, with a label naming
its file or block for error messages) and a :class:`Reader` turning one partition into the rows
a model reads, exactly as ``mk.fit`` would build them from the same data in memory. Nothing
is ever written to the user's files.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .._errors import DataError, ModelError

#: file formats read by extension
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv",
           ".tsv": "csv"}


@dataclass(frozen=True)
class Reader:
    """How one partition (a table or an array) becomes the model's rows and weights.

    ``column`` (one variable), ``columns`` (vectors), ``time`` / ``event`` (right-censored
    lifetimes, as :func:`mlekit.Survival`), ``left`` / ``right`` (censored values, as
    :func:`mlekit.Censored`), ``weights`` (a column of frequency weights); ``design`` is set by
    the regressions (a formula's rows, see :mod:`mlekit._regression.design`).
    """

    column: str | None = None
    columns: tuple[str, ...] | None = None
    time: str | None = None
    event: str | None = None
    left: str | None = None
    right: str | None = None
    weights: str | None = None
    design: Callable | None = None

    @property
    def censored(self) -> bool:
        return self.time is not None or self.left is not None

    def needed(self) -> list[str] | None:
        """The columns to read (None: the design decides, or the data are an array)."""
        if self.design is not None:
            return None
        names = [self.column, *(self.columns or ()), self.time, self.event, self.left,
                 self.right, self.weights]
        return [n for n in names if n is not None] or None

    def __call__(self, part) -> tuple[np.ndarray, np.ndarray | None]:
        from .._censored import Censored, Survival
        from .._data import observe

        if self.design is not None:  # a regression's rows (and weights)
            out = self.design(part)
            return out if isinstance(out, tuple) else (out, None)
        if not hasattr(part, "columns"):  # an array block
            x = np.asarray(part)
            return observe(x, "data", ndim=max(1, x.ndim), measure=False)[0], None
        w = None
        if self.weights is not None:
            w = observe(part[self.weights], f"weights column {self.weights!r}")[0]
            if np.any(w < 0):
                i = int(np.argmax(w < 0))
                raise DataError(f"weights[{i}] = {float(w[i])!r}: frequency weights must be "
                                ">= 0.")
        if self.time is not None:
            return Survival(part[self.time].to_numpy(), part[self.event].to_numpy()).rows, w
        if self.left is not None:
            return Censored(part[self.left].to_numpy(), part[self.right].to_numpy()).rows, w
        if self.columns is not None:
            return observe(part[list(self.columns)], "data", ndim=2, measure=False)[0], w
        if self.column is None and len(part.columns) != 1:
            raise ModelError(f"the table has columns {list(part.columns)}: name the data, "
                             "mk.dataset(source, column='x') (or columns=[...], time=/event=, "
                             "left=/right=); a regression names its columns in the formula.")
        column = self.column if self.column is not None else part.columns[0]
        return observe(part[column], "data", measure=False)[0], w


@dataclass(frozen=True)
class Dataset:
    """Observations in partitions, read where they live (see :func:`dataset`)."""

    parts: tuple  # dask Delayed objects, one table / array per partition
    labels: tuple[str, ...]
    reader: Reader
    nbytes: float | None = None  # an estimate of the rows' size in memory, where known
    progress: Callable | None = field(default=None, compare=False)
    source: str = ""

    def __post_init__(self):
        if not self.parts:
            raise DataError(f"the dataset {self.source!r} has no partitions: nothing to fit.")

    def __len__(self) -> int:
        return len(self.parts)

    def __repr__(self) -> str:
        return f"Dataset({self.source!r}, {len(self.parts)} partitions)"

    def with_reader(self, reader: Reader) -> Dataset:
        return replace(self, reader=reader)


def dataset(source, column: str | None = None, *, columns: Sequence[str] | None = None,
            time: str | None = None, event: str | None = None, left: str | None = None,
            right: str | None = None, weights: str | None = None, partitions: int | None = None,
            progress: bool | Callable | None = None) -> Dataset:
    r"""Data to fit where they are, partition by partition, on the active Dask scheduler.

    ``mk.fit(model, mk.dataset(...))`` reads each partition on the workers, validates it and
    reduces it (the sufficient statistics of an exponential family in one pass; otherwise the
    log-likelihood, its score and Hessian at each Newton step), summing
    :math:`\ell(\theta) = \sum_{\text{partitions}} \sum_{i \in p} \log f(x_i \mid \theta)`.
    The estimates and standard errors equal the in-memory fit's. Uses the current
    ``dask.distributed.Client`` where one is active, else threads in this process.

    Parameters
    ----------
    source : str, list of str, dask DataFrame / Series / Array, pandas DataFrame or array
        A glob of Parquet (``.parquet``, one partition per row group) or CSV files (one per
        file), a list of paths, or a collection (one partition per block). An in-memory table
        or array is cut into ``partitions`` pieces.
    column : str, optional
        The column to fit (tables); ``columns=`` for vector observations.
    time, event : str, optional
        Right-censored lifetimes, as :func:`mlekit.Survival`.
    left, right : str, optional
        Censored observations, as :func:`mlekit.Censored` (missing = unbounded).
    weights : str, optional
        A column of frequency weights.
    partitions : int, optional
        Pieces to cut an in-memory table or array into (default: 8).
    progress : bool or callable, optional
        ``True`` prints one line per pass over the data on stderr; a callable receives
        ``(pass number, what, rows, seconds)`` after each pass.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> x = np.random.default_rng(0).gamma(2.0, 1.5, 4000)
    >>> fit = mk.fit(mk.Gamma(), mk.dataset(x, partitions=4))
    >>> bool(np.isclose(fit.params["shape"], mk.fit(mk.Gamma(), x).params["shape"], rtol=1e-10))
    True
    """
    reader = Reader(column, tuple(columns) if columns is not None else None, time, event,
                    left, right, weights)
    _check_reader(reader)
    if progress is True:
        from .engine import print_pass

        progress = print_pass
    elif progress is not None and progress is not False and not callable(progress):
        raise ModelError(f"progress={progress!r} must be True, False or a function.")
    parts, labels, nbytes, name = _partitions(source, reader, partitions)
    return Dataset(tuple(parts), tuple(labels), reader, nbytes, progress or None, name)


def _check_reader(reader: Reader) -> None:
    if (reader.time is None) != (reader.event is None):
        raise ModelError("time= and event= go together (right-censored lifetimes).")
    if (reader.left is None) != (reader.right is None):
        raise ModelError("left= and right= go together (censored observations).")
    kinds = [reader.column is not None, reader.columns is not None, reader.time is not None,
             reader.left is not None]
    if sum(kinds) > 1:
        raise ModelError("give one of column=, columns=, time=/event= or left=/right=.")


def _partitions(source, reader: Reader, pieces: int | None):
    """(lazy partitions, labels, estimated bytes or None, a name) of a source."""
    try:
        import dask
    except ImportError:
        raise ModelError("partitioned datasets run on Dask, which is not installed: "
                         "pip install 'mlekit[dask]'.") from None

    if isinstance(source, (str, os.PathLike)) or (
            isinstance(source, (list, tuple)) and source
            and all(isinstance(s, (str, os.PathLike)) for s in source)):
        return _files(source, reader)
    if dask.is_dask_collection(source):
        return _collection(source, reader)
    if pieces is not None and not (isinstance(pieces, int) and pieces >= 1):
        raise ModelError(f"partitions={pieces!r} must be a positive integer.")
    if hasattr(source, "columns") or hasattr(source, "to_numpy") or isinstance(
            source, (np.ndarray, list)):
        return _in_memory(source, reader, pieces or 8)
    raise DataError(f"mk.dataset cannot read a {type(source).__name__}; pass a glob of Parquet "
                    "or CSV files, a dask DataFrame or Array, or a table or array.")


def _files(source, reader: Reader):
    from dask import delayed

    patterns = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths = sorted({p for pat in patterns for p in glob.glob(os.fspath(pat), recursive=True)})
    shown = ", ".join(map(os.fspath, patterns))
    if not paths:
        raise DataError(f"no files match {shown!r}; check the path (a glob like "
                        "'events/*.parquet' is expanded here, on the client).")
    formats = {_format(p) for p in paths}
    if len(formats) > 1:
        raise DataError(f"{shown!r} matches files of several formats {sorted(formats)}; match "
                        "one format.")
    columns = reader.needed()
    parts, labels, rows = [], [], 0
    if formats == {"parquet"}:
        import pyarrow.parquet as pq

        for path in paths:
            try:
                meta = pq.ParquetFile(path).metadata
            except Exception as err:
                raise DataError(f"{path} is not a readable Parquet file: {err}") from None
            names = set(meta.schema.names)
            missing = [c for c in columns or () if c not in names]
            if missing:
                raise DataError(f"{path} has no column {missing[0]!r}; its columns are "
                                f"{sorted(names)}.")
            for g in range(meta.num_row_groups):
                parts.append(delayed(_read_parquet, pure=True)(path, g, columns))
                labels.append(f"{path} (row group {g})")
                rows += meta.row_group(g).num_rows
        width = len(columns) if columns else 8
        return parts, labels, float(rows * width * 8), shown
    for path in paths:
        parts.append(delayed(_read_csv, pure=True)(path, columns))
        labels.append(path)
    return parts, labels, None, shown


def _format(path: str) -> str:
    name = path.lower()
    for ext, kind in FORMATS.items():
        if name.endswith(ext):
            return kind
    raise DataError(f"{path}: unknown file type; mk.dataset reads Parquet (.parquet, .pq) and "
                    "CSV (.csv, .csv.gz, .tsv).")


def _read_parquet(path: str, group: int, columns):
    import pyarrow.parquet as pq

    from .engine import reuse_buffers

    reuse_buffers()  # (a worker's first task: its reads allocate the largest buffers)

    return pq.ParquetFile(path).read_row_group(group, columns=columns).to_pandas()


def _read_csv(path: str, columns):
    import pandas as pd

    from .engine import reuse_buffers

    reuse_buffers()

    sep = "\t" if path.lower().endswith(".tsv") else ","
    return pd.read_csv(path, usecols=columns, sep=sep)


def _collection(source, reader: Reader):
    import dask.array as da

    if isinstance(source, da.Array):
        if source.ndim == 2:
            source = source.rechunk({1: -1})  # whole rows in each block
        elif source.ndim != 1:
            raise DataError(f"a dask array of observations must be 1-D or 2-D (rows); got "
                            f"{source.ndim} dimensions.")
        blocks = list(source.to_delayed().ravel())
        nbytes = float(source.size * 8) if np.isfinite(source.size) else None
        return blocks, [f"block {i}" for i in range(len(blocks))], nbytes, "dask array"
    if not hasattr(source, "to_delayed"):
        raise DataError(f"mk.dataset cannot read a {type(source).__name__}.")
    if hasattr(source, "to_frame") and not hasattr(source, "columns"):  # a dask Series
        source = source.to_frame()
    columns = reader.needed()
    if columns is not None:
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise DataError(f"the DataFrame has no column {missing[0]!r}; its columns are "
                            f"{list(source.columns)}.")
        source = source[columns]
    blocks = list(source.to_delayed())
    return blocks, [f"partition {i}" for i in range(len(blocks))], None, "dask DataFrame"


def _in_memory(source, reader: Reader, pieces: int):
    from dask import delayed

    if hasattr(source, "columns"):
        from .._regression.design import _table

        table = _table(source)
        bounds = np.linspace(0, len(table), pieces + 1).astype(int)
        parts = [delayed(table.iloc[a:b], pure=True)
                 for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        return parts, [f"partition {i}" for i in range(len(parts))], None, "table"
    x = np.asarray(source.to_numpy() if hasattr(source, "to_numpy") else source)
    bounds = np.linspace(0, x.shape[0], pieces + 1).astype(int)
    parts = [delayed(x[a:b], pure=True)
             for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    return parts, [f"block {i}" for i in range(len(parts))], float(x.nbytes), "array"
