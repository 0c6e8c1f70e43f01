"""Partitioned datasets on Dask: a fit of data read partition by partition (on a local
cluster of two worker processes, or threads in this process) equals the in-memory fit of the
same data; bad partitions are named; a worker lost mid-fit changes nothing."""

import logging
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlekit as mk
from mlekit._families.base import merge_moments

distributed = pytest.importorskip("distributed")

N = 12_000
RTOL = 1e-10


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    with cluster, distributed.Client(cluster) as c:
        yield c


def same(a: mk.Fit, b: mk.Fit, rtol=RTOL):
    assert b.converged, b.message
    assert b.n == a.n and b.k == a.k
    assert b.loglik == pytest.approx(a.loglik, rel=rtol)
    for name in a.param_names:
        assert b.params[name] == pytest.approx(a.params[name], rel=rtol), name
        assert b.se[name] == pytest.approx(a.se[name], rel=rtol), name


def sample(seed=0):
    return np.random.default_rng(seed).gamma(2.0, 1.5, N)


@pytest.mark.parametrize("family", [mk.Gamma(), mk.Normal(), mk.Weibull()],
                         ids=["gamma", "normal", "weibull"])
def test_cluster_fit_equals_in_memory(client, family):
    x = sample()
    ds = mk.dataset(x, partitions=3)
    fit = mk.fit(family, ds)
    same(mk.fit(family, x), fit)
    sharded = fit._context.objective.x
    assert sharded.n == N
    if family.name != "weibull":  # an exponential family: one pass, by its statistics,
        assert sharded.passes == 1 and not sharded.persisted  # and the workers let go
    else:  # Newton: one pass per evaluation, over the rows kept in the workers' memory
        assert sharded.passes > 2 and sharded.persisted


def test_cluster_logistic_regression_and_censored_lognormal(client):
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"x1": rng.normal(size=N), "g": rng.choice(["a", "b", "c"], N)})
    eta = -0.5 + 1.2 * table.x1 + 0.7 * (table.g == "b")
    table["y"] = (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float)
    memory = mk.glm("y ~ x1 + C(g)", table, family="binomial")
    spread = mk.glm("y ~ x1 + C(g)", mk.dataset(table, partitions=3), family="binomial")
    same(memory, spread)
    for name in ("deviance", "null_deviance", "df_residual"):  # R's summary lines, in passes
        assert spread.statistics[name] == pytest.approx(memory.statistics[name], rel=1e-10)

    t, c = rng.lognormal(1.0, 0.5, N), rng.exponential(5.0, N)
    life = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})
    memory = mk.fit(mk.LogNormal(), mk.Survival(life.time, life.event))
    spread = mk.fit(mk.LogNormal(), mk.dataset(life, time="time", event="event",
                                               partitions=3))
    same(memory, spread)
    assert spread.statistics == memory.statistics  # the kinds of observation, counted


def test_cluster_covariances_profile_and_tests(client):
    x = sample(2)
    memory, spread = mk.fit(mk.Weibull(), x), mk.fit(mk.Weibull(), mk.dataset(x, partitions=3))
    for kind in ("opg", "robust"):
        a, b = memory.cov_as(kind), spread.cov_as(kind)
        for name in a.param_names:
            assert b.se[name] == pytest.approx(a.se[name], rel=RTOL)
    a = memory.conf_int(method="profile")["shape"]
    b = spread.conf_int(method="profile")["shape"]
    assert (b.lower, b.upper) == pytest.approx((a.lower, a.upper), rel=1e-8)
    restricted = mk.fit(mk.Weibull(), spread_data := mk.dataset(x, partitions=3),
                        fixed={"shape": 1.5})
    a = mk.lr_test(mk.fit(mk.Weibull(), x, fixed={"shape": 1.5}), memory)
    b = mk.lr_test(restricted, spread)
    assert b.statistic == pytest.approx(a.statistic, rel=1e-8)
    assert spread_data.source == "array"
    a = memory.transform("log(scale)", method="profile")
    b = spread.transform("log(scale)", method="profile")
    assert (b.value, b.se) == pytest.approx((a.value, a.se), rel=RTOL)
    assert b.interval == pytest.approx(a.interval, rel=1e-8)
    with pytest.raises(mk.FitError, match="in memory"):  # never quietly on the sample
        spread.bootstrap(99, seed=0)


def test_worker_killed_mid_fit_changes_nothing(client):
    x = sample(3)
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_after_first_pass(number, what, rows, seconds):
        if number == 2 and not killed:  # the data are in the workers' memory by now
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    spread = mk.fit(mk.Weibull(), mk.dataset(x, partitions=4, progress=kill_after_first_pass))
    assert killed and spread._context.objective.x.passes > 3  # Newton went on after the loss
    same(mk.fit(mk.Weibull(), x), spread)
    client.wait_for_workers(2, timeout=60)  # the nanny replaced it


