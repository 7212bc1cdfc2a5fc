# The two commands a newcomer needs are `make run` and `make test`; see README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cxplatform
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test lint format bench faults messages clean

# The project is installed for its dependencies only (it runs from the checkout and ships no
# packages), so not in editable mode, whose build warns about the same-named cxplatform/ folder.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v -i warning || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check ".[dev]" 2>&1 | grep -v -i warning || true
	@$(BIN)/python -c "import django, rest_framework, celery, pytest" || (echo "install failed" && exit 1)
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@bash scripts/run.sh

test: $(STAMP)
	@DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		bash scripts/test.sh $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	@DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" SECRET_KEY=lint \
		$(BIN)/python manage.py makemigrations --check --dry-run > /dev/null

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	@DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(BIN)/python -m bench $(ARGS)

# Faults injected into the real stack under load (a private PostgreSQL cluster, Redis db 12):
# what was accepted, stored and counted, and how long recovery took. See docs/operations.md.
faults: $(STAMP)
	@REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" $(BIN)/python -m bench.faults $(ARGS)

messages: $(STAMP)
	cd $(CURDIR) && CXP_EMBEDDED=true $(BIN)/python manage.py makemessages -l fi -l sv --ignore=.venv --ignore=var --no-obsolete
	cd $(CURDIR) && CXP_EMBEDDED=true $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var/*.sqlite3
