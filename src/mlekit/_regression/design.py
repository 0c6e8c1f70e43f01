"""Design matrices: a formula over a table (formulaic, with R's treatment contrasts) or plain
arrays, with the response, binomial trials, an offset and frequency weights, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .._errors import DataError, ModelError

#: ``offset(expr)`` terms of a formula's right-hand side (one level of nested parentheses)
OFFSET = re.compile(r"\+?\s*offset\(((?:[^()]|\([^()]*\))*)\)\s*")
#: R's two-column binomial response ``cbind(successes, failures)``
CBIND = re.compile(r"^\s*cbind\((.+),(.+)\)\s*$")


@dataclass(frozen=True)
class Design:
    """A regression's data: response ``y`` (successes for binomial counts), design ``X``
    (n, p) with ``columns`` names, binomial ``trials``, ``offset`` and frequency ``weights``
    (None where absent), and the formula's right-hand side ``spec`` (to build new data)."""

    y: np.ndarray
    X: np.ndarray
    columns: tuple[str, ...]
    trials: np.ndarray | None = None
    offset: np.ndarray | None = None
    weights: np.ndarray | None = None
    spec: object = None
    response: str = "y"
    #: the formula's offset(...) expressions, re-evaluated on new data
    offset_terms: tuple[str, ...] = ()
    #: :meth:`rows`, where they were built first (``y`` and ``X`` are views of them)
    built: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: formulaic's specs of the whole formula, response included (to read more partitions)
    specs: object = field(default=None, repr=False, compare=False)

    def matrix(self, newdata, offset=None) -> tuple[np.ndarray, np.ndarray]:
        """(X, offset) of new data: a table through the formula, or an array of the
        predictors (without the intercept column, which is added as at fit time)."""
        if self.spec is not None:
            import formulaic

            table = _table(newdata).reset_index(drop=True)
            try:
                X = self.spec.get_model_matrix(table, na_action="raise").to_numpy(dtype=float)
                extra = [formulaic.model_matrix(f"{t} - 1", table, na_action="raise")
                         .to_numpy(dtype=float)[:, 0] for t in self.offset_terms]
            except Exception as err:
                raise DataError(f"newdata cannot be evaluated with the model's formula: {err}") \
                    from err
            total = sum(extra) if extra else np.zeros(X.shape[0])
        else:
            X = np.asarray(newdata, dtype=float)
            X = X[:, None] if X.ndim == 1 else X
            if self.columns[0] == "Intercept" and X.shape[1] == len(self.columns) - 1:
                X = np.column_stack([np.ones(X.shape[0]), X])
            total = np.zeros(X.shape[0])
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise DataError(f"newdata gives {X.shape[-1]} design columns; the model has "
                            f"{len(self.columns)}: {list(self.columns)}.")
        if offset is not None:
            total = total + np.broadcast_to(np.asarray(offset, dtype=float), (X.shape[0],))
        return X, total

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def rows(self) -> np.ndarray:
        """The data as the model reads them: one row per observation,
        [y, trials, offset, weight, x_1..x_p]."""
        if self.built is not None:
            return self.built
        out = np.empty((self.n, 4 + self.X.shape[1]))  # filled in place: one copy of X
        out[:, 0] = self.y
        out[:, 1] = 1.0 if self.trials is None else self.trials
        out[:, 2] = 0.0 if self.offset is None else self.offset
        out[:, 3] = 1.0 if self.weights is None else self.weights
        out[:, 4:] = self.X
        return out


