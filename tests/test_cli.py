"""The command line: real files, JSON that equals fit.to_dict(), one-line errors, no tracebacks."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mlekit as mk
from mlekit.cli import app

runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def beef_csv(tmp_path, groundbeef):
    path = tmp_path / "beef.csv"
    pd.DataFrame({"id": np.arange(groundbeef.size), "serving": groundbeef}).to_csv(path,
                                                                                   index=False)
    return path


def test_fit_csv_prints_summary(beef_csv):
    out = run("fit", str(beef_csv), "--column", "serving", "--dist", "gamma")
    assert out.exit_code == 0, out.output
    assert "Maximum likelihood fit: gamma" in out.output and "shape" in out.output


def test_json_is_exactly_to_dict(beef_csv, groundbeef):
    out = run("fit", str(beef_csv), "--column", "serving", "--dist", "weibull", "--json")
    assert out.exit_code == 0
    printed = json.loads(out.output)
    fit = mk.fit("weibull", groundbeef)
    intervals = printed.pop("conf_int")
    assert printed.pop("conf_int_level") == 0.95
    assert printed == json.loads(json.dumps(fit.to_dict()))
    for name, (lo, hi) in fit.conf_int().items():
        assert intervals[name]["lower"] == lo and intervals[name]["upper"] == hi
        assert intervals[name]["method"] == "wald"


def test_parquet_and_single_column_needs_no_column(tmp_path, groundbeef):
    path = tmp_path / "beef.parquet"
    pd.DataFrame({"serving": groundbeef}).to_parquet(path)
    out = run("fit", str(path), "--dist", "lognormal", "--json")
    assert out.exit_code == 0
    assert json.loads(out.output)["params"]["meanlog"] == pytest.approx(4.1693700894537065)


def test_stdin(groundbeef):
    text = "serving\n" + "\n".join(map(str, groundbeef)) + "\n"
    out = run("fit", "-", "--dist", "normal", "--json", input=text)
    assert out.exit_code == 0
    assert json.loads(out.output)["params"]["mean"] == pytest.approx(73.645669291338578)


@pytest.mark.parametrize("args,message", [
    (("fit", "nope.csv", "--dist", "normal"), "does not exist"),
    (("fit", "{beef}", "--dist", "normal"), "choose one with --column"),
    (("fit", "{beef}", "--column", "weight", "--dist", "normal"),
     "column 'weight' is not in .*available columns: id, serving"),
    (("fit", "{beef}", "--column", "serving", "--dist", "gama"), "unknown family 'gama'"),
    (("fit", "{beef}", "--column", "id", "--dist", "gamma"), r"x\[0\] = 0.0 is outside"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "-t", "__import__('os')"),
     "is not allowed"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "-t", "shape / sd"),
     "the name 'sd' is not allowed.*shape, rate"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "--cov", "cluster"), "--groups"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "--cov", "robust", "--groups", "id"),
     "--groups"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "--level", "95"), "level=95"),
    (("fit", "{beef}", "-c", "serving", "-d", "gamma", "--ci", "bootstrap", "--replicates",
      "3"), "replicates"),
    (("compare", "{beef}", "-c", "serving", "-d", "gamma"), "at least two"),
])
def test_errors_are_one_line(beef_csv, args, message):
    args = [a.replace("{beef}", str(beef_csv)) for a in args]
    out = run(*args)
    assert out.exit_code != 0
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlekit: error:")
    assert "Traceback" not in out.output
    import re

    assert re.search(message, lines[0])


def test_empty_and_bad_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("x\n")
    words = tmp_path / "words.csv"
    words.write_text("x\n1.0\n2.0\nfoo\n")
    holes = tmp_path / "holes.csv"
    holes.write_text("x,y\n1.0,1\n,2\n3.0,3\n4.0,4\n")
    assert "is empty" in run("fit", str(empty), "--dist", "normal").output
    assert "no data rows" in run("fit", str(header_only), "--dist", "normal").output
    assert "x[2] = 'foo' is not a number" in run("fit", str(words), "--dist",
                                                         "normal").output
    out = run("fit", str(holes), "-c", "x", "--dist", "normal")
    assert out.exit_code != 0 and "x[1] = nan" in out.output and "--dropna" in out.output
    assert run("fit", str(holes), "-c", "x", "--dist", "normal", "--dropna").exit_code == 0


def test_families_lists_every_family():
    out = run("families")
    assert out.exit_code == 0
    for name in mk.FAMILIES:
        assert name in out.output
    listed = json.loads(run("families", "--json").output)
    assert listed == [f.to_dict() for f in mk.families()]


def test_family_options_on_the_command_line(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_text("successes\n3\n5\n4\n6\n2\n")
    out = run("fit", str(path), "--dist", "binomial", "-o", "size=10", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["params"] == {"prob": 0.4}
    for option, message in (("size", "KEY=VALUE"), ("size=ten", "not a number"),
                            ("trials=10", "no option 'trials'")):
        bad = run("fit", str(path), "--dist", "binomial", "-o", option)
        assert bad.exit_code == 2 and message in bad.output
        assert "Traceback" not in bad.output
    missing = run("fit", str(path), "--dist", "binomial")
    assert missing.exit_code == 2 and "needs the option 'size'" in missing.output


def test_demo_prints_real_results():
    out = run("demo")
    assert out.exit_code == 0
    assert "groundbeef.csv" in out.output and "faithful.csv" in out.output
    assert "4.01" in out.output  # gamma shape on groundbeef (R: 4.00834)
    assert "95% interval (profile)" in out.output and "Model comparison" in out.output


def test_installed_command_never_prints_a_traceback(tmp_path):
    missing = tmp_path / "missing.csv"
    proc = subprocess.run([sys.executable, "-m", "mlekit.cli", "fit", str(missing), "--dist",
                           "normal"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip().startswith("mlekit: error:") and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_plain_csv_fast_path_equals_pandas(tmp_path, groundbeef):
    from mlekit._io import _read_plain_csv, read_column

    path = tmp_path / "two.csv"
    pd.DataFrame({"a": np.arange(groundbeef.size), "serving": groundbeef}).to_csv(path,
                                                                                index=False)
    name, fast = _read_plain_csv(str(path), "serving")
    assert name == "serving"
    np.testing.assert_array_equal(fast, pd.read_csv(path)["serving"].to_numpy())
    np.testing.assert_array_equal(read_column(str(path), "serving"), groundbeef)
    assert _read_plain_csv(str(path), None) is None  # two columns: pandas decides


def test_profile_intervals_and_transforms_on_the_command_line(beef_csv, groundbeef):
    out = run("fit", str(beef_csv), "-c", "serving", "-d", "gamma", "--ci", "profile",
              "--level", "0.9", "-t", "shape/rate", "--json")
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)
    fit = mk.fit("gamma", groundbeef)
    expected = fit.conf_int(0.9, "profile")
    for name, (lo, hi) in expected.items():
        assert printed["conf_int"][name]["lower"] == pytest.approx(lo, rel=1e-10)
        assert printed["conf_int"][name]["upper"] == pytest.approx(hi, rel=1e-10)
    (mean,) = printed["transforms"]
    assert mean["name"] == "shape/rate" and mean["conf_int"]["method"] == "profile"
    assert mean["value"] == pytest.approx(groundbeef.mean(), rel=1e-12)
    text = run("fit", str(beef_csv), "-c", "serving", "-d", "gamma", "--ci", "profile",
               "-t", "shape/rate")
    assert "95% interval (profile)" in text.output
    assert "shape/rate = 73.6  (se 2.3; 95% interval (profile): (69.3, 78.4))" in text.output


def test_covariance_choice_and_clusters_on_the_command_line(tmp_path, groundbeef):
    path = tmp_path / "beef.csv"
    groups = np.arange(groundbeef.size) % 20
    pd.DataFrame({"serving": groundbeef, "cook": groups}).to_csv(path, index=False)
    out = run("fit", str(path), "-c", "serving", "-d", "gamma", "--cov", "robust")
    assert out.exit_code == 0 and "robust sandwich" in out.output
    out = run("fit", str(path), "-c", "serving", "-d", "gamma", "--cov", "cluster",
              "--groups", "cook", "--json")
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)
    fit = mk.fit("gamma", groundbeef, cov="cluster", groups=groups)
    assert printed["cov_kind"] == "cluster"
    np.testing.assert_allclose(printed["cov"], fit.cov, rtol=1e-12)


def test_bootstrap_on_the_command_line(beef_csv, groundbeef):
    out = run("fit", str(beef_csv), "-c", "serving", "-d", "exponential", "--ci", "bootstrap",
              "--replicates", "200", "--seed", "7", "--json")
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)["conf_int"]["rate"]
    lo, hi = mk.fit("exponential", groundbeef).conf_int(method="bootstrap", replicates=200,
                                                         seed=7)["rate"]
    assert (printed["lower"], printed["upper"]) == (lo, hi)
    assert printed["method"] == "bootstrap percentile"
    text = run("fit", str(beef_csv), "-c", "serving", "-d", "exponential", "--ci", "bootstrap",
               "--replicates", "200", "--interval", "bca")
    assert text.exit_code == 0 and "bootstrap BCa" in text.output


def test_compare_ranks_families(beef_csv, groundbeef):
    out = run("compare", str(beef_csv), "-c", "serving", "-d", "gamma", "-d", "weibull",
              "-d", "exponential", "--json")
    assert out.exit_code == 0, out.output
    table = json.loads(out.output)
    reference = mk.compare_families(groundbeef, ["gamma", "weibull", "exponential"])
    assert table == json.loads(json.dumps(reference.to_dict()))
    assert table["best"] == "gamma" and table["kind"] == "continuous"
    text = run("compare", str(beef_csv), "-c", "serving", "--families", "gamma,weibull")
    assert text.output.splitlines()[0].startswith("Families fitted to 254 continuous")


SHARED = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data"


def test_censored_lifetimes_and_truncation_on_the_command_line(tmp_path):
    fluazinam, lung = SHARED / "fluazinam.csv", SHARED / "lung.csv"
    out = run("fit", str(fluazinam), "--dist", "lognormal", "--left", "left", "--right", "right",
              "--json")
    assert out.exit_code == 0, out.output
    table = pd.read_csv(fluazinam)
    expected = mk.fit(mk.LogNormal(), mk.Censored(table["left"], table["right"]))
    assert json.loads(out.output)["loglik"] == pytest.approx(expected.loglik, rel=1e-12)
    out = run("fit", str(lung), "--dist", "weibull", "--time", "time", "--event", "status")
    assert out.exit_code == 0 and "observations: 165 exact, 63 right-censored" in out.output
    # weights and truncation bounds, a number and a column
    path = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.2, 2.5, 0.8, 3.1, 1.9], "w": [1, 2, 1, 3, 1],
                  "entry": [0.5, 0.5, 0.1, 1.0, 0.5]}).to_csv(path, index=False)
    for args, data, w in [
        (["--column", "x", "--lower", "0.5", "--weights", "w"],
         mk.Truncated([1.2, 2.5, 0.8, 3.1, 1.9], lower=0.5), [1, 2, 1, 3, 1]),
        (["--column", "x", "--lower", "entry", "--upper", "4"],
         mk.Truncated([1.2, 2.5, 0.8, 3.1, 1.9], lower=[0.5, 0.5, 0.1, 1.0, 0.5], upper=4.0),
         None),
    ]:
        out = run("fit", str(path), "--dist", "weibull", "--json", *args)
        assert out.exit_code == 0, out.output
        expected = mk.fit(mk.Weibull(), data, weights=w)
        assert json.loads(out.output)["loglik"] == pytest.approx(expected.loglik, rel=1e-12)


@pytest.mark.parametrize("args, message", [
    (["--left", "left"], "both --left and --right"),
    (["--left", "left", "--right", "right", "--column", "left"], "give one"),
    (["--left", "left", "--right", "nope"], "column 'nope' is not in"),
    (["--left", "left", "--right", "right", "--dropna"], "--dropna does not combine"),
])
def test_censored_options_fail_in_one_line(args, message):
    out = run("fit", str(SHARED / "fluazinam.csv"), "--dist", "lognormal", *args)
    assert out.exit_code != 0 and message in out.output and "Traceback" not in out.output


def test_aft_on_the_command_line():
    lung = SHARED / "lung.csv"
    out = run("aft", str(lung), "Surv(time, status) ~ age + sex", "--dist", "weibull", "--json")
    assert out.exit_code == 0, out.output
    fit = mk.aft("Surv(time, status) ~ age + sex", pd.read_csv(lung))
    printed = json.loads(out.output)
    assert printed["params"] == pytest.approx(dict(fit.params), rel=1e-12)
    out = run("aft", str(lung), "Surv(time, status) ~ age", "--cov", "expected")
    assert out.exit_code != 0 and "not available for censored" in out.output


def test_grouped_fits_on_the_command_line_write_a_table_and_never_overwrite(tmp_path):
    lung = SHARED / "lung.csv"
    out_file = tmp_path / "fits.csv"
    out = run("fit", str(lung), "--by", "sex", "--column", "time", "--dist", "weibull",
              "--out", str(out_file))
    assert out.exit_code == 0, out.output
    written = pd.read_csv(out_file)
    table = pd.read_csv(lung)
    expected = mk.fit_groups(table, by="sex", column="time", model=mk.Weibull()).to_pandas()
    assert written["shape"].to_numpy() == pytest.approx(expected["shape"].to_numpy(), rel=1e-12)
    before = out_file.read_bytes()
    again = run("fit", str(lung), "--by", "sex", "--column", "time", "--dist", "gamma",
                "--out", str(out_file))
    assert again.exit_code != 0 and "--force" in again.output and "Traceback" not in again.output
    assert out_file.read_bytes() == before
    forced = run("fit", str(lung), "--by", "sex", "--column", "time", "--dist", "gamma",
                 "--out", str(out_file), "--force")
    assert forced.exit_code == 0 and pd.read_csv(out_file).shape[0] == 2
    parquet = tmp_path / "fits.parquet"
    assert run("fit", str(lung), "--by", "sex", "--column", "time", "--dist", "gamma",
               "--out", str(parquet)).exit_code == 0
    assert pd.read_parquet(parquet).shape[0] == 2
    shown = run("fit", str(lung), "--by", "sex", "--column", "time", "--dist", "gamma")
    assert shown.exit_code == 0 and "2 fits of gamma: 2 converged" in shown.output
    bad = run("fit", str(lung), "--by", "sex", "--dist", "gamma")
    assert bad.exit_code != 0 and "--column" in bad.output


def test_study_on_the_command_line(tmp_path):
    out = run("study", "--dist", "exponential", "--truth", "rate=2", "--n", "50,200",
              "--reps", "200", "--seed", "1", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["n"] for r in rows] == [50, 200] and all(0.85 < r["coverage_wald"] <= 1
                                                        for r in rows)
    picture = tmp_path / "study.png"
    shown = run("study", "--dist", "normal", "--truth", "location=0,scale=1,df=5",
                "--data-dist", "student_t", "--n", "100", "--reps", "100",
                "--plot", str(picture))
    assert shown.exit_code == 0, shown.output
    assert "KL projection" in shown.output and picture.stat().st_size > 1000
    again = run("study", "--dist", "normal", "--truth", "location=0,scale=1,df=5",
                "--data-dist", "student_t", "--n", "100", "--reps", "100",
                "--plot", str(picture))
    assert again.exit_code != 0 and "--force" in again.output
    bad = run("study", "--dist", "gamma", "--truth", "shape=2", "--n", "50")
    assert bad.exit_code != 0 and "missing" in bad.output and "Traceback" not in bad.output
