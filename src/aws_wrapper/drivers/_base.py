"""What the driver dialects of both worlds share: parsing, error shapes, socket aborts."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import ssl
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from aws_wrapper._interned import Interned
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.peer_properties import (
    SOCKET_TIMEOUT,
    TCP_KEEPALIVE,
    TCP_KEEPALIVE_INTERVAL,
    TCP_KEEPALIVE_PROBES,
    TCP_KEEPALIVE_TIME,
)
from aws_wrapper.properties import Properties, notice_once, shown_name
from aws_wrapper.resolver import connect_address

# Errors raised below the drivers (the socket layer) that always mean "connection gone".
SOCKET_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.IncompleteReadError,
    socket.gaierror,
    ssl.SSLEOFError,
    EOFError,
)


def shutdown_fd(fd: int) -> None:
    """Shut a connected socket down, given its file descriptor, from any thread.

    ``shutdown`` acts on the connection, not the descriptor, so a reader blocked on ``fd``
    (libpq, PyMySQL, an event loop) wakes up with EOF/ECONNRESET and fails cleanly; the
    descriptor itself stays valid until its owner closes it. Never ``close()`` it here.
    """
    if fd < 0:
        return
    try:
        dup = os.dup(fd)
    except OSError:
        return
    try:
        s = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        s.close()


def shutdown_socket(sock: Any) -> None:
    """``shutdown_fd`` for a socket-like object (socket, SSLSocket, TransportSocket)."""
    if sock is None:
        return
    try:
        fd = sock.fileno()
    except (OSError, ValueError, AttributeError):
        return
    shutdown_fd(fd)


# ---------------------------------------------------------------------------------------------
# the network properties of aws-advanced-python-wrapper (socket_timeout, tcp_keepalive*)
# ---------------------------------------------------------------------------------------------

_NETWORK_PROPS = tuple(
    p.name
    for p in (
        SOCKET_TIMEOUT,
        TCP_KEEPALIVE,
        TCP_KEEPALIVE_TIME,
        TCP_KEEPALIVE_INTERVAL,
        TCP_KEEPALIVE_PROBES,
    )
)


@dataclass(frozen=True, slots=True)
class PeerNetwork:
    """What ``socket_timeout`` and ``tcp_keepalive*`` ask for; each dialect turns it into its
    driver's parameters (see :mod:`aws_wrapper.peer_properties`)."""

    socket_timeout: float | None
    keepalive: bool | None
    idle: int | None
    interval: int | None
    count: int | None

    @property
    def timeout(self) -> float | None:
        """The socket timeout, None when none applies (unset or 0)."""
        t = self.socket_timeout
        return t if t is not None and t > 0 else None

    @property
    def whole_timeout(self) -> int | None:
        """The socket timeout in whole seconds, rounded up (drivers that take ints)."""
        t = self.timeout
        return None if t is None else max(1, math.ceil(t))

    @property
    def keepalive_on(self) -> bool | None:
        """Keepalive on or off as asked (timings alone ask for it on); None: not asked."""
        if self.keepalive is not None:
            return self.keepalive
        if self.idle is not None or self.interval is not None or self.count is not None:
            return True
        return None


def peer_network(props: Properties) -> PeerNetwork | None:
    """The peer's network properties given in ``props``, or None when none is."""
    wrapper = props.wrapper
    if not any(name in wrapper for name in _NETWORK_PROPS):
        return None
    return PeerNetwork(
        props.get(SOCKET_TIMEOUT),
        props.get(TCP_KEEPALIVE),
        props.get(TCP_KEEPALIVE_TIME),
        props.get(TCP_KEEPALIVE_INTERVAL),
        props.get(TCP_KEEPALIVE_PROBES),
    )


_KEEPALIVE_OPTIONS = (
    ("TCP_KEEPIDLE", "idle"),
    ("TCP_KEEPINTVL", "interval"),
    ("TCP_KEEPCNT", "count"),
)


def set_keepalive(sock: Any, net: PeerNetwork, driver: str) -> None:
    """Apply ``tcp_keepalive*`` to a connected socket (the MySQL drivers have no parameters
    for them). ``sock`` None (a driver whose socket cannot be reached): one INFO line."""
    on = net.keepalive_on
    if on is None:
        return
    if sock is None:
        notice_once(
            f"tcp_keepalive:{driver}",
            f"properties 'tcp_keepalive*': not applied with {driver}: its socket cannot be "
            "reached (for mysql-connector: the C extension; use_pure=True reaches it)",
        )
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1 if on else 0)
        if on:
            for option, field in _KEEPALIVE_OPTIONS:
                value = getattr(net, field)
                number = getattr(socket, option, None)
                if value is not None and number is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, number, value)
    except OSError as e:
        notice_once(
            f"tcp_keepalive-failed:{driver}",
            f"properties 'tcp_keepalive*': the socket refused the keepalive options ({e})",
        )


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

