"""Separation in binary regression (Albert & Anderson 1984), detected by linear programming:
textbook complete and quasi-complete cases, overlapping data (made-up and birthwt) that must
not be flagged, a category whose outcomes are all 0, binomial rows, weights, extreme scales.
The truth in each case is derived in the comments; random small designs are checked against
an independent per-row linear program."""

from __future__ import annotations

import numpy as np
import pytest

from mlekit._regression import separation
from mlekit._regression.separation import (
    Separation,
    _certify_overlap,
    _konis_round,
    _largest_separable_set,
    detect_separation,
    separation_diagnostic,
)

DATA = "/work/shared/data/birthwt.csv"
XY = ["(Intercept)", "x"]


def line(x):
    x = np.asarray(x, dtype=float)
    return np.column_stack([np.ones(len(x)), x])


def assert_valid(sep: Separation, X, y, trials=None, weights=None):
    """The direction separates: x.b >= 0 where a 1 was seen, <= 0 where a 0 was, nonzero
    exactly on ``separated``; max |b_j| = 1; ``columns`` are the nonzero entries."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    trials = np.ones(len(y)) if trials is None else np.asarray(trials, float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    eta = X @ sep.direction
    tol = 1e-9 * np.abs(X).max(axis=0) @ np.abs(sep.direction)
    used = w > 0
    assert np.all(eta[used & (y > 0)] >= -tol) and np.all(eta[used & (y < trials)] <= tol)
    nonzero = np.flatnonzero(used & (np.abs(eta) > tol))
    np.testing.assert_array_equal(sep.separated, nonzero)
    np.testing.assert_array_equal(np.sort(np.r_[sep.separated, sep.boundary]),
                                  np.flatnonzero(used))
    assert np.max(np.abs(sep.direction)) == pytest.approx(1.0)
    assert sep.kind == ("complete" if len(sep.boundary) == 0 else "quasi-complete")


# -- textbook cases ----------------------------------------------------------------------------
def test_complete_separation_x_1_to_6(path):
    X, y = line(range(1, 7)), [0, 0, 0, 1, 1, 1]
    sep = detect_separation(X, y, XY)
    assert sep.kind == "complete" and "x" in sep.columns
    assert_valid(sep, X, y)
    # the largest-margin direction puts the threshold midway between 3 and 4: x - 3.5
    np.testing.assert_allclose(sep.direction, [-1.0, 1 / 3.5])


def test_complete_separation_by_a_single_column_without_intercept():
    X, y = np.array([[-2.0], [-1.0], [1.0], [3.0]]), [0, 0, 1, 1]
    sep = detect_separation(X, y, ["z"])
    assert sep.kind == "complete" and sep.columns == ("z",)
    np.testing.assert_array_equal(sep.direction, [1.0])


def test_quasi_complete_separation_with_a_tie_at_the_boundary(path):
    # at x = 4 both outcomes occur: x - 4 is >= 0 for every 1 and <= 0 for every 0, and is 0
    # exactly on the two rows at x = 4; no direction separates those two
    X, y = line([1, 2, 3, 4, 4, 5, 6, 7]), [0, 0, 0, 0, 1, 1, 1, 1]
    sep = detect_separation(X, y, XY)
    assert sep.kind == "quasi-complete" and "x" in sep.columns
    assert_valid(sep, X, y)
    np.testing.assert_array_equal(sep.boundary, [3, 4])
    np.testing.assert_array_equal(sep.separated, [0, 1, 2, 5, 6, 7])
    np.testing.assert_allclose(sep.direction, [-1.0, 0.25])


@pytest.mark.parametrize("y", [[0, 1, 0, 1, 0, 1], [1, 0, 0, 1, 1, 0], [0, 0, 1, 1, 0, 1]])
def test_overlapping_outcomes_are_not_flagged(y, path):
    assert detect_separation(line(range(1, 7)), y, XY) is None


def test_one_overlap_is_enough():
    # x = 1..6 with y = 0,0,1,0,1,1: rows x = 3 (y = 1) and x = 4 (y = 0) cross over
    assert detect_separation(line(range(1, 7)), [0, 0, 1, 0, 1, 1], XY) is None


def birthwt():
    d = np.genfromtxt(DATA, delimiter=",", names=True)
    X = np.column_stack([np.ones(len(d)), d["age"], d["lwt"], d["race"] == 2, d["race"] == 3,
                         d["smoke"], d["ptl"], d["ht"], d["ui"], d["ftv"]]).astype(float)
    names = ["(Intercept)", "age", "lwt", "race2", "race3", "smoke", "ptl", "ht", "ui", "ftv"]
    return X, d["low"], names


def test_birthwt_is_not_separated(path):
    X, y, names = birthwt()
    assert detect_separation(X, y, names) is None


def test_birthwt_needs_no_linear_program_and_the_linear_program_agrees():
    # the fast path (a Newton certificate) settles it, and the LP on its own says the same
    X, y, _ = birthwt()
    M = np.concatenate([X[y == 1], -X[y == 0]])
    M = M / np.abs(M).max(axis=0)
    live = np.ones(M.shape[1], bool)
    assert _certify_overlap(M)
    assert not _konis_round(M, live).any()
    assert not _largest_separable_set(M, live).any()


def test_a_category_with_only_zeros_is_quasi_complete_and_named(path):
    # birthwt plus a made-up category "clinic B": 6 mothers, none with a low birth weight.
    # Its dummy separates those 6 rows (direction -clinicB); the others overlap as before.
    X, y, names = birthwt()
    dummy = np.zeros(len(y))
    dummy[np.flatnonzero(y == 0)[:6]] = 1.0
    X = np.column_stack([X, dummy])
    sep = detect_separation(X, y, [*names, "clinicB"])
    assert sep.kind == "quasi-complete" and sep.columns == ("clinicB",)
    np.testing.assert_array_equal(sep.direction, np.r_[np.zeros(10), -1.0])
    np.testing.assert_array_equal(sep.separated, np.flatnonzero(dummy))
    assert_valid(sep, X, y)


def test_a_category_with_only_ones_under_full_dummy_coding(path):
    # intercept and a dummy for every group (dependent columns): group c has only 1s. The
    # same margins come from +c and from 1 - a - b; the sparsest names c alone.
    g = np.array(list("aaabbbccc"))
    y = np.array([0, 1, 0, 1, 0, 1, 1, 1, 1])
    X = np.column_stack([np.ones(9), g == "a", g == "b", g == "c"]).astype(float)
    sep = detect_separation(X, y, ["(Intercept)", "a", "b", "c"])
    assert sep.kind == "quasi-complete" and sep.columns == ("c",)
    np.testing.assert_array_equal(sep.separated, [6, 7, 8])
    assert_valid(sep, X, y)


def test_the_outcome_constant():
    sep = detect_separation(line([1, 2, 3]), [1, 1, 1], XY)
    assert sep.kind == "complete"
    assert_valid(sep, line([1, 2, 3]), [1, 1, 1])


# -- binomial rows ---------------------------------------------------------------------------
def test_binomial_all_or_nothing_is_complete():
    X, s, m = line([1, 2, 3, 4]), [0, 0, 5, 5], [5, 5, 5, 5]
    sep = detect_separation(X, s, XY, trials=m)
    assert sep.kind == "complete" and "x" in sep.columns
    assert_valid(sep, X, s, trials=m)


def test_binomial_one_mixed_row_is_quasi_complete(path):
    # the row at x = 3 with 2 of 5 counts as both a 1 and a 0, so x - 3 must vanish there:
    # x - 3 separates the other rows; the MLE does not exist (the fitted probability at x = 3
    # tends to 2/5 while the slope runs off)
    X, s, m = line([1, 2, 3, 4, 5]), [0, 0, 2, 5, 5], [5] * 5
    sep = detect_separation(X, s, XY, trials=m)
    assert sep.kind == "quasi-complete"
    np.testing.assert_array_equal(sep.boundary, [2])
    np.testing.assert_allclose(sep.direction, [-1.0, 1 / 3])
    assert_valid(sep, X, s, trials=m)
    assert "row 2 (counting from 0) lies on the boundary" in separation_diagnostic(
        sep, "logistic").message


def test_binomial_two_mixed_rows_leave_no_separation(path):
    # x . b = 0 at both x = 3 and x = 4 forces b = 0 (two points fix a line): the MLE exists
    X, s, m = line([1, 2, 3, 4, 5]), [0, 0, 2, 3, 5], [5] * 5
    assert detect_separation(X, s, XY, trials=m) is None


def test_binomial_rows_with_no_trials_are_ignored():
    X, s, m = line([1, 2, 3, 4, 5]), [0, 0, 0, 5, 5], [5, 5, 0, 5, 5]
    sep = detect_separation(X, s, XY, trials=m)
    assert sep.kind == "complete"
    np.testing.assert_array_equal(sep.separated, [0, 1, 3, 4])


# -- weights ---------------------------------------------------------------------------------
def test_zero_weight_rows_are_ignored(path):
    # rows 6 and 7 cross over (a 1 at x = 1, a 0 at x = 6) but have weight 0
    X, y = line([1, 2, 3, 4, 5, 6, 1, 6]), [0, 0, 0, 1, 1, 1, 1, 0]
    w = [1, 1, 1, 1, 1, 1, 0, 0]
    sep = detect_separation(X, y, XY, weights=w)
    assert sep.kind == "complete"
    np.testing.assert_array_equal(sep.separated, np.arange(6))
    assert_valid(sep, X, y, weights=w)
    assert detect_separation(X, y, XY, weights=[1, 1, 1, 1, 1, 1, 0.5, 0]) is None
    assert detect_separation(X, y, XY) is None


def test_weights_do_not_change_the_answer():
    X, y = line([1, 2, 3, 4, 4, 5, 6, 7]), [0, 0, 0, 0, 1, 1, 1, 1]
    sep = detect_separation(X, y, XY, weights=[3, 1, 2, 7, 0.1, 5, 1, 2])
    assert sep.kind == "quasi-complete"
    np.testing.assert_array_equal(sep.boundary, [3, 4])


# -- scale -----------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", [1e6, 1e-6])
def test_extreme_scales(unit):
    X, y = line(np.arange(1, 7) * unit), [0, 0, 0, 1, 1, 1]
    sep = detect_separation(X, y, XY)
    assert sep.kind == "complete"
    assert_valid(sep, X, y)
    np.testing.assert_allclose(X @ sep.direction / np.abs(X @ sep.direction).max(),
                               np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]) / 2.5)
    Xq, yq = line(np.array([1, 2, 3, 4, 4, 5, 6, 7]) * unit), [0, 0, 0, 0, 1, 1, 1, 1]
    sep = detect_separation(Xq, yq, XY)
    assert sep.kind == "quasi-complete"
    np.testing.assert_array_equal(sep.boundary, [3, 4])
    assert detect_separation(line(np.arange(1, 7) * unit), [0, 1, 0, 1, 0, 1], XY) is None


def test_mixed_scales_overlapping_and_separated(path):
    X, y, names = birthwt()
    X = X * np.where(np.arange(X.shape[1]) % 2, 1e6, 1e-6)
    assert detect_separation(X, y, names) is None
    dummy = np.zeros(len(y))
    dummy[np.flatnonzero(y == 1)[:4]] = 1e-6
    sep = detect_separation(np.column_stack([X, dummy]), y, [*names, "tiny"])
    assert sep.kind == "quasi-complete" and sep.columns == ("tiny",)
    np.testing.assert_array_equal(sep.separated, np.flatnonzero(dummy))


# -- agreement with an independent check ----------------------------------------------------
def separable_rows(M):
    """Row r is separable iff max M_r . b subject to M b >= 0, |b_j| <= 1 is positive (an LP
    per row: independent of the joint formulation)."""
    from scipy.optimize import linprog

    out = []
    for r in range(len(M)):
        res = linprog(-M[r], A_ub=-M, b_ub=np.zeros(len(M)), bounds=(-1, 1), method="highs")
        out.append(-res.fun > 1e-9)
    return np.array(out)


@pytest.fixture(params=["certificate", "lp-only", "one-lp"])
def path(request, monkeypatch):
    """Run a test three ways: as shipped (the overlap certificate first); with the
    certificate off (rounds of Konis' LP decide everything); with no rounds (the single
    largest-separable-set LP decides)."""
    if request.param != "certificate":
        monkeypatch.setattr(separation, "_certify_overlap", lambda M: False)
    if request.param == "one-lp":
        monkeypatch.setattr(separation, "ROUNDS", 0)
    return request.param


@pytest.mark.parametrize("seed", range(40))
def test_small_random_designs_agree_with_a_per_row_linear_program(seed, path):
    rng = np.random.default_rng(seed)
    n, p = rng.integers(4, 12), rng.integers(1, 4)
    X = np.column_stack([np.ones(n), rng.integers(-2, 3, size=(n, p - 1))]).astype(float)
    y = rng.integers(0, 2, size=n)
    M = np.where(y[:, None] == 1, X, -X)
    truth = separable_rows(M)
    sep = detect_separation(X, y, [f"c{j}" for j in range(p)])
    if not truth.any():
        assert sep is None
    else:
        assert_valid(sep, X, y)
        np.testing.assert_array_equal(sep.separated, np.flatnonzero(truth))


@pytest.mark.parametrize("strength", [0.3, 3.0, 30.0])
def test_random_overlapping_data_at_scale(strength):
    # logistic data, from weak to so strong that most outcomes are predicted all but surely
    # (fitted probabilities within 1e-30 of 0 or 1): still overlapping, which the LP confirms
    rng = np.random.default_rng(1)
    n, p = 20_000, 8
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    eta = X @ rng.normal(size=p) * strength
    y = (rng.random(n) < 0.5 * (1 + np.tanh(eta / 2))).astype(float)
    assert detect_separation(X, y, [f"c{j}" for j in range(p)]) is None
    M = np.where(y[:, None] == 1, X, -X)
    M = M / np.abs(M).max(axis=0)
    assert not _konis_round(M, np.ones(p, bool)).any()


@pytest.mark.parametrize("strength", [0.3, 30.0])
def test_the_overlap_certificate_is_never_given_to_separated_data(strength):
    # by Stiemke's lemma none exists: a deterministic threshold (complete separation), and
    # logistic outcomes with the rows of one group (x1 >= 1.5, its own dummy) all set to 0
    rng = np.random.default_rng(2)
    n, p = 5_000, 6
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    eta = X @ rng.normal(size=p) * strength
    group = X[:, 1] >= 1.5
    cases = [(X, eta > 0),
             (np.column_stack([X, group]), (rng.random(n) < 0.5 * (1 + np.tanh(eta / 2))) & ~group)]
    for Xc, y in cases:
        M = np.where(y[:, None], Xc, -Xc)
        assert not _certify_overlap(M / np.abs(M).max(axis=0))
        sep = detect_separation(Xc, y, [f"c{j}" for j in range(Xc.shape[1])])
        assert_valid(sep, Xc, y)


def test_offset_columns_within_the_tolerance():
    # x = 1000 + (1..6): the margins are 1e-3 of the column's scale, well above TOL
    X, y = line(1000 + np.arange(1, 7.0)), [0, 0, 0, 1, 1, 1]
    sep = detect_separation(X, y, XY)
    assert sep.kind == "complete"
    assert_valid(sep, X, y)


# -- the diagnostic --------------------------------------------------------------------------
def test_the_diagnostic_of_complete_separation():
    sep = detect_separation(line(range(1, 7)), [0, 0, 0, 1, 1, 1], XY)
    d = separation_diagnostic(sep, "logistic")
    assert d.code == "separation" and d.severity == "error"
    assert d.message.startswith("complete separation: x separates the outcomes exactly")
    assert "x - 3.5 > 0" in d.message and "all 6 observations" in d.message
    assert "the coefficient of x → +infinity" in d.message
    assert "no maximum likelihood estimate exists" in d.message
    assert "penalty=mk.L2" in d.remedy and "drop or merge" in d.remedy


def test_the_diagnostic_of_quasi_complete_separation_names_the_boundary():
    sep = detect_separation(line([1, 2, 3, 4, 4, 5, 6, 7]), [0, 0, 0, 0, 1, 1, 1, 1], XY)
    d = separation_diagnostic(sep, "probit")
    assert d.message.startswith("quasi-complete separation: x separates")
    assert "rows 3, 4" in d.message and "6 of 8 observations" in d.message
    assert "probit likelihood" in d.message
    assert "no maximum likelihood estimate exists" in d.message


def test_the_diagnostic_of_a_category_reads_with_its_sign():
    X, y, names = birthwt()
    dummy = (np.arange(len(y)) < 0).astype(float)
    dummy[np.flatnonzero(y == 0)[:6]] = 1.0
    sep = detect_separation(np.column_stack([X, dummy]), y, [*names, "clinicB"])
    d = separation_diagnostic(sep, "logistic")
    assert "clinicB separates" in d.message
    assert "y = 0 wherever clinicB > 0" in d.message
    assert "the coefficient of clinicB → -infinity" in d.message
    assert "6 of 189 observations" in d.message


def test_the_diagnostic_of_several_columns():
    # x1 + x2 > 0 exactly where y = 1
    X = np.array([[1.0, 0], [0, 1], [2, -1], [-1, 0], [0, -1], [-2, 1]])
    sep = detect_separation(X, [1, 1, 1, 0, 0, 0], ["x1", "x2"])
    assert sep.kind == "complete" and sep.columns == ("x1", "x2")
    d = separation_diagnostic(sep, "logistic")
    assert "x1 and x2 separate" in d.message
    assert "the coefficients of x1 → +infinity and x2 → +infinity together" in d.message


# -- bad input -------------------------------------------------------------------------------
def test_bad_input_says_what_is_wrong():
    from mlekit import DataError

    with pytest.raises(DataError, match="0 or 1"):
        detect_separation(line([1, 2]), [0, 2], XY)
    with pytest.raises(DataError, match=r"\[0, trials\]"):
        detect_separation(line([1, 2]), [0, 3], XY, trials=[2, 2])
    with pytest.raises(DataError, match="columns has 1 names"):
        detect_separation(line([1, 2]), [0, 1], ["x"])
    with pytest.raises(DataError, match="weights must be >= 0"):
        detect_separation(line([1, 2]), [0, 1], XY, weights=[1, -1])
    with pytest.raises(DataError, match="non-finite"):
        detect_separation(line([1, np.nan]), [0, 1], XY)
