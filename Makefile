# The two commands of the README: `make run` and `make test`. `make bench` runs the benchmarks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= $(or $(LEDGER_HOST),127.0.0.1)
PORT ?= $(or $(LEDGER_PORT),8000)
export LEDGER_DATABASE_URL ?= sqlite:///./var/ledger.db

.PHONY: run test bench install debian-packages schema clean

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/ledger

## Serve HOST:PORT (from LEDGER_HOST and LEDGER_PORT, else 127.0.0.1:8000; or `make run PORT=9000`)
## on the embedded SQLite store, with the demo data loaded once.
run: install
	$(BIN)/ledger demo --if-empty
	@$(BIN)/ledger key generate --if-missing >/dev/null
	@echo "Commitment Ledger: http://$(HOST):$(PORT)/  (store: $(LEDGER_DATABASE_URL))"
	$(BIN)/ledger serve --host $(HOST) --port $(PORT)

## The whole suite, against SQLite and a throwaway PostgreSQL server that the tests start.
test: install debian-packages
	$(BIN)/pytest

## Benchmarks: ratios measured side by side in one run (BENCH_EVENTS events, default 1,000,000).
BENCH_EVENTS ?= 1000000
bench: install debian-packages
	$(BIN)/python -m benchmarks --events $(BENCH_EVENTS)

## Debian's PostgreSQL server and nginx, installed if missing (the tests start throwaway ones on
## loopback: initdb into a temporary folder, nginx with the documented cache configuration).
debian-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## Regenerate docs/commands.schema.json from the command models.
schema: install
	$(BIN)/python -c "import json; from api.schemas import command_schema; print(json.dumps(command_schema(), indent=2))" > docs/commands.schema.json

clean:
	rm -rf $(VENV) var .pytest_cache
