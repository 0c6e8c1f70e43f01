r"""Nonlinear regression by maximum likelihood: :math:`y_i \sim N(f(x_i, \theta), \sigma^2)`.

``mk.nls`` turns a mean function — a Python function written with ``jax.numpy`` or a formula
``"y ~ b1 * (1 - exp(-b2 * x))"`` parsed safely by :mod:`mlekit._expr` — into an ordinary
model over the data's rows ``[y, x_1..x_d]`` (``event_ndim=1``), and fits it with
:func:`mlekit.fit`: the same Newton trust-region engine, inference and diagnostics as every
other model. The estimates of :math:`\theta` are least squares; that of ``sd`` is
:math:`\sqrt{RSS/n}` (the MLE, not the classical :math:`\sqrt{RSS/(n-p)}`).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import jax.scipy.stats as jst
import numpy as np

from .._errors import DataError, ModelError
from .._expr import CONSTANTS, compile_expression
from .._inference.covariances import check_kind
from .._model import UserModel
from .._params import Positive, Real
from .design import _table

FAMILIES = ("gaussian",)
#: Newton iterations allowed by default: NIST's hardest problems from their first start take
#: ~1,400 (MGH17) and ~800 (Bennett5), each a pass over a few dozen rows
MAXITER = 2000
#: the second path's rounds, and the relative change of sd at which they stop
MAX_ROUNDS, SETTLED = 100, 1e-8
#: the residual scale's parameter name
SD = "sd"


# -- the model --------------------------------------------------------------------------------
class NLSModel(UserModel):
    """``y ~ Normal(mean(x, theta), sd)`` over rows ``[y, x_1..x_d]``.

    ``mean_rows(X, params)`` evaluates the mean on the predictor block ``X`` (n, d); ``X``
    (the predictors fitted) gives the Fisher information given the covariates. Models compare
    equal when their mean and parameters do (whatever their start values and data), so fits
    of one mean function from several starts share compiled code.
    """

    def __init__(self, mean_rows: Callable, key, names: tuple[str, ...], start: Mapping,
                 sd_start: float, label: str, predictors: tuple[str, ...], X: np.ndarray,
                 new_rows: Callable):
        params = {n: Real(init=float(start[n])) for n in names}
        params[SD] = Positive(init=float(sd_start))
        super().__init__(self._logpdf_rows, params, name=f"nls gaussian: {label}",
                         event_ndim=1)
        self.mean_rows, self.key, self.names = mean_rows, key, tuple(names)
        self.coefficients = self.names
        self.predictors, self.label, self.X = predictors, label, X
        self._new_rows = new_rows
        self.min_n = len(names) + 1

    def _logpdf_rows(self, x, p):
        return jst.norm.logpdf(x[:, 0], self.mean_rows(x[:, 1:], p), p[SD])

    def __eq__(self, other):
        return isinstance(other, NLSModel) and self.key == other.key

    def __hash__(self):
        return hash((NLSModel, self.key))

    def __repr__(self):
        return f"NLSModel({self.label!r}, params={list(self.params)})"

    # -- the mean and its derivatives -----------------------------------------------------------
    def mean(self, X: np.ndarray, params: Mapping) -> np.ndarray:
        """The mean at predictor rows ``X`` (n, d), numpy."""
        p = {n: jnp.asarray(params[n], dtype=jnp.float64) for n in self.names}
        mu = np.asarray(self.mean_rows(jnp.asarray(X, dtype=jnp.float64), p), dtype=float)
        return np.broadcast_to(mu, (X.shape[0],))

    def jacobian(self, X: np.ndarray, params: Mapping) -> np.ndarray:
        """d mean / d theta at rows ``X``: (n, p), columns in ``names`` order."""
        theta = jnp.asarray([float(params[n]) for n in self.names], dtype=jnp.float64)
        X = jnp.asarray(X, dtype=jnp.float64)

        def mean(v):
            mu = self.mean_rows(X, dict(zip(self.names, v, strict=True)))
            return jnp.broadcast_to(mu, (X.shape[0],))

        return np.asarray(jax.jacfwd(mean)(theta), dtype=float)

    def rms(self, rows: np.ndarray, params: Mapping) -> float:
        """sqrt(RSS / n) at ``params``: the MLE of sd given the mean's parameters."""
        resid = rows[:, 0] - self.mean(rows[:, 1:], params)
        return float(np.sqrt(np.mean(resid * resid)))

    def expected_information(self, params):
        """The Fisher information per observation given the covariates fitted:
        J'J / (n sd^2) for the mean's parameters (the Gauss-Newton matrix), 2 / sd^2 for sd,
        and 0 between them."""
        J = self.jacobian(self.X, params)
        n, p = J.shape
        var = float(params[SD]) ** 2
        info = np.zeros((p + 1, p + 1))
        info[:p, :p] = J.T @ J / (n * var)
        info[p, p] = 2.0 / var
        return info

    def predict(self, fit, newdata=None, scale: str = "response", se: bool = False,
                offset=None):
        """The mean at ``newdata`` (default: the rows fitted), with delta-method standard
        errors sqrt(g' C g), g = d mean / d theta, C the fit's covariance of theta."""
        if scale not in ("response", "link"):
            raise ModelError(f"scale={scale!r} must be 'response' (the mean; nls has no link).")
        if offset is not None:
            raise ModelError("nls has no offset: write it into the mean.")
        X = self.X if newdata is None else self._new_rows(newdata)
        value = self.mean(X, fit.params)
        if not se:
            return value
        if fit.cov is None:
            raise ModelError("no standard errors: the fit has no covariance (see its "
                             "diagnostics).")
        free = [n for n in self.names if n in fit.param_names]
        index = [fit.param_names.index(n) for n in free]
        J = self.jacobian(X, fit.params)[:, [self.names.index(n) for n in free]]
        cov = np.asarray(fit.cov)[np.ix_(index, index)]
        return value, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, cov, J), 0.0))

    def notes(self, params, n, fixed):
        """The MLE of sd divides the residual sum of squares by n; the classical residual
        standard error by n - p (as the GLM's Gaussian family says)."""
        from .._diagnostics import residual_sd_note

        p = sum(1 for name in self.names if name not in fixed)
        if SD in fixed or n <= p:
            return ()
        return (residual_sd_note(float(params[SD]), n, p, "R's nls sigma"),)


