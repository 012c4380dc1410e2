"""Fixtures of the devcluster's own tests (the plugin's fixtures come from the ``pytest11``
entry point of the installed ``aws-wrapper-devcluster``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from aws_wrapper_devcluster import PostgresServer, RequirementError


@pytest.fixture(scope="session")
def pg_server(devcluster_log: Callable[[str], None]) -> Iterator[PostgresServer]:
    """A PostgreSQL server on loopback for the session. Missing requirements skip the tests
    locally and fail them in CI."""
    server = PostgresServer(log=devcluster_log)
    try:
        server.start()
    except RequirementError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
