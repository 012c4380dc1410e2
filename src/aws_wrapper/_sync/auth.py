# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/auth.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Authentication plugins' hook into every connection the wrapper opens.

A plugin that supplies credentials (``iam``, ``aws_secrets_manager``, ``federated_auth``,
``okta``) is an :class:`~.protocols.Authenticator`: it turns the properties of a connect into
ones carrying the credentials (a token as password, a user and password from a secret). The
wrapper applies the authenticators at the end of every connect chain, right before the
connection provider, and for the monitors' own connections too (topology, host health,
response times), so every connection to every host logs in the same way. When the server
refuses the login, each authenticator may drop what it cached (a token, a rotated secret) and
ask for one more attempt.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable, Sequence

from aws_wrapper._compat import Lock, monitor_scope
from aws_wrapper.forking import at_fork_in_child, bury
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import Properties

from .protocols import Authenticator, ConnectionProvider, DriverConnection, DriverDialect


class KeyedLocks:
    """One lock per key (and event loop, in async code) so that concurrent connects that miss a
    cache fetch once (one sign-in at the identity provider, one secret read), not once each."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakKeyDictionary[object, dict[Hashable, Lock]] = (
            weakref.WeakKeyDictionary()
        )

    def forget_after_fork(self) -> None:
        """In a forked child: locks may be held by threads of the parent that do not exist
        here; start with new ones."""
        bury(self._locks)
        self._guard = threading.Lock()
        self._locks = weakref.WeakKeyDictionary()

    def __call__(self, key: Hashable) -> Lock:
        scope = monitor_scope()
        with self._guard:
            locks = self._locks.get(scope)
            if locks is None:
                locks = self._locks[scope] = {}
            lock = locks.get(key)
            if lock is None:
                lock = locks[key] = Lock()
            return lock


FETCH_LOCKS = KeyedLocks()
at_fork_in_child(FETCH_LOCKS.forget_after_fork)


def apply(authenticators: Sequence[Authenticator], host: HostInfo, props: Properties) -> Properties:
    for auth in authenticators:
        props = auth.authenticate(host, props)
    return props


def open_authenticated(
    provider: ConnectionProvider,
    authenticators: Sequence[Authenticator],
    host: HostInfo,
    props: Properties,
    driver: DriverDialect,
) -> DriverConnection:
    """Connect with credentials; after a refused login, once more if an authenticator
    refreshed what it had."""
    used = apply(authenticators, host, props)
    try:
        return provider.connect(host, used, driver)
    except Exception as e:
        if not driver.is_login_error(e):
            raise
        retry = [auth.login_failed(host, used) for auth in authenticators]
        if not any(retry):
            raise
    return provider.connect(host, apply(authenticators, host, props), driver)


class AuthenticatingProvider:
    """A connection provider that logs in through the authenticators (for monitors)."""

    def __init__(self, inner: ConnectionProvider, authenticators: Sequence[Authenticator]) -> None:
        self._inner = inner
        self._authenticators = tuple(authenticators)

    def accepts(self, host: HostInfo, props: Properties) -> bool:
        return self._inner.accepts(host, props)

    def accepts_strategy(self, role: HostRole, strategy: str) -> bool:
        return self._inner.accepts_strategy(role, strategy)

    def select_host(
        self, hosts: Sequence[HostInfo], role: HostRole, strategy: str, props: Properties
    ) -> HostInfo:
        return self._inner.select_host(hosts, role, strategy, props)

    def connect(self, host: HostInfo, props: Properties, driver: DriverDialect) -> DriverConnection:
        return open_authenticated(self._inner, self._authenticators, host, props, driver)

    def owns(self, conn: DriverConnection) -> bool:
        return self._inner.owns(conn)

    def release(
        self, conn: DriverConnection, driver: DriverDialect, *, reusable: bool = True
    ) -> None:
        self._inner.release(conn, driver, reusable=reusable)

    def invalidate(self, host: HostInfo) -> None:
        self._inner.invalidate(host)

    def release_resources(self) -> None:
        self._inner.release_resources()