PG_DEFAULT_PORT = 5432
# SQLSTATE classes/codes that mean the connection or server is gone.
PG_NETWORK_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "58030"})
PG_LOGIN_SQLSTATES = frozenset({"28000", "28P01"})
# connect failures psycopg reports without SQLSTATE that are not about the network
PG_NOT_NETWORK_MESSAGES = ("does not exist", "permission denied", "is not permitted")
PG_LOGIN_MESSAGES = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "authentication failed",
    'role "',
    "password is required",
    "fe_sendauth: no password supplied",
)


def parse_pg_conninfo(conninfo: str) -> dict[str, Any]:
    """Parse a libpq conninfo string (``key=value ...`` or a ``postgresql://`` URI).

    Done here rather than by libpq so that wrapper properties may stand in it too
    (``"host=... dbname=app plugins=failover_v2"``).
    """
    text = conninfo.strip()
    if not text:
        return {}
    if text.startswith(("postgresql://", "postgres://")):
        return _parse_pg_uri(text)
    out: dict[str, Any] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            # never echo the text: it may hold a password (``password S3cr3t``)
            raise ConfigurationError(
                f"malformed conninfo: expected key=value at character {i + 1} of {n}"
            )
        key = text[i:eq].strip()
        if not key or any(c.isspace() for c in key):
            raise ConfigurationError(
                f"malformed conninfo: bad key at character {i + 1} of {n} (keys are single "
                "words followed by '=')"
            )
        i = eq + 1
        while i < n and text[i].isspace():
            i += 1
        value_chars: list[str] = []
        if i < n and text[i] == "'":
            i += 1
            closed = False
            while i < n:
                c = text[i]
                if c == "\\" and i + 1 < n:
                    value_chars.append(text[i + 1])
                    i += 2
                    continue
                if c == "'":
                    closed = True
                    i += 1
                    break
                value_chars.append(c)
                i += 1
            if not closed:
                raise ConfigurationError(
                    f"malformed conninfo: unterminated quote for {shown_name(key)!r}"
                )
        else:
            while i < n and not text[i].isspace():
                c = text[i]
                if c == "\\" and i + 1 < n:
                    value_chars.append(text[i + 1])
                    i += 2
                    continue
                value_chars.append(c)
                i += 1
        out[key] = "".join(value_chars)
    return out


def _parse_pg_uri(uri: str) -> dict[str, Any]:
    """Errors name what is wrong, never the URI's text: its user info holds the password, and
    an unescaped ``/``, ``?`` or ``#`` in the password moves part of it into the host or port.
    They are raised outside the ``except`` blocks, so no exception in their ``__context__``
    shows the text either."""
    problem = None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        problem = (
            "malformed conninfo URI: bad host or port (characters such as '/', '?', '#' and "
            "'@' in the user name or password must be percent-encoded)"
        )
    if problem is not None:
        raise ConfigurationError(problem)
    out: dict[str, Any] = {}
    if parts.username:
        out["user"] = unquote(parts.username)
    if parts.password:
        out["password"] = unquote(parts.password)
    if parts.hostname:
        out["host"] = unquote(parts.hostname)
    if port:
        out["port"] = port
    if parts.path and parts.path != "/":
        out["dbname"] = unquote(parts.path.lstrip("/"))
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        out[k] = v
    return out


def host_from(params: Mapping[str, Any], default_port: int, host_key: str = "host") -> HostInfo:
    host = params.get(host_key) or "localhost"
    if not isinstance(host, str):
        raise ConfigurationError(f"property '{host_key}' must be a string, got {host!r}")
    if "," in host:
        host = host.split(",", 1)[0].strip()
    raw_port = params.get("port") or default_port
    if isinstance(raw_port, str) and "," in raw_port:
        raw_port = raw_port.split(",", 1)[0]
    port = _port_number(raw_port)
    if not 0 < port < 65536:
        raise ConfigurationError(f"property 'port' must be between 1 and 65535, got {port}")
    return starting_host(host, port)


_STARTING: Interned[tuple[str, int], HostInfo] = Interned(256)


def starting_host(host: str, port: int) -> HostInfo:
    """``HostInfo(host, port)``, one object per endpoint: every connection to it starts from
    the same (immutable) one (see aws_wrapper._interned)."""
    return _STARTING.get((host, port), _new_host)


def _new_host(key: tuple[str, int]) -> HostInfo:
    return HostInfo(*key)


# ---------------------------------------------------------------------------------------------
# MySQL / MariaDB
# ---------------------------------------------------------------------------------------------

MYSQL_DEFAULT_PORT = 3306
MYSQL_NETWORK_ERRNOS = frozenset(
    {
        1053,  # server shutdown in progress
        1077,  # normal shutdown
        1152,  # aborted connection
        1153,  # packet too large (connection dropped)
        1159,  # net read timeout
        1160,  # net read error
        1161,  # net write timeout
        1927,  # MariaDB: connection was killed
        2001,  # can't create unix socket
        2002,  # can't connect through socket
        2003,  # can't connect to server
        2004,  # can't create TCP/IP socket
        2005,  # unknown host
        2006,  # server has gone away
        2011,  # via TCP/IP error
        2012,  # handshake error
        2013,  # lost connection during query
        2026,  # SSL connection error
        2055,  # lost connection (system error)
        4031,  # disconnected by the server for inactivity
    }
)
MYSQL_LOGIN_ERRNOS = frozenset({1044, 1045, 1698, 1251, 2059, 1129, 1130})

