"""A PEP 249-style async module bound to psycopg 3 (``psycopg.AsyncConnection``), as
aws-advanced-python-wrapper's ``aio.psycopg`` module::

    import aws_wrapper.aio.psycopg

    conn = await aws_wrapper.aio.psycopg.connect("host=... dbname=app user=app")

``await connect(conninfo, **kwargs)`` is ``await aws_wrapper.aio.AsyncAwsWrapperConnection.connect(
psycopg.AsyncConnection.connect, conninfo, **kwargs)``. The PEP 249 names are aws_wrapper's;
other names are psycopg's.
"""

from __future__ import annotations

from typing import Any

import psycopg as _driver

from aws_wrapper import _pep249_surface
from aws_wrapper._async.connection import AsyncAwsWrapperConnection
from aws_wrapper._peer import driver_forwarder
from aws_wrapper._pep249_surface import *  # noqa: F403


async def connect(conninfo: str = "", **kwargs: Any) -> AsyncAwsWrapperConnection[Any, Any, Any]:
    """A wrapped connection (see the module doc)."""
    conn: AsyncAwsWrapperConnection[Any, Any, Any] = await AsyncAwsWrapperConnection.connect(
        _driver.AsyncConnection.connect, conninfo, **kwargs
    )
    return conn


__getattr__ = driver_forwarder(__name__, "psycopg")

__all__ = ["connect"]
__all__ += _pep249_surface.__all__
