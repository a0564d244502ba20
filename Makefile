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

.PHONY: install synth test test-fast lint format scan schema check report bench clean help atlantis atlantis-synth tfc-export tfc-check same-output change-effects upgrade-effects try

help:
	@echo "make synth   install, then synthesize every config/*.yaml into cdktf.out/"
	@echo "make test    install, then make lint and the whole test suite (emulator tests included)"
	@echo "make test-fast  install, then every test but the emulator (e2e) tests"
	@echo "make lint    ruff (lint, format check) and mypy"
	@echo "make format  ruff format and the fixes ruff can make itself"
	@echo "make scan    install, then run checkov on every example stack (zero failed)"
	@echo "make schema  regenerate config/schema.json and docs/configuration.md from the config model"
	@echo "make check   validate the configs without synthesizing"
	@echo "make report  resilience report + topology diagrams of cdktf.out (run make synth first)"
	@echo "make atlantis        regenerate atlantis.yaml from config/*.yaml"
	@echo "make atlantis-synth  Atlantis pre_workflow_hook: synthesize, stamp the output with the commit"
	@echo "make tfc-export      write terraform/<stack>/cdk.tf.json for cloud-backed stacks (VCS-driven HCP Terraform)"
	@echo "make tfc-check       fail when the committed terraform/ export is stale"
	@echo "make bench   measure synth time and memory into benchmarks/RESULTS.md (BENCH_RUNS=3)"
	@echo "make same-output REF=<commit>  compare synthesized stacks and bad-config messages with another commit"
	@echo "make upgrade-effects FROM=<ref>  deploy the examples as <ref> made them (emulator), plan this version against them"
	@echo "make change-effects  measure what changing each config key does to a deployed example (emulator), write docs/change-effects.md"
	@echo "make try STACK=<name> [KEEP=1]  apply that stack to a local AWS emulator, show it, destroy it"
	@echo "make clean   remove caches and cdktf.out (kept while it holds Terraform state)"

install: $(VENV)/.installed $(VENV)/.package $(VENV)/jsii-package-cache/.primed node_modules/.installed

$(VENV)/.installed: Pipfile.lock
	@command -v pipenv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

# This project itself, editable: `import ai_fleet` from any folder, the `ai-fleet` command.
$(VENV)/.package: pyproject.toml $(VENV)/.installed
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	@touch $@

# The jsii package cache in .venv, with the runtime index every synth reads instead of
# the whole provider assembly (stacks/jsii_cache.py: 300 MB instead of 1.2 GB per run).
# (The stamp lives in the cache: deleting the cache primes it again.)
$(VENV)/jsii-package-cache/.primed: $(VENV)/.installed
	$(PY) -m stacks.jsii_cache
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: install
	$(PY) main.py

check: install
	$(PY) main.py --check

test: lint
	$(PY) -m pytest

# Everything but the end-to-end emulator tests (tests/e2e): the quick loop.
test-fast: install
	$(PY) -m pytest -m "not e2e"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Reads cdktf.out as synthesized (run `make synth` first; it says so when there is
# nothing to read). Exits 1 when a config's resilience_objectives are missed.
report: install
	$(PY) -m stacks.report

scan: install
	$(PY) -m pytest -q tests/synth/test_checkov.py

schema: install
	$(PY) -m stacks.cli.schema

atlantis: install
	$(PY) -m stacks.cli.atlantis

atlantis-synth: install
	$(PY) -m stacks.cli.atlantis --synth

tfc-export: install
	$(PY) -m stacks.cli.tfc

tfc-check: install
	$(PY) -m stacks.cli.tfc --check

# What upgrading the generator does to stacks an earlier version deployed (emulator):
# docs/upgrading.md. Not part of `make test`; run it before a release.
upgrade-effects: install
	@test -n "$(FROM)" || { echo "usage: make upgrade-effects FROM=<commit>"; exit 2; }
	$(PY) tests/upgrade_effects.py --from $(FROM)

# For changes that must not change behaviour: same stacks, same bad-config messages.
same-output: install
	@test -n "$(REF)" || { echo "usage: make same-output REF=<commit>"; exit 2; }
	$(PY) tests/same_output.py $(REF)

# Every config key changed alone and planned against the examples deployed on the local
# emulator (tests/change_effects.py): writes docs/change-effects.json and .md. Not part of
# `make test` (it takes long, see docs/testing.md); the end-to-end test re-measures a
# subset and fails when the document is stale for it. CHANGE_EFFECTS_ARGS: --keys ...,
# --examples ..., --check.
# Deploys a copy of config/$(STACK).yaml to a local AWS emulator (stacks/cli/try_stack.py).
try: install
	@test -n "$(STACK)" || { echo "usage: make try STACK=<name> [KEEP=1]  (config/<name>.yaml)"; exit 2; }
	$(PY) -m stacks.cli.try_stack $(STACK) $(if $(KEEP),--keep)

change-effects: install
	$(PY) tests/change_effects.py $(CHANGE_EFFECTS_ARGS)

# Not part of `make test`: timings need an otherwise idle machine (about 5-6 min with the
# default 3 runs per case; BENCH_ARGS=--no-knobs for the main cases only).
BENCH_RUNS ?= 3
bench: install
	$(PY) benchmarks/bench.py --runs $(BENCH_RUNS) $(BENCH_ARGS)

# Local-backend state lives in cdktf.out/stacks/<name>/terraform.tfstate: never delete it.
clean:
	rm -rf .cdktf.out.* .pytest_cache .hypothesis .mypy_cache .ruff_cache
	@if find cdktf.out -name '*.tfstate*' 2>/dev/null | grep -q .; then \
	  echo "kept cdktf.out: it holds Terraform state:"; find cdktf.out -name '*.tfstate*'; \
	else rm -rf cdktf.out; fi
