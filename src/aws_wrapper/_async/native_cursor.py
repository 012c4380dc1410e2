"""Native wrapper cursors: a wrapper cursor that *is* the driver's cursor.

``cursor()`` without arguments (the common case: a cursor per statement, PEP 249 style and
SQLAlchemy) makes, where the driver allows it, an object of a subclass of the driver's own
cursor class, made once per driver cursor class here, instead of a wrapper object holding a
driver cursor (:class:`~aws_wrapper._async.cursor.AsyncAwsWrapperCursor`). Its PEP 249 methods
do what the wrapper cursor's do (the plugin chains and guards, the host-monitoring stamp, the
error contract, recovery) around the driver's own code, called directly on the same object.
A statement then touches one object and one class less, which is most of what the wrapper
cost per statement, in async code above all (docs/benchmarks.md, issue 16).

What differs from a wrapper cursor holding a driver cursor, by design:

* after the connection was replaced (a failover, a read/write switch) or lost, the cursor's
  next ``execute`` binds the same object to the current driver connection (the driver's
  ``__init__`` on it again: its results are gone anyway), keeping its ``arraysize``;
* ``arraysize`` is the driver's own attribute: a value that is not a positive integer is
  refused by the ``fetchmany()`` that would use it (a wrapper cursor refuses it when set),
  since a check on setting it would cost every cursor a call (the driver's ``__init__`` sets
  it);
* ``driver_cursor`` is the cursor itself; the driver's other public names are its own, but
  ``connection``, the wrapper connection as a wrapper cursor's is (PEP 249), except over
  psycopg, whose own code reads its driver connection there.

Such cursors are instances of :class:`AsyncAwsWrapperCursor` (a virtual subclass) and of the
driver's cursor class. A driver dialect opts in with ``native_cursor_base(conn)``: the class
to subclass, whose objects are made as ``cls(conn)`` without I/O (psycopg); or, where the
driver's ``cursor()`` is a round trip (blocking MySQL Connector/Python pings the server), with
that and ``native_through_cursor = True`` and ``native_cursor_maker(conn, cls)``: a callable
making one on a connection as the driver's ``cursor(cursor_class=cls)`` does, the round trip
included (host-monitoring stamped, like a call). PyMySQL keeps its driver connection in the
cursor's ``connection`` attribute and its execute and close call nextset (which the native
class overrides): over its cursor classes whose code is as ``aws_wrapper.drivers.pymysql``
reads it, the native class keeps that connection in a slot of its own and runs PyMySQL's
execute and close as written there; other classes (``SSCursor``) keep wrapper cursors.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import attrgetter
from time import monotonic
from typing import TYPE_CHECKING, Any

from aws_wrapper._compat import AIO
from aws_wrapper.errors import ConnectionClosedError, ProgrammingError, UnsupportedOperationError

from .cursor import AsyncAwsWrapperCursor, call_function

if TYPE_CHECKING:
    from .cursor import HotPath

_NATIVE: dict[type, type] = {}


def native_class(base: type) -> type:
    """The native wrapper cursor class over the driver cursor class ``base`` (made once)."""
    cls = _NATIVE.get(base)
    if cls is None:
        cls = _NATIVE[base] = _make_native_class(base)
        AsyncAwsWrapperCursor.register(cls)
    return cls


async def _rebind(cur: Any, init: Callable[[Any, Any], None]) -> Any:
    """``cur``'s driver connection is not the current one (replaced, or lost): bind the
    cursor to the current one (``init``: the driver cursor's ``__init__``), replacing a lost
    connection first, and return that connection."""
    hot: HotPath = cur._aws_hot
    conn = cur._aws_conn
    service = hot.service
    raw = service.conn
    if raw is None or hot.closed:
        raise ConnectionClosedError("the connection is closed")
    if cur._aws_owner is None:  # closed by the application (close() drops it)
        raise ConnectionClosedError("the cursor is closed")
    try:
        if service.lost:
            raw = await conn._recover()
        kind: Any = type(cur)  # (not narrowing cur to object)
        if kind is not hot.native and kind is not hot.native_made:
            # the connection now makes cursors of another class (its cursor_factory changed)
            raise ConnectionClosedError(
                "the cursor's connection was replaced by one making other cursors: open a "
                "new cursor"
            )
    except BaseException as e:
        conn._failed(e, raw)
        raise
    arraysize = cur.arraysize
    init(cur, raw)  # the driver's own __init__, on the current connection
    cur.arraysize = arraysize
    cur._aws_owner = raw
    return raw


def _is_closed(cur: Any) -> bool:
    """Whether the application closed ``cur`` (its driver may have closed it too, when its
    connection was lost: mysql-connector does; the cursor moves to the next one then)."""
    return cur._aws_owner is None


def _inlined_errors(d_execute: Any) -> tuple[type[BaseException], ...]:
    """When the driver's execute can be done inline (psycopg's, see
    ``aws_wrapper.drivers.psycopg.INLINE_EXECUTE``), the errors it re-raises without their
    traceback (its internals), as psycopg's execute does; else an empty tuple: no inlining."""
    if not str(getattr(d_execute, "__module__", "")).startswith("psycopg."):
        return ()  # (not psycopg's: psycopg is not imported for it)
    from aws_wrapper.drivers.psycopg import inlined_errors  # (psycopg's code: it is there)

    return inlined_errors(d_execute)


