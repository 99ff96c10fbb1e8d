# The project's entry points. `make demo` and `make test` do all the set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ROWS ?= 20000

# All local state lives under one directory (ignored by git).
export ITERABLE_SYNC_HOME ?= $(CURDIR)/.iterable_sync
export DAGSTER_HOME ?= $(ITERABLE_SYNC_HOME)/dagster

.PHONY: install install-dev demo test lint ui bench dagster-home clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Dagster reads its instance config from $DAGSTER_HOME/dagster.yaml.
dagster-home:
	@mkdir -p "$(DAGSTER_HOME)"
	@cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"

## Seed the embedded warehouse if empty and run the daily job headless on the embedded defaults.
demo: install dagster-home
	$(BIN)/python -m iterable_sync demo --rows $(ROWS)

## Lint, then the whole test suite (what CI runs).
test: install-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The Dagster UI on http://127.0.0.1:3000 with the same defaults as the demo.
ui: install dagster-home
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

## Benchmarks, side by side with a naive baseline (ROWS= to scale); the baseline needs pandas.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

clean:
	rm -rf "$(ITERABLE_SYNC_HOME)"
