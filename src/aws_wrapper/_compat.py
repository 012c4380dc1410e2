"""The seams between the async and the sync world, written by hand side by side.

Shared code in ``_async/`` uses only the ``A``-prefixed / ``a``-prefixed names below;
``tools/unasync_build.py`` maps each of them to its sync twin (``AEvent`` -> ``Event``,
``asleep`` -> ``sleep``, ...) when it generates ``_sync/``, drops ``if AIO:`` blocks and
unwraps ``await_event``/``arun_blocking`` (they have no sync half).  Every name here is a seam a
reader has to learn, so keep the list short:

=====================  ==============================  ===============================
concept                async                           sync
=====================  ==============================  ===============================
``AIO``                ``True``                        block dropped (branch on it rarely)
``asleep``             ``asyncio.sleep``               ``time.sleep``
``AEvent``             ``asyncio.Event``               ``threading.Event``
``ALock``              ``asyncio.Lock``                ``threading.Lock``
``AThreadLock``        no-op (code without ``await``   ``threading.Lock``
                       is atomic under asyncio)
``AWorker``/``aspawn`` ``asyncio.Task``                daemon ``threading.Thread``
``agather``            ``asyncio.gather``              threads, concurrently
``amonitor_scope``     the running loop                the process
``await_event``        ``event.wait()``, its deadline  ``event.wait(t)`` (unwrapped)
                       in an alarm thread (no timer
                       in the loop's heap)
``arun_blocking``      a bounded thread pool           a direct call (unwrapped)
``AResult[T]``         ``Awaitable[T]``                ``T``
``AAssignedBool``      ``Never`` (no assignment:         ``bool``
                       ``await conn.set_x(v)``)
``AMySQLConnector``    ``mysql.connector.aio``'s        ``mysql.connector``'s
``Connection``         connection classes (types only)  connection classes
=====================  ==============================  ===============================
"""

from __future__ import annotations

import asyncio
import heapq
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, Final, Never, TypeAlias, TypeVar

from aws_wrapper.forking import at_fork_in_child, bury

T = TypeVar("T")

AIO: Final = True
"""True: ``if AIO:`` marks an async-only block, which the generator drops from the sync tree
(keeping the ``else`` block); ``X if AIO else Y`` becomes ``Y`` there. Branch on it only where
the two worlds differ in API shape (sync-only property setters)."""

AResult: TypeAlias = Awaitable[T]
"""What a pipeline step returns: an awaitable of T (async); ``Result[T]`` is T itself (sync)."""
Result: TypeAlias = Annotated[T, "the sync twin of AResult[T]"]

if TYPE_CHECKING:
    # a driver's connection class where the two worlds spell it apart (for the typed faces'
    # overloads; psycopg's and aiomysql's are renamed by the generator's maps)
    import mysql.connector.abstracts
    import mysql.connector.aio
    import mysql.connector.pooling

    AMySQLConnectorConnection: TypeAlias = (
        mysql.connector.aio.MySQLConnectionAbstract | mysql.connector.aio.PooledMySQLConnection
    )
    MySQLConnectorConnection: TypeAlias = (
        mysql.connector.abstracts.MySQLConnectionAbstract
        | mysql.connector.pooling.PooledMySQLConnection
    )

AAssignedBool: TypeAlias = Never
"""What a settable-in-sync property accepts (``conn.read_only = True``): nothing here, for
type checkers (assigning is an error; ``await conn.set_read_only(True)`` does it);
``AssignedBool`` is ``bool``."""
AssignedBool: TypeAlias = bool

# ---------------------------------------------------------------------------------------------
# async halves
# ---------------------------------------------------------------------------------------------

asleep = asyncio.sleep
AEvent = asyncio.Event
ALock = asyncio.Lock


