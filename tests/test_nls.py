"""Nonlinear regression (``nls``) against the NIST StRD nonlinear certificates, and its API.

Certified values and standard deviations are parsed from the ``.dat`` files in
../shared/data/nist_strd (NIST/ITL StRD; see that folder's README). NIST's standard
deviations use the residual variance RSS / (n - p) and the Gauss-Newton matrix (J'J)^-1;
``nls`` reports the MLE sqrt(RSS / n) and, by default, the Fisher information given x
(J'J / sd^2), so ours are compared after multiplying by sqrt(n / (n - p)).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import mlekit as mk
from mlekit._regression.nls import nls

NIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "nist_strd"
if not NIST.exists():
    NIST = Path("/work/shared/data/nist_strd")

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ROW = re.compile(rf"^\s*(b\d+)\s*=\s*({_NUM})\s+({_NUM})\s+({_NUM})\s+({_NUM})\s*$")


def certificate(name):
    """(start 1, start 2, certified values, certified SDs, residual SD) from the .dat."""
    text = (NIST / f"{name}.dat").read_text()
    s1, s2, values, sds = {}, {}, {}, {}
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            b = m.group(1)
            s1[b], s2[b], values[b], sds[b] = (float(m.group(i)) for i in range(2, 6))
    rsd = float(re.search(rf"Residual Standard Deviation:\s*({_NUM})", text).group(1))
    return s1, s2, values, sds, rsd


def table(name):
    return pd.read_csv(NIST / f"{name}.csv")


def lre(estimate, certified):
    """Correct significant digits (log relative error)."""
    err = abs(estimate - certified)
    return 15.0 if err == 0 else -math.log10(err / abs(certified))


def mgh09(x, p):
    return p["b1"] * (x**2 + x * p["b2"]) / (x**2 + x * p["b3"] + p["b4"])


def thurber(x, p):
    return ((p["b1"] + p["b2"] * x + p["b3"] * x**2 + p["b4"] * x**3)
            / (1 + p["b5"] * x + p["b6"] * x**2 + p["b7"] * x**3))


def mgh17(x, p):
    return p["b1"] + p["b2"] * jnp.exp(-x * p["b4"]) + p["b3"] * jnp.exp(-x * p["b5"])


def misra1a(x, p):
    return p["b1"] * (1 - jnp.exp(-p["b2"] * x))


#: (problem, NIST difficulty, the mean: a formula over the .csv's columns or a function)
PROBLEMS = [
    ("Misra1a", "lower", "y ~ b1 * (1 - exp(-b2 * x))"),
    ("Nelson", "average", "log(y) ~ b1 - b2 * x1 * exp(-b3 * x2)"),
    ("MGH17", "average", mgh17),
    ("Roszman1", "average", "y ~ b1 - b2 * x - arctan(b3 / (x - b4)) / pi"),
    ("Thurber", "higher", thurber),
    ("MGH09", "higher", mgh09),
    ("Eckerle4", "higher", "y ~ (b1 / b2) * exp(-0.5 * ((x - b3) / b2)**2)"),
]


def fit_problem(name, mean, which):
    s1, s2, *_ = certificate(name)
    data = table(name)
    start = (s1, s2)[which]
    if isinstance(mean, str):
        return nls(mean, data, start=start)
    return nls(mean, x=data["x"].to_numpy(), y=data["y"].to_numpy(), start=start)


@pytest.mark.parametrize("which", [0, 1], ids=["start1", "start2"])
@pytest.mark.parametrize(("name", "level", "mean"), PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_nist_certified_values(name, level, mean, which):
    """Estimates to >= 6 significant digits, standard errors and the residual SD to >= 5, from
    both of NIST's starts (certificates: the .dat header)."""
    _, _, values, sds, rsd = certificate(name)
    fit = fit_problem(name, mean, which)
    assert fit.converged, fit.message
    n, p = fit.n, len(values)
    factor = math.sqrt(n / (n - p))
    for b, v in values.items():
        assert lre(fit.params[b], v) >= 6, (b, fit.params[b], v)
        assert lre(fit.se[b] * factor, sds[b]) >= 5, (b, fit.se[b] * factor, sds[b])
    assert lre(fit.params["sd"] * factor, rsd) >= 5
    assert fit.cov_kind == "expected"


def test_second_path_reaches_roszman1_from_start1():
    """From Roszman1's first start, Newton on the full likelihood stops against the mean's
    discontinuity at b4 = max(x); the least-squares path (sd held at the residual RMS)
    reaches the certified maximum, and the message says which path it took."""
    fit = fit_problem("Roszman1", PROBLEMS[3][2], 0)
    assert fit.converged and "least squares" in fit.message


