# The two set-up commands (see README): `make demo` and `make test`. Both create the
# environment from the lock file first; nothing needs installing by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) $(shell command -v initdb))
# The NHS.UK design system's built CSS, JavaScript and images, which pcnkit serves itself.
VENDOR := src/pcnkit/web/static/vendor/nhsuk
ASSETS := $(VENDOR)/.installed

.PHONY: demo test lint format lock system-deps assets clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## npm packages from package-lock.json: nhsuk-frontend (served by the web app) and axe-core
## (the accessibility tests). The lock file records no download addresses.
$(ASSETS): package.json package-lock.json scripts/vendor_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/vendor_assets.py
	touch $(ASSETS)

assets: $(ASSETS)

## Debian packages the tests need: the PostgreSQL 15 server for the store tests and Chromium
## for the browser tests.
system-deps:
	@if [ -z "$(PG_INITDB)" ]; then \
	  echo "installing postgresql-15"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

demo: $(STAMP) $(ASSETS)
	$(BIN)/pcnkit demo

test: $(STAMP) $(ASSETS) system-deps
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
	rm -rf $(VENV) pcnkit-demo .pytest_cache node_modules src/pcnkit/web/static/vendor