ISOLATION_LEVELS = ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")


def isolation_level(level: object) -> str:
    """'READ COMMITTED' etc. from a string (any case, '_' or ' ') or psycopg's enum."""
    name = getattr(level, "name", level)
    text = str(name).strip().upper().replace("_", " ")
    if text not in ISOLATION_LEVELS:
        raise ConfigurationError(
            f"isolation level {level!r} is not one of {', '.join(ISOLATION_LEVELS)}"
        )
    return text


def quote_ident(name: str, quote: str) -> str:
    """An identifier quoted for SQL (``"`` for PostgreSQL, a backtick for MySQL)."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"schema name must be a non-empty string, got {name!r}")
    return quote + name.replace(quote, quote * 2) + quote


SET_READ_ONLY = "SET SESSION TRANSACTION READ ONLY"
SET_READ_WRITE = "SET SESSION TRANSACTION READ WRITE"


class MySQLDialectBase:
    """What every MySQL driver dialect shares: keyword parameters, default port, the
    network-bound methods (autocommit and read-only switches are statements in MySQL)."""

    engine = "mysql"
    default_port = MYSQL_DEFAULT_PORT
    connect_timeout_param = "connect_timeout"
    network_bound_methods = frozenset(
        {
            "Cursor.execute",
            "Cursor.executemany",
            "Cursor.callproc",
            "Cursor.nextset",
            "Connection.commit",
            "Connection.rollback",
            "Connection.set_autocommit",
            "Connection.set_read_only",
            "Connection.set_isolation_level",
            "Connection.set_schema",
        }
    )
    code: str

    def __init__(self) -> None:
        # MySQL drivers do not track the session's read-only mode: the dialect does
        self._read_only: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()

    def get_read_only(self, conn: Any) -> bool:
        return self._read_only.get(conn, False)

    def parse_target(self, conninfo: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        if conninfo:
            raise ConfigurationError(
                f"{self.code} takes keyword arguments (host=..., user=...), not a conninfo string"
            )
        return mysql_connect_params(kwargs)

    def initial_host(self, driver_props: Mapping[str, Any]) -> HostInfo:
        return host_from(driver_props, MYSQL_DEFAULT_PORT)

    def token_login_params(
        self, driver_props: Mapping[str, Any], ca_file: str | None
    ) -> dict[str, Any]:
        """Driver parameters that send a token as the password: MySQL's cleartext
        authentication, over TLS (see :func:`tls_context`)."""
        if any(k == "ssl" or k.startswith("ssl_") for k in driver_props):
            return {}  # the application configured TLS itself
        return {"ssl": tls_context(ca_file)}

    def create_pool(self, name: str, host: HostInfo, props: Any, settings: Any) -> None:
        """MySQL drivers have no pool usable here: the wrapper's own generic pool is used."""
        return None

    def _connect_kwargs(self, host: HostInfo, props: Properties) -> dict[str, Any]:
        kwargs = dict(props.driver)
        kwargs["host"] = connect_address(host.host, props.wrapper) or host.host
        kwargs["port"] = host.port
        return kwargs


_tls_contexts: dict[str | None, ssl.SSLContext] = {}


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The TLS context for sending a token in clear over MySQL: always encrypted; the server is
    verified (certificate and host name) only against ``ca_file`` when one is given, like the
    mysql client's ``--ssl-mode=REQUIRED`` vs ``VERIFY_IDENTITY``. Built once per CA file."""
    found = _tls_contexts.get(ca_file)
    if found is None:
        if ca_file is None:
            found = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            found.check_hostname = False
            found.verify_mode = ssl.CERT_NONE
        else:
            found = ssl.create_default_context(cafile=ca_file)
        found.minimum_version = ssl.TLSVersion.TLSv1_2
        _tls_contexts[ca_file] = found
    return found


def mysql_errno(error: BaseException) -> int | None:
    """The MySQL error number of a PyMySQL/aiomysql or mysql.connector error."""
    errno = getattr(error, "errno", None)
    if isinstance(errno, int) and errno > 0:
        return errno
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int):
        return int(args[0])
    return None


def mysql_connect_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Normalize the aliases MySQL drivers accept (db/database, passwd/password)."""
    out = dict(params)
    if "db" in out and "database" not in out:
        out["database"] = out.pop("db")
    if "passwd" in out and "password" not in out:
        out["password"] = out.pop("passwd")
    if "port" in out and isinstance(out["port"], str):
        out["port"] = _port_number(out["port"])
    return out


def _port_number(raw: object) -> int:
    """``raw`` as a port number. The error does not echo ``raw``: a missing separator in a
    conninfo string (``port=5432password=...``) runs the password into the port's value; and
    it is raised outside the ``except`` block, so its context does not echo it either."""
    port: int | None = None
    try:
        port = int(cast(Any, raw))
    except (TypeError, ValueError):
        pass
    if port is None:
        raise ConfigurationError(
            f"property 'port' must be an integer from 1 to 65535, got a {type(raw).__name__} "
            "that is not one"
        )
    return port
