"""The README's examples and the docstrings' examples run and say what they claim."""

import doctest
import importlib
import re
from pathlib import Path

import pytest

import mlekit
from mlekit import (
    _censored,
    _expr,
    _families,
    _fit,
    _gof,
    _heads,
    _information,
    _many,
    _model,
    _penalties,
    _ranking,
    _regularization,
    _report,
    _result,
    priors,
)
from mlekit._inference import bootstrap, comparison, profile, testing
from mlekit._mixtures import gaussian as mixture_gaussian
from mlekit._mixtures import general as mixture_general
from mlekit._mixtures import select as mixture_select
from mlekit._regression import api as regression_api

ROOT = Path(__file__).resolve().parents[1]


MODULES = [*_families._MODULES, _families, _fit, _model, _result, _expr, comparison, testing,
           profile, bootstrap, regression_api, priors, _penalties, _regularization,
           mixture_select, mixture_gaussian, mixture_general, _censored, _many, _gof, _heads,
           _information,
           _ranking, _report,
           importlib.import_module("mlekit._regression.nls"),  # the package's nls is the function
           importlib.import_module("mlekit._distributed.partitions"),
           importlib.import_module("mlekit._plots"),
           *(importlib.import_module(f"mlekit._plots.{name}")
             for name in ("distribution", "survival"))]


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_readme_python_blocks_run(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert "zero-inflated poisson" in capsys.readouterr().out


def run_page(name: str, at_least: int = 1) -> dict:
    """Run a docs page's python blocks in one namespace (from the repository's root)."""
    page = (ROOT / "docs" / name).read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(blocks) >= at_least
    namespace = {"__name__": name.replace(".", "_"), "__page__": page}
    for block in blocks:
        exec(compile(block, f"docs/{name}", "exec"), namespace)
    return namespace


def test_diagnostics_page_runs_and_lists_every_code(monkeypatch):
    monkeypatch.chdir(ROOT)
    page = run_page("diagnostics.md")["__page__"]
    documented = set(re.findall(r"^### `([a-z_]+)`", page, re.M))
    source = "".join(p.read_text() for p in (ROOT / "src" / "mlekit").rglob("*.py"))
    emitted = set(re.findall(r'Diagnostic\(\s*"([a-z_]+)"', source))
    emitted |= set(re.findall(r'code="([a-z_]+)"', source)) | {"no_estimate"}
    assert emitted and emitted <= documented, emitted - documented


def test_survival_page_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    run_page("survival.md", at_least=6)
    assert "B10 = " in capsys.readouterr().out


def test_distributed_page_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace = run_page("distributed.md", at_least=2)
    assert namespace["weibull"].converged and namespace["survival"].converged
    assert "deviance" in namespace["logistic"].statistics


def test_ml_page_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace = run_page("ml.md", at_least=5)
    assert namespace["fit"].converged and namespace["fit"].params["W"].shape == (65, 10)
    free = namespace["free"]  # digits without a prior: separated, no MLE (issue 13's check)
    assert not free.converged and "separation" in [d.code for d in free.diagnostics]
    assert namespace["accuracy"] > 0.85 and "kept epoch" in namespace["trained"].message


def test_version():
    assert mlekit.__version__
