"""Which distribution is this: every applicable family fitted and the valid fits ranked."""

import json

import numpy as np
import pandas as pd
import pytest

import mlekit as mk


def test_gamma_data_rank_gamma_first_and_the_table_adds_up():
    x = np.random.default_rng(20261130).gamma(2.5, 1.0, 400)
    ranking = mk.compare_families(x, ["gamma", "weibull", "lognormal", "exponential",
                                      "normal", "beta", "poisson"])
    assert ranking.best.model_name == "gamma"
    ranked = [r for r in ranking.rows if r.ranked]
    assert [r.name for r in ranked][0] == "gamma"
    assert sum(r.weight for r in ranked) == pytest.approx(1.0, abs=1e-12)
    for row in ranked:  # the table's numbers are each fit's own
        fit = ranking.fits[row.name]
        assert row.aic == pytest.approx(fit.aic) and row.k == fit.k
        assert row.delta == pytest.approx(fit.aic - ranking.best.aic)
    assert "beta" in ranking.skipped and "excludes" in ranking.skipped["beta"]
    assert "poisson" in ranking.skipped  # discrete: not compared with densities
    assert mk.compare_families(x, ["gamma", "weibull"], criterion="bic").rows[0].bic == min(
        ranking.fits[n].bic for n in ("gamma", "weibull"))
    assert json.loads(json.dumps(ranking.to_dict()))["best"] == "gamma"
    assert str(ranking).startswith("Families fitted to 400 continuous observations")


def test_flagged_fits_are_listed_apart_not_ranked():
    counts = np.random.default_rng(3).poisson(3.0, 300).astype(float)
    ranking = mk.compare_families(counts, ["poisson", "geometric", "negative_binomial",
                                           "zero_inflated_poisson"])
    assert ranking.kind == "discrete" and ranking.best.model_name == "poisson"
    flagged = {r.name: r for r in ranking.rows if not r.ranked}
    # not over-dispersed: the negative binomial has no MLE; no excess zeros: pi sits at 0
    assert "estimate_at_infinity" in flagged["negative_binomial"].flags
    assert flagged["negative_binomial"].aic is None
    assert "boundary_estimate" in flagged["zero_inflated_poisson"].flags
    assert flagged["zero_inflated_poisson"].weight is None
    positions = [r.ranked for r in ranking.rows]
    assert positions == sorted(positions, reverse=True)  # ranked first, then the flagged


def test_all_families_and_refusals():
    x = np.random.default_rng(5).normal(1.0, 2.0, 200)
    ranking = mk.compare_families(x, kind="continuous")  # "all" that apply
    fitted = {r.name for r in ranking.rows}
    assert {"normal", "student_t", "logistic"} <= fitted
    assert "gamma" in ranking.skipped and "excludes" in ranking.skipped["gamma"]
    assert "multivariate" in ranking.skipped["multivariate_normal"]
    with pytest.raises(mk.ModelError, match="criterion"):
        mk.compare_families(x, ["normal"], criterion="aicc")
    with pytest.raises(mk.ModelError, match="no family applies"):
        mk.compare_families(x, ["gamma", "beta"])
    with pytest.raises(mk.ModelError, match="families="):
        mk.compare_families(x, "gamma")


def test_command_line_plots_and_never_overwrites(tmp_path):
    from pathlib import Path

    from typer.testing import CliRunner

    from mlekit.cli import app

    beef = Path(__file__).resolve().parents[2] / "shared" / "data" / "groundbeef.csv"
    runner = CliRunner()
    png = tmp_path / "compare.png"
    done = runner.invoke(app, ["compare", str(beef), "-c", "serving", "--families",
                               "gamma,weibull,lognormal", "--plot", str(png)])
    assert done.exit_code == 0, done.output
    assert png.read_bytes().startswith(b"\x89PNG")
    before = png.read_bytes()
    again = runner.invoke(app, ["compare", str(beef), "-c", "serving", "--families",
                                "gamma,weibull", "--plot", str(png)])
    assert again.exit_code == 2 and "not overwritten without --force" in again.stderr
    assert png.read_bytes() == before
    qq = tmp_path / "qq.png"
    done = runner.invoke(app, ["fit", str(beef), "-c", "serving", "-d", "gamma", "--plot",
                               str(qq), "--plot-kind", "qq"])
    assert done.exit_code == 0 and qq.read_bytes().startswith(b"\x89PNG")
    done = runner.invoke(app, ["fit", str(beef), "-c", "serving", "-d", "gamma", "--plot",
                               str(tmp_path / "x.png"), "--plot-kind", "pie"])
    assert done.exit_code == 2 and "kind='pie'" in done.stderr
    done = runner.invoke(app, ["fit", str(beef), "-c", "serving", "-d", "gamma", "--gof",
                               "--replicates", "49", "--json"])
    assert done.exit_code == 0, done.output
    served = pd.read_csv(beef)["serving"]
    expected = mk.fit(mk.Gamma(), served).gof(replicates=49, seed=0).to_dict()
    assert json.loads(done.stdout)["gof"] == json.loads(json.dumps(expected))
