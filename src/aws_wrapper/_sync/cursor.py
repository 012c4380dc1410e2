# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/cursor.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The wrapper cursor: a PEP 249 cursor whose calls go through the plugin pipeline."""

from __future__ import annotations

import re
from abc import ABCMeta
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import attrgetter
from time import monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Self, TypeAlias

from aws_wrapper._forwarding import forwarding_class, names_of
from aws_wrapper.errors import ConnectionClosedError, ProgrammingError, UnsupportedOperationError
from aws_wrapper.typing import Params, Query, Row

if TYPE_CHECKING:
    from .connection import AwsWrapperConnection
    from .plugin_service import PluginServiceImpl

# a function name, optionally schema-qualified, each part plain or double-quoted
_FUNCTION_NAME = re.compile(r'^(?:[A-Za-z_][\w$]*|"[^"]+")(?:\.(?:[A-Za-z_][\w$]*|"[^"]+"))?$')


class HotPath:
    """What every call of a connection and its cursors reads: the current driver connection
    while it is usable (``live``, kept in step by the plugin service), whether the application
    closed the connection, the chains of the hot methods (None: no plugin subscribes to the
    method, the driver is called directly), the start of the call in flight for the stamper
    plugin (host_monitoring_v2), how to make driver cursors. Bound once, when the connection
    is made (after the initial connect: what plugins subscribe to is settled).

    One small object, so that a call reads its state from few places: in async code above
    all, between two calls the event loop and the driver push the wrapper's data out of the
    CPU caches, and each object a call touches costs.
    """

    __slots__ = (
        "ch_commit",
        "ch_cursor",
        "ch_execute",
        "ch_executemany",
        "ch_fetchall",
        "ch_fetchmany",
        "ch_fetchone",
        "ch_rollback",
        "closed",
        "cursor_kind",
        "cursor_now",
        "direct_cursor",
        "driver",
        "g_commit",
        "g_cursor",
        "g_execute",
        "g_executemany",
        "g_rollback",
        "lean",
        "live",
        "native",
        "native_base",
        "native_made",
        "native_make",
        "native_through_driver",
        "plain_cursor",
        "service",
        "since",
        "stamp_cursor",
        "stamping",
        "tx_open",
        "tx_state",
    )

    def __init__(self, service: PluginServiceImpl) -> None:
        self.service = service
        self.driver = service.driver_dialect
        self.closed = False  # the application closed the connection
        # the current driver connection, None while it is lost: the plugin service keeps it
        # in step with its conn and lost (a call whose driver cursor's connection is not this
        # one renews it first)
        self.live: Any = None if service.lost else service.conn
        service.hot = self
        chain = service.manager.chain
        self.ch_execute = chain("Cursor.execute")
        self.ch_executemany = chain("Cursor.executemany")
        self.ch_fetchone = chain("Cursor.fetchone")
        self.ch_fetchmany = chain("Cursor.fetchmany")
        self.ch_fetchall = chain("Cursor.fetchall")
        self.ch_cursor = chain("Connection.cursor")
        self.ch_commit = chain("Connection.commit")
        self.ch_rollback = chain("Connection.rollback")
        # When no plugin hooks Connection.cursor and the driver makes cursors without I/O,
        # cursor() makes the driver cursor at once (see DriverDialect.cursor): itself with
        # conn.cursor(...) (direct_cursor), or through the dialect's cursor_now(conn, ...).
        hooked = self.ch_cursor is not None
        self.direct_cursor = not hooked and bool(getattr(self.driver, "direct_cursor", False))
        self.cursor_now: Callable[..., Any] | None = (
            None if hooked or self.direct_cursor else getattr(self.driver, "cursor_now", None)
        )
        # whether no plugin hooks a cursor call: wrapper cursors are then of a class whose
        # execute and fetch methods skip the chains (_LeanCursor)
        self.lean = (
            self.ch_execute,
            self.ch_executemany,
            self.ch_fetchone,
            self.ch_fetchmany,
            self.ch_fetchall,
        ) == (None,) * 5
        # (driver cursor class, the wrapper cursor class for it) last seen (cursor_class()):
        # one attribute, so that a thread sharing the connection never reads half of it
        self.cursor_kind: CursorKind = NO_KIND[self.lean]
        # host_monitoring_v2 only needs "in flight since": the hot paths write it here, and
        # the plugin reads it from here; failover_v2 only acts when a call fails: the hot
        # paths call it from their except (see plugin_manager.INLINE)
        manager = service.manager
        stamper = manager.stamper
        self.stamping = manager.stamped("Cursor.execute")
        self.stamp_cursor = manager.stamped("Connection.cursor")
        self.since: float | None = None
        # cursor() without arguments takes a short way when nothing watches it and there
        # are no native cursors to make (set by bind())
        self.plain_cursor = False
        if self.stamping or self.stamp_cursor:
            stamper.stamp = self
        guard = manager.guard
        self.g_execute: Any = guard("Cursor.execute")
        self.g_executemany: Any = guard("Cursor.executemany")
        self.g_cursor: Any = guard("Connection.cursor")
        self.g_commit: Any = guard("Connection.commit")
        self.g_rollback: Any = guard("Connection.rollback")
        # whether a transaction is open, read before a guarded call (a guard's answer
        # depends on it, and a failed call may leave the driver unable to tell): the
        # driver's raw state (tx_state), made a bool (tx_open) only when the call failed
        # (see DriverDialect.in_transaction)
        state = getattr(self.driver, "transaction_state", None)
        state_for = getattr(self.driver, "transaction_state_for", None)
        if state_for is not None and self.live is not None:
            state = state_for(self.live)
        self.tx_state: Callable[[Any], Any] = state or self.driver.in_transaction
        self.tx_open: Callable[[Any], bool] = (
            getattr(self.driver, "transaction_open", bool) if state is not None else bool
        )
        # native cursors (see aws_wrapper._sync.native_cursor) for plain cursor() calls,
        # where the driver has them and no plugin hooks a cursor method (those have the
        # guards and the stamp, not the chains): made by cursor() itself (native), or by the
        # driver's cursor() (native_made: where that is a round trip, stamped)
        chained = (
            self.ch_cursor,
            self.ch_execute,
            self.ch_executemany,
            self.ch_fetchone,
            self.ch_fetchmany,
            self.ch_fetchall,
        )
        self.native_through_driver = bool(getattr(self.driver, "native_through_cursor", False))
        # whether bind() asks the dialect's native_cursor_base(conn) for the class to subclass
        self.native_base = (
            hasattr(self.driver, "native_cursor_base")
            and (self.native_through_driver or not self.stamp_cursor)
            and chained == (None,) * len(chained)
        )
        self.native: type | None = None
        self.native_made: type | None = None
        # (native_made's) how to make one on the current connection: the dialect's
        # native_cursor_maker(conn, cls), which makes it as the driver's cursor() does
        self.native_make: Callable[[Any], Any] | None = None
        self.bind(self.live)

    def bind(self, conn: Any) -> None:
        """``conn`` is the current driver connection (None: it is lost). ``native`` /
        ``native_made``: the class of the native cursors to make on it (None: none, or no
        connection)."""
        native = None
        if conn is not None and self.native_base and not self.closed:
            from .native_cursor import native_class  # it builds on this module

            driver: Any = self.driver  # (native_base: it has native_cursor_base)
            base = driver.native_cursor_base(conn)
            native = None if base is None else native_class(base)
        if self.native_through_driver:
            maker: Any = self.driver  # (a dialect with native_through_cursor has the maker)
            self.native_made = native
            self.native_make = None if native is None else maker.native_cursor_maker(conn, native)
        else:
            self.native = native
        self.plain_cursor = (
            self.direct_cursor and not self.stamp_cursor and native is None and not self.closed
        )
        self.live = conn

    def close(self) -> None:
        """The application closed the connection."""
        self.closed = True
        self.plain_cursor = False
        self.native = None
        self.native_made = None
        self.native_make = None