def _table(data):
    """pandas from pandas, polars (``to_pandas``) or a dict of columns."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):  # polars, pyarrow tables
        return data.to_pandas()
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise DataError(f"data must be a pandas or polars DataFrame or a dict of columns; got "
                    f"{type(data).__name__}.")


def from_formula(formula: str, data, offset=None, weights=None, specs=None) -> Design:
    """``"y ~ x1 + C(g) + offset(log(n))"`` over ``data``; ``cbind(s, f) ~ ...`` for binomial
    successes and failures. Rows with missing values are dropped, as R's ``na.omit``.
    ``specs``: formulaic's model specs of an earlier part of the same data, so that every
    partition of a dataset gets the same columns (factor levels, spline knots)."""
    import formulaic

    if not isinstance(formula, str) or "~" not in formula:
        raise ModelError(f"formula={formula!r} must be a string 'response ~ terms', e.g. "
                         "'y ~ x1 + C(group)'.")
    table = _table(data).reset_index(drop=True)  # row positions: kept rows are looked up
    lhs, rhs = formula.split("~", 1)
    rhs, offsets = _split_offsets(rhs)
    pair = CBIND.match(lhs)
    response = f"{pair.group(1).strip()} + {pair.group(2).strip()}" if pair else lhs.strip()
    try:
        matrices = formulaic.model_matrix(specs or f"{response} ~ {rhs}", table)
        extra = ([formulaic.model_matrix(f"{term} - 1", table) for term in offsets])
    except Exception as err:  # formulaic's own errors: unknown columns, bad syntax
        raise ModelError(f"formula {formula!r} could not be evaluated on the data: {err}") \
            from err
    left, right = matrices.lhs, matrices.rhs
    kept = right.index
    y = left.to_numpy(dtype=float)
    trials = None
    if pair:
        if y.shape[1] != 2:
            raise ModelError(f"cbind(...) in {formula!r} must name two columns: successes, "
                             "failures.")
        trials = y[:, 0] + y[:, 1]
        y = y[:, 0]
    elif y.shape[1] != 1:
        raise ModelError(f"the response of {formula!r} must be one column (or cbind(successes, "
                         "failures) for binomial counts); a factor response needs 0/1 coding.")
    else:
        y = y[:, 0]
    total_offset = _total_offset(extra, offset, table, kept)
    w = None if weights is None else _aligned(weights, table, kept, "weights")
    return _checked(Design(y, right.to_numpy(dtype=float), tuple(map(str, right.columns)),
                           trials, total_offset, w, right.model_spec, lhs.strip(),
                           tuple(offsets), specs=matrices.model_spec))


@dataclass(frozen=True)
class FormulaRows:
    """One partition of a dataset as a regression reads it: ``formula`` over the table, with
    the model specs of the first partition (see :func:`from_formula`), as
    :meth:`Design.rows`."""

    formula: str
    specs: object
    offset: str | None = None
    weights: str | None = None

    def __call__(self, table) -> np.ndarray:
        if len(table) == 0:
            return np.empty((0, 0))
        return from_formula(self.formula, table, self.offset, self.weights, self.specs).rows()


def _split_offsets(rhs: str) -> tuple[str, list[str]]:
    """(terms, offset expressions) of a formula's right-hand side."""
    offsets = [m.group(1) for m in OFFSET.finditer(rhs)]
    rhs = OFFSET.sub("", rhs).strip() or "1"
    return (rhs[1:].strip() if rhs.startswith("+") else rhs), offsets


def covariates(formula: str, data, offset=None, specs=None):
    """The right-hand side of ``formula`` over ``data``, for models that read their response
    themselves (survival responses, whose missing ends carry meaning): (table, kept row
    positions, X, Design without a response). Rows with missing covariates are dropped.
    ``specs``: the model spec of an earlier partition (see :func:`from_formula`)."""
    import formulaic

    if not isinstance(formula, str) or "~" not in formula:
        raise ModelError(f"formula={formula!r} must be a string 'response ~ terms', e.g. "
                         "'Surv(time, status) ~ age + sex'.")
    table = _table(data).reset_index(drop=True)
    rhs, offsets = _split_offsets(formula.split("~", 1)[1])
    try:
        right = formulaic.model_matrix(specs or rhs, table)
        extra = [formulaic.model_matrix(f"{term} - 1", table) for term in offsets]
    except Exception as err:
        raise ModelError(f"formula {formula!r} could not be evaluated on the data: {err}") \
            from err
    kept = np.asarray(right.index, dtype=int)
    total = _total_offset(extra, offset, table, right.index)
    X = right.to_numpy(dtype=float)
    design = Design(np.zeros(X.shape[0]), X, tuple(map(str, right.columns)), offset=total,
                    spec=right.model_spec, offset_terms=tuple(offsets))
    return table, kept, X, design


def _total_offset(extra: list, offset, table, kept) -> np.ndarray | None:
    """The formula's offset(...) terms (evaluated matrices) plus ``offset=``, on the rows the
    formula kept; None where there is neither."""
    total = None
    if extra:
        total = sum(m.reindex(kept).to_numpy(dtype=float)[:, 0] for m in extra)
    if offset is not None:
        given = _aligned(offset, table, kept, "offset")
        total = given if total is None else total + given
    return total


