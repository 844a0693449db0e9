# The two commands of the README: `make run` (portal + demo tenant, served as in production)
# and `make test` (the suite). `make run-dev`: the same with DEBUG on and reload on change.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run run-dev test test-fast lint fmt venv clean bench vendor-acs vendor-axe

$(PY):
	@echo "==> Creating the virtualenv $(VENV) (once)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the requirement files change.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	@echo "==> Installing the pinned requirements into $(VENV): about 1-2 minutes the first time,"
	@echo "    again only when requirements*.txt change. Each package is named as it goes in."
	@set -o pipefail; $(PY) -m pip install --progress-bar off -r requirements-dev.txt | sed -u -n -E '/^(Collecting|Successfully installed)/p' | cut -c1-100
	touch $(STAMP)
	@echo "==> Requirements installed."

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
	$(PY) bench/campaigns.py

clean:
	rm -rf .run staticfiles .pytest_cache

# The browser phone's SDK, rebuilt from the pinned npm lock (see frontend/acs/build.sh).
vendor-acs:
	frontend/acs/build.sh

# axe-core for the browser tests' accessibility check, from npm at this pinned version.
AXE_VERSION := 4.11.0
vendor-axe:
	scripts/vendor_axe.sh $(AXE_VERSION)
