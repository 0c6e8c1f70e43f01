"""The exceptions mlekit raises; every message names the argument, the value, the rule, the fix."""


class MlekitError(Exception):
    """Base class of every error mlekit raises on purpose."""


class DataError(MlekitError, ValueError):
    """The data cannot be fitted: empty, non-finite, outside the support, wrong shape."""


class ModelError(MlekitError, ValueError):
    """The model or parameter specification is invalid (unknown family, bad start, bad fixed)."""


class FitError(MlekitError, RuntimeError):
    """The fit itself failed: no finite log-likelihood at the start, or no maximum exists."""


# -- signals from a model to the engine (internal): the data have no interior maximum ----------
class NoEstimate(DataError):
    """Raised by a model where no maximum likelihood estimate exists for these data (the
    likelihood grows without bound, or only approaches its supremum at infinity). ``mk.fit``
    turns it into a fit that did not converge, carrying an ``error`` diagnostic with this
    ``code``, ``message`` and ``remedy`` (or a FitError under ``strict=True``). ``loglik`` is
    the supremum of the log-likelihood (infinite where it is unbounded); ``model`` the model
    resolved from the data (a family whose dimension the data set), where it changed.
    ``limit`` gives parameters that converge while the others run off (a regression's
    coefficients in an exact fit, as sd -> 0), and ``limit_se`` their standard errors there."""

    def __init__(self, message: str, remedy: str, code: str = "no_estimate",
                 loglik: float = float("inf"), model=None, limit=None, limit_se=None):
        super().__init__(f"{message}. {remedy}")
        self.message, self.remedy, self.code, self.loglik = message, remedy, code, loglik
        self.model = model
        self.limit, self.limit_se = dict(limit or {}), dict(limit_se or {})


class BoundaryEstimate(DataError):
    """Raised by a model whose MLE for these data lies on the boundary of the parameter space
    (p = 1 for all-ones Bernoulli data, lambda = 0 for all-zero Poisson counts): ``held`` maps
    each such scalar parameter to its boundary value; ``model`` is the model to fit the other
    parameters with (a categorical with its never-seen levels pinned at 0), ``elements`` the
    labels of the estimates on the boundary, and ``why`` says what in the data put them there.
    ``mk.fit`` reports the estimate with a ``boundary_estimate`` warning."""

    def __init__(self, why: str, held=None, model=None, elements=()):
        held = dict(held or {})
        super().__init__(f"{why}: the MLE of {', '.join(elements or held)} is on the boundary "
                         "of the parameter space")
        self.why, self.held, self.model = why, held, model
        self.elements = tuple(elements) or tuple(held)
