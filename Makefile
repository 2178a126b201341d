# Seva assistant. Two commands do everything on a fresh machine:
#   make run   - set up if needed, train if the model is stale, start the assistant
#   make test  - set up if needed, run every check
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
MODEL     := models/seva.tar.gz

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Voice answers are decided by scores against thresholds calibrated on the committed clips
# (speech/). Every x86 machine with AVX2 computes them the same way here: the AVX-512 kernels
# of OpenBLAS, numpy and CTranslate2 round differently, and on a machine with AVX-512 and AMX
# three borderline clips came out otherwise (docs/speech.md). Set any of these to override.
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo yes),)
export OPENBLAS_CORETYPE ?= Haswell
export CT2_FORCE_CPU_ISA ?= AVX2
export NPY_DISABLE_CPU_FEATURES ?= $(shell scripts/avx512-features.sh)
endif

# Python 3.10 (Rasa 3.6 supports 3.8-3.10): on PATH or under pyenv (see the script).
PYTHON310 := $(shell scripts/find-python310.sh)

.PHONY: help setup train run cluster test lint test-unit test-speech test-e2e validate check-catalog import-catalog chat review clean

help:
	@echo "make run    - set up, train if needed, start the action server and Rasa (Ctrl-C stops both)"
	@echo "make cluster - PostgreSQL, Redis, INSTANCES (2) x Rasa + action server behind HAProxy on CLUSTER_PORT (8000)"
	@echo "make test   - set up, then run every check (lint, catalog, pytest, rasa data validate, rasa test, end-to-end)"
	@echo "make lint   - ruff (pyflakes, import order, bugbear) and mypy, as configured in pyproject.toml"
	@echo "make chat   - talk to a running assistant from the terminal"
	@echo "make review - the designers' review page: conversations that went wrong, funnels, model reports"
	@echo "make check-catalog - check the service catalog after editing it"
	@echo "make import-catalog - regenerate catalog/imported/ from catalog/sources/ (CSV + names)"
	@echo "make test-speech   - transcribe the committed voice clips with the real model"
	@echo "make clean  - remove rebuildable things (models, results, caches); keeps var/ (applications, conversations)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "error: Python 3.10 not found (Rasa 3.6 needs Python 3.8-3.10)." >&2; \
		echo "Fix: install it, e.g. 'pyenv install 3.10.13', or put python3.10 on PATH." >&2; exit 1; fi
	@echo "Setting up $(VENV) with $(PYTHON310)"
	@[ -x $(PY) ] || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

setup: $(VENV)/.installed

train: setup
	@scripts/train-if-stale.sh

check-catalog: setup
	$(PY) -m seva.catalog check

import-catalog: setup
	$(PY) -m seva.catalog_import

validate: setup
	$(RASA) data validate --fail-on-warnings --quiet

# ruff checks the whole tree; mypy reads its files from pyproject.toml. Seconds, so make test runs it first.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test-unit: setup
	$(PY) -m pytest -q tests/unit

# real faster-whisper inference on the committed clips (speech/fixtures)
test-speech: setup
	$(PY) -m pytest -q tests/speech

test-e2e: train
	$(PY) -m pytest -q tests/e2e

test: setup lint check-catalog test-unit test-speech validate train
	$(RASA) test core --stories tests/stories --model $(MODEL) --fail-on-prediction-errors --out results
	$(PY) -m pytest -q tests/e2e

run: train
	@scripts/run.sh

# Several instances on one machine (cluster/launcher.py; data in var/cluster, logs in logs/cluster).
cluster: train
	@$(PY) -m cluster

chat: setup
	$(PY) scripts/chat.py

# results/review/index.html from the tracker store (endpoints.yml) and the application store
# (APP_DB_URL); also served at http://localhost:8080/review/ by `make run`. docs/designers.md.
# REVIEW_ARGS: e.g. --show-answers, --no-reports, --idle-minutes 60 (python -m review build -h).
review: setup
	$(PY) -m review build $(REVIEW_ARGS)

# Only what can be rebuilt. var/ holds the citizens' applications and conversations:
# never here (see wipe-data).
clean:
	rm -rf models results .pytest_cache .rasa

# Deletes every application and conversation in var/ (the default SQLite stores).
.PHONY: wipe-data
wipe-data:
	@if [ "$(CONFIRM)" != "yes" ]; then \
		echo "wipe-data deletes var/: every citizen's application and conversation." >&2; \
		echo "If you mean it: make wipe-data CONFIRM=yes" >&2; exit 1; fi
	rm -rf var
