# Peerview: `make run` serves, `make test` checks everything. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# The PostgreSQL pass's Redis database; the SQLite pass uses database 15 (tests/conftest.py).
REDIS_TEST_URL ?= redis://127.0.0.1:6379/13
# Each pass's lines carry its name when both run at once (pipefail keeps pytest's status).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# The standard socket.io-client that tests/realtime/test_js_client.py drives.
JS_CLIENT := tests/realtime/js
# The code pad's editor bundle: sources and lockfile in web/, the built file committed at
# src/peerview/web/static/assets/vendor/codepad.js (`make run` needs no Node).
WEB := web

.PHONY: run test lint typecheck test-sqlite test-postgresql migrate clean js-client web-deps web-build
.PHONY: bench bench-quick bench-cpu
.PHONY: soak soak-fuzz soak-races soak-timing soak-crash soak-faults soak-deploy soak-load

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/activate pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-soak: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e '.[dev,soak]'
	@touch $@

# Without npm the JavaScript client test is skipped; REQUIRE_NODE=1 (set by .ci/run) makes
# that a failure.
$(JS_CLIENT)/node_modules/.installed: $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	elif [ "$(REQUIRE_NODE)" = "1" ]; then \
		echo "npm is required to install $(JS_CLIENT)"; exit 1; \
	else \
		echo "npm not found: the JavaScript client test will be skipped"; \
	fi

js-client: $(JS_CLIENT)/node_modules/.installed

# tests/platform/test_codepad_bundle.py rebuilds the bundle with web/'s pinned packages and
# compares it with the committed one; without npm it is skipped (a failure with REQUIRE_NODE=1).
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	elif [ "$(REQUIRE_NODE)" = "1" ]; then \
		echo "npm is required to install $(WEB)"; exit 1; \
	else \
		echo "npm not found: the code pad bundle's freshness test will be skipped"; \
	fi

web-deps: $(WEB)/node_modules/.installed

# Rebuild the code pad's bundle after a change in web/ (commit the result).
web-build:
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed && npm run --silent build

run: $(VENV)/.installed
	$(BIN)/peerview serve

migrate: $(VENV)/.installed
	$(BIN)/peerview migrate

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test-sqlite: $(VENV)/.installed-dev js-client web-deps
	@mkdir -p .test-results
	$(BIN)/python -m pytest -q -p no:cacheprovider --junitxml=.test-results/sqlite.xml \
		| sed -u 's/^/[sqlite] /'

# Runs when PostgreSQL answers; REQUIRE_POSTGRES=1 (set by .ci/run) makes its absence a failure.
test-postgresql: $(VENV)/.installed-dev js-client web-deps
	@mkdir -p .test-results
	@if $(BIN)/python -m tests.support.probe "$(PG_TEST_URL)"; then \
		PEERVIEW_TEST_DATABASE_URL="$(PG_TEST_URL)" PEERVIEW_TEST_REDIS_URL="$(REDIS_TEST_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider --junitxml=.test-results/postgresql.xml \
		| sed -u 's/^/[postgresql] /'; \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is required but does not answer"; exit 1; \
	else \
		echo "PostgreSQL at $(PG_TEST_URL) does not answer: its run is skipped"; \
	fi

# The two passes are independent (their own databases and Redis databases) and run at once,
# beside lint and the type check: on two cores that halves the wall time.
test: $(VENV)/.installed-dev js-client web-deps
	@echo "lint, type check, and the suite on SQLite and on PostgreSQL, at once"
	@$(MAKE) --no-print-directory -j3 lint typecheck test-sqlite test-postgresql

# Peerview against an Express implementation of the same endpoints, plus the scale
# benchmarks; method and figures in docs/performance.md. They print figures, they test nothing.
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

bench-quick: $(VENV)/.installed
	$(BIN)/python bench/run.py --quick

# CPU milliseconds per request in process, insensitive to other load (after bench-quick).
bench-cpu: $(VENV)/.installed
	$(BIN)/python bench/cpu.py

# The long reliability runs (docs/reliability.md): what is too slow for `make test`. Each
# prints its figures and fails on a broken bound; PostgreSQL at PG_TEST_URL is required.
SOAK_PG = @$(BIN)/python -m tests.support.probe "$(PG_TEST_URL)" || \
	{ echo "PostgreSQL at $(PG_TEST_URL) is required but does not answer"; exit 1; }

soak: soak-fuzz soak-races soak-timing soak-crash soak-faults soak-deploy soak-load

# Contract fuzzing with 1,000 examples per operation, on both databases.
soak-fuzz: $(VENV)/.installed-dev
	$(SOAK_PG)
	PEERVIEW_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/contract
	PEERVIEW_FUZZ_EXAMPLES=1000 PEERVIEW_TEST_DATABASE_URL="$(PG_TEST_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/contract

# Every race 20 times, on both databases.
soak-races: $(VENV)/.installed-dev
	$(SOAK_PG)
	PEERVIEW_RACE_REPEATS=20 $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/reliability/test_races.py
	PEERVIEW_RACE_REPEATS=20 PEERVIEW_TEST_DATABASE_URL="$(PG_TEST_URL)" \
		PEERVIEW_TEST_REDIS_URL="$(REDIS_TEST_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider -s tests/reliability/test_races.py

# Login timing (unknown e-mail vs wrong password) at production argon2 cost, on both databases.
soak-timing: $(VENV)/.installed-dev
	$(SOAK_PG)
	PEERVIEW_TIMING_ARGON2=production $(BIN)/python -m pytest -q -p no:cacheprovider -s \
		tests/reliability/test_login_timing.py
	PEERVIEW_TIMING_ARGON2=production PEERVIEW_TEST_DATABASE_URL="$(PG_TEST_URL)" \
		PEERVIEW_TEST_REDIS_URL="$(REDIS_TEST_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider -s tests/reliability/test_login_timing.py

# 20 SIGKILLs under the write flow, on both databases (the PostgreSQL one is emptied).
soak-crash: $(VENV)/.installed-dev
	$(SOAK_PG)
	$(BIN)/python soak/crash.py --kills 20 --database sqlite
	$(BIN)/python soak/crash.py --kills 20 --database postgresql --database-url "$(PG_TEST_URL)"

# PostgreSQL restarted under load, Redis stopped (private instances of both).
soak-faults: $(VENV)/.installed-dev
	$(BIN)/python soak/faults.py

# nginx in front of two instances (deploy/nginx/peerview.conf): 5 rolling restarts in a row
# under a write load, on both databases.
soak-deploy: $(VENV)/.installed-dev js-client
	$(SOAK_PG)
	PEERVIEW_ROLLS=5 $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/deploy/test_nginx.py
	PEERVIEW_ROLLS=5 PEERVIEW_TEST_DATABASE_URL="$(PG_TEST_URL)" \
		PEERVIEW_TEST_REDIS_URL="$(REDIS_TEST_URL)" \
		$(BIN)/python -m pytest -q -p no:cacheprovider -s tests/deploy/test_nginx.py

# 200 locust users for 10 minutes on PostgreSQL with 2 server processes.
soak-load: $(VENV)/.installed-soak
	$(SOAK_PG)
	$(BIN)/python soak/load.py

clean:
	rm -rf $(VENV) .test-results .mypy_cache .ruff_cache .pytest_cache $(JS_CLIENT)/node_modules $(WEB)/node_modules
