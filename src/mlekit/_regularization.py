r"""The strength of a penalty: ``mk.path`` (estimates over a grid of alphas, warm-started) and
``mk.cv`` (K-fold cross-validated held-out log-likelihood over that grid).

The grid runs down from :math:`\alpha_{max} = \max_j |\partial\ell/\partial\beta_j| / r` at
the fit with every penalized coefficient 0 (the smallest alpha of an L1 / elastic-net penalty
that keeps them all 0, glmnet's lambda_max) to ``alpha_max * ratio``, evenly in log alpha;
each fit starts from the previous one's estimates. Cross-validation reports, per alpha, the
mean over the folds of the held-out log-likelihood per observation and its standard error
(sd over folds / sqrt(K)); the best alpha maximizes it, the one-standard-error choice is the
largest alpha within one standard error of the best (Breiman et al. 1984; glmnet's
``lambda.1se``): a sparser model that predicts as well.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._errors import ModelError
from ._penalties import L1, Penalty

#: grid defaults: how many alphas, and how far below alpha_max the grid ends
N_ALPHAS, RATIO = 30, 1e-3


def _target(fit_or_model, data):
    """(model, prepared data, fixed values) from a fit, or from a model and data."""
    from ._fit import _resolve_model
    from ._result import Fit

    if isinstance(fit_or_model, Fit):
        if data is not None:
            raise ModelError("pass a fit (its model and data are used) or a model and data, "
                             "not a fit and data.")
        ctx = fit_or_model._context
        if ctx is None:
            raise ModelError("this fit carries no data: refit it with mk.fit or mk.glm.")
        return ctx.model, np.asarray(ctx.x), dict(fit_or_model.fixed)
    if data is None:
        raise ModelError("a model needs its data: mk.cv(model, data, ...).")
    from ._data import observe

    model = _resolve_model(fit_or_model)
    x = observe(data, "data", ndim=1 + model.event_ndim)[0]
    return model, x, {}


def _factory(penalty) -> Callable[[float], Penalty]:
    """alpha -> Penalty from a class (mk.L1), a Penalty (its options kept) or a function."""
    if isinstance(penalty, type) and issubclass(penalty, Penalty):
        if penalty is Penalty:
            raise ModelError("penalty=mk.Penalty needs l1_ratio: use mk.ElasticNet(alpha, r).")
        return penalty
    if isinstance(penalty, Penalty):
        def same(alpha, p=penalty):
            return Penalty(alpha, p.l1_ratio, intercept=p.intercept, standardize=p.standardize,
                           params=p.params)
        return same
    if callable(penalty):
        return penalty
    raise ModelError(f"penalty={penalty!r} must be mk.L1, mk.L2, mk.ElasticNet(alpha, r) or a "
                     "function alpha -> penalty.")


def alpha_max(model, x, fixed, penalty: Penalty, **fit_options) -> float:
    """The smallest alpha at which the L1 part keeps every penalized coefficient at 0 (for a
    pure L2 penalty, 1000 times that of L1: where the coefficients are ~0 too)."""
    from ._fit import fit_with as fit_model

    names = penalty._names(model)
    zero = {n: np.zeros(model.params[n].shape) for n in names}
    null = fit_model(model, x, fixed={**fixed, **zero}, **fit_options)
    if not null.converged:
        raise ModelError(f"the model with every penalized parameter at 0 does not converge "
                         f"({null.message}); give alphas= explicitly.")
    scales = penalty._scales(model, x, names)
    grad = _score(null, names)
    ratio = penalty.l1_ratio if penalty.l1_ratio > 0 else 1e-3
    top = max(abs(grad[n]) / scales.get(n, 1.0) for n in names if scales.get(n, 1.0) > 0)
    return float(top / ratio) if top > 0 else 1.0


def _score(fit, names) -> dict[str, float]:
    """d loglik / d theta_n at the fit (all parameters in natural units), by autodiff."""
    import jax
    import jax.numpy as jnp

    ctx = fit._context
    params = {n: jnp.asarray(v) for n, v in ctx.params().items()}
    x = jnp.asarray(ctx.x)

    def total(p):
        return jnp.sum(ctx.model.logpdf(x, p))

    grad = jax.grad(total)(params)
    return {n: float(np.sum(np.asarray(grad[n]))) for n in names}


def _grid(alphas, top: float, n_alphas: int, ratio: float) -> np.ndarray:
    if alphas is None:  # a hair above alpha_max: rounding must not let one coefficient in
        return top * (1.0 + 1e-9) * np.logspace(0.0, math.log10(ratio), n_alphas)
    grid = np.sort(np.asarray(alphas, dtype=float))[::-1]
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or grid[-1] < 0:
        raise ModelError(f"alphas={alphas!r} must be a non-empty list of finite numbers >= 0.")
    return grid


@dataclass(frozen=True)
class Path:
    """Estimates along a grid of penalty strengths, largest alpha first."""

    alphas: np.ndarray
    fits: tuple
    penalty: str

    def to_pandas(self):
        """One row per alpha: alpha, every estimate, the number of non-zero penalized
        coefficients, the log-likelihood and log-posterior, convergence."""
        import pandas as pd

        rows = []
        for alpha, f in zip(self.alphas, self.fits, strict=True):
            rows.append({"alpha": alpha, **{n: f.params[n] for n in f.param_names},
                         "nonzero": _nonzero(f), "loglik": f.loglik,
                         "log_posterior": f.log_posterior, "converged": f.converged})
        return pd.DataFrame(rows)

    def __repr__(self):
        return (f"Path({self.penalty}, {len(self.alphas)} alphas from {self.alphas[0]:.4g} to "
                f"{self.alphas[-1]:.4g})")


def _nonzero(fit) -> int:
    penalized = [n for n, shown in fit.prior.items()]
    return int(sum(np.count_nonzero(fit.params[n]) for n in penalized))


def path(fit_or_model, data=None, *, penalty=L1, alphas: Sequence[float] | None = None,
         n_alphas: int = N_ALPHAS, ratio: float = RATIO, **fit_options) -> Path:
    r"""Fit along a grid of penalty strengths, each fit warm-started from the previous.

    Parameters
    ----------
    fit_or_model : Fit or Model
        A fit (``mk.glm(...)``: its model and data) or a model with ``data``.
    penalty : mk.L1, mk.L2, mk.ElasticNet(alpha, r) or callable
        The penalty family (a class, a penalty whose options are kept, or alpha -> penalty).
    alphas : sequence, optional
        The grid; by default ``n_alphas`` from alpha_max down to ``alpha_max * ratio``.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (rng.random(200) < 0.5).astype(float)
    >>> p = mk.path(mk.glm(X=X, y=y, family="binomial"), penalty=mk.L1, n_alphas=5)
    >>> int(p.to_pandas()["nonzero"].iloc[0])  # at alpha_max every coefficient is 0
    0
    """
    model, x, fixed = _target(fit_or_model, data)
    return _path_of(model, x, fixed, _factory(penalty), alphas, n_alphas, ratio, fit_options)


def _along(fit_model, model, x, fixed, make, grid, fit_options) -> tuple:
    fits, start = [], None
    for alpha in grid:
        options = dict(fit_options)
        if start is not None and "start" not in options:
            options["start"] = start
        f = fit_model(model, x, fixed=fixed or None, penalty=make(float(alpha)),
                      explain_prior=False, **options)
        if f.converged:
            start = {n: f.params[n] for n in f.param_names}
        fits.append(f)
    return tuple(fits)


@dataclass(frozen=True)
class CVResult:
    """K-fold cross-validation of a penalty's strength (see :func:`cv`)."""

    alphas: np.ndarray
    mean: np.ndarray  # held-out log-likelihood per observation, mean over folds
    se: np.ndarray    # its standard error over folds
    nonzero: np.ndarray
    best_alpha: float
    alpha_1se: float
    path: Path = field(repr=False)
    folds: int = 5

    @property
    def best(self):
        """The fit at the best alpha, on all the data."""
        return self.path.fits[int(np.flatnonzero(self.alphas == self.best_alpha)[0])]

    @property
    def one_se(self):
        """The fit at the one-standard-error alpha, on all the data."""
        return self.path.fits[int(np.flatnonzero(self.alphas == self.alpha_1se)[0])]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame({"alpha": self.alphas, "heldout_loglik": self.mean, "se": self.se,
                             "nonzero": self.nonzero,
                             "choice": ["best" if a == self.best_alpha else
                                        "1se" if a == self.alpha_1se else ""
                                        for a in self.alphas]})

    def __repr__(self):
        return (f"CVResult({self.folds}-fold, {len(self.alphas)} alphas: best {self.best_alpha:.4g}"
                f", one-SE {self.alpha_1se:.4g})")


