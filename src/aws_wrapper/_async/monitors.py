"""What every shared monitor (topology, host health, custom endpoint) has in common: one per
key per scope (event loop in async code, process in blocking code), and a background worker that
starts on demand and stops on request."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_wrapper._compat import AEvent, AThreadLock, AWorker, amonitor_scope, aspawn
from aws_wrapper.forking import at_fork_in_child, bury
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from .connection_provider import close_quietly
from .protocols import ConnectionProvider, DriverConnection, DriverDialect
from .resources import Releasable, register_resource

M = TypeVar("M", bound=Releasable)


class MonitorRegistry(Generic[M]):
    """``key -> monitor`` per scope; monitors are registered for ``release_resources()``.

    A forked child starts with none: the parent's monitors (their connections are the
    parent's sockets) are forgotten there, never stopped or closed (see
    :mod:`aws_wrapper.forking`)."""

    def __init__(self) -> None:
        self._by_scope: weakref.WeakKeyDictionary[Any, dict[str, M]] = weakref.WeakKeyDictionary()
        self._lock = AThreadLock()
        _registries.append(self)

    def _forget_after_fork(self) -> None:
        bury(list(self._by_scope.items()))
        self._by_scope = weakref.WeakKeyDictionary()
        self._lock = AThreadLock()

    def get(
        self,
        key: str,
        make: Callable[[], M],
        stale: Callable[[M], bool] | None = None,
        on_get: Callable[[M], None] | None = None,
    ) -> M:
        """The monitor of ``key`` in this scope; made (and registered) when there is none, or
        when ``stale`` says the one there is done for. ``on_get`` runs under the registry's
        lock (so it cannot race :meth:`forget_if`)."""
        with self._lock:
            found = self._by_scope.setdefault(amonitor_scope(), {})
            monitor = found.get(key)
            if monitor is None or (stale is not None and stale(monitor)):
                monitor = found[key] = make()
                register_resource(monitor)
            if on_get is not None:
                on_get(monitor)
            return monitor

    def all(self) -> list[M]:
        """The monitors of this scope."""
        with self._lock:
            return list(self._by_scope.get(amonitor_scope(), {}).values())

    def forget(self, monitor: M) -> None:
        with self._lock:
            self._remove(monitor)

    def forget_if(self, monitor: M, condition: Callable[[], bool]) -> bool:
        """Forget ``monitor`` if ``condition()`` holds, atomically with :meth:`get`."""
        with self._lock:
            if not condition():
                return False
            self._remove(monitor)
            return True

    def _remove(self, monitor: M) -> None:
        for found in self._by_scope.values():
            for key, value in list(found.items()):
                if value is monitor:
                    del found[key]


_registries: list[MonitorRegistry[Any]] = []


@at_fork_in_child
def _forget_monitors_after_fork() -> None:
    for registry in _registries:
        registry._forget_after_fork()


class BackgroundWorker:
    """A monitor's worker (a task / a daemon thread), with stop and wake events."""

    def __init__(self) -> None:
        self._stop = AEvent()
        self._wake = AEvent()
        self._worker: AWorker | None = None
        self._worker_lock = AThreadLock()

    def _start(self, run: Callable[[], Any], name: str) -> None:
        """Start ``run`` unless it is running already."""
        with self._worker_lock:
            if self._worker is None or not self._worker.is_alive():
                self._stop = AEvent()
                self._worker = aspawn(run, name=name)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    async def _stop_worker(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop and wait for it (cancelling it if it does not)."""
        self._stop.set()
        self._wake.set()
        worker = self._worker
        if worker is not None and not await worker.join(timeout):
            worker.cancel()
            await worker.join(1.0)
        self._worker = None


class HostConnectionWorker(BackgroundWorker):
    """A monitor of one host with a connection of its own (never an application's, never
    pooled): host health (EFM), response times."""

    def __init__(
        self,
        host: HostInfo,
        driver: DriverDialect,
        provider: ConnectionProvider,
        props: Properties,
        *,
        autocommit: bool = False,
    ) -> None:
        super().__init__()
        self.host = host
        self.driver = driver
        self.provider = provider
        self._props = props
        self._autocommit = autocommit
        self._conn: DriverConnection | None = None
        self.connections_opened = 0

    async def _ensure_conn(self) -> DriverConnection:
        """The monitor's connection, opened (through ``provider``, so authentication plugins
        log it in) when there is none or it was closed."""
        conn = self._conn
        if conn is None or self.driver.is_closed(conn):
            conn = await self.provider.connect(self.host, self._props, self.driver)
            self.connections_opened += 1
            if self._stop.is_set():
                await self._close(conn)
                raise RuntimeError("monitor stopped")
            if self._autocommit:
                try:  # psycopg would otherwise open a transaction for a ping and keep it
                    await self.driver.set_autocommit(conn, True)
                except Exception:
                    await self._close(conn)
                    raise
            self._conn = conn
        return conn

    async def _drop_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await close_quietly(self.driver, conn, abort=True)

    async def _close(self, conn: DriverConnection) -> None:
        await close_quietly(self.driver, conn)