NO_ARGS: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
"""The driver ``cursor()`` arguments of a cursor made without any (never changed)."""


class AwsWrapperCursor(Generic[Row, Query, Params], metaclass=ABCMeta):
    """A cursor of :class:`AwsWrapperConnection`.

    It holds a cursor of the current driver connection and makes a new one when a plugin has
    replaced that connection (after a failover or a read/write switch), so a cursor stays
    usable across such changes. Rows are the driver's own (tuples by default); for type
    checkers the cursor carries the driver's row, query and parameter types
    (:mod:`aws_wrapper.typing`). Any other public name is the driver cursor's.

    Where the driver allows it, ``cursor()`` without arguments makes a *native* cursor
    instead: an object of a subclass of the driver's cursor class, registered as a subclass of
    this one, which does the same around the driver's code on itself
    (:mod:`aws_wrapper._sync.native_cursor`).
    """

    __slots__ = ("_args", "_arraysize", "_conn", "_cur", "_hot", "_owner")

    # set by Connection.cursor() (which makes cursors without an __init__ to call)
    _conn: AwsWrapperConnection[Any, Any, Any]
    _hot: HotPath  # the connection's (read on every call)
    _args: tuple[tuple[Any, ...], dict[str, Any]] | None  # for the driver's cursor(); None: closed
    _cur: Any  # the driver cursor (None: not made yet)
    _owner: Any  # the driver connection self._cur belongs to (None: none yet, or closed)
    _arraysize: int | None  # set by the application: kept across renewals

    def _renew(self) -> Any:
        """A driver cursor on the current driver connection (replacing a lost one first)."""
        made_with = self._args
        if made_with is None:
            raise ConnectionClosedError("the cursor is closed")
        conn = self._conn
        hot = self._hot
        service = hot.service
        raw = service.conn
        if raw is None or hot.closed:
            raise ConnectionClosedError("the connection is closed")
        try:
            if service.lost:
                raw = conn._recover()
            old = self._cur
            if old is not None and self._owner is not None:
                try:
                    old.close()
                except Exception:
                    pass  # it belonged to a connection that is gone
            args, kwargs = made_with
            guard = hot.g_cursor
            tx = guard is not None and hot.tx_state(raw)
            stamping = hot.stamp_cursor
            if stamping:
                hot.since = monotonic()
            try:
                chain = hot.ch_cursor
                if chain is not None:
                    call = partial(hot.driver.cursor, raw, *args, **kwargs)
                    cur = chain(conn, args, call)
                elif hot.direct_cursor:
                    cur = raw.cursor(*args, **kwargs)
                else:
                    cur = hot.driver.cursor(raw, *args, **kwargs)
            except BaseException as e:
                if stamping:
                    hot.since = None
                if guard is not None and isinstance(e, Exception):
                    conn._guarded(guard, "Connection.cursor", e, tx, raw)
                raise
            if stamping:
                hot.since = None
        except BaseException as e:
            conn._failed(e, raw)
            raise
        if self._arraysize is not None:
            cur.arraysize = self._arraysize
        cls = cursor_class(hot, cur)
        if type(self) is not cls:
            self.__class__ = cls  # the names it forwards are those of this driver cursor
        self._cur = cur
        self._owner = raw
        return cur

    @property
    def driver_cursor(self) -> Any:
        """The underlying driver cursor (None until one is made: by :meth:`cursor` when
        that takes no I/O, else by the first call)."""
        return self._cur

    @property
    def connection(self) -> AwsWrapperConnection[Row, Query, Params]:
        return self._conn

    # -- PEP 249 ---------------------------------------------------------------------------

    def execute(self, query: Query, params: Params | None = None, **kwargs: Any) -> Self:
        hot = self._hot
        owner = self._owner
        # renew when there is none yet, it is closed, or its connection is lost or replaced
        cur = self._renew() if owner is not hot.live or owner is None else self._cur
        chain = hot.ch_execute
        guard = hot.g_execute
        tx = guard is not None and hot.tx_state(self._owner)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        try:
            if chain is None:
                if kwargs:
                    cur.execute(query, params, **kwargs)
                else:
                    cur.execute(query, params)
            else:
                chain(self, (query, params), partial(cur.execute, query, params, **kwargs))
        except BaseException as e:
            self._call_failed(e, "Cursor.execute", guard, tx, stamping)
            raise
        if stamping:
            hot.since = None
        return self

    def executemany(self, query: Query, params_seq: Iterable[Params], **kwargs: Any) -> Self:
        hot = self._hot
        owner = self._owner
        cur = self._renew() if owner is not hot.live or owner is None else self._cur
        chain = hot.ch_executemany
        guard = hot.g_executemany
        tx = guard is not None and hot.tx_state(self._owner)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        try:
            if chain is None:
                cur.executemany(query, params_seq, **kwargs)
            else:
                call = partial(cur.executemany, query, params_seq, **kwargs)
                chain(self, (query, params_seq), call)
        except BaseException as e:
            self._call_failed(e, "Cursor.executemany", guard, tx, stamping)
            raise
        if stamping:
            hot.since = None
        return self

    def _call_failed(
        self, e: BaseException, method: str, guard: Any, tx: Any, stamping: bool
    ) -> None:
        """After a failed execute or executemany (before the caller re-raises): the stamp
        cleared, the guard's turn (failover_v2 may raise an error of its own instead), and
        the connection told (see AwsWrapperConnection._failed)."""
        if stamping:
            self._hot.since = None
        if guard is not None and isinstance(e, Exception):
            self._conn._guarded(guard, method, e, tx, self._owner)
        self._conn._failed(e, self._owner)

    def fetchone(self) -> Row | None:
        cur = self._cur
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        chain = self._hot.ch_fetchone
        row: Row | None
        try:
            row = cur.fetchone() if chain is None else chain(self, (), cur.fetchone)
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return row

    def fetchmany(self, size: int | None = None) -> list[Row]:
        cur = self._cur
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        chain = self._hot.ch_fetchmany
        try:
            if chain is None:
                rows = cur.fetchmany() if size is None else cur.fetchmany(size)
            else:
                call = cur.fetchmany if size is None else partial(cur.fetchmany, size)
                rows = chain(self, (size,), call)
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return rows if type(rows) is list else list(rows)

    def fetchall(self) -> list[Row]:
        cur = self._cur
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        chain = self._hot.ch_fetchall
        try:
            rows = cur.fetchall() if chain is None else chain(self, (), cur.fetchall)
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return rows if type(rows) is list else list(rows)

    def callproc(self, name: str, params: Sequence[Any] = ()) -> Any:
        """Call a stored procedure (PEP 249) and return ``params``. The MySQL drivers call
        it; over psycopg, which has no ``callproc``, it runs ``SELECT * FROM name(params)`` as
        psycopg2 did, the function's result being the cursor's result set."""
        conn = self._conn
        owner = self._owner
        cur = self._renew() if owner is not self._hot.live or owner is None else self._cur
        if not hasattr(cur, "callproc"):
            call_function(self, conn, name, params)
            return params
        try:
            return conn._manager.execute(
                "Cursor.callproc", self, (name, params), partial(cur.callproc, name, params)
            )
        except BaseException as e:
            conn._failed(e, self._owner)
            raise

    def nextset(self) -> bool | None:
        cur = self._cur
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        if not hasattr(cur, "nextset"):
            raise UnsupportedOperationError(f"{self._conn._driver.code} has no nextset()")
        try:
            result: bool | None = self._conn._manager.execute(
                "Cursor.nextset", self, (), cur.nextset
            )
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return result

    def close(self) -> None:
        """Close the cursor. Like the drivers' cursors, it keeps ``description``, ``rowcount``
        and ``lastrowid`` of its last call."""
        owner = self._owner
        self._args = None
        if owner is None:  # none made yet, or closed
            return
        self._owner = None
        if owner is self._hot.live:  # else: its connection is gone
            try:
                self._cur.close()
            except Exception as e:
                self._conn._failed(e, owner)
                raise

    def _no_results(self) -> NoReturn:
        if self._args is None:
            raise ConnectionClosedError("the cursor is closed")
        raise ProgrammingError("no results: execute a query first")

    @property
    def description(self) -> Any:
        return None if self._cur is None else self._cur.description

    @property
    def rowcount(self) -> int:
        return -1 if self._cur is None else int(self._cur.rowcount)

    @property
    def lastrowid(self) -> Any:
        return None if self._cur is None else getattr(self._cur, "lastrowid", None)

    @property
    def closed(self) -> bool:
        return self._args is None

    @property
    def arraysize(self) -> int:
        """Rows :meth:`fetchmany` returns by default (1 unless set); kept when the driver
        cursor is replaced."""
        if self._arraysize is not None:
            return self._arraysize
        return 1 if self._cur is None else int(self._cur.arraysize)

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ProgrammingError(f"arraysize must be a positive integer, got {value!r}")
        self._arraysize = value
        if self._cur is not None:
            self._cur.arraysize = value

    def setinputsizes(self, sizes: Any) -> None:
        return None

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        return None

    # -- protocols ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Row:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    if TYPE_CHECKING:
        # Any other public name is the driver cursor's (psycopg's ``pgresult``,
        # ``statusmessage``, ...), once a call has made one. At run time, a cursor's class is
        # a subclass made for its driver cursor's class, which forwards those names
        # (cursor_class(); see aws_wrapper._forwarding for why not a __getattr__).
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        state = "closed" if self._args is None else "open"
        return f"<{type(self).__name__} {state} on {self._conn!r}>"


