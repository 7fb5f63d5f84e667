# `make demo` and `make test` each set up .venv themselves (fresh Debian: python3, make, root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYGRAPHVIZ_DEBS := libglib2.0-0 libx11-6 libxext6 libxrender1

.PHONY: demo test lint bench clean

# 1. Python >= 3.10;  2. `python3 -m venv` (Debian ships ensurepip separately: python3-venv,
# installed here when missing and apt-get is usable as root);  3. a pip that can install a
# pyproject.toml project in editable mode (>= 21.3);  4. the package with its extras;
# 5. the system libraries pygraphviz's wheel loads: it bundles Graphviz but, as manylinux
# allows, takes glib and the X11 client libraries from the system, which a minimal Debian
# lacks (installed here like python3-venv; otherwise a warning, and only rendering needs them).
# The stamp makes a second run a no-op until pyproject.toml changes; an interrupted set-up
# leaves no stamp, so the next run starts again.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "error: tinygrad_edu needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) -V 2>&1)." \
	       "Run e.g. make PYTHON=python3.11 $(MAKECMDGOALS)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { \
	  rm -rf $(VENV); \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "$(PYTHON) -m venv failed (no ensurepip): installing Debian's python3-venv"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; \
	  fi; \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "error: could not create $(VENV) with '$(PYTHON) -m venv'. On Debian/Ubuntu install" \
	         "python3-venv (as root: apt-get install python3-venv), then run make again."; exit 1; }; }
	$(PY) -m pip install -q --disable-pip-version-check "pip>=21.3"
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev,plot]"
	@if $(PY) -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pygraphviz") is None)' \
	    && ! $(PY) -c 'import pygraphviz' >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "pygraphviz cannot load its system libraries: installing Debian's $(PYGRAPHVIZ_DEBS)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $(PYGRAPHVIZ_DEBS) >/dev/null; \
	  fi; \
	  $(PY) -c 'import pygraphviz' >/dev/null 2>&1 || echo "warning: pygraphviz is installed but cannot load" \
	    "its system libraries ($$($(PY) -c 'import pygraphviz' 2>&1 | tail -n 1)). On Debian/Ubuntu install" \
	    "$(PYGRAPHVIZ_DEBS) (as root: apt-get install ...); until then rendering needs the Graphviz dot program."; \
	fi
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tinygrad-edu demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check tinygrad_edu tests examples benchmarks

bench: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e ".[bench]"
	$(PY) benchmarks/bench_value.py
	$(PY) benchmarks/bench_tensor.py

clean:
	rm -rf $(VENV) build *.egg-info runs
