# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugin_service.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The plugin service: one per wrapper connection; what plugins see and act through."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeGuard

from aws_wrapper.driver_configuration_profiles import profile_connection_provider
from aws_wrapper.errors import (
    AwsWrapperError,
    ConfigurationError,
    ConnectError,
    LoginError,
    TransactionResolutionUnknownError,
)
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties, is_secret
from aws_wrapper.states.session_state import ROLLBACK_ON_SWITCH, SessionState

from . import session_state
from .auth import AuthenticatingProvider, open_authenticated
from .connection_provider import DIRECT, checked_provider, close_quietly
from .plugin_manager import PluginManager
from .pooled_connection_provider import get_connection_provider
from .protocols import (
    Authenticator,
    ConnectionProvider,
    DatabaseDialect,
    DriverConnection,
    DriverDialect,
    HostListProvider,
    Plugin,
)

if TYPE_CHECKING:
    from aws_wrapper.telemetry import ConnectionTelemetry

    from .cursor import HotPath

logger = logging.getLogger("aws_wrapper")


def _with_profile_provider(props: Properties, given: ConnectionProvider) -> ConnectionProvider:
    """The connection provider of the configuration profile ``props`` names, unless one was
    passed to connect (``given`` is neither the default nor the process-wide one)."""
    if given is not DIRECT and given is not get_connection_provider():
        return given
    provider = profile_connection_provider(props, "sync")
    if provider is None:
        return given
    name = props.wrapper["profile_name"]
    return checked_provider(provider, f"the connection provider of profile '{name}'")


_authenticator_classes: dict[type, bool] = {}


def _is_authenticator(plugin: Plugin) -> TypeGuard[Authenticator]:
    """``isinstance(plugin, Authenticator)``, answered once per plugin class (a runtime
    protocol check costs tens of microseconds, and every connect builds its plugins)."""
    cls = type(plugin)
    found = _authenticator_classes.get(cls)
    if found is None:
        found = _authenticator_classes[cls] = isinstance(plugin, Authenticator)
    return found


