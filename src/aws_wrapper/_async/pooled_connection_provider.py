"""Internal connection pools: :class:`AsyncPooledConnectionProvider` (its twin in blocking code
drops the ``Async`` prefix).

Install one with :func:`set_connection_provider` (every new wrapper connection uses it) or pass
``connection_provider=`` to ``connect``. Connections the wrapper opens to an instance endpoint
(read/write splitting's reader and writer switches, failover, an initial connection to an
instance) then come from a pool per host and user, and go back to it instead of being closed,
so switching ``read_only`` back and forth reuses connections rather than reconnecting.
PostgreSQL pools are psycopg_pool pools; MySQL pools are :class:`~.pool.AsyncSimplePool`.
``release_resources()`` closes the pools of the current event loop (blocking: the process).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from aws_wrapper import rds_utils
from aws_wrapper._compat import amonitor_scope
from aws_wrapper._peer import props_view
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.forking import at_fork_in_child, bury
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.pooling import (
    PoolSettings,
    peer_base_settings,
    settings_from_pool_args,
    track_provider,
)
from aws_wrapper.properties import Properties

from .connection_provider import DriverConnectionProvider, checked_provider
from .pool import AsyncSimplePool
from .protocols import ConnectionProvider, DriverConnection, DriverDialect
from .resources import register_resource

PoolKey = Callable[[HostInfo, Properties], str]
PoolConfigurator = Callable[[HostInfo, dict[str, Any]], Mapping[str, Any]]
"""aws-advanced-python-wrapper's pool configurator: ``(host, props) -> pool arguments``."""


def default_pool_key(host: HostInfo, props: Properties) -> str:
    """One pool per host and user (the AWS wrappers' default)."""
    return f"{host.url}/{props.driver.get('user', '')}"


def instance_endpoints_only(host: HostInfo, props: Properties) -> bool:
    """Pool connections to instances only: a cluster endpoint's target moves at failover."""
    kind = rds_utils.classify(host.host)
    return not kind.is_rds_cluster and kind is not rds_utils.RdsUrlType.RDS_PROXY


class _Pooled:
    """One pool with the latest properties its new connections are opened with (an auth
    plugin may have put a fresh token in them)."""

    __slots__ = ("host_url", "pool", "props")

    def __init__(self, host_url: str, props: Properties) -> None:
        self.host_url = host_url
        self.props = props
        self.pool: Any = None


class _ScopePools:
    """The pools of one scope (event loop / process), released together."""

    def __init__(self, provider: AsyncPooledConnectionProvider) -> None:
        self.provider = provider
        self.pools: dict[str, _Pooled] = {}

    async def release_resources(self) -> None:
        await self.provider._close_scope(self)


