"""PyMySQL and aiomysql, what both worlds share. aiomysql is built on PyMySQL: both raise
``pymysql.err`` errors and keep the server status flags the same way, so classification and
state reads are written once here. The dialects themselves are
``aws_wrapper._async.drivers.pymysql`` (aiomysql, written once) and its generated twin
``aws_wrapper._sync.drivers.pymysql`` (PyMySQL)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.constants import SERVER_STATUS

from aws_wrapper._interned import Interned
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties, notice_once

from ._base import (
    MYSQL_LOGIN_ERRNOS,
    MYSQL_NETWORK_ERRNOS,
    SOCKET_ERRORS,
    MySQLDialectBase,
    mysql_errno,
    peer_network,
)


def signature_params(func: Callable[..., Any]) -> frozenset[str]:
    """The keyword parameters of ``func`` (a connect function or a class)."""
    return frozenset(
        name
        for name, p in inspect.signature(func).parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and name != "self"
    )


CLOSE_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    *SOCKET_ERRORS,
    pymysql.err.Error,
)
"""What closing a connection politely may raise (then it is closed without a goodbye)."""


class PyMySQLDialectBase(MySQLDialectBase):
    """What the PyMySQL and aiomysql dialects share (no I/O here)."""

    _params: frozenset[str]

    def driver_params(self) -> frozenset[str] | None:
        return self._params

    def _connect_kwargs(self, host: HostInfo, props: Properties) -> dict[str, Any]:
        kwargs = super()._connect_kwargs(host, props)
        net = peer_network(props)
        if net is not None and net.timeout is not None:
            if "read_timeout" in self._params:  # PyMySQL's socket timeouts
                kwargs.setdefault("read_timeout", net.timeout)
                kwargs.setdefault("write_timeout", net.timeout)
            else:
                notice_once(
                    f"socket_timeout:{self.code}",
                    f"property 'socket_timeout' with {self.code}: not applied ({self.code} has "
                    "no socket read timeout); a host that stops answering is detected by "
                    "host_monitoring_v2 and TCP keepalives (tcp_keepalive*)",
                )
        return kwargs

    def get_autocommit(self, conn: Any) -> bool:
        return bool(conn.get_autocommit())

    def in_transaction(self, conn: Any) -> bool:
        return bool(conn.server_status & SERVER_STATUS.SERVER_STATUS_IN_TRANS)

    # read before every guarded call (see DriverDialect.in_transaction): no frame of ours
    transaction_state = staticmethod(attrgetter("server_status"))

    @staticmethod
    def transaction_open(state: Any) -> bool:
        return bool(state & SERVER_STATUS.SERVER_STATUS_IN_TRANS)

    def is_network_error(self, error: BaseException) -> bool:
        if isinstance(error, SOCKET_ERRORS):
            return True
        if isinstance(error, pymysql.err.Error):
            errno = mysql_errno(error)
            if errno in MYSQL_NETWORK_ERRNOS:
                return True
            # PyMySQL/aiomysql raise InterfaceError(0, '') on a connection they closed
            return isinstance(error, pymysql.err.InterfaceError) and errno in (None, 0)
        return False

    def is_login_error(self, error: BaseException) -> bool:
        return isinstance(error, pymysql.err.Error) and mysql_errno(error) in MYSQL_LOGIN_ERRNOS


# -- native cursors over PyMySQL's blocking cursors ------------------------------------------

# A native cursor (aws_wrapper._async.native_cursor) over PyMySQL's Cursor: PyMySQL keeps its
# driver connection in the cursor's public `connection` attribute, which PEP 249 gives the
# wrapper connection, and its execute and close call nextset, which the native class
# overrides (an extra call of ours per statement). So the native class keeps PyMySQL's
# connection in a slot (`_aws_db`: its __init__'s `self.connection = ...` sets it, through a
# property without a Python frame), reads it in its own _get_db, and runs PyMySQL's execute
# and close as written below, calling PyMySQL's _nextset directly. That is only right for a
# cursor class whose code is as read here: these four methods PyMySQL's own, with the names
# and variables below, and no other code of the class reading `connection`. Otherwise
# (another PyMySQL, SSCursor, a subclass of the application's reading it) its cursors stay
# wrapper cursors.

_CURSOR = pymysql.cursors.Cursor

_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "execute": (
        ("nextset", "_mogrify", "_query", "_executed"),
        ("self", "query", "args", "result"),
    ),
    "close": (("connection", "nextset"), ("self", "conn")),
    "_get_db": (("connection", "err", "ProgrammingError"), ("self",)),
    "nextset": (("_nextset",), ("self",)),
}
"""PyMySQL's (1.1, 1.2) methods the native class runs as written below: co_names and
co_varnames of each."""

_READING_CONNECTION = ("__init__", "close", "_get_db")
"""The only methods of PyMySQL's Cursor that name `connection` (the first sets it)."""


def _names_connection(code: Any) -> bool:
    return "connection" in code.co_names or any(
        _names_connection(c) for c in code.co_consts if inspect.iscode(c)
    )


_ACCEPTED: Interned[type, bool] = Interned(64)


def native_pymysql_base(cls: Any) -> bool:
    """Whether PyMySQL cursors of class ``cls`` can be native cursors: see above (read once
    per class: every connection asks)."""
    if not (isinstance(cls, type) and issubclass(cls, _CURSOR)):
        return False
    return _ACCEPTED.get(cls, _reads_as_expected)


def _reads_as_expected(cls: type) -> bool:
    for name, (names, varnames) in _SHAPES.items():
        method = getattr(cls, name, None)
        code = getattr(method, "__code__", None)
        if (
            method is not getattr(_CURSOR, name)
            or code is None
            or code.co_names != names
            or code.co_varnames != varnames
        ):
            return False
    allowed = {getattr(_CURSOR, name) for name in _READING_CONNECTION}
    for klass in cls.__mro__:
        for value in vars(klass).values():
            code = getattr(value, "__code__", None)
            if code is not None and value not in allowed and _names_connection(code):
                return False
    return True


def native_pymysql_parts(cls: type) -> dict[str, Any]:
    """PyMySQL's execute, close and _get_db of ``cls`` (for which
    :func:`native_pymysql_base` holds) as its native cursor class runs them, over the slot
    ``_aws_db``."""
    d_nextset = cls._nextset  # type: ignore[attr-defined]  # (nextset is _nextset(False))
    closed = pymysql.err.ProgrammingError

    def execute(self: Any, query: Any, args: Any = None) -> Any:
        while d_nextset(self, False):
            pass
        if args is not None:
            query = self._mogrify(query, args)
        result = self._query(query)
        self._executed = query
        return result

    def close(self: Any) -> None:
        if self._aws_db is None:
            return
        try:
            while d_nextset(self, False):
                pass
        finally:
            self._aws_db = None

    def _get_db(self: Any) -> Any:
        db = self._aws_db
        if db is None:
            raise closed("Cursor closed")
        return db

    return {"execute": execute, "close": close, "_get_db": _get_db}
