r"""White's (1982) information-matrix test: does the data's variability match the model's?

Under a correct model the information equality holds, :math:`E[H_i + s_i s_i'] = 0` for the
score :math:`s_i` and Hessian :math:`H_i` of :math:`\ell_i = \log p(x_i \mid \theta)`. With the
indicators :math:`d_i = \mathrm{vech}(H_i + s_i s_i')` at :math:`\hat\theta`,

.. math:: T = n\, \bar d' V^{-} \bar d \;\sim\; \chi^2_q,

:math:`V` the variance of :math:`\psi_i = d_i - D \bar H^{-1} s_i`, which corrects for the
estimation of :math:`\theta` (:math:`D = E[\partial d_i / \partial\theta']`), and :math:`q` its
rank: indicators that are identically zero or linear in the scores are dropped by an
eigen-decomposition of the indicators' scaled residual variance given the scores.

Two estimates of :math:`V` (``variance=``):

- ``"model"``, the default: expectations under the fitted model. Differentiating
  :math:`E_\theta d = 0` gives :math:`D = -E[d s']`, so :math:`\psi` is the residual of
  :math:`d` regressed on :math:`s` and no third derivatives are needed. Exact sums over the
  support for discrete families, else Monte Carlo from ``model.sample`` with a fixed seed
  (2^20 draws for k <= 2: about 3% error in V). For the normal, T is then Jarque-Bera's
  :math:`n b_1/6 + n(b_2-3)^2/24` (Hall 1987); for the Poisson, the Dean-Lawless
  overdispersion statistic :math:`n(m_2-\bar x)^2 / (2\bar x^2)`.
- ``"white"``: White's sample analog, :math:`V = \frac1n \sum \psi_i\psi_i'` with
  :math:`D = \frac1n \sum \partial d_i/\partial\theta'` (third derivatives by autodiff).

Measured rejection rates of true models (R = 400 fits each, seeds 0..399, Monte Carlo s.e.
0.011 at 0.05 and 0.005 at 0.01), "model" / "white":

=====================  ================  ================
family, n              level 0.05        level 0.01
=====================  ================  ================
normal, 100            0.043 / 0.260     0.022 / 0.168
normal, 1000           0.045 / 0.113     0.003 / 0.052
poisson(3), 100        0.048 / 0.050     0.010 / 0.015
poisson(3), 1000       0.058 / 0.068     0.005 / 0.020
gamma(2), 200          0.040 / 0.273     0.025 / 0.145
gamma(2), 1000         0.045 / 0.152     0.010 / 0.070
weibull(1.5), 200      0.048 / 0.245     0.028 / 0.163
exponential, 100       0.035 / 0.120     0.007 / 0.058
neg. binomial, 200     0.040 / 0.172     0.020 / 0.083
student t(6), 500      0.028 / 0.195     0.013 / 0.085
=====================  ================  ================

White's form over-rejects badly (its V rests on 8th sample moments) and has little power
against heavy tails (p = 0.09 for the normal on DAX returns, where "model" gives T = 3233): it
serves only models without a sampler, and the diagnostic does not use it. The model form is
nominal at 0.05; at 0.01 and n <= 200 it rejects ~2% of true continuous models, as
Jarque-Bera itself does (0.020 at n = 100 over 20,000 normal samples): the skewness of the
kurtosis indicator, not the variance estimate. All is in the fit's unconstrained coordinates
``u``: at the maximum the mean indicator in ``u`` is an exact linear map of the one in natural
units (the chain-rule term is linear in the scores, which sum to zero), so T depends on the
parametrization only through the estimate of V.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._diagnostics import Diagnostic
from .._errors import FitError, MlekitError, ModelError
from .context import FitContext
from .testing import TestResult, _fmt_p, chi2_sf

#: the diagnostic runs only for this many free parameters or fewer (q = k(k+1)/2 indicators)
MAX_K = 10
#: at most this many observations (a strided subsample beyond): the cost stays ~constant in n
MAX_N = 20_000
#: everything is evaluated in pieces of MC_PIECE (one compiled shape); Monte Carlo takes as
#: many pieces as keep the cost ~ pieces * q^2 bounded (2^20 draws for k <= 2, 2^17 for k = 10)
MC_PIECE, MC_BUDGET, SEED = 1 << 15, 96, 20_821
#: the diagnostic's first look: 2^16 draws, enough to clear a fit whose p-value is far above
#: the level (which is most correct fits): measured 4-30 ms against 70-125 ms for the full
QUICK_PIECES = 2
#: discrete supports larger than this are integrated by Monte Carlo instead
MAX_POINTS = 1 << 16
#: directions whose residual variance given the scores is below this fraction of their
#: variance are exact dependencies of the indicators on the scores
RANK_TOL = 1e-8


@partial(jax.jit, static_argnames=("model", "layout", "third"))
def _chunk(u, fixed, x, w, model, layout, third=False):
    """Weighted sums over a chunk of the scores s_i, Hessians H_i, indicators
    d_i = vech(H_i + s_i s_i') and their cross products (in u; forward mode, k is small);
    with ``third`` also sum_i w_i dd_i/du, (q, k)."""
    iu = np.triu_indices(layout.k)

    def parts(v):
        def s_of(t):
            return jax.jacfwd(lambda r: model.logpdf(x, layout.unpack(r, fixed)))(t)

        s, h = s_of(v), jax.jacfwd(s_of)(v)
        return s, h, (h + s[:, :, None] * s[:, None, :])[:, iu[0], iu[1]]

    if third:
        def dsum(v):
            s, h, d = parts(v)
            return w @ d, (s, h, d)

        grad_d, (s, h, d) = jax.jacfwd(dsum, has_aux=True)(u)
    else:
        (s, h, d), grad_d = parts(u), jnp.zeros((iu[0].size, layout.k))
    ws, wd = w[:, None] * s, w[:, None] * d
    return {"w": jnp.sum(w), "s": ws.sum(0), "h": jnp.einsum("i,ijk->jk", w, h),
            "d": wd.sum(0), "ss": ws.T @ s, "ds": wd.T @ s, "dd": wd.T @ d, "grad_d": grad_d}


def _sums(ctx, u, pieces, third=False) -> dict:
    """The sums of :func:`_chunk` over pieces (x, w), as numpy."""
    out = None
    for x, w in pieces:
        got = _chunk(u, ctx.objective.fixed, x, w, ctx.model, ctx.layout, third)
        got = {key: np.asarray(v, dtype=float) for key, v in got.items()}
        out = got if out is None else {key: out[key] + got[key] for key in out}
    return out


def _pieces(x: np.ndarray, weights: np.ndarray | None = None) -> list:
    """(x, w) in pieces of MC_PIECE, the last padded with weight 0: data (at most MAX_N),
    support points and draws share one compiled shape (a compilation costs ~0.3-3 s)."""
    n = x.shape[0]
    size = -(-n // MC_PIECE) * MC_PIECE
    xp = np.concatenate([x, np.repeat(x[:1], size - n, axis=0)])
    w = np.zeros(size)
    w[:n] = 1.0 if weights is None else weights
    return [(xp[i:i + MC_PIECE], w[i:i + MC_PIECE]) for i in range(0, size, MC_PIECE)]


def _subsample(x: np.ndarray) -> np.ndarray:
    """Every stride-th observation, at most MAX_N: deterministic, and spread over sorted data."""
    stride = -(-x.shape[0] // MAX_N)
    return x[::stride] if stride > 1 else x


def _maximize(ctx, u, x, third):
    """Newton on the (sub)sample from the fit's u: the indicators' exact dependencies on the
    scores hold only where the scores sum to zero. None where no interior maximum is found."""
    pieces = _pieces(x)
    for _ in range(6):
        sums = _sums(ctx, u, pieces, third)
        m, g, hbar = sums["w"], sums["s"] / sums["w"], sums["h"] / sums["w"]
        if not (np.all(np.isfinite(hbar)) and np.all(np.isfinite(g))):
            return None
        lam, vec = np.linalg.eigh(-hbar)
        if lam.min() <= 0:
            return None
        step = vec @ ((vec.T @ g) / lam)
        if x.shape[0] == ctx.n or m * (step @ g) < 1e-10:
            return u, sums  # the fit's own maximum (full data), or converged here
        u = u + step
    return None


def _support(ctx, params) -> tuple[np.ndarray, np.ndarray] | None:
    """(points, probabilities) of a discrete support to a tail mass < 1e-12, from the log-mass
    alone (the families' log-survival functions cost a compilation per call); None where
    unbounded below or too long."""
    model, support = ctx.model, ctx.model.support
    if model.event_ndim or not support.integer or not np.isfinite(support.lower):
        return None
    lower = support.lower + (1 if support.lower_open else 0)
    top = support.upper - (1 if support.upper_open else 0)
    upper = min(top, max(lower + 63, 2 * float(np.max(ctx.x))))
    while upper - lower < MAX_POINTS:
        points = np.arange(lower, upper + 1)
        p = np.exp(np.asarray(model.logpdf(points, params), dtype=float))
        if upper >= top or abs(1 - p.sum()) < 1e-12:
            return points, p / p.sum()
        upper = min(top, lower + 2 * (upper - lower) + 1)
    return None


def _model_sums(ctx, u, pieces=None) -> tuple[dict, str] | None:
    """The sums of :func:`_chunk` as expectations under the fitted model: exact over a
    discrete support, else Monte Carlo with a fixed seed; None without a sampler."""
    params = ctx.params(u)
    exact = _support(ctx, params)
    if exact is not None:
        return (_sums(ctx, u, _pieces(*exact)),
                f"exact sums over {exact[0].size} support points")
    q = ctx.layout.k * (ctx.layout.k + 1) // 2
    count = pieces or int(np.clip(MC_BUDGET // q, 4, 32))
    rng = np.random.default_rng(SEED)
    try:
        draws = [np.asarray(ctx.model.sample(params, MC_PIECE, rng=rng), dtype=float)
                 for _ in range(count)]
    except NotImplementedError:
        return None
    return (_sums(ctx, u, _pieces(np.concatenate(draws))),
            f"Monte Carlo, {count * MC_PIECE} draws from the fitted model")


def _chi2(dbar, v, structure, scale, m):
    """(m dbar' V^-1 dbar, rank) over the directions where ``structure`` (the indicators'
    residual variance given the scores) is not negligible: exact dependencies dropped."""
    live = scale > 0
    root = np.sqrt(scale[live])
    z, r = dbar[live] / root, v[np.ix_(live, live)] / np.outer(root, root)
    lam, vec = np.linalg.eigh(structure[np.ix_(live, live)] / np.outer(root, root))
    basis = vec[:, lam > RANK_TOL]  # the scaled residual variances lie in [0, 1]
    proj = basis.T @ z
    return float(m * proj @ np.linalg.solve(basis.T @ r @ basis, proj)), basis.shape[1]


def _residual(sums):
    """E[psi psi'] for psi the residual of d regressed on s (no intercept: both mean 0)."""
    return (sums["dd"] - sums["ds"] @ np.linalg.solve(sums["ss"], sums["ds"].T)) / sums["w"]


def information_matrix_test(ctx: FitContext, variance: str = "auto") -> TestResult:
    r"""White's information-matrix test of :math:`E[H_i + s_i s_i'] = 0` at the estimate.

    :math:`T = n\,\bar d' V^{-}\bar d \sim \chi^2_q` with :math:`d_i = \mathrm{vech}(H_i +
    s_i s_i')`, :math:`V` the variance of :math:`d_i - D\bar H^{-1}s_i`,
    :math:`D = E[\partial d_i/\partial\theta']`, ``q`` its rank (see the module notes). In
    the fit's unconstrained coordinates ``u``; beyond :data:`MAX_N` observations on a strided
    subsample, refitted there by Newton from the fit.

    Parameters
    ----------
    ctx : FitContext
        A fit's context (``fit._context``) at a regular interior maximum.
    variance : {"auto", "model", "white"}
        "model": expectations under the fitted model (exact sums for discrete families, else
        Monte Carlo, fixed seed); "white": White's sample analog (over-rejects in small
        samples); "auto": "model" where the model has a sampler, else "white".

    Returns
    -------
    TestResult

    Raises
    ------
    ModelError
        Parameters from order statistics or medians, none free, or no sampler for "model".
    FitError
        No interior maximum on the (sub)sample, or a non-finite statistic.

    Examples
    --------
    >>> import mlekit as mk
    >>> fit = mk.fit(mk.Poisson(), [0, 0, 0, 1, 0, 7, 0, 2, 12, 0, 0, 1, 3, 0, 9, 0])
    >>> test = information_matrix_test(fit._context)
    >>> test.df, test.p_value < 0.01
    (1, True)
    """
    ctx.likelihood_only("the information-matrix test")
    if variance not in ("auto", "model", "white"):
        raise ModelError(f"variance={variance!r}; use 'auto', 'model' or 'white'.")
    odd = sorted({*ctx.presolved, *ctx.nonregular})
    if odd or ctx.layout.k == 0:
        why = f"{', '.join(odd)} from order statistics or medians" if odd else "nothing free"
        raise ModelError(f"the information-matrix test needs a smooth likelihood in every "
                         f"estimated parameter of {ctx.model.name}; this fit has {why}. "
                         "Check the fit with the bootstrap instead.")
    result, _ = _test(ctx, variance)
    return result


def _test(ctx, variance, pieces=None):
    """(the TestResult, the standardized mean indicators with their labels); ``pieces``
    overrides the number of Monte Carlo pieces."""
    x = _subsample(getattr(ctx.x, "sample", ctx.x))  # a partitioned dataset: its sample
    m = x.shape[0]
    got = _maximize(ctx, np.asarray(ctx.u, dtype=float), x, variance == "white")
    if got is None:
        raise FitError(f"no interior maximum of the {ctx.model.name} likelihood on the "
                       f"{m} observations tested; the information-matrix test needs one.")
    u, data = got
    dbar = data["d"] / m
    reference = None if variance == "white" else _model_sums(ctx, u, pieces)
    if reference is None and variance == "model":
        raise ModelError(f"{ctx.model.name} defines no sampler, so the model-based "
                         "variance is unavailable; use variance='white'.")
    if reference is None:  # White: psi_i = d_i - A s_i, A = D Hbar^-1, D = mean dd_i/du
        data = data if variance == "white" else _sums(ctx, u, _pieces(x), third=True)
        a = np.linalg.solve(data["h"].T, data["grad_d"].T).T
        ds = data["ds"] @ a.T
        v = (data["dd"] - ds - ds.T + a @ data["ss"] @ a.T) / m
        # the rank from the residuals of d regressed on s: White's psi keeps O(dbar) traces of
        # the exact dependencies (their coefficients vary with theta), which would add df
        structure, scale, how = _residual(data), np.diag(data["dd"]) / m, "White's sample form"
    else:
        sums, how = reference
        v = structure = _residual(sums)
        scale = np.diag(sums["dd"]) / sums["w"]
    if not all(np.all(np.isfinite(a)) for a in (v, structure, dbar, scale)):
        raise FitError(f"the information-matrix test of {ctx.model.name} is not finite here.")
    statistic, df = _chi2(dbar, v, structure, scale, m)
    if df == 0:
        raise ModelError(f"every indicator of the information-matrix test is a linear function "
                         f"of the scores for {ctx.model.name} (binary or saturated categorical "
                         "data): the information equality holds whatever the data; no test.")
    if not np.isfinite(statistic):
        raise FitError(f"the information-matrix test of {ctx.model.name} is not finite here.")
    note = f"variance of the indicators: {how}; in the fit's unconstrained coordinates"
    if m < ctx.n:
        note += f"; on {m} of the {ctx.n} observations (every {-(-ctx.n // MAX_N)})"
    result = TestResult("information matrix", statistic, df, chi2_sf(statistic, df),
                        f"chi2({df})", note,
                        f"the information equality holds for {ctx.model.name} (the "
                        "variability of the data matches the model's)")
    var = np.diag(v)
    zscores = np.where(var > RANK_TOL * scale, dbar * np.sqrt(m / np.maximum(var, 1e-300)), 0.0)
    return result, dict(zip(_labels(ctx), zscores, strict=True))


def _labels(ctx) -> list[tuple[str, str]]:
    """(row, column) names of the indicators in vech order: 'lambda', 'probs[0]', ..."""
    names = [n if size == 1 else f"{n}[{i}]"
             for n, size in zip(ctx.layout.names, ctx.layout.sizes, strict=True)
             for i in range(size)]
    iu = np.triu_indices(len(names))
    return [(names[i], names[j]) for i, j in zip(*iu, strict=True)]


def misspecification_diagnostic(ctx: FitContext, level: float = 0.01) -> Diagnostic | None:
    """A "misspecified" warning when the information-matrix test rejects at ``level``, else
    None; also None where it does not apply or cannot be computed cheaply and reliably: more
    than :data:`MAX_K` free parameters, order-statistic / median / nonregular parameters, no
    interior maximum, no sampler (White's sample form false-alarms, see the module notes),
    or anything non-finite.

    Examples
    --------
    >>> import mlekit as mk
    >>> x = [0, 0, 0, 1, 0, 7, 0, 2, 12, 0, 0, 1, 3, 0, 9, 0]
    >>> misspecification_diagnostic(mk.fit(mk.Poisson(), x)._context).code
    'misspecified'
    """
    if ctx.presolved or ctx.nonregular or not 0 < ctx.layout.k <= MAX_K:
        return None
    hess = ctx.hessian()
    if not np.all(np.isfinite(hess)) or np.linalg.eigvalsh(-hess).min() <= 0:
        return None
    try:
        with np.errstate(all="ignore"):
            # a quick look with 2^16 draws (V within ~10%) settles most fits; near or past
            # the level, the full Monte Carlo decides and gives the reported statistic
            result, zscores = _test(ctx, "model", QUICK_PIECES)
            if result.p_value < 10 * level and "Monte Carlo" in result.note:
                result, zscores = _test(ctx, "model")
    except (MlekitError, np.linalg.LinAlgError, ArithmeticError):
        return None
    if not (0.0 <= result.p_value < level) or not np.isfinite(result.statistic):
        return None
    name = ctx.model.name
    ranked = sorted(zscores.items(), key=lambda kv: -abs(kv[1]))
    (top, z) = ranked[0]
    drivers = [kv for kv in ranked[:2] if abs(kv[1]) >= max(3.0, abs(z) / 2)]
    words = ", ".join(a if a == b else f"{a} with {b}" for (a, b), _ in drivers)
    over = top[0] == top[1] and z > 0  # a score varies more than the information says
    p, stat = _fmt_p(result.p_value), result.statistic
    stat = f"{stat:.0f}" if 1e3 <= stat < 1e12 else f"{stat:.4g}"
    message = (f"the variability of the data does not match {name}'s: information-matrix "
               f"test statistic {stat}, {result.df} df, p {p if p[0] == '<' else '= ' + p}; "
               "the standard errors from the model's information are unreliable")
    if words:
        message += (f" (driven most by the indicators of {words}"
                    + (f": the data vary more than {name} allows" if over else "") + ")")
    if over and ctx.model.support.integer:
        family = "e.g. negative binomial for these overdispersed counts"
    elif over and ctx.model.support.lower == -np.inf:
        family = "e.g. Student t for these heavy tails"
    elif over:
        family = "a more variable one: compare candidates with mk.compare"
    else:
        family = "compare candidate families with mk.compare"
    return Diagnostic(
        "misspecified", "warning", message,
        "use robust standard errors (fit.cov_as('robust') or mk.fit(..., cov='robust')), which "
        f"stay valid for the KL-closest member of the family, or choose a family that fits "
        f"({family}).")
