"""Separation in binary regression: the data for which no logistic / probit MLE exists.

For outcomes y_i in {0, 1} and covariate rows x_i, the maximum likelihood estimate of a binary
regression (any link with values in (0, 1): logit, probit, cloglog, ...) fails to exist exactly
when some direction b != 0 satisfies (Albert & Anderson 1984)

    x_i . b >= 0 for every y_i = 1   and   x_i . b <= 0 for every y_i = 0,

with at least one inequality strict: moving the coefficients along b then raises the
likelihood for ever. The separation is *complete* when every inequality can be strict (the
outcomes are predicted perfectly), *quasi-complete* otherwise (some rows sit on the boundary
x_i . b = 0). Binomial rows with 0 < successes < trials contribute both a 1 and a 0, so they
always sit on the boundary; rows with zero weight or zero trials carry no information.

With s_r = +1 for a 1 and -1 for a 0, and m_r(b) = s_r x_r . b the "margins", the detection is
exact linear programming (scipy's HiGHS), as in Konis (2007) and the R packages
safeBinaryRegression / detectseparation, with a fast path for the usual answer (no separation):

1. A certificate that the outcomes overlap: by Stiemke's lemma no b has every m_r(b) >= 0 and
   some > 0 iff weights mu_r > 0 exist with sum_r mu_r s_r x_r = 0. The score of any binary
   regression at a stationary point is such a sum; a few Newton steps (numpy) for a *cauchit*
   regression, whose heavy tails keep every mu_r = f/F well above rounding even for outcomes
   predicted almost surely (a logistic fit's mu_r = |y_r - p_r| underflows there), and a
   least-squares correction onto sum mu_r s_r x_r = 0, give one in milliseconds; no LP is run.
2. Otherwise rounds of Konis' LP: maximize sum_r m_r(b) over the rows U not yet found
   separable, subject to m_r(b) >= 0 on U and -1 <= b_j <= 1. Rows of U with m_r > 0 are
   separable (a large multiple of the direction that separates the earlier rows, plus this b,
   separates them all), and leave U; a round with optimum 0, or a certificate (1.) on U, ends
   it: the rows left are the boundary, those no separating direction moves.
3. A direction: the one of largest margin, maximize t subject to m_r(b) >= t on the separable
   rows, m_r(b) = 0 on the boundary rows (b in their null space), box bounds; where X has
   dependent columns, the equivalent b of least sum |b_j| (it names only the variables that
   matter).

Numerics: columns are scaled to max |x_ij| = 1 first, and a margin of at most ``TOL`` (in those
units, with max |b_j| = 1) counts as 0 — the level of float64 rounding and of HiGHS' tolerances,
far below any separation a fit could meet. The direction is reported in the original units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._diagnostics import Diagnostic
from .._errors import DataError, FitError

#: a margin s_i x_i . b at most this (columns scaled to max |x| = 1, max |b_j| = 1) counts as 0
TOL = 1e-7
#: Newton steps spent looking for a certificate that the outcomes overlap, before the LPs
CERTIFY_STEPS = 30
#: rounds of Konis' LP before the rest is settled by one larger LP
ROUNDS = 10
#: names that an intercept column goes by (shown as a constant in the message)
INTERCEPT_NAMES = frozenset({"(intercept)", "intercept", "const", "constant", "1"})


@dataclass(frozen=True, eq=False)
class Separation:
    """A direction along which the binary-regression likelihood rises without bound.

    ``kind`` is "complete" (every observation predicted perfectly) or "quasi-complete";
    ``direction`` (p,) is b in the units of X, scaled to max |b_j| = 1, with entries that are
    zero up to rounding set to 0: x_i . b > 0 only where y_i = 1 and < 0 only where y_i = 0;
    ``columns`` names the columns with a nonzero entry (the separating variables);
    ``separated`` holds the row indices with x_i . b != 0 (their fitted probability goes to 0
    or 1 along b), ``boundary`` the other rows with positive weight (x_i . b = 0)."""

    kind: str
    direction: np.ndarray
    columns: tuple[str, ...]
    separated: np.ndarray
    boundary: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.intp))


def detect_separation(X, y, columns, trials=None, weights=None) -> Separation | None:
    """Complete or quasi-complete separation of binary outcomes by the columns of X, or None.

    Parameters
    ----------
    X : array (n, p)
        The design matrix (with its intercept column, if the model has one).
    y : array (n,)
        Outcomes in {0, 1}; with ``trials``, the number of successes (0 <= y <= trials).
    columns : sequence of str
        The p column names.
    trials : array (n,), optional
        Binomial trials per row: a row with 0 < y < trials counts as both a 1 and a 0.
    weights : array (n,), optional
        Frequency weights (>= 0); rows of weight 0 are ignored.

    Returns
    -------
    Separation or None
        None when the outcomes overlap (a finite MLE exists, given a full-rank X).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(1.0, 7.0)
    >>> sep = detect_separation(np.column_stack([np.ones(6), x]), [0, 0, 0, 1, 1, 1],
    ...                         ["(Intercept)", "x"])
    >>> sep.kind, sep.columns
    ('complete', ('(Intercept)', 'x'))
    >>> sep.direction.round(4).tolist()  # x - 3.5 > 0 exactly where y = 1
    [-1.0, 0.2857]
    """
    X, columns = _design(X, columns)
    M, rows = _margins_matrix(X, y, trials, weights)
    if M.shape[0] == 0 or M.shape[1] == 0:
        return None
    scale = np.max(np.abs(M), axis=0)
    live = scale > 0  # a column that is 0 on every row used cannot separate anything
    M = M / np.where(live, scale, 1.0)
    separable = _separable_rows(M, live)
    if not separable.any():
        return None
    b = _sparsest(M, _central_direction(M, live, separable))
    b[np.abs(b) <= TOL / (10 * len(b))] = 0.0
    b = b / np.max(np.abs(b))
    margins = M @ b
    if np.any(margins[separable] <= TOL) or np.any(margins[~separable] < -TOL):
        raise FitError("separation check: the direction found does not separate the rows it "
                       "should (numerical trouble in the linear programs); the data may be "
                       "badly scaled or nearly degenerate")
    direction = np.where(live, b / np.where(live, scale, 1.0), 0.0)
    direction = direction / np.max(np.abs(direction))
    boundary = np.unique(rows[~separable])
    kind = "complete" if len(boundary) == 0 else "quasi-complete"
    names = tuple(c for c, d in zip(columns, direction, strict=True) if d != 0.0)
    return Separation(kind, direction, names, np.setdiff1d(rows, boundary), boundary)


def separation_diagnostic(sep: Separation, family_name: str) -> Diagnostic:
    """The ``separation`` error for a binary regression whose data ``sep`` separates."""
    names = [c for c in sep.columns if c.lower() not in INTERCEPT_NAMES] or list(sep.columns)
    verb = "separates" if len(names) == 1 else "separate"
    subject = _and(names)
    entries = dict(zip(sep.columns, sep.direction[sep.direction != 0.0], strict=True))
    combo, flipped = _combination(entries)
    pos, neg = ("0", "1") if flipped else ("1", "0")
    n_sep, n_all = len(sep.separated), len(sep.separated) + len(sep.boundary)
    limit = _limit(entries)
    if sep.kind == "complete":
        message = (f"complete separation: {subject} {verb} the outcomes exactly (y = {pos} "
                   f"wherever {combo} > 0 and y = {neg} wherever it is < 0: all {n_all} "
                   "observations are predicted perfectly)")
    else:
        message = (f"quasi-complete separation: {subject} {verb} the outcomes except on a "
                   f"boundary (y = {pos} wherever {combo} > 0, y = {neg} wherever it is < 0, "
                   f"and {_rows(sep.boundary)} {'lies' if len(sep.boundary) == 1 else 'lie'} "
                   f"on the boundary, where it is 0: {n_sep} of "
                   f"{n_all} observations are predicted perfectly, their fitted probabilities "
                   "going to 0 or 1)")
    message += (f", so the {family_name} likelihood increases without bound as {limit}: no "
                "maximum likelihood estimate exists")
    return Diagnostic(
        "separation", "error", message,
        "drop or merge the separating variables (or the categories that are all 0 or all 1), "
        "or fit with a prior, which has a maximum: penalty=mk.L2(1.0) (a N(0, 1) prior on the "
        "coefficients) or prior={'coefficients': mk.priors.Cauchy(0, 2.5)}")


# -- the data --------------------------------------------------------------------------------
def _design(X, columns) -> tuple[np.ndarray, tuple[str, ...]]:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-d design matrix (n, p); got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X has non-finite values (NaN or inf); drop or impute those rows")
    columns = tuple(str(c) for c in columns)
    if len(columns) != X.shape[1]:
        raise DataError(f"columns has {len(columns)} names for the {X.shape[1]} columns of X; "
                        "give one name per column")
    return X, columns


def _vector(name: str, value, n: int) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if v.shape != (n,):
        raise DataError(f"{name} must have one value per row of X ({n}); got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise DataError(f"{name} has non-finite values (NaN or inf); drop those rows")
    return v


def _margins_matrix(X, y, trials, weights) -> tuple[np.ndarray, np.ndarray]:
    """The rows s_r x_r (s = +1 for a 1, -1 for a 0) and the data row each comes from."""
    n = X.shape[0]
    y = _vector("y", y, n)
    w = np.ones(n) if weights is None else _vector("weights", weights, n)
    if np.any(w < 0):
        raise DataError(f"weights must be >= 0; got {w[w < 0][0]:g}")
    if trials is None:
        if not np.all((y == 0) | (y == 1)):
            bad = y[(y != 0) & (y != 1)][0]
            raise DataError(f"y must be 0 or 1 for a binary regression; got {bad:g} (for "
                            "binomial counts give trials=)")
        one, zero = (w > 0) & (y == 1), (w > 0) & (y == 0)
    else:
        m = _vector("trials", trials, n)
        if np.any((y < 0) | (y > m)):
            i = np.flatnonzero((y < 0) | (y > m))[0]
            raise DataError(f"successes must lie in [0, trials]; row {i} has {y[i]:g} of "
                            f"{m[i]:g}")
        one, zero = (w > 0) & (y > 0), (w > 0) & (y < m)
    rows = np.concatenate([np.flatnonzero(one), np.flatnonzero(zero)])
    M = np.concatenate([X[one], -X[zero]])
    return M, rows


# -- 1. a certificate that the outcomes overlap ---------------------------------------------
def _certify_overlap(M: np.ndarray) -> bool:
    """True when weights mu_r > 0 with M^T mu = 0 are found: by Stiemke's lemma that rules out
    a separation with a margin above TOL (for b with max |b_j| <= 1 and all M_r . b >= 0,
    sum_r mu_r (M_r . b) = b . (M^T mu) <= |M^T mu|_1, so no margin exceeds
    |M^T mu|_1 / min mu). Rounding limits it: where some outcome is predicted all but surely
    (mu_r below ~1e-6 at n = 1e5), it may not reach TOL, and the LPs decide.
    The mu tried are the f/F of Newton's iterates for a cauchit regression (its score is
    M^T mu), corrected by least squares onto M^T mu = 0."""
    M = M[:, np.any(M != 0, axis=0)]  # a column that is 0 on these rows plays no part
    gram = M.T @ M
    beta = np.zeros(M.shape[1])
    a = np.zeros(M.shape[0])  # M_r . beta = s_r eta_r: the index of the observed outcome
    loglik, mu, observed, fisher = _cauchit(a)
    for _ in range(CERTIFY_STEPS):
        score = M.T @ mu
        fixed = mu - M @ np.linalg.lstsq(gram, score, rcond=None)[0]
        if fixed.min() > 0:  # refine once, with M^T mu summed in extended precision
            fixed = fixed - M @ np.linalg.lstsq(gram, _sum_rows(M, fixed), rcond=None)[0]
            low = fixed.min()
            if low > 0 and np.sum(np.abs(_sum_rows(M, fixed))) <= TOL * low:
                return True
        try:  # Newton where the log-likelihood is concave, Fisher scoring elsewhere
            chol = np.linalg.cholesky(M.T @ (observed[:, None] * M))
            step = np.linalg.solve(chol.T, np.linalg.solve(chol, score))
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(M.T @ (fisher[:, None] * M), score, rcond=None)[0]
        for _ in range(30):  # step halving: the log-likelihood must not fall
            trial = M @ (beta + step)
            parts = _cauchit(trial)
            if parts[0] >= loglik:
                break
            step = step / 2
        else:
            return False
        if parts[0] - loglik <= 1e-13 * abs(loglik):  # converged, or stuck: no certificate
            return False
        beta, a = beta + step, trial
        loglik, mu, observed, fisher = parts
        if a.max() > 1e6:  # mu ~ 1e-13 there: the iterates run off, as under separation
            return False
    return False


def _sum_rows(M: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """M^T mu summed in extended precision (long double: 64-bit mantissa on x86), so that its
    rounding does not hide how close to 0 it is; as float64."""
    return np.einsum("rj,r->j", M.astype(np.longdouble), mu.astype(np.longdouble)).astype(float)


def _cauchit(a: np.ndarray):
    """For the indices a_r of the observed outcomes under the cauchit link F (a Cauchy
    distribution function): log-likelihood sum log F(a), its derivatives mu = f/F in a,
    minus its second derivatives, and the Fisher weights f^2 / (F (1 - F))."""
    F, G = np.arctan2(1.0, -a) / np.pi, np.arctan2(1.0, a) / np.pi  # F(a), 1 - F(a) = F(-a)
    f = 1.0 / (np.pi * (1.0 + a * a))
    mu = f / F
    return np.sum(np.log(F)), mu, mu * mu + 2.0 * a * mu / (1.0 + a * a), f * mu / G


# -- 2. the separable rows: rounds of Konis' LP ---------------------------------------------
def _linprog(c, A_ub, bounds, what: str):
    from scipy.optimize import linprog

    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(A_ub.shape[0]), bounds=bounds, method="highs")
    if res.status != 0:
        raise FitError(f"separation check: the linear program for {what} failed "
                       f"({res.message}); the data may be badly scaled or degenerate")
    return res


def _separable_rows(M: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Which rows some separating direction moves (m_r > 0): all False when none does."""
    separable = np.zeros(M.shape[0], dtype=bool)
    for _ in range(ROUNDS):
        rest = np.flatnonzero(~separable)
        if len(rest) == 0 or _certify_overlap(M[rest]):
            return separable
        new = _konis_round(M[rest], live)
        if not new.any():
            return separable
        separable[rest[new]] = True
    rest = np.flatnonzero(~separable)  # many rounds: settle the rest in one (larger) LP
    separable[rest[_largest_separable_set(M[rest], live)]] = True
    return separable


