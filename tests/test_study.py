"""mk.study: the asymptotic promises checked by seeded simulation (loosely: Monte Carlo)."""

from __future__ import annotations

import numpy as np
import pytest

import mlekit as mk


def test_wald_coverage_of_the_exponential_rate_is_nominal():
    s = mk.study(mk.Exponential(), {"rate": 2.0}, n=[200], reps=2000, seed=1)
    row = s.table.iloc[0]
    assert 0.93 <= row["coverage_wald"] <= 0.97
    assert row["crlb"] == pytest.approx(2.0**2 / 200)  # rate^2 / n
    assert abs(row["bias"]) < 4 * np.sqrt(row["variance"] / 2000) + 2.0 / 200  # O(1/n) bias


def test_gamma_shape_efficiency_tends_to_one():
    s = mk.study(mk.Gamma(), {"shape": 2.0, "rate": 1.0}, n=[20, 1000], reps=1000, seed=2)
    shape = s.table[s.table["parameter"] == "shape"].set_index("n")
    assert shape.loc[20, "efficiency"] < 0.8       # small samples: biased, above the bound
    assert shape.loc[1000, "efficiency"] == pytest.approx(1.0, abs=0.12)
    assert abs(shape.loc[1000, "bias"]) < abs(shape.loc[20, "bias"])
    assert "efficiency" in str(s)


def test_a_normal_fitted_to_student_t_data_converges_to_the_kl_projection():
    s = mk.study(mk.Normal(), None, n=[1000], reps=600, seed=3, data_model=mk.StudentT(),
                 data_truth={"location": 0.0, "scale": 1.0, "df": 5.0})
    assert s.misspecified
    # the KL projection of t(5) onto the normals: its mean and SD, computed by quadrature
    assert s.target["mean"] == pytest.approx(0.0, abs=1e-8)
    assert s.target["sd"] == pytest.approx(np.sqrt(5 / 3), rel=1e-9)
    table = s.table.set_index("parameter")
    for name in ("mean", "sd"):
        mc_se = np.sqrt(table.loc[name, "variance"] / 600)
        assert abs(table.loc[name, "bias"]) < 4 * mc_se + 1e-3
    # the sandwich interval covers the projection; the model-based one undercovers the sd
    assert 0.92 <= table.loc["sd", "coverage_robust"] <= 0.97
    assert table.loc["sd", "coverage_wald"] < 0.85


def test_profile_coverage_and_plots(tmp_path):
    s = mk.study(mk.Weibull(), {"shape": 1.5, "scale": 2.0}, n=[30], reps=60, seed=4,
                 profile_reps=40)
    assert 0.8 <= s.table["coverage_profile"].min() <= 1.0
    fig = s.plot(tmp_path / "study.png")
    assert (tmp_path / "study.png").stat().st_size > 1000 and len(fig.axes) == 3


def test_bad_studies_are_refused():
    with pytest.raises(mk.ModelError, match="missing"):
        mk.study(mk.Gamma(), {"shape": 2.0}, n=[10])
    with pytest.raises(mk.ModelError, match="sample sizes"):
        mk.study(mk.Gamma(), {"shape": 2.0, "rate": 1.0}, n=[1])
    with pytest.raises(mk.ModelError, match="reps"):
        mk.study(mk.Gamma(), {"shape": 2.0, "rate": 1.0}, n=[10], reps=3)
