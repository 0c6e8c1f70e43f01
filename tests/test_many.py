"""mk.fit_many / mk.fit_groups: every member equals its own mk.fit, failures stay in their row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlekit as mk


def _mixed(seed=0, members=24):
    rng = np.random.default_rng(seed)
    data = [rng.gamma(2.0, 1.5, n) for n in rng.integers(8, 400, members)]
    data[3] = np.full(12, 2.0)          # no spread: no MLE
    data[7] = np.r_[data[7], -1.0]      # outside a positive family's support
    return data


def _flat(values):
    return np.array([float(v) for v in values.values()])


@pytest.mark.parametrize("family", [mk.Gamma(), mk.Weibull(), mk.LogNormal()],
                         ids=["gamma", "weibull", "lognormal"])
def test_members_equal_their_single_fits_and_failures_stay_in_their_row(family):
    data = _mixed()
    batch = mk.fit_many(family, data)
    assert len(batch) == len(data) and batch.param_labels == tuple(family.params)
    for i, x in enumerate(data):
        try:
            single = mk.fit(family, x)
        except mk.DataError as err:
            assert batch.status[i] == "data" and str(err) == batch.messages[i]
            assert np.all(np.isnan(batch.params[i])) and not batch.converged[i]
            continue
        assert batch.converged[i] == single.converged
        if not single.converged:
            assert batch.status[i] == single.diagnostics[0].code
            assert batch.messages[i].startswith(single.diagnostics[0].code)
            continue
        np.testing.assert_allclose(batch.params[i], _flat(single.params), rtol=1e-10)
        np.testing.assert_allclose(batch.se[i], _flat(single.se), rtol=1e-10)
        assert batch.loglik[i] == pytest.approx(single.loglik, rel=1e-12)
        assert batch.n[i] == x.size
    assert batch.status[3] == "no_estimate" and batch.status[7] == "data"
    assert int(batch.converged.sum()) == len(data) - 2


def test_a_padded_array_with_lengths_and_labels():
    rng = np.random.default_rng(1)
    data = rng.normal(5.0, 2.0, (5, 60))
    lengths = [60, 10, 35, 2, 59]
    batch = mk.fit_many(mk.Normal(), data, lengths=lengths, labels=list("abcde"))
    for label, row, m in zip("abcde", data, lengths, strict=True):
        member = batch[label]
        assert member.n == m
        assert member.params["mean"] == pytest.approx(row[:m].mean(), rel=1e-12)
        assert member.params["sd"] == pytest.approx(row[:m].std(), rel=1e-12)  # the MLE: /n
    with pytest.raises(mk.DataError, match="lengths"):
        mk.fit_many(mk.Normal(), data, lengths=[60, 61, 1, 1, 1])


def test_fit_groups_labels_rows_by_group_and_indexing_gives_full_fits():
    rng = np.random.default_rng(2)
    table = pd.DataFrame({"machine": np.repeat(["m1", "m2", "m3"], [40, 25, 60]),
                          "hours": 100 * rng.weibull(1.5, 125)})
    batch = mk.fit_groups(table, by="machine", column="hours", model=mk.Weibull())
    assert batch.labels == ("m1", "m2", "m3")
    frame = batch.to_pandas()
    assert list(frame.index) == ["m1", "m2", "m3"]
    assert {"shape", "se_shape", "scale", "se_scale", "converged", "loglik"} <= set(frame)
    m2 = batch["m2"]
    assert isinstance(m2, mk.Fit) and m2.n == 25
    assert frame.loc["m2", "shape"] == pytest.approx(m2.params["shape"], rel=1e-10)
    assert m2.conf_int(method="profile")["shape"].lower < m2.params["shape"]
    assert "3 fits of weibull: 3 converged, 0 flagged" in batch.summary()
    with pytest.raises(mk.DataError, match="not in the table"):
        mk.fit_groups(table, by="plant", column="hours", model=mk.Weibull())


def test_other_data_and_models_go_member_by_member_with_the_same_results():
    rng = np.random.default_rng(3)
    t = [10 * rng.weibull(1.2, n) for n in (30, 50)]
    data = [mk.Survival(np.minimum(x, 12.0), x <= 12.0) for x in t]
    batch = mk.fit_many(mk.Weibull(), data)
    for i, d in enumerate(data):
        single = mk.fit(mk.Weibull(), d)
        np.testing.assert_allclose(batch.params[i], _flat(single.params), rtol=1e-12)
    poisson = mk.fit_many(mk.Poisson(), [[1, 2, 0, 3], [4, 4, 5], [0, 0, 0]])
    assert poisson.params[:2, 0].tolist() == pytest.approx([1.5, 13 / 3])
    # all zeros: lambda = 0 on the boundary, as mk.fit reports it (with its warning)
    assert poisson.params[2, 0] == 0.0
    assert "boundary_estimate" in [d.code for d in poisson[2].diagnostics]


def test_a_user_model_and_fixed_parameters():
    def logpdf(x, p):
        return -0.5 * ((x - p["mu"]) / 2.0) ** 2

    model = mk.Model(logpdf, params={"mu": mk.Real(init=0.0)})
    batch = mk.fit_many(model, [[1.0, 2.0, 3.0], [5.0, 7.0]])
    assert batch.params[:, 0].tolist() == pytest.approx([2.0, 6.0], rel=1e-10)
    held = mk.fit_many(mk.Normal(), [[1.0, 2.0, 4.0], [3.0, 5.0]], fixed={"mean": 3.0})
    assert held.param_labels == ("sd",)
    assert held.params[1, 0] == pytest.approx(np.sqrt(2.0), rel=1e-10)  # ((3-3)^2 + (5-3)^2)/2


def test_bad_batches_are_refused_clearly():
    with pytest.raises(mk.DataError, match="empty"):
        mk.fit_many(mk.Normal(), [])
    with pytest.raises(mk.ModelError, match="labels"):
        mk.fit_many(mk.Normal(), [[1.0, 2.0]], labels=["a", "b"])
    with pytest.raises(mk.DataError, match="2-D array"):
        mk.fit_many(mk.Normal(), "data.csv")


def test_regressions_per_group_and_starts():
    from conftest import shared_csv

    lung = shared_csv("lung.csv")
    batch = mk.fit_groups(lung, by="sex", formula="Surv(time, status) ~ age",
                          regression="aft", dist="weibull")
    assert batch.param_labels == ("Intercept", "age", "scale")
    for label, part in lung.groupby("sex"):
        single = mk.aft("Surv(time, status) ~ age", part, dist="weibull")
        np.testing.assert_allclose(batch.to_pandas().loc[label, ["Intercept", "age", "scale"]]
                                   .to_numpy(dtype=float), _flat(single.params), rtol=1e-12)
    glms = mk.fit_groups(lung, by="sex", formula="wt.loss ~ age", family="gaussian")
    assert glms.converged.all() and "se_age" in glms.to_pandas()
    with pytest.raises(mk.ModelError, match="formula="):
        mk.fit_groups(lung, by="sex", column="time")
    # starts= goes member by member, with the same maxima
    rng = np.random.default_rng(4)
    data = [rng.exponential(2.0, n) for n in (40, 90)]
    searched = mk.fit_many(mk.Exponential(), data, starts=3)
    plain = mk.fit_many(mk.Exponential(), data)
    np.testing.assert_allclose(searched.params, plain.params, rtol=1e-9)
