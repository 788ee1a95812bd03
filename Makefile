# The same commands everywhere: make run, make test, make lint, make bench.
# Everything the project needs is installed by these targets on a fresh machine.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
PYTEST := $(VENV)/bin/pytest -p no:cacheprovider
WORKSPACE_FILES := pyproject.toml uv.lock $(wildcard packages/*/pyproject.toml services/*/pyproject.toml)

.PHONY: help setup run test test-unit test-integration test-e2e lint format bench contracts clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync only when the workspace's dependency files change.
$(VENV)/.synced: $(UV) $(WORKSPACE_FILES)
	$(UV) sync --all-packages --frozen --quiet
	@touch $@

setup: $(VENV)/.synced ## Install Python, the broker, the database and all packages into .venv

run: setup ## Run the whole platform on 127.0.0.1 with demo data (Ctrl-C stops it)
	@exec $(VENV)/bin/smm dev

test: setup ## Unit, integration and end-to-end tests against a real broker and database
	$(PYTEST) tests/unit tests/integration tests/e2e

test-unit: setup ## Unit tests only (no I/O)
	$(PYTEST) tests/unit

test-integration: setup ## Integration tests (real broker and database started by fixtures)
	$(PYTEST) tests/integration

test-e2e: setup ## End-to-end tests (the whole stack as processes)
	$(PYTEST) tests/e2e

lint: setup ## ruff, mypy --strict, import-linter contracts, event contract compatibility
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m smm_shared.contracts check contracts

format: setup ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup ## Benchmarks: print measured figures
	@for script in bench/bench_*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

contracts: setup ## Regenerate the published event schemas under contracts/
	$(VENV)/bin/python -m smm_shared.contracts write contracts

clean: ## Remove local data and logs (keeps .venv)
	rm -rf .data
