# The two commands of the README. Each installs what is missing, then runs.
#   make test   the whole suite (lint, types, import contracts, pytest with Azurite)
#   make dev    the product locally (Azurite, local Entra/Graph, the app, demo data)
#   make lock   regenerate the hash-locked requirements*.txt from the short *.in files
#   make audit  check the locked packages against published advisories (not part of test)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP_PY   := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: test dev deps lint typecheck contracts pytest bench bench-http bench-overview bench-worker bench-capacity bench-index bench-latency bench-run-types chaos screenshots hooks lock audit clean

CHROMIUM   := /usr/bin/chromium

deps: $(STAMP_PY) $(STAMP_NODE) $(CHROMIUM)

# Browser tests drive Debian's Chromium through Playwright; never a browser download.
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || \
	  (apt-get update && apt-get install -y --no-install-recommends chromium)

# requirements*.txt are generated (`make lock`): every package pinned with its hashes, so
# an install gets exactly the files that were locked, or fails.
$(STAMP_PY): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	touch $@

# uv and pip-audit live in their own environment, locked like the others.
TOOLS       := .venv-tools
STAMP_TOOLS := $(TOOLS)/.installed
LOCK        := $(TOOLS)/bin/uv pip compile --quiet --generate-hashes --no-header \
               --annotation-style line --python-version 3.11 \
               --python-platform x86_64-manylinux_2_28

$(STAMP_TOOLS): requirements-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --disable-pip-version-check -q --require-hashes \
	  -r requirements-tools.txt
	touch $@

# Edit requirements*.in, then `make lock`. Existing pins are kept unless an input changed;
# the dev lock is constrained by the runtime lock so both install the same versions.
lock: $(STAMP_TOOLS)
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) -c requirements.txt requirements-dev.in -o requirements-dev.txt
	$(LOCK) requirements-tools.in -o requirements-tools.txt

# Known vulnerabilities in what we ship and what we test with (advisories from the registry).
# --strict: a package the advisory service cannot look up fails the audit, never passes it.
audit: $(STAMP_TOOLS)
	$(TOOLS)/bin/pip-audit --progress-spinner off --strict --require-hashes --disable-pip \
	  -r requirements.txt -r requirements-dev.txt

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

# The all-tenants overview (200 tenants) vs one tenant's newest-50 list, over HTTP.
bench-overview: deps
	$(PY) -m bench.overview_bench

# The README's pictures, from demo data in Chromium, into docs/screenshots/.
screenshots: deps
	README_SCREENSHOTS=1 $(PY) -m pytest tests/browser/test_readme_screenshots.py -q

# One queue delivery through the worker vs receive + claim CAS + terminal txn + delete.
bench-worker: deps
	$(PY) -m bench.worker_bench

# Entities examined per filtered list (index vs scan, Table Storage scan semantics) and
# the same calls timed on Azurite.
bench-index: deps
	$(PY) -m bench.index_bench

# started_at - created_at of 200 runs started over HTTP with idle queue workers.
bench-latency: deps
	$(PY) -m bench.latency_bench

# Runs per minute of the batched run types on the demo tenants, old write path vs new.
bench-run-types: deps
	$(PY) -m bench.run_types_bench

# The start rates at which platform limits bind (pure arithmetic; docs/capacity.md).
bench-capacity: deps
	$(PY) -m bench.capacity_model

# A bounded soak (stops itself within 10 minutes): two hosts killed and restarted, Azurite
# bounced, Graph storms; then the invariants from the tables, as one line. Not in `make test`.
chaos: deps
	$(PY) -m bench.chaos

# Azurite (.azurite/), the local Entra/Graph (.localcloud/), local.settings.json from the
# sample when missing, the demo tenants and members, then the host on :7071. Ctrl-C stops all.
dev: deps
	$(PY) -m devhost dev

# Git pre-commit hooks: the same static checks as `make test`, from .venv.
hooks: $(STAMP_PY)
	$(VENV)/bin/pre-commit install

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .pytest_cache .mypy_cache .ruff_cache
