# Kith: two commands on a fresh machine.
#   make run   set up .venv, install, start the companion + Datasette on the default database
#   make test  set up .venv with test dependencies (and Chromium when missing), run every test
VENV    ?= .venv
PY      := $(VENV)/bin/python
KITH    := $(VENV)/bin/kith
DEPS    := $(VENV)/.deps-installed
NODE_DEPS := extension/node_modules/.deps-installed

.PHONY: run test test-python test-extension bench stress demo chromium venv clean

run: $(DEPS)
	$(KITH) serve

test: $(DEPS) chromium $(NODE_DEPS)
	$(MAKE) test-extension
	$(MAKE) test-python

test-python: $(DEPS)
	$(PY) -m pytest -q -p no:cacheprovider

test-extension: $(NODE_DEPS)
	cd extension && npm test && npm run lint

bench: $(DEPS) chromium $(NODE_DEPS)
	$(PY) scripts/bench.py

stress: $(DEPS)
	KITH_STRESS=1 $(PY) -m pytest -q -p no:cacheprovider tests/stress

# The demo database sits next to (never inside) the real one; it is generated once.
demo: $(DEPS)
	@demo_db="$$($(PY) -c 'from companion.config import demo_db_path; print(demo_db_path())')"; \
	if [ ! -f "$$demo_db" ]; then $(KITH) demo --db "$$demo_db" --contacts 2000 --seed 1; fi; \
	$(KITH) serve --db "$$demo_db"

venv: $(DEPS)

$(PY):
	python3 -m venv $(VENV)

$(DEPS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(NODE_DEPS): extension/package.json extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund
	touch $@

# Debian's chromium package, installed when missing and the machine allows it (root or sudo).
chromium:
	@sh scripts/install_chromium.sh

clean:
	rm -rf $(VENV) extension/node_modules
