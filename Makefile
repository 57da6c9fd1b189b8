# make demo / make test create .venv and install everything on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := $(wildcard src tests benchmarks)

.PHONY: demo test test-stability lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "logflume needs Python >= 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/logflume demo

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

test: lint
	$(BIN)/pytest

# The Loki sink's end-to-end tests, each ten times in a row (run by .ci/run).
test-stability: $(STAMP)
	LOGFLUME_LOKI_REPEAT=10 $(BIN)/pytest -q tests/integration/test_loki_sink.py

bench: $(STAMP)
	$(BIN)/logflume bench

clean:
	rm -rf $(VENV) logflume-demo .pytest_cache .mypy_cache .ruff_cache
