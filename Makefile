# The few entry points.  `make test` is the README's test command.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: quickstart test lint golden bench bench-quick bench-novelty bench-identity bench-render bench-send clean

quickstart:  ## install and run the main job on the embedded default
	$(PY) -m venv $(VENV) && $(BIN)/pip install -q . && $(BIN)/newsletter run

test:  ## install the test dependencies and run the whole suite
	$(PY) -m venv $(VENV) && $(BIN)/pip install -q -e ".[test]" && $(BIN)/pytest

lint:
	$(BIN)/ruff check newsletter tests bench && $(BIN)/ruff format --check newsletter tests bench && $(BIN)/mypy

golden:  ## regenerate the golden files of rendered output
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_render_golden.py

bench:  ## every benchmark, each beside its same-run reference; writes docs/benchmarks.md
	$(BIN)/python bench/run_all.py

bench-quick:  ## the same, CI-sized (100k-paper store instead of 1M, fewer runs)
	$(BIN)/python bench/run_all.py --quick --out bench/.cache/benchmarks-quick.md

bench-novelty:
	$(BIN)/python bench/bench_novelty.py

bench-identity:  ## precision and recall of "same paper" on a corpus generated from the seeds
	$(BIN)/python bench/bench_identity.py

bench-render:
	$(BIN)/python bench/bench_render.py

bench-send:
	$(BIN)/python bench/bench_send.py

clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache preview site
