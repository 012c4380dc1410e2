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
Warning: tuple[type[Exception], ...] = (_mc.Warning, _aw.Warning)
Error: tuple[type[Exception], ...] = (_mc.Error, _aw.Error)
InterfaceError: tuple[type[Exception], ...] = (_mc.InterfaceError, _aw.InterfaceError)
DatabaseError: tuple[type[Exception], ...] = (_mc.DatabaseError, _aw.DatabaseError)
DataError: tuple[type[Exception], ...] = (_mc.DataError, _aw.DataError)
OperationalError: tuple[type[Exception], ...] = (_mc.OperationalError, _aw.OperationalError)
IntegrityError: tuple[type[Exception], ...] = (_mc.IntegrityError, _aw.IntegrityError)
InternalError: tuple[type[Exception], ...] = (_mc.InternalError, _aw.InternalError)
ProgrammingError: tuple[type[Exception], ...] = (_mc.ProgrammingError, _aw.ProgrammingError)
NotSupportedError: tuple[type[Exception], ...] = (_mc.NotSupportedError, _aw.NotSupportedError)


def connect(**kwargs: Any) -> AwsWrapperConnection:
    """A wrapper connection through mysql.connector (wrapper properties and mysql.connector
    parameters, as ``aws_wrapper.connect``). The backend does not call it; it is here for
    code that calls ``connection.Database.connect``."""
    return AwsWrapperConnection.connect("mysql-connector", "", **kwargs)


def __getattr__(name: str) -> Any:
    return getattr(mysql.connector, name)
