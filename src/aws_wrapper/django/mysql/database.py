"""``connection.Database`` of the ``aws_wrapper.django.mysql`` backend.

mysql.connector's DB-API module as Django uses it, except that each PEP 249 exception name
stands for mysql.connector's class *and* the wrapper's (a tuple), so Django's error wrapper
turns both into ``django.db.utils`` errors and its ``except Database.Error`` clauses catch
both. ``connect()`` opens a wrapper connection.
"""

from __future__ import annotations

from typing import Any

from aws_wrapper import errors as _aw
from aws_wrapper.drivers import dbapi_module
from aws_wrapper.sync import AwsWrapperConnection

DRIVER = "mysql-connector"
"""The wrapper's driver for this backend (the table of ``aws_wrapper.drivers``)."""

_module = dbapi_module(DRIVER, aio=False)  # mysql.connector

__version__: str = str(_module.__version__)
apilevel: str = _module.apilevel
threadsafety: int = _module.threadsafety
paramstyle: str = _module.paramstyle

# Warning, Error, ..., NotSupportedError: (the driver's class, the wrapper's class)
globals().update(_aw.paired_error_classes(_module))


def connect(**kwargs: Any) -> AwsWrapperConnection:
    """A wrapper connection through mysql.connector (wrapper properties and mysql.connector
    parameters, as ``aws_wrapper.connect``). The backend does not call it; it is here for
    code that calls ``connection.Database.connect``."""
    return AwsWrapperConnection.connect(DRIVER, "", **kwargs)


def __getattr__(name: str) -> Any:
    return getattr(_module, name)
