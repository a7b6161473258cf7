# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_DIR ?= run/demo

.PHONY: setup upgrade sysdeps-test sysdeps-demo test lint typecheck pytest demo smoke bench clean

# constraints.txt: the exact versions `make test` last passed with (see its header).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,ray]'  # ray: cluster tests
	touch $(STAMP)

setup: $(STAMP)

# The newest versions pyproject.toml allows, written back to constraints.txt; run `make test`
# before committing it.
upgrade:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev,ray]'
	grep '^#' constraints.txt > constraints.txt.new  # the header
	$(PY) -m pip freeze --exclude-editable >> constraints.txt.new
	mv constraints.txt.new constraints.txt
	touch $(STAMP)

# Debian packages (stress-ng, procps; chromium and prometheus for the tests): installed when root
# with apt-get, otherwise the target stops at once with the command to run (scripts/sysdeps.sh).
sysdeps-test:
	PYTHON=$(PYTHON) bash scripts/sysdeps.sh test

sysdeps-demo:
	PYTHON=$(PYTHON) bash scripts/sysdeps.sh demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) sysdeps-test
	$(PY) -m pytest -q

test: sysdeps-test lint typecheck pytest

demo: sysdeps-demo $(STAMP)
	bash scripts/demo.sh $(DEMO_DIR)

# The demo cut to about a minute (normal, then one chaos scenario); CI runs it after the tests.
smoke: sysdeps-demo $(STAMP)
	bash scripts/smoke.sh

bench: $(STAMP)
	$(PY) bench/shop_catalog.py

clean:
	rm -rf $(VENV) run .mypy_cache .pytest_cache .ruff_cache
