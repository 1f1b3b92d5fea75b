# The two commands a newcomer needs: `make demo` and `make test`.
# Everything installs into .venv (Python 3.11) and runs inside this folder.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_DISABLE_TRACKING := true
export MELTANO_CLI_DISABLE_VERSION_CHECK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
# uv writes no bytecode by default: without it every start re-compiles the sources
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test lint install lock browser stop clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.8

# Exact versions from the hashed lock (locks/project.txt), then this repository's two packages
# without resolving again. `make lock` refreshes every lock (see pipeline/locks.py).
$(VENV)/.installed: $(BIN)/activate locks/project.txt pyproject.toml tap-didit/pyproject.toml
	VIRTUAL_ENV=$(abspath $(VENV)) $(UV) pip install --quiet --require-hashes -r locks/project.txt
	VIRTUAL_ENV=$(abspath $(VENV)) $(UV) pip install --quiet --no-deps -e . -e ./tap-didit
	touch $@

install: $(VENV)/.installed

lock: install
	$(BIN)/python -m pipeline.locks

demo: install
	$(BIN)/nis2-pipeline demo

# The report test drives a real headless Chromium: Debian's package (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "The report's browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint transform --processes 2
	$(BIN)/python -m tests.transform.macro_lint --processes 2

test: lint browser
	$(BIN)/python -m pytest

stop:
	-$(BIN)/nis2-pipeline stop

clean: stop
	rm -rf var .meltano
