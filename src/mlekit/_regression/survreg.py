r"""Accelerated failure time (AFT) regression, R's ``survreg``: for lifetimes T with
covariates x,

.. math::  \log T_i = x_i'\beta + \text{offset}_i + \sigma W_i

with W extreme-value (Weibull; the exponential has :math:`\sigma = 1`), normal (lognormal) or
logistic (log-logistic), or the same on T itself (``gaussian``, ``logistic``: a Tobit model
with censoring). Each observation is the family's distribution at its own parameters (Weibull:
shape :math:`1/\sigma`, scale :math:`e^{\eta_i}`), so censored, interval and truncated
observations contribute exactly as in :mod:`mlekit._censored`: one mechanism for both.

Parameters are named as ``survreg`` prints them: one coefficient per design column and
``scale`` (:math:`\sigma`; survreg's ``Log(scale)`` is ``fit.transform("log(scale)")``).
The data are rows [left, right, kind, lower, upper, truncation, offset, x_1..x_p].
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from .._censored import (
    Censored,
    check_rows,
    observation_counts,
    rows_loglik,
    stand_ins,
)
from .._errors import DataError, ModelError
from .._families.continuous import Exponential, LogNormal, Normal, Weibull
from .._families.location_scale import Logistic
from .._families.positive import LogLogistic
from .._model import Model
from .._params import Positive, Real

#: dist -> (family, whether it models log T, the family's parameters from (eta, sigma))
DISTRIBUTIONS = {
    "weibull": (Weibull(), True, lambda eta, s: {"shape": 1.0 / s, "scale": jnp.exp(eta)}),
    "exponential": (Exponential(), True, lambda eta, s: {"rate": jnp.exp(-eta)}),
    "lognormal": (LogNormal(), True, lambda eta, s: {"meanlog": eta, "sdlog": s}),
    "loglogistic": (LogLogistic(), True, lambda eta, s: {"shape": 1.0 / s,
                                                         "scale": jnp.exp(eta)}),
    "gaussian": (Normal(), False, lambda eta, s: {"mean": eta, "sd": s}),
    "logistic": (Logistic(), False, lambda eta, s: {"location": eta, "scale": s}),
}
#: the standard deviation of W per unit sigma: the scale's start from residuals
W_SD = {"weibull": np.pi / np.sqrt(6), "exponential": 1.0, "lognormal": 1.0,
        "loglogistic": np.pi / np.sqrt(3), "gaussian": 1.0, "logistic": np.pi / np.sqrt(3)}
FIRST = 7  # the design's first column in the rows


class AFT(Model):
    """An accelerated failure time model over a design with named ``columns`` (see the
    module notes)."""

    event_ndim = 1
    design_columns = slice(FIRST, None)

    def __init__(self, dist: str, columns: tuple[str, ...], design=None, truncated=False,
                 censored=True):
        if dist not in DISTRIBUTIONS:
            raise ModelError(f"dist={dist!r} is not available; use one of "
                             f"{list(DISTRIBUTIONS)}.")
        if "scale" in columns:
            raise ModelError("a design column is named 'scale', the name of the AFT model's "
                             "sigma; rename the column.")
        self.dist, self.columns = dist, tuple(columns)
        self.truncated, self.censored = truncated, censored
        self.family, self.log_time, self._parameters = DISTRIBUTIONS[dist]
        self.coefficients = self.columns
        self.design = design  # builds new data's design for predict (not compared)
        self.name = f"aft {dist}"
        self.min_n = len(columns) + (dist != "exponential")

    def __eq__(self, other):
        return (isinstance(other, AFT) and self._key() == other._key())

    def __hash__(self):
        return hash((AFT, *self._key()))

    def _key(self):
        return self.dist, self.columns, self.truncated, self.censored

    def __repr__(self):
        return f"AFT({self.dist!r}, columns={list(self.columns)})"

    @functools.cached_property
    def params(self):
        out = {c: Real() for c in self.columns}
        if self.dist != "exponential":
            out["scale"] = Positive()
        return out

    @property
    def support(self):
        return self.family.support

    # -- the log-likelihood ------------------------------------------------------------------
    def logpdf(self, x, p):
        beta = jnp.stack([jnp.asarray(p[c], dtype=x.dtype) for c in self.columns])
        return self.logpdf_eta(x, x[:, FIRST:] @ beta, p)

    def logpdf_eta(self, x, eta, p):
        sigma = p.get("scale", 1.0)
        return rows_loglik(self.family, self._parameters(eta + x[:, 6], sigma), x,
                           self.truncated, self.censored)

    # -- data and start values ---------------------------------------------------------------
    def prepare(self, x, span=None):
        rows, truncated, censored = check_rows(self.family, x[:, :6], "the fitted lifetimes")
        out = np.concatenate([rows, x[:, 6:]], axis=1)
        model = AFT(self.dist, self.columns, self.design, truncated, censored)
        return model, out

    def basis(self, x, fixed):
        """The design's QR coordinates, as for a GLM: Newton's Hessian in them is nearly
        -I/sigma^2 for the Gaussian-like dists."""
        from .lstsq import coefficient_basis

        return coefficient_basis(self.columns, fixed,
                                 lambda free: x[:, [FIRST + j for j in free]])

    def start(self, x):
        """Least squares of the (log) stand-in lifetimes on X: exact at the failures, censored
        ones at their known end (biased low; Newton corrects it); sigma from the residuals."""
        y = stand_ins(x)
        if self.log_time:
            y = np.log(y)
        X, z = x[:, FIRST:], y - x[:, 6]
        beta = np.linalg.lstsq(X, z, rcond=None)[0]
        out = {c: np.asarray(b) for c, b in zip(self.columns, beta, strict=True)}
        if self.dist != "exponential":
            resid = z - X @ beta
            out["scale"] = np.asarray(max(float(np.std(resid)) / W_SD[self.dist], 1e-3))
        return out

    def statistics(self, fit) -> dict:
        return observation_counts(fit._context.x)

    # -- predictions -------------------------------------------------------------------------
    def predict(self, fit, newdata=None, scale: str = "response", se: bool = False,
                offset=None):
        """R's ``predict.survreg``: the linear predictor (``scale="link"``, R's "lp") or
        ``"response"``, exp(eta) for the log-time dists (the Weibull's scale, the lognormal's
        median) and eta itself for gaussian / logistic; delta-method standard errors."""
        if scale not in ("response", "link"):
            raise ModelError(f"scale={scale!r} must be 'response' or 'link'.")
        from .design import linear_predictor

        eta, se_eta = linear_predictor(fit, self.design, self.columns, FIRST, 6, newdata,
                                       offset, se)
        value = np.exp(eta) if scale == "response" and self.log_time else eta
        if not se:
            return value
        return value, (se_eta * value if scale == "response" and self.log_time else se_eta)


def response_of(lhs: str, table) -> tuple[Censored, list[str]]:
    """The response of an AFT formula's left-hand side: ``Surv(time, event)``,
    ``Censored(left, right)`` or a column of exact lifetimes; with the columns it reads."""
    import re

    text = lhs.strip()
    match = re.fullmatch(r"(Surv|Censored)\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)", text)
    names = [match.group(2), match.group(3)] if match else [text]
    for name in names:
        if name not in table.columns:
            raise ModelError(f"the response {text!r} names {name!r}, which is not a column of "
                             "the data; use Surv(time, event), Censored(left, right) or a "
                             "column of lifetimes.")
    if match is None:
        values = table[text].to_numpy(dtype=float)
        return Censored(values, values), names
    a, b = (table[n].to_numpy(dtype=float) for n in names)
    if match.group(1) == "Surv":
        from .._censored import Survival

        return Survival(a, b), names
    return Censored(a, b), names


def rows_of(data: Censored, X: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
    """The AFT model's rows from censored responses and a design."""
    n = len(data)
    if X.shape[0] != n:
        raise DataError(f"the response has {n} observations and X {X.shape[0]} rows.")
    off = np.zeros(n) if offset is None else offset
    return np.column_stack([data.rows, off, X])

