# The two commands of the README: `make run` and `make test`. `make bench` runs the benchmarks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export LEDGER_DATABASE_URL ?= sqlite:///./var/ledger.db

.PHONY: run test bench install postgres-package schema clean

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/ledger

## Serve http://127.0.0.1:8000 on the embedded SQLite store, with the demo data loaded once.
run: install
	$(BIN)/ledger demo --if-empty
	@$(BIN)/ledger key generate --if-missing >/dev/null
	@echo "Commitment Ledger: http://$(HOST):$(PORT)/  (store: $(LEDGER_DATABASE_URL))"
	$(BIN)/ledger serve --host $(HOST) --port $(PORT)

## The whole suite, against SQLite and a throwaway PostgreSQL server that the tests start.
test: install postgres-package
	$(BIN)/pytest

## Benchmarks: ratios measured side by side in one run (BENCH_EVENTS events, default 1,000,000).
BENCH_EVENTS ?= 1000000
bench: install
	$(BIN)/python -m benchmarks --events $(BENCH_EVENTS)

## Debian's PostgreSQL server, installed if missing (the tests run initdb into a temporary folder).
postgres-package:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

## Regenerate docs/commands.schema.json from the command models.
schema: install
	$(BIN)/python -c "import json; from api.schemas import command_schema; print(json.dumps(command_schema(), indent=2))" > docs/commands.schema.json

clean:
	rm -rf $(VENV) var .pytest_cache
