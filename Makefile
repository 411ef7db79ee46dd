# BorderWatch — everything a fresh machine with Python 3.11, git and make needs.
#   make run    the whole nightly refresh through Airflow on the bundled sample feeds
#   make test   the test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
BOOT := .uv-bootstrap
UV := $(BOOT)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
LIVE_PORT ?= 8080
LIVE_SIMULATOR_PORT ?= 8765

.PHONY: run test live bench lint fmt docs compose-config clean help

help:
	@echo "make run | test | live | bench | lint | fmt | docs | compose-config | clean"

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every process (each Airflow task, dbt, GX's worker) imports from .pyc files; without
# them, and with PYTHONDONTWRITEBYTECODE set (many CI images), GX's import took 9-10 s instead of 4 s.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

run: $(VENV)/.synced  ## the nightly refresh, in-process through Airflow, on the bundled simulator
	$(BIN)/borderwatch init
	$(BIN)/borderwatch run

# `exec`: the shell becomes borderwatch, so make's SIGTERM reaches it directly; on SIGHUP (which make does
# not pass on) borderwatch notices its parent is gone. Either way it stops every process it started.
live: $(VENV)/.synced  ## a live local Airflow (api-server on 127.0.0.1:$(LIVE_PORT)) plus the simulator
	$(BIN)/borderwatch init
	exec $(BIN)/borderwatch airflow-live --port $(LIVE_PORT) --simulator-port $(LIVE_SIMULATOR_PORT)

test: $(VENV)/.synced  ## the test suite (CI runs exactly this)
	@bash scripts/ci-tools.sh
	@set +e; $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating that as a failure"; exit 1; fi; exit $$rc

bench: $(VENV)/.synced  ## benchmarks (not part of the tests); writes benchmarks/results/
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(VENV)/.synced  ## ruff and mypy (Python), sqlfluff (dbt models, dbt templater); tests run them too
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd dbt_project && BORDERWATCH_BUILD_DB=$${TMPDIR:-/tmp}/borderwatch-sqlfluff.duckdb ../$(BIN)/sqlfluff lint models

fmt: $(VENV)/.synced
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(VENV)/.synced  ## dbt docs for the warehouse
	$(BIN)/borderwatch docs

compose-config:  ## validate docker-compose.yml (uses .env, or .env.example when there is none)
	docker-compose --env-file $$( [ -f .env ] && echo .env || echo .env.example ) -f docker-compose.yml config -q

clean:
	rm -rf var .airflow dbt_project/target dbt_project/logs
