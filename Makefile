# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export CARDWATCH_HOME ?= $(CURDIR)/.cardwatch

.PHONY: setup demo test lint format lock clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

# Bytecode is compiled at install: every `cardwatch` process imports dbt, Dagster and Great Expectations.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' -o -name '*.py' \) -print)

# Dagster reads the dbt manifest; it is prepared here, never parsed at import.
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES) profiles.yml
	cd dbt_project && CARDWATCH_WAREHOUSE=$$(mktemp -d)/parse.duckdb ../$(BIN)/dbt parse --profiles-dir .. --quiet

setup: $(VENV)/.installed $(MANIFEST)  ## create .venv with the exact pinned versions, prepare the dbt manifest

demo: setup  ## simulate Company A, run the whole pipeline, open the dashboard
	$(BIN)/cardwatch demo

test: setup  ## the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: setup  ## ruff and SQLFluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && CARDWATCH_WAREHOUSE=$$(mktemp -d)/lint.duckdb ../$(BIN)/sqlfluff lint models tests

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: $(BIN)/uv  ## re-resolve requirements.in into requirements.lock
	$(BIN)/uv pip compile requirements.in --python-version 3.11 --quiet --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .cardwatch dbt_project/target dbt_project/logs