# -- the mean: a formula or a function --------------------------------------------------------
def _names_in(text: str) -> list[str]:
    """The variable names an expression uses (not the functions it calls), in order."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return []  # compile_expression reports the syntax error
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called and node.id not in out:
            out.append(node.id)
    return out


def _split_formula(formula: str) -> tuple[str, str]:
    if formula.count("~") != 1:
        raise ModelError(f"formula {formula!r} must have exactly one '~': 'response ~ mean', "
                         "e.g. 'y ~ b1 * (1 - exp(-b2 * x))'.")
    lhs, rhs = (s.strip() for s in formula.split("~"))
    if not lhs or not rhs:
        raise ModelError(f"formula {formula!r} needs the response left of '~' and the mean "
                         "right of it, e.g. 'y ~ b1 * (1 - exp(-b2 * x))'.")
    return lhs, rhs


def _check_start(start) -> dict[str, float]:
    if not isinstance(start, Mapping) or not start:
        raise ModelError(f"start={start!r} must be a non-empty dict of parameter name -> start "
                         "value, e.g. start={'b1': 500.0, 'b2': 1e-4}: nls needs a start value "
                         "for every parameter of the mean.")
    out = {}
    for name, value in start.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ModelError(f"start has the key {name!r}; parameter names are identifiers "
                             "such as 'b1'.")
        if name == SD:
            raise ModelError(f"start={{{SD!r}: ...}}: {SD!r} is the residual standard deviation "
                             "nls adds itself (started at the residuals' RMS); name the mean's "
                             "parameter differently.")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"start[{name!r}] = {value!r} is not a number.") from None
        if not np.isfinite(v):
            raise ModelError(f"start[{name!r}] = {value!r} is not finite; give a finite start "
                             "value.")
        out[name] = v
    return out


# -- data ---------------------------------------------------------------------------------------
def _column(table, name: str) -> np.ndarray:
    raw = np.asarray(table[name])  # pandas / polars series and lists alike
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"column {name!r} is not numeric (dtype {raw.dtype}); nls needs numbers "
                        "in the response and the predictors.") from None


def _columns_of(data) -> dict[str, object] | None:
    """A table (pandas, polars, dict of columns) as {name: column}, or None for no table."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {str(n): data[n] for n in data}
    table = _table(data)  # pandas; polars through to_pandas; else a DataError naming the type
    return {str(n): table[n] for n in table.columns}


