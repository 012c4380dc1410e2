# aws-wrapper developer commands.
#   make demo   - set up .venv (drivers and the devcluster only) and fail a local cluster over
#   make test   - set up .venv (everything) and run everything CI checks
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
SOURCES := src tests tools bench examples devcluster

.PHONY: help setup generate check-generated lint format typecheck test pytest sqla-suite bench bench-wrapper demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml devcluster/pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (>= 3.11) is required"; exit 1; }
	test -x $(PY) || python3 -m venv $(VENV)
	@echo "installing the library, the devcluster and the test tools into $(VENV) (a minute or two the first time) ..."
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -e '.[test]' -e './devcluster[test]'
	$(PY) -c 'import aws_wrapper, aws_wrapper_devcluster, pytest, mypy'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml devcluster/pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (>= 3.11) is required"; exit 1; }
	test -x $(PY) || python3 -m venv $(VENV)
	@echo "installing the library with its drivers and the devcluster into $(VENV) ..."
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -e '.[psycopg,pymysql,aiomysql,telemetry]' opentelemetry-sdk -e ./devcluster
	$(PY) -c 'import aws_wrapper, aws_wrapper_devcluster, psycopg, pymysql, aiomysql'
	touch $(DEMO_STAMP)

setup: $(STAMP)  ## create .venv, install the library and the devcluster (devcluster/) with their test extras

generate: $(STAMP)  ## regenerate src/aws_wrapper/_sync and tests/_sync from the async sources
	$(PY) tools/unasync_build.py

check-generated: $(STAMP)  ## fail if the generated sync code is stale or hand-edited
	$(PY) tools/unasync_build.py --check

lint: $(STAMP)  ## ruff lint and format check
	$(PY) -m ruff check $(SOURCES)
	$(PY) -m ruff format --check $(SOURCES)

format: $(STAMP)  ## apply ruff formatting (never to generated files: run `make generate`)
	$(PY) -m ruff format $(SOURCES)

typecheck: $(STAMP)  ## mypy --strict on both trees, tests, tools, bench, examples and the devcluster
	$(PY) -m mypy

pytest: $(STAMP)  ## only the tests (tests/ and devcluster/tests/)
	$(PY) -m pytest -q

test: check-generated lint typecheck pytest  ## everything CI checks: generated code, ruff, mypy --strict, every test (~20 min on 2 cores)

sqla-suite: $(STAMP)  ## SQLAlchemy's dialect compliance suite on our 5 dialects and the stock ones, ~4 min (SUITE=psycopg,pymysql; SQLA_ARGS='--only ours -- -k Reflection')
	$(PY) tools/sqla_suite.py $(if $(SUITE),--suite $(SUITE)) $(SQLA_ARGS)

bench: $(STAMP)  ## aws_wrapper vs aws-advanced-python-wrapper 3.1.0 vs raw drivers, 6 scenarios, ~17 min (a 7th, the blue/green switchover, ~6 min: SCENARIO=7; an 8th, the cross-region switchover, ~3 min: SCENARIO=8; a 9th, limitless connects, ~1 min: SCENARIO=9; a 10th, telemetry off/on, ~2 min: SCENARIO=10); writes docs/benchmarks.md (SCENARIO=3, BENCH_ARGS=--quick)
	$(PY) bench/compare.py $(if $(SCENARIO),--scenario $(SCENARIO)) $(BENCH_ARGS)

bench-wrapper: $(STAMP)  ## aws_wrapper alone, in detail: per-call overhead, failover, dead-host detection, read_only switch with/without pools
	$(PY) bench/overhead.py
	$(PY) bench/failover.py --engine both
	$(PY) bench/efm.py --engine both
	$(PY) bench/read_write.py --engine both

demo: $(DEMO_STAMP)  ## start a local Aurora-like cluster, fail its writer over under a sync and an async app, report what each saw (DEMO_ARGS='--engine mysql --crash --trace failover.jsonl')
	$(PY) examples/demo.py $(DEMO_ARGS)

clean:  ## remove caches (not .venv)
	rm -rf .mypy_cache .ruff_cache .pytest_cache build dist devcluster/build devcluster/dist
