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

WEB := services/console/web
WEB_STAMP := $(WEB)/node_modules/.installed
WEB_SOURCES := $(shell find $(WEB)/src -path '*/api/gen' -prune -o -type f -print) \
	$(wildcard $(WEB)/openapi/*.json) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup web browser openapi run test test-unit test-integration test-e2e test-web lint format bench contracts clean

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

# The console's single-page app: npm packages from the lock file, API types generated from
# the services' OpenAPI documents, then a type-checked production build into web/dist.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ and npm are needed to build the console (apt-get install nodejs npm)"; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB) && npm run --silent gen && npm run --silent build

web: $(WEB)/dist/index.html ## Build the console's web app (services/console/web/dist)

browser: ## Install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

openapi: setup ## Refresh the services' OpenAPI documents the console's typed client is built from
	$(VENV)/bin/python scripts/openapi_specs.py write

run: setup web ## Run the whole platform on 127.0.0.1 with demo data (Ctrl-C stops it)
	@exec $(VENV)/bin/smm dev

test: setup web browser ## Unit, integration, end-to-end and browser tests against a real broker and database
	cd $(WEB) && npx vitest run
	$(PYTEST) tests/unit tests/integration tests/e2e

test-web: setup web ## The web app's own unit tests (Vitest)
	cd $(WEB) && npx vitest run

test-unit: setup ## Unit tests only (no I/O)
	$(PYTEST) tests/unit

test-integration: setup ## Integration tests (real broker and database started by fixtures)
	$(PYTEST) tests/integration

test-e2e: setup web browser ## End-to-end and browser tests (the whole stack as processes)
	$(PYTEST) tests/e2e

lint: setup web ## ruff, mypy --strict, import-linter contracts, event contracts, OpenAPI documents, the web app type-checked (make web)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m smm_shared.contracts check contracts
	$(VENV)/bin/python scripts/openapi_specs.py check

format: setup ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup web browser ## Benchmarks: print measured figures
	@for script in bench/bench_*.py; do echo "== $$script"; $(VENV)/bin/python $$script || exit 1; done

contracts: setup ## Regenerate the published event schemas under contracts/
	$(VENV)/bin/python -m smm_shared.contracts write contracts

clean: ## Remove local data and logs (keeps .venv)
	rm -rf .data $(WEB)/dist