class AThreadLock:
    """A lock for code without ``await`` points: a no-op under asyncio, a real lock in sync."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


async def await_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; True if it was set.

    The deadline is kept off the loop's timer heap (see ``_Alarms``): a monitor waits here
    between its checks, for seconds, and a timer waiting that long in the heap costs every
    timer the application's code makes meanwhile comparisons in Python (psycopg makes one per
    wait for its socket: a loop with a monitor's timer in it paid +12 to +48 bytecodes per
    statement, issue 16)."""
    if event.is_set():
        return True
    if timeout is None:
        await event.wait()
        return True
    if timeout <= 0:
        await asyncio.sleep(0)  # a wait, if a short one: a caller's loop never spins the loop
        return event.is_set()
    try:
        async with asyncio.timeout(None) as scope:
            alarm = _ALARMS.add(time.monotonic() + timeout, scope)
            try:
                await event.wait()
            finally:
                alarm[2] = None  # done: the alarm does nothing when it goes off
    except TimeoutError:
        return event.is_set()
    return True


def _expire(alarm: list[Any]) -> None:
    """On the waiting task's loop, at its deadline: end its wait (unless it ended already)."""
    scope = alarm[2]
    if scope is not None:
        alarm[2] = None
        scope.reschedule(asyncio.get_running_loop().time())  # times out at once


class _Alarms:
    """The deadlines of ``await_event`` waits, kept in one daemon thread per process instead of
    the waiting loop's timer heap. At a deadline the thread hands the wait's end to its loop
    (``call_soon_threadsafe``); a wait that ended before its deadline just marks its alarm
    done. The thread starts on first use and ends after a minute without alarms, or at once
    when ``release_resources()`` leaves none (``stop_if_idle``)."""

    IDLE_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, list[Any]]] = []  # (deadline, seq, alarm)
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def add(self, deadline: float, scope: asyncio.Timeout) -> list[Any]:
        """An alarm ending ``scope`` (entered, on the running loop) at ``deadline``
        (time.monotonic()): ``[loop, deadline, scope]``; ``alarm[2] = None`` cancels it."""
        alarm: list[Any] = [asyncio.get_running_loop(), deadline, scope]
        with self._lock:
            self._seq += 1
            self._stopping = False
            heap = self._heap
            if self._seq % 64 == 0 and len(heap) > 64:  # drop the waits that ended
                heap[:] = [e for e in heap if e[2][2] is not None]
                heapq.heapify(heap)
            heapq.heappush(heap, (deadline, self._seq, alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="aws-wrapper-alarms", daemon=True
                )
                self._thread.start()
            elif heap[0][2] is alarm:
                self._changed.notify()  # sooner than what the thread waits for
        return alarm

    def _run(self) -> None:
        heap = self._heap
        with self._lock:
            while True:
                if not heap:
                    if (self._stopping or not self._changed.wait(self.IDLE_S)) and not heap:
                        self._thread = None
                        self._stopping = False
                        return
                    continue
                deadline, _, alarm = heap[0]
                wait = deadline - time.monotonic()
                if alarm[2] is not None and wait > 0:
                    self._changed.wait(wait)
                    continue
                heapq.heappop(heap)
                if alarm[2] is not None:
                    try:
                        alarm[0].call_soon_threadsafe(_expire, alarm)
                    except RuntimeError:  # its loop is closed: nothing waits any more
                        pass

    def stop_if_idle(self) -> threading.Thread | None:
        """End the thread now if no wait has a live alarm (it keeps going otherwise): the
        thread told to end (to wait for), or None."""
        with self._lock:
            heap = self._heap
            heap[:] = [e for e in heap if e[2][2] is not None]
            heapq.heapify(heap)
            thread = self._thread
            if thread is None or heap:
                return None
            self._stopping = True
            self._changed.notify()
            return thread


_ALARMS = _Alarms()


async def astop_idle_alarms() -> None:
    """For ``release_resources()``: the alarm thread ends if no wait of any loop needs it."""
    thread = _ALARMS.stop_if_idle()
    deadline = time.monotonic() + 1.0
    while thread is not None and thread.is_alive() and time.monotonic() < deadline:
        await asyncio.sleep(0.002)


def _new_alarms_after_fork() -> None:
    """A forked child has no alarm thread (and its parent's waits are not its own)."""
    global _ALARMS
    _ALARMS = _Alarms()


os.register_at_fork(after_in_child=_new_alarms_after_fork)


class AWorker:
    """A background worker (a monitor): an asyncio task on the running loop."""

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def is_alive(self) -> bool:
        return not self._task.done()

    async def join(self, timeout: float | None = None) -> bool:
        """Wait until the worker ends; True if it did within ``timeout``."""
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        return bool(done)

    def cancel(self) -> None:
        self._task.cancel()


def aspawn(func: Callable[..., Coroutine[Any, Any, Any]], *args: Any, name: str) -> AWorker:
    """Start ``func(*args)`` in the background on the running loop."""
    return AWorker(asyncio.get_running_loop().create_task(func(*args), name=name))


async def agather(*calls: Callable[[], Awaitable[T]]) -> list[T]:
    """Run zero-argument callables concurrently and return their results in order."""
    return list(await asyncio.gather(*(c() for c in calls)))


def amonitor_scope() -> object:
    """What shared monitors are keyed by: the running event loop (a monitor's task lives on
    one loop, so an app with several loops gets one monitor per loop)."""
    return asyncio.get_running_loop()


OFFLOAD_THREADS = 8
"""Threads for blocking calls made from asyncio (AWS SDK calls, credential files): at most this
many run at once; more wait their turn, so a burst of connects cannot spawn a thread each."""
_offload: ThreadPoolExecutor | None = None
_offload_lock = threading.Lock()


def _forget_offload_after_fork() -> None:
    """A forked child (gunicorn and other pre-fork servers) inherits the pool without its
    threads: start afresh there."""
    global _offload, _offload_lock
    _offload = None
    _offload_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_offload_after_fork)


