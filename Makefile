# Elastos protocol reference: the two set-up commands are `make run` and `make test`.
# Both create .venv on first use (Python 3.11+ and make are all a fresh machine needs).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPORTS := reports

.PHONY: run test unit vectors vectors-check conform proofs docs bench bench-node bench-did bench-hive release clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## the main job: the conformance suite against the reference implementation
run: $(STAMP)
	$(BIN)/elastos conform

## everything that must hold
test: $(STAMP)
	@scripts/system-deps.sh
	@mkdir -p $(REPORTS)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider --junitxml=$(REPORTS)/pytest.xml tests
	$(BIN)/elastos vectors --check
	$(BIN)/elastos conform --quiet --json $(REPORTS)/conformance.json --junit $(REPORTS)/conformance.xml
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

## benchmarks: ratios measured in one run (conformance/bench.py, bench_chain.py, bench_runtime.py), the node import,
## the sidechain, then DID documents and ID-chain resolution (conformance/bench_did.py)
bench: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/elastos bench --json $(REPORTS)/bench.json
	$(BIN)/python -m conformance.bench_chain --json $(REPORTS)/bench_chain.json
	$(BIN)/python -m conformance.bench_runtime --json $(REPORTS)/bench_runtime.json
	$(BIN)/elastos bench node --json $(REPORTS)/bench_node.json
	$(BIN)/python -m conformance.bench_sidechain --json $(REPORTS)/bench_sidechain.json
	$(BIN)/elastos bench carrier --json $(REPORTS)/bench_carrier.json
	$(BIN)/python -m conformance.bench_did --json $(REPORTS)/bench_did.json

## the conformance release: dist/elastos-vectors-<version>.tar.gz (the same bytes on every build) and SHA256SUMS
release: $(STAMP)
	$(BIN)/elastos vectors --check
	$(BIN)/elastos release --out dist

## the DID benchmark alone (DID_SIZES=a,b to change the numbers of DIDs stored)
DID_SIZES ?= 10000,100000
bench-did: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python -m conformance.bench_did --sizes $(DID_SIZES) --json $(REPORTS)/bench_did.json

## the Hive vault: file throughput against a plain copy, sign-in round trip, incremental sync (conformance/bench_hive.py)
bench-hive: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/python -m conformance.bench_hive --no-fail --json $(REPORTS)/bench_hive.json

## the node import benchmark alone (conformance/bench_node.py; BLOCKS=N to change the chain length)
BLOCKS ?= 5000
bench-node: $(STAMP)
	@mkdir -p $(REPORTS)
	$(BIN)/elastos bench node --blocks $(BLOCKS) --json $(REPORTS)/bench_node.json

clean:
	rm -rf $(VENV) docs/_build docs/generated $(REPORTS) .hypothesis
