"""PEP 249 conformance of the wrapper's faces, every driver: errors that are both ours and the
driver's, type objects, cursor attributes kept after close, arraysize, callproc.

Written once as async code: tests/_sync/test_pep249.py is generated from
tests/_async/test_pep249.py.
"""

from __future__ import annotations

import pickle
import uuid
from typing import Any

import pytest

import aws_wrapper.errors
from aws_wrapper import aio as aw
from aws_wrapper.aio import AsyncAwsWrapperConnection
from tests.drivers import ENGINES, AsyncConnectFunctions


@pytest.fixture
async def table(conn: AsyncAwsWrapperConnection) -> Any:
    name = f"p_{uuid.uuid4().hex[:10]}"
    await conn.set_autocommit(True)
    await conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, v VARCHAR(20))")
    yield name
    if not conn.closed:
        await conn.set_autocommit(True)
        await conn.execute(f"DROP TABLE {name}")


def driver_module(driver: str) -> Any:
    """The module whose PEP 249 classes the driver's errors belong to."""
    connect = AsyncConnectFunctions[driver]
    root = connect.__module__.split(".")[0]
    if root == "aiomysql":
        import pymysql.err

        return pymysql.err
    if root == "mysql":
        import mysql.connector.errors

        return mysql.connector.errors
    import psycopg

    return psycopg


async def test_driver_errors_are_ours_and_the_drivers(
    conn: AsyncAwsWrapperConnection, driver: str, table: str
) -> None:
    errors = driver_module(driver)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(aw.IntegrityError) as info:
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'b')")
    error = info.value
    assert isinstance(error, aw.Error) and isinstance(error, aw.DatabaseError)
    assert isinstance(error, errors.IntegrityError)  # still the driver's own class
    assert type(error).__name__ == type(error).__mro__[1].__name__  # named as the driver names it
    if driver == "psycopg":
        import psycopg.errors

        assert isinstance(error, psycopg.errors.UniqueViolation)
        assert error.sqlstate == "23505"
    else:
        assert aws_wrapper.errors.adopt(error) is error
    # pickles as the driver's class (multiprocessing, a process without aws_wrapper)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error).__mro__[1]

    cur = conn.cursor()
    with pytest.raises(aw.ProgrammingError) as info2:
        await cur.execute("SELEC 1")
    assert isinstance(info2.value, errors.ProgrammingError)
    with pytest.raises(aw.DatabaseError) as info3:  # PyMySQL calls it an OperationalError
        await cur.execute(f"SELECT nope FROM {table}")
    assert isinstance(info3.value, errors.DatabaseError)
    # the connection goes on working after each error
    await cur.execute("SELECT 1")
    assert await cur.fetchone() == (1,)


async def test_pep249_errors_in_transactions(
    conn: AsyncAwsWrapperConnection, driver: str, table: str
) -> None:
    await conn.set_autocommit(False)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(aw.Error):
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'b')")
    await conn.rollback()
    cur = await conn.execute(f"SELECT COUNT(*) FROM {table}")
    assert await cur.fetchone() == (0,)
    await conn.rollback()


async def test_connection_exposes_our_exception_classes(conn: AsyncAwsWrapperConnection) -> None:
    for name in aws_wrapper.errors.PEP249_ERROR_NAMES:
        assert getattr(conn, name) is getattr(aw, name), name
    assert issubclass(conn.IntegrityError, conn.DatabaseError)


async def test_fetch_on_closed_cursor_is_an_error(conn: AsyncAwsWrapperConnection) -> None:
    cur = conn.cursor()
    with pytest.raises(aw.Error):
        await cur.fetchone()  # nothing executed
    await cur.execute("SELECT 1")
    await cur.fetchall()
    await cur.close()
    for call in (cur.fetchone, cur.fetchall, cur.fetchmany):
        with pytest.raises(aw.InterfaceError):
            await call()
    with pytest.raises(aw.InterfaceError):
        await cur.execute("SELECT 1")


