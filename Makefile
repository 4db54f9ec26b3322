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

# The package tests (no docs toolchain, no PyTorch) on the other Pythons the
# package supports, each in its own .venv-pyX.Y with the package installed from
# this tree as a user installs it: the oldest Python with the oldest NumPy and
# threadpoolctl pyproject.toml allows (tests/floors.txt), the newer ones with
# the newest releases at the venv's creation (delete .venv-py3.13 to take
# newer ones). An interpreter is looked for in pyenv's versions, then on PATH;
# name another with e.g. `make test PYTHON39=/path/to/python3.9`.
OTHER_PYTHONS := 3.9 3.12 3.13
OLDEST_PYTHON := 3.9
PYENV_VERSIONS ?= $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions
find_python = $(or $(lastword $(wildcard $(PYENV_VERSIONS)/$(1).*/bin/python$(1))),$(shell command -v python$(1)))
PYTHON39 ?= $(call find_python,3.9)
PYTHON312 ?= $(call find_python,3.12)
PYTHON313 ?= $(call find_python,3.13)
# Every tests/test_*.py but those of the site, the docs toolchain (Sybil), the
# benchmarks and PyTorch; --confcutdir=tests keeps out the docs' conftest.py.
NOT_PACKAGE_TESTS := tests/test_site.py tests/test_site_links.py tests/test_docs_%.py tests/test_sybil_%.py \
  tests/test_benchmarks.py tests/test_winograd_bench.py tests/test_torch.py tests/test_hostile_torch.py \
  tests/test_notebooks.py
PACKAGE_TESTS = $(filter-out $(NOT_PACKAGE_TESTS),$(wildcard tests/test_*.py))
PYTHON_TESTS := $(addprefix test-py,$(OTHER_PYTHONS))
.PHONY: $(PYTHON_TESTS)

test-pythons: $(PYTHON_TESTS)

$(PYTHON_TESTS): test-py%: .venv-py%/.installed
	rm -rf build
	env -u PYTHONPATH .venv-py$*/bin/python -m pip install -q \
	  $(if $(filter $(OLDEST_PYTHON),$*),-c tests/floors.txt) .
	@env -u PYTHONPATH .venv-py$*/bin/python -c "import sys, numpy, threadpoolctl, im2col; \
	  print('Python', sys.version.split()[0], '- NumPy', numpy.__version__, \
	  '- threadpoolctl', threadpoolctl.__version__, '- im2col from', im2col.__file__)"
	env -u PYTHONPATH .venv-py$*/bin/python -m pytest -p no:cacheprovider \
	  --confcutdir=tests -q $(PACKAGE_TESTS)

.PRECIOUS: .venv-py%/.installed
.venv-py%/.installed: tests/requirements.txt tests/floors.txt
	@python='$(PYTHON$(subst .,,$*))'; \
	if [ -z "$$python" ] || ! "$$python" -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$*")' 2>/dev/null; then \
	  echo "make test runs the package tests on Python $* and found no Python $*$${python:+ (PYTHON$(subst .,,$*)=$$python is not a working Python $*)}." >&2; \
	  echo "Install it (pyenv install $*) or name it: make test PYTHON$(subst .,,$*)=/path/to/python$*" >&2; \
	  exit 1; \
	fi; \
	echo "$$python -m venv .venv-py$*"; \
	rm -rf .venv-py$* && "$$python" -m venv .venv-py$*
	.venv-py$*/bin/python -m pip install -q -r tests/requirements.txt
	touch $@

# New random draws each run; prints how many calls it tried per function.
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_PROFILE=random $(BIN)/python -m pytest \
	  tests/test_fuzz.py -q -p no:cacheprovider --hypothesis-show-statistics

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --out benchmarks/results
	$(BIN)/python -m benchmarks.dropin
	$(BIN)/python -m benchmarks.ideas
	$(BIN)/python -m benchmarks.winograd
	$(BIN)/python -m benchmarks.passes
	$(BIN)/python -m benchmarks.backward
	$(BIN)/python -m benchmarks.blocks
	$(BIN)/python -m benchmarks.turns
	$(BIN)/python -m benchmarks.rows
	$(BIN)/python -m benchmarks.bands
	$(BIN)/python -m benchmarks.tiles

clean:
	rm -rf site .cache .pytest_cache .mypy_cache .ruff_cache test-artifacts tests/browser/node_modules
