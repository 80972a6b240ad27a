# The two commands of the README. Each installs what is missing, then runs.
#   make test   the whole suite (lint, types, import contracts, pytest with Azurite)
#   make dev    the product locally (Azurite, local Entra/Graph, the app, demo data)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP_PY   := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: test dev deps lint typecheck contracts pytest bench bench-http hooks clean

CHROMIUM   := /usr/bin/chromium

deps: $(STAMP_PY) $(STAMP_NODE) $(CHROMIUM)

# Browser tests drive Debian's Chromium through Playwright; never a browser download.
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium)

$(STAMP_PY): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(STAMP_PY)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP_PY)
	$(PY) -m mypy

contracts: $(STAMP_PY)
	$(VENV)/bin/lint-imports

# The suite starts its own Azurite (in memory, free ports) from node_modules.
pytest: deps
	$(PY) -m pytest $(PYTEST_ARGS)

test: deps lint typecheck contracts pytest

bench: deps
	$(PY) -m bench.runs_bench

# Start and list over HTTP through the local host vs the raw storage floor, 1-8 clients.
bench-http: deps
	$(PY) -m bench.http_bench

# Azurite (.azurite/), the local Entra/Graph (.localcloud/), local.settings.json from the
# sample when missing, the demo tenants and members, then the host on :7071. Ctrl-C stops all.
dev: deps
	$(PY) -m devhost dev

# Git pre-commit hooks: the same static checks as `make test`, from .venv.
hooks: $(STAMP_PY)
	$(VENV)/bin/pre-commit install

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