def _complete_rows(columns: dict[str, np.ndarray], used: list[str]) -> np.ndarray:
    """Mask of the rows with a value in every used column (R's na.omit drops the others)."""
    n = {len(c) for c in columns.values()}
    if len(n) != 1:
        raise DataError(f"the columns have different lengths {sorted(n)}.")
    keep = np.ones(n.pop(), dtype=bool)
    for name in used:
        keep &= ~np.isnan(columns[name])
    return keep


def _as_array(value, name: str) -> np.ndarray:
    raw = np.asarray(value)
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name} is not numeric; nls needs numbers.") from None
    if arr.ndim not in (1, 2):
        raise DataError(f"{name} has shape {arr.shape}: give a vector (n,) or, for several "
                        "predictors, a matrix (n, d).")
    return arr


# -- nls ----------------------------------------------------------------------------------------
def nls(mean, data=None, *, start, x=None, y=None, response=None, family: str = "gaussian",
        **fit_options):
    r"""Fit a nonlinear regression by maximum likelihood.

    :math:`y_i = f(x_i, \theta) + \varepsilon_i`, :math:`\varepsilon_i \sim N(0, \sigma^2)`
    independent: the estimates of :math:`\theta` minimize the residual sum of squares, and
    :math:`\hat\sigma = \sqrt{RSS/n}` (the MLE; the classical residual standard error
    divides by :math:`n - p`). Newton's method with the exact Hessian in a scaled trust region
    maximizes the likelihood (the same engine, inference and diagnostics as every model).

    Parameters
    ----------
    mean : str or callable
        A formula ``"y ~ b1 * (1 - exp(-b2 * x))"``: the response (a column, or an
        expression of columns such as ``log(y)``) left of ``~``, the mean right of it, over
        the parameters named in ``start`` and the data's columns (numbers, ``+ - * / **``,
        ``exp log sqrt sin cos arctan ...``, ``pi``). Or a function ``mean(x, params)``
        written with ``jax.numpy``: ``x`` the predictors, (n,) for one, (n, d) for several;
        ``params`` a dict of scalars.
    data : DataFrame or dict, optional
        pandas or polars, or a dict of columns. With a function ``mean``, ``response`` names
        the response column (default ``"y"``) and ``x`` the predictor column(s) (default:
        every other column, in order).
    start : dict
        A start value for every parameter of the mean, e.g. ``{"b1": 500.0, "b2": 1e-4}``.
        The residual standard deviation ``sd`` is added and started at the RMS of the
        residuals there.
    x, y : array-like, optional
        Instead of ``data``: the predictor(s) (n,) or (n, d) and the response (n,). A formula
        then calls them ``x`` (or ``x1..xd``) and its left-hand side stands for ``y``.
    response : str, optional
        The response column of ``data`` for a function ``mean``.
    family : {"gaussian"}
        The error distribution; only the normal is available.
    **fit_options
        Passed to :func:`mlekit.fit`: ``fixed=``, ``maxiter=``, ``starts=``, ``cov=``,
        ``strict=``. Two defaults differ from ``fit``'s: ``cov="expected"``, the Fisher
        information given the predictors, :math:`J'J/\sigma^2` with :math:`J` the Jacobian of
        the mean (R's ``nls``, NIST's certificates and most software report this; its
        standard errors are theirs times :math:`\sqrt{(n-p)/n}`); ``cov="observed"`` adds
        the residuals' curvature :math:`-\sum_i r_i \nabla^2 f_i / \sigma^2`. And
        ``maxiter=2000``: far starts on curved valleys can take a thousand Newton steps.

    Returns
    -------
    Fit
        Parameters: those of the mean (in ``start``'s order), then ``sd``; ``fit.predict``
        gives the mean at new predictors, with delta-method standard errors.

    Notes
    -----
    Newton's method maximizes the likelihood over the mean's parameters and ``sd`` jointly.
    Where that finds no clean maximum from ``start`` (no convergence, or a ridge), a second
    path runs: least squares with ``sd`` held at the residuals' RMS, refreshed until it
    settles, then the full likelihood from there; its steps differ, and it passes some
    points where the first stops (NIST's Roszman1 from its first start, where the mean jumps
    at ``b4 = max(x)``). ``fit.message`` says when the estimate came from it, and
    ``fit.iterations`` counts both paths' steps.

    Examples
    --------
    >>> import numpy as np
    >>> import mlekit as mk
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> y = np.array([2.7, 1.8, 1.2, 0.8, 0.55, 0.37])
    >>> fit = mk.nls("y ~ a * exp(-k * x)", x=x, y=y, start={"a": 1.0, "k": 0.1})
    >>> round(fit.params["k"], 4)  # least squares, as scipy's curve_fit
    0.4021
    >>> round(fit.se["k"] * (6 / 4) ** 0.5, 5)  # with RSS / (n - p): curve_fit's error
    0.00222
    """

    if family not in FAMILIES:
        raise ModelError(f"family={family!r}: nls fits Gaussian errors only (family="
                         "'gaussian'); for counts or proportions with a linear predictor use "
                         "glm, or write the log-density with mk.Model.")
    start = _check_start(start)
    if isinstance(mean, str):
        model, rows = _formula_model(mean, data, start, x, y, response)
    elif callable(mean):
        model, rows = _function_model(mean, data, start, x, y, response)
    else:
        raise ModelError(f"mean={mean!r} must be a formula string 'y ~ b1 * exp(-b2 * x)' or a "
                         "function mean(x, params) written with jax.numpy.")
    return _fit(model, rows, dict(fit_options))


