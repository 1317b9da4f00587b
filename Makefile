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

.PHONY: demo test test-fast lint format lock system-deps pack-deps assets clean

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

## Debian libraries the committee packs need at run time: pango (WeasyPrint lays out the PDF
## with it) and cairo (the PNG copy of each chart in Word). Present on these machines; installed
## when missing.
pack-deps:
	@if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || ! ldconfig -p | grep -q 'libcairo.so.2'; then \
	  echo "installing pango and cairo"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libcairo2 fonts-liberation; \
	fi

## Debian packages the tests need: the PostgreSQL 15 server for the store tests, Chromium
## for the browser tests and poppler-utils (pdftoppm draws a pack's pages as PNG).
system-deps: pack-deps
	@if [ -z "$(PG_INITDB)" ]; then \
	  echo "installing postgresql-15"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@if ! command -v pdftoppm >/dev/null; then \
	  echo "installing poppler-utils"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; \
	fi

demo: $(STAMP) $(ASSETS) pack-deps
	$(BIN)/pcnkit demo

## Coverage of the library by the whole suite, measured in the pytest process only (Spark's
## Python workers and the processes some tests start are not traced). The floor is a couple of
## points below the figure measured when it was set (94.8% of 10,255 lines on 2 December 2026,
## at the start of issue 11; 95.7% of 11,387 at its end, when the floor went from 93 to 94);
## raise it as coverage grows, never lower it to let a change through.
COVERAGE := --cov=pcnkit --cov-report=term-missing:skip-covered --cov-fail-under=94

test: $(STAMP) $(ASSETS) system-deps
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/pytest $(COVERAGE)

## The edit loop: lint, then every test that needs neither PostgreSQL, Spark, Chromium nor the
## England files, stopping at the first failure. `make test` (and CI) still runs everything.
FAST := not postgres and not england and not spark and not browser

test-fast: $(STAMP) $(ASSETS)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/pytest -x -q -m "$(FAST)"

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

## Re-resolve the pinned versions after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --extra dev --no-emit-index-url --no-emit-find-links \
	  --strip-extras -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) pcnkit-demo .pytest_cache node_modules src/pcnkit/web/static/vendor
