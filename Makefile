# The two commands: `make demo` (scan the simulated site, store it, serve the web UI) and `make test`.
# Both set everything up themselves on a fresh clone: system packages, virtualenv, install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test setup lint typecheck unit clean

demo: setup
	$(BIN)/asbuilt demo

test: setup lint typecheck unit

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

# Two pytest-xdist workers: modules bound to the simulated site's fixed addresses are one group (tests/conftest.py).
unit:
	$(BIN)/pytest -q -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