def _fit(model: NLSModel, rows: np.ndarray, options: dict):
    """Newton on the full likelihood from the start; where it finds no clean maximum, a second
    path (:func:`_least_squares_path`), and the better clean maximum of the two."""
    from .._fit import _raise_errors, fit

    map_fit = options.get("prior") is not None or options.get("penalty") is not None
    # the Gauss-Newton (expected) information is the likelihood's; a MAP fit's is the Laplace
    cov = options.pop("cov", "observed" if map_fit else "expected")
    groups = options.pop("groups", None)
    strict = options.pop("strict", False)
    options.setdefault("maxiter", MAXITER)
    check_kind(cov, groups)
    if not isinstance(strict, bool):
        raise ModelError(f"strict={strict!r} must be True or False.")
    out = fit(model, rows, **options)
    if not _clean(out) and SD not in (options.get("fixed") or {}) and not map_fit:
        second = _least_squares_path(model, rows, options)
        if second is not None and (not out.converged or second.loglik > out.loglik):
            out = dataclasses.replace(second, iterations=out.iterations + second.iterations)
    if strict:
        _raise_errors(out)
    return out if cov == "observed" or not out.converged else out.cov_as(cov, groups=groups)


def _clean(fit) -> bool:
    """Converged to a point where the parameters are identified (the fit's own findings; the
    deferred, costlier checks are left for when its diagnostics are read)."""
    return fit.converged and not any(d.severity == "error" or d.code == "not_identifiable"
                                     for d in fit._found)


def _least_squares_path(model: NLSModel, rows: np.ndarray, options: dict):
    """Least squares with ``sd`` held at the residuals' RMS (refreshed after each run until it
    settles: a profile-likelihood iteration), then the full likelihood from there. Its steps
    differ from those of the joint maximization, and it gets past some points where that
    stops (a discontinuity of the mean, an asymptote). The fit, if clean, else None."""
    from .._fit import fit

    fixed = dict(options.get("fixed") or {})
    budget = options["maxiter"]
    theta = {n: model.params[n].init for n in model.names if n not in fixed}
    sd, used, rounds = model.params[SD].init, 0, 0
    inner = {k: v for k, v in options.items() if k not in ("fixed", "maxiter", "starts")}
    while rounds < MAX_ROUNDS:
        rounds += 1
        run = fit(model, rows, fixed={**fixed, SD: sd}, start=theta, maxiter=budget - used,
                  **inner)
        used += run.iterations
        if not run.converged:
            return None
        theta = {n: run.params[n] for n in theta}
        new = model.rms(rows, {**fixed, **theta})
        if not new > 0:
            return None
        settled = abs(new - sd) <= SETTLED * sd
        sd = new
        if settled or used >= budget:
            break
    out = fit(model, rows, start={**theta, SD: sd}, maxiter=max(budget - used, 1),
              **{k: v for k, v in options.items() if k != "maxiter"})
    if not _clean(out):
        return None
    how = (f"{out.message} (reached by least squares with sd held at the residual RMS, "
           f"{rounds} round(s), then the full likelihood: Newton on the full likelihood from "
           "the start found no clean maximum)")
    return dataclasses.replace(out, message=how, iterations=used + out.iterations)