class AsyncPooledConnectionProvider(DriverConnectionProvider):
    """Opens connections from internal pools, one per host and user (see the module doc).

    ``settings`` sizes each pool; ``pool_key`` maps a host and properties to a pool (default:
    host and user); ``accept`` decides which hosts are pooled (default: instance endpoints, not
    cluster, proxy or custom endpoints). Other hosts get plain connections.

    The arguments of aws-advanced-python-wrapper's pooled providers are accepted too
    (``AsyncPooledConnectionProvider(pool_configurator, pool_mapping, accept_url_func,
    pool_expiration_check_ns, pool_cleanup_interval_ns)``), each a callable taking the host
    and a dict of the connection's properties: ``pool_configurator`` returns the pool's
    arguments (``pool_size``, ``max_overflow``, ``timeout``, ...; see
    :func:`aws_wrapper.pooling.settings_from_pool_args`), ``pool_mapping`` the part of the pool
    key after the host (default: the user), ``accept_url_func`` whether the host is pooled.
    ``pool_expiration_check_ns`` is the idle time after which a pooled connection is closed;
    ``pool_cleanup_interval_ns`` is accepted and ignored (pools drop idle connections as they
    hand them out, and psycopg_pool in the background). Without ``settings`` such a provider
    sizes pools as the peer does: 5 connections plus 10 overflow, a 30 s wait.
    """

    pooled = True

    def __init__(
        self,
        settings: PoolSettings | PoolConfigurator | None = None,
        pool_mapping: Callable[[HostInfo, dict[str, Any]], str] | None = None,
        accept_url_func: Callable[[HostInfo, dict[str, Any]], bool] | None = None,
        pool_expiration_check_ns: int = -1,
        pool_cleanup_interval_ns: int = -1,
        *,
        pool_key: PoolKey | None = None,
        accept: Callable[[HostInfo, Properties], bool] | None = None,
        pool_configurator: PoolConfigurator | None = None,
    ) -> None:
        if settings is not None and not isinstance(settings, PoolSettings):
            if not callable(settings):
                raise ConfigurationError(
                    "pooled connection provider: the first argument must be PoolSettings or a "
                    f"pool configurator (a callable), got {type(settings).__name__}"
                )
            if pool_configurator is not None:
                raise ConfigurationError(
                    "pooled connection provider: the pool configurator is given twice"
                )
            pool_configurator, settings = settings, None
        peer = any((pool_configurator, pool_mapping, accept_url_func)) or -1 not in (
            pool_expiration_check_ns,
            pool_cleanup_interval_ns,
        )
        if settings is None:
            settings = peer_base_settings(pool_expiration_check_ns) if peer else PoolSettings()
        self.settings = settings
        self._configure = pool_configurator
        self._pool_key = _peer_key(pool_key, pool_mapping)
        self._accept = _peer_accept(accept, accept_url_func)
        self._lock = threading.Lock()  # guards the maps below (both worlds: plain dict edits)
        self._scopes: dict[object, _ScopePools] = {}
        # id(conn) -> (conn, its pool): connections handed out and not yet given back
        self._out: dict[int, tuple[DriverConnection, _Pooled]] = {}
        self._in_use: dict[str, int] = {}  # host url -> connections handed out
        track_provider(self)
        _providers.add(self)

    # -- ConnectionProvider (host selection as the plain provider's) ---------------------------

    def accepts(self, host: HostInfo, props: Properties) -> bool:
        return self._accept(host, props)

    async def connect(
        self, host: HostInfo, props: Properties, driver: DriverDialect
    ) -> DriverConnection:
        entry = await self._pool_for(host, props, driver)
        try:
            conn = await entry.pool.getconn()
        except Exception as e:
            if driver.is_network_error(e):
                await self._drop(entry)  # a dead host: stop the pool's background retries
            raise
        with self._lock:
            self._out[id(conn)] = (conn, entry)
            self._in_use[entry.host_url] = self._in_use.get(entry.host_url, 0) + 1
        return conn

    def owns(self, conn: DriverConnection) -> bool:
        """True if ``conn`` came from one of this provider's pools and is still out."""
        return id(conn) in self._out

    async def release(
        self, conn: DriverConnection, driver: DriverDialect, *, reusable: bool = True
    ) -> None:
        with self._lock:
            out = self._out.pop(id(conn), None)
            if out is not None:
                url = out[1].host_url
                self._in_use[url] = self._in_use.get(url, 1) - 1
        if out is None:
            await driver.close(conn)
            return
        entry = out[1]
        if entry.pool is None:  # its pool was dropped meanwhile
            await driver.close(conn)
            return
        await entry.pool.putconn(conn, reusable=reusable and not driver.is_closed(conn))

    async def release_resources(self) -> None:
        """Close this scope's pools (connections in use are closed when given back)."""
        with self._lock:
            scope = self._scopes.get(amonitor_scope())
        if scope is not None:
            await self._close_scope(scope)

    # -- pools -------------------------------------------------------------------------------

    def connections_in_use(self, host: HostInfo) -> int:
        """Connections to ``host`` handed out and not given back (least_connections)."""
        return self._in_use.get(host.url, 0)

    @property
    def num_pools(self) -> int:
        """How many pools the current scope has (the peer's ``num_pools``)."""
        return len(self._scope_pools())

    @property
    def pool_urls(self) -> set[str]:
        """The ``host:port`` of every pool of the current scope (the peer's ``pool_urls``)."""
        return {e.host_url for e in self._scope_pools().values()}

    def keys(self) -> list[str]:
        """The keys of the current scope's pools (``host:port/user`` by default)."""
        return list(self._scope_pools())

    def _scope_pools(self) -> dict[str, _Pooled]:
        with self._lock:
            scope = self._scopes.get(amonitor_scope())
            return dict(scope.pools) if scope is not None else {}

    def pool_stats(self) -> dict[str, tuple[int, int]]:
        """``{pool key: (open connections, idle connections)}`` for the current scope."""
        with self._lock:
            scope = self._scopes.get(amonitor_scope())
            pools = dict(scope.pools) if scope is not None else {}
        return {k: (e.pool.size, e.pool.idle) for k, e in pools.items() if e.pool is not None}

    async def _pool_for(self, host: HostInfo, props: Properties, driver: DriverDialect) -> _Pooled:
        key = self._pool_key(host, props)
        scope_key = amonitor_scope()
        with self._lock:
            scope = self._scopes.get(scope_key)
            if scope is None:
                scope = self._scopes[scope_key] = _ScopePools(self)
                register_resource(scope)
            entry = scope.pools.get(key)
            if entry is not None:
                entry.props = props
                return entry
        # made outside the lock (the pool configurator is the application's code) and
        # published complete: another thread never sees an entry without its pool
        entry = _Pooled(host.url, props)
        settings = self.settings_for(host, props)
        pool = driver.create_pool(f"aws-wrapper:{key}", host, lambda: entry.props, settings)
        if pool is None:

            async def connect() -> DriverConnection:
                return await driver.connect(host, entry.props)

            pool = AsyncSimplePool(
                f"aws-wrapper:{key}",
                connect,
                driver,
                max_size=settings.max_size,
                max_idle=settings.max_idle,
                max_lifetime=settings.max_lifetime,
                timeout=settings.timeout,
            )
        entry.pool = pool
        with self._lock:
            published = scope.pools.get(key)
            if published is None:
                scope.pools[key] = entry
                return entry
            published.props = props
        await pool.close()  # another caller published one meanwhile: this one is spare
        return published

    def settings_for(self, host: HostInfo, props: Properties) -> PoolSettings:
        """The settings of a new pool for ``host`` (the pool configurator's, if one is set)."""
        if self._configure is None:
            return self.settings
        args = self._configure(host, props_view(props))
        if not isinstance(args, Mapping):
            raise ConfigurationError(
                f"pool configurator: must return a dict of pool arguments, got "
                f"{type(args).__name__}"
            )
        return settings_from_pool_args(args, self.settings)

    async def _drop(self, entry: _Pooled) -> None:
        with self._lock:
            for scope in self._scopes.values():
                for key, value in list(scope.pools.items()):
                    if value is entry:
                        del scope.pools[key]
        pool, entry.pool = entry.pool, None
        if pool is not None:
            await pool.close()

    async def invalidate(self, host: HostInfo) -> None:
        """Close the pools of ``host`` (its idle connections now; connections in use when they
        come back), e.g. after the host failed or changed role."""
        with self._lock:
            entries = [
                e for s in self._scopes.values() for e in s.pools.values() if e.host_url == host.url
            ]
        for entry in entries:
            await self._drop(entry)

    async def _close_scope(self, scope: _ScopePools) -> None:
        with self._lock:
            for key, value in list(self._scopes.items()):
                if value is scope:
                    del self._scopes[key]
            entries = list(scope.pools.values())
            scope.pools.clear()
        for entry in entries:
            pool, entry.pool = entry.pool, None
            if pool is not None:
                await pool.close()

    def _forget_after_fork(self) -> None:
        """In a forked child: the pools and the connections handed out are the parent's
        (their sockets too); forget them without closing anything (see
        :mod:`aws_wrapper.forking`). The child opens pools of its own on first use."""
        bury(self._scopes, self._out)
        self._lock = threading.Lock()
        self._scopes = {}
        self._out = {}
        self._in_use = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings})"