def test_formula_and_function_give_the_same_fit():
    s1, *_ = certificate("Misra1a")
    data = table("Misra1a")
    by_formula = nls("y ~ b1 * (1 - exp(-b2 * x))", data, start=s1)
    by_function = nls(misra1a, x=data["x"], y=data["y"], start=s1)
    for b in ("b1", "b2", "sd"):
        assert by_formula.params[b] == pytest.approx(by_function.params[b], rel=1e-12)
        assert by_formula.se[b] == pytest.approx(by_function.se[b], rel=1e-10)
    assert by_formula.loglik == pytest.approx(by_function.loglik, rel=1e-12)
    assert by_formula.param_names == ("b1", "b2", "sd")


def test_data_as_table_or_arrays():
    """A DataFrame (formula, or function with response=/x= columns), a dict of columns and
    plain arrays give one fit; two predictors arrive as an (n, 2) array."""
    s1, *_ = certificate("Nelson")
    data = table("Nelson")
    formula = nls("log(y) ~ b1 - b2 * x1 * exp(-b3 * x2)", data, start=s1)
    as_dict = nls("log(y) ~ b1 - b2 * x1 * exp(-b3 * x2)", dict(data), start=s1)
    arrays = nls("log(y) ~ b1 - b2 * x1 * exp(-b3 * x2)", x=data[["x1", "x2"]].to_numpy(),
                 y=data["y"].to_numpy(), start=s1)

    def nelson(x, p):
        return p["b1"] - p["b2"] * x[:, 0] * jnp.exp(-p["b3"] * x[:, 1])

    frame = data.assign(logy=np.log(data["y"]))
    function = nls(nelson, frame, response="logy", x=["x1", "x2"], start=s1)
    for other in (as_dict, arrays, function):
        for b in ("b1", "b2", "b3", "sd"):
            assert other.params[b] == pytest.approx(formula.params[b], rel=1e-9)


def test_predict_fixed_and_observed_information():
    s1, _, values, *_ = certificate("Misra1a")
    data = table("Misra1a")
    fit = nls(misra1a, x=data["x"], y=data["y"], start=s1)
    fitted = fit.predict()
    expected = np.asarray(misra1a(data["x"].to_numpy(), fit.params))
    assert fitted == pytest.approx(expected, rel=1e-12)
    value, se = fit.predict(np.array([100.0, 500.0]), se=True)
    assert value.shape == se.shape == (2,) and np.all(se > 0)
    held = nls(misra1a, x=data["x"], y=data["y"], start=s1, fixed={"b1": values["b1"]})
    assert held.k == 2 and lre(held.params["b2"], values["b2"]) >= 6
    observed = nls(misra1a, x=data["x"], y=data["y"], start=s1, cov="observed")
    assert observed.cov_kind == "observed"
    # the observed information adds the residuals' curvature to J'J: close, not equal
    assert observed.se["b2"] == pytest.approx(fit.se["b2"], rel=0.05)


def test_no_convergence_is_reported_not_raised():
    s1, *_ = certificate("MGH09")
    data = table("MGH09")
    fit = nls(mgh09, x=data["x"], y=data["y"], start=s1, maxiter=5)
    assert not fit.converged and "maxiter=5" in fit.message
    with pytest.raises(mk.FitError):
        nls(mgh09, x=data["x"], y=data["y"], start=s1, maxiter=5, strict=True)


@pytest.mark.parametrize(("call", "words"), [
    (lambda d: nls("y ~ b1 * (1 - exp(-b3 * x))", d, start={"b1": 500.0}),
     ["'b3'", "start"]),
    (lambda d: nls("y ~ b1 * (1 - exp(-b2 * z))", d, start={"b1": 500.0, "b2": 1e-4}),
     ["'z'"]),
    (lambda d: nls(misra1a, x=d["x"], y=d["y"], start={"b1": 500.0}), ["'b2'", "start"]),
    (lambda d: nls("y ~ b1 * x", d, start={"b1": 1.0, "b9": 2.0}), ["'b9'", "does not use"]),
    (lambda d: nls("y ~ b1 * x", d, start={}), ["start"]),
    (lambda d: nls("y ~ b1 * x", d, start={"b1": float("nan")}), ["start['b1']"]),
    (lambda d: nls("y ~ b1 * x", d, start={"b1": 1.0}, family="poisson"), ["gaussian"]),
    (lambda d: nls("y ~ b1 * x", d, start={"sd": 1.0}), ["'sd'"]),
    (lambda d: nls("y = b1 * x", d, start={"b1": 1.0}), ["'~'"]),
    (lambda d: nls("y ~ b1 * x", start={"b1": 1.0}), ["data="]),
    (lambda d: nls(misra1a, d, response="w", start={"b1": 1.0, "b2": 1.0}), ["'w'"]),
    (lambda d: nls("y ~ b1 * exp(b2 * x)", d, start={"b1": 1.0, "b2": 1e6}), ["not finite"]),
])
def test_bad_input_raises_model_error(call, words):
    data = table("Misra1a")
    with pytest.raises(mk.ModelError) as err:
        call(data)
    for word in words:
        assert word in str(err.value)


def test_docstring_example():
    import doctest
    import importlib

    module = importlib.import_module("mlekit._regression.nls")  # the package's nls: the function

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