class _LeanCursor(AwsWrapperCursor[Row, Query, Params]):
    """The wrapper cursor of a connection where no plugin hooks a cursor call
    (``HotPath.lean``: plain servers with the default plugins, the devcluster's writer, no
    plugins): its execute and fetch methods skip the chain lookups. The guard
    (failover_v2 on a cluster) and the stamp (host_monitoring_v2) stay. Over a pure-Python
    driver (PyMySQL), each field a call reads costs: ~0.5 us per statement less than the
    general methods with a new cursor per statement (docs/benchmarks.md, issue 16)."""

    __slots__ = ()

    def execute(self, query: Query, params: Params | None = None, **kwargs: Any) -> Self:
        hot = self._hot
        owner = self._owner
        cur = self._cur if owner is hot.live and owner is not None else self._renew()
        guard = hot.g_execute
        tx = guard is not None and hot.tx_state(self._owner)
        stamping = hot.stamping
        if stamping:
            hot.since = monotonic()
        try:
            if kwargs:
                cur.execute(query, params, **kwargs)
            else:
                cur.execute(query, params)
        except BaseException as e:
            self._call_failed(e, "Cursor.execute", guard, tx, stamping)
            raise
        if stamping:
            hot.since = None
        return self

    def fetchone(self) -> Row | None:
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        try:
            row: Row | None = self._cur.fetchone()
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return row

    def fetchall(self) -> list[Row]:
        if self._owner is None:  # (none made yet, or closed)
            self._no_results()
        try:
            rows = self._cur.fetchall()
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return rows if type(rows) is list else list(rows)


