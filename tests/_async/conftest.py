"""Fixtures of the async test modules (tests/_sync/conftest.py is generated from it):
``driver`` (every async driver; a module may narrow it), ``conn`` (a connection without
plugins to the plain server of the driver's engine), ``cluster`` (the devcluster of the
driver's engine) and, for every test, stopping the shared monitors afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper_devcluster import Cluster

from .cluster import ENGINE_OF


@pytest.fixture(params=["psycopg", "aiomysql", "mysql-connector"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def conn(driver: str, db_params: dict[str, Any]) -> Any:
    c = await aw.connect(driver=driver, plugins="", **db_params)
    yield c
    await c.close()


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    """The devcluster of ``driver``'s engine, healthy (see aws_wrapper_devcluster)."""
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture(autouse=True)
async def release_monitors() -> Any:
    """Monitors live per event loop (per process in sync code): stop them after each test."""
    yield
    await aw.release_resources()
