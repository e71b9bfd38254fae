# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Two processes: the suite is mostly waiting on databases, servers and the browser.
PYTEST_ARGS ?= -n 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint assets chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

assets: node_modules/.installed
	$(BIN)/python scripts/build_assets.py

chromium:
	@scripts/ensure-chromium

run: $(VENV)/.installed assets
	$(BIN)/retour db upgrade
	$(BIN)/retour demo --port $(PORT)
	$(BIN)/retour serve --port $(PORT)

test: $(VENV)/.installed-test assets chromium
	$(BIN)/ruff check retour ingest console tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check retour ingest console tests bench scripts
	$(BIN)/ruff format --check retour ingest console tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules
