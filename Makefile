# Claimtrail: `make run` to try it, `make test` to test it. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Local development defaults; production sets its own environment (see README.md).
export DEBUG ?= true
# Tests use DATABASE_URL if set, else PostgreSQL if one answers on 127.0.0.1:5432 (as in CI),
# else SQLite, where the few PostgreSQL-only tests skip and say so.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),$(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null \
	&& echo postgres://postgres@127.0.0.1:5432/claimtrail))

.PHONY: install run test lint check clean axe

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[dev]"
	touch $@

# The app and a background worker beside it (captures, quote rechecks: jobs in the same
# SQLite file); Ctrl+C stops both. Captures may fetch pages on this machine here (a local
# test server); production refuses private addresses.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py demo_login
	LINK_CHECK_ALLOW_PRIVATE=$${LINK_CHECK_ALLOW_PRIVATE:-true} $(BIN)/python manage.py worker \
		--interval 1 & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	LINK_CHECK_ALLOW_PRIVATE=$${LINK_CHECK_ALLOW_PRIVATE:-true} \
		$(BIN)/python manage.py runserver 127.0.0.1:8000

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with a test database of its
# own; an idle worker takes tests from a busy one (worksteal: a few take minutes).
# TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto

test: install axe
	@echo "Testing on $(or $(TEST_DATABASE_URL),SQLite), workers: $(TEST_WORKERS)"
	DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/python -m pytest \
		--numprocesses $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# axe-core for the browser tests' accessibility audit, from the npm registry (package.json).
axe:
	@if [ -f node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility audit will be skipped"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_layers.py  # ties by name
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .mypy_cache .ruff_cache node_modules
