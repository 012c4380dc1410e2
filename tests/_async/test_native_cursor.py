"""Native cursors (aws_wrapper._async.native_cursor): ``cursor()`` without arguments makes an
object of the driver's own cursor class (a subclass made once per class) where the driver
allows it and no plugin hooks a cursor method; it keeps the wrapper cursor's contract:
errors, recovery, moving with the connection, executemany over the MySQL drivers (whose own
executemany calls execute), arraysize checks.

Written once as async code: tests/_sync/test_native_cursor.py is generated from it.
"""

from __future__ import annotations

import os
import sys
import traceback
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import AIO, arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncAwsWrapperCursor
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of

NATIVE = {"psycopg", "mysql-connector", "aiomysql"}
"""The drivers whose plain cursors are native: all (PyMySQL's with a cursor class whose code
aws_wrapper.drivers.pymysql.native_pymysql_base accepts). Blocking mysql-connector's are
made by its own cursor(), which pings the server."""


def native(conn: AsyncAwsWrapperConnection, driver: str) -> bool:
    offered = hasattr(conn.driver_dialect, "native_cursor_base")
    assert offered == (driver in NATIVE)
    return offered


def driver_cursor_class(conn: AsyncAwsWrapperConnection) -> type:
    """The driver's cursor class of plain cursor() calls (psycopg: the connection's
    cursor_factory; aiomysql: its cursorclass; mysql.connector.aio: by buffered/raw)."""
    raw = conn.driver_connection
    native_base: Any = getattr(conn.driver_dialect, "native_cursor_base")  # noqa: B009
    factory = native_base(raw)
    assert isinstance(factory, type)
    made: type = factory
    expected = getattr(raw, "cursor_factory", None) or getattr(raw, "cursorclass", factory)
    assert factory is expected
    return made


async def test_a_plain_cursor_is_the_drivers_own(
    conn: AsyncAwsWrapperConnection, driver: str, db_params: dict[str, Any]
) -> None:
    cur = conn.cursor()
    assert isinstance(cur, AsyncAwsWrapperCursor)
    if native(conn, driver):
        base = driver_cursor_class(conn)
        assert isinstance(cur, base)
        assert type(cur).__mro__[1] is base  # the driver's own methods, one class below
        assert cur.driver_cursor is cur
    else:
        assert cur.driver_cursor is not cur
    text = repr(cur)
    assert "AwsWrapperCursor" in text and "open" in text
    assert db_params["password"] not in text
    assert await (await cur.execute("SELECT 1")).fetchone() == (1,)
    await cur.close()
    assert cur.closed
    assert "closed" in repr(cur)
    with pytest.raises((aw.InterfaceError, aw.ProgrammingError)) as info:
        await cur.execute("SELECT 1")  # closed: an error of ours (the MySQL drivers say
    assert isinstance(info.value, aw.Error)  # ProgrammingError, as they do themselves)


