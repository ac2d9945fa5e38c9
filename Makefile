# Tributary: `make dev` runs it locally, `make test` runs every suite. Both install what is
# missing first (scripts/setup), so they work on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(CURDIR)
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin

export PATH := $(ROOT)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export WASM_BINDGEN_BIN := $(CARGO_BIN)/wasm-bindgen
export WASM_OPT_BIN := $(ROOT)/node_modules/.bin/wasm-opt
export ESBUILD_BIN := $(ROOT)/node_modules/.bin/esbuild
export CHROMEDRIVER := /usr/bin/chromedriver
export WRANGLER_SEND_METRICS := false
export WRANGLER_SEND_ERROR_REPORTS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
export NO_UPDATE_NOTIFIER := 1
# The wasm test runner's wait for the browser to finish the whole suite (its default, 20 s, is
# too short for a busy machine); each test bounds its own waits far below this.
export WASM_BINDGEN_TEST_TIMEOUT := 300

# Runs a suite so that no process it starts outlives it (tests/src/bin/scope.rs): a browser a
# driver lost, a runtime whose parent died, are stopped when the suite ends, pass or fail.
SCOPE := cargo run --quiet -p tributary-e2e --bin scope --

.PHONY: setup build build-worker build-www build-npm build-sim dev test lint test-native test-wasm test-e2e bench soak soak-fuzz soak-e2e deploy clean

setup:
	@scripts/setup

## Builds: the worker (worker-build), the browser module for www/ and for npm, the simulator.
build: build-worker build-www build-sim

# Each build output is remade only when one of its inputs changed (a built tree serves `make dev`
# in seconds): the worker from worker/ and core/, the browser module from wasm-client/ and core/.
CORE_INPUTS := $(shell find core/src core/data -type f) core/Cargo.toml Cargo.toml Cargo.lock
WORKER_INPUTS := $(CORE_INPUTS) $(shell find worker/src -type f) worker/Cargo.toml
CLIENT_INPUTS := $(CORE_INPUTS) $(shell find wasm-client/src -type f) wasm-client/Cargo.toml

build-worker: worker/build/worker/shim.mjs
worker/build/worker/shim.mjs: $(WORKER_INPUTS)
	cd worker && worker-build --release
	touch $@

build-www: www/pkg/tributary_client_bg.wasm
www/pkg/tributary_client_bg.wasm: $(CLIENT_INPUTS)
	wasm-pack --quiet build wasm-client --release --target web --out-dir ../www/pkg --no-pack
	touch $@

# The npm package: wasm-pack's bundler output (the "." entry), then scripts/npm-package.mjs names it,
# derives the self-loading "./web" entry from it (web.js, web.d.ts) and lists the files it ships.
build-npm: wasm-client/pkg/package.json
wasm-client/pkg/package.json: $(CLIENT_INPUTS) scripts/npm-package.mjs
	wasm-pack --quiet build wasm-client --release --target bundler --out-dir pkg
	node scripts/npm-package.mjs wasm-client/pkg
	touch $@

build-sim:
	cargo build --quiet -p tributary-sim

## Runs the simulator and wrangler dev on 127.0.0.1 (PORT=8787, SIM_PORT=8790 by default).
dev: setup build
	@scripts/dev

## Every suite: format, lints, native tests, wasm tests (Chromium and Node), end to end.
test: setup lint test-native test-wasm test-e2e
	@echo "make test: all suites passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --quiet --workspace --all-targets -- -D warnings

test-native:
	$(SCOPE) cargo test -p tributary-core -p tributary-sim
	$(SCOPE) cargo test -p tributary-e2e --lib

test-wasm:
	cd wasm-client && $(SCOPE) wasm-pack test --headless --chrome -- --test browser
	cd wasm-client && $(SCOPE) wasm-pack test --node -- --test node

# build-npm: tests/browser/package.test.mjs bundles the npm package (wasm-client/pkg) with esbuild,
# package-vite.test.mjs and package-webpack.test.mjs build apps with Vite and webpack 5.
test-e2e: build-worker build-www build-npm
	$(SCOPE) cargo test -p tributary-e2e --test e2e

## Benchmarks: five figures, each a ratio against a baseline from the same run, written to
## bench/results.md and bench/results.json (bench/README.md says how to read them).
bench: setup build
	cd bench/floor-worker && worker-build --release
	cargo run --quiet -p tributary-bench

## Longer reliability runs (not part of `make test`): every fuzz target and the e2e soak.
soak: soak-fuzz soak-e2e
	@echo "make soak: all soak runs passed"

# Each cargo-fuzz target for FUZZ_SECONDS (default 60), seeded from fuzz/corpus/<target>; new
# inputs go to target/fuzz-corpus/<target>, crashes to fuzz/artifacts/<target>/ (and fail the run).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := snaptrade_webhook plaid_webhook snaptrade_normalize plaid_normalize ibkr_statement
soak-fuzz:
	@scripts/setup-soak
	for target in $(FUZZ_TARGETS); do \
	  mkdir -p target/fuzz-corpus/$$target; \
	  cargo +nightly fuzz run --fuzz-dir fuzz -O -s none $$target target/fuzz-corpus/$$target fuzz/corpus/$$target \
	    -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1; \
	done

# The reliability suites (tests/e2e/reliability) with every count × 10: 100,000 forged webhooks,
# 10,000 chaos refresh cycles. TRIBUTARY_SEED=<n> replays a run's random choices.
soak-e2e: setup build-worker build-www
	TRIBUTARY_SOAK=1 $(SCOPE) cargo test -p tributary-e2e --test e2e -- reliability::

deploy: setup build-worker build-www
	wrangler deploy

clean:
	rm -rf target worker/build www/pkg wasm-client/pkg test-artifacts