def _keeps_driver_connection(base: type) -> bool:
    """Whether the driver's own code reads its cursors' ``connection`` (psycopg's adaptation
    context and COPY take the driver connection from there): a native class over ``base``
    then leaves that attribute the driver's. Elsewhere it is the wrapper connection, as a
    wrapper cursor's is (PEP 249)."""
    return any(str(k.__module__).startswith("psycopg") for k in base.__mro__)


if not AIO:

    def _pymysql_parts(base: type) -> dict[str, Any]:
        """Over PyMySQL's cursors (see ``aws_wrapper.drivers.pymysql``): its execute, close and
        _get_db as the native class runs them, PyMySQL's connection in the slot ``_aws_db``;
        empty for any other class."""
        if not any(str(k.__module__).startswith("pymysql.") for k in base.__mro__):
            return {}
        from aws_wrapper.drivers.pymysql import native_pymysql_base, native_pymysql_parts

        return native_pymysql_parts(base) if native_pymysql_base(base) else {}


if AIO:

    def _makes_done_futures(d_fetchone: Any) -> bool:
        """Whether the driver's fetchone makes its row at once, returning it in a future that
        is already done: aiomysql's buffered cursors do (a plain function, not a coroutine)."""
        return getattr(d_fetchone, "__module__", None) == "aiomysql.cursors" and not (
            inspect.iscoroutinefunction(d_fetchone)
        )

    def _fetchone_now(d_fetchone: Any) -> Callable[[Any], Any]:
        """A native cursor's fetchone over such a driver fetchone: its future handed on as it
        is (errors, raised at the call, reported as the coroutine version reports them),
        without a coroutine of ours around it."""

        def fetchone(self: Any) -> Any:
            owner = self._aws_owner
            if owner is None:  # closed (the MySQL drivers' fetch methods do not check)
                raise ConnectionClosedError("the cursor is closed")
            try:
                return d_fetchone(self)
            except BaseException as e:
                self._aws_conn._failed(e, owner)
                raise

        return fetchone


