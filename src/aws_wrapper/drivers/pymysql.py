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
from pymysql.constants import SERVER_STATUS

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
