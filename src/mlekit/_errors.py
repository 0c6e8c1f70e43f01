"""The exceptions mlekit raises; every message names the argument, the value, the rule, the fix."""


class MlekitError(Exception):
    """Base class of every error mlekit raises on purpose."""


class DataError(MlekitError, ValueError):
    """The data cannot be fitted: empty, non-finite, outside the support, wrong shape."""


class ModelError(MlekitError, ValueError):
    """The model or parameter specification is invalid (unknown family, bad start, bad fixed)."""


class FitError(MlekitError, RuntimeError):
    """The fit itself failed: no finite log-likelihood at the start, or no maximum exists."""