# its objects show as wrapper cursors (repr, class name): it is one, made for speed
_LeanCursor.__name__ = AwsWrapperCursor.__name__
_LeanCursor.__qualname__ = AwsWrapperCursor.__qualname__


def call_function(
    cur: Any, conn: AwsWrapperConnection[Any, Any, Any], name: str, params: Sequence[Any]
) -> None:
    """``callproc`` over a driver without one (psycopg): ``SELECT * FROM name(params)`` on
    ``cur``, as psycopg2 did, the function's result being the cursor's result set."""
    if conn._driver.engine != "postgresql":
        raise UnsupportedOperationError(f"{conn._driver.code} has no callproc()")
    if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
        raise ProgrammingError(f"callproc: not a function name: {name!r}")
    marks = ", ".join(["%s"] * len(params))
    cur.execute(f"SELECT * FROM {name}({marks})", tuple(params))


_DRIVER_CURSOR = attrgetter("_cur")

PassThroughCursor: type[AwsWrapperCursor[Any, Any, Any]] = forwarding_class(
    AwsWrapperCursor, None, _DRIVER_CURSOR
)
"""The class of cursors whose driver cursor's names cannot be listed (none was made yet,
or its class answers names of its own): any other public name is looked up on the driver
cursor, once a call has made one (see :mod:`aws_wrapper._forwarding`)."""

