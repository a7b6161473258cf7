# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= run/demo

.PHONY: setup test lint typecheck pytest demo smoke bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck pytest

demo: $(STAMP)
	bash scripts/demo.sh $(DEMO_DIR)

# The demo cut to about a minute (normal, then one chaos scenario); CI runs it after the tests.
smoke: $(STAMP)
	bash scripts/smoke.sh

bench: $(STAMP)
	$(PY) bench/shop_catalog.py

clean:
	rm -rf $(VENV) run .mypy_cache .pytest_cache .ruff_cache
