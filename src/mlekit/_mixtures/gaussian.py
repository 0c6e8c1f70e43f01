r"""Gaussian mixtures: :math:`f(x) = \sum_{j=1}^k w_j\, N_d(x \mid \mu_j, \Sigma_j)`, a model
like any other (a per-observation log-density), maximized by EM for the start and by the
engine's Newton on the marginal likelihood for the rest.

EM (Dempster, Laird & Rubin 1977) alternates responsibilities
:math:`r_{ij} \propto w_j N(x_i \mid \mu_j, \Sigma_j)` with closed-form weighted MLEs
:math:`w_j = n_j / n`, :math:`\mu_j = \sum_i r_{ij} x_i / n_j`, :math:`\Sigma_j = \sum_i r_{ij}
(x_i - \mu_j)(x_i - \mu_j)' / n_j` (tied: pooled; diagonal: the diagonal; spherical: the mean
variance). It increases the likelihood at every step but only linearly, and its relative-change
rule can stop short; Newton from where it stops converges quadratically, and its test (score
~0, Hessian negative definite) is the engine's, so the fit is a verified maximum with standard
errors from the observed information of the marginal likelihood.

Parameters: ``weights`` (a simplex, k >= 2), ``means`` (k x d), and the covariances:
``cov1`` ... ``covk`` (full), ``cov`` (tied), ``var`` (k x d, diagonal) or ``var`` (k,
spherical). Components are reported in a canonical order (by their means, first coordinate
first), so relabelled optima are one optimum.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jax.scipy.special import logsumexp

from .._errors import DataError, ModelError
from .._model import Model
from .._params import CovMatrix, Positive, Real, Simplex

COVARIANCES = ("full", "tied", "diag", "spherical")
LOG_2PI = math.log(2.0 * math.pi)
#: EM for the start: until the log-likelihood's relative change is below EM_TOL
EM_TOL, EM_MAXITER = 1e-10, 2000
#: a component whose covariance's smallest eigenvalue is below this fraction of the data's
#: largest variance has collapsed (Old Faithful's thinnest legitimate component: 3e-3)
COLLAPSE = 1e-6


class GaussianMixture(Model):
    """A mixture of ``k`` d-dimensional normals with ``covariance`` structure "full" (each its
    own), "tied" (one shared), "diag" (each diagonal) or "spherical" (each a multiple of I).
    ``seed`` seeds the k-means++ start.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.normal(0, 1, (200, 2)), rng.normal(5, 1, (100, 2))]
    >>> fit = mk.fit(mk.GaussianMixture(2), x)
    >>> fit.params["weights"].round(2).tolist(), np.abs(fit.params["means"].round(0)).tolist()
    ([0.67, 0.33], [[0.0, 0.0], [5.0, 5.0]])
    """

    event_ndim = 1

    def __init__(self, k: int, covariance: str = "full", *, seed: int = 0,
                 d: int | None = None):
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ModelError(f"GaussianMixture(k={k!r}): k must be a number of components >= 1.")
        if covariance not in COVARIANCES:
            raise ModelError(f"GaussianMixture(covariance={covariance!r}) must be one of "
                             f"{list(COVARIANCES)}.")
        self.k, self.covariance, self.seed, self.d = int(k), covariance, int(seed), d
        self.name = f"gaussian mixture (k={self.k}, {covariance})"

    def __eq__(self, other):
        return isinstance(other, GaussianMixture) and (self.k, self.covariance, self.d) == (
            other.k, other.covariance, other.d)

    def __hash__(self):
        return hash((GaussianMixture, self.k, self.covariance, self.d))

    def __repr__(self):
        return f"GaussianMixture(k={self.k}, covariance={self.covariance!r})"

    @property
    def params(self):
        if self.d is None:
            raise ModelError("GaussianMixture learns d from the data's columns at fit time.")
        k, d = self.k, self.d
        out = {"weights": Simplex(k)} if k >= 2 else {}
        out["means"] = Real(shape=(k, d))
        if self.covariance == "full":
            out.update({f"cov{j + 1}": CovMatrix(d) for j in range(k)})
        elif self.covariance == "tied":
            out["cov"] = CovMatrix(d)
        elif self.covariance == "diag":
            out["var"] = Positive(shape=(k, d))
        else:
            out["var"] = Positive(shape=(k,))
        return out

    @property
    def min_n(self) -> int:
        return self.k + 1

    # -- the log-density ---------------------------------------------------------------------
    def component_logpdf(self, x, p):
        """log N(x_i | mu_j, Sigma_j): an (m, k) array."""
        d = x.shape[-1]
        cols = []
        for j in range(self.k):
            diff = x - p["means"][j]
            if self.covariance in ("full", "tied"):
                cov = p["cov"] if self.covariance == "tied" else p[f"cov{j + 1}"]
                chol = jnp.linalg.cholesky(cov)
                # L^-1 once (d x d), then one product: fused by XLA, where a triangular solve
                # with n right-hand sides is not
                inverse = jsl.solve_triangular(chol, jnp.eye(d, dtype=x.dtype), lower=True)
                z = diff @ inverse.T
                quad, logdet = jnp.sum(z * z, axis=1), 2.0 * jnp.sum(
                    jnp.log(jnp.diagonal(chol)))
            else:
                var = p["var"][j] if self.covariance == "diag" else jnp.full(d, p["var"][j])
                quad, logdet = jnp.sum(diff * diff / var, axis=1), jnp.sum(jnp.log(var))
            cols.append(-0.5 * (d * LOG_2PI + logdet + quad))
        return jnp.stack(cols, axis=1)

    def logpdf(self, x, p):
        log_w = jnp.log(p["weights"]) if self.k >= 2 else jnp.zeros(1)
        return logsumexp(self.component_logpdf(x, p) + log_w, axis=1)

    # -- data, starts, labels ----------------------------------------------------------------
    def prepare(self, x, span=None):
        if x.ndim != 2:
            raise DataError(f"a GaussianMixture needs an (n, d) array of vectors; got shape "
                            f"{x.shape}. For one variable pass x.reshape(-1, 1).")
        if x.shape[0] < self.min_n:
            raise DataError(f"{self.name} needs at least {self.min_n} observations; got "
                            f"{x.shape[0]}.")
        if self.d is not None and x.shape[1] != self.d:
            raise DataError(f"{self.name} was declared with d={self.d}; the data have "
                            f"{x.shape[1]} columns.")
        model = self if self.d is not None else GaussianMixture(
            self.k, self.covariance, seed=self.seed, d=x.shape[1])
        return model, x

    def start(self, x):
        """EM to its own convergence from a k-means++ start (``seed``), in canonical order."""
        return self.canonical(em(self, np.asarray(x, dtype=float), self.seed)[0])

    def diverging(self, x, params):
        """A component collapsing onto a point or a few collinear points: its covariance's
        smallest eigenvalue below COLLAPSE of the data's largest variance, or fewer than d + 1
        observations' worth of weight in it. The likelihood is unbounded there (it grows
        without limit as the covariance shrinks), so what Newton stopped at is no MLE."""
        from .._diagnostics import Diagnostic

        x = np.asarray(x, dtype=float)
        spread = float(np.max(np.linalg.eigvalsh(np.atleast_2d(np.cov(x, rowvar=False)))))
        weights = np.asarray(params["weights"]) if self.k >= 2 else np.ones(1)
        for j in range(self.k):
            smallest = float(np.min(np.linalg.eigvalsh(self._cov(params, j))))
            size = weights[j] * x.shape[0]
            if smallest < COLLAPSE * spread or size < self.d + 1:
                return Diagnostic(
                    "degenerate_component", "error",
                    f"component {j + 1} of {self.name} collapses: the smallest eigenvalue of "
                    f"its covariance is {smallest:.3g} ({smallest / spread:.1e} of the data's "
                    f"largest variance), with about {size:.1f} observations in it (repeated "
                    "values, or a few points on a line): the likelihood grows without bound as "
                    "that covariance shrinks, so this is no maximum likelihood estimate",
                    "put a prior on the covariances (a MAP fit), e.g. prior={'cov1': "
                    "mk.priors.InverseWishart(d + 2, np.cov(x.T) / k**(2 / d)), ...} (mclust's "
                    "default), or use fewer components (mk.select_k), or starts= to look for a "
                    "regular maximum")
        return None

    def starting_points(self, x, number, seed):
        """EM from k-means++ centres of other seeds (``seed`` + 1, + 2, ...), on a strided
        subsample of at most 2^15 points: the basins of a mixture's maxima are found by
        where the centres fall, which EM on all the data would only refine."""
        sample = np.asarray(x[:: max(1, x.shape[0] >> 15)], dtype=float)
        return [self.canonical(em(self, sample, self.seed + seed + i)[0])
                for i in range(1, number)]

    def canonical(self, params):
        """Components sorted by their means (lexicographically): one label per optimum."""
        means = np.asarray(params["means"], dtype=float)
        order = np.lexsort(means.T[::-1])
        if np.array_equal(order, np.arange(self.k)):
            return params
        out = dict(params)
        out["means"] = means[order]
        if self.k >= 2:
            out["weights"] = np.asarray(params["weights"])[order]
        if self.covariance == "full":
            for new, old in enumerate(order):
                out[f"cov{new + 1}"] = params[f"cov{old + 1}"]
        elif self.covariance in ("diag", "spherical"):
            out["var"] = np.asarray(params["var"])[order]
        return out

    def predict_proba(self, fit, newdata=None):
        x = fit._context.x if newdata is None else self._new_data(newdata)
        return self.responsibilities(x, fit._context.params())

    def predict(self, fit, newdata=None, scale="response", se=False, offset=None):
        """The most probable component of each row (0-based, in the canonical order)."""
        if se or offset is not None or scale != "response":
            raise ModelError("a mixture's predict gives component labels: no se=, offset= or "
                             "scale=; predict_proba gives the probabilities.")
        return np.argmax(self.predict_proba(fit, newdata), axis=1)

    def sample(self, params, size, rng=None):
        rng = np.random.default_rng(rng)
        weights = np.asarray(params["weights"]) if self.k >= 2 else np.ones(1)
        labels = rng.choice(self.k, size=size, p=weights / weights.sum())
        out = np.empty((size, self.d))
        for j in range(self.k):
            rows = labels == j
            out[rows] = rng.multivariate_normal(np.asarray(params["means"])[j],
                                                self._cov(params, j), int(rows.sum()),
                                                method="cholesky")
        return out

    def _cov(self, params, j) -> np.ndarray:
        if self.covariance == "full":
            return np.asarray(params[f"cov{j + 1}"])
        if self.covariance == "tied":
            return np.asarray(params["cov"])
        var = np.asarray(params["var"])[j]
        return np.diag(var) if self.covariance == "diag" else var * np.eye(self.d)

    def _new_data(self, newdata) -> np.ndarray:
        x = np.asarray(newdata, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.d or not np.all(np.isfinite(x)):
            raise DataError(f"newdata must be a finite (n, {self.d}) array; got shape "
                            f"{x.shape}.")
        return x

    def responsibilities(self, x, params) -> np.ndarray:
        """P(component j | x_i) at ``params``: an (n, k) array."""
        log_w = np.log(np.asarray(params["weights"])) if self.k >= 2 else np.zeros(1)
        comp = np.asarray(self.component_logpdf(jnp.asarray(x), {
            n: jnp.asarray(v) for n, v in params.items()})) + log_w
        from scipy.special import logsumexp as np_logsumexp

        return np.exp(comp - np_logsumexp(comp, axis=1, keepdims=True))


# -- EM ------------------------------------------------------------------------------------------
def kmeans_plus_plus(x: np.ndarray, k: int, rng) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): centres drawn with probability
    proportional to the squared distance to the nearest centre chosen so far."""
    centres = [x[rng.integers(x.shape[0])]]
    dist = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = dist.sum()
        i = rng.choice(x.shape[0], p=dist / total) if total > 0 else rng.integers(x.shape[0])
        centres.append(x[i])
        dist = np.minimum(dist, np.sum((x - x[i]) ** 2, axis=1))
    return np.array(centres)