def test_parquet_glob_and_a_bad_partition(tmp_path):
    rng = np.random.default_rng(4)
    parts = [rng.gamma(2.0, 1.5, 3000) for _ in range(3)]
    for i, values in enumerate(parts):
        pq.write_table(pa.table({"x": values, "other": values}), tmp_path / f"p{i}.parquet",
                       row_group_size=1000)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    ds = mk.dataset(str(tmp_path / "*.parquet"), column="x")
    assert len(ds) == 9  # one partition per row group
    same(mk.fit(mk.Gamma(), np.concatenate(parts)), mk.fit(mk.Gamma(), ds))
    parts[2][1500] = -1.0
    pq.write_table(pa.table({"x": parts[2]}), tmp_path / "p2.parquet", row_group_size=1000)
    with pytest.raises(mk.DataError, match=r"p2\.parquet \(row group 1\): x\[500\] = -1\.0 is "
                                           r"outside the support of gamma"):
        mk.fit(mk.Gamma(), mk.dataset(str(tmp_path / "*.parquet"), column="x"))
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()
            if p.name != "p2.parquet"} == {k: v for k, v in before.items() if k != "p2.parquet"}
    parts[2][1500] = np.nan
    pd.DataFrame({"x": parts[2]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(mk.DataError, match=r"bad\.csv: data has 1 non-finite value"):
        mk.fit(mk.Gamma(), mk.dataset(str(tmp_path / "*.csv"), column="x"))


def test_in_process_dask_collections():
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    x = sample(5)
    same(mk.fit(mk.Gamma(), x), mk.fit(mk.Gamma(), da.from_array(x, chunks=4000)))
    frame = dd.from_pandas(pd.DataFrame({"x": x, "w": 1.0}), npartitions=3)
    streamed = mk.fit(mk.Weibull(), mk.dataset(frame, column="x"))
    same(mk.fit(mk.Weibull(), x), streamed)
    assert not streamed._context.objective.x.persisted  # size unknown: each pass reads again
    counts = np.random.default_rng(6).integers(1, 4, N).astype(float)
    weighted = mk.fit(mk.Weibull(), mk.dataset(pd.DataFrame({"x": x, "w": counts}),
                                               column="x", weights="w", partitions=3))
    same(mk.fit(mk.Weibull(), x, weights=counts), weighted)
    repeated = mk.fit(mk.Weibull(), np.repeat(x, counts.astype(int)))  # what weights mean
    for kind in ("opg", "robust"):
        np.testing.assert_allclose(list(weighted.cov_as(kind).se.values()),
                                   list(repeated.cov_as(kind).se.values()), rtol=1e-9)


def test_student_t_and_a_mixture_in_process():
    rng = np.random.default_rng(7)
    t = 1.0 + 2.0 * rng.standard_t(4.0, N)
    same(mk.fit(mk.StudentT(), t), mk.fit(mk.StudentT(), mk.dataset(t, partitions=3)))
    x = np.where(rng.random(N) < 0.5, rng.normal(0.0, 1.0, N), rng.normal(4.0, 1.5, N))
    mixture = mk.Mixture([mk.Normal(), mk.Normal()])
    same(mk.fit(mixture, x), mk.fit(mixture, mk.dataset(x, partitions=3)), rtol=1e-9)


def test_rare_values_and_boundaries_are_judged_on_all_the_data():
    """What one partition alone would call a boundary (all zeros, a category unseen) is
    decided on the whole data: every distinct value of discrete data reaches the driver."""
    x = np.zeros(9000)
    x[7777] = 1.0  # the only 1, in the last partition, missed by any sample
    same(mk.fit(mk.Bernoulli(), x), mk.fit(mk.Bernoulli(), mk.dataset(x, partitions=3)))
    codes = np.random.default_rng(9).integers(0, 3, 9000).astype(float)
    codes[8500] = 4.0  # category 3 never seen: pinned at 0, as in memory
    memory = mk.fit(mk.Categorical(), codes)
    spread = mk.fit(mk.Categorical(), mk.dataset(codes, partitions=3))
    np.testing.assert_allclose(spread.params["probs"], memory.params["probs"], rtol=1e-10)
    assert [d.code for d in spread.diagnostics] == [d.code for d in memory.diagnostics]
    counts = np.random.default_rng(10).binomial(10, 0.3, 9000).astype(float)  # under-dispersed
    memory = mk.fit(mk.NegativeBinomial(), counts)
    spread = mk.fit(mk.NegativeBinomial(), mk.dataset(counts, partitions=3))
    assert not spread.converged and spread.diagnostics[0].code == memory.diagnostics[0].code
    assert spread.loglik == pytest.approx(memory.loglik, rel=1e-12)


def test_survival_regression_and_vectors_in_process():
    lung = pd.read_csv(Path(mk.__file__).parent / "data" / "lung.csv").dropna(
        subset=["age", "sex"])
    formula = "Surv(time, status) ~ age + sex"
    same(mk.aft(formula, lung, dist="weibull"),
         mk.aft(formula, mk.dataset(lung, partitions=3), dist="weibull"))
    xy = np.random.default_rng(11).multivariate_normal([0.0, 1.0], [[1.0, 0.5], [0.5, 2.0]],
                                                       3000)
    table = pd.DataFrame(xy, columns=["a", "b"])
    memory = mk.fit(mk.MultivariateNormal(), xy)
    spread = mk.fit(mk.MultivariateNormal(), mk.dataset(table, columns=["a", "b"],
                                                        partitions=3))
    for name in ("mean", "cov"):
        np.testing.assert_allclose(spread.params[name], memory.params[name], rtol=1e-10)


def test_refusals_say_what_to_do(tmp_path):
    ds = mk.dataset(sample(), partitions=2)
    with pytest.raises(mk.DataError, match="no files match"):
        mk.dataset(str(tmp_path / "*.parquet"), column="x")
    with pytest.raises(mk.ModelError, match="weights= is not available.*weights='w'"):
        mk.fit(mk.Gamma(), ds, weights=np.ones(N))
    with pytest.raises(mk.ModelError, match="order statistic"):
        mk.fit(mk.Uniform(), ds)
    with pytest.raises(mk.ModelError, match="time= and event= go together"):
        mk.dataset(pd.DataFrame({"t": [1.0]}), time="t")
    constant = mk.fit(mk.Gamma(), mk.dataset(np.full(100, 2.0), partitions=2))
    assert constant.params["shape"] is None and not constant.converged  # no MLE, said so


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=60), st.integers(1, 5),
       st.data())
