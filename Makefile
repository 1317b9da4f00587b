# The two set-up commands (see README): `make demo` and `make test`. Both create the
# environment from the lock file first; nothing needs installing by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb))

.PHONY: demo test lint format lock system-deps clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## Debian packages the tests need (PostgreSQL 15 server for the store tests).
system-deps:
	@if [ -z "$(PG_INITDB)" ]; then \
	  echo "installing postgresql-15"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; \
	fi

demo: $(STAMP)
	$(BIN)/pcnkit demo

test: $(STAMP) system-deps
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

## Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --no-emit-index-url --no-emit-find-links \
	  --strip-extras -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) pcnkit-demo .pytest_cache