def cv(fit_or_model, data=None, *, penalty=L1, alphas: Sequence[float] | None = None,
       folds: int = 5, seed: int = 0, n_alphas: int = N_ALPHAS, ratio: float = RATIO,
       **fit_options) -> CVResult:
    r"""K-fold cross-validation of the penalty's strength by held-out log-likelihood.

    The observations are split into ``folds`` groups by a seeded permutation; for each, the
    path is fitted on the others (warm-started along the grid) and the held-out
    log-likelihood :math:`\sum_{i \in \text{fold}} \log p(x_i \mid \hat\theta_\alpha)` taken per
    observation. Returns the table, the best alpha and the one-standard-error alpha, and the
    path on all the data (``.best``, ``.one_se`` are its fits).

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4))
    >>> y = (rng.random(300) < 1 / (1 + np.exp(-2 * X[:, 0]))).astype(float)
    >>> result = mk.cv(mk.glm(X=X, y=y, family="binomial"), penalty=mk.L1, n_alphas=8, seed=1)
    >>> result.one_se.params["x1"] > 0
    True
    """
    from ._fit import fit_with as fit_model

    if not (isinstance(folds, int) and not isinstance(folds, bool) and folds >= 2):
        raise ModelError(f"folds={folds!r} must be an integer >= 2, e.g. 5.")
    model, x, fixed = _target(fit_or_model, data)
    if x.shape[0] < 2 * folds:
        raise ModelError(f"{x.shape[0]} observations are too few for {folds}-fold "
                         "cross-validation; use fewer folds.")
    make = _factory(penalty)
    full = _path_of(model, x, fixed, make, alphas, n_alphas, ratio, fit_options)
    grid = full.alphas
    order = np.random.default_rng(seed).permutation(x.shape[0])
    scores = np.full((folds, grid.size), np.nan)
    for k, test in enumerate(np.array_split(order, folds)):
        train = np.setdiff1d(order, test)
        fits = _along(fit_model, model, x[np.sort(train)], fixed, make, grid, fit_options)
        for j, f in enumerate(fits):
            if f.converged:
                scores[k, j] = _heldout(model, x[np.sort(test)], f) / test.size
    if np.all(np.isnan(scores)):
        raise ModelError("no fit converged on any fold; check the model without the penalty.")
    mean = np.nanmean(scores, axis=0)
    se = np.nanstd(scores, axis=0, ddof=1) / np.sqrt(np.sum(~np.isnan(scores), axis=0))
    best = int(np.nanargmax(mean))
    within = np.flatnonzero(mean >= mean[best] - se[best])
    one_se = int(within.min())  # the grid runs from the largest alpha down
    nonzero = np.array([_nonzero(f) for f in full.fits])
    return CVResult(grid, mean, se, nonzero, float(grid[best]), float(grid[one_se]), full,
                    folds)


def _path_of(model, x, fixed, make, alphas, n_alphas, ratio, fit_options) -> Path:
    from ._fit import fit_with as fit_model

    top = alpha_max(model, x, fixed, make(1.0), **fit_options) if alphas is None else 1.0
    grid = _grid(alphas, top, n_alphas, ratio)
    return Path(grid, _along(fit_model, model, x, fixed, make, grid, fit_options),
                repr(make(1.0)).replace("alpha=1", "alpha"))


def _heldout(model, x_test: np.ndarray, fit) -> float:
    """The log-likelihood of held-out observations at the fit's estimates."""
    import jax.numpy as jnp

    params = {n: jnp.asarray(v, dtype=jnp.float64) for n, v in fit._context.params().items()}
    return float(np.sum(np.asarray(model.logpdf(jnp.asarray(x_test), params))))
