"""mlekit: maximum likelihood estimation that says what the theory promises and where it breaks.

JAX's 64-bit mode is switched on at import (all numerics are float64), and compiled programs are
cached on disk under the user's cache folder (``$MLEKIT_CACHE_DIR``, else
``$XDG_CACHE_HOME/mlekit`` or ``~/.cache/mlekit``) so that a new process does not recompile.
"""

from ._jax_setup import configure as _configure

_configure()

from . import priors  # noqa: E402
from ._censored import Binned, Censored, Survival, Truncated  # noqa: E402
from ._data import as_observations  # noqa: E402
from ._diagnostics import Diagnostic  # noqa: E402
from ._distributed import Dataset, dataset  # noqa: E402
from ._errors import DataError, FitError, MlekitError, ModelError  # noqa: E402
from ._families import *  # noqa: E402, F403  (every family class, from the catalogue)
from ._families import CLASSES as _CLASSES  # noqa: E402
from ._families import FAMILIES, Family, FamilyInfo, families, family  # noqa: E402
from ._fit import fit  # noqa: E402
from ._heads import pytree_params  # noqa: E402
from ._inference import Estimate  # noqa: E402
from ._inference.bootstrap import BootstrapResult  # noqa: E402
from ._inference.comparison import Comparison, compare  # noqa: E402
from ._inference.intervals import ConfidenceInterval  # noqa: E402
from ._inference.testing import TestResult, lr_test  # noqa: E402
from ._information import Empirical, empirical, entropy, kl_divergence  # noqa: E402
from ._many import FitBatch, fit_groups, fit_many  # noqa: E402
from ._mixtures import GaussianMixture, Mixture, SelectK, select_k  # noqa: E402
from ._model import Support  # noqa: E402
from ._model import UserModel as Model  # noqa: E402
from ._params import (  # noqa: E402
    CovMatrix,
    GreaterThanBound,
    Interval,
    Positive,
    Real,
    Simplex,
    UnitInterval,
)
from ._penalties import L1, L2, ElasticNet, Penalty  # noqa: E402
from ._ranking import FamilyRanking, compare_families  # noqa: E402
from ._regression import aft, glm, lm, nls  # noqa: E402
from ._regularization import CVResult, Path, cv, path  # noqa: E402
from ._report import report  # noqa: E402
from ._result import Fit  # noqa: E402
from ._study import Study, study  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "fit", "glm", "lm", "nls", "aft", "Fit", "Estimate", "ConfidenceInterval", "lr_test", "compare",
    "TestResult", "Comparison", "BootstrapResult", "Diagnostic", "Model", "Support", "Family",
    "FamilyInfo",
    "family", "families", "FAMILIES", *_CLASSES, "Real", "Positive", "UnitInterval", "Interval",
    "GreaterThanBound", "Simplex", "CovMatrix",
    "priors", "L1", "L2", "ElasticNet", "Penalty", "cv", "path", "CVResult", "Path",
    "GaussianMixture", "Mixture", "select_k", "SelectK",
    "Censored", "Survival", "Truncated", "Binned", "fit_many", "fit_groups", "FitBatch",
    "study", "Study", "dataset", "Dataset", "compare_families", "FamilyRanking",
    "report", "pytree_params", "empirical", "Empirical", "entropy", "kl_divergence",
    "MlekitError", "DataError", "ModelError", "FitError", "as_observations",
]
