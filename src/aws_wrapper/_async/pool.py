"""A small connection pool for any driver dialect (the MySQL drivers' internal pools).

Why our own for MySQL: no maintained pool covers aiomysql, PyMySQL and mysql.connector in both
worlds with a pluggable connect function. aiomysql's ``Pool`` is async-only and opens its own
connections, PyMySQL has no pool, ``mysql.connector.pooling`` is blocking-only (its async
package has none), and SQLAlchemy's ``QueuePool`` needs greenlet bridging in async code. This
one is written once in the async source (the blocking twin is generated), opens connections
through the wrapper's own connect path, and has psycopg_pool's semantics for the parts the
wrapper uses: a size cap with a bounded wait, idle and lifetime limits, a rollback on return,
and discarding connections that are closed or broken. PostgreSQL uses psycopg_pool itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic

from aws_wrapper._compat import AEvent, AThreadLock, await_event
from aws_wrapper.errors import PoolTimeoutError
from aws_wrapper.telemetry import record_pool_wait

from .connection_provider import close_quietly
from .protocols import DriverConnection, DriverDialect


class AsyncSimplePool:
    """Connections to one host for one user. ``getconn`` hands out the most recently returned
    idle connection (so the rest age out after ``max_idle``), or opens one while fewer than
    ``max_size`` exist, or waits up to ``timeout`` for one to come back."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Awaitable[DriverConnection]],
        driver: DriverDialect,
        *,
        max_size: int,
        max_idle: float,
        max_lifetime: float,
        timeout: float,
    ) -> None:
        self.name = name
        self._connect = connect
        self._driver = driver
        self.max_size = max_size
        self.max_idle = max_idle
        self.max_lifetime = max_lifetime
        self.timeout = timeout
        self._lock = AThreadLock()
        self._idle: deque[tuple[DriverConnection, float]] = deque()  # (conn, returned at)
        # id(conn) -> (opened at, autocommit when opened), for every open connection
        self._born: dict[int, tuple[float, bool]] = {}
        self._waiters: deque[AEvent] = deque()
        self._size = 0  # open connections, idle or in use, plus ones being opened
        self._closed = False

    # -- checkout ----------------------------------------------------------------------------

    async def getconn(self, timeout: float | None = None) -> DriverConnection:
        wait = self.timeout if timeout is None else timeout
        deadline = monotonic() + wait
        while True:
            stale: list[DriverConnection] = []
            conn: DriverConnection | None = None
            open_new = False
            waiter: AEvent | None = None
            with self._lock:
                if self._closed:
                    raise PoolTimeoutError(f"the pool {self.name} is closed")
                now = monotonic()
                while self._idle:
                    candidate, since = self._idle.pop()
                    if self._expired(candidate, since, now):
                        stale.append(candidate)
                        self._forget(candidate)
                        continue
                    conn = candidate
                    break
                if conn is None:
                    if self._size < self.max_size:
                        self._size += 1
                        open_new = True
                    else:
                        waiter = AEvent()
                        self._waiters.append(waiter)
            for old in stale:
                await close_quietly(self._driver, old)
            if stale:
                self._wake()
            if conn is not None:
                return conn
            if open_new:
                return await self._open()
            assert waiter is not None
            waited_from = monotonic()
            left = deadline - waited_from
            if left <= 0 or not await await_event(waiter, left):
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                record_pool_wait(self.name, monotonic() - waited_from, timed_out=True)
                raise PoolTimeoutError(
                    f"no connection of the pool {self.name} came free within {wait:g} s "
                    f"(max_size {self.max_size})"
                )
            record_pool_wait(self.name, monotonic() - waited_from)

    async def _open(self) -> DriverConnection:
        try:
            conn = await self._connect()
        except BaseException:
            with self._lock:
                self._size -= 1
            self._wake()
            raise
        with self._lock:
            self._born[id(conn)] = (monotonic(), self._driver.get_autocommit(conn))
        return conn

    def _expired(self, conn: DriverConnection, since: float, now: float) -> bool:
        if now - since > self.max_idle:
            return True
        if now - self._born.get(id(conn), (now, False))[0] > self.max_lifetime:
            return True
        return self._driver.is_closed(conn)

    # -- return ------------------------------------------------------------------------------

    async def putconn(self, conn: DriverConnection, *, reusable: bool = True) -> None:
        """Give a connection back: rolled back and kept, or closed if it is broken, not
        ``reusable``, past its lifetime, or the pool is closed."""
        driver = self._driver
        now = monotonic()
        born, autocommit = self._born.get(id(conn), (now, False))
        keep = reusable and not self._closed and now - born <= self.max_lifetime
        keep = keep and not driver.is_closed(conn)
        reset = False
        try:
            reset = keep and await self._reset(conn, autocommit)
        finally:  # cancelled mid-reset too: the connection leaves or rejoins the pool
            with self._lock:
                if reset:
                    self._idle.append((conn, now))
                else:
                    self._forget(conn)
            if not reset:  # a reset cut short leaves it mid-protocol: abort it
                await close_quietly(driver, conn, abort=keep)
            self._wake()

    async def _reset(self, conn: DriverConnection, autocommit: bool) -> bool:
        """Back to the state it was opened in; False when that fails."""
        driver = self._driver
        try:
            if driver.in_transaction(conn):
                await driver.rollback(conn)
            if driver.get_read_only(conn):
                await driver.set_read_only(conn, False)
            if driver.get_autocommit(conn) != autocommit:
                await driver.set_autocommit(conn, autocommit)
        except Exception:
            return False
        return True

    def _forget(self, conn: DriverConnection) -> None:
        """Lock held: ``conn`` no longer counts against the pool's size."""
        if self._born.pop(id(conn), None) is not None:
            self._size -= 1

    def _wake(self) -> None:
        with self._lock:
            waiter = self._waiters.popleft() if self._waiters else None
        if waiter is not None:
            waiter.set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def size(self) -> int:
        return self._size

    async def close(self) -> None:
        """Close the idle connections; connections in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle = [conn for conn, _ in self._idle]
            self._idle.clear()
            for conn in idle:
                self._forget(conn)
            waiters = list(self._waiters)
            self._waiters.clear()
        for conn in idle:
            await close_quietly(self._driver, conn)
        for waiter in waiters:
            waiter.set()
