r"""Mixtures of any univariate families: :math:`f(x) = \sum_j w_j f_j(x \mid \theta_j)`, the
components the same family (``mk.Mixture(mk.Gamma(), k=2)``) or different ones
(``mk.Mixture([mk.Normal(), mk.Exponential()])``).

Each component's parameters are named after its own with the component's number (``shape1``,
``rate1``, ``shape2``, ...). The start splits the sorted data into k groups at the quantiles
j/k and fits each component to its group by maximum likelihood (the data's start rule where that
fails); the engine's Newton then maximizes the marginal likelihood, with the same test,
standard errors and diagnostics as every model. ``starts=N`` splits at random quantiles instead.
Components of one family are reported in the order of their means (one label per optimum).
"""

from __future__ import annotations

import copy

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from .._errors import DataError, ModelError
from .._model import Model
from .._params import Simplex


class Mixture(Model):
    """A mixture of ``components`` (families, at least two), or ``k`` copies of one family.

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> rng = np.random.default_rng(0)
    >>> x = np.r_[rng.exponential(1.0, 300), rng.exponential(10.0, 300)]
    >>> fit = mk.fit(mk.Mixture(mk.Exponential(), k=2), x)
    >>> fit.param_names
    ('weights', 'rate1', 'rate2')
    """

    def __init__(self, components, k: int | None = None, *, seed: int = 0):
        from .._families import Family

        if isinstance(components, Family):
            if not (isinstance(k, int) and not isinstance(k, bool) and k >= 2):
                raise ModelError(f"Mixture({components!r}, k={k!r}): k must be a number of "
                                 "components >= 2.")
            components = [components] * k
        elif k is not None:
            raise ModelError("give k only with a single family: Mixture(mk.Gamma(), k=2).")
        components = tuple(components)
        if len(components) < 2 or not all(isinstance(c, Family) for c in components):
            raise ModelError(f"Mixture(components={components!r}) needs two or more families "
                             "(mk.Normal(), mk.Gamma(), ...).")
        if any(c.event_ndim for c in components):
            raise ModelError("Mixture takes univariate families; for vectors use "
                             "mk.GaussianMixture.")
        self.components, self.k, self.seed = components, len(components), int(seed)
        #: (component, a value inside its support) for the components whose support does not
        #: hold all the data: their density is 0 outside it (set by prepare)
        self.masked: tuple[tuple[int, float], ...] = ()
        names = ", ".join(c.name for c in components)
        self.name = f"mixture of {names}"
        self.min_n = sum(c.min_n for c in components) + 1

    def __eq__(self, other):
        return isinstance(other, Mixture) and (self.components, self.masked) == (
            other.components, other.masked)

    def __hash__(self):
        return hash((Mixture, self.components, self.masked))

    def __repr__(self):
        return f"Mixture({list(self.components)!r})"

    @property
    def params(self):
        out = {"weights": Simplex(self.k)}
        for j, c in enumerate(self.components):
            out.update({f"{name}{j + 1}": spec for name, spec in c.params.items()})
        return out

    def component_params(self, p, j: int) -> dict:
        return {name: p[f"{name}{j + 1}"] for name in self.components[j].params}

    def logpdf(self, x, p):
        return logsumexp(self._component_logpdf(x, p) + jnp.log(p["weights"]), axis=-1)

    def _component_logpdf(self, x, p):
        """log f_j(x_i): (n, k). A component whose support misses some observations is
        evaluated at a value inside it there (so no NaN reaches a derivative) and masked."""
        safe = dict(self.masked)
        cols = []
        for j, c in enumerate(self.components):
            if j not in safe:
                cols.append(c.logpdf(x, self.component_params(p, j)))
                continue
            inside = _inside(c.support, x)
            value = c.logpdf(jnp.where(inside, x, safe[j]), self.component_params(p, j))
            cols.append(jnp.where(inside, value, -jnp.inf))
        return jnp.stack(cols, axis=-1)

    # -- data and starts ---------------------------------------------------------------------
    def prepare(self, x, span=None):
        """Every observation must lie in some component's support; the components whose
        support misses some are masked there (density 0)."""
        outside = np.stack([c.support.violations(x) for c in self.components])
        orphans = outside.all(axis=0)
        if orphans.any():
            i = int(np.argmax(orphans))
            raise DataError(f"x[{i}] = {float(x[i])!r} lies outside the support of every "
                            f"component of the {self.name} "
                            f"({', '.join(c.support.describe() for c in self.components)}); "
                            "remove it or add a component whose support holds it.")
        masked = tuple((j, float(x[int(np.argmin(outside[j]))]))
                       for j in range(self.k) if outside[j].any())
        if masked == self.masked:
            return self, x
        out = copy.copy(self)
        out.masked = masked
        return out, x

    def start(self, x):
        return self._split(np.sort(np.asarray(x, dtype=float)),
                           np.arange(1, self.k) / self.k)

    def starting_points(self, x, number, seed):
        rng = np.random.default_rng(self.seed + seed)
        ordered = np.sort(np.asarray(x, dtype=float))
        return [self._split(ordered, np.sort(rng.uniform(0.05, 0.95, self.k - 1)))
                for _ in range(1, number)]

    def _split(self, ordered: np.ndarray, cuts: np.ndarray) -> dict:
        """Each component fitted to its slice of the sorted data, weights = slice sizes."""
        from .._fit import fit

        edges = np.r_[0, np.round(cuts * ordered.size).astype(int), ordered.size]
        out = {}
        sizes = np.diff(edges).astype(float)
        for j, c in enumerate(self.components):
            part = ordered[edges[j]:edges[j + 1]]
            values = None
            if part.size >= max(c.min_n, 2):
                try:
                    got = fit(c, part)
                    values = got.params if got.converged else None
                except Exception:  # noqa: BLE001 - a slice a family cannot fit: its start rule
                    values = None
            if values is None:
                values = c.start(ordered if part.size < 2 else part)
            out.update({f"{name}{j + 1}": np.asarray(v) for name, v in values.items()})
        out["weights"] = np.maximum(sizes, 1.0) / np.maximum(sizes, 1.0).sum()
        return self.canonical(out)

    def canonical(self, params):
        """Components of one family in the order of their means."""
        if len(set(self.components)) != 1:
            return params
        try:
            means = [float(self.components[j].mean(self.component_params(params, j)))
                     for j in range(self.k)]
        except NotImplementedError:
            return params
        order = np.argsort(means)
        if np.array_equal(order, np.arange(self.k)):
            return params
        out = dict(params)
        out["weights"] = np.asarray(params["weights"])[order]
        for new, old in enumerate(order):
            for name in self.components[0].params:
                out[f"{name}{new + 1}"] = params[f"{name}{old + 1}"]
        return out

    def predict_proba(self, fit, newdata=None):
        x = np.asarray(fit._context.x if newdata is None else newdata, dtype=float)
        model = self if newdata is None else self.prepare(x)[0]
        p = {n: jnp.asarray(v) for n, v in fit._context.params().items()}
        comps = np.asarray(model._component_logpdf(jnp.asarray(x), p))
        comps = comps + np.log(np.asarray(p["weights"]))
        top = comps.max(axis=1, keepdims=True)
        resp = np.exp(comps - top)
        return resp / resp.sum(axis=1, keepdims=True)

    def predict(self, fit, newdata=None, scale="response", se=False, offset=None):
        return np.argmax(self.predict_proba(fit, newdata), axis=1)

    def sample(self, params, size, rng=None):
        rng = np.random.default_rng(rng)
        weights = np.asarray(params["weights"], dtype=float)
        labels = rng.choice(self.k, size=size, p=weights / weights.sum())
        out = np.empty(size)
        for j, c in enumerate(self.components):
            rows = labels == j
            if rows.any():
                out[rows] = c.sample(self.component_params(params, j), int(rows.sum()), rng)
        return out


def _inside(support, x):
    """The support's membership test, traced."""
    ok = jnp.ones(x.shape, dtype=bool)
    if support.lower > -np.inf:
        ok &= (x > support.lower) if support.lower_open else (x >= support.lower)
    if support.upper < np.inf:
        ok &= (x < support.upper) if support.upper_open else (x <= support.upper)
    if support.integer:
        ok &= x == jnp.round(x)
    return ok

