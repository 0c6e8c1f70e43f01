"""The one protocol every fit target implements: a per-observation log-likelihood.

The optimizer, the inference and the diagnostics see a model only through this class:
``params`` (the declared parameters), ``logpdf(x, params)`` (the log-density of each
observation), ``prepare`` (validate and encode data), and ``start`` (start values).
Families add optional speed-ups (sufficient statistics, closed forms) that the engine
verifies against ``logpdf``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ._errors import DataError, ModelError, NoEstimate
from ._params import Param


@dataclass(frozen=True)
class Support:
    """Where observations may lie: an interval of the reals, optionally integers only."""

    lower: float = -math.inf
    upper: float = math.inf
    lower_open: bool = True
    upper_open: bool = True
    integer: bool = False

    def describe(self) -> str:
        if self.integer:
            if self.lower == 0 and self.upper == 1:
                return "{0, 1}"
            if self.upper == math.inf:
                return f"integers >= {self.lower:g}"
            return f"integers {self.lower:g}..{self.upper:g}"
        lo = "(" if self.lower_open else "["
        hi = ")" if self.upper_open else "]"
        if self.lower == -math.inf and self.upper == math.inf:
            return "all real numbers"
        if self.upper == math.inf:
            return f"x {'>' if self.lower_open else '>='} {self.lower:g}"
        return f"x in {lo}{self.lower:g}, {self.upper:g}{hi}"

    def covers(self, lo: float, hi: float) -> bool:
        """True when the whole range [lo, hi] lies in the support (integrality aside)."""
        above = lo > self.lower if self.lower_open else lo >= self.lower
        below = hi < self.upper if self.upper_open else hi <= self.upper
        return bool(above and below)

    def violations(self, x: np.ndarray) -> np.ndarray:
        """Boolean mask of observations outside the support."""
        bad = np.zeros(x.shape, dtype=bool)
        if self.lower > -math.inf:
            bad |= (x <= self.lower) if self.lower_open else (x < self.lower)
        if self.upper < math.inf:
            bad |= (x >= self.upper) if self.upper_open else (x > self.upper)
        if self.integer:
            bad |= x != np.round(x)
        return bad


REALS = Support()


def data_range(x: np.ndarray, span: tuple[float, float] | None) -> tuple[float, float]:
    """(min, max) of the data: ``span`` where the caller measured it already, else two passes."""
    return span if span is not None else (float(x.min()), float(x.max()))


class Model:
    """Base of every fit target: declared parameters and a per-observation log-density.

    Subclasses define ``name``, ``params`` and ``logpdf``; the rest has working defaults.
    Instances are immutable; compiled code is keyed on them (families compare by value).
    """

    name: str = "model"
    support: Support = REALS
    #: the smallest number of observations with which an interior maximum can exist
    min_n: int = 1
    #: True when a positive spread is needed (constant data has no interior MLE)
    needs_spread: bool = False
    #: True when ``suffstats``/``loglik_stats`` are defined (exponential families)
    sufficient: bool = False
    #: advice appended to the out-of-support error (e.g. how to convert degrees to radians)
    support_hint: str = ""
    #: True when finite sufficient statistics prove every observation finite and inside the
    #: support (e.g. a finite sum of log x proves x > 0); ``prepare`` must then do nothing but
    #: the support, size and spread checks, which the engine skips (one pass less over the data)
    stats_prove_support: bool = False
    #: 0 for scalar observations (data of shape (n,)), 1 for vectors (data of shape (n, d))
    event_ndim: int = 0
    #: parameters whose MLE is an order statistic of the data (Uniform's ends, Pareto's scale),
    #: set by :meth:`boundary_estimate` before the others are maximized
    boundary: tuple[str, ...] = ()
    #: parameters in which the log-likelihood is not differentiable (Laplace's location, the
    #: median): also set by :meth:`boundary_estimate` first; unlike order statistics they are
    #: asymptotically normal, with the variance :meth:`presolved_variance` gives
    nonsmooth: tuple[str, ...] = ()
    #: regression coefficients: the summary shows their Wald test of 0 (z and p-value)
    coefficients: tuple[str, ...] = ()
    #: where the ``coefficients`` enter the log-likelihood only through a linear predictor
    #: eta_i = x[i, design_columns] @ beta (a GLM): the columns of x holding the design, and
    #: :meth:`logpdf_eta` gives the log-density from eta. The engine then forms the
    #: coefficients' derivatives X'd and X'DX by BLAS from per-observation derivatives in eta.
    design_columns: slice | None = None

    @property
    def params(self) -> Mapping[str, Param]:
        raise NotImplementedError

    def logpdf(self, x, params):
        """Log-density of each observation (JAX-traceable): array like ``x``."""
        raise NotImplementedError

    def logpdf_eta(self, x, eta, params):
        """With ``design_columns``: the log-density of each observation given its linear
        predictor ``eta`` and the other parameters (JAX-traceable; it reads only the columns
        outside the design, and is given x without them); ``logpdf`` is this at
        ``eta = x[:, design_columns] @ beta``."""
        raise NotImplementedError

    # -- data --------------------------------------------------------------------------------

    def encode(self, data) -> tuple[Model, object]:
        """(the model, the data as rows) for models whose data come in another form (a
        likelihood head's ``(inputs, targets)`` pairs); by default both as they are."""
        return self, data

    def prepare(self, x: np.ndarray, span: tuple[float, float] | None = None
                ) -> tuple[Model, np.ndarray]:
        """Check data against the support; return the model to fit (families whose shape
        depends on the data, e.g. categorical, resolve it here) and the encoded data.
        ``span`` is the data's (min, max) where the caller has it already."""
        lo, hi = data_range(x, span)
        # the range first; the per-observation mask only on failure
        if not self.support.covers(lo, hi) or (self.support.integer and np.any(x != np.round(x))):
            bad = self.support.violations(x)
            i = int(np.argmax(bad))
            raise DataError(
                f"x[{i}] = {float(x[i])!r} is outside the support of {self.name} "
                f"({self.support.describe()}); {int(bad.sum())} value(s) are. "
                + (self.support_hint or
                   "Remove or correct them, or choose a family whose support contains them.")
            )
        n = x.shape[0]
        listed = " and ".join(self.params)
        if n < self.min_n:
            raise NoEstimate(
                f"with n={n} observation(s) the {self.name} likelihood in {listed} has no "
                f"maximum (it grows without bound as the spread shrinks to 0): estimating "
                f"{len(self.params)} parameter(s) needs at least {self.min_n} observations",
                "collect more data, or fix parameters with fixed={...}")
        if self.needs_spread and lo == hi:
            raise NoEstimate(
                f"all {n} observations equal {float(x[0])!r}: the {self.name} likelihood in "
                f"{listed} grows without bound as the spread goes to 0, so no maximum "
                "likelihood estimate exists",
                "it is estimable once the data hold at least two distinct values; check the "
                "data (a placeholder value? too coarse rounding?), or fix the spread parameter "
                "with fixed={...}")
        return self, x

    def start(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Start values in natural units; the default takes each parameter's ``init``."""
        out = {}
        for name, p in self.params.items():
            if p.init is None:
                raise ModelError(
                    f"parameter {name!r} of {self.name} has no start value; "
                    f"declare it with init=..., or pass start={{{name!r}: value}} to fit()."
                )
            out[name] = p.start()
        return out

    def start_rows(self, X: np.ndarray) -> dict[str, np.ndarray] | None:
        """:meth:`start` for many samples of one length at once (the rows of ``X``): one
        array of starts per parameter, or None (the default: ``start`` runs per sample).
        Batched fits (:func:`mlekit.fit_many`) use it."""
        return None

    @property
    def presolved(self) -> tuple[str, ...]:
        """Parameters estimated straight from the data before Newton maximizes the rest."""
        return self.boundary + self.nonsmooth

    def boundary_estimate(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The MLE of the ``presolved`` parameters, from the data (order statistics, medians)."""
        raise NotImplementedError(f"{self.name} has no boundary parameters")

    def presolved_variance(self, params: Mapping[str, np.ndarray], n: int) -> dict[str, float]:
        """Asymptotic variances of the ``nonsmooth`` estimates (from the expected information,
        as the observed one does not exist there)."""
        return {}

    def boundary_fallback(self, x: np.ndarray, fixed: Mapping[str, np.ndarray]):
        """Where Newton finds no interior maximum because the likelihood is unbounded at a
        boundary set by the data: ``(boundary values, data to fit the rest on, why)``, else
        None (the default: the failure stands as reported)."""
        return None

    def starting_points(self, x: np.ndarray, number: int, seed: int) -> list[dict] | None:
        """``number`` - 1 start values for ``mk.fit(..., starts=number)`` besides the default
        start, where the model has a better rule than the engine's (its start rule on random
        subsamples, jittered): a mixture runs EM from other seeds. None: the engine's rule."""
        return None

    def basis(self, x: np.ndarray, fixed: Mapping[str, np.ndarray]):
        """Coordinates for Newton: ``(names, T)`` where the free scalar real parameters
        ``names`` (consecutive in ``params``) are best optimized as ``T @ v``, with the
        Hessian in ``v`` well conditioned; or None (the default: their own coordinates).
        Estimates, covariances and every inference are reported in the parameters' own
        coordinates either way (the delta method through T is exact: the map is linear)."""
        return None

    def no_maximum(self, x: np.ndarray, fixed: Mapping[str, np.ndarray]):
        """Asked where Newton found no clean maximum: the ``NoEstimate`` saying why no MLE
        exists for these data (a GLM: separation, found exactly), or None (the default: the
        fit's own diagnostics stand)."""
        return None

    def diverging(self, x: np.ndarray, params: Mapping[str, np.ndarray]):
        """Why an estimate at which Newton's tests pass is no maximum but a point on the way to
        one at infinity (the likelihood still rises, however slowly), or None: the default, for
        models where a vanishing score means a stationary point. It may return a Diagnostic
        (an error) instead of a message, with its own code and remedy."""
        return None

    #: True where :meth:`diverging` is also asked where Newton stopped short of convergence
    #: (a likelihood head: separated classes run to the iteration limit)
    diverging_at_stop: bool = False

    def nonregular(self, params: Mapping[str, np.ndarray]) -> tuple[str, ...]:
        """Parameters whose estimator converges faster than 1/sqrt(n) at these estimates, so the
        usual asymptotic theory does not apply to them (no standard errors; the others' are
        computed treating them as known). By default the boundary parameters."""
        return self.boundary

    def statistics(self, fit) -> dict:
        """Model-specific statistics a summary adds (a GLM's deviance, null deviance and
        dispersion): {name: number or None}. Default: none."""
        return {}

    def t_test_df(self, fit) -> float | None:
        """Degrees of freedom where the coefficients' test of 0 is a t test, R's way for a
        linear model (exact under normal errors): t = estimate / (its SE with sd^2 = RSS / df),
        on df. None (the default): the Wald z test."""
        return None

    def predict(self, fit, newdata=None, scale: str = "response", se: bool = False,
                offset=None):
        """Predictions of a regression model (see :meth:`Fit.predict`); others have none."""
        raise ModelError(f"{self.name} is not a regression: it makes no predictions; "
                         "fit.transform gives functions of its parameters.")

    def predict_proba(self, fit, newdata=None) -> np.ndarray:
        """A mixture's responsibilities P(component | x) (see :meth:`Fit.predict_proba`)."""
        raise ModelError(f"{self.name} is not a mixture: it has no components to assign.")

    def notes(self, params: Mapping[str, np.ndarray], n: int, fixed: Mapping[str, np.ndarray]
              ) -> tuple:
        """Advice on this model's estimator at these estimates (``note`` Diagnostics: the
        normal's biased variance in small samples). Default: none."""
        return ()

    def canonical(self, params: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        """The representative of ``params`` among the points the model cannot tell apart (its
        symmetries, e.g. a mixture's relabelled components), so that multiple starts count
        them as one optimum. Default: every point is its own."""
        return params

    def boundary_interval(self, label: str, quantile: float, x: np.ndarray
                          ) -> tuple[float, float]:
        """The likelihood-ratio interval ``(lo, hi)`` (deviance cut-off ``quantile``, data
        ``x``) of an entry of a vector parameter pinned on the boundary (``label``, e.g.
        "probs[2]"), for models that pin one (a categorical's never-seen level); scalars held
        on the boundary need no help (their profile is computed by refitting)."""
        raise NotImplementedError(f"{self.name} pins no vector entries on the boundary")

    def sample(self, params: Mapping[str, np.ndarray], size: int, rng=None) -> np.ndarray:
        """``size`` independent draws at ``params`` (numpy): needed by the parametric bootstrap
        and the Monte Carlo expected information. Families define it; user models may."""
        raise NotImplementedError(f"{self.name} defines no sampler")

    def expected_information(self, params: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """The Fisher information of one observation in natural units, over all declared
        parameters flattened in declaration order, where it has a closed form; else None (the
        default), and it is computed as an expectation (exact sums or Monte Carlo)."""
        return None

    # -- optional speed-ups (families) ---------------------------------------------------------
    def proven_stats(self, x: np.ndarray) -> np.ndarray | None:
        """The sufficient statistics where computing them also proves the data valid (with
        ``stats_prove_support``), else None: then the engine runs the full checks."""
        if not self.stats_prove_support:
            return None
        with np.errstate(all="ignore"):  # log of a negative value: NaN, which is the signal
            stats = self.suffstats(x)
        return stats if np.all(np.isfinite(stats)) else None

    def check_existence(self, x: np.ndarray, fixed: Mapping[str, np.ndarray],
                        stats: np.ndarray | None) -> None:
        """Raise DataError where no MLE exists for these data with ``fixed`` held (e.g. a
        negative binomial on data that are not over-dispersed, unless its size is fixed).
        ``stats`` are the sufficient statistics where the engine has them. Default: nothing."""

    def with_stats(self, stats: np.ndarray) -> Model:
        """The model to fit, given proven statistics (families whose shape the data decide,
        e.g. the categorical's number of categories, resolve it here, as ``prepare`` does)."""
        return self

    def suffstats(self, x: np.ndarray) -> np.ndarray:
        """Sufficient statistics of the data (numpy: one or two fast passes, no device copy)."""
        raise NotImplementedError

    #: True where :meth:`suffstats` are sums over observations, so that those of parts add up
    additive_stats: bool = False

    def merge_stats(self, parts: list[np.ndarray]) -> np.ndarray | None:
        """The statistics of all the data from those of its parts (a partitioned dataset's),
        or None where they do not merge: a distributed fit then sums the log-likelihood
        itself. By default their sum, for ``additive_stats``."""
        return np.sum(parts, axis=0) if self.additive_stats and parts else None

    def merge_prepared(self, parts: list[Model], whole: Model) -> Model:
        """The model to fit to a partitioned dataset, given what :meth:`prepare` made of each
        partition (``parts``) and of a sample of the whole holding every distinct value of
        discrete data (``whole``): that one where the partitions agree with it; else this
        model as declared, the general one (a binomial GLM whose trials are not all 1
        somewhere)."""
        return whole if all(m == whole for m in parts) else self

    def loglik_stats(self, stats, params):
        """Total log-likelihood from sufficient statistics (JAX)."""
        raise NotImplementedError

    def closed_form(self, stats: np.ndarray, fixed: Mapping[str, np.ndarray]) -> dict | None:
        """The MLE in closed form from the statistics, or None where there is none."""
        return None


class UserModel(Model):
    """A model from a user's log-density function: ``mk.Model(logpdf, params={...})``.

    Parameters
    ----------
    logpdf : callable
        ``logpdf(x, params) -> array``: the log-density of each observation, written with
        ``jax.numpy``; ``params`` is a dict of parameter values in natural units.
    params : dict
        Parameter name -> declaration (``mk.Real``, ``mk.Positive``, ``mk.UnitInterval``, ...).
    support : Support, optional
        Where the observations may lie (checked before fitting).
    name : str
        A label used in summaries and error messages.
    event_ndim : int
        0 (default) for scalar observations, data of shape (n,); 1 for vector observations,
        data of shape (n, d), each row one observation (e.g. a response with its covariates).
    canonical : callable, optional
        ``canonical(params) -> params``: the representative of the parameter values the model
        cannot tell apart (e.g. sort the components of a mixture), so that multiple starts
        (``mk.fit(..., starts=N)``) count relabelled maxima as one.

    Examples
    --------
    A zero-inflated Poisson:

    >>> import jax.numpy as jnp, jax.scipy.special as jss, mlekit as mk
    >>> def zip_logpdf(x, p):
    ...     pois = x * jnp.log(p["lambda"]) - p["lambda"] - jss.gammaln(x + 1)
    ...     zero = jnp.logaddexp(jnp.log(p["pi"]), jnp.log1p(-p["pi"]) - p["lambda"])
    ...     return jnp.where(x == 0, zero, jnp.log1p(-p["pi"]) + pois)
    >>> zip_model = mk.Model(zip_logpdf, params={"pi": mk.UnitInterval(init=0.5),
    ...                                          "lambda": mk.Positive(init=1.0)})
    >>> fit = mk.fit(zip_model, [0, 0, 0, 1, 2, 0, 3, 1, 0, 2])
    >>> round(fit.params["lambda"], 3)  # solves mean(x | x > 0) = lambda / (1 - exp(-lambda))
    1.318
    """

    def __init__(
        self,
        logpdf: Callable,
        params: Mapping[str, Param],
        support: Support | None = None,
        name: str = "model",
        event_ndim: int = 0,
        canonical: Callable | None = None,
    ):
        if not callable(logpdf):
            raise ModelError(f"logpdf must be a function logpdf(x, params); got {logpdf!r}.")
        if not isinstance(params, Mapping) or not params:
            raise ModelError(
                "params must be a non-empty dict of name -> mk.Real(...) / mk.Positive(...) / ..."
            )
        for key, value in params.items():
            if not isinstance(value, Param):
                raise ModelError(
                    f"params[{key!r}] = {value!r} is not a parameter declaration; "
                    "use mk.Real(init=...), mk.Positive(init=...), mk.UnitInterval(init=...)."
                )
        if event_ndim not in (0, 1):
            raise ModelError(f"event_ndim={event_ndim!r} must be 0 (scalar observations) or 1 "
                             "(one row of an (n, d) array per observation).")
        if canonical is not None and not callable(canonical):
            raise ModelError(f"canonical must be a function params -> params; got {canonical!r}.")
        self.event_ndim = event_ndim
        self._canonical = canonical
        self._logpdf = logpdf
        self._params = dict(params)
        self.support = support if support is not None else REALS
        self.name = name
        self.min_n = 1

    @property
    def params(self):
        return self._params

    def logpdf(self, x, params):
        return self._logpdf(x, params)

    def canonical(self, params):
        return params if self._canonical is None else self._canonical(params)

    def __repr__(self):
        return f"Model({self.name!r}, params={list(self._params)})"