def test_merged_moments_equal_the_whole_datas(values, cuts, data):
    """Chan's merge of [n, mean, M2] over any split equals the moments of all the data."""
    from mlekit._families.base import moments

    x = np.array(values)
    points = sorted(data.draw(st.lists(st.integers(1, len(x) - 1), max_size=cuts)))
    pieces = [p for p in np.split(x, points) if p.size]
    merged, whole = merge_moments([moments(p) for p in pieces]), moments(x)
    scale = 1.0 + np.abs(x).max() ** 2 * len(x)
    assert merged[0] == whole[0]
    assert merged[1] == pytest.approx(whole[1], rel=1e-12, abs=1e-9)
    assert merged[2] == pytest.approx(whole[2], rel=1e-9, abs=1e-12 * scale)


def test_command_line_fits_a_glob_with_progress(tmp_path):
    import json

    from typer.testing import CliRunner

    from mlekit.cli import app

    x = sample(8)
    for i, part in enumerate(np.array_split(x, 3)):
        pq.write_table(pa.table({"x": part}), tmp_path / f"p{i}.parquet")
    runner = CliRunner()
    glob = str(tmp_path / "*.parquet")
    done = runner.invoke(app, ["fit", glob, "--column", "x", "--dist", "weibull",
                               "--scheduler", "threads"])
    assert done.exit_code == 0, done.output
    assert "pass 1 (read): 12,000 rows" in done.stderr and "pass 2 (newton)" in done.stderr
    assert "n = 12000" in done.stdout
    done = runner.invoke(app, ["fit", glob, "--column", "x", "--dist", "gamma", "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)["params"]["shape"]
    assert shown == pytest.approx(mk.fit(mk.Gamma(), x).params["shape"], rel=1e-12)
    done = runner.invoke(app, ["fit", glob, "--column", "y", "--dist", "gamma"])
    assert done.exit_code == 2 and "has no column 'y'" in done.stderr
    assert "Traceback" not in done.output

    rng = np.random.default_rng(12)
    table = pd.DataFrame({"u": rng.normal(size=3000)})
    table["y"] = (rng.random(3000) < 1 / (1 + np.exp(-table.u))).astype(float)
    table.iloc[:1500].to_parquet(tmp_path / "t0.parquet")
    table.iloc[1500:].to_parquet(tmp_path / "t1.parquet")
    done = runner.invoke(app, ["glm", str(tmp_path / "t*.parquet"), "y ~ u", "--family",
                               "binomial", "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.stdout)["params"]["u"]
    assert shown == pytest.approx(mk.glm("y ~ u", table, family="binomial").params["u"],
                                  rel=1e-10)
