"""A PEP 249 module bound to MySQL Connector/Python (blocking code), as
aws-advanced-python-wrapper's ``mysql_connector`` module, for SQLAlchemy's creator pattern::

    from sqlalchemy import create_engine
    import aws_wrapper.mysql_connector

    engine = create_engine(
        "mysql+mysqlconnector://",
        creator=lambda: aws_wrapper.mysql_connector.connect(
            host="...", database="app", user="app", password="...", plugins="failover_v2"
        ),
    )

``connect(conninfo, **kwargs)`` is ``aws_wrapper.AwsWrapperConnection.connect(
mysql.connector.connect, **kwargs)``, the ``key=value`` pairs of ``conninfo`` (as the peer
accepts: ``"host=... database=app user=app"``) added to ``kwargs``. The PEP 249 names are
aws_wrapper's; other names are mysql.connector's.
"""

from __future__ import annotations

from typing import Any

import mysql.connector as _driver

from aws_wrapper import _pep249_surface
from aws_wrapper._peer import conninfo_kwargs, driver_forwarder
from aws_wrapper._pep249_surface import *  # noqa: F403
from aws_wrapper._sync.connection import AwsWrapperConnection


def connect(conninfo: str = "", **kwargs: Any) -> AwsWrapperConnection[Any, Any, Any]:
    """A wrapped connection (see the module doc)."""
    if conninfo:  # MySQL drivers take keywords: the peer's conninfo string becomes keywords
        kwargs = {**conninfo_kwargs(conninfo), **kwargs}
    return AwsWrapperConnection.connect(_driver.connect, **kwargs)


__getattr__ = driver_forwarder(__name__, "mysql.connector")

__all__ = ["connect"]
__all__ += _pep249_surface.__all__
