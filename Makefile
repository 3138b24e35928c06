# One entry point. `make run` sets everything up and starts the app; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup test lint migrate static

run: setup
	$(BIN)/python manage.py ensure_admin
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C stops)"
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
# The deployment tier starts its own topology (PostgreSQL on 127.0.0.1, a private redis-server).
test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest --ignore=tests/browser --ignore=tests/deployment
	$(BIN)/pytest tests/deployment
	$(BIN)/pytest tests/browser

lint: $(VENV)/.installed
	$(BIN)/ruff check .