class PluginServiceImpl:
    """Implements :class:`~aws_wrapper._sync.protocols.PluginService`."""

    def __init__(
        self,
        props: Properties,
        driver_dialect: DriverDialect,
        dialect: DatabaseDialect,
        host_list_provider: HostListProvider,
        connection_provider: ConnectionProvider,
        initial_host: HostInfo,
    ) -> None:
        self.props = props
        self.driver_dialect = driver_dialect
        self.dialect = dialect
        self.host_list_provider = host_list_provider
        if "profile_name" in props.wrapper:
            connection_provider = _with_profile_provider(props, connection_provider)
        self.connection_provider = connection_provider
        self.initial_host = initial_host
        self.authenticators: tuple[Authenticator, ...] = ()
        self.monitor_connection_provider: ConnectionProvider = DIRECT
        self.session = SessionState()
        # the ids of the connections that have been current and are not given back yet: their
        # session state is reset when they are (see release_connection)
        self._shaped: set[int] = set()
        self.manager = PluginManager((), driver_dialect.network_bound_methods)
        # the hot path reads this attribute directly
        self.conn: DriverConnection | None = None
        # the current driver connection is broken (a network error, a cancelled call, a
        # failed failover): the next call replaces it first (see recover())
        self.lost = False
        self.lost_in_transaction = False  # a transaction was open on it: say so once
        # the connection's hot-path state, whose ``live`` (conn while not lost) is kept in
        # step here (set by the wrapper connection)
        self.hot: HotPath | None = None
        # set by the telemetry chain link when enable_telemetry is on
        self.telemetry: ConnectionTelemetry | None = None
        self._host: HostInfo | None = None
        self._hosts: Sequence[HostInfo] = (initial_host,)

    # -- state -------------------------------------------------------------------------------

    @property
    def current_connection(self) -> DriverConnection | None:
        return self.conn

    @property
    def current_host(self) -> HostInfo | None:
        return self._host

    @property
    def hosts(self) -> Sequence[HostInfo]:
        return self._hosts

    def set_current_connection(self, conn: DriverConnection, host: HostInfo) -> None:
        old = self.conn
        driver = self.driver_dialect
        session = self.session
        if session.pristine_autocommit is None:
            session_state.capture_pristine(session, driver, conn)
        # the old connection is still usable (not lost, not closed): a transaction left open
        # on it is rolled back (rollback_on_switch)
        old_usable = old is not None and old is not conn and not self.lost
        if old is not None and old is not conn:
            # replay the session on the new connection before it becomes current: an error or
            # a cancellation half-way leaves the old one in place, never a half-set-up one
            try:
                session_state.transfer(session, self.props, driver, conn)
            except BaseException:
                self.release_connection(conn, reusable=False)
                raise
        self.conn = conn
        self._host = host
        self.lost = False
        self._shaped.add(id(conn))
        if self.hot is not None:
            self.hot.bind(conn)
        if old_usable and self.props.get(ROLLBACK_ON_SWITCH):
            self._roll_back_left(old)
        self.manager.notify_connection_changed(old, host)

    def _roll_back_left(self, conn: DriverConnection) -> None:
        """Roll back a transaction left open on ``conn``, a connection switched away from."""
        driver = self.driver_dialect
        try:
            if not driver.is_closed(conn) and driver.in_transaction(conn):
                driver.rollback(conn)
        except Exception as e:
            logger.debug("rollback on the connection switched away from failed: %r", e)

    def mark_lost(
        self,
        conn: DriverConnection,
        *,
        interrupted: bool = False,
        in_transaction: bool | None = None,
    ) -> None:
        """``conn`` (the current connection) is broken: abort it, so that nothing is read
        from it any more, and replace it at the start of the next call. ``interrupted``: a call
        on it was cancelled half-way, so its protocol state is unknown. ``in_transaction``:
        whether a transaction was open (None: ask the driver now)."""
        if conn is not self.conn or self.lost:
            return
        driver = self.driver_dialect
        if in_transaction is None:
            # a broken connection may not know any more (psycopg: UNKNOWN); outside
            # autocommit every statement runs in a transaction, so count it as open
            try:
                in_transaction = driver.in_transaction(conn) or not driver.get_autocommit(conn)
            except Exception:
                in_transaction = True
        self.lost_in_transaction = in_transaction
        if logger.isEnabledFor(logging.DEBUG):
            why = "a call on it was interrupted" if interrupted else "it failed"
            logger.debug("the connection to %s is lost (%s)", self._host, why)
        driver.abort(conn)
        self.lost = True
        if self.hot is not None:
            self.hot.bind(None)

    def recover(self) -> None:
        """Replace the lost current connection. A plugin that can (failover, on a cluster)
        fails over and raises its error (:class:`FailoverSuccessError` ...); otherwise a new
        connection is opened to the same host through the pipeline and the call goes on, unless
        a transaction was open on the lost one (:class:`TransactionResolutionUnknownError`)."""
        old, host = self.conn, self._host
        if old is None or host is None or not self.lost:
            return
        in_transaction = self.lost_in_transaction
        for plugin in self.manager.plugins:
            if plugin.recover(in_transaction):
                return
        try:
            conn = self.connect(host)
        except AwsWrapperError:
            raise
        except Exception as e:
            raise self.connect_error(e, host) from e
        self.set_current_connection(conn, host)
        self.release_connection(old, reusable=False)
        if in_transaction:
            raise TransactionResolutionUnknownError(
                f"the connection to {host.url} was lost during a transaction and has been "
                "reopened; the transaction did not complete. Re-run it."
            )

    # -- actions -----------------------------------------------------------------------------

    def connect(
        self, host: HostInfo, props: Properties | None = None, *, skip: Plugin | None = None
    ) -> DriverConnection:
        use = props or self.props
        return self.manager.connect(host, use, False, lambda: self._open(host, use), skip=skip)

    def _open(self, host: HostInfo, props: Properties) -> DriverConnection:
        """The end of every connect chain: the connection provider."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("connecting to %s with %s", host.url, props.masked())
        provider = self.connection_provider
        if not provider.accepts(host, props):
            provider = DIRECT
        if self.authenticators:
            return open_authenticated(
                provider, self.authenticators, host, props, self.driver_dialect
            )
        return provider.connect(host, props, self.driver_dialect)

    def set_plugins(self, plugins: Sequence[Plugin]) -> None:
        """Install the connection's plugins (once, right after they are built)."""
        self.manager = PluginManager(plugins, self.driver_dialect.network_bound_methods)
        self.authenticators = tuple(p for p in plugins if _is_authenticator(p))
        if self.authenticators:
            self.monitor_connection_provider = AuthenticatingProvider(DIRECT, self.authenticators)

    def release_connection(self, conn: DriverConnection, *, reusable: bool = True) -> None:
        driver = self.driver_dialect
        session = self.session
        provider = self.connection_provider
        try:
            if id(conn) in self._shaped:
                self._shaped.discard(id(conn))
                if reusable:
                    reusable = session_state.reset(
                        session, self.props, driver, conn, pooled=provider.owns(conn)
                    )
            elif reusable:
                # a pool resets autocommit, read-only and the transaction, not these
                reusable = session.isolation_level is None and session.schema is None
            provider.release(conn, driver, reusable=reusable)
        except Exception:
            close_quietly(driver, conn, abort=True)

    def connect_error(self, error: Exception, host: HostInfo) -> AwsWrapperError:
        """The wrapper's error for a failed connect to ``host``: names the host and the
        driver, never a secret property's value."""
        detail = str(error).strip() or type(error).__name__
        for source in (self.props.driver, self.props.wrapper):
            for key, value in source.items():
                if is_secret(key) and isinstance(value, str) and len(value) >= 3:
                    detail = detail.replace(value, "***")
        code = self.driver_dialect.code
        if isinstance(error, TypeError | ValueError):
            return ConfigurationError(f"bad connection parameters for {code}: {detail}")
        if self.driver_dialect.is_login_error(error):
            return LoginError(f"login to {host.url} ({code}) failed: {detail}", host.url)
        return ConnectError(f"could not connect to {host.url} ({code}): {detail}", host.url)

    def in_transaction(self) -> bool:
        conn = self.conn
        return conn is not None and self.driver_dialect.in_transaction(conn)

    def is_network_error(self, error: BaseException) -> bool:
        return self.driver_dialect.is_network_error(error)

    def is_login_error(self, error: BaseException) -> bool:
        return self.driver_dialect.is_login_error(error)

    def release_resources(self) -> None:
        self.manager.release_resources()

    def __repr__(self) -> str:
        return f"PluginService(host={self._host}, driver={self.driver_dialect.code})"
