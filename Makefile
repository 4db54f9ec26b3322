# Two entry points matter: `make serve` (the site on http://127.0.0.1:8000)
# and `make test` (everything CI checks). Each creates the venv it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export PYTHONHASHSEED := 0

.PHONY: serve test test-pythons lint build bench chromium axe clean help fuzz

help:
	@echo "make serve   - serve the site on http://127.0.0.1:8000"
	@echo "make test    - lint, type-check, run every test, doc example and the strict build"
	@echo "make build   - build the static site into site/"
	@echo "make lint    - ruff and mypy"
	@echo "make test-pythons - the package tests on Python 3.9 (oldest NumPy), 3.12 and 3.13 (newest)"
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
	$(BIN)/ruff check src tests benchmarks conftest.py docs/notebooks docs/examples hooks
	$(BIN)/mypy

# Debian's chromium for the browser tests (playwright's own download is
# not reachable here); installed, never skipped.
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

# axe-core from npm for the accessibility tests (tests/browser/package.json,
# pinned by its lockfile, into the git-ignored tests/browser/node_modules);
# the site never loads it. npm comes from Debian if it is missing.
AXE := tests/browser/node_modules/axe-core/axe.min.js
axe: $(AXE)
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { \
	  echo "installing Debian's npm for the accessibility tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null); }
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $@

test: $(STAMP) chromium axe lint test-pythons
	$(BIN)/python -m pytest

.PHONY: serve test test-pythons lint build bench chromium axe clean help fuzz

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --out benchmarks/results

clean:
	rm -rf site .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts tests/browser/node_modules
