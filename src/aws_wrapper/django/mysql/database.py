"""``connection.Database`` of the ``aws_wrapper.django.mysql`` backend.

mysql.connector's DB-API module as Django uses it, except that each PEP 249 exception name
stands for mysql.connector's class *and* the wrapper's (a tuple), so Django's error wrapper
turns both into ``django.db.utils`` errors and its ``except Database.Error`` clauses catch
both. ``connect()`` opens a wrapper connection.
"""

from __future__ import annotations

from typing import Any

import mysql.connector

from aws_wrapper import errors as _aw
from aws_wrapper.sync import AwsWrapperConnection

__version__: str = str(mysql.connector.__version__)
apilevel: str = mysql.connector.apilevel
threadsafety: int = mysql.connector.threadsafety
paramstyle: str = mysql.connector.paramstyle

_mc = mysql.connector.errors
# Warning, Error, ..., NotSupportedError: (the driver's class, the wrapper's class)
globals().update(_aw.paired_error_classes(_mc))


def connect(**kwargs: Any) -> AwsWrapperConnection:
    """A wrapper connection through mysql.connector (wrapper properties and mysql.connector
    parameters, as ``aws_wrapper.connect``). The backend does not call it; it is here for
    code that calls ``connection.Database.connect``."""
    return AwsWrapperConnection.connect("mysql-connector", "", **kwargs)


def __getattr__(name: str) -> Any:
    return getattr(mysql.connector, name)