async def test_a_cursors_connection_is_the_wrapper(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    """PEP 249's ``cursor.connection`` is the wrapper connection on native cursors as on
    wrapper cursors, before and after close, but for psycopg's native ones: psycopg's own code
    (its adaptation context, COPY) reads the driver connection there."""
    cur = conn.cursor()
    expected: Any = conn.driver_connection if driver == "psycopg" else conn
    assert cur.connection is expected
    await cur.execute("SELECT 1")
    assert await cur.fetchone() == (1,)
    await cur.close()
    assert cur.connection is expected


async def test_pymysql_cursor_classes(driver: str, db_params: dict[str, Any]) -> None:
    """Over PyMySQL, cursors of the connection's cursor class are native when its code is as
    aws_wrapper.drivers.pymysql reads it (Cursor, DictCursor) and wrapper cursors otherwise
    (SSCursor: its close reads the driver connection from `connection`); aiomysql's are all
    native. Either way ``connection`` is the wrapper's, results and closing are the driver's,
    and a closed cursor refuses with an error of ours."""
    if driver != "aiomysql":
        pytest.skip("PyMySQL's and aiomysql's cursor classes")
    from aiomysql import cursors

    for name in ("Cursor", "DictCursor", "SSCursor"):
        cls = getattr(cursors, name)
        async with await aw.connect(
            driver=driver, cursorclass=cls, autocommit=True, **db_params
        ) as conn:
            cur = conn.cursor()
            assert isinstance(cur.driver_cursor, cls)
            native_expected = name != "SSCursor"
            if AIO:
                native_expected = True  # aiomysql's classes all are
            assert (cur.driver_cursor is cur) == native_expected, name
            assert cur.connection is conn
            for _ in range(2):
                await cur.execute("SELECT 1 AS one UNION ALL SELECT 2")
                row = await cur.fetchone()
                assert row == ({"one": 1} if name == "DictCursor" else (1,)), name
            await cur.close()  # with a row left unread
            await cur.close()
            with pytest.raises(aw.Error) as info:
                await cur.execute("SELECT 1")
            assert isinstance(info.value, (aw.InterfaceError, aw.ProgrammingError))
            again = conn.cursor()  # the connection goes on
            await again.execute("SELECT %s + %s AS three", (1, 2))
            row = await again.fetchone()
            assert row == ({"three": 3} if name == "DictCursor" else (3,)), name
            await again.close()


async def test_a_plugin_hooking_cursor_calls_gets_wrapper_cursors(
    driver: str, db_params: dict[str, Any]
) -> None:
    """execute_time hooks every method: plain cursors are then wrapper cursors, whose calls go
    through the chain."""
    async with await aw.connect(driver=driver, plugins="execute_time", **db_params) as conn:
        cur = conn.cursor()
        assert isinstance(cur, AsyncAwsWrapperCursor)
        assert cur.driver_cursor is not cur
        assert await (await cur.execute("SELECT 1")).fetchone() == (1,)
        await cur.close()


async def test_driver_errors_are_ours_and_the_drivers(conn: AsyncAwsWrapperConnection) -> None:
    cur = conn.cursor()
    with pytest.raises(aw.ProgrammingError) as info:
        await cur.execute("SELECT * FROM no_such_table_here")
    assert isinstance(info.value, aw.Error)
    assert type(info.value).__module__ != "aws_wrapper.errors"  # the driver's class, adopted
    await conn.rollback()
    # a native cursor's arraysize is the driver's attribute: a bad value is refused by the
    # fetchmany() that would use it (a wrapper cursor refuses it when set), naming it
    for bad in (0, True, "2"):
        with pytest.raises(aw.ProgrammingError, match="arraysize must be a positive integer"):
            cur.arraysize = bad  # type: ignore[assignment]
            await cur.execute("SELECT 1")
            await cur.fetchmany()
        if cur.arraysize is bad:  # a native cursor: set, refused by fetchmany
            assert len(await cur.fetchmany(1)) == 1  # an explicit size does not read it
    cur.arraysize = 2
    await cur.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert len(await cur.fetchmany()) == 2
    assert cur.arraysize == 2
    assert len(await cur.fetchall()) == 1
    await cur.close()


async def test_psycopg_execute_is_done_by_the_native_cursor(
    driver: str, db_params: dict[str, Any]
) -> None:
    """Over psycopg's own execute (its connection's lock and wait around its cursor's
    _execute_gen, see aws_wrapper.drivers.psycopg.INLINE_EXECUTE), a native cursor does that
    itself, a coroutine less per statement: the installed psycopg must still match, or the fast
    way is lost. A cursor class with an execute of its own keeps it, and keywords go through it."""
    if driver != "psycopg":
        pytest.skip("psycopg's execute only")
    async with await aw.connect(driver=driver, autocommit=True, **db_params) as conn:
        base = driver_cursor_class(conn)
        own = base.execute.__code__  # type: ignore[attr-defined]
        started: list[str] = []

        def profile(frame: Any, event: str, arg: Any) -> None:
            if event == "call" and frame.f_code is own:
                started.append("execute")

        cur = conn.cursor()
        assert type(cur)._aws_inline_execute  # type: ignore[attr-defined]
        sys.setprofile(profile)
        try:
            assert await (await cur.execute("SELECT %s", (7,))).fetchone() == (7,)
            with pytest.raises(aw.ProgrammingError) as info:  # errors as ever
                await cur.execute("SELECT * FROM no_such_table_here")
            assert isinstance(info.value, aw.Error)
            # and, as psycopg's execute raises them, without the frames of its internals
            frames = traceback.extract_tb(info.value.__traceback__)
            assert not [f for f in frames if f"{os.sep}psycopg{os.sep}" in f.filename], frames
            assert started == []  # the driver's execute never ran
            assert await (await cur.execute("SELECT 1", prepare=False)).fetchone() == (1,)
            assert started  # keywords: the driver's (a coroutine: "call" at each resume)
        finally:
            sys.setprofile(None)
        await cur.close()

        calls: list[str] = []

        class Counting(base):  # type: ignore[misc, valid-type]
            async def execute(self, *args: Any, **kwargs: Any) -> Any:
                calls.append("execute")
                return await super().execute(*args, **kwargs)

    async with await aw.connect(
        driver=driver, autocommit=True, cursor_factory=Counting, **db_params
    ) as conn:
        mine = conn.cursor()
        assert isinstance(mine, Counting)
        assert not type(mine)._aws_inline_execute
        assert await (await mine.execute("SELECT 2")).fetchone() == (2,)
        assert calls == ["execute"]
        await mine.close()


async def test_a_cursor_while_a_result_is_left_unread(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    """cursor() does what the driver's does: the MySQL Connector/Python connections (results
    unbuffered by default) refuse a statement while another cursor's result is unread,
    which the wrapper reports at the new cursor's first call, as an error of ours and of the
    driver's class; the others go on. Once the result is read, the same cursor works. The
    blocking driver's native cursors are made as its cursor() makes them, without calling it
    (the pure-Python connection's; see native_cursor_maker)."""
    if not AIO:  # noqa: SIM102 (the generator keeps a plain `if not AIO:` block)
        if driver == "mysql-connector":
            from aws_wrapper.drivers.mysql_connector import _make_pure_cursor

            make: Any = conn._hot.native_make
            pure = not type(conn.driver_connection).__module__.endswith("connection_cext")
            assert isinstance(make, partial) and (make.func is _make_pure_cursor) is pure
    await conn.set_autocommit(True)
    first = conn.cursor()
    await first.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert await first.fetchone() == (1,)
    second = conn.cursor()
    refused = driver == "mysql-connector"
    if refused:
        with pytest.raises(aw.InternalError, match="Unread result") as info:
            await second.execute("SELECT 4")
        assert isinstance(info.value, aw.Error)
        assert type(info.value).__module__ != "aws_wrapper.errors"  # the driver's class
        assert await first.fetchall() == [(2,), (3,)]
    await second.execute("SELECT 4")
    assert await second.fetchall() == [(4,)]
    if not refused:
        assert await first.fetchall() == [(2,), (3,)]
    await first.close()
    await second.close()
    assert conn._hot.since is None


async def test_executemany_and_its_own_execute_calls(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    """The MySQL drivers' executemany calls execute on the same cursor for each row (or
    for the batch): the cursor's execute then lets the driver have its own result; the
    wrapper's calls return the cursor."""
    await conn.set_autocommit(True)
    cur = conn.cursor()
    table = f"native_{driver.replace('-', '_')}"
    await cur.execute(f"DROP TABLE IF EXISTS {table}")
    await cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v INT)")
    try:
        assert (
            await cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(1, 1), (2, 2)]) is cur
        )
        assert cur.rowcount == 2
        many = cur.executemany(f"UPDATE {table} SET v = v + 10 WHERE id = %s", [(1,), (2,)])
        assert await many is cur
        assert cur.rowcount in (1, 2)  # drivers differ: the last statement's, or the total
        assert await cur.execute(f"SELECT v FROM {table} ORDER BY id") is cur
        assert await cur.fetchall() == [(11,), (12,)]
        assert conn._hot.since is None  # the host-monitoring stamp is cleared
    finally:
        await cur.execute(f"DROP TABLE {table}")
        await cur.close()


