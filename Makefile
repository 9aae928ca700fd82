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

.PHONY: run install test test-postgres lint format messages browser bench clean

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

# Browser tests drive Debian's Chromium; installed here when missing (needs root).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "Chromium is missing: run 'sudo apt-get install chromium', or skip the browser tests with 'make test PYTEST_ARGS=\"-m \\\"not browser\\\"\"'." >&2; exit 1; \
		fi; }

test: install browser
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install browser
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	DEBUG=true $(BIN)/python manage.py makemessages -l fr --no-location --no-obsolete -i ".venv/*" -i "staticfiles/*"
	DEBUG=true $(BIN)/python manage.py compilemessages -i ".venv"

# Timings of the stock reads and the services on a distributor-sized data set (rolled back).
bench: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=true $(BIN)/python manage.py benchmark $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles
