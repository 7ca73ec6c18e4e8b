# Elastos protocol reference: the two set-up commands are `make run` and `make test`.
# Both create .venv on first use (Python 3.11+ and make are all a fresh machine needs).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPORTS := reports

.PHONY: run test unit vectors vectors-check conform proofs docs bench bench-node bench-did bench-hive release clean core core-conform fuzz core-coverage core-bound core-valgrind core-sanitize fuzz-campaign

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

CORE_ADAPTER := core/build/elastos-core-adapter
FUZZ_SECONDS ?= 60

## libFuzzer + ASan + UBSan on every C decoder, FUZZ_SECONDS each (installs clang with apt-get when root)
fuzz: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python core/fuzz.py --seconds $(FUZZ_SECONDS) --json $(REPORTS)/fuzz.json

## how close the AVX-512 merkle code runs to this CPU's vector throughput (core/bound.py; a quiet machine)
core-bound: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python core/bound.py --json $(REPORTS)/core-bound.json

## line and branch coverage of the C core under the full vector set (gcov), and valgrind on the adapter
core-coverage: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python core/coverage.py --json $(REPORTS)/core-coverage.json

core-valgrind: core
	$(BIN)/python core/coverage.py --valgrind

## the adapter built with ASan + UBSan over every case of the suites it announces
core-sanitize: $(STAMP)
	$(BIN)/python core/coverage.py --sanitize

## differential fuzzing over a shared Redis example database: REDIS=redis://host:port/0 for one worker of a
## campaign across machines, or (without REDIS) a local demonstration with a Redis server and two workers
EXAMPLES ?= 500
fuzz-campaign: core
	@if [ -n "$(REDIS)" ]; then $(BIN)/python core/campaign.py --redis $(REDIS) --examples $(EXAMPLES); \
	else $(BIN)/python core/campaign.py --demo --examples $(EXAMPLES); fi

## the C core (core/build.py: prints why and skips when there is no compiler or OpenSSL headers)
core: $(STAMP)
	$(BIN)/python core/build.py

## the conformance suite against the C core, for the suites its adapter announces
core-conform: core
	@if [ -x $(CORE_ADAPTER) ]; then \
	  $(BIN)/elastos conform --impl $(CORE_ADAPTER) $$($(BIN)/python core/build.py --suite-args) $(CORE_CONFORM_ARGS); \
	else echo "core-conform: the C core is not built (see the message above); skipped"; fi

## the main job: the conformance suite against the reference implementation, then the C core
run: $(STAMP) core
	$(BIN)/elastos conform
	@$(MAKE) --no-print-directory core-conform

## everything that must hold
test: $(STAMP) core
	@scripts/system-deps.sh
	@mkdir -p $(REPORTS)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider --junitxml=$(REPORTS)/pytest.xml tests
	$(BIN)/elastos vectors --check
	$(BIN)/elastos conform --quiet --json $(REPORTS)/conformance.json --junit $(REPORTS)/conformance.xml
	@$(MAKE) --no-print-directory core-conform CORE_CONFORM_ARGS="--quiet --json $(REPORTS)/conformance-core.json --junit $(REPORTS)/conformance-core.xml"
	$(BIN)/python core/fuzz.py --seconds 3 --skip-without-clang --json $(REPORTS)/fuzz-smoke.json
	$(BIN)/elastos prove --json $(REPORTS)/proofs.json --junit $(REPORTS)/proofs.xml
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	$(BIN)/python scripts/site_check.py docs/_build/html --screenshot $(REPORTS)/site-front.png --json $(REPORTS)/site.json
	@echo "make test: all checks passed"

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider tests

## regenerate vectors/ (run twice: no diff)
vectors: $(STAMP)
	$(BIN)/elastos vectors

vectors-check: $(STAMP)
	$(BIN)/elastos vectors --check

conform: run

## the Z3 proofs
proofs: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/elastos prove --json $(REPORTS)/proofs.json

## the published spec (warnings are errors)
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

## benchmarks: ratios measured in one run (the spine, chain, runtime, node import, sidechain, Carrier, the C core
## against the spec, DID documents and ID-chain resolution), each in its own process; every one runs even when an
## earlier one misses its target, then a summary table (reports/bench-summary.json) and a non-zero exit if any missed
bench: $(STAMP) core
	$(BIN)/python scripts/bench_all.py --reports $(REPORTS)

## the conformance release: dist/elastos-vectors-<version>.tar.gz (the same bytes on every build) and SHA256SUMS
release: $(STAMP)
	$(BIN)/elastos vectors --check
	$(BIN)/elastos release --out dist

## the DID benchmark alone (DID_SIZES=a,b to change the numbers of DIDs stored)
DID_SIZES ?= 10000,100000
bench-did: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python -m conformance.bench_did --sizes $(DID_SIZES) --json $(REPORTS)/bench_did.json

## the Hive vault: file throughput against a plain copy (and the bare HTTP stack), sign-in round trip, incremental
## sync (conformance/bench_hive.py); fails when a throughput target is missed (HIVE_BENCH_FLAGS=--no-fail to report only)
HIVE_BENCH_FLAGS ?=
bench-hive: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python -m conformance.bench_hive $(HIVE_BENCH_FLAGS) --json $(REPORTS)/bench_hive.json

## the node import benchmark alone (conformance/bench_node.py; BLOCKS=N to change the chain length)
BLOCKS ?= 5000
bench-node: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/elastos bench node --blocks $(BLOCKS) --json $(REPORTS)/bench_node.json

clean:
	rm -rf core/build core/build-sanitize core/build-coverage core/build-fuzz $(VENV) docs/_build docs/generated $(REPORTS) .hypothesis
