"""``mk.glm`` and ``mk.lm``: build the design, the model, and fit it like any other."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._errors import ModelError
from .design import FormulaRows, _aligned, covariates, from_arrays, from_formula
from .glm import GLM


def glm(formula: str | None = None, data=None, *, family: str = "gaussian",
        link: str | None = None, X=None, y=None, intercept: bool = True, names=None,
        trials=None, offset=None, weights=None, **fit_options):
    r"""Fit a generalized linear model by maximum likelihood.

    :math:`g(E[y_i]) = x_i'\beta + \text{offset}_i`, with :math:`y_i` from ``family`` and
    the link ``g``; Newton's method with the exact Hessian (the same engine, inference and
    diagnostics as every model).

    Parameters
    ----------
    formula : str, optional
        ``"y ~ x1 + C(group) + offset(log(exposure))"`` over ``data`` (formulaic syntax;
        factors get R's treatment contrasts, the first level the reference);
        ``"cbind(successes, failures) ~ ..."`` for binomial counts.
    data : DataFrame or dict, optional
        pandas or polars, or a dict of columns.
    family : {"gaussian", "binomial", "poisson", "negative_binomial", "gamma"}
    link : str, optional
        "logit", "probit", "cloglog", "log", "identity" or "inverse" (the family's default:
        logit, log, identity, inverse for the gamma).
    X, y : array-like, optional
        Instead of a formula: the design (n, p) and the response; ``intercept=True`` adds a
        first column of ones named ``Intercept``; ``names`` names X's columns (pandas: its
        column names; else x1..xp); ``trials``: binomial trials per row.
    offset, weights : array-like or str, optional
        An offset on the linear predictor, frequency weights (a column name with a formula).
    **fit_options
        Passed to :func:`mlekit.fit`: ``cov=``, ``starts=``, ``strict=``, ``maxiter=``, ...

    Returns
    -------
    Fit
        One parameter per coefficient, named after its design column, plus the family's
        scale ("sd", "size" or "shape").

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.glm(X=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], y=[0, 0, 1, 0, 1, 1], family="binomial")
    >>> fit.param_names
    ('Intercept', 'x1')
    """
    from .._fit import fit

    if formula is not None and (X is not None or y is not None):
        raise ModelError("give either a formula (with data) or X and y, not both.")
    if formula is not None:
        if data is None:
            raise ModelError(f"formula {formula!r} needs data=, a table with its columns.")
        if trials is not None:
            raise ModelError("with a formula, give binomial trials as cbind(successes, "
                             "failures) on the left-hand side.")
        if _partitioned(data):
            return fit(*_partitioned_glm(formula, data, family, link, offset, weights),
                       **fit_options)
        design = from_formula(formula, data, offset=offset, weights=weights)
    elif X is not None and y is not None:
        design = from_arrays(X, y, intercept=intercept, names=names, trials=trials,
                             offset=offset, weights=weights)
    else:
        raise ModelError("glm needs a formula and data, or X= and y=.")
    model = GLM(family, link, design.columns, design)
    return fit(model, design.rows(), **fit_options)


def _partitioned(data) -> bool:
    from .._fit import _partitioned

    return _partitioned(data)


def _partitioned_glm(formula, data, family, link, offset, weights):
    """(GLM, dataset of its rows) for a partitioned table: the formula's columns (factor
    levels included) come from the first partition, and every partition is read with them."""
    from .._distributed.partitions import Reader, dataset

    data = data if hasattr(data, "with_reader") else dataset(data)
    for name, value in (("offset", offset), ("weights", weights)):
        if value is not None and not isinstance(value, str):
            raise ModelError(f"{name}= of a partitioned dataset must name a column.")
    first = from_formula(formula, data.parts[0].compute(), offset=offset, weights=weights)
    rows = FormulaRows(formula, first.specs, offset, weights)
    return GLM(family, link, first.columns), data.with_reader(Reader(design=rows))


def lm(formula: str | None = None, data=None, **options):
    r"""Fit a linear model by maximum likelihood: :math:`y = X\beta + \varepsilon`,
    :math:`\varepsilon \sim N(0, \sigma^2)`; ``glm`` with ``family="gaussian"`` and the
    identity link. The MLE of the coefficients is least squares; that of ``sd`` is
    :math:`\sqrt{RSS/n}` (not the classical :math:`\sqrt{RSS/(n-p)}`).

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.lm(X=[1.0, 2.0, 3.0, 4.0], y=[2.1, 3.9, 6.2, 7.8])
    >>> round(fit.params["x1"], 6)
    1.94
    """
    for key in ("family", "link"):
        if key in options:
            raise ModelError(f"lm is the Gaussian model with the identity link; use glm for "
                             f"{key}=.")
    return glm(formula, data, family="gaussian", **options)


def aft(formula: str | None = None, data=None, *, dist: str = "weibull", X=None, y=None,
        intercept: bool = True, names=None, offset=None, weights=None, lower=None, upper=None,
        **fit_options):
    r"""Fit an accelerated failure time model by maximum likelihood, as R's ``survreg``:

    .. math::  \log T_i = x_i'\beta + \text{offset}_i + \sigma W_i,

    W standard extreme-value (``dist="weibull"``; ``"exponential"`` fixes :math:`\sigma = 1`),
    normal (``"lognormal"``) or logistic (``"loglogistic"``); ``"gaussian"`` and
    ``"logistic"`` model T itself (a Tobit model). Right-, left- and interval-censored and
    truncated lifetimes contribute their probabilities (see :func:`mlekit.Censored`).

    Parameters
    ----------
    formula : str, optional
        ``"Surv(time, status) ~ age + sex"`` over ``data`` (status 1/0, or R's 2/1),
        ``"Censored(left, right) ~ ..."`` in fitdistrplus's coding, or a column of exact
        lifetimes on the left; the right-hand side as in :func:`mlekit.glm`, with
        ``offset(...)`` terms.
    data : DataFrame or dict, optional
    dist : {"weibull", "exponential", "lognormal", "loglogistic", "gaussian", "logistic"}
    X, y : optional
        Instead of a formula: the design (n, p) and ``y`` an ``mk.Survival`` /
        ``mk.Censored`` / ``mk.Truncated`` response (or exact lifetimes).
    offset, weights : array-like or str, optional
        An offset on the linear predictor; frequency weights (column names with a formula).
    lower, upper : float, array-like or str, optional
        Truncation of the lifetimes (a column name with a formula: left truncation at an
        entry time is delayed entry).
    **fit_options
        Passed to :func:`mlekit.fit` (``cov=``, ``prior=``, ``strict=``, ...).

    Returns
    -------
    Fit
        One coefficient per design column and ``scale`` (sigma; R prints
        ``Log(scale)``, here ``fit.transform("log(scale)")``).

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.aft(X=[0, 0, 0, 1, 1, 1, 0, 1], y=mk.Survival([5, 8, 12, 20, 25, 30, 9, 40],
    ...                                                         [1, 1, 0, 1, 1, 0, 1, 1]))
    >>> fit.param_names
    ('Intercept', 'x1', 'scale')
    """
    from .._censored import Censored, Truncated
    from .._fit import fit
    from .survreg import AFT, rows_of

    if formula is not None and (X is not None or y is not None):
        raise ModelError("give either a formula (with data) or X and y, not both.")
    if formula is not None:
        if data is None:
            raise ModelError(f"formula {formula!r} needs data=, a table with its columns.")
        if _partitioned(data):
            return fit(*_partitioned_aft(formula, data, dist, offset, weights, lower, upper),
                       **fit_options)
        rows, w, design = AftRows(formula, None, offset, weights, lower, upper).read(data)
        return fit(AFT(dist, design.columns, design), rows, weights=w, **fit_options)
    if X is not None and y is not None:
        arrays = from_arrays(X, np.zeros(np.shape(X)[0]), intercept=intercept, names=names,
                             offset=offset, weights=weights)
        design, X, w, off = arrays, arrays.X, arrays.weights, arrays.offset
        response = y if isinstance(y, Censored) else Censored(y, y)
    else:
        raise ModelError("aft needs a formula and data, or X= and y=.")
    if lower is not None or upper is not None:
        response = Truncated(response, lower=lower, upper=upper)
    model = AFT(dist, design.columns, design)
    return fit(model, rows_of(response, X, off), weights=w, **fit_options)


@dataclass(frozen=True)
class AftRows:
    """An AFT formula's rows and weights from a table; with ``specs`` (the first partition's
    model spec) one partition of a dataset, read with the same columns."""

    formula: str
    specs: object = None
    offset: object = None
    weights: object = None
    lower: object = None
    upper: object = None

    def read(self, table):
        """(rows, weights or None, the covariates' design)."""
        from .._censored import Truncated
        from .survreg import response_of, rows_of

        table, kept, X, design = covariates(self.formula, table, self.offset, self.specs)
        response, _ = response_of(self.formula.split("~", 1)[0], table.iloc[kept])
        w = None if self.weights is None else _aligned(self.weights, table, kept, "weights")
        lower, upper = (None if b is None else _aligned(b, table, kept, name)
                        if isinstance(b, str) else b
                        for b, name in ((self.lower, "lower"), (self.upper, "upper")))
        if lower is not None or upper is not None:
            response = Truncated(response, lower=lower, upper=upper)
        return rows_of(response, X, design.offset), w, design

    def __call__(self, table):
        rows, w, _ = self.read(table)
        return rows, w


def _partitioned_aft(formula, data, dist, offset, weights, lower, upper):
    """(AFT model, dataset of its rows) for a partitioned table (as :func:`_partitioned_glm`)."""
    from .._distributed.partitions import Reader, dataset
    from .survreg import AFT

    data = data if hasattr(data, "with_reader") else dataset(data)
    for name, value in (("offset", offset), ("weights", weights)):
        if value is not None and not isinstance(value, str):
            raise ModelError(f"{name}= of a partitioned dataset must name a column.")
    _, _, first = AftRows(formula, None, offset, weights, lower, upper).read(
        data.parts[0].compute())
    rows = AftRows(formula, first.spec, offset, weights, lower, upper)
    return AFT(dist, first.columns), data.with_reader(Reader(design=rows))