def _konis_round(M: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Rows with a positive margin at the optimum of Konis' LP (max sum_r M_r . b subject to
    M b >= 0, max |b_j| <= 1): none where the optimum is 0."""
    from scipy import sparse

    bounds = [(-1.0, 1.0) if ok else (0.0, 0.0) for ok in live]
    res = _linprog(-M.sum(axis=0), sparse.csr_matrix(-M), bounds, "separation")
    b = res.x
    if np.max(np.abs(b), initial=0.0) < 0.5:  # a separating b reaches the box; this is 0
        return np.zeros(M.shape[0], dtype=bool)
    return M @ (b / np.max(np.abs(b))) > TOL


def _largest_separable_set(M: np.ndarray, live: np.ndarray) -> np.ndarray:
    """All separable rows in one LP: maximize sum_r t_r subject to M_r . b >= t_r,
    0 <= t_r <= 1, b free (exact, but much slower than a few rounds of Konis' LP)."""
    from scipy import sparse

    R, p = M.shape
    A = sparse.hstack([sparse.csr_matrix(-M), sparse.identity(R, format="csr")], format="csr")
    bounds = [(None, None) if ok else (0.0, 0.0) for ok in live] + [(0.0, 1.0)] * R
    res = _linprog(np.r_[np.zeros(p), -np.ones(R)], A, bounds, "the separable rows")
    return res.x[p:] > 0.5


# -- 3. the direction to report ------------------------------------------------------------
def _null_space(A: np.ndarray, tol: float) -> np.ndarray:
    """An orthonormal basis (p, k) of the directions b with |A b| <= tol |b| (SVD)."""
    p = A.shape[1]
    padded = np.vstack([A, np.zeros((max(p - A.shape[0], 0), p))])
    _, sv, vt = np.linalg.svd(padded, full_matrices=False)
    return vt[sv <= tol].T


def _central_direction(M: np.ndarray, live: np.ndarray, separable: np.ndarray) -> np.ndarray:
    """The direction of largest margin on the separable rows that keeps every boundary row's
    margin at 0: maximize t subject to M_r . N z >= t (r separable), -1 <= z <= 1, t <= 1,
    with N a basis of the boundary rows' null space (the identity under complete
    separation)."""
    from scipy import sparse

    p = M.shape[1]
    boundary = M[~separable]
    if len(boundary):
        N = _null_space(boundary, TOL * np.sqrt(len(boundary)))
    else:
        N = np.eye(p)
    N = N * live[:, None]  # a column that is 0 everywhere gets no weight
    S = M[separable] @ N
    k = N.shape[1]
    A = sparse.hstack([sparse.csr_matrix(-S), np.ones((len(S), 1))], format="csr")
    res = _linprog(np.r_[np.zeros(k), -1.0], A, [(-1.0, 1.0)] * k + [(0.0, 1.0)],
                   "the direction of largest margin")
    b = N @ res.x[:k]
    if res.x[k] <= 0 or not np.any(b):
        raise FitError("separation check: no direction separates the rows found separable "
                       "(numerical trouble in the linear programs); the data may be badly "
                       "scaled or nearly degenerate")
    return b / np.max(np.abs(b))


def _sparsest(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where X has dependent columns (an intercept and a dummy for every level), the same
    margins come from many b: the one of least sum |b_j|, which names only the variables that
    matter (an LP in the null space of X)."""
    null = _null_space(M, 1e-10 * np.linalg.norm(M))
    if null.shape[1] == 0:
        return b
    from scipy import sparse

    p, k = null.shape
    # minimize sum u subject to -u <= b + null z <= u
    eye = sparse.identity(p, format="csr")
    A = sparse.vstack([sparse.hstack([null, -eye]), sparse.hstack([-null, -eye])], format="csr")
    from scipy.optimize import linprog

    res = linprog(np.r_[np.zeros(k), np.ones(p)], A_ub=A, b_ub=np.r_[-b, b],
                  bounds=[(None, None)] * k + [(0.0, None)] * p, method="highs")
    if res.status != 0:
        return b
    sparse_b = b + null @ res.x[:k]
    return sparse_b / np.max(np.abs(sparse_b))


# -- the message -----------------------------------------------------------------------------
def _combination(entries: dict[str, float]) -> tuple[str, bool]:
    """The linear predictor along the direction, in words, e.g. "x - 3.5": scaled so that the
    first non-intercept column has coefficient +-1, an intercept shown as a constant (last);
    flipped (and True) where every coefficient is negative, so that it reads with plus signs."""
    flipped = all(v < 0 for v in entries.values())
    if flipped:
        entries = {c: -v for c, v in entries.items()}
    slopes = {c: v for c, v in entries.items() if c.lower() not in INTERCEPT_NAMES}
    constants = {c: v for c, v in entries.items() if c not in slopes}
    unit = abs(next(iter(slopes.values()))) if slopes else 1.0
    terms = []
    for c, v in slopes.items():
        size = f"{abs(v) / unit:.4g}"
        terms.append((v < 0, c if size == "1" else f"{size}·{c}"))
    for c, v in constants.items():
        terms.append((v < 0, f"{abs(v) / unit:.4g}" if slopes else c))
    text = ("-" if terms[0][0] else "") + terms[0][1]
    for negative, body in terms[1:]:
        text += f" {'-' if negative else '+'} {body}"
    return text, flipped


def _limit(entries: dict[str, float]) -> str:
    """How the coefficients run off: "the coefficient of x → +infinity (with (Intercept) →
    -infinity)"."""
    def to(c: str, v: float) -> str:
        return f"{c} → {'+' if v > 0 else '-'}infinity"

    slopes = {c: v for c, v in entries.items() if c.lower() not in INTERCEPT_NAMES}
    constants = {c: v for c, v in entries.items() if c not in slopes}
    if not slopes:
        slopes, constants = constants, {}
    if len(slopes) == 1:
        text = f"the coefficient of {to(*next(iter(slopes.items())))}"
    else:
        text = f"the coefficients of {_and([to(c, v) for c, v in slopes.items()])} together"
    if constants:
        text += f" (with {_and([to(c, v) for c, v in constants.items()])})"
    return text


def _rows(index: np.ndarray, shown: int = 10) -> str:
    listed = ", ".join(str(i) for i in index[:shown])
    more = f" and {len(index) - shown} more" if len(index) > shown else ""
    word = "row" if len(index) == 1 else "rows"
    return f"{word} {listed}{more} (counting from 0)"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
