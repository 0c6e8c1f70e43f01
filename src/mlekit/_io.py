"""Reading a column of observations from CSV or Parquet (or CSV on standard input)."""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import numpy as np

from ._data import as_observations
from ._errors import DataError


def read_table(path: str):
    """A pandas DataFrame from a CSV or Parquet file, or CSV from standard input (``-``)."""
    import pandas as pd

    if path == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise DataError("standard input is empty; pipe CSV data into mlekit fit -.")
        return pd.read_csv(io.StringIO(text))
    p = Path(path)
    if not p.exists():
        raise DataError(f"file {path!r} does not exist; check the path.")
    if p.is_dir():
        raise DataError(f"{path!r} is a folder, not a file; name a CSV or Parquet file.")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise DataError(f"file {path!r} is empty: there is nothing to fit.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as err:
        reason = str(err).rstrip(".")
        raise DataError(f"cannot read {path!r} as CSV or Parquet: {reason}.") from None


def _read_plain_csv(path: str, column: str | None) -> tuple[str, np.ndarray] | None:
    """The column of a plain numeric CSV by numpy's C parser, or None for anything else.

    pandas costs 0.25 s to import, a fifth of a short command; numpy reads a clean numeric
    column directly. Whatever it does not accept (quotes, gaps, text, several candidate
    columns) goes to pandas, which also writes the detailed error messages.
    """
    p = Path(path)
    if path == "-" or not p.is_file() or p.suffix.lower() in (".parquet", ".pq"):
        return None
    try:
        with open(p, newline="") as handle:
            header = handle.readline().rstrip("\r\n").split(",")
        if '"' in ",".join(header) or (column is None and len(header) != 1):
            return None
        if column is not None and column not in header:
            return None
        index = 0 if column is None else header.index(column)
        with warnings.catch_warnings():  # an empty file is pandas' to report
            warnings.simplefilter("ignore", UserWarning)
            x = np.loadtxt(p, delimiter=",", skiprows=1, usecols=index, dtype=np.float64,
                           ndmin=1)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return (header[index], x) if x.size else None


def read_column(path: str, column: str | None = None, dropna: bool = False) -> np.ndarray:
    """The observations in ``column`` of the file (the only numeric column if not given)."""
    plain = _read_plain_csv(path, column)
    if plain is not None and np.isfinite(plain[1]).all():
        return as_observations(plain[1], plain[0])
    import pandas as pd

    df = read_table(path)
    if df.shape[1] == 0 or df.shape[0] == 0:
        raise DataError(f"{path!r} has no data rows: there is nothing to fit.")
    if column is None:
        numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
        if len(df.columns) == 1:
            column = df.columns[0]
        elif len(numeric) == 1:
            column = numeric[0]
        else:
            raise DataError(
                f"{path!r} has {len(df.columns)} columns {list(map(str, df.columns))}; "
                "choose one with --column NAME."
            )
    elif column not in df.columns:
        raise DataError(
            f"column {column!r} is not in {path!r}; available columns: "
            f"{', '.join(map(str, df.columns))}."
        )
    series = df[column]
    if dropna:
        values = series.to_numpy()
        try:
            numeric = values.astype(float)
        except (TypeError, ValueError):
            numeric = None
        if numeric is not None:
            series = series[np.isfinite(numeric)]
        else:
            series = series.dropna()
    return as_observations(series.reset_index(drop=True), str(column))
