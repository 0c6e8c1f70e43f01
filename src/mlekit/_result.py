"""The result of a fit: immutable, self-describing, and rendered by ``_render``."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from . import _render
from ._diagnostics import Diagnostic
from ._errors import ModelError
from ._inference import Estimate, delta_method
from ._params import flat_labels, split_flat
from ._params import plain_value as _plain
from ._params import readonly_array as _readonly


def _flatten(values: Mapping) -> dict:
    """{name: scalar or array} -> {label: float}, labelling vector entries 'name[i]'; entries
    that are None (not estimable) are left out."""
    out = {}
    for name, v in values.items():
        arr = np.asarray(v)
        labels = flat_labels((name,), {name: arr.shape})
        for label, item in zip(labels, arr.ravel(), strict=True):
            if item is not None:
                out[label] = float(item)
    return out


def _se_of(cov, names, shapes, nonregular, missing=()) -> dict:
    """Standard errors {name: value} from a covariance over ``names``; None where there is
    none (a singular information, a non-regular parameter). ``missing``: labels of single
    entries without one; a vector with such entries becomes an object array holding None
    there."""
    if cov is None:
        return dict.fromkeys(names)
    se = split_flat(np.sqrt(np.maximum(np.diag(cov), 0.0)), names, [shapes[n] for n in names])
    se.update(dict.fromkeys(nonregular))
    for name in names:
        if se[name] is None:
            continue
        labels = flat_labels((name,), {name: shapes[name]})
        gone = [i for i, label in enumerate(labels) if label in missing]
        if not gone:
            continue
        if not shapes[name]:
            se[name] = None
            continue
        flat = np.asarray(se[name], dtype=float).ravel().astype(object)
        flat[gone] = None
        se[name] = flat.reshape(shapes[name])
    return se


def json_value(v):
    """A number, or nested lists of them, for JSON: JSON has no infinity, so an infinite value
    (an unbounded log-likelihood, an open interval's end) is "inf" / "-inf"; None (no
    estimate, no standard error) stays null."""
    if v is None:
        return None
    if isinstance(v, dict):  # a table of counts in the statistics
        return {k: json_value(x) for k, x in v.items()}
    arr = np.asarray(v)
    if arr.ndim:
        return [json_value(a) for a in arr]
    item = arr.item()
    if item is None:
        return None
    f = float(item)
    return f if math.isfinite(f) else ("inf" if f > 0 else "-inf")


@dataclass(frozen=True, eq=False)
class Fit:
    """A maximum likelihood fit.

    Attributes
    ----------
    params : dict
        Estimates in natural units (fixed parameters included, at their fixed values).
    se : dict
        Standard errors of the free parameters from the observed Fisher information
        (None where the information is singular, with a diagnostic saying so).
    cov : ndarray or None
        Covariance of the free parameters, rows/columns in ``param_names`` order (a vector
        parameter contributes one row per element).
    loglik, n, k : float, int, int
        Maximized log-likelihood, number of observations, number of free parameters.
    converged : bool
        True only when the score is ~0 and the Hessian is negative definite.
    diagnostics : tuple of Diagnostic
        Empty when all is well.
    """

    model_name: str
    params: Mapping[str, float | np.ndarray]
    se: Mapping[str, float | np.ndarray | None]
    cov: np.ndarray | None
    param_names: tuple[str, ...]
    loglik: float
    n: int
    k: int
    converged: bool
    message: str
    iterations: int
    _found: tuple[Diagnostic, ...] = ()
    fixed: Mapping[str, float | np.ndarray] = field(default_factory=dict)
    score_max: float = 0.0
    _shapes: Mapping[str, tuple] = field(default_factory=dict, repr=False)
    #: the covariance behind ``se`` / ``cov``: "observed", "expected", "opg", "robust", "cluster"
    cov_kind: str = "observed"
    #: how that covariance was computed, where it matters (e.g. Monte Carlo and its error)
    cov_note: str = ""
    #: the distinct local maxima found with ``mk.fit(..., starts=N)``, best first (each with
    #: ``loglik``, ``params``, ``count``: how many starts reached it; ``optima.failed``: the
    #: starts that reached none); empty otherwise
    optima: tuple = ()
    #: a MAP fit's priors, {parameter: "Normal(0, 1)"} (a penalty shows as "L1(alpha=0.1)");
    #: empty for a maximum likelihood fit
    prior: Mapping[str, str] = field(default_factory=dict)
    #: a MAP fit's maximized log-posterior, loglik + log prior (a penalty's without the
    #: prior's normalizing constant: loglik - penalty); None for a maximum likelihood fit
    log_posterior: float | None = None
    _context: object = field(default=None, repr=False, compare=False)
    #: checks too costly for every fit (the information-matrix test: ~10-100 ms where the fit
    #: may take 1 ms), run when the diagnostics are first read: zero-argument callables
    #: returning a Diagnostic or None
    _deferred: tuple = field(default=(), repr=False, compare=False)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The findings about this fit (see :class:`Diagnostic`); empty when all is well."""
        if self._deferred:
            found = tuple(d for check in self._deferred if (d := check()) is not None)
            object.__setattr__(self, "_found", self._found + found)  # computed once
            object.__setattr__(self, "_deferred", ())
        return self._found

    # -- information criteria ---------------------------------------------------------------
    @property
    def aic(self) -> float:
        """-2 loglik + 2k."""
        return -2.0 * self.loglik + 2.0 * self.k

    @property
    def cross_entropy(self) -> float:
        r"""The negative log-likelihood per observation, :math:`-\ell(\hat\theta)/n`: the
        cross-entropy of the data's empirical distribution relative to the fitted model
        (machine learning's log loss for a categorical model, half the log of 2 pi e times the
        mean squared error for a normal one). For discrete data it is the data's entropy plus
        KL(data || model): ``fit.statistics`` shows both (see :mod:`mlekit._information`)."""
        return -self.loglik / self.n

    @property
    def bic(self) -> float:
        """-2 loglik + k log n."""
        return -2.0 * self.loglik + self.k * math.log(self.n)

    # -- covariances -------------------------------------------------------------------------
    def cov_as(self, kind: str, *, groups=None, seed: int = 0) -> Fit:
        r"""The same fit with ``se``, ``cov`` and Wald intervals from another covariance.

        Parameters
        ----------
        kind : {"observed", "expected", "opg", "robust", "cluster"}
            ``observed`` :math:`(-H)^{-1}` (the default of a fit); ``expected``
            :math:`(n I(\theta))^{-1}` with the Fisher information of one observation (closed
            form, exact sum over a discrete support, or Monte Carlo with its error in
            ``cov_note``); ``opg`` :math:`(\sum_i s_i s_i')^{-1}`; ``robust`` the sandwich
            :math:`H^{-1} (\sum_i s_i s_i') H^{-1}` (Huber-White, HC0: valid when the model is
            misspecified); ``cluster`` the sandwich with scores summed within ``groups``.
        groups : array-like, optional
            One cluster label per observation (``kind="cluster"`` only).
        seed : int
            Seed of the Monte Carlo draws (``kind="expected"`` without a closed form).

        Examples
        --------
        >>> import mlekit as mk
        >>> fit = mk.fit(mk.Exponential(), [0.5, 1.0, 1.5, 4.0])
        >>> robust = fit.cov_as("robust")
        >>> robust.cov_kind, round(robust.se["rate"], 4)
        ('robust', 0.2198)
        """
        from ._inference.covariances import covariance_of

        if self._context is None:
            raise ModelError("this fit carries no data to compute another covariance from.")
        cov, note = covariance_of(self._context, kind, groups, seed)
        ctx = self._context
        se = _se_of(cov, ctx.names, ctx.shapes, ctx.nonregular, ctx.unestimable)
        return dataclasses.replace(
            self, cov=None if cov is None else _readonly(cov),
            se={n: (None if v is None else _plain(v)) for n, v in se.items()},
            cov_kind=kind, cov_note=note)

    def crlb(self, *, seed: int = 0) -> np.ndarray:
        r"""The Cramer-Rao lower bound: the inverse expected information
        :math:`(n I(\theta))^{-1}` at the estimate, over ``param_names``.

        No unbiased estimator of theta has a covariance below it (in the positive semidefinite
        order); the MLE attains it asymptotically. ``summary(crlb=True)`` shows its square root
        beside the standard errors.

        Examples
        --------
        >>> import mlekit as mk, numpy as np
        >>> fit = mk.fit(mk.Normal(), [1.0, 2.0, 4.0, 5.0])
        >>> bool(np.isclose(fit.crlb()[0, 0], fit.params["sd"] ** 2 / 4))  # sd^2 / n
        True
        """
        if self._context is None:
            raise ModelError("this fit carries no data to compute the information from.")
        from ._inference.covariances import covariance_of

        cov, _ = covariance_of(self._context, "expected", None, seed)
        if cov is None:
            raise ModelError("the expected information is singular here: no Cramer-Rao bound.")
        return _readonly(cov)

    # -- intervals and derived quantities ---------------------------------------------------
    def conf_int(self, level: float = 0.95, method: str = "wald", *, scale: str = "natural",
                 bootstrap: str = "nonparametric", interval: str = "percentile",
                 replicates: int = 999, seed: int | None = None, progress=None,
                 sample=None) -> dict:
        r"""Confidence intervals ``{name: (lo, hi)}`` for the estimated parameters.

        Each value is a :class:`ConfidenceInterval`: it unpacks as ``lo, hi`` and says its
        ``method`` and, where an end does not exist, ``note`` / ``lower_open`` / ``upper_open``.

        Parameters
        ----------
        level : float
            Coverage, in (0, 1).
        method : {"wald", "profile", "bootstrap"}
            ``wald``: estimate -/+ z se from ``cov`` (of kind ``cov_kind``); ``profile``:
            :math:`\{\theta_j : 2(\hat\ell - \ell_p(\theta_j)) \le \chi^2_{1,level}\}`
            with the other parameters maximized out, end points to 1e-8 relative;
            ``bootstrap``: from refits of resampled data (see :meth:`bootstrap`).
        scale : {"natural", "unconstrained"}
            Wald only: ``unconstrained`` builds the interval on the log / logit scale of the
            parameter's constraint and maps it back, so it stays inside the parameter space.
        bootstrap, interval, replicates, seed, progress
            Bootstrap only: ``"nonparametric"`` or ``"parametric"``; ``"percentile"`` or
            ``"bca"``; the number of replicates; the seed; a callback ``progress(done, total)``.
        sample : BootstrapResult, optional
            Replicates already drawn with :meth:`bootstrap` (then the four above are unused).

        Examples
        --------
        >>> import mlekit as mk
        >>> fit = mk.fit(mk.Exponential(), [0.5, 1.0, 1.5, 4.0])
        >>> lo, hi = fit.conf_int(method="profile")["rate"]
        >>> round(lo, 4), round(hi, 4)
        (0.1774, 1.3275)
        """
        from ._inference import intervals

        level = intervals.check_level(level)
        intervals.check_method(method)
        if method == "bootstrap":
            if sample is None:
                sample = self.bootstrap(replicates=replicates, kind=bootstrap, seed=seed,
                                        progress=progress)
            return sample.conf_int(level, interval)
        if method == "profile":
            return {name: intervals.profile(self, name, level) for name in self.param_names}
        return {name: intervals.wald(self, name, level, scale) for name in self.param_names}

    def bootstrap(self, replicates: int = 999, kind: str = "nonparametric", *,
                  seed: int | None = None, progress=None):
        """Refit ``replicates`` resampled data sets (``kind="nonparametric"``: the observations
        drawn with replacement; ``"parametric"``: drawn from the fitted model) in vectorized
        batches; returns a ``BootstrapResult`` (replicate estimates, SEs, bias, percentile and
        BCa intervals)."""
        from ._inference.bootstrap import bootstrap
        from ._inference.intervals import context_for

        return bootstrap(context_for(self, "bootstrap"), replicates=replicates, kind=kind,
                         seed=seed, progress=progress)

    def gof(self, *, replicates: int = 199, seed=0, progress=None):
        """Goodness of fit: the Kolmogorov-Smirnov, Cramér-von Mises and Anderson-Darling
        statistics (Pearson's chi-square for a discrete family), with p-values from a
        parametric bootstrap that refits each of ``replicates`` samples (the parameters were
        estimated, so the classical tables do not apply). See :func:`mlekit._gof.gof`."""
        from ._gof import gof

        return gof(self, replicates=replicates, seed=seed, progress=progress)

    def plot(self, kind: str = "density", **options):
        """A diagnostic plot, returned as a matplotlib Figure: ``"density"``, ``"qq"``,
        ``"pp"``, ``"cdf"`` (with a confidence band), ``"profile"``, ``"contour"`` or
        ``"survival"`` (Kaplan-Meier, for censored data). See :func:`mlekit._plots.plot`."""
        from ._plots import plot

        return plot(self, kind, **options)

    def transform(self, fun: Callable[[dict], object] | str, level: float = 0.95, *,
                  name: str | None = None, method: str = "wald", sample=None,
                  replicates: int = 999, seed: int | None = None,
                  bootstrap: str = "nonparametric") -> Estimate:
        r"""The MLE of g(theta) — g(theta-hat), by invariance — with its delta-method SE.

        ``fun`` takes the parameter dict and must be written with ``jax.numpy`` operations
        (plain arithmetic works as is), or is an arithmetic expression over the parameter names
        such as ``"shape / rate"`` (parsed, never evaluated as Python). The standard error is
        :math:`\sqrt{\nabla g' \, \mathrm{Cov} \, \nabla g}` with the gradient by automatic
        differentiation; a vector g gets the covariance :math:`G \, \mathrm{Cov} \, G'`.
        ``method="profile"`` gives the profile-likelihood interval of a scalar g (the
        likelihood maximized subject to g(theta) = psi), which, unlike Wald's, does not depend
        on how the model is parametrized; ``method="bootstrap"`` the percentile interval of g
        over bootstrap replicates (``sample=`` a :meth:`bootstrap` result to reuse, else
        ``replicates`` / ``seed`` / ``bootstrap`` kind for new ones).

        Examples
        --------
        >>> import mlekit as mk
        >>> fit = mk.fit(mk.Exponential(), [1.0, 2.0, 3.0])
        >>> fit.transform(lambda p: 1 / p["rate"]).value  # the mean
        2.0
        >>> fit.transform("log(2) / rate", name="median").value  # doctest: +ELLIPSIS
        1.386...
        """
        from ._inference import intervals

        level = intervals.check_level(level)
        if method not in intervals.METHODS:
            raise ModelError(f"method={method!r}: transform intervals are one of "
                             f"{intervals.METHODS}.")
        label = name if name is not None else (fun if isinstance(fun, str) else "")
        if isinstance(fun, str):
            from ._expr import compile_expression

            fun = compile_expression(fun, tuple(self.params))
        if not callable(fun):
            raise ModelError(f"transform needs a function of the parameter dict or an "
                             f"expression string; got {fun!r}.")
        if self.cov is None:
            raise ModelError(f"no delta-method error: the {self.cov_kind} information is "
                             "singular (see fit.diagnostics).")
        flat = np.concatenate([np.ravel(self.params[n]) for n in self.param_names])

        def unflatten(v):
            shapes = [self._shapes.get(n, ()) for n in self.param_names]
            return {**self.params, **split_flat(v, self.param_names, shapes)}

        est = delta_method(fun, flat, self.cov, unflatten)
        if not (np.all(np.isfinite(est.value)) and np.all(np.isfinite(est.se))):
            raise ModelError(
                f"g(theta-hat) = {est.value!r} with standard error {est.se!r} is not finite at "
                f"the estimates {dict(self.params)}; check g's domain (e.g. log of a negative)."
            )
        interval = None
        if method == "profile":
            if np.ndim(est.value) != 0:
                raise ModelError("a profile interval needs a scalar g; transform each element.")
            from ._inference.profile import profile_interval

            interval = profile_interval(intervals.context_for(self, "profile"), fun, level,
                                        est.value, est.se, name=label or "g")
        if method == "bootstrap":
            if sample is None:
                sample = self.bootstrap(replicates, bootstrap, seed=seed)
            interval = intervals.bootstrap_transform(sample, fun, self.params, level)
        return Estimate(est.value, est.se, level, label, est.cov, interval)

    # -- tests -------------------------------------------------------------------------------
    def wald_test(self, hypothesis):
        r"""Wald test of ``hypothesis``: equations over the parameter names such as
        ``"shape = 1"`` or ``"a - b = 0, c = 2"``, a dict ``{name: value}``, or ``(R, q)`` for
        :math:`R\theta = q`. :math:`W = h' (G V G')^{-1} h \sim \chi^2_{df}` with ``V`` the
        fit's covariance (so ``cov_as("robust")`` gives a robust test)."""
        from ._inference.testing import wald_test

        return wald_test(self, hypothesis)

    def score_test(self, restrictions: Mapping[str, float], information: str = "observed"):
        """Rao's score (Lagrange multiplier) test of ``restrictions`` ``{name: value}``: the
        full model's score at the restricted maximum, weighed by the inverse ``"observed"`` or
        ``"expected"`` information there (the expected one does not depend on how the model is
        parametrized); needs only the restricted fit."""
        from ._inference.testing import score_test

        return score_test(self, restrictions, information)

    def predict(self, newdata=None, *, scale: str = "response", se: bool = False,
                offset=None):
        r"""Predictions of a regression (``mk.glm`` / ``mk.lm``): the mean
        :math:`\mu = g^{-1}(x'\hat\beta + \text{offset})` (``scale="response"``) or the
        linear predictor (``"link"``) at ``newdata`` (a table like the one fitted, or an
        array of predictors), by default at the data fitted. ``se=True`` returns
        ``(values, standard errors)``: :math:`\sqrt{x' C x}` on the link scale, times
        :math:`|d\mu/d\eta|` on the response scale (the delta method). ``offset`` adds to a
        formula's own offset terms.

        Examples
        --------
        >>> import mlekit as mk
        >>> fit = mk.lm(X=[1.0, 2.0, 3.0, 4.0], y=[2.1, 3.9, 6.2, 7.8])
        >>> [round(float(v), 6) for v in fit.predict([5.0, 6.0])]
        [9.85, 11.79]
        """
        if self._context is None or not self.converged:
            raise ModelError("predictions need a fit that reached a maximum.")
        return self._context.model.predict(self, newdata, scale, se, offset)

    def predict_proba(self, newdata=None) -> np.ndarray:
        """A mixture's responsibilities: P(component j | x_i) at the estimates, an (n, k)
        array for ``newdata`` (by default the data fitted); ``predict`` gives the most
        probable component.

        Examples
        --------
        >>> import numpy as np, mlekit as mk
        >>> x = np.r_[np.zeros(20), np.ones(20) * 5] + np.tile([-0.5, 0.5], 20)
        >>> fit = mk.fit(mk.GaussianMixture(2), x.reshape(-1, 1))
        >>> fit.predict_proba([[0.0], [5.0]]).round(6).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
        """
        if self._context is None or not self.converged:
            raise ModelError("responsibilities need a fit that reached a maximum.")
        return self._context.model.predict_proba(self, newdata)

    def sample(self, size: int, seed=None) -> np.ndarray:
        """``size`` draws from the fitted model (a family's, a mixture's sampler), seeded."""
        if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1):
            raise ModelError(f"size={size!r} must be a positive integer.")
        if self._context is None or any(v is None for v in self.params.values()):
            raise ModelError("sampling needs a fit with estimates.")
        try:
            return self._context.model.sample(self._context.params(), size,
                                              np.random.default_rng(seed))
        except NotImplementedError as err:
            raise ModelError(f"{self.model_name} has no sampler: {err}.") from None

    @functools.cached_property
    def statistics(self) -> dict:
        """What the model adds to a summary: for a GLM, R's ``deviance``, ``null_deviance``,
        their residual degrees of freedom and the ``dispersion``; empty for other models.
        Computed once (with an offset, the null deviance refits the intercept-only model)."""
        if self._context is None or not self.converged:
            return {}
        return self._context.model.statistics(self)

    def information_matrix_test(self, variance: str = "auto"):
        r"""White's (1982) information-matrix test of the model: under a correct model
        :math:`E[\nabla^2 \ell_i + s_i s_i'] = 0`; the statistic
        :math:`n \bar d' V^{-} \bar d \sim \chi^2_q` measures how far the data's variability is
        from the model's (a Poisson on over-dispersed counts, a normal on heavy tails). The
        ``misspecified`` diagnostic is this test at the 1% level. ``variance``: "model"
        (expectations under the fitted model: the default where the model can be sampled),
        "white" (White's sample form, which over-rejects in small samples) or "auto".

        Examples
        --------
        >>> import mlekit as mk
        >>> test = mk.fit(mk.Poisson(), [0, 0, 0, 1, 0, 7, 0, 2, 12, 0, 0, 1, 3, 0, 9, 0]) \
        ...     .information_matrix_test()
        >>> test.df, test.p_value < 1e-6
        (1, True)
        """
        from ._inference.misspecification import information_matrix_test

        if self._context is None or not self.converged:
            raise ModelError("the information-matrix test needs a fit that reached a maximum.")
        return information_matrix_test(self._context, variance)

    # -- flat views (one entry per scalar), for rendering -----------------------------------
    def _flat_params(self) -> dict:
        """{label: value}, with None for a parameter without an estimate (no MLE exists)."""
        out = {}
        for name, value in self.params.items():
            out.update({name: None} if value is None else _flatten({name: value}))
        return out

    def _flat_se(self) -> dict:
        return _flatten({n: self.se[n] for n in self.param_names if self.se.get(n) is not None})

    def _flat_labels(self) -> list:
        """Labels of the rows of ``cov``: one per scalar of ``param_names``."""
        return list(flat_labels(self.param_names, self._shapes))

    def _on_boundary(self, name: str) -> bool:
        """Whether ``name`` or an entry of it is estimated on the boundary (and converged)."""
        ctx = self._context
        return bool(ctx is not None and self.converged and any(
            label == name or label.startswith(f"{name}[") for label in ctx.on_boundary))

    def _fixed_labels(self) -> set:
        return {label for label in self._flat_params() if label.split("[")[0] in self.fixed}

    def _report_intervals(self, level: float, method: str = "wald", **options) -> dict:
        """{name: ConfidenceInterval} for reports (the table, the CLI's JSON): parameters
        without an interval of this kind (no standard error, presolved) are left out, not
        raised on; on the boundary, where Wald's is invalid, the likelihood's is given."""
        from ._inference import intervals

        if method == "bootstrap":
            return self.conf_int(level, "bootstrap", **options)
        intervals.check_method(method)
        cis = {}
        for name in self.param_names:
            if self.params[name] is None:  # no estimate, so no interval
                continue
            kind = "profile" if method == "profile" or self._on_boundary(name) else "wald"
            try:
                cis[name] = (intervals.profile(self, name, level) if kind == "profile"
                             else intervals.wald(self, name, level,
                                                 options.get("scale", "natural")))
            except ModelError:
                continue
        return cis

    def _flat_ci(self, level: float, method: str = "wald", **options) -> tuple[dict, str, list]:
        """({label: (lo, hi)}, the method's label, notes) for the table."""
        cis = self._report_intervals(level, method, **options)
        flat_lo = _flatten({n: c[0] for n, c in cis.items()})
        flat_hi = _flatten({n: c[1] for n, c in cis.items()})
        labels = sorted({c.method for c in cis.values()})
        by_note = {}  # one line per distinct note, naming the parameters it concerns
        for n, c in cis.items():
            if c.note:
                by_note.setdefault(c.note, []).append(n)
        notes = [f"{', '.join(names)}: {note}" for note, names in by_note.items()]
        return ({k: (flat_lo[k], flat_hi[k]) for k in flat_lo},
                " / ".join(labels) if labels else method, notes)

    # -- rendering and export --------------------------------------------------------------
    def summary(self, level: float = 0.95, ci: str = "wald", *, crlb: bool = False,
                **ci_options) -> str:
        """The table a person reads: estimates, SEs and intervals rounded to the uncertainty.

        ``ci`` chooses the intervals shown (``"wald"``, ``"profile"``, ``"bootstrap"``, with
        :meth:`conf_int`'s options); ``crlb=True`` adds the Cramer-Rao bound's standard
        deviations beside the standard errors."""
        from ._inference.intervals import METHODS, check_level

        if ci not in METHODS:
            raise ModelError(f"ci={ci!r} is not an interval method; use one of {METHODS}.")
        return _render.text(self, check_level(level), ci, crlb, ci_options)

    def __str__(self):
        return self.summary()

    def __repr__(self):
        return self.summary()

    def _repr_html_(self):
        return _render.to_html(self)

    def to_dict(self) -> dict:
        """A JSON-safe dict of the whole result: an infinite value (the unbounded
        log-likelihood of data without an MLE) as "inf" / "-inf", an entry without a value
        (no estimate, no standard error) as None."""

        js = json_value

        return {
            "model": self.model_name,
            "params": {k: js(v) for k, v in self.params.items()},
            "se": {k: js(v) for k, v in self.se.items()},
            "cov": js(self.cov),
            "param_names": list(self.param_names),
            "fixed": {k: js(v) for k, v in self.fixed.items()},
            "loglik": js(self.loglik),
            "aic": js(self.aic),
            "bic": js(self.bic),
            "n": self.n if isinstance(self.n, float) else int(self.n),
            "k": int(self.k),
            "converged": bool(self.converged),
            "message": self.message,
            "iterations": int(self.iterations),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "cov_kind": self.cov_kind,
            "cov_note": self.cov_note,
            "optima": [o.to_dict() for o in self.optima],
            "statistics": {k: js(v) for k, v in self.statistics.items()},
            "prior": dict(self.prior),
            "log_posterior": js(self.log_posterior),
        }
