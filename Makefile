# The two commands of the README: `make run` and `make test`. `make bench` runs the benchmarks.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= $(or $(LEDGER_HOST),127.0.0.1)
PORT ?= $(or $(LEDGER_PORT),8000)
export LEDGER_DATABASE_URL ?= sqlite:///./var/ledger.db

.PHONY: run test soak audit bench bench-quick install debian-packages schema clean screenshots

$(BIN)/ledger: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/ledger

## Serve HOST:PORT (from LEDGER_HOST and LEDGER_PORT, else 127.0.0.1:8000; or `make run PORT=9000`)
## on the embedded SQLite store, with the demo data loaded once.
run: install
	$(BIN)/ledger demo --if-empty
	@echo "Verifier key of the checkpoints (also served at http://$(HOST):$(PORT)/v1/audit/keys):"
	@$(BIN)/ledger key generate --if-missing
	@echo "Commitment Ledger: http://$(HOST):$(PORT)/  (store: $(LEDGER_DATABASE_URL))"
	$(BIN)/ledger serve --host $(HOST) --port $(PORT)

## The Nu Html Checker that the browser tests run on every page: a pinned jar from npm, in the venv.
VNU_JAR := $(VENV)/npm/node_modules/vnu-jar/build/dist/vnu.jar
$(VNU_JAR): | debian-packages
	npm install --prefix $(VENV)/npm --no-save --no-audit --no-fund --silent vnu-jar@26.9.27

## The whole suite, against SQLite and a throwaway PostgreSQL server that the tests start, after
## the dependency audit: in TEST_WORKERS processes (pytest-xdist), each taking whole test files.
TEST_WORKERS ?= 2
test: install debian-packages $(VNU_JAR) audit
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

## The longer fault runs that `make test` leaves out (pytest marker `soak`): more kills of
## `ledger serve` and of projectors, a 60 s PostgreSQL outage, 64 concurrent writers.
soak: install debian-packages
	$(BIN)/pytest -m soak

## Known vulnerabilities of the installed packages: pip-audit asks PyPI per release; where the index
## serves only per-project JSON (pip-audit then skips every package), tests/dependency_audit.py
## audits each package installed at its latest release. Either fails on a known vulnerability.
## An advisory that has no fix yet is accepted here only with its id and why:
## AUDIT_IGNORE = --ignore-vuln GHSA-xxxx-xxxx-xxxx  # package: why it does not affect the ledger
AUDIT_IGNORE =
audit: install
	$(BIN)/pip-audit --skip-editable --progress-spinner off $(AUDIT_IGNORE)
	$(BIN)/python -m tests.dependency_audit $(AUDIT_IGNORE)

## Refresh the README's screenshots in docs/screenshots/ from a fresh demo store served locally.
screenshots: install debian-packages
	$(BIN)/python -m tests.browser.screenshots docs/screenshots

## Benchmarks: ratios measured side by side in one run (BENCH_EVENTS events, default 1,000,000).
## One table of every figure beside its target, written to benchmarks/results/<date>-<store>.json;
## BENCH_DATABASE_URL picks the store (a PostgreSQL URL measures PostgreSQL).
BENCH_EVENTS ?= 1000000
BENCH_DATABASE_URL ?= sqlite:///var/bench/rebuild.db
bench: install debian-packages
	$(BIN)/python -m benchmarks --events $(BENCH_EVENTS) --database-url $(BENCH_DATABASE_URL)

## The same at 100,000 events as a smoke run: fewer requests, figures without targets, no file.
bench-quick: install debian-packages
	$(BIN)/python -m benchmarks --events 100000 --quick --database-url sqlite:///var/bench/quick.db

## Debian's PostgreSQL server and nginx, installed if missing (the tests start throwaway ones on
## loopback: initdb into a temporary folder, nginx with the documented cache configuration), what
## the browser tests drive: chromium, poppler-utils to read the PDFs it prints, Java for the Nu
## Html Checker, npm to fetch its jar; and Go with golang.org/x/mod, whose sumdb/tlog checks the
## ledger's tiles (built offline).
debian-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v go >/dev/null 2>&1 || missing="$$missing golang-go"; \
	test -d /usr/share/gocode/src/golang.org/x/mod/sumdb || missing="$$missing golang-golang-x-mod-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

## Regenerate docs/commands.schema.json from the command models.
schema: install
	$(BIN)/python -c "import json; from api.schemas import command_schema; print(json.dumps(command_schema(), indent=2))" > docs/commands.schema.json

clean:
	rm -rf $(VENV) var .pytest_cache
