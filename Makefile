# `make demo` and `make test` each set up .venv themselves (fresh Debian: python3, make, root).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing Debian's python3-venv"; rm -rf $(VENV); \
	  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --disable-pip-version-check -e ".[dev,plot]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tinygrad-edu demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check tinygrad_edu tests examples benchmarks

bench: $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check ".[bench]"
	$(PY) benchmarks/bench_value.py
	$(PY) benchmarks/bench_tensor.py

clean:
	rm -rf $(VENV) build *.egg-info runs
