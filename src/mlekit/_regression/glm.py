r"""Generalized linear models as ordinary models: a per-observation log-likelihood of the
linear predictor :math:`\eta_i = x_i'\beta + \text{offset}_i` through a link, so that the
engine, the inference and the diagnostics treat a regression like any other model.

Each coefficient is a scalar parameter named after its design column ("Intercept", "age",
"C(race)[T.2]"); a family with a scale adds one ("sd" for the Gaussian, "size" for the
negative binomial, "shape" for the gamma). The data are the design's rows
[y, trials, offset, weight, x_1..x_p]; a frequency weight multiplies the observation's
log-likelihood. Newton's method with the exact Hessian (automatic differentiation) maximizes
it from a least-squares start on the link scale (one IRLS step's worth), so it converges in a
few iterations; for the Gaussian with the identity link that start is the closed-form MLE.
"""

from __future__ import annotations

import copy
import functools

import jax.numpy as jnp
import jax.scipy.special as jss
import jax.scipy.stats as jst
import numpy as np
from jax.nn import log_sigmoid

from .._errors import DataError, ModelError, NoEstimate
from .._model import Model
from .._params import Positive, Real

LINKS = ("logit", "probit", "cloglog", "log", "identity", "inverse")
FAMILIES = {  # family -> (default link, allowed links, extra parameter)
    "gaussian": ("identity", ("identity", "log", "inverse"), "sd"),
    "binomial": ("logit", ("logit", "probit", "cloglog", "log", "identity"), None),
    "poisson": ("log", ("log", "identity"), None),
    "negative_binomial": ("log", ("log", "identity"), "size"),
    "gamma": ("inverse", ("inverse", "log", "identity"), "shape"),
}


def mean_of(link: str, eta):
    """mu = g^-1(eta)."""
    if link == "logit":
        return jnp.exp(log_sigmoid(eta))
    if link == "probit":
        return jss.ndtr(eta)
    if link == "cloglog":
        return -jnp.expm1(-jnp.exp(eta))
    if link == "log":
        return jnp.exp(eta)
    if link == "inverse":
        return 1.0 / eta
    return eta


def _log_probs(link: str, eta):
    """(log mu, log(1 - mu)) of a probability, each computed where it is accurate."""
    if link == "logit":
        return log_sigmoid(eta), log_sigmoid(-eta)
    if link == "probit":
        return jss.log_ndtr(eta), jss.log_ndtr(-eta)
    if link == "cloglog":  # 1 - mu = exp(-exp(eta))
        e = jnp.exp(eta)
        return jnp.log(-jnp.expm1(-e)), -e
    if link == "log":
        return eta, jnp.log1p(-jnp.exp(eta))
    return jnp.log(eta), jnp.log1p(-eta)


def _weighted_totals(rows) -> np.ndarray:
    """[sum w y, sum w trials, sum w, rows with w > 0, offsets present] of GLM rows."""
    y, trials, offset, w = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    return np.array([w @ y, w @ trials, np.sum(w), np.sum(w > 0), float(np.any(offset))])


def _link_of(link: str, mu: np.ndarray) -> np.ndarray:
    """g(mu) in numpy, for the start values."""
    if link == "logit":
        return np.log(mu / (1 - mu))
    if link == "probit":
        from scipy.special import ndtri

        return ndtri(mu)
    if link == "cloglog":
        return np.log(-np.log1p(-mu))
    if link == "log":
        return np.log(mu)
    if link == "inverse":
        return 1.0 / mu
    return mu


