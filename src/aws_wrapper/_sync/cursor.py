# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/cursor.py
# Change the async source (or the table in tools/unasync_build.py), then `make generate`.
"""The wrapper cursor: a PEP 249 cursor whose calls go through the plugin pipeline."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from time import monotonic
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self

from aws_wrapper.errors import ConnectionClosedError, ProgrammingError

if TYPE_CHECKING:
    from .connection import AwsWrapperConnection


class AwsWrapperCursor:
    """A cursor of :class:`AsyncAwsWrapperConnection`.

    It holds a cursor of the current driver connection and makes a new one when a plugin has
    replaced that connection (after a failover or a read/write switch), so a cursor stays
    usable across such changes. Rows are the driver's own (tuples by default).
    """

    __slots__ = ("_args", "_closed", "_conn", "_cur", "_owner")

    def __init__(self, conn: AwsWrapperConnection, args: tuple[Any, ...], kwargs: Any) -> None:
        self._conn = conn
        self._args = (args, kwargs)
        self._cur: Any = None
        self._owner: Any = None  # the driver connection self._cur belongs to
        self._closed = False

    def _renew(self) -> Any:
        if self._closed:
            raise ConnectionClosedError("the cursor is closed")
        conn = self._conn
        raw = conn._service.conn
        if raw is None or conn._closed:
            raise ConnectionClosedError("the connection is closed")
        if self._cur is not None:
            try:
                self._cur.close()
            except Exception:
                pass  # it belonged to a connection that is gone
        args, kwargs = self._args
        chain = conn._manager.chain("Connection.cursor")
        if chain is None:
            self._cur = conn._driver.cursor(raw, *args, **kwargs)
        else:
            call = partial(conn._driver.cursor, raw, *args, **kwargs)
            self._cur = chain(conn, args, call)
        self._owner = raw
        return self._cur

    @property
    def driver_cursor(self) -> Any:
        """The underlying driver cursor (None before the first call)."""
        return self._cur

    @property
    def connection(self) -> AwsWrapperConnection:
        return self._conn

    # -- PEP 249 ---------------------------------------------------------------------------

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Self:
        conn = self._conn
        cur = self._cur
        if cur is None or self._owner is not conn._service.conn:
            cur = self._renew()
        chain = conn._ch_execute
        stamp = conn._stamp
        if stamp is not None:
            stamp.since = monotonic()
        try:
            if chain is None:
                cur.execute(query, params, **kwargs)
            else:
                chain(self, (query, params), partial(cur.execute, query, params, **kwargs))
        finally:
            if stamp is not None:
                stamp.since = None
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Self:
        conn = self._conn
        cur = self._cur
        if cur is None or self._owner is not conn._service.conn:
            cur = self._renew()
        chain = conn._ch_executemany
        stamp = conn._stamp
        if stamp is not None:
            stamp.since = monotonic()
        try:
            if chain is None:
                cur.executemany(query, params_seq, **kwargs)
            else:
                call = partial(cur.executemany, query, params_seq, **kwargs)
                chain(self, (query, params_seq), call)
        finally:
            if stamp is not None:
                stamp.since = None
        return self

    def fetchone(self) -> Any:
        cur = self._cur
        if cur is None:
            self._no_results()
        chain = self._conn._ch_fetchone
        if chain is None:
            return cur.fetchone()
        return chain(self, (), cur.fetchone)

    def fetchmany(self, size: int | None = None) -> list[Any]:
        cur = self._cur
        if cur is None:
            self._no_results()
        chain = self._conn._ch_fetchmany
        if chain is None:
            rows = cur.fetchmany() if size is None else cur.fetchmany(size)
        else:
            call = cur.fetchmany if size is None else partial(cur.fetchmany, size)
            rows = chain(self, (size,), call)
        return rows if type(rows) is list else list(rows)

    def fetchall(self) -> list[Any]:
        cur = self._cur
        if cur is None:
            self._no_results()
        chain = self._conn._ch_fetchall
        rows = cur.fetchall() if chain is None else chain(self, (), cur.fetchall)
        return rows if type(rows) is list else list(rows)

    def callproc(self, name: str, params: Sequence[Any] = ()) -> Any:
        cur = self._cur
        if cur is None or self._owner is not self._conn._service.conn:
            cur = self._renew()
        return self._conn._manager.execute(
            "Cursor.callproc", self, (name, params), partial(cur.callproc, name, params)
        )

    def nextset(self) -> bool | None:
        cur = self._cur
        if cur is None:
            self._no_results()
        result: bool | None = self._conn._manager.execute("Cursor.nextset", self, (), cur.nextset)
        return result

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        cur, self._cur = self._cur, None
        if cur is not None and self._owner is self._conn._service.conn:
            cur.close()

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
        return 1 if self._cur is None else int(self._cur.arraysize)

    @arraysize.setter
    def arraysize(self, value: int) -> None:
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

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
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
