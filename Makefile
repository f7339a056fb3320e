# Kith: two commands on a fresh machine.
#   make run   set up .venv, install, start the companion + Datasette on the default database
#   make test  set up .venv with test dependencies (and Chromium, Firefox ESR when missing), run every test;
#              it fails when the browser tests cannot run (KITH_SKIP_BROWSER=1 skips them, loudly)
#   make screenshots  refresh docs/screenshots/ from the browser tests (make test never writes there)
VENV    ?= .venv
PY      := $(VENV)/bin/python
KITH    := $(VENV)/bin/kith
DEPS    := $(VENV)/.deps-installed
NODE_DEPS := extension/node_modules/.deps-installed

.PHONY: run test test-python test-datasette1 test-extension test-firefox lint bench stress demo chromium firefox venv clean screenshots

run: $(DEPS)
	$(KITH) serve

test: $(DEPS) chromium firefox $(NODE_DEPS)
	$(MAKE) lint
	$(MAKE) test-extension
	$(MAKE) test-python
	$(MAKE) test-datasette1
	$(MAKE) test-firefox
	$(SKIP_BROWSER_WARNING)

# -rs lists every skipped test with its reason.
test-python: $(DEPS)
	KITH_DATASETTE=0.65 $(PY) -m pytest -q -p no:cacheprovider -rs

# The Datasette plugin's tests once more on Datasette 1.0 (a pinned alpha), in a second virtualenv;
# .venv has the 0.65 line. KITH_DATASETTE makes a run on the wrong line fail, not pass.
DATASETTE1 := 1.0a41
DS1_VENV   := .venv-ds1
DS1_DEPS   := $(DS1_VENV)/.deps-installed

test-datasette1: $(DS1_DEPS) chromium
	KITH_DATASETTE=$(DATASETTE1) $(DS1_VENV)/bin/python -m pytest -q -p no:cacheprovider -rs \
		tests/test_datasette_plugin.py tests/test_datasette_compat.py tests/browser/test_datasette_browser.py \
		tests/browser/test_rebinding.py tests/test_auth_store.py tests/test_datasette_today.py \
		tests/browser/test_today_browser.py

$(DS1_DEPS): pyproject.toml Makefile
	test -x $(DS1_VENV)/bin/python || python3 -m venv $(DS1_VENV)
	$(DS1_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DS1_VENV)/bin/python -m pip install --quiet -e ".[test]" "datasette==$(DATASETTE1)"
	touch $@

# ruff's rules and settings are in pyproject.toml ([tool.ruff]).
lint: $(DEPS)
	$(PY) -m ruff check companion datasette_plugins scripts tests extension/tools
	$(PY) -m ruff format --check companion datasette_plugins scripts tests extension/tools

test-extension: $(NODE_DEPS)
	cd extension && npm test && npm run lint

# The extension's browser scenarios again in Firefox ESR (extension/test-firefox/: puppeteer-core over
# WebDriver BiDi), against a real `kith serve` from this virtualenv.
test-firefox: $(DEPS) firefox $(NODE_DEPS)
	cd extension && KITH_PYTHON="$(abspath $(PY))" npm run test-firefox

bench: $(DEPS) chromium firefox $(NODE_DEPS)
	$(PY) scripts/bench.py

stress: $(DEPS)
	KITH_STRESS=1 $(PY) -m pytest -q -p no:cacheprovider -rs tests/stress

# The browser tests write screenshots to $$KITH_SCREENSHOTS_DIR (default: the git-ignored build/screenshots/).
# The README's pictures of the Kith pages, Today's included (tests/browser/test_today_browser.py: an
# empty database and the demo); each must have been rewritten by this run.
PAGE_SCREENSHOTS := contact network reconnect today-empty today-demo

screenshots: $(DEPS) chromium firefox $(NODE_DEPS)
	@mkdir -p build && touch build/.screenshots-started
	KITH_SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" $(PY) -m pytest -q -p no:cacheprovider -rs tests/browser
	cd extension && KITH_SCREENSHOTS_DIR="$(CURDIR)/docs/screenshots" KITH_PYTHON="$(abspath $(PY))" npm run test-firefox
	@for name in $(PAGE_SCREENSHOTS); do \
		[ docs/screenshots/$$name.png -nt build/.screenshots-started ] || \
		{ echo "make screenshots: docs/screenshots/$$name.png was not refreshed" >&2; exit 1; }; done

# The demo database sits next to (never inside) the real one; it is generated once.
demo: $(DEPS)
	@demo_db="$$($(PY) -c 'from companion.config import demo_db_path; print(demo_db_path())')"; \
	if [ ! -f "$$demo_db" ]; then $(KITH) demo --db "$$demo_db" --contacts 2000 --seed 1; fi; \
	$(KITH) serve --db "$$demo_db"

venv: $(DEPS)

$(PY):
	python3 -m venv $(VENV)

# The distribution was called "kith" before it became kith-network: a stale install of it (and its
# kith.egg-info build folder, which Python would still read from the repo root) is dropped.
$(DEPS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	@if $(PY) -m pip show --quiet kith >/dev/null 2>&1; then $(PY) -m pip uninstall --quiet --yes kith; fi
	rm -rf kith.egg-info
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

$(NODE_DEPS): extension/package.json extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund
	touch $@

# Debian's chromium package, installed when missing and the machine allows it (root or sudo); fails,
# saying how to fix it, when that is not possible. KITH_SKIP_BROWSER=1 is the explicit opt-out.
chromium:
	@sh scripts/install_browser.sh chromium

# Debian's firefox-esr, the same way.
firefox:
	@sh scripts/install_browser.sh firefox

SKIP_BROWSER_WARNING = @if [ -n "$(KITH_SKIP_BROWSER)" ] && [ "$(KITH_SKIP_BROWSER)" != "0" ]; then \
	printf '\n%s\n%s\n\n' "!!! KITH_SKIP_BROWSER is set: the browser tests were NOT run." \
	"!!! This was not a full test run; unset KITH_SKIP_BROWSER for one." >&2; fi

clean:
	rm -rf $(VENV) $(DS1_VENV) extension/node_modules