_providers: weakref.WeakSet[AsyncPooledConnectionProvider] = weakref.WeakSet()


def _peer_key(
    pool_key: PoolKey | None, pool_mapping: Callable[[HostInfo, dict[str, Any]], str] | None
) -> PoolKey:
    if pool_mapping is None:
        return pool_key or default_pool_key
    if pool_key is not None:
        raise ConfigurationError("pooled connection provider: give pool_key or pool_mapping")

    def mapped(host: HostInfo, props: Properties) -> str:
        return f"{host.url}/{pool_mapping(host, props_view(props))}"

    return mapped


def _peer_accept(
    accept: Callable[[HostInfo, Properties], bool] | None,
    accept_url_func: Callable[[HostInfo, dict[str, Any]], bool] | None,
) -> Callable[[HostInfo, Properties], bool]:
    if accept_url_func is None:
        return accept or instance_endpoints_only
    if accept is not None:
        raise ConfigurationError("pooled connection provider: give accept or accept_url_func")

    def accepted(host: HostInfo, props: Properties) -> bool:
        return bool(accept_url_func(host, props_view(props)))

    return accepted


@at_fork_in_child
def _forget_pools_after_fork() -> None:
    for provider in list(_providers):
        provider._forget_after_fork()


_provider: ConnectionProvider | None = None


def set_connection_provider(provider: ConnectionProvider | None) -> None:
    """Make ``provider`` (e.g. an :class:`AsyncPooledConnectionProvider`) open the connections
    of every wrapper connection created from now on in this world; ``None``: plain
    connections again. A ``connection_provider=`` argument to ``connect`` takes precedence."""
    global _provider
    if provider is not None:
        checked_provider(provider, "set_connection_provider()")
    _provider = provider


def get_connection_provider() -> ConnectionProvider | None:
    """The provider installed by :func:`set_connection_provider`, if any."""
    return _provider
