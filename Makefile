# Two commands do all set-up on a fresh machine (see README.md):
#   make run    set up, package the example DNA and serve it with `hc run` on ws://localhost:8888
#   make test   set up everything the tests need and run the whole suite
#   make bench  measure the conductor against the reference server (README: Benchmarks)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_MODULES := tests/js/node_modules

.PHONY: run test lint setup clean chromium bench profile soak

$(BIN)/hc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

$(NODE_MODULES): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium, for the headless browser test of UI hosting (tests/test_ui_hosting.py).
# Installed once; later runs find it and do nothing.  CI runs as root; elsewhere sudo is used.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

setup: $(BIN)/hc $(NODE_MODULES) chromium

run: $(BIN)/hc
	cd examples/blog && ../../$(BIN)/hc run --package

# The linters first, then the suite; all configured in pyproject.toml: ruff (lint and format),
# mypy (strict on core/), import-linter (imports point down only: the layers of docs/architecture.md).
lint: $(BIN)/hc
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: setup lint
	$(BIN)/python -m pytest

# BENCH_ARGS=--quick for a run under a minute; raw figures land in bench/results/
bench: setup
	$(BIN)/python -m bench --out bench/results/latest.json $(BENCH_ARGS)

$(BIN)/py-spy: pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

# where the time of a call goes: py-spy on `hc run` under load (PROFILE_ARGS, e.g. --workloads create_post)
profile: setup $(BIN)/py-spy
	$(BIN)/python -m bench.profile --out bench/results/profile $(PROFILE_ARGS)

# The reliability tests, run long: many more fuzz cases, SIGKILLs and seconds of load.
soak: setup
	HC_FUZZ_EXAMPLES=20000 HC_CRASH_KILLS=100 HC_LOAD_SECONDS=60 $(BIN)/python -m pytest -s \
		tests/test_fuzz_jsonrpc.py tests/test_fuzz_servers.py tests/test_crash_safety.py tests/test_load_connections.py

clean:
	rm -rf $(VENV) $(NODE_MODULES) examples/*/dist
