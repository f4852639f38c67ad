# The few entry points.  `make test` is the README's test command.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: quickstart test lint golden bench bench-novelty bench-render clean

quickstart:  ## install and run the main job on the embedded default
	$(PY) -m venv $(VENV) && $(BIN)/pip install -q . && $(BIN)/newsletter run

test:  ## install the test dependencies and run the whole suite
	$(PY) -m venv $(VENV) && $(BIN)/pip install -q -e ".[test]" && $(BIN)/pytest

lint:
	$(BIN)/ruff check newsletter tests bench && $(BIN)/ruff format --check newsletter tests bench && $(BIN)/mypy

golden:  ## regenerate the golden files of rendered output
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_render_golden.py

bench: bench-novelty bench-render

bench-novelty:
	$(BIN)/python bench/bench_novelty.py --markdown docs/bench-novelty.md

bench-render:
	$(BIN)/python bench/bench_render.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache preview site
