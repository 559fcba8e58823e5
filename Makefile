# Tandem's two contracts: `make run` and `make test`. Everything they need is set up here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The environment is rebuilt only when the lock or the project's metadata change.
VENV_STAMP := $(VENV)/.tandem-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
PIP := $(BIN)/pip --disable-pip-version-check --quiet

.PHONY: help setup run run-production test migrate lint lock clean

help:
	@echo "make run      set up everything, then run hub + portal + scheduler (Ctrl-C stops)"
	@echo "make run-production  the same on PostgreSQL, Redis, two hubs behind HAProxy"
	@echo "make test     set up everything, then run the whole test suite on a throwaway hub"
	@echo "make migrate  apply the hub's schema migrations to the local hub"
	@echo "make lint     ruff"
	@echo "make lock     re-pin the Python dependencies into requirements.lock"

$(VENV_STAMP):
	@echo "setting up the Python environment in $(VENV)…"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

# $(call debian,PACKAGES,WHO NEEDS THEM): Debian's packages, installed where we are root
# (apt-get update only when the package lists are stale); elsewhere, say what to install.
define debian
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's $(1) for $(2)…"; \
	  apt-get install -y --no-install-recommends $(1) >/dev/null \
	    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $(1) >/dev/null; }; \
	else \
	  echo "$(2): sudo apt-get install $(1)"; exit 1; \
	fi
endef

# The review pack's PDF (WeasyPrint) lays text out with Debian's Pango.
PANGO := /usr/lib/$(shell uname -m)-linux-gnu/libpangoft2-1.0.so.0
$(PANGO):
	$(call debian,libpango-1.0-0 libpangoft2-1.0-0,the review pack's PDF)

setup: $(VENV_STAMP) $(PANGO)
	$(BIN)/tandem setup

run: setup
	$(BIN)/tandem run

migrate: setup
	$(BIN)/tandem migrate

# The browser journeys drive Debian's chromium (Playwright cannot download a browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	$(call debian,chromium,the browser tests)

# Date-dependent tests pin the day for the hub too: its Node runs under Debian's libfaketime
# (see tests/pinning.py).
LIBFAKETIME := /usr/lib/$(shell uname -m)-linux-gnu/faketime/libfaketimeMT.so.1
$(LIBFAKETIME):
	$(call debian,faketime,the tests that pin the day)

# The PostgreSQL tests start a throwaway server from Debian's binaries (tests/pg.py). They
# skip, saying why, where there are none, but under CI=true such a skip fails the run
# (tests/ci_skips.py). The production topology's tests also start Redis and HAProxy.
POSTGRES_INITDB := $(or $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb)),$(shell command -v initdb),/usr/lib/postgresql/bin/initdb)
$(POSTGRES_INITDB):
	$(call debian,postgresql,the PostgreSQL tests and the production topology)
REDIS_SERVER := /usr/bin/redis-server
$(REDIS_SERVER):
	$(call debian,redis-server,the production topology)
HAPROXY := /usr/sbin/haproxy
$(HAPROXY):
	$(call debian,haproxy,the production topology)

# The production topology (docker-compose.yml's, on this machine): Debian's PostgreSQL,
# Redis and HAProxy, two hub instances, the portal, one scheduler (tandem/production.py).
run-production: setup $(POSTGRES_INITDB) $(REDIS_SERVER) $(HAPROXY)
	$(BIN)/tandem run --production

# Two workers (pytest-xdist), each test module whole on one of them (its hub and world are
# module- or session-scoped): a test mostly waits on its hub, so two keep two cores busy.
# PYTEST_WORKERS=0 runs in one process; PYTEST_ARGS adds pytest options. TEST_DB=postgres puts
# every hub the tests start on a throwaway PostgreSQL cluster instead (tests/databases.py).
PYTEST_WORKERS ?= 2
TEST_DB ?= sqlite
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
test: setup $(CHROMIUM) $(LIBFAKETIME) $(POSTGRES_INITDB) $(REDIS_SERVER) $(HAPROXY)
	@TANDEM_TEST_DB=$(TEST_DB) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

lint: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lock: $(VENV_STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --no-header --output-file requirements.lock
	@echo "requirements.lock updated; commit it"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
