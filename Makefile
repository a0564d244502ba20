# Quick start: `make synth` then `make test`. Both install what they need first
# (idempotently: nothing is reinstalled while Pipfile.lock and package-lock.json are
# unchanged).
SHELL := /bin/bash
.DEFAULT_GOAL := synth

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export PYTHONDONTWRITEBYTECODE :=

PYTHON ?= python3
PIPENV_VERSION := 2026.10.3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install synth test scan schema check clean help

help:
	@echo "make synth   install, then synthesize every config/*.yaml into cdktf.out/"
	@echo "make test    install, then run the whole test suite"
	@echo "make scan    install, then run checkov on every example stack (zero failed)"
	@echo "make schema  regenerate config/schema.json from the config model"
	@echo "make check   validate the configs without synthesizing"
	@echo "make clean   remove cdktf.out and caches (keeps installed packages)"

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: Pipfile.lock
	@command -v pipenv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: install
	$(PY) main.py

check: install
	$(PY) main.py --check

test: install
	$(PY) -m pytest

scan: install
	$(PY) -m pytest -q tests/test_checkov.py

schema: install
	$(PY) -m stacks.schema > config/schema.json

clean:
	rm -rf cdktf.out .cdktf.out.* .pytest_cache .hypothesis
