# One entry point. `make run` sets everything up and starts the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

URL := http://$(HOST):$(PORT)/

.PHONY: run setup test lint migrate static chromium

run: setup
	$(BIN)/python manage.py ensure_admin --url $(URL)
	@echo "Serving on $(URL) (Ctrl+C stops)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) project.asgi:application

setup: $(VENV)/.installed node_modules/.installed migrate static

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

static: $(VENV)/.installed node_modules/.installed
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# The browser tests run in their own pytest process: Playwright's sync API leaves an event loop
# installed in the main thread, which would stop the asyncio tests from starting theirs.
# The deployment tier starts its own topology (PostgreSQL on 127.0.0.1, a private redis-server); search
# runs once more on PostgreSQL (its full-text path differs from SQLite's FTS5).
test: setup chromium
	$(BIN)/ruff check .
	$(BIN)/pytest --ignore=tests/browser --ignore=tests/deployment
	$(BIN)/pytest tests/deployment
	DATABASE_URL=$${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres} $(BIN)/pytest tests/chat/test_search.py
	$(BIN)/pytest tests/browser

# The browser tests drive Debian's Chromium. Install it when missing and we may (root, as .ci/run does);
# otherwise say how, instead of failing deep inside the tests.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium: run 'sudo apt-get install chromium'." >&2; exit 1; \
	  fi; }

lint: $(VENV)/.installed
	$(BIN)/ruff check .