async def arun_blocking(func: Callable[..., T], *args: Any) -> T:
    """Run a blocking function without blocking the event loop, in the offload pool."""
    global _offload
    pool = _offload
    if pool is None:
        with _offload_lock:
            pool = _offload
            if pool is None:
                pool = _offload = ThreadPoolExecutor(OFFLOAD_THREADS, "awsw-offload")
    return await asyncio.get_running_loop().run_in_executor(pool, partial(func, *args))


# ---------------------------------------------------------------------------------------------
# sync halves
# ---------------------------------------------------------------------------------------------

sleep = time.sleep
Event = threading.Event
Lock = threading.Lock
ThreadLock = threading.Lock


class Worker:
    """A background worker (a monitor): a daemon thread."""

    __slots__ = ("_thread",)

    def __init__(self, thread: threading.Thread) -> None:
        self._thread = thread

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the worker ends; True if it did within ``timeout``."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Threads cannot be cancelled: workers watch their own stop event."""
        return None


def spawn(func: Callable[..., Any], *args: Any, name: str) -> Worker:
    """Start ``func(*args)`` in a daemon thread."""
    thread = threading.Thread(target=func, args=args, name=name, daemon=True)
    thread.start()
    return Worker(thread)


def gather(*calls: Callable[[], T]) -> list[T]:
    """Run zero-argument callables concurrently, in threads, and return their results in
    order (the first error is raised, after every call has ended)."""
    if len(calls) <= 1:
        return [c() for c in calls]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="aws-wrapper") as pool:
        futures = [pool.submit(c) for c in calls]
    return [f.result() for f in futures]


class _ProcessScope:
    """The sync world's single scope (weak-referenceable, unlike a bare object())."""


_PROCESS_SCOPE = _ProcessScope()


@at_fork_in_child
def _new_process_scope_after_fork() -> None:
    """A forked child is another process: a scope of its own, so nothing kept for the parent's
    scope (its monitors, pools) is the child's."""
    global _PROCESS_SCOPE
    bury(_PROCESS_SCOPE)
    _PROCESS_SCOPE = _ProcessScope()


def monitor_scope() -> object:
    """What shared monitors are keyed by: the whole process (threads)."""
    return _PROCESS_SCOPE