def _make_native_class(base: type) -> type:
    # the driver's methods this class runs as the driver's own; over PyMySQL, its execute
    # and close as aws_wrapper.drivers.pymysql writes them (they keep its connection apart)
    parts: dict[str, Any] = {}
    if not AIO:
        parts = _pymysql_parts(base)
    d_init: Callable[[Any, Any], None] = base.__init__  # type: ignore[misc]
    d_execute = parts.get("execute") or base.execute  # type: ignore[attr-defined]
    d_executemany = base.executemany  # type: ignore[attr-defined]
    d_fetchone = base.fetchone  # type: ignore[attr-defined]
    d_fetchmany = base.fetchmany  # type: ignore[attr-defined]
    d_fetchall = base.fetchall  # type: ignore[attr-defined]
    d_nextset = getattr(base, "nextset", None)
    d_callproc = getattr(base, "callproc", None)
    d_close = parts.get("close") or base.close  # type: ignore[attr-defined]
    # whether the driver's execute or close calls its nextset (PyMySQL's and aiomysql's
    # do), which this class overrides: they then run "busy", the override passing through
    reentrant = d_nextset is not None and any(
        "nextset" in getattr(getattr(f, "__code__", None), "co_names", ("nextset",))
        for f in (d_execute, d_close)
    )
    # the errors the driver's execute, done here, re-raises without their traceback; empty
    # when it is not done here
    inlined = () if reentrant else _inlined_errors(d_execute)

    async def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if self._aws_busy:
            # called by the driver's own executemany (the MySQL drivers'): that call does
            # what the wrapper does around it; the driver's result is what it expects
            return await d_execute(self, query, params, **kwargs)
        hot = self._aws_hot
        owner = self._aws_owner
        if owner is not hot.live:
            owner = await _rebind(self, d_init)
        guard = hot.g_execute
        tx = guard is not None and hot.tx_state(owner)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        if reentrant:
            self._aws_busy = True
        try:
            if kwargs:
                await d_execute(self, query, params, **kwargs)
            elif inlined:  # the driver's execute, done here (see INLINE_EXECUTE)
                async with owner.lock:
                    await owner.wait(self._execute_gen(query, params))
            else:
                await d_execute(self, query, params)
        except BaseException as e:
            self._aws_busy = False
            if stamping:
                hot.since = None
            if guard is not None and isinstance(e, Exception):
                await self._aws_conn._guarded(guard, "Cursor.execute", e, tx, owner)
            self._aws_conn._failed(e, owner)
            if not kwargs and isinstance(e, inlined):  # (as psycopg's execute does)
                raise e.with_traceback(None)
            raise
        if reentrant:
            self._aws_busy = False
        if stamping:
            hot.since = None
        return self

    async def executemany(self: Any, query: Any, params_seq: Iterable[Any], **kwargs: Any) -> Any:
        hot = self._aws_hot
        owner = self._aws_owner
        if owner is not hot.live:
            owner = await _rebind(self, d_init)
        guard = hot.g_executemany
        tx = guard is not None and hot.tx_state(owner)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        self._aws_busy = True
        try:
            await d_executemany(self, query, params_seq, **kwargs)
        except BaseException as e:
            self._aws_busy = False
            if stamping:
                hot.since = None
            if guard is not None and isinstance(e, Exception):
                conn = self._aws_conn
                await conn._guarded(guard, "Cursor.executemany", e, tx, owner)
            self._aws_conn._failed(e, owner)
            raise
        self._aws_busy = False
        if stamping:
            hot.since = None
        return self

    async def fetchone(self: Any) -> Any:
        owner = self._aws_owner
        if owner is None:  # closed (the MySQL drivers' fetch methods do not check)
            raise ConnectionClosedError("the cursor is closed")
        try:
            return await d_fetchone(self)
        except BaseException as e:
            self._aws_conn._failed(e, owner)
            raise

    async def fetchmany(self: Any, size: int | None = None) -> list[Any]:
        owner = self._aws_owner
        if owner is None:
            raise ConnectionClosedError("the cursor is closed")
        if size is None:
            # arraysize is the driver's own attribute (set by its __init__ on every cursor:
            # a property checking it there would cost every cursor a call): checked here
            arraysize = self.arraysize
            if type(arraysize) is not int or arraysize < 1:
                raise ProgrammingError(f"arraysize must be a positive integer, got {arraysize!r}")
        try:
            rows = await (d_fetchmany(self) if size is None else d_fetchmany(self, size))
        except BaseException as e:
            self._aws_conn._failed(e, owner)
            raise
        return rows if type(rows) is list else list(rows)  # aiomysql: tuples

    async def fetchall(self: Any) -> list[Any]:
        owner = self._aws_owner
        if owner is None:
            raise ConnectionClosedError("the cursor is closed")
        try:
            rows = await d_fetchall(self)
        except BaseException as e:
            self._aws_conn._failed(e, owner)
            raise
        return rows if type(rows) is list else list(rows)

    def nextset(self: Any) -> Any:
        if self._aws_busy:
            # the driver's own execute or close (the MySQL drivers') gets the driver's nextset
            # as it is, with no call of ours around it; the application's goes through ours
            return d_nextset(self)  # type: ignore[misc]
        return _nextset(self)

    async def _nextset(self: Any) -> bool | None:
        conn = self._aws_conn
        if d_nextset is None:
            raise UnsupportedOperationError(f"{conn._driver.code} has no nextset()")
        try:
            result: bool | None = await conn._manager.execute(
                "Cursor.nextset", self, (), partial(d_nextset, self)
            )
        except BaseException as e:
            conn._failed(e, self._aws_owner)
            raise
        return result

    async def callproc(self: Any, name: str, params: Sequence[Any] = ()) -> Any:
        conn = self._aws_conn
        if d_callproc is None:  # psycopg: the function's result is the cursor's result set
            await call_function(self, conn, name, params)
            return params
        owner = self._aws_owner
        if owner is not self._aws_hot.live:
            owner = await _rebind(self, d_init)
        try:
            return await conn._manager.execute(
                "Cursor.callproc", self, (name, params), partial(d_callproc, self, name, params)
            )
        except BaseException as e:
            conn._failed(e, owner)
            raise

    async def close(self: Any) -> None:
        owner = self._aws_owner
        if owner is None:
            return
        hot = self._aws_hot
        if reentrant:  # (PyMySQL's and aiomysql's close read the rest of the results)
            self._aws_busy = True
        try:
            await d_close(self)
        except Exception as e:
            if owner is hot.live:  # else its connection is gone: nothing to say
                self._aws_conn._failed(e, owner)
                raise
        finally:
            if reentrant:
                self._aws_busy = False
            if owner is hot.live or hot.closed:
                self._aws_owner = None
            # else: a connection that was replaced closing its cursors (mysql-connector
            # does), not the application: the cursor moves to the current connection at its
            # next call, as it would have without this

    def setinputsizes(self: Any, sizes: Any) -> None:
        return None

    def setoutputsize(self: Any, size: Any, column: Any = None) -> None:
        return None

    def driver_cursor(self: Any) -> Any:
        return self

    def __aiter__(self: Any) -> Any:
        return self

    async def __anext__(self: Any) -> Any:
        row = await fetchone(self)
        if row is None:
            raise StopAsyncIteration
        return row

    def __repr__(self: Any) -> str:
        state = "closed" if _is_closed(self) else "open"
        return f"<{AsyncAwsWrapperCursor.__name__} {state} on {self._aws_conn!r}>"

    slots = ("_aws_busy", "_aws_conn", "_aws_hot", "_aws_owner")
    namespace: dict[str, Any] = {
        "__slots__": (*slots, "_aws_db") if parts else slots,
        "_aws_inline_execute": bool(inlined),
        "__module__": AsyncAwsWrapperCursor.__module__,
        "__qualname__": AsyncAwsWrapperCursor.__qualname__,
        "__doc__": AsyncAwsWrapperCursor.__doc__,
        "execute": execute,
        "executemany": executemany,
        "fetchone": fetchone,
        "fetchmany": fetchmany,
        "fetchall": fetchall,
        "nextset": nextset,
        "callproc": callproc,
        "close": close,
        "setinputsizes": setinputsizes,
        "setoutputsize": setoutputsize,
        "driver_cursor": property(driver_cursor),
        "__aiter__": __aiter__,
        "__anext__": __anext__,
        "__repr__": __repr__,
    }
    if AIO:  # noqa: SIM102 (the generator drops an `if AIO:` block whole)
        if _makes_done_futures(d_fetchone):
            namespace["fetchone"] = _fetchone_now(d_fetchone)
    if "_get_db" in parts:
        namespace["_get_db"] = parts["_get_db"]
    if not parts and not _keeps_driver_connection(base):
        namespace["connection"] = property(attrgetter("_aws_conn"))  # (the wrapper's)
    if not hasattr(base, "closed"):
        namespace["closed"] = property(_is_closed)
    if not hasattr(base, "lastrowid"):
        # None until the driver's code sets its own (PyMySQL's does from its first execute
        # on): a class attribute, which that shadows
        namespace["lastrowid"] = None
    cls = type(AsyncAwsWrapperCursor.__name__, (base,), namespace)
    if parts:
        # PyMySQL's __init__ sets `connection`: that goes to the slot, with no frame of ours
        cls.connection = property(  # type: ignore[attr-defined]
            attrgetter("_aws_conn"), cls.__dict__["_aws_db"].__set__
        )
    return cls
