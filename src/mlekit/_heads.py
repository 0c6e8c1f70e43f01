r"""Likelihood heads: a family whose parameters are a function of inputs, such as a linear map
or a neural network, with weights of any shape. The data are pairs ``(inputs, targets)``; the
log-likelihood is the family's, so machine learning's losses are negative log-likelihoods:

- ``mk.Categorical.from_logits(fn, params)``: :math:`\log \mathrm{softmax}(f(x))_y`, the
  cross-entropy loss (softmax regression when f is linear);
- ``mk.Bernoulli.from_logits(fn, params)``: the binary cross-entropy, :math:`\log \sigma(\pm f)`;
- ``mk.Normal.from_mean(fn, params, sd=None)``: squared error, :math:`\log N(y; f(x), sd)`
  (``sd`` estimated, or fixed);
- ``mk.Normal.from_mean_sd(fn, params)``: heteroscedastic, f returns ``(mean, sd)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
from jax.nn import log_sigmoid, log_softmax

from ._errors import DataError, ModelError
from ._model import Model
from ._params import Param, Positive

KINDS = ("categorical", "bernoulli", "normal_mean", "normal_mean_sd")


class Head(Model):
    """A family's log-likelihood at parameters ``fn(inputs, params)`` (see the module notes).
    Rows of the data are ``[target, inputs flattened]``."""

    event_ndim = 1

    def __init__(self, kind: str, fn: Callable, params: Mapping[str, Param],
                 sd: float | None = None, name: str | None = None):
        if kind not in KINDS:
            raise ModelError(f"kind={kind!r} must be one of {KINDS}.")
        if not callable(fn):
            raise ModelError(f"fn={fn!r} must be a function fn(inputs, params).")
        if not isinstance(params, Mapping) or not params or not all(
                isinstance(p, Param) for p in params.values()):
            raise ModelError("params must be a dict of name -> mk.Real(init=..., shape=...) "
                             "(or another declaration), e.g. {'W': mk.Real(init=np.zeros((4, "
                             "3)), shape=(4, 3))}.")
        declared = dict(params)
        if kind == "normal_mean" and sd is None:
            if "sd" in declared:
                raise ModelError("'sd' is the head's own parameter; rename yours.")
            declared["sd"] = Positive(init=1.0)
        if sd is not None and kind != "normal_mean":
            raise ModelError("sd= fixes the noise of mk.Normal.from_mean; this head has none.")
        if sd is not None and not (np.isfinite(sd) and sd > 0):
            raise ModelError(f"sd={sd!r} must be a positive number (or None to estimate it).")
        self.kind, self.fn, self.sd = kind, fn, None if sd is None else float(sd)
        self._params = declared
        self.name = name or {"categorical": "categorical (logits)",
                             "bernoulli": "bernoulli (logits)",
                             "normal_mean": "normal (mean)",
                             "normal_mean_sd": "normal (mean, sd)"}[kind]
        self.input_shape: tuple[int, ...] | None = None
        self.min_n = 1

    def __eq__(self, other):
        return (isinstance(other, Head) and (self.kind, self.fn, self.sd, self.input_shape)
                == (other.kind, other.fn, other.sd, other.input_shape)
                and self._params == other._params)

    def __hash__(self):
        return hash((Head, self.kind, self.fn, self.sd, self.input_shape))

    def __repr__(self):
        return f"Head({self.kind!r}, {getattr(self.fn, '__name__', 'fn')})"

    @property
    def params(self):
        return self._params

    # -- data ------------------------------------------------------------------------------
    def encode(self, data):
        """(this head for inputs of that shape, rows ``[target, inputs flattened]``) of
        ``(inputs, targets)``; rows encoded before pass through."""
        if not (isinstance(data, tuple) and len(data) == 2):
            if self.input_shape is None:
                raise DataError(f"{self.name} fits pairs (inputs, targets): pass "
                                "mk.fit(model, (X, y)).")
            return self, data
        inputs = np.asarray(data[0], dtype=float)
        targets = np.asarray(data[1], dtype=float).ravel()
        if inputs.ndim < 1 or inputs.shape[0] != targets.shape[0]:
            raise DataError(f"inputs have {inputs.shape[0] if inputs.ndim else 0} rows and "
                            f"targets {targets.shape[0]}: give one target per input row.")
        shaped = copy.copy(self)
        shaped.input_shape = tuple(inputs.shape[1:])
        return shaped, np.column_stack([targets, inputs.reshape(inputs.shape[0], -1)])

    def prepare(self, x, span=None):
        y = x[:, 0]
        if not np.all(np.isfinite(x)):
            i = int(np.argmax(~np.all(np.isfinite(x), axis=1)))
            raise DataError(f"row {i} holds a non-finite input or target; drop it first.")
        if self.kind == "bernoulli":
            bad = (y != 0) & (y != 1)
            rule = "0 or 1"
        elif self.kind == "categorical":
            k = self._outputs(x)
            bad = (y < 0) | (y >= k) | (y != np.round(y))
            rule = f"a class code 0..{k - 1} (fn returns {k} logits)"
        else:
            bad = np.zeros(y.shape, dtype=bool)
            rule = ""
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"targets[{i}] = {float(y[i])!r}: each target must be {rule}.")
        return self, x

    def _outputs(self, x) -> int:
        shape = jax.eval_shape(lambda v: self.fn(v, self._start_values()),
                               jax.ShapeDtypeStruct((1, *self.input_shape), jnp.float64)).shape
        return int(shape[-1])

    def _start_values(self):
        return {n: jnp.asarray(p.start()) for n, p in self._params.items()}

    # -- the log-likelihood ----------------------------------------------------------------
    def logpdf(self, x, p):
        y = x[:, 0]
        out = self.fn(x[:, 1:].reshape(x.shape[0], *self.input_shape), p)
        if self.kind == "categorical":
            logp = log_softmax(out, axis=-1)
            return jnp.take_along_axis(logp, y.astype(jnp.int32)[:, None], axis=-1)[:, 0]
        if self.kind == "bernoulli":
            z = jnp.reshape(out, y.shape)
            return y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z)
        if self.kind == "normal_mean":
            mean = jnp.reshape(out, y.shape)
            sd = p["sd"] if self.sd is None else self.sd
        else:
            mean, sd = (jnp.reshape(v, y.shape) for v in out)
        z = (y - mean) / sd
        return -0.5 * z * z - jnp.log(sd) - 0.5 * jnp.log(2.0 * jnp.pi)

    #: asked also where Newton stopped short: on separated classes it runs to the iteration
    #: limit while the weights grow
    diverging_at_stop = True

    def diverging(self, x, params):
        """Separated classes: the fitted logits classify every training target correctly. A
        larger multiple of the output layer then classifies them more surely, so the
        likelihood rises towards 1 without a maximum: no MLE exists."""
        if self.kind not in ("categorical", "bernoulli"):
            return None
        from ._diagnostics import Diagnostic

        values = {n: jnp.asarray(v) for n, v in params.items()}
        x = np.asarray(x, dtype=float)
        out = np.asarray(self.fn(jnp.asarray(x[:, 1:]).reshape(x.shape[0], *self.input_shape),
                                 values), dtype=float)
        y = x[:, 0]
        right = (np.argmax(out, axis=-1) == y if self.kind == "categorical"
                 else np.where(y == 1, out.reshape(y.shape) > 0, out.reshape(y.shape) < 0))
        if not np.all(right):
            return None
        return Diagnostic(
            "separation", "error",
            f"the classes are separated: the fitted model classifies all {y.size} training "
            "targets correctly, so scaling up its output layer raises the likelihood towards "
            "its supremum 1 (log-likelihood 0) without a maximum: no maximum likelihood "
            "estimate exists, and the weights grow without bound",
            "add a prior on the weights (prior={'W': mk.priors.Normal(0, s)}: L2, a MAP fit) "
            "or a penalty, or fewer inputs")


def constructor(kind: str, doc: str):
    """A family's head constructor (``mk.Categorical.from_logits``, ...): ``fn``, ``params``
    and the head's options (``sd=`` for ``normal_mean``, ``name=``)."""

    def build(fn: Callable, params: Mapping[str, Param], **options) -> Head:
        return Head(kind, fn, params, **options)

    build.__doc__ = doc
    return staticmethod(build)