async def test_a_cursor_moves_with_a_read_write_switch(cluster: Cluster, driver: str) -> None:
    """A cursor made on the writer runs on the reader after set_read_only(True) (its object
    is bound to the new driver connection) and back."""
    props = cluster.conn_params()
    async with await aw.connect(
        driver=driver, plugins="read_write_splitting,failover_v2", **props
    ) as conn:
        await conn.set_autocommit(True)
        cur = conn.cursor()
        sql = (
            "SELECT pg_catalog.aurora_db_instance_identifier()"
            if conn.driver_dialect.engine == "postgresql"
            else "SELECT @@aurora_server_id"
        )
        await cur.execute(sql)
        assert await cur.fetchall() == [(cluster.writer,)]
        await conn.set_read_only(True)
        reader = await instance_of(conn)
        assert reader != cluster.writer
        await cur.execute(sql)
        assert await cur.fetchall() == [(reader,)]
        await conn.set_read_only(False)
        await cur.execute(sql)
        assert await cur.fetchall() == [(cluster.writer,)]
        await cur.close()


async def test_a_cursor_recovers_a_lost_connection(cluster: Cluster, driver: str) -> None:
    """A connection lost under a cursor (the proxy cuts it and refuses new ones) is
    replaced at the cursor's next call once the instance is back: the failed calls are errors
    of ours, the next one works on the same cursor."""
    writer = cluster.writer
    async with await aw.connect(driver=driver, plugins="", **cluster.conn_params(writer)) as conn:
        await conn.set_autocommit(True)
        cur = conn.cursor()
        await cur.execute("SELECT 1")
        await cur.fetchall()
        await arun_blocking(partial(cluster.reject, writer))
        try:
            with pytest.raises(aw.OperationalError):
                await cur.execute("SELECT 1")
            with pytest.raises(aw.OperationalError):  # still down: the reconnect fails
                await cur.execute("SELECT 1")
        finally:
            await arun_blocking(partial(cluster.heal, writer))
        await cur.execute("SELECT 2")
        assert await cur.fetchall() == [(2,)]
        await cur.close()
