# aws-wrapper developer commands. `make test` is what CI runs.
PY ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: help setup generate check-generated lint typecheck test test-fast bench demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup:  ## create .venv and install the project with its test extras
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e '.[test]'

generate:  ## regenerate src/aws_wrapper/_sync and tests/_sync from the async sources
	$(PY) tools/unasync_build.py

check-generated:  ## fail if the generated sync code is stale or hand-edited
	$(PY) tools/unasync_build.py --check

lint:  ## ruff lint and format check
	$(PY) -m ruff check src tests tools bench examples
	$(PY) -m ruff format --check src tests tools bench examples

typecheck:  ## mypy --strict on both trees, tests and tools
	$(PY) -m mypy

test: check-generated lint typecheck  ## everything CI checks: generated code, lint, types, tests
	$(PY) -m pytest -q

test-fast:  ## only the tests
	$(PY) -m pytest -q -x

bench:  ## wrapper vs raw driver per-call overhead (prints ratios)
	$(PY) bench/overhead.py

demo:  ## start a local PostgreSQL and run a query through the wrapper, sync and async
	$(PY) examples/demo.py

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache build dist