def _aligned(values, table, kept, name: str) -> np.ndarray:
    """An offset / weights given by column name or as an array over the table's rows,
    restricted to the rows the formula kept."""
    if isinstance(values, str):
        if values not in table.columns:
            raise ModelError(f"{name}={values!r} is not a column of the data.")
        values = table[values]
    arr = np.asarray(values, dtype=float)
    if arr.shape != (len(table),):
        raise DataError(f"{name} has shape {arr.shape}; it needs one value per row of the "
                        f"data ({len(table)}).")
    return arr[np.asarray(kept, dtype=int)]


def from_arrays(X, y, intercept: bool = True, names=None, trials=None, offset=None,
                weights=None) -> Design:
    """``X`` (n, p) and ``y`` (n,); ``intercept=True`` puts a column of ones named
    ``Intercept`` first. Columns are named ``names`` or x1..xp (pandas: its column names)."""
    if hasattr(X, "columns") and names is None:
        names = [str(c) for c in X.columns]
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"X must be a two-dimensional array (n, p); got shape {X.shape}.")
    names = list(names) if names is not None else [f"x{j + 1}" for j in range(X.shape[1])]
    if len(names) != X.shape[1]:
        raise ModelError(f"names has {len(names)} entries for {X.shape[1]} columns of X.")
    y = np.asarray(y, dtype=float)
    if y.shape != (X.shape[0],):
        raise DataError(f"y has shape {y.shape}; it needs one value per row of X "
                        f"({X.shape[0]}).")

    def vector(v, name):
        if v is None:
            return None
        arr = np.asarray(v, dtype=float)
        if arr.shape != y.shape:
            raise DataError(f"{name} has shape {arr.shape}; it needs one value per row of X.")
        return arr

    trials, offset, weights = (vector(trials, "trials"), vector(offset, "offset"),
                               vector(weights, "weights"))
    # the rows the model reads, built at once: X is copied once (it is the bulk of the data)
    first = 4 + bool(intercept)
    rows = np.empty((y.shape[0], first + X.shape[1]))
    rows[:, 0] = y
    rows[:, 1] = 1.0 if trials is None else trials
    rows[:, 2] = 0.0 if offset is None else offset
    rows[:, 3] = 1.0 if weights is None else weights
    if intercept:
        rows[:, 4] = 1.0
        names = ["Intercept", *names]
    rows[:, first:] = X
    return _checked(Design(rows[:, 0], rows[:, 4:], tuple(names), trials, offset, weights,
                           built=rows))


def _checked(design: Design) -> Design:
    """Finite values everywhere, distinct column names, non-negative weights, and at least as
    many observations as columns."""
    if len(set(design.columns)) != len(design.columns):
        raise ModelError(f"the design's column names repeat: {list(design.columns)}.")
    for name, arr in (("the response", design.y), ("X", design.X), ("trials", design.trials),
                      ("offset", design.offset), ("weights", design.weights)):
        if arr is not None and not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise DataError(f"{name} has a non-finite value at row {int(bad[0])}; drop or fill "
                            "missing values first.")
    if design.weights is not None and np.any(design.weights < 0):
        i = int(np.argmax(design.weights < 0))
        raise DataError(f"weights[{i}] = {design.weights[i]!r} is negative; frequency weights "
                        "count observations (>= 0).")
    if design.n == 0:
        raise DataError("the data have no complete rows to fit.")
    return design


def linear_predictor(fit, design: Design | None, columns: tuple[str, ...], first: int,
                     offset_column: int, newdata=None, offset=None, se: bool = False):
    """A regression's linear predictor eta = X beta + offset at ``newdata`` (a table through
    the formula, or predictors; default: the rows fitted, whose design starts at column
    ``first`` with the offset in ``offset_column``), and with ``se`` its delta-method
    standard errors sqrt(x' C x): (eta, se or None)."""
    if newdata is None:
        rows = np.asarray(fit._context.x)
        X = rows[:, first:]
        off = rows[:, offset_column] + (0.0 if offset is None else offset)
    else:
        if design is None:
            raise ModelError("this model keeps no design to build new data with.")
        X, off = design.matrix(newdata, offset)
    eta = X @ np.array([fit.params[c] for c in columns]) + off
    if not se:
        return eta, None
    if fit.cov is None:
        raise ModelError("no standard errors: the fit has no covariance (see its "
                         "diagnostics).")
    p = len(columns)
    cov = np.asarray(fit.cov)[:p, :p]
    return eta, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, cov, X), 0.0))
