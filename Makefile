# Two entry points matter: `make serve` (the site on http://127.0.0.1:8000)
# and `make test` (everything CI checks). Each creates the venv it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: serve test lint build bench bench-quick chromium clean help fuzz

help:
	@echo "make serve   - serve the site on http://127.0.0.1:8000"
	@echo "make test    - lint, type-check, run every test, doc example and the strict build"
	@echo "make build   - build the static site into site/"
	@echo "make lint    - ruff and mypy"
	@echo "make bench   - full benchmark (needs the bench extra: torch CPU build)"
	@echo "make fuzz    - long fuzz session of every public function (FUZZ_EXAMPLES=5000)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,docs,browser,bench]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

build: $(STAMP)
	timeout 600 $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conftest.py docs/notebooks
	$(BIN)/mypy

# Debian's chromium for the browser tests (playwright's own download is
# not reachable here); installed, never skipped.
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

test: $(STAMP) chromium lint
	$(BIN)/python -m pytest

# Fresh seeds each run; prints how many calls it tried per function.
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_PROFILE=random $(BIN)/python -m pytest \
	  tests/test_fuzz.py -q -p no:cacheprovider --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --out benchmarks/results

clean:
	rm -rf site .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts
