"""Missing requirements fail at once, naming what to install (not after a start timeout)."""

from __future__ import annotations

import sys
import time

import pytest

from aws_wrapper_devcluster import (
    Cluster,
    DevclusterError,
    DriverNotFoundError,
    PostgresServer,
    check_requirements,
)


def test_a_server_without_its_driver_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(DriverNotFoundError, match=r"pip install 'psycopg\[binary\]'"):
        check_requirements("postgresql")
    started = time.monotonic()
    with pytest.raises(DriverNotFoundError):
        PostgresServer().start()
    assert time.monotonic() - started < 2


def test_cluster_up_without_a_driver_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)
    started = time.monotonic()
    with pytest.raises(DevclusterError, match=r"cannot start a mysql devcluster.*PyMySQL"):
        Cluster.up("mysql", name=f"noreq{id(started)}")
    assert time.monotonic() - started < 2
