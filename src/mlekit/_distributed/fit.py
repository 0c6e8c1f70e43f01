"""``mk.fit`` on a partitioned dataset: read and validate it in one pass (finishing there for
families with sufficient statistics), then maximize with the engine's own Newton, each
evaluation a pass over the partitions; the result is the same :class:`~mlekit.Fit`."""

from __future__ import annotations

import numpy as np

from .._errors import BoundaryEstimate, DataError, ModelError, NoEstimate
from .engine import (
    MEMORY_SHARE,
    SAMPLE_ROWS,
    ShardedData,
    available_memory,
    combine,
    load,
    summarize,
    tree,
)
from .partitions import Dataset, dataset


def as_dataset(data) -> Dataset:
    """A Dataset from a Dataset or a dask collection (one column, or a 1-D / 2-D array)."""
    if isinstance(data, Dataset):
        return data
    return dataset(data)


def read(data: Dataset, model) -> ShardedData:
    """The first pass: each partition read, validated and summarized (its statistics, a
    strided sample, its size), the rows kept in the workers' memory where they fit in half of
    it (else every later pass reads them again)."""
    import time

    import dask
    from dask import delayed

    start = time.perf_counter()
    lazy = [delayed(load, pure=False)(part, data.reader, model, label)
            for part, label in zip(data.parts, data.labels, strict=True)]
    persisted = data.nbytes is not None and data.nbytes <= MEMORY_SHARE * available_memory()
    rows = list(dask.persist(*lazy)) if persisted else lazy
    cap = max(16, SAMPLE_ROWS // len(rows))  # a sample of ~SAMPLE_ROWS however many parts
    summary = tree([delayed(summarize, pure=False)(r, model, cap) for r in rows],
                   combine).compute()
    if summary.n == 0:
        raise DataError(f"the dataset {data.source!r} has no rows: there is nothing to fit.")
    if summary.count <= 0:
        raise DataError("every weight is 0: there is nothing to fit.")
    sharded = ShardedData(data, rows, summary, persisted, lazy)
    sharded.record("read", time.perf_counter() - start)
    return sharded


def fit_dataset(model, data, *, fixed=None, start=None, maxiter=200, cov="observed",
                groups=None, starts=None, strict=False, prior=None, penalty=None,
                weights=None):
    """:func:`mlekit.fit` of a partitioned dataset (see :func:`mlekit.dataset`)."""
    from .._censored import CensoredModel
    from .._families.base import Family
    from .._fit import (
        _check_values,
        _fit_checked,
        _no_estimate,
        _raise_errors,
        _resolve_model,
    )
    from .._inference.covariances import check_kind

    data = as_dataset(data)
    for name, value, why in (
            ("starts", starts, "pass start={...}"),
            ("prior", prior, "fit a sample in memory for a MAP fit"),
            ("penalty", penalty, "fit a sample in memory for a penalized fit"),
            ("weights", weights, "name a column: mk.dataset(..., weights='w')"),
            ("groups", groups, "cluster-robust errors need the groups in memory")):
        if value is not None:
            raise ModelError(f"{name}= is not available for a partitioned dataset yet; {why}.")
    model = _resolve_model(model)
    if data.reader.censored:
        if model.event_ndim or not isinstance(model, Family):
            raise ModelError(f"censored data are fitted with a univariate family "
                             f"(mk.Weibull(), ...); got {model.name}.")
        model = CensoredModel(model)
    check_kind(cov, groups)
    if not (isinstance(maxiter, int) and maxiter >= 0):
        raise ModelError(f"maxiter={maxiter!r} must be a non-negative integer, e.g. 200.")
    if getattr(model, "presolved", ()):
        raise ModelError(f"{model.name} estimates {' and '.join(model.presolved)} by an order "
                         "statistic or the median, which a partitioned fit does not compute "
                         "yet; fix it (fixed={...}) or fit in memory.")
    sharded = read(data, model)
    declared, on_boundary, found = model, {}, ()
    try:
        try:  # the rules about all the data, on the sample with the data's whole range
            model, _ = model.prepare(sharded.check, sharded.span)
        except BoundaryEstimate as err:  # held there; the rest is maximized
            model, on_boundary, found = err.model or model, err.held, (err,)
        model = declared.merge_prepared([m for m in sharded.models if m is not None], model)
        fixed_values = _check_values(model, fixed, "fixed")
        start_values = _check_values(model, start, "start")
        if all(name in fixed_values for name in model.params):
            raise ModelError("every parameter is fixed; leave at least one free to estimate.")
        on_boundary = {n: np.asarray(v, dtype=float) for n, v in on_boundary.items()
                       if n not in fixed_values}
        stats = None
        parts = sharded.stats_parts
        if not on_boundary and parts and all(p is not None for p in parts):
            stats = model.merge_stats(list(parts))
        if stats is not None:  # the fit needs no further pass: the workers' memory is free
            model = model.with_stats(stats)
            sharded.release()
        model.check_existence(sharded, fixed_values, stats)  # (passes where it reads them)
        out = _fit_checked(model, sharded, fixed_values, start_values, on_boundary, found,
                           maxiter, stats)
    except NoEstimate as err:
        model = err.model or model
        out = _no_estimate(model, sharded, _check_values(model, fixed, "fixed"), err)
    if strict:
        _raise_errors(out)
    return out if cov == "observed" or not out.converged else out.cov_as(cov)

