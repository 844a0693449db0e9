# The two commands of the README: `make run` (portal + demo tenant, served as in production)
# and `make test` (the suite). `make run-dev`: the same with DEBUG on and reload on change.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run run-dev test test-fast lint fmt venv clean bench vendor-acs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the requirement files change.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) scripts/dev.py

run-dev: $(STAMP)
	$(PY) scripts/dev.py --dev

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/graphsim.py
	$(PY) bench/sync.py --users 1000
	$(PY) bench/pages.py
	$(PY) bench/web.py

clean:
	rm -rf .run staticfiles .pytest_cache

# The browser phone's SDK, rebuilt from the pinned npm lock (see frontend/acs/build.sh).
vendor-acs:
	frontend/acs/build.sh
