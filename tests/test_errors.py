"""Bad input: every entry point names the argument, the value, the rule and the fix."""

import numpy as np
import pandas as pd
import pytest

import mlekit as mk
from conftest import problems


def test_errors_share_a_base():
    for err in (mk.DataError, mk.ModelError, mk.FitError):
        assert issubclass(err, mk.MlekitError)


@pytest.mark.parametrize("data", [[], np.array([]), pd.Series([], dtype=float)])
def test_empty_data(data):
    with pytest.raises(mk.DataError, match="empty"):
        mk.fit(mk.Normal(), data)


def test_non_numeric_names_the_row():
    with pytest.raises(mk.DataError, match=r"data\[2\] = 'abc' is not a number"):
        mk.fit(mk.Normal(), [1.0, 2.0, "abc", 4.0])


def test_nan_and_inf_counted_with_first_row_and_fix():
    with pytest.raises(mk.DataError) as info:
        mk.fit(mk.Normal(), [1.0, np.nan, 3.0, np.inf, 5.0])
    msg = str(info.value)
    assert "2 non-finite" in msg and "data[1]" in msg and "np.isfinite" in msg


def test_outside_support_names_value_and_support():
    with pytest.raises(mk.DataError) as info:
        mk.fit(mk.Gamma(), [1.0, 2.0, 0.0, -1.0])
    msg = str(info.value)
    assert "x[2] = 0.0" in msg and "x > 0" in msg and "2 value(s)" in msg


def test_counts_must_be_integers():
    with pytest.raises(mk.DataError, match=r"x\[1\] = 1.5 .*integers >= 0"):
        mk.fit(mk.Poisson(), [1.0, 1.5, 2.0])


def test_two_dimensional_data():
    with pytest.raises(mk.DataError, match="one-dimensional"):
        mk.fit(mk.Normal(), np.ones((3, 2)))


def test_dataframe_with_several_columns():
    with pytest.raises(mk.DataError, match="pick one"):
        mk.fit(mk.Normal(), pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))


def test_too_few_observations():
    with pytest.raises(mk.FitError, match="at least 2 observations"):
        mk.fit(mk.Normal(), [1.0], strict=True)


@pytest.mark.parametrize("fam", [mk.Normal(), mk.LogNormal(), mk.Gamma(), mk.Weibull(),
                                 mk.StudentT()])
def test_constant_data_has_no_interior_mle(fam):
    with pytest.raises(mk.FitError, match="no maximum likelihood estimate exists"):
        mk.fit(fam, [3.0] * 10, strict=True)


@pytest.mark.parametrize("fam,data,value", [
    (mk.Bernoulli(), [0, 0, 0], 0.0), (mk.Bernoulli(), [1, 1], 1.0), (mk.Poisson(), [0, 0], 0.0),
])
def test_boundary_mle_is_reported(fam, data, value):
    fit = mk.fit(fam, data, strict=True)  # an estimate on the boundary is still an estimate
    (name,) = fit.param_names
    assert fit.params[name] == value and fit.se[name] is None
    assert problems(fit) == ["boundary_estimate"]
    with pytest.raises(mk.ModelError, match="boundary.*method='profile'"):
        fit.conf_int()


def test_exponential_all_zero():
    with pytest.raises(mk.FitError, match="rate -> infinity"):
        mk.fit(mk.Exponential(), [0.0, 0.0], strict=True)


def test_categorical_bad_codes_and_empty_category():
    with pytest.raises(mk.DataError, match="not a category code"):
        mk.fit(mk.Categorical(k=2), [0, 1, 2])
    fit = mk.fit(mk.Categorical(k=3), [0, 2, 2])
    assert "categories [1] are never observed" in fit.diagnostics[0].message


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(mk.ModelError, match="unknown family 'gama'.*gamma"):
        mk.fit("gama", [1.0, 2.0])


