"""Every covariance type and every interval method on every family of the catalogue (and a user
model): each runs, gives finite numbers, and agrees with the others where theory says so.

One fit per family on N draws (the catalogue tests' shape, so its compiled programs are reused);
the numbers themselves are checked against references in test_covariance, test_profile
(which also checks profile end points of ten families against fits with the parameter fixed),
test_bootstrap and test_testing.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlekit as mk
from cases import all_cases
from mlekit._inference import intervals

CASES = all_cases()
N = 500


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def case_fit(request):
    case = request.param
    x = case.family.sample(case.truth, N, rng=np.random.default_rng(11))
    return case, mk.fit(case.family, x, **case.fit_options)


def test_every_covariance_type(case_fit):
    case, fit = case_fit
    assert fit.converged, fit.message
    for kind in ("observed", "expected", "opg", "robust"):
        other = fit.cov_as(kind)
        assert other.cov_kind == kind
        if other.cov is None:  # singular: said so, never NaN
            assert all(v is None for v in other.se.values())
            continue
        assert np.all(np.isfinite(other.cov))
        for name in fit.param_names:
            se = other.se[name]
            assert se is None or np.all(np.isfinite(se))
    assert np.all(np.isfinite(fit.crlb()))


def test_every_interval_method(case_fit):
    case, fit = case_fit
    ctx = fit._context
    for name in fit.param_names:
        if fit.se.get(name) is None or name in ctx.presolved:
            continue  # no SE (non-regular) or not smooth (order statistics): bootstrap only
        value = np.asarray(fit.params[name])
        ci = intervals.profile(fit, name, 0.95)
        assert np.all(ci.lower <= value) and np.all(value <= ci.upper)
        for end, is_open in ((ci.lower, ci.lower_open), (ci.upper, ci.upper_open)):
            # an end that does not exist (e.g. the t's df on near-normal data) is said so
            assert np.all(np.isfinite(end)) or (is_open and "no " in ci.note)
    boot = fit.bootstrap(60, seed=3)
    assert boot.estimates.shape[1] == len(boot.labels) and boot.failed <= 6
    for lo, hi in boot.conf_int(0.9).values():
        assert np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)
