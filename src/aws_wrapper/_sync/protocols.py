# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/protocols.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The extension points of the wrapper, as ``typing.Protocol``s.

Anything that implements one of these (a driver dialect for another driver, a plugin, a host
selector, ...) can be plugged in; nothing in the wrapper checks for concrete classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aws_wrapper._compat import Result
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.properties import Properties
from aws_wrapper.topology import TopologyEntry

if TYPE_CHECKING:
    from aws_wrapper.telemetry import ConnectionTelemetry

DriverConnection = Any
"""A connection object of the underlying driver (psycopg, PyMySQL, ...)."""

Call = Callable[[], Result[Any]]
"""The rest of a pipeline: call it to go on to the next plugin (an awaitable in async code)."""

ConnectCall = Callable[[], Result[DriverConnection]]


@runtime_checkable
class DriverDialect(Protocol):
    """What the wrapper needs to know and do with one driver (psycopg, PyMySQL, ...)."""

    code: str
    """Short name: 'psycopg', 'pymysql', 'aiomysql', 'mysql-connector', ..."""
    engine: str
    """'postgresql' or 'mysql'."""
    connect_timeout_param: str
    """The connect parameter that bounds how long opening a connection may take (seconds)."""
    network_bound_methods: frozenset[str]
    """Pipeline method names (``Cursor.execute``, ``Connection.commit``...) that touch the
    network for this driver. Failure-handling plugins subscribe to these only."""

    def driver_params(self) -> frozenset[str] | None:
        """Parameter names the connect function accepts (None: it accepts anything)."""
        ...

    def parse_target(self, conninfo: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Merge a conninfo string (psycopg) and keyword arguments into one flat mapping."""
        ...

    def initial_host(self, driver_props: Mapping[str, Any]) -> HostInfo:
        """The host the user asked for (with the engine's default port when none is given)."""
        ...

    def connect(self, host: HostInfo, props: Properties) -> DriverConnection:
        """Open a driver connection to ``host`` with ``props.driver`` (host/port replaced)."""
        ...

    def cursor(self, conn: DriverConnection, *args: Any, **kwargs: Any) -> Any:
        """A new driver cursor.

        When making one takes no I/O, a dialect may let the wrapper make it at once, in
        ``Connection.cursor()`` (when no plugin hooks ``Connection.cursor``), rather than in
        the cursor's first call; either (both optional):

        - a class attribute ``direct_cursor = True``: this method is just
          ``conn.cursor(*args, **kwargs)``, which the wrapper then calls itself;
        - a method ``cursor_now(conn, *args, **kwargs)`` (not a coroutine) returning the
          driver cursor (aiomysql: its ``cursor()`` is awaitable, but finished at once), or
          None when it cannot be made without I/O (the first call then makes it).
        """
        ...

    def commit(self, conn: DriverConnection) -> None: ...

    def rollback(self, conn: DriverConnection) -> None: ...

    def close(self, conn: DriverConnection) -> None: ...

    def abort(self, conn: DriverConnection) -> None:
        """Break the connection from another task or thread, safely: shut the socket down so
        a call blocked on it fails with a network error; never free what a reader uses."""
        ...

    def is_closed(self, conn: DriverConnection) -> bool: ...

    def get_autocommit(self, conn: DriverConnection) -> bool: ...

    def set_autocommit(self, conn: DriverConnection, value: bool) -> None: ...

    def get_read_only(self, conn: DriverConnection) -> bool: ...

    def set_read_only(self, conn: DriverConnection, value: bool) -> None: ...

    def set_isolation_level(self, conn: DriverConnection, level: str) -> None:
        """'READ COMMITTED', 'REPEATABLE READ', ... for the session's next transactions."""
        ...

    def set_schema(self, conn: DriverConnection, schema: str) -> None:
        """The default schema (PostgreSQL ``search_path``) or database (MySQL ``USE``)."""
        ...

    def in_transaction(self, conn: DriverConnection) -> bool:
        """True when a transaction is open (no I/O: from the driver's protocol state).

        The hot paths read it before every call a guard plugin watches (see
        ``plugin_manager.INLINE``). A dialect may make that read cheaper with two attributes
        (both optional, together): ``transaction_state(conn)``, a C-level callable (an
        ``operator.attrgetter``) returning the driver's raw state, and
        ``transaction_open(state) -> bool``, called only when the call failed; and a third,
        ``transaction_state_for(conn)``, where the cheapest read depends on the kind of
        connection (asked once per wrapper connection, for its first driver connection).
        """
        ...

    def ping(self, conn: DriverConnection) -> None:
        """Round trip to the server; raises the driver's error when the connection is dead."""
        ...

    def fetch(
        self, conn: DriverConnection, sql: str, params: Sequence[Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one query on ``conn`` and return all rows as tuples (for dialect queries)."""
        ...

    def is_network_error(self, error: BaseException) -> bool:
        """True when ``error`` means the connection or host is gone (failover material)."""
        ...

    def is_login_error(self, error: BaseException) -> bool:
        """True when ``error`` is an authentication failure."""
        ...

    def token_login_params(
        self, driver_props: Mapping[str, Any], ca_file: str | None
    ) -> dict[str, Any]:
        """Driver parameters to add when the password is a token (IAM): for MySQL, cleartext
        authentication over TLS, verified against ``ca_file`` when given."""
        ...

    def create_pool(
        self, name: str, host: HostInfo, props: Callable[[], Properties], settings: PoolSettings
    ) -> InternalPool | None:
        """The driver's own pool for ``host`` (opening connections like :meth:`connect` with
        ``props()``), or None to use the wrapper's generic pool."""
        ...


class InternalPool(Protocol):
    """One internal pool (one host, one user): psycopg_pool's, or the generic one."""

    def getconn(self, timeout: float | None = None) -> DriverConnection:
        """A connection, waiting at most ``timeout`` s (default: the pool's) for one to free
        up; a failure to open one is raised as is, at once."""
        ...

    def putconn(self, conn: DriverConnection, *, reusable: bool = True) -> None: ...

    @property
    def idle(self) -> int: ...

    @property
    def size(self) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class DatabaseDialect(Protocol):
    """What the wrapper knows of one kind of database (plain PostgreSQL, Aurora MySQL, ...)."""

    code: str
    engine: str
    default_port: int

    @property
    def has_topology(self) -> bool:
        """True when :meth:`topology` answers (Aurora, Multi-AZ): failover is possible."""
        ...

    def host_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        """The id of the instance ``conn`` is on (None when the database has no such id)."""
        ...

    def is_reader(self, conn: DriverConnection, driver: DriverDialect) -> bool: ...

    def topology(self, conn: DriverConnection, driver: DriverDialect) -> list[TopologyEntry] | None:
        """The cluster's instances as ``conn``'s instance reports them (None: this kind of
        database has no topology; the wrapper then treats it as a single server)."""
        ...


@runtime_checkable
class HostListProvider(Protocol):
    """Where the list of hosts (and their roles) comes from."""

    cluster_id: str

    def refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        """The current hosts, from a cache when it is fresh."""
        ...

    def force_refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        """The current hosts, read from the database now."""
        ...

    def identify(self, conn: DriverConnection) -> HostInfo | None:
        """The host ``conn`` is on, as the provider knows it."""
        ...

    def release_resources(self) -> None: ...


@runtime_checkable
class ConnectionProvider(Protocol):
    """Opens driver connections (directly, or from internal pools)."""

    def accepts(self, host: HostInfo, props: Properties) -> bool: ...

    def accepts_strategy(self, role: HostRole, strategy: str) -> bool: ...

    def select_host(
        self, hosts: Sequence[HostInfo], role: HostRole, strategy: str, props: Properties
    ) -> HostInfo: ...

    def connect(
        self, host: HostInfo, props: Properties, driver: DriverDialect
    ) -> DriverConnection: ...

    def owns(self, conn: DriverConnection) -> bool:
        """True if ``conn`` came from this provider's internal pools (and is still out)."""
        ...

    def release(
        self, conn: DriverConnection, driver: DriverDialect, *, reusable: bool = True
    ) -> None:
        """Give back a connection this provider opened: close it, or return it to its pool
        (``reusable=False``: the session was changed in ways a reset does not undo)."""
        ...

    def invalidate(self, host: HostInfo) -> None:
        """Forget pooled connections to ``host`` (it failed, or its role changed)."""
        ...

    def release_resources(self) -> None: ...


@runtime_checkable
class Authenticator(Protocol):
    """A plugin that supplies login credentials (see :mod:`aws_wrapper._sync.auth`)."""

    def authenticate(self, host: HostInfo, props: Properties) -> Properties:
        """``props`` with the credentials for ``host`` (a token as password, a user and
        password from a secret). Raises :class:`~aws_wrapper.errors.AwsAuthError` (or a
        ``PropertyError``) when it cannot supply them; never shows a secret."""
        ...

    def login_failed(self, host: HostInfo, used: Properties) -> bool:
        """The server refused the credentials in ``used`` (the properties the login was
        attempted with): drop cached ones; True asks for one retry."""
        ...


@runtime_checkable
class Plugin(Protocol):
    """A link of the pipeline every connect and network-bound call goes through.

    ``subscribed_methods`` names the methods the plugin wants (``"connect"``,
    ``"Cursor.execute"``, ...) or holds :data:`ALL_METHODS` / :data:`NETWORK_METHODS`. A method
    that no plugin subscribes to runs straight on the driver, at no cost.
    Subclass :class:`aws_wrapper._sync.plugin.BasePlugin` to implement only what you need.
    """

    @property
    def subscribed_methods(self) -> frozenset[str]:
        """Read when the chains are built (after connect): a plugin may subscribe to less
        on a connection where it has nothing to do (failover on a single server)."""
        ...

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        """Called for every new driver connection; ``call()`` opens it."""
        ...

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        """Called for each subscribed method; ``call()`` runs the rest of the chain."""
        ...

    def recover(self, in_transaction: bool) -> bool:
        """The current connection was lost (a network error, a cancelled call, a failed
        failover) and the wrapper is about to make a call on it: replace it, or return False
        to let the next plugin (and finally the wrapper: a new connection to the same host)
        do it. A plugin that replaces it may raise to tell the application (failover raises
        ``FailoverSuccessError``, or ``TransactionResolutionUnknownError`` when
        ``in_transaction``: a transaction was open on the lost connection)."""
        ...

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        """The plugin service's current connection was replaced."""
        ...

    def notify_host_list_changed(self, hosts: Sequence[HostInfo]) -> None: ...

    def release_resources(self) -> None: ...


class PluginService(Protocol):
    """What plugins can see and do: the current connection, hosts, dialects, and connecting
    through the pipeline."""

    props: Properties
    driver_dialect: DriverDialect
    dialect: DatabaseDialect
    host_list_provider: HostListProvider
    connection_provider: ConnectionProvider
    monitor_connection_provider: ConnectionProvider
    """What monitors (topology, host health, response times) open their own connections with:
    plain connections, logged in by the authentication plugins; never pooled."""
    initial_host: HostInfo
    lost: bool
    """The current connection is broken (aborted); it is replaced at the next call."""
    telemetry: ConnectionTelemetry | None
    """The connection's telemetry (None: ``enable_telemetry`` is off); for spans of rare
    events (``aws_wrapper.telemetry.span_of``), never read on the per-call path."""

    @property
    def current_connection(self) -> DriverConnection | None: ...

    @property
    def current_host(self) -> HostInfo | None: ...

    @property
    def hosts(self) -> Sequence[HostInfo]: ...

    def set_current_connection(self, conn: DriverConnection, host: HostInfo) -> None: ...

    def mark_lost(
        self,
        conn: DriverConnection,
        *,
        interrupted: bool = False,
        in_transaction: bool | None = None,
    ) -> None:
        """Abort the current connection ``conn`` and replace it at the start of the next call
        (see :meth:`Plugin.recover`)."""
        ...

    def connect(
        self, host: HostInfo, props: Properties | None = None, *, skip: Plugin | None = None
    ) -> DriverConnection:
        """Open a connection to ``host`` through the pipeline (every plugin but ``skip``)."""
        ...

    def release_connection(self, conn: DriverConnection, *, reusable: bool = True) -> None:
        """Close a connection opened through :meth:`connect` (or return it to its internal
        pool; ``reusable=False`` for a broken one). Never raises: a connection that fails to
        close is aborted."""
        ...

    def in_transaction(self) -> bool: ...

    def is_network_error(self, error: BaseException) -> bool: ...

    def is_login_error(self, error: BaseException) -> bool: ...


ALL_METHODS = "*"
"""Subscribe to every method."""
NETWORK_METHODS = "<network>"
"""Subscribe to the driver dialect's network-bound methods."""
CONNECT = "connect"
