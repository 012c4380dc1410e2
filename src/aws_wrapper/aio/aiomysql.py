"""A PEP 249-style async module bound to aiomysql, as aws-advanced-python-wrapper's
``aio.aiomysql`` module::

    import aws_wrapper.aio.aiomysql

    conn = await aws_wrapper.aio.aiomysql.connect(host="...", db="app", user="app")

``await connect(conninfo, **kwargs)`` is
``await aws_wrapper.aio.AsyncAwsWrapperConnection.connect(aiomysql.connect, **kwargs)``, the
``key=value`` pairs of ``conninfo`` added to ``kwargs``. The PEP 249 names are aws_wrapper's;
other names are
aiomysql's.
"""

from __future__ import annotations

from typing import Any

import aiomysql as _driver

from aws_wrapper import _pep249_surface
from aws_wrapper._async.connection import AsyncAwsWrapperConnection
from aws_wrapper._peer import conninfo_kwargs, driver_forwarder
from aws_wrapper._pep249_surface import *  # noqa: F403


async def connect(conninfo: str = "", **kwargs: Any) -> AsyncAwsWrapperConnection[Any, Any, Any]:
    """A wrapped connection (see the module doc)."""
    if conninfo:  # aiomysql takes keywords: the peer's conninfo string becomes keywords
        kwargs = {**conninfo_kwargs(conninfo), **kwargs}
    conn: AsyncAwsWrapperConnection[Any, Any, Any] = await AsyncAwsWrapperConnection.connect(
        _driver.connect, **kwargs
    )
    return conn


__getattr__ = driver_forwarder(__name__, "aiomysql")

__all__ = ["connect"]
__all__ += _pep249_surface.__all__
