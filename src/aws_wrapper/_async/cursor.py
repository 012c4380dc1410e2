"""The wrapper cursor: a PEP 249 cursor whose calls go through the plugin pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import partial
from time import monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Self

from aws_wrapper.errors import ConnectionClosedError, NotSupportedError, ProgrammingError
from aws_wrapper.typing import Params, Query, Row

if TYPE_CHECKING:
    from .connection import AsyncAwsWrapperConnection

# a function name, optionally schema-qualified, each part plain or double-quoted
_FUNCTION_NAME = re.compile(r'^(?:[A-Za-z_][\w$]*|"[^"]+")(?:\.(?:[A-Za-z_][\w$]*|"[^"]+"))?$')


class AsyncAwsWrapperCursor(Generic[Row, Query, Params]):
    """A cursor of :class:`AsyncAwsWrapperConnection`.

    It holds a cursor of the current driver connection and makes a new one when a plugin has
    replaced that connection (after a failover or a read/write switch), so a cursor stays
    usable across such changes. Rows are the driver's own (tuples by default); for type
    checkers the cursor carries the driver's row, query and parameter types
    (:mod:`aws_wrapper.typing`).
    """

    __slots__ = ("_args", "_arraysize", "_closed", "_conn", "_cur", "_owner")

    def __init__(
        self, conn: AsyncAwsWrapperConnection[Any, Any, Any], args: tuple[Any, ...], kwargs: Any
    ) -> None:
        self._conn = conn
        self._args = (args, kwargs)
        self._cur: Any = None
        self._owner: Any = None  # the driver connection self._cur belongs to (None: closed)
        self._arraysize: int | None = None  # set by the application: kept across renewals
        self._closed = False

    async def _renew(self) -> Any:
        """A driver cursor on the current driver connection (replacing a lost one first)."""
        if self._closed:
            raise ConnectionClosedError("the cursor is closed")
        conn = self._conn
        raw = conn._raw()
        try:
            if conn._service.lost:
                raw = await conn._recover()
            old = self._cur
            if old is not None and self._owner is not None:
                try:
                    await old.close()
                except Exception:
                    pass  # it belonged to a connection that is gone
            args, kwargs = self._args
            chain = conn._ch_cursor
            if chain is None:
                cur = await conn._driver.cursor(raw, *args, **kwargs)
            else:
                cur = await chain(conn, args, partial(conn._driver.cursor, raw, *args, **kwargs))
        except BaseException as e:
            conn._failed(e, raw)
            raise
        if self._arraysize is not None:
            cur.arraysize = self._arraysize
        self._cur = cur
        self._owner = raw
        return cur

    @property
    def driver_cursor(self) -> Any:
        """The underlying driver cursor (None before the first call)."""
        return self._cur

    @property
    def connection(self) -> AsyncAwsWrapperConnection[Row, Query, Params]:
        return self._conn

    # -- PEP 249 ---------------------------------------------------------------------------

    async def execute(self, query: Query, params: Params | None = None, **kwargs: Any) -> Self:
        conn = self._conn
        service = conn._service
        cur = self._cur
        if cur is None or self._owner is not service.conn or service.lost:
            cur = await self._renew()
        chain = conn._ch_execute
        stamp = conn._stamp
        if stamp is not None:
            stamp.since = monotonic()
        try:
            if chain is None:
                await cur.execute(query, params, **kwargs)
            else:
                await chain(self, (query, params), partial(cur.execute, query, params, **kwargs))
        except BaseException as e:
            conn._failed(e, self._owner)
            raise
        finally:
            if stamp is not None:
                stamp.since = None
        return self

    async def executemany(self, query: Query, params_seq: Iterable[Params], **kwargs: Any) -> Self:
        conn = self._conn
        service = conn._service
        cur = self._cur
        if cur is None or self._owner is not service.conn or service.lost:
            cur = await self._renew()
        chain = conn._ch_executemany
        stamp = conn._stamp
        if stamp is not None:
            stamp.since = monotonic()
        try:
            if chain is None:
                await cur.executemany(query, params_seq, **kwargs)
            else:
                call = partial(cur.executemany, query, params_seq, **kwargs)
                await chain(self, (query, params_seq), call)
        except BaseException as e:
            conn._failed(e, self._owner)
            raise
        finally:
            if stamp is not None:
                stamp.since = None
        return self

    async def fetchone(self) -> Row | None:
        cur = self._cur
        if cur is None or self._owner is None:
            self._no_results()
        chain = self._conn._ch_fetchone
        row: Row | None
        try:
            row = await (cur.fetchone() if chain is None else chain(self, (), cur.fetchone))
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return row

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        cur = self._cur
        if cur is None or self._owner is None:
            self._no_results()
        chain = self._conn._ch_fetchmany
        try:
            if chain is None:
                rows = await (cur.fetchmany() if size is None else cur.fetchmany(size))
            else:
                call = cur.fetchmany if size is None else partial(cur.fetchmany, size)
                rows = await chain(self, (size,), call)
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return rows if type(rows) is list else list(rows)

    async def fetchall(self) -> list[Row]:
        cur = self._cur
        if cur is None or self._owner is None:
            self._no_results()
        chain = self._conn._ch_fetchall
        try:
            rows = await (cur.fetchall() if chain is None else chain(self, (), cur.fetchall))
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return rows if type(rows) is list else list(rows)

    async def callproc(self, name: str, params: Sequence[Any] = ()) -> Any:
        """Call a stored procedure (PEP 249) and return ``params``. The MySQL drivers call
        it; over psycopg, which has no ``callproc``, it runs ``SELECT * FROM name(params)`` as
        psycopg2 did, the function's result being the cursor's result set."""
        conn = self._conn
        service = conn._service
        cur = self._cur
        if cur is None or self._owner is not service.conn or service.lost:
            cur = await self._renew()
        if not hasattr(cur, "callproc"):
            if conn._driver.engine != "postgresql":
                raise NotSupportedError(f"{conn._driver.code} has no callproc()")
            if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
                raise ProgrammingError(f"callproc: not a function name: {name!r}")
            marks = ", ".join(["%s"] * len(params))
            me: AsyncAwsWrapperCursor[Any, Any, Any] = self
            await me.execute(f"SELECT * FROM {name}({marks})", tuple(params))
            return params
        try:
            return await conn._manager.execute(
                "Cursor.callproc", self, (name, params), partial(cur.callproc, name, params)
            )
        except BaseException as e:
            conn._failed(e, self._owner)
            raise

    async def nextset(self) -> bool | None:
        cur = self._cur
        if cur is None or self._owner is None:
            self._no_results()
        if not hasattr(cur, "nextset"):
            raise NotSupportedError(f"{self._conn._driver.code} has no nextset()")
        try:
            result: bool | None = await self._conn._manager.execute(
                "Cursor.nextset", self, (), cur.nextset
            )
        except BaseException as e:
            self._conn._failed(e, self._owner)
            raise
        return result

    async def close(self) -> None:
        """Close the cursor. Like the drivers' cursors, it keeps ``description``, ``rowcount``
        and ``lastrowid`` of its last call."""
        if self._closed:
            return
        self._closed = True
        cur, owner = self._cur, self._owner
        self._owner = None
        if cur is not None and owner is self._conn._service.conn and not self._conn._service.lost:
            try:
                await cur.close()
            except Exception as e:
                self._conn._failed(e, owner)
                raise

    def _no_results(self) -> NoReturn:
        if self._closed:
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
        return self._closed

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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Row:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    def __getattr__(self, name: str) -> Any:
        """Anything else is the driver cursor's (e.g. psycopg's ``pgresult``, ``statusmessage``,
        PyMySQL's ``_rows``), once a call has made one."""
        if name.startswith("_") or self._cur is None:
            raise AttributeError(name)
        return getattr(self._cur, name)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {state} on {self._conn!r}>"