def em(model: GaussianMixture, x: np.ndarray, seed: int = 0,
       maxiter: int = EM_MAXITER, tol: float = EM_TOL) -> tuple[dict, float, int]:
    """(parameters, log-likelihood, iterations) of EM from k-means++ centres (hard
    assignment to the nearest for the first M-step)."""
    rng = np.random.default_rng(seed)
    centres = kmeans_plus_plus(x, model.k, rng)
    nearest = np.argmin(((x[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    data = EMData.of(x)
    hard = np.eye(model.k)[nearest]
    nk = hard.sum(axis=0)
    scatter = np.stack([(hard[:, j, None] * (x - centres[j])).T @ (x - centres[j])
                        if model.covariance in ("full", "tied") else
                        (hard[:, j, None] * (x - centres[j]) ** 2).sum(axis=0)
                        for j in range(model.k)])
    first = _m_step(model, centres, nk, hard.T @ x, scatter, data.floor)
    return em_steps(model, x, first, maxiter, tol, data=data)


class EMData:
    """Observations in the engine's chunks (fixed shapes, zero weight on padding), so that
    one compiled E-step serves every n; ``w`` carries frequency weights too."""

    def __init__(self, parts, n, floor):
        self.parts, self.n, self.floor = parts, n, floor

    @classmethod
    def of(cls, x: np.ndarray, weights: np.ndarray | None = None, floor: float = 1e-12):
        from .._data import Chunks

        x = np.asarray(x, dtype=float)
        chunks = Chunks.from_array(x).parts
        if weights is not None:  # frequency weights times the chunks' 1 / 0 (padding)
            w = np.asarray(weights, dtype=float)
            parts, start = [], 0
            for xc, wc in chunks:
                m = min(xc.shape[0], x.shape[0] - start)
                full = np.zeros(xc.shape[0])
                full[:m] = w[start:start + m]
                parts.append((xc, jnp.asarray(full) * wc))
                start += m
            chunks = tuple(parts)
        scale = max(float(np.average(np.var(x, axis=0))), 1e-300)
        return cls(chunks, x.shape[0], floor * scale)


def em_steps(model: GaussianMixture, x: np.ndarray, params: dict, maxiter: int = EM_MAXITER,
             tol: float | None = EM_TOL, floor: float = 1e-12, weights=None,
             data: EMData | None = None) -> tuple[dict, float, int]:
    """EM iterations (E-step, then M-step) from ``params``: ``maxiter`` of them, or fewer
    where the log-likelihood's relative change falls below ``tol`` (None: never); ``weights``
    are frequency weights. Returns (parameters, the log-likelihood at the last E-step,
    iterations).

    Each E-step runs compiled over the chunks, on all cores, and returns each chunk's sums
    (n_j, sum r x, and the scatter about the previous means, which keeps the M-step free of
    cancellation); the M-step combines them (k x d x d numbers)."""
    from .._data import parallel_map, split

    data = data or EMData.of(x, weights, floor)
    current = {n: np.asarray(v, dtype=np.float64) for n, v in params.items()}
    ll_old, ll, done = -np.inf, -np.inf, 0
    while done < maxiter:
        done += 1
        centre = current["means"]

        def run(parts, at=current, centre=centre):
            return [_e_sums(model, xc, wc, at, centre) for xc, wc in parts]

        outs = [o for group in parallel_map(run, split(data.parts)) for o in group]
        sums = [np.sum([np.asarray(o[i]) for o in outs], axis=0) for i in range(4)]
        ll = float(sums[0])
        current = _m_step(model, centre, *sums[1:], data.floor)
        if tol is not None and abs(ll - ll_old) <= tol * abs(ll):
            break
        ll_old = ll
    return current, ll, done


@partial(jax.jit, static_argnames=("model",))
def _e_sums(model, x, w, params, centre):
    """(log-likelihood, n_j, sum_i r_ij x_i, scatter about ``centre``) of a chunk."""
    comp = model.component_logpdf(x, params)
    if model.k >= 2:
        comp = comp + jnp.log(params["weights"])
    total = logsumexp(comp, axis=1)
    resp = w[:, None] * jnp.exp(comp - total[:, None])
    diffs = [x - centre[j] for j in range(model.k)]
    if model.covariance in ("full", "tied"):
        scatter = jnp.stack([(resp[:, j, None] * diffs[j]).T @ diffs[j]
                             for j in range(model.k)])
    else:
        scatter = jnp.stack([(resp[:, j, None] * diffs[j] ** 2).sum(axis=0)
                             for j in range(model.k)])
    return jnp.sum(w * total), resp.sum(axis=0), resp.T @ x, scatter


def _m_step(model: GaussianMixture, centre, nk, sum_x, scatter, floor: float) -> dict:
    """The weighted MLEs from a pass's sums: w_j = n_j / n, mu_j = sum r x / n_j, and the
    covariances from the scatter about the previous means, moved to the new ones
    (S / n_j - delta delta'); ``floor`` (1e-12 of the data's variance) added to variances keeps
    a collapsing component finite for the start (the fit itself has none)."""
    nk = nk + 1e-300
    means = sum_x / nk[:, None]
    delta = means - centre
    out = {"means": means}
    if model.k >= 2:
        out["weights"] = nk / nk.sum()
    d = means.shape[1]
    if model.covariance in ("full", "tied"):
        covs = [scatter[j] / nk[j] - np.outer(delta[j], delta[j]) + floor * np.eye(d)
                for j in range(model.k)]
        covs = [0.5 * (c + c.T) for c in covs]
        if model.covariance == "tied":
            out["cov"] = sum(c * n for c, n in zip(covs, nk, strict=True)) / nk.sum()
        else:
            out.update({f"cov{j + 1}": c for j, c in enumerate(covs)})
    else:
        var = scatter / nk[:, None] - delta**2 + floor
        out["var"] = var if model.covariance == "diag" else var.mean(axis=1)
    return out