def pytree_params(tree) -> tuple[dict[str, Param], Callable]:
    """Parameter declarations for every array of a pytree (a flax module's ``params`` dict,
    an equinox module's arrays after ``eqx.partition(module, eqx.is_array)``, nested dicts or
    lists), named by their paths ("Dense_0/kernel") with the arrays as start values; and
    ``rebuild(params)``, the pytree again from a parameter dict (traceable: use it inside the
    model's function).

    Examples
    --------
    >>> import numpy as np, mlekit as mk
    >>> params, rebuild = mk.pytree_params({"dense": {"w": np.zeros((2, 3)), "b": np.zeros(3)}})
    >>> sorted(params), params["dense/w"].shape
    (['dense/b', 'dense/w'], (2, 3))
    >>> rebuild({"dense/w": np.ones((2, 3)), "dense/b": np.ones(3)})["dense"]["w"].shape
    (2, 3)
    """
    from ._params import Real

    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
    if not leaves:
        raise ModelError("the pytree holds no arrays: nothing to estimate.")
    names = ["/".join(_path_name(k) for k in path) or f"leaf{i}"
             for i, (path, _) in enumerate(leaves)]
    if len(set(names)) != len(names):
        raise ModelError(f"the pytree's paths do not name its arrays uniquely: {names}.")
    params = {}
    for name, (_, leaf) in zip(names, leaves, strict=True):
        value = np.asarray(leaf, dtype=float)
        if not np.all(np.isfinite(value)):
            raise ModelError(f"the pytree's array {name!r} holds non-finite values.")
        params[name] = Real(init=value, shape=value.shape)

    def rebuild(values):
        return jax.tree_util.tree_unflatten(treedef, [values[n] for n in names])

    return params, rebuild


def _path_name(key) -> str:
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)
