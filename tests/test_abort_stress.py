"""Aborting a connection while another thread is blocked reading it, 500 times per blocking
driver: no crash, no hang, no leaked socket (the monitor thread shuts the socket down; it never
frees it under the reader)."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

import pytest

import aws_wrapper
from tests.drivers import ENGINES

ITERATIONS = 500


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(params=["psycopg", "pymysql", "mysql-connector"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_abort_while_reading(driver: str, db_params: dict[str, Any]) -> None:
    # long enough that only the abort can end it early; short enough that the server sessions
    # left running after each abort (PostgreSQL notices a gone client late) do not pile up
    sleep_sql = "SELECT pg_sleep(1)" if ENGINES[driver] == "postgresql" else "SELECT SLEEP(1)"
    rng = random.Random(42)
    conn = aws_wrapper.connect(driver=driver, plugins="", **db_params)
    conn.close()  # the driver's lazy imports and caches are in place before counting
    before = open_fds()
    network_errors = 0
    for i in range(ITERATIONS):
        conn = aws_wrapper.connect(driver=driver, plugins="", **db_params)
        conn.autocommit = True
        delay = rng.choice([0.0, 0.0005, 0.001, 0.002, 0.005, 0.01])
        timer = threading.Timer(delay, conn.abort)  # another thread, as a monitor would
        started = time.monotonic()
        timer.start()
        try:
            conn.execute(sleep_sql)
        except Exception as e:
            if conn.driver_dialect.is_network_error(e):
                network_errors += 1
            else:
                raise AssertionError(f"iteration {i}: unexpected {e!r}") from e
        finally:
            timer.join()
            conn.close()
        elapsed = time.monotonic() - started
        assert elapsed < 0.5, f"iteration {i}: the abort did not end the call ({elapsed:.2f} s)"
    assert network_errors == ITERATIONS
    assert open_fds() <= before + 2, f"{open_fds() - before} file descriptors leaked"
