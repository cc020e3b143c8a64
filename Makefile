# Two commands do everything from a fresh clone:
#   make run    install and build what is missing, then serve the app (/) and the simulator
#   make test   install and build what is missing, then run the whole suite (unit + browser)
# Other targets: make dist (the publish folder a production server serves), make wheel (the
# bridge as a package: packages/bx24-bridge/dist/), make bench,
# make lint, make clean.

PYTHON ?= python3
# Test processes: a Pyodide boot keeps about one core busy, so two workers use a 2-core machine.
JOBS ?= 2
PORT ?= 8000
HOST ?= 127.0.0.1
VENV := .venv
PY := $(VENV)/bin/python
export PORT HOST

.PHONY: run test unit browser lint bench install install-steps deps-python deps-node deps-browser stdlib runtime-wheels bytecode wheel dist clean

run: install
	$(PY) -m cardserver --dev --host $(HOST) --port $(PORT) $(SERVER_FLAGS)

test: install
	$(PY) -m ruff check .
	node_modules/.bin/pyright
	$(PY) -m pytest -n $(JOBS) $(PYTEST_FLAGS)

unit: deps-python
	$(PY) -m pytest tests/unit $(PYTEST_FLAGS)

browser: install
	$(PY) -m pytest -n $(JOBS) tests/browser $(PYTEST_FLAGS)

lint: deps-python deps-node
	$(PY) -m ruff check .
	node_modules/.bin/pyright

# The install's steps run two at a time: those that wait on the network (pip, npm) or on one core
# (the bytecode builds in Node) overlap, and a fresh clone installs in ~29 s instead of ~52. Every
# step names what it reads. Only here: `make clean test` must still clean before it installs.
install:
	@$(MAKE) --no-print-directory --jobs=2 install-steps
install-steps: deps-python deps-node deps-browser stdlib runtime-wheels bytecode wheel dist

deps-python: $(VENV)/.installed
deps-node: node_modules/.installed
deps-browser:
	@tools/ensure-chromium.sh
stdlib: .cache/runtime/.stamp
runtime-wheels: .cache/runtime-wheels/.stamp
bytecode: .cache/bytecode/.stamp
dist: dist/.stamp

# The virtualenv holds the server's libraries and the dev tools listed in pyproject.toml.
$(VENV)/.installed: pyproject.toml tools/dev_requirements.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $$($(PYTHON) tools/dev_requirements.py)
	touch $@

# The pinned runtime (@pyscript/core, pyodide) exactly as package-lock.json records it.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || tools/ensure-node.sh
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Pyodide's standard library with bytecode for the modules the card starts with, made by the
# pinned Pyodide itself in Node (tools/stdlib_bytecode.py says why: it halves start-up).
.cache/runtime/.stamp: node_modules/.installed tools/compile-stdlib.mjs tools/stdlib_bytecode.py tools/stdlib-boot-modules.txt
	node tools/compile-stdlib.mjs
	touch $@

# The wheels Pyodide's npm package lacks (micropip, for PyScript's `packages = [...]`), from PyPI,
# checked against the hashes pinned in tools/runtime-wheels.txt, for the Pyodide's Python version.
.cache/runtime-wheels/.stamp: $(VENV)/.installed node_modules/.installed tools/runtime-wheels.txt
	rm -rf .cache/runtime-wheels
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
		--python-version $$($(PY) -m cardserver.runtime python-version) --require-hashes \
		-r tools/runtime-wheels.txt -d .cache/runtime-wheels
	touch $@

# Checked bytecode for the app's modules and PyScript's package, packed into the app bundle by
# the build while it matches the sources (tools/app_bytecode.py, cardserver/bundle.py).
APP_PY := $(wildcard bx24_bridge/*.py callcard/*.py)
.cache/bytecode/.stamp: node_modules/.installed tools/compile-app.mjs tools/app_bytecode.py tools/stdlib_bytecode.py $(APP_PY)
	node tools/compile-app.mjs
	touch $@

# The bridge as a package of its own (packages/bx24-bridge/): a pure-Python wheel built from the
# same bx24_bridge/ the card runs, reproducibly (the same sources give the same bytes).
WHEEL_DIR := packages/bx24-bridge/dist
BRIDGE_SOURCES := $(wildcard bx24_bridge/*.py) bx24_bridge/py.typed \
	$(wildcard packages/bx24-bridge/*.toml packages/bx24-bridge/*.md) packages/bx24-bridge/LICENSE
wheel: $(WHEEL_DIR)/.stamp
$(WHEEL_DIR)/.stamp: $(VENV)/.installed $(BRIDGE_SOURCES)
	rm -rf $(WHEEL_DIR)
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-w $(WHEEL_DIR) packages/bx24-bridge
	touch $@

# The publish folder (cardserver/dist.py): every file the pages load, content-addressed, with
# Brotli and gzip copies (cached by content in .cache/compressed/, so a rebuild takes a second).
# The server only reads it. Rebuilt when any source of it changes.
DIST_SOURCES := $(APP_PY) index.html install.html main.py install.py pyscript.toml install.toml \
	$(wildcard static/* simulator/* cardserver/*.py examples/*/*) cardserver/callcard-boot.mjs
dist/.stamp: node_modules/.installed $(VENV)/.installed .cache/runtime/.stamp .cache/runtime-wheels/.stamp .cache/bytecode/.stamp $(WHEEL_DIR)/.stamp $(DIST_SOURCES)
	$(PY) -m cardserver.dist
	touch $@

# The performance benchmark (bench/): app vs a bare PyScript page, cold/warm, loopback/emulated
# network; writes bench/results.md and fails if a budget line fails. BENCH_ROUNDS=N overrides the
# rounds (5; 3 for levers); BENCH_ARGS=levers measures the levers instead (bench/levers.md).
BENCH_ARGS ?=
bench: install
	$(if $(BENCH_ROUNDS),BENCH_ROUNDS=$(BENCH_ROUNDS) )$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .cache dist $(WHEEL_DIR) .pytest_cache .ruff_cache .hypothesis test-results
