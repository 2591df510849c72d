# Two commands do all set-up on a fresh machine (see README.md):
#   make run    set up, package the example DNA and serve it with `hc run` on ws://localhost:8888
#   make test   set up everything the tests need and run the whole suite
#   make bench  measure the conductor against the reference server (README: Benchmarks)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_MODULES := tests/js/node_modules

.PHONY: run test lint setup clean chromium bench profile soak wasm wasm-toolchain

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

# Debian's Rust for the WebAssembly fixture zomes under wasm/ (rustc 1.63 with the wasm32 std,
# lld, and serde from Debian's crate registry: no crates.io).  Installed once, as chromium is.
WASM_DEBS := rustc cargo libstd-rust-dev-wasm32 lld librust-serde-dev librust-serde-derive-dev \
	librust-serde-json-dev librust-indexmap-dev
wasm-toolchain:
	@dpkg -s $(WASM_DEBS) >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(WASM_DEBS); }

# The WebAssembly fixture DNAs, packaged by our own `hc package` (each zome's .hcbuild runs cargo
# offline against Debian's registry): wasm/build/{app_spec,api_test,blog,old_hdks}.dna.json.
# Cargo builds into wasm/target; both directories are ignored by git.
WASM_PROJECTS := app_spec api_test blog old_hdks
WASM_CARGO := RUSTC=/usr/bin/rustc /usr/bin/cargo
wasm: $(BIN)/hc wasm-toolchain
	@mkdir -p wasm/build
	@# one cargo run for the whole workspace first, so the zomes compile in parallel
	cd wasm && $(WASM_CARGO) build --quiet --release --target=wasm32-unknown-unknown --workspace
	@for p in $(WASM_PROJECTS); do \
		(cd wasm/$$p && ../../$(BIN)/hc package --output ../build/$$p.dna.json) || exit 1; \
	done

setup: $(BIN)/hc $(NODE_MODULES) chromium wasm

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
	rm -rf $(VENV) $(NODE_MODULES) examples/*/dist wasm/target wasm/build
