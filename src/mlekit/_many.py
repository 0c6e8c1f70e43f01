r"""Many fits at once: ``mk.fit_many(model, datasets)`` and ``mk.fit_groups(table, by=...)``.

One model, thousands of small datasets (a Weibull per machine, a distribution per sensor):
the members are maximized together by the batched trust-region Newton method of
:mod:`._optimize.batched` (one compiled program per padded length and batch size; padding has
weight 0), from per-member sufficient statistics where the family has them. Each member gets
its own estimates, standard errors (the observed information at its maximum), log-likelihood,
convergence status and flags, and a member the batch cannot settle (bad data, no convergence,
a Hessian that is not negative definite) is fitted alone by :func:`mlekit.fit`, so its row
carries exactly that fit's diagnostics: a failure in one never spoils the others.
``batch[i]`` is member i's full :class:`Fit` (every inference and diagnostic), fitted on
demand from its batch estimate.

Data the fast path does not cover (censored or regression data, models that reshape
themselves in ``prepare``, parameters estimated at order statistics, ``starts=``) are fitted
member by member with :func:`mlekit.fit`: the same results, without the speed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._errors import DataError, MlekitError, ModelError
from ._model import Model
from ._params import flat_labels

#: status names of a member's row
SETTLED = "converged"


@dataclass(frozen=True, eq=False)
class FitBatch:
    """The fits of one model to many datasets.

    Attributes
    ----------
    labels : tuple
        The members' names (group values, or 0..B-1).
    param_labels : tuple of str
        One label per estimated scalar (a vector parameter's elements as ``name[i]``).
    params, se : ndarray (B, p)
        Estimates and standard errors (NaN where a member has none: see ``messages``).
    loglik, n : ndarray (B,)
    converged : ndarray of bool (B,)
    status : tuple of str
        ``"converged"`` or why not (the failing fit's first error diagnostic, or ``"data"``
        for data its checks refused).
    messages : tuple of str
        The error diagnostics (or the data error) of each member, "" where there are none.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> batch = mk.fit_many(mk.Weibull(), [rng.weibull(2.0, n) for n in (50, 80, 120)])
    >>> batch.converged.all(), batch.params.shape
    (np.True_, (3, 2))
    >>> batch[1].params == dict(zip(batch.param_labels, batch.params[1]))
    True
    """

    model: Model
    labels: tuple
    param_labels: tuple[str, ...]
    params: np.ndarray
    se: np.ndarray
    loglik: np.ndarray
    n: np.ndarray
    converged: np.ndarray
    status: tuple[str, ...]
    messages: tuple[str, ...]
    iterations: np.ndarray
    _data: Sequence = field(repr=False)
    _options: Mapping = field(repr=False)
    _fits: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    def _position(self, key) -> int:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if not -len(self) <= key < len(self):
                raise IndexError(f"member {key} of a batch of {len(self)}.")
            return int(key) % len(self)
        try:
            return self.labels.index(key)
        except ValueError:
            raise KeyError(f"no member labelled {key!r}.") from None

    def __getitem__(self, key):
        """Member ``key`` (a position, or a label) as a full :class:`Fit`: every inference
        and diagnostic; fitted on demand from its batch estimate (the same maximum)."""
        i = self._position(key)
        if i not in self._fits:
            from ._fit import fit

            start = None
            if self.status[i] == SETTLED:
                start = {name: v for name, v in zip(self.param_labels, self.params[i],
                                                    strict=True) if "[" not in name}
            options = dict(self._options)
            if start and len(start) == len(self.param_labels):
                options["start"] = {**start, **options.get("start", {})}
            self._fits[i] = fit(self.model, self._data[i], **options)
        return self._fits[i]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def to_pandas(self):
        """One row per member: n, converged, status, loglik, each parameter and its SE
        (``se_<name>``), iterations and messages; indexed by the labels."""
        import pandas as pd

        table = {"n": self.n, "converged": self.converged, "status": list(self.status),
                 "loglik": self.loglik}
        for j, name in enumerate(self.param_labels):
            table[name] = self.params[:, j]
            table[f"se_{name}"] = self.se[:, j]
        table["iterations"] = self.iterations
        table["message"] = list(self.messages)
        return pd.DataFrame(table, index=pd.Index(list(self.labels), name="member"))

    def summary(self) -> str:
        """Counts of converged and flagged members, the reasons, and each parameter's
        distribution over the converged members (quantiles)."""
        ok = self.converged
        lines = [f"{len(self)} fits of {self.model.name}: {int(ok.sum())} converged, "
                 f"{int((~ok).sum())} flagged"]
        reasons: dict[str, int] = {}
        for s, good in zip(self.status, ok, strict=True):
            if not good:
                reasons[s] = reasons.get(s, 0) + 1
        for s, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {s}: {count}")
        if ok.any():
            q = np.quantile(self.params[ok], [0.0, 0.25, 0.5, 0.75, 1.0], axis=0)
            head = f"{'parameter':<12}" + "".join(f"{h:>12}" for h in
                                                  ("min", "25%", "median", "75%", "max"))
            lines += ["", "estimates over the converged members:", head]
            for j, name in enumerate(self.param_labels):
                lines.append(f"{name:<12}" + "".join(f"{v:>12.4g}" for v in q[:, j]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"<FitBatch: {len(self)} fits of {self.model.name}, "
                f"{int(self.converged.sum())} converged>")


def fit_many(model, datasets, *, lengths=None, labels=None, fixed=None, start=None,
             maxiter: int = 200, starts=None, seed: int = 0, weights=None,
             progress=False) -> FitBatch:
    r"""Fit ``model`` to each of ``datasets`` by maximum likelihood, all at once.

    Parameters
    ----------
    model : Model or str
    datasets : list of array-like, or a 2-D array
        One dataset per member (any data :func:`mlekit.fit` takes: arrays, ``mk.Censored``
        ...), or a padded 2-D array (members x observations) with ``lengths``.
    lengths : array-like of int, optional
        The observations of each row of a 2-D ``datasets`` (the rest is padding, ignored).
    labels : sequence, optional
        Names of the members (default 0..B-1).
    fixed, start, maxiter, starts, seed, weights
        As :func:`mlekit.fit`, for every member (``weights``: one array per member).
    progress : bool or callable
        A progress bar on stderr (True), or ``progress(done, total)``.

    Returns
    -------
    FitBatch

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> data = np.array([[1.0, 2.0, 3.0, 0.0], [2.0, 4.0, 5.0, 7.0]])
    >>> batch = mk.fit_many(mk.Normal(), data, lengths=[3, 4])
    >>> batch.params[:, 0].tolist()  # the means of the first 3 and of all 4
    [2.0, 4.5]
    """
    from ._fit import _resolve_model

    model = _resolve_model(model)
    members = _members(datasets, lengths)
    labels = tuple(range(len(members))) if labels is None else tuple(labels)
    if len(labels) != len(members):
        raise ModelError(f"labels has {len(labels)} entries for {len(members)} datasets.")
    if not members:
        raise DataError("datasets is empty: there is nothing to fit.")
    if weights is not None and len(weights) != len(members):
        raise DataError(f"weights has {len(weights)} entries for {len(members)} datasets; "
                        "give one array of weights per dataset.")
    options = {k: v for k, v in (("fixed", fixed), ("start", start), ("maxiter", maxiter),
                                 ("starts", starts), ("seed", seed)) if v is not None}
    report = _progress(progress)
    from ._batch_engine import fast_fits

    fast = None
    if starts is None and weights is None:
        fast = fast_fits(model, members, fixed or {}, start or {}, maxiter, report)
    return _collect(model, members, labels, options, weights, fast, report)


def fit_groups(table, by, column=None, model=None, *, formula: str | None = None,
               regression: str = "glm", **options) -> FitBatch:
    """:func:`fit_many` over the groups of a table: one fit of ``model`` to ``column`` per
    value of ``by`` (a column name or a list of them), labelled by it. With ``formula``, one
    regression per group instead: ``regression="glm"`` (:func:`mlekit.glm`; ``family=`` and
    the other options pass through) or ``"aft"`` (:func:`mlekit.aft`, ``dist=``), fitted
    group by group.

    Examples
    --------
    >>> import pandas as pd, mlekit as mk
    >>> table = pd.DataFrame({"machine": ["a", "a", "a", "b", "b", "b", "b"],
    ...                       "hours": [1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 9.0]})
    >>> mk.fit_groups(table, by="machine", column="hours", model=mk.Exponential()).labels
    ('a', 'b')
    """
    from ._regression.design import _table

    frame = _table(table)
    keys = [by] if isinstance(by, str) else list(by)
    if (formula is None) == (column is None or model is None):
        raise ModelError("fit_groups needs column= and model= (a distribution per group), or "
                         "formula= (a regression per group).")
    for name in [*keys, *([column] if formula is None else [])]:
        if name not in frame.columns:
            raise DataError(f"column {name!r} is not in the table; available columns: "
                            f"{', '.join(map(str, frame.columns))}.")
    groups = frame.groupby(keys if len(keys) > 1 else keys[0], sort=True, dropna=False)
    if formula is not None:
        return _regressions(groups, formula, regression, options)
    labels, data = [], []
    for label, part in groups:
        labels.append(label)
        data.append(part[column].to_numpy(dtype=float))
    return fit_many(model, data, labels=labels, **options)


def _regressions(groups, formula: str, regression: str, options: dict) -> FitBatch:
    """One regression per group, each by its own call (designs differ between groups)."""
    from ._regression.api import aft, glm

    if regression not in ("glm", "aft"):
        raise ModelError(f"regression={regression!r} must be 'glm' or 'aft'.")
    fitter = glm if regression == "glm" else aft
    report = _progress(options.pop("progress", None))
    labels, parts, fits, errors = [], [], {}, {}
    for i, (label, part) in enumerate(groups):
        labels.append(label)
        parts.append(part)
        try:
            fits[i] = fitter(formula, part, **options)
        except MlekitError as err:
            errors[i] = str(err)
        if report is not None:
            report(i + 1, len(groups))
    if not fits:
        raise DataError("no group could be fitted: " + next(iter(errors.values())))
    first = fits[min(fits)]
    k_labels = tuple(flat_labels(first.param_names, {n: np.shape(first.params[n])
                                                      for n in first.param_names}))
    rows = []
    for i in range(len(labels)):
        if i in errors:
            rows.append(_failed_row(k_labels, errors[i], parts[i]))
            continue
        row = _row(fits[i], k_labels)
        if fits[i].param_names != first.param_names:
            row = row._replace(message=f"its coefficients {list(fits[i].param_names)} differ "
                               "from the first group's; see batch[label]")
        rows.append(row)
    return _batch(first._context.model if first._context is not None else None,
                  tuple(labels), k_labels, rows, parts, options, fits)


def _members(datasets, lengths) -> list:
    """The members' datasets as a list."""
    if lengths is not None:
        arr = np.asarray(datasets, dtype=float)
        if arr.ndim < 2:
            raise DataError("lengths= goes with a padded 2-D array of datasets (members x "
                            "observations).")
        n = np.asarray(lengths)
        if n.shape != (arr.shape[0],) or np.any(n < 0) or np.any(n > arr.shape[1]) or \
                np.any(n != np.round(n)):
            raise DataError(f"lengths must give, for each of the {arr.shape[0]} rows, a whole "
                            f"number of observations between 0 and {arr.shape[1]}.")
        return [arr[i, : int(m)] for i, m in enumerate(n)]
    if isinstance(datasets, np.ndarray) and datasets.ndim == 2:
        return list(datasets)
    if hasattr(datasets, "to_numpy") and getattr(datasets, "ndim", 1) == 2:
        return list(datasets.to_numpy(dtype=float))
    if isinstance(datasets, (str, bytes)) or not isinstance(datasets, Sequence):
        raise DataError("datasets must be a list of datasets or a 2-D array (members x "
                        "observations) with lengths=.")
    return list(datasets)


def _progress(progress):
    if progress is True:
        from ._progress import progress_bar

        return progress_bar("fits")
    return progress or None


class _Row(NamedTuple):
    params: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool
    status: str
    message: str
    iterations: int
    n: float


def _row(fit, k_labels: tuple[str, ...]) -> _Row:
    """A single fit's row (NaN where its parameters do not fill the batch's labels)."""
    # the errors are found during the fit: reading ``diagnostics`` would also run the deferred
    # information-matrix test (a warning at most), ~0.1 s per member
    errors = [d for d in fit._found if d.severity == "error"]
    status = SETTLED if fit.converged else (errors[0].code if errors else "not_converged")
    return _Row(_flat(fit.params, k_labels), _flat(fit.se, k_labels),
                math.nan if fit.loglik is None else float(fit.loglik), bool(fit.converged),
                status, "; ".join(f"{d.code}: {d.message}" for d in errors),
                int(fit.iterations), float(fit.n))


def _flat(values: Mapping | None, k_labels) -> np.ndarray:
    out = [x for v in (values or {}).values()
           for x in ([np.nan] if v is None else np.ravel(np.asarray(v, dtype=float)))]
    return np.asarray(out, dtype=float) if len(out) == len(k_labels) else \
        np.full(len(k_labels), np.nan)


def _labels_of(model: Model, fixed) -> tuple[str, ...]:
    names = [n for n in model.params if n not in (fixed or {})]
    return tuple(flat_labels(names, {n: model.params[n].shape for n in names}))


def _single(model, data, options, weights=None):
    """One member's fit, or the error that refused it (kept in that member's row)."""
    from ._fit import fit

    try:
        return fit(model, data, weights=weights, **options), None
    except MlekitError as err:
        return None, str(err)


def _collect(model, members, labels, options, weights, fast, report) -> FitBatch:
    """The rows: from the batched pass where it settled a member, else from the member's own
    fit (or the error that refused it)."""
    k_labels = fast.labels if fast is not None else _labels_of(model, options.get("fixed"))
    rows, fits = [], {}
    for i, data in enumerate(members):
        if fast is not None and fast.settled[i]:
            rows.append(_Row(fast.params[i], fast.se[i], float(fast.loglik[i]), True, SETTLED,
                             "", int(fast.iterations[i]), float(fast.n[i])))
            continue
        single, error = _single(model, data, options, None if weights is None else weights[i])
        if single is None:
            rows.append(_failed_row(k_labels, error, data))
        else:
            fits[i] = single
            if fast is None:  # vector parameters get their sizes from a fit
                found = tuple(flat_labels(single.param_names, {
                    n: np.shape(single.params[n]) for n in single.param_names}))
                k_labels = found if len(found) == len(k_labels) else k_labels
            rows.append(_row(single, k_labels))
        if report is not None and fast is None:
            report(i + 1, len(members))
    if report is not None and fast is not None:
        report(len(members), len(members))
    return _batch(model, labels, k_labels, rows, members, options, fits)


def _failed_row(k_labels, error: str, data) -> _Row:
    nan = np.full(len(k_labels), np.nan)
    try:
        n = len(data)
    except TypeError:
        n = 0
    return _Row(nan, nan.copy(), math.nan, False, "data", error, 0, float(n))


def _batch(model, labels, k_labels, rows: list[_Row], members, options, fits) -> FitBatch:
    def column(name, dtype):
        return np.array([getattr(r, name) for r in rows], dtype=dtype)

    out = FitBatch(
        model=model, labels=labels, param_labels=k_labels,
        params=np.array([r.params for r in rows], dtype=float).reshape(len(rows), -1),
        se=np.array([r.se for r in rows], dtype=float).reshape(len(rows), -1),
        loglik=column("loglik", float), n=column("n", float),
        converged=column("converged", bool), status=tuple(r.status for r in rows),
        messages=tuple(r.message for r in rows), iterations=column("iterations", int),
        _data=members, _options=options)
    out._fits.update(fits)
    return out