def _formula_model(formula, data, start, x, y, response):
    lhs, rhs = _split_formula(formula)
    if response is not None:
        raise ModelError(f"response={response!r}: the formula {formula!r} names the response "
                         "already (left of '~'); drop response=.")
    params = list(start)
    if data is not None:
        if x is not None or y is not None:
            raise ModelError("give either data= (a table) or arrays x= and y=, not both.")
        columns = _columns_of(data)
        lhs_names = _names_in(lhs)
        unknown = [n for n in lhs_names if n not in columns and n not in CONSTANTS]
        if unknown:
            raise ModelError(f"the response {lhs!r} uses {unknown}, which are not columns of "
                             f"the data ({list(columns)}).")
        lhs_cols = [n for n in lhs_names if n in columns]
        clash = [n for n in params if n in columns]
        if clash:
            raise ModelError(f"start names {clash}, which are also columns of the data: a name "
                             "is either a parameter or a column; rename one.")
        rhs_names = _names_in(rhs)
        predictors = [n for n in rhs_names if n in columns]
        arrays = {n: _column(columns, n) for n in dict.fromkeys(lhs_cols + predictors)}
        keep = _complete_rows(arrays, list(arrays))
        if not keep.any():
            raise DataError(f"every row of the data has a missing value in {list(arrays)}.")
        arrays = {n: a[keep] for n, a in arrays.items()}
    else:
        if x is None or y is None:
            raise ModelError(f"formula {formula!r} needs data= (a table with its columns), or "
                             "arrays x= and y=.")
        xa = _as_array(x, "x")
        predictors = ["x"] if xa.ndim == 1 else [f"x{j + 1}" for j in range(xa.shape[1])]
        lhs_names = [n for n in _names_in(lhs) if n not in CONSTANTS]
        if len(lhs_names) != 1:
            raise ModelError(f"with arrays x= and y=, the left-hand side {lhs!r} must be the "
                             "response's one name, e.g. 'y' or 'log(y)'.")
        clash = [n for n in params if n in predictors + lhs_names]
        if clash:
            raise ModelError(f"start names {clash}, which formula {formula!r} uses for the "
                             "data; rename the parameter.")
        ya = _as_array(y, "y")
        arrays = {lhs_names[0]: ya}
        cols = [xa] if xa.ndim == 1 else list(xa.T)
        arrays.update(zip(predictors, cols, strict=True))
        lhs_cols = lhs_names
        rhs_names = _names_in(rhs)
        if ya.ndim != 1 or len(ya) != len(cols[0]):
            raise DataError(f"y has shape {ya.shape} and x {xa.shape}: give one response per "
                            "row of x.")
    known = set(params) | set(predictors) | set(CONSTANTS)
    unknown = [n for n in rhs_names if n not in known]
    if unknown:
        where = (f"columns of the data ({list(columns)})" if data is not None else
                 f"names of the data ({[*lhs_names, *predictors]})")
        raise ModelError(f"the mean {rhs!r} uses {unknown}, which are neither {where} nor "
                         f"parameters with a start value ({params}): give start="
                         f"{{{unknown[0]!r}: ...}} for a parameter, or correct the name.")
    unused = [n for n in params if n not in rhs_names]
    if unused:
        raise ModelError(f"start gives {unused}, which the mean {rhs!r} does not use: such a "
                         "parameter cannot be estimated; drop it from start or correct the "
                         "formula.")
    predictors = [n for n in predictors if n in rhs_names]
    y_fun = compile_expression(lhs, lhs_cols)
    yv = np.asarray(y_fun({n: arrays[n] for n in lhs_cols}), dtype=np.float64)
    yv = np.broadcast_to(yv, arrays[lhs_cols[0]].shape) if lhs_cols else yv
    expr = compile_expression(rhs, params + predictors)
    preds = tuple(predictors)

    def mean_rows(X, p):
        env = dict(p)
        env.update({name: X[:, j] for j, name in enumerate(preds)})
        return expr(env)

    X = np.column_stack([arrays[n] for n in preds]) if preds else np.zeros((len(yv), 0))
    key = ("formula", rhs, tuple(params), preds)
    return _build(mean_rows, key, tuple(params), start, yv, X, f"{lhs} ~ {rhs}", preds)