class GLM(Model):
    """A generalized linear model: ``family`` (gaussian, binomial, poisson,
    negative_binomial, gamma) with ``link`` over a design with named ``columns``."""

    event_ndim = 1

    def __init__(self, family: str, link: str | None, columns: tuple[str, ...], design=None):
        if family not in FAMILIES:
            raise ModelError(f"family={family!r} is not a GLM family; use one of "
                             f"{list(FAMILIES)}.")
        default, allowed, extra = FAMILIES[family]
        link = default if link is None else link
        if link not in allowed:
            raise ModelError(f"link={link!r} is not available for the {family} family; use one "
                             f"of {list(allowed)}.")
        if extra in columns:
            raise ModelError(f"a design column is named {extra!r}, the name of the {family} "
                             "family's own parameter; rename the column.")
        self.family, self.link, self.columns, self.extra = family, link, tuple(columns), extra
        self.coefficients = self.columns
        self.design = design  # builds new data's design matrix for predict (not compared)
        self.name = f"glm {family}({link})"
        self.min_n = len(columns) + (extra is not None)
        self.binary = False  # binomial with every trials = 1: the coefficient C(1, y) is 1

    def __eq__(self, other):
        return (isinstance(other, GLM) and (self.family, self.link, self.columns, self.binary)
                == (other.family, other.link, other.columns, other.binary))

    def __hash__(self):
        return hash((GLM, self.family, self.link, self.columns, self.binary))

    def __repr__(self):
        return f"GLM({self.family!r}, link={self.link!r}, columns={list(self.columns)})"

    @functools.cached_property
    def params(self):  # built once: the engine reads it in every step
        out = {c: Real() for c in self.columns}
        if self.extra is not None:
            out[self.extra] = Positive()
        return out

    def expected_information(self, params):
        """The Fisher information given the covariates, per observation (the engine scales
        by n): for the coefficients sum_i w_i (dmu/deta)^2 / Var(y_i) x_i x_i' / n, the
        matrix of Fisher scoring and of R's standard errors (with the dispersion at its MLE);
        for the Gaussian sd 2/sd^2, for the gamma shape trigamma(shape) - 1/shape, and none
        between them. None for the negative binomial (its size's information has no closed
        form) and without the design."""
        import jax

        if self.design is None or self.family == "negative_binomial":
            return None
        d = self.design
        X = d.X
        n = X.shape[0]
        trials = np.ones(n) if d.trials is None else d.trials
        w = np.ones(n) if d.weights is None else d.weights
        offset = np.zeros(n) if d.offset is None else d.offset
        beta = np.array([float(params[c]) for c in self.columns])
        eta = jnp.asarray(X @ beta + offset)
        mu = np.asarray(mean_of(self.link, eta))
        slope = np.asarray(jax.vmap(jax.grad(lambda e: mean_of(self.link, e)))(eta))
        if self.family == "binomial":
            var = mu * (1 - mu) / trials
        elif self.family == "poisson":
            var = mu
        elif self.family == "gaussian":
            var = np.full(n, float(params["sd"]) ** 2)
        else:  # gamma: Var = mu^2 / shape
            var = mu * mu / float(params["shape"])
        p = len(self.columns)
        k = p + (self.extra is not None)
        info = np.zeros((k, k))
        info[:p, :p] = (X * (w * slope**2 / var)[:, None]).T @ X / n
        if self.family == "gaussian":
            info[p, p] = 2.0 * float(np.sum(w)) / n / float(params["sd"]) ** 2
        elif self.family == "gamma":
            from scipy.special import polygamma

            a = float(params["shape"])
            info[p, p] = float(np.sum(w)) / n * (float(polygamma(1, a)) - 1.0 / a)
        return info

    # -- what R's summary adds ----------------------------------------------------------------
    def statistics(self, fit) -> dict:
        """Deviance, null deviance (of the intercept-only model with the same offset), their
        residual degrees of freedom and the dispersion (1 for binomial and Poisson; the MLE
        sd^2 for the Gaussian; 1/shape, 1/size otherwise), as R's glm reports them."""
        from .._data import summed

        x = fit._context.x
        params = dict(fit.params)
        deviance = summed(x, lambda rows: self._deviance_of(rows, params))
        totals = summed(x, _weighted_totals)  # sum w y, sum w trials, sum w, rows, any offset
        if totals[4]:
            null_model = GLM(self.family, self.link, ("Intercept",))
            from .._fit import fit as refit

            if not isinstance(x, np.ndarray):  # a refit: another run of passes
                null = None
            else:
                null_rows = np.column_stack([x[:, :4], np.ones(x.shape[0])])
                null_fit = refit(null_model, null_rows, fixed=self._extra_fixed(fit))
                null = (None if not null_fit.converged else
                        self._deviance_of(null_rows, dict(null_fit.params), null_model))
        else:  # intercept only: its MLE is the weighted mean, whatever the link
            mean = totals[0] / (totals[1] if self.family == "binomial" else totals[2])
            null = summed(x, lambda rows: self._deviance_of(rows, params, mean=mean))
        n = float(totals[3])
        dispersion = {"binomial": 1.0, "poisson": 1.0}.get(self.family)
        if dispersion is None:
            extra = float(fit.params[self.extra])
            dispersion = extra**2 if self.family == "gaussian" else 1.0 / extra
        return {"deviance": deviance, "df_residual": n - len(self.columns),
                "null_deviance": null, "df_null": n - 1.0, "dispersion": dispersion}

    def t_test_df(self, fit):
        """A linear model's (Gaussian, identity link, sd estimated) t test as R's ``lm``
        prints it: on N - p degrees of freedom, N the number of observations (the sum of the
        frequency weights); for the model-based standard errors only (the others are
        large-sample quantities, tested by z)."""
        if (self.family != "gaussian" or self.link != "identity" or "sd" in fit.fixed
                or fit.cov_kind not in ("observed", "expected") or fit._context is None):
            return None
        from .._data import summed

        df = float(summed(fit._context.x, lambda rows: np.sum(rows[:, 3]))) - len(self.columns)
        return df if df > 0 else None

    def _extra_fixed(self, fit) -> dict:
        return {} if self.extra is None else {self.extra: fit.params[self.extra]}

    def _deviance_of(self, rows, params, model=None, mean=None) -> float:
        """The deviance of ``rows`` at ``params`` of ``model`` (default: this one), or of a
        constant mean ``mean``."""
        model = model or self
        y, trials, w = rows[:, 0], rows[:, 1], rows[:, 3]
        if mean is None:
            beta = np.array([float(params[c]) for c in model.columns])
            mean = np.asarray(mean_of(self.link, jnp.asarray(rows[:, 4:] @ beta + rows[:, 2])))
        return self._deviance(y, trials, w, np.broadcast_to(mean, y.shape), params)

    def _deviance(self, y, trials, w, mu, params) -> float:
        """R's deviance residuals summed: 2 (l_saturated - l) for the exponential-dispersion
        families at unit dispersion (the residual sum of squares for the Gaussian)."""
        from scipy.special import xlogy

        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "gaussian":
                d = (y - mu) ** 2
            elif self.family == "binomial":
                m = trials * mu
                d = 2 * (xlogy(y, y / m) + xlogy(trials - y, (trials - y) / (trials - m)))
            elif self.family == "poisson":
                d = 2 * (xlogy(y, y / mu) - (y - mu))
            elif self.family == "gamma":
                d = 2 * (-np.log(y / mu) + (y - mu) / mu)
            else:  # negative binomial at the fitted size
                k = float(params["size"])
                d = 2 * (xlogy(y, y / mu) - (y + k) * np.log((y + k) / (mu + k)))
        return float(np.sum(w * d))

    # -- predictions -------------------------------------------------------------------------
    def predict(self, fit, newdata=None, scale: str = "response", se: bool = False,
                offset=None):
        """mu (``scale="response"``) or eta (``"link"``) at ``newdata`` (default: the data
        fitted), with delta-method standard errors sqrt(x' C x) on the link scale, times
        |d mu / d eta| on the response scale."""
        import jax

        if scale not in ("response", "link"):
            raise ModelError(f"scale={scale!r} must be 'response' or 'link'.")
        from .design import linear_predictor

        eta, se_eta = linear_predictor(fit, self.design, self.columns, 4, 2, newdata, offset,
                                       se)
        value = eta if scale == "link" else np.asarray(mean_of(self.link, jnp.asarray(eta)))
        if not se:
            return value
        if scale == "link":
            return value, se_eta
        slope = np.asarray(jax.vmap(jax.grad(lambda e: mean_of(self.link, e)))(
            jnp.asarray(eta)))
        return value, np.abs(slope) * se_eta

    # -- the log-likelihood ------------------------------------------------------------------
    design_columns = slice(4, None)  # the coefficients enter through eta = X beta only

    def logpdf(self, x, p):
        beta = jnp.stack([jnp.asarray(p[c], dtype=x.dtype) for c in self.columns])
        return self.logpdf_eta(x, x[:, 4:] @ beta, p)

    def logpdf_eta(self, x, eta, p):
        y, trials, offset, weight = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        return weight * self._loglik(y, trials, eta + offset, p)

    def _loglik(self, y, trials, eta, p):
        family = self.family
        if family == "binomial":
            log_mu, log_1m = _log_probs(self.link, eta)
            if self.binary:
                return y * log_mu + (1.0 - y) * log_1m
            coef = (jss.gammaln(trials + 1) - jss.gammaln(y + 1) - jss.gammaln(trials - y + 1))
            return coef + y * log_mu + (trials - y) * log_1m
        mu = mean_of(self.link, eta)
        if family == "gaussian":
            return jst.norm.logpdf(y, mu, p["sd"])
        if family == "poisson":
            log_mu = eta if self.link == "log" else jnp.log(mu)
            return y * log_mu - mu - jss.gammaln(y + 1)
        if family == "negative_binomial":
            size = p["size"]
            log_mu = eta if self.link == "log" else jnp.log(mu)
            log_total = jnp.logaddexp(jnp.log(size), log_mu)  # log(size + mu)
            return (jss.gammaln(y + size) - jss.gammaln(size) - jss.gammaln(y + 1)
                    + size * (jnp.log(size) - log_total) + y * (log_mu - log_total))
        shape = p["shape"]  # gamma: rate = shape / mu
        log_mu = eta if self.link == "log" else jnp.log(mu)
        return (shape * (jnp.log(shape) - log_mu) + (shape - 1) * jnp.log(y)
                - shape * y / mu - jss.gammaln(shape))

    def notes(self, params, n, fixed):
        """For the Gaussian: the MLE of sd divides the residual sum of squares by n; R's and
        the textbooks' sigma by n - p. Both shown, the second labelled as not the MLE."""
        from .._diagnostics import residual_sd_note

        p = len(self.columns)
        if self.family != "gaussian" or "sd" in fixed or n <= p:
            return ()
        return (residual_sd_note(float(params["sd"]), n, p,
                                 "R's sigma, unbiased for sd^2 as its square"),)

    # -- data and start values ---------------------------------------------------------------
    def prepare(self, x, span=None):
        y, trials = x[:, 0], x[:, 1]
        rule, bad = None, np.zeros(y.shape, dtype=bool)
        if self.family == "binomial":
            bad = (y < 0) | (y > trials) | (y != np.round(y)) | (trials != np.round(trials))
            rule = "binomial responses are 0/1, or successes within trials (integers)"
        elif self.family in ("poisson", "negative_binomial"):
            bad = (y < 0) | (y != np.round(y))
            rule = f"{self.family} responses are counts 0, 1, 2, ..."
        elif self.family == "gamma":
            bad = y <= 0
            rule = "gamma responses are positive"
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"response[{i}] = {float(y[i])!r} is outside the {self.family} "
                            f"family's support: {rule}; {int(bad.sum())} value(s) are.")
        if np.sum(x[:, 3] > 0) < self.min_n:
            raise DataError(f"{self.name} has {len(self.params)} parameters; it needs at least "
                            f"{self.min_n} observations with positive weight.")
        if self.family == "binomial" and not self.binary and np.all(trials == 1):
            # skipping three log-gamma functions per observation: a third of a pass's time
            binary = copy.copy(self)
            binary.binary = True
            return binary, x
        return self, x

    def basis(self, x, fixed):
        """Newton works on the coefficients in the coordinates of the (weighted) design's QR
        factor, beta = T v with X T orthonormal: there the Gaussian Hessian is -I/sd^2 and
        the others' X'WX is conditioned by the weights alone, where in beta it squares the
        design's condition number (NIST Filip: 1e19). None for a rank-deficient design."""
        from .lstsq import coefficient_basis

        w = x[:, 3]
        return coefficient_basis(self.columns, fixed, lambda free: x[w > 0][
            :, [4 + j for j in free]] * np.sqrt(w[w > 0])[:, None])

    def no_maximum(self, x, fixed):
        """Where Newton found no clean maximum (the engine asks only then: a converged,
        well-conditioned fit proves there is none of these, and the checks cost more than the
        fit on large data), the NoEstimate saying why no MLE exists, or None:

        - binary responses: a direction of the coefficients moves every fitted probability
          towards its observed 0 or 1 (separation), found exactly by linear programming;
        - the Gaussian with the identity link: the data lie exactly on the fitted surface
          (residual sum of squares 0), so the likelihood grows without bound as sd -> 0."""
        if self.family == "gaussian" and self.link == "identity":
            return self._exact_fit(x, fixed)
        if self.family != "binomial" or any(c in fixed for c in self.columns):
            return None
        from .separation import detect_separation, separation_diagnostic

        y, trials, w, X = x[:, 0], x[:, 1], x[:, 3], x[:, 4:]
        found = detect_separation(X, y, self.columns, trials=trials, weights=w)
        if found is None:
            return None
        d = separation_diagnostic(found, self.name)
        # the supremum: separated observations reach probability 1 of what they show; the
        # others (x_i'b = 0, untouched by the separating direction) keep their own maximum
        rest = np.asarray(found.boundary, dtype=int)
        loglik = 0.0
        if rest.size:
            from .._fit import fit

            inner = fit(self, x[rest])
            loglik = inner.loglik if inner.converged else loglik
        return NoEstimate(d.message, d.remedy, code="separation", loglik=loglik)

    def _exact_fit(self, x, fixed):
        from .lstsq import least_squares

        if any(c in fixed for c in self.columns) or "sd" in fixed:
            return None
        y, offset, w, X = x[:, 0], x[:, 2], x[:, 3], x[:, 4:]
        root = np.sqrt(w)
        z = (y - offset) * root
        solved = least_squares(X * root[:, None], z)
        if solved is None:
            return None
        beta, residuals = solved
        # within the rounding of the data themselves: no residual the float64 values can show
        if np.linalg.norm(residuals) > 4 * np.finfo(float).eps * np.linalg.norm(z):
            return None
        return NoEstimate(
            "the data lie exactly on the fitted surface (the residual sum of squares is 0), so "
            "the likelihood grows without bound as sd -> 0: sd has no maximum likelihood "
            "estimate; the coefficients are the exact least-squares solution, with standard "
            "errors 0 in the limit",
            "nothing to estimate: the model interpolates the data; if y should have noise, "
            "check that the response is not a function of the covariates (a copied column)",
            code="exact_fit",
            limit={**{c: b for c, b in zip(self.columns, beta, strict=True)}, "sd": 0.0},
            limit_se=dict.fromkeys(self.columns, 0.0))

    def start(self, x):
        """Least squares of the linearized response g(y~) on X (weighted), where y~ is y
        pulled inside the link's range; the scale from the residuals."""
        y, trials, offset, w, X = x[:, 0], x[:, 1], x[:, 2], x[:, 3], x[:, 4:]
        if self.family == "binomial":
            mu = (y + 0.5) / (trials + 1.0)
        elif self.family in ("poisson", "negative_binomial"):
            mu = y + 0.5
        else:
            mu = y
        if self.link in ("log",) and self.family == "gaussian":
            mu = np.maximum(mu, 1e-8)
        with np.errstate(all="ignore"):
            z = _link_of(self.link, mu) - offset
        root = np.sqrt(w)
        z = np.where(np.isfinite(z), z, 0.0)
        solved = None
        if self.family == "gaussian" and self.link == "identity":  # the MLE, to the last digit
            from .lstsq import least_squares

            solved = least_squares(X * root[:, None], z * root)
        beta = (solved[0] if solved is not None
                else np.linalg.lstsq(X * root[:, None], z * root, rcond=None)[0])
        out = {c: np.asarray(b) for c, b in zip(self.columns, beta, strict=True)}
        if self.extra is not None:
            with np.errstate(all="ignore"):
                fitted = np.asarray(mean_of(self.link, X @ beta + offset))
            out[self.extra] = np.asarray(self._scale_start(y, fitted, w))
        return out

    def _scale_start(self, y, mu, w) -> float:
        total = max(float(np.sum(w)), 1.0)
        if self.family == "gaussian":
            return max(float(np.sqrt(np.sum(w * (y - mu) ** 2) / total)), 1e-8)
        if self.family == "gamma":  # 1 / (squared coefficient of variation)
            cv2 = float(np.sum(w * ((y - mu) / mu) ** 2) / total)
            return 1.0 / cv2 if np.isfinite(cv2) and cv2 > 1e-12 else 1.0
        excess = float(np.sum(w * ((y - mu) ** 2 - mu)) / total)  # negative binomial
        mean_sq = float(np.sum(w * mu * mu) / total)
        return mean_sq / excess if np.isfinite(excess) and excess > 1e-8 * mean_sq else 1e3
