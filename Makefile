# One command each, from a fresh clone with only Python 3.11 and pip.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/mlekit demo

# two processes: a cold run is mostly JAX compiles, which use one core each (9:19 -> 5:53)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -n auto --durations=20

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/catalogue.py
	$(BIN)/python benchmarks/bootstrap.py
	$(BIN)/python benchmarks/regression.py
	$(BIN)/python benchmarks/nist_nonlinear.py
	$(BIN)/python benchmarks/penalized.py
	$(BIN)/python benchmarks/mixture.py
	$(BIN)/python benchmarks/many.py
	$(BIN)/python benchmarks/dataset_fits.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