PASS_THROUGH: dict[bool, type[AwsWrapperCursor[Any, Any, Any]]] = {
    False: PassThroughCursor,
    True: forwarding_class(_LeanCursor, None, _DRIVER_CURSOR),
}
"""PassThroughCursor, and its like for ``HotPath.lean`` connections (by ``lean``)."""

CursorKind: TypeAlias = tuple[type | None, type[AwsWrapperCursor[Any, Any, Any]]]
"""(driver cursor class, the wrapper cursor class for it): ``HotPath.cursor_kind``."""

NO_KIND: dict[bool, CursorKind] = {lean: (None, cls) for lean, cls in PASS_THROUGH.items()}
"""``HotPath.cursor_kind`` before any driver cursor was seen (shared: not one tuple per
connection)."""

_CLASSES: dict[tuple[type, bool], type[AwsWrapperCursor[Any, Any, Any]]] = {}


def _cursor_class(driver_cursor: Any, lean: bool) -> type[AwsWrapperCursor[Any, Any, Any]]:
    """The class of wrapper cursors over driver cursors of ``driver_cursor``'s class: it
    answers any public name the wrapper cursor does not define with the driver cursor's
    (see :mod:`aws_wrapper._forwarding`); a subclass of _LeanCursor when ``lean``."""
    key = (type(driver_cursor), lean)
    cls = _CLASSES.get(key)
    if cls is None:
        names = names_of(driver_cursor)
        cls = (
            PASS_THROUGH[lean]
            if names is None
            else forwarding_class(_LeanCursor if lean else AwsWrapperCursor, names, _DRIVER_CURSOR)
        )
        _CLASSES[key] = cls
    return cls


def cursor_class(hot: HotPath, driver_cursor: Any) -> type[AwsWrapperCursor[Any, Any, Any]]:
    """The wrapper cursor class for ``driver_cursor`` (see ``_cursor_class``), remembered on
    ``hot`` for the next cursor of the connection (the same driver cursor class, as a rule)."""
    kind, cls = hot.cursor_kind
    if type(driver_cursor) is not kind:
        cls = _cursor_class(driver_cursor, hot.lean)
        hot.cursor_kind = (type(driver_cursor), cls)
    return cls
