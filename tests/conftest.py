"""Shared pytest fixtures: real database servers on loopback (see aws_wrapper_devcluster).

The devcluster's own fixtures (``devcluster_pg``, ``moto_server``, ...) come from its pytest
plugin, which the installed ``aws-wrapper-devcluster`` registers (``pytest11`` entry point)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from aws_wrapper_devcluster import (
    DatabaseServer,
    MariaDBServer,
    PostgresServer,
    RequirementError,
)

_S = TypeVar("_S", bound=DatabaseServer)


def serve(server: _S) -> Iterator[_S]:
    """Start ``server`` for a fixture and always stop it afterwards.

    Missing server binaries (or drivers) skip the tests locally but fail them in CI.
    """
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


@pytest.fixture(scope="session")
def pg_server(devcluster_log: Callable[[str], None]) -> Iterator[PostgresServer]:
    yield from serve(PostgresServer(log=devcluster_log))


@pytest.fixture(scope="session")
def mariadb_server(devcluster_log: Callable[[str], None]) -> Iterator[MariaDBServer]:
    yield from serve(MariaDBServer(log=devcluster_log))


@pytest.fixture
def db_params(request: pytest.FixtureRequest, driver: str) -> dict[str, object]:
    """Connect parameters of the app user on the server for ``driver``'s engine.

    Test modules define the ``driver`` fixture (usually parametrized over drivers)."""
    from tests.drivers import ENGINES

    name = "pg_server" if ENGINES[driver] == "postgresql" else "mariadb_server"
    server = request.getfixturevalue(name)
    return dict(server.conn_params())
