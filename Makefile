# Two commands do all set-up on a fresh machine:
#   make demo   spec → card → checkpoint check → push to a local Hub, on embedded defaults
#   make test   lint, type check and the whole test suite
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# torch==2.13.0 (CPU) installs from a local wheel folder where the machine has one.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

.PHONY: demo test check bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(FIND_LINKS) -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/publisher demo

check: $(BIN)/.installed
	$(BIN)/ruff check publisher tests bench
	$(BIN)/ruff format --check publisher tests bench
	$(BIN)/mypy

test: check
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .demo .cache .pytest_cache .mypy_cache .ruff_cache