def test_model_must_be_a_model():
    with pytest.raises(mk.ModelError, match="not a model"):
        mk.fit(42, [1.0, 2.0])
    with pytest.raises(mk.ModelError, match="pass an instance, Normal()"):
        mk.fit(mk.Normal, [1.0, 2.0])


def test_fixed_and_start_are_checked():
    x = [1.0, 2.0, 3.0]
    with pytest.raises(mk.ModelError, match="has no parameter 'mu'.*'mean', 'sd'"):
        mk.fit(mk.Normal(), x, fixed={"mu": 0.0})
    with pytest.raises(mk.ModelError, match=r"fixed\['sd'\] = -1.0 .* must be > 0"):
        mk.fit(mk.Normal(), x, fixed={"sd": -1.0})
    with pytest.raises(mk.ModelError, match=r"start\['shape'\] = 0"):
        mk.fit(mk.Gamma(), x, start={"shape": 0})
    with pytest.raises(mk.ModelError, match="every parameter is fixed"):
        mk.fit(mk.Normal(), x, fixed={"mean": 0.0, "sd": 1.0})
    with pytest.raises(mk.ModelError, match="maxiter"):
        mk.fit(mk.Normal(), x, maxiter=-1)


def test_user_model_spec_errors():
    with pytest.raises(mk.ModelError, match="logpdf must be a function"):
        mk.Model(3, params={"a": mk.Real(init=0.0)})
    with pytest.raises(mk.ModelError, match="not a parameter declaration"):
        mk.Model(lambda x, p: x, params={"a": 1.0})
    with pytest.raises(mk.ModelError, match="violates the parameter's constraint"):
        mk.Positive(init=-1.0)
    model = mk.Model(lambda x, p: -0.5 * (x - p["a"]) ** 2, params={"a": mk.Real()})
    with pytest.raises(mk.ModelError, match="no start value.*start="):
        mk.fit(model, [1.0, 2.0])


def test_non_finite_start_is_a_fit_error():
    import jax.numpy as jnp

    model = mk.Model(lambda x, p: jnp.log(x - p["a"]), params={"a": mk.Real(init=5.0)})
    with pytest.raises(mk.FitError, match="not finite at the start values"):
        mk.fit(model, [1.0, 2.0, 3.0])


def test_conf_int_arguments():
    fit = mk.fit(mk.Exponential(), [1.0, 2.0])
    with pytest.raises(mk.ModelError, match="level=1.5"):
        fit.conf_int(level=1.5)
    with pytest.raises(mk.ModelError, match="method='magic'"):
        fit.conf_int(method="magic")
    with pytest.raises(mk.ModelError, match="scale='log' is not a Wald scale"):
        fit.conf_int(scale="log")
    with pytest.raises(mk.ModelError, match="replicates=5 must be an integer >= 20"):
        fit.conf_int(method="bootstrap", replicates=5)
    with pytest.raises(mk.ModelError, match="ci='x' is not an interval method"):
        fit.summary(ci="x")
    with pytest.raises(mk.ModelError, match="level=95"):
        fit.summary(level=95)
    with pytest.raises(mk.ModelError, match="cov='hc3' is not a covariance type"):
        fit.cov_as("hc3")
    stuck = mk.fit(mk.Weibull(), [1.0, 2.0, 4.0, 7.0], maxiter=1)
    assert not stuck.converged
    for method in ("profile", "bootstrap"):
        with pytest.raises(mk.ModelError, match="did not converge"):
            stuck.conf_int(method=method)


def test_transform_arguments():
    import jax.numpy as jnp

    fit = mk.fit(mk.Exponential(), [1.0, 2.0])
    with pytest.raises(mk.ModelError, match="needs a function"):
        fit.transform(3)
    with pytest.raises(mk.ModelError, match="not finite"):
        fit.transform(lambda p: jnp.log(-p["rate"]))
    with pytest.raises(mk.ModelError, match="method='delta'"):
        fit.transform("1 / rate", method="delta")
    with pytest.raises(mk.ModelError, match="the name 'mean' is not allowed"):
        fit.transform("1 / mean")
