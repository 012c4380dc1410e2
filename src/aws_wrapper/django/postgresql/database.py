"""``connection.Database`` of the ``aws_wrapper.django.postgresql`` backend.

psycopg's DB-API module as Django uses it (``Binary``, ``__version__``, ...), except that each
PEP 249 exception name stands for psycopg's class *and* the wrapper's (a tuple), so Django's
error wrapper turns both into ``django.db.utils`` errors and its ``except Database.Error``
clauses catch both. ``connect()`` opens a wrapper connection.

Also the psycopg connection classes the backend opens its driver connections with.
"""

from __future__ import annotations

from typing import Any, Self, cast

import psycopg
from django.db.backends.postgresql.base import ServerSideCursor
from psycopg.adapt import AdaptersMap

from aws_wrapper import errors as _aw
from aws_wrapper.sync import AwsWrapperConnection

__version__: str = psycopg.__version__
apilevel: str = psycopg.apilevel
threadsafety: int = psycopg.threadsafety
paramstyle: str = psycopg.paramstyle

# Warning, Error, ..., NotSupportedError: (the driver's class, the wrapper's class)
globals().update(_aw.paired_error_classes(psycopg))


class SharedAdapters(AdaptersMap):
    """The adapters of one Django connection, shared by every driver connection the wrapper
    opens for it (the first one, a failover's, a reader's): a loader Django registers after
    connecting (``django.contrib.postgres``'s hstore and citext, a changed time zone) keeps
    working when the wrapper replaces the driver connection."""


class ServerBindingConnection(psycopg.Connection[Any]):
    """A psycopg connection that takes the adapters of a :class:`SharedAdapters` context as
    they are instead of copying them. Named cursors bind server-side (psycopg's
    ``ServerCursor``): Django's ``OPTIONS["server_side_binding"] = True``."""

    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        context = kwargs.get("context")
        conn = super().connect(conninfo, **kwargs)
        if isinstance(context, SharedAdapters) and hasattr(conn, "_adapters"):
            conn._adapters = context
        return conn


class ClientBindingConnection(ServerBindingConnection):
    """As :class:`ServerBindingConnection`, with named cursors (``QuerySet.iterator()``) made
    by Django's ``ServerSideCursor``, which binds parameters client-side as the ORM needs
    (Django's default). Set on the connection, it holds for every driver connection the
    wrapper opens, which a cursor class given to ``cursor()`` would not."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.server_cursor_factory = cast(Any, ServerSideCursor)


def connect(conninfo: str = "", **kwargs: Any) -> AwsWrapperConnection:
    """A wrapper connection through psycopg (wrapper properties and psycopg parameters, as
    ``aws_wrapper.connect``). The backend does not call it; it is here for code that calls
    ``connection.Database.connect``."""
    return AwsWrapperConnection.connect(ClientBindingConnection.connect, conninfo, **kwargs)


def __getattr__(name: str) -> Any:
    return getattr(psycopg, name)