def _function_model(fun, data, start, x, y, response):
    params = tuple(start)
    if data is not None:
        if y is not None or not (x is None or isinstance(x, str) or (
                isinstance(x, (list, tuple)) and all(isinstance(v, str) for v in x))):
            raise ModelError("give either data= (a table) or arrays x= and y=, not both "
                             "(with data=, x= may name the predictor columns).")
        columns = _columns_of(data)
        response = "y" if response is None else response
        if response not in columns:
            raise ModelError(f"response={response!r} is not a column of the data "
                             f"({list(columns)}); name the response column with response=.")
        if x is None:
            names = [n for n in columns if n != response]
        else:
            names = [x] if isinstance(x, str) else list(x)
        missing = [n for n in names if n not in columns]
        if missing or not names:
            raise ModelError(f"x={x!r}: the predictors must be columns of the data "
                             f"({list(columns)}); {missing or 'none'} are not.")
        arrays = {n: _column(columns, n) for n in [response] + names}
        keep = _complete_rows(arrays, list(arrays))
        if not keep.any():
            raise DataError(f"every row of the data has a missing value in {list(arrays)}.")
        yv = arrays[response][keep]
        X = np.column_stack([arrays[n][keep] for n in names])
        vector = len(names) == 1 and (x is None or isinstance(x, str))
        preds = tuple(names)
        label = response
    else:
        if x is None or y is None:
            raise ModelError("nls with a mean function needs data= (a table) with "
                             "response=, or arrays x= and y=.")
        xa, yv = _as_array(x, "x"), _as_array(y, "y")
        if yv.ndim != 1 or len(yv) != len(xa):
            raise DataError(f"y has shape {yv.shape} and x {xa.shape}: give one response per "
                            "row of x.")
        vector = xa.ndim == 1
        X = xa[:, None] if vector else xa
        preds = ("x",) if vector else tuple(f"x{j + 1}" for j in range(X.shape[1]))
        label = "y"

    def mean_rows(Xr, p):
        return fun(Xr[:, 0] if vector else Xr, p)

    name = getattr(fun, "__name__", "mean")
    key = ("function", fun, params, vector, X.shape[1])
    return _build(mean_rows, key, params, start, yv, X, f"{label} ~ {name}(x)", preds)


def _build(mean_rows, key, names, start, yv, X, label, preds):
    """The model and its rows, with ``sd`` started at the residuals' RMS at the start."""
    n = yv.shape[0]
    p = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in start.items()}
    try:
        mu = mean_rows(jnp.asarray(X, dtype=jnp.float64), p)
    except KeyError as err:
        raise ModelError(f"the mean function uses params[{err.args[0]!r}], which start= does "
                         f"not give; give start={{{err.args[0]!r}: ...}} (start has "
                         f"{list(start)}).") from None
    mu = np.asarray(mu, dtype=np.float64)
    if mu.shape not in ((), (n,)):
        raise ModelError(f"the mean returns shape {mu.shape} for {n} observations; it must "
                         f"return one value per observation, shape ({n},).")
    mu = np.broadcast_to(mu, (n,))
    finite = np.isfinite(mu)
    if not finite.all():
        i = int(np.argmin(finite))
        raise ModelError(f"the mean is not finite at the start values {start} (row {i}: "
                         f"{float(mu[i])!r}; {int((~finite).sum())} rows); choose start values "
                         "where it is defined.")
    y_ok = np.isfinite(yv)
    if not y_ok.all():
        i = int(np.argmin(y_ok))
        raise DataError(f"response[{i}] = {yv[i]!r} is not finite; remove or correct it.")
    resid = yv - mu
    rms = float(np.sqrt(np.mean(resid * resid)))
    scale = float(np.max(np.abs(yv))) if n else 1.0
    sd0 = rms if rms > 1e-8 * max(scale, 1e-300) else max(1e-8 * scale, 1e-300)
    model = NLSModel(mean_rows, key, names, start, sd0, label, preds, X,
                     lambda newdata: _new_rows(newdata, preds))
    rows = np.column_stack([yv, X])
    return model, rows


def _new_rows(newdata, preds: tuple[str, ...]) -> np.ndarray:
    """Predictor rows (m, d) of new data: a table with the predictor columns, or an array."""
    import pandas as pd

    if isinstance(newdata, Mapping | pd.DataFrame) or type(newdata).__module__.startswith(
            "polars"):  # a table
        columns = _columns_of(newdata)
        missing = [n for n in preds if n not in columns]
        if missing:
            raise DataError(f"newdata lacks the predictor column(s) {missing}; the model uses "
                            f"{list(preds)}.")
        if not preds:
            m = len(next(iter(columns.values()))) if columns else 0
            return np.zeros((m, 0))
        return np.column_stack([_column(columns, n) for n in preds])
    X = _as_array(newdata, "newdata")
    X = X[:, None] if X.ndim == 1 and len(preds) == 1 else X
    if X.ndim != 2 or X.shape[1] != len(preds):
        raise DataError(f"newdata has shape {X.shape}; the model has {len(preds)} "
                        f"predictor(s) {list(preds)}: give an array (m, {len(preds)}) or a "
                        "table with those columns.")
    return X
