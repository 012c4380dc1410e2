"""A PEP 249 module bound to psycopg 3 (blocking code), as aws-advanced-python-wrapper's
``psycopg`` module, for SQLAlchemy's creator pattern::

    from sqlalchemy import create_engine
    import aws_wrapper.psycopg

    engine = create_engine(
        "postgresql+psycopg://",
        creator=lambda: aws_wrapper.psycopg.connect(
            "host=... dbname=app user=app", plugins="failover_v2"
        ),
    )

``connect(conninfo, **kwargs)`` is ``aws_wrapper.AwsWrapperConnection.connect(
psycopg.Connection.connect, conninfo, **kwargs)``. The PEP 249 names are aws_wrapper's; other
names are psycopg's (``aws_wrapper.psycopg.adapters`` is ``psycopg.adapters``).
"""

from __future__ import annotations

from typing import Any

import psycopg as _driver

from aws_wrapper import _pep249_surface
from aws_wrapper._peer import driver_forwarder
from aws_wrapper._pep249_surface import *  # noqa: F403
from aws_wrapper._sync.connection import AwsWrapperConnection


def connect(conninfo: str = "", **kwargs: Any) -> AwsWrapperConnection[Any, Any, Any]:
    """A wrapped connection (see the module doc)."""
    return AwsWrapperConnection.connect(_driver.Connection.connect, conninfo, **kwargs)


__getattr__ = driver_forwarder(__name__, "psycopg")

__all__ = ["connect"]
__all__ += _pep249_surface.__all__
