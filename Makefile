# toplivres: `make run` serves the portal on http://127.0.0.1:8000, `make test` runs the suite.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# First Python >= 3.11 found on PATH.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/toplivres
HOST ?= 127.0.0.1:8000

.PHONY: run install test test-postgres lint format messages check browser bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required, and none was found on PATH." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo --if-empty
	DEBUG=true $(BIN)/python manage.py runserver $(HOST)

# apt waits up to 10 minutes for another apt (unattended upgrades, a parallel install).
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600
# axe-core (npm) checks accessibility in the browser tests; read from node_modules there.
AXE := node_modules/axe-core/axe.min.js
AXE_VERSION := 4.14.1

# Browser tests drive Debian's Chromium; installed here when missing (needs root).
browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			$(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null; \
		else \
			echo "Chromium is missing: run 'sudo apt-get install chromium', or skip the browser tests with 'make test PYTEST_ARGS=\"-m \\\"not browser\\\"\"'." >&2; exit 1; \
		fi; }

$(AXE):
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			$(APT_GET) update -qq && $(APT_GET) install -y -qq npm >/dev/null; \
		else \
			echo "npm is missing (for axe-core): run 'sudo apt-get install npm', or skip the browser tests." >&2; exit 1; \
		fi; }
	npm install --no-save --no-audit --no-fund --silent axe-core@$(AXE_VERSION)

# The browser tests need Chromium and axe-core, unless PYTEST_ARGS leaves them out.
BROWSER_PREREQ := $(if $(findstring not browser,$(PYTEST_ARGS)),,browser)

test: install $(BROWSER_PREREQ)
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install $(BROWSER_PREREQ)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l fr --no-location --no-obsolete -i ".venv/*" -i "staticfiles/*" -i "node_modules/*"
	DEBUG=true $(BIN)/python manage.py compilemessages -i ".venv"

# What CI checks beside the tests: no model change without its migration, a message
# catalogue in step with the source (POT-Creation-Date aside), and static files that
# collect with production storage (hashed names, every referenced file present).
PROD_CHECK_ENV := DEBUG=false SECRET_KEY=ci-only-$$(printf 'x%.0s' $$(seq 1 60)) \
	ALLOWED_HOSTS=ci.invalid EMAIL_URL=smtp://localhost:25
check: install
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	@cp locale/fr/LC_MESSAGES/django.po var/django.po.committed
	@DEBUG=true $(BIN)/python manage.py makemessages -l fr --no-location --no-obsolete \
		-i ".venv/*" -i "staticfiles/*" -i "node_modules/*" -v0
	@if diff -q -I '^"POT-Creation-Date' var/django.po.committed locale/fr/LC_MESSAGES/django.po >/dev/null; then \
		cp var/django.po.committed locale/fr/LC_MESSAGES/django.po; \
	else \
		diff -I '^"POT-Creation-Date' var/django.po.committed locale/fr/LC_MESSAGES/django.po | head -40; \
		cp var/django.po.committed locale/fr/LC_MESSAGES/django.po; \
		echo "The French catalogue is stale: run 'make messages' and translate the new entries." >&2; \
		exit 1; \
	fi
	$(PROD_CHECK_ENV) $(BIN)/python manage.py collectstatic --noinput --clear -v0

# Every page timed on a small and a large ledger, built once under var/bench/ (SQLite) or
# beside the DATABASE_URL database (PostgreSQL); then the services and selectors on a
# rolled-back distributor-sized ledger.
bench: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=true $(BIN)/python manage.py bench_pages $(BENCH_ARGS)
	DEBUG=true $(BIN)/python manage.py benchmark

# Removes what the tools made; keeps the developer's database (var/toplivres.sqlite3).
clean:
	rm -rf $(VENV) node_modules staticfiles var/staticfiles var/imports var/test.sqlite3*
