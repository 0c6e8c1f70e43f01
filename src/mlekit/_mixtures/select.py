r"""Choosing the number of components: ``mk.select_k``.

For each k the model ``factory(k)`` is fitted and tabulated with its log-likelihood, number of
free parameters, AIC :math:`= -2\ell + 2p`, BIC :math:`= -2\ell + p \log n` and ICL
:math:`= \text{BIC} - 2 \sum_i \sum_j \hat z_{ij} \log r_{ij}` (Biernacki, Celeux & Govaert
2000: BIC plus twice the entropy of the hard classification :math:`\hat z`, so it prefers
well-separated components), all "smaller is better" (mclust prints the negatives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .._errors import ModelError


@dataclass(frozen=True)
class SelectK:
    """The fits for each number of components, and their criteria."""

    ks: tuple[int, ...]
    fits: tuple = field(repr=False)
    icl: tuple[float, ...] = field(repr=False)

    @property
    def best_k(self) -> int:
        """The k of smallest BIC among the converged fits."""
        bic = [f.bic if f.converged else np.inf for f in self.fits]
        return self.ks[int(np.argmin(bic))]

    @property
    def best(self):
        return self.fits[self.ks.index(self.best_k)]

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame({
            "k": self.ks, "loglik": [f.loglik for f in self.fits],
            "parameters": [f.k for f in self.fits], "AIC": [f.aic for f in self.fits],
            "BIC": [f.bic for f in self.fits], "ICL": list(self.icl),
            "converged": [f.converged for f in self.fits]})

    def __repr__(self):
        return f"SelectK(k={list(self.ks)}, best by BIC: k={self.best_k})"


def select_k(factory: Callable[[int], object], data, k: Iterable[int] = range(1, 7),
             **fit_options) -> SelectK:
    r"""Fit ``factory(k)`` for each k and tabulate loglik, parameters, AIC, BIC and ICL.

    Parameters
    ----------
    factory : callable
        k -> model, e.g. ``mk.GaussianMixture`` or ``lambda k: mk.GaussianMixture(k, "diag")``.
    data : array-like
        The observations.
    k : iterable of int
        The numbers of components to try.
    **fit_options
        Passed to :func:`mlekit.fit` (``starts=`` is advisable for k >= 3).

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, (150, 1)), rng.normal(6, 1, (150, 1))]
    >>> mk.select_k(mk.GaussianMixture, x, k=[1, 2, 3]).best_k
    2
    """
    from .._fit import fit

    ks = tuple(int(v) for v in k)
    if not ks or any(v < 1 for v in ks):
        raise ModelError(f"k={list(ks)!r} must list numbers of components >= 1.")
    if not callable(factory):
        raise ModelError(f"factory={factory!r} must be a function k -> model, e.g. "
                         "mk.GaussianMixture.")
    fits = tuple(fit(factory(v), data, **fit_options) for v in ks)
    return SelectK(ks, fits, tuple(_icl(f) for f in fits))


def _icl(fit) -> float:
    if not fit.converged:
        return float("nan")
    try:
        resp = fit.predict_proba()
    except ModelError:  # one component, or not a mixture: no classification entropy
        return fit.bic
    hard = np.argmax(resp, axis=1)
    picked = resp[np.arange(resp.shape[0]), hard]
    return fit.bic - 2.0 * float(np.sum(np.log(np.maximum(picked, 1e-300))))