async def test_driver_names_pass_through(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    """Public names the wrapper does not define are the driver's: the current driver
    connection's, and the driver cursor's once there is one (psycopg's ``info``,
    ``statusmessage``, ...); others, and private ones, are missing."""
    raw = conn.driver_connection
    if ENGINES[driver] == "postgresql":
        assert conn.info.server_version == raw.info.server_version
        assert conn.adapters is raw.adapters
        name = "statusmessage"
    else:
        assert conn.get_server_info() == raw.get_server_info()
        name = "statement" if driver == "mysql-connector" else "rownumber"
    cur = conn.cursor()
    await cur.execute("SELECT 1")
    assert getattr(cur, name) == getattr(cur.driver_cursor, name)
    await cur.fetchone()
    assert getattr(cur, name) == getattr(cur.driver_cursor, name)
    for obj in (conn, cur):
        for missing in ("no_such_name", "_no_such_name"):
            assert not hasattr(obj, missing)
    if driver == "psycopg":
        # every name of psycopg's connections and cursors is known from their classes: the
        # wrapper's classes forward them one by one, with no __getattr__ to slow every call
        # (see aws_wrapper._forwarding)
        assert not hasattr(type(conn), "__getattr__")
        assert not hasattr(type(cur), "__getattr__")
    await cur.close()


async def test_cursor_makes_the_driver_cursor_at_once(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    """When making a driver cursor takes no I/O, cursor() makes it (its first call then has
    none to make), and keeps the arraysize set before the first call."""
    dialect = conn.driver_dialect
    at_once = getattr(dialect, "direct_cursor", False) or hasattr(dialect, "cursor_now")
    assert at_once or driver == "mysql-connector"  # mysql.connector.aio's cursor() is I/O
    cur = conn.cursor()
    assert (cur.driver_cursor is not None) == at_once
    cur.arraysize = 2
    await cur.execute("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3")
    assert len(await cur.fetchmany()) == 2
    assert cur.driver_cursor.arraysize == 2
    await cur.fetchall()
    await cur.close()


async def test_type_objects_compare_with_description_codes(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    if ENGINES[driver] == "postgresql":
        sql = (
            "SELECT 'a'::text, 'b'::varchar, 1::int4, 2::int8, 1.5::numeric, 2.5::float8, "
            "now()::timestamptz, current_date, 'x'::bytea, 1::oid"
        )
        kinds: list[str | None] = ["S", "S", "N", "N", "N", "N", "D", "D", "B", "R"]
    else:
        sql = (
            "SELECT CAST('a' AS CHAR(3)), 1, CAST(1.5 AS DECIMAL(4,2)), 2.5e0, NOW(), "
            "CURDATE(), CAST('x' AS BINARY(3))"
        )
        kinds = ["S", "N", "N", "N", "D", "D", None]
    cur = await conn.execute(sql)
    await cur.fetchall()
    objects = {"S": aw.STRING, "N": aw.NUMBER, "D": aw.DATETIME, "B": aw.BINARY, "R": aw.ROWID}
    assert cur.description is not None
    for column, kind in zip(cur.description, kinds, strict=True):
        code = column[1]
        if kind is None:
            continue
        for key, obj in objects.items():
            assert (code == obj) is (key == kind), (column[0], code, key)
            assert (obj == code) is (key == kind), (column[0], code, key)


async def test_rowcount_and_lastrowid_survive_close(
    conn: AsyncAwsWrapperConnection, driver: str
) -> None:
    """After close(), rowcount/lastrowid/description read as on the driver's own cursor
    (SQLAlchemy reads lastrowid after closing a DML cursor)."""
    name = f"p_{uuid.uuid4().hex[:10]}"
    await conn.set_autocommit(True)
    if ENGINES[driver] == "postgresql":
        await conn.execute(f"CREATE TABLE {name} (id SERIAL PRIMARY KEY, v INT)")
    else:
        await conn.execute(f"CREATE TABLE {name} (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")

    async def run(cur: Any) -> tuple[Any, ...]:
        await cur.execute(f"INSERT INTO {name} (v) VALUES (1), (2), (3)")
        rowcount, lastrowid = cur.rowcount, getattr(cur, "lastrowid", None)
        await cur.close()
        # what close() kept: the rowcount, whether lastrowid is unchanged, the description
        return rowcount, cur.rowcount, getattr(cur, "lastrowid", None) == lastrowid, cur.description

    try:
        ours = await run(conn.cursor())
        raw = await run(await conn.driver_dialect.cursor(conn.driver_connection))
        assert ours[0] == 3
        assert ours == raw
        if ENGINES[driver] == "mysql":
            assert ours[2] and conn.cursor().lastrowid is None
    finally:
        await conn.execute(f"DROP TABLE {name}")


async def test_arraysize_is_kept(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    cur = conn.cursor()
    assert cur.arraysize == 1
    cur.arraysize = 3  # before the first execute
    union = " UNION ALL ".join(f"SELECT {i}" for i in range(7))
    await cur.execute(union)
    assert len(await cur.fetchmany()) == 3
    assert cur.arraysize == 3
    await cur.fetchall()
    cur2 = conn.cursor()
    cur2.arraysize = 2
    await cur2.execute(union)
    assert len(await cur2.fetchmany()) == 2
    await cur2.fetchall()
    # refused when set (wrapper cursors) or by the fetchmany() that would use it (native
    # cursors: arraysize is then the driver's own attribute), naming it either way
    with pytest.raises(aw.ProgrammingError, match="arraysize"):
        cur.arraysize = 0
        await cur.execute(union)
        await cur.fetchmany()


async def test_callproc(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    cur = conn.cursor()
    if driver == "psycopg":
        # psycopg has no callproc: the wrapper calls the function as psycopg2 did
        assert await cur.callproc("lower", ("FOO",)) == ("FOO",)
        assert await cur.fetchall() == [("foo",)]
        assert await cur.callproc("pg_catalog.now") == ()
        assert len(await cur.fetchall()) == 1
        with pytest.raises(aw.ProgrammingError):
            await cur.callproc("lower(1); DROP TABLE x; --", ())
        await cur.execute("SELECT 1")  # the cursor still works
        assert await cur.fetchone() == (1,)
        return
    name = f"proc_{uuid.uuid4().hex[:8]}"
    await conn.set_autocommit(True)
    await conn.execute(f"CREATE PROCEDURE {name}(IN x VARCHAR(10)) SELECT LOWER(x)")
    try:
        await cur.callproc(name, ("FOO",))
        if driver != "mysql-connector":  # mysql.connector returns results via stored_results()
            assert await cur.fetchall() == [("foo",)]
    finally:
        await cur.close()
        await conn.execute(f"DROP PROCEDURE {name}")
