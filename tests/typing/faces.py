"""What a typed application sees through the wrapper: checked by ``make typecheck`` (mypy
--strict), run by no test runner (nothing here connects).

Each driver in each world: the connection ``connect`` returns, its cursors, what ``execute``
returns, the rows of ``fetchone``/``fetchmany``/``fetchall`` and of iteration, with the
driver's default rows and with its dict rows. The lines that must *fail* to type-check are in
tests/typing/test_rejected.py, which runs the checkers on them.
"""

from __future__ import annotations

from typing import Any, NamedTuple, assert_type

import aiomysql
import mysql.connector
import mysql.connector.aio
import psycopg
import pymysql
import pymysql.cursors
from psycopg import sql
from psycopg.rows import dict_row, namedtuple_row

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper import AwsWrapperConnection, AwsWrapperCursor
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncAwsWrapperCursor
from aws_wrapper.typing import DictRow, MySQLDictRow, MySQLParams, MySQLRow, TupleRow

# -- psycopg -------------------------------------------------------------------------------------


def psycopg_sync(dsn: str, name: str) -> None:
    conn = AwsWrapperConnection.connect(psycopg.Connection.connect, dsn, plugins="failover_v2")
    assert_type(conn, AwsWrapperConnection[TupleRow])
    cur = conn.cursor()
    assert_type(cur, AwsWrapperCursor[TupleRow])
    assert_type(cur.execute("SELECT %s", (1,)), AwsWrapperCursor[TupleRow])
    assert_type(cur.fetchone(), TupleRow | None)
    assert_type(cur.fetchmany(2), list[TupleRow])
    assert_type(cur.fetchall(), list[TupleRow])
    for row in cur:
        assert_type(row, TupleRow)
    assert_type(conn.execute("SELECT 1"), AwsWrapperCursor[TupleRow])
    # psycopg's composed queries and parameters
    cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(name)))
    cur.execute("SELECT %(a)s", {"a": 1})
    cur.executemany("INSERT INTO t VALUES (%s)", [(1,), (2,)])

    # dict rows: for the connection, or for one cursor
    dconn = AwsWrapperConnection.connect(psycopg.Connection.connect, dsn, row_factory=dict_row)
    assert_type(dconn, AwsWrapperConnection[DictRow])
    dcur = dconn.cursor()
    assert_type(dcur, AwsWrapperCursor[DictRow])
    assert_type(dcur.fetchone(), DictRow | None)
    assert_type(dcur.fetchall(), list[DictRow])
    assert_type(dconn.execute("SELECT 1"), AwsWrapperCursor[DictRow])
    assert_type(conn.cursor(row_factory=dict_row), AwsWrapperCursor[DictRow])
    assert_type(conn.cursor(row_factory=dict_row).fetchone(), DictRow | None)
    # any row factory's rows
    ncur = conn.cursor(row_factory=namedtuple_row)
    assert_type(ncur.fetchone(), NamedTuple | None)

    # the module functions
    assert_type(aws_wrapper.connect(dsn), AwsWrapperConnection[TupleRow])
    assert_type(aws_wrapper.connect(dsn, row_factory=dict_row), AwsWrapperConnection[DictRow])
    assert_type(aws_wrapper.connect(dsn, driver="psycopg"), AwsWrapperConnection[TupleRow])
    with aws_wrapper.connect(dsn) as c, c.transaction() as t:
        assert_type(c, AwsWrapperConnection[TupleRow])
        assert_type(t, AwsWrapperConnection[TupleRow])
        assert_type(c.autocommit, bool)
        c.autocommit = True  # a blocking connection may assign it
        c.read_only = False


async def psycopg_async(dsn: str) -> None:
    conn = await AsyncAwsWrapperConnection.connect(psycopg.AsyncConnection.connect, dsn)
    assert_type(conn, AsyncAwsWrapperConnection[TupleRow])
    cur = conn.cursor()
    assert_type(cur, AsyncAwsWrapperCursor[TupleRow])
    assert_type(await cur.execute("SELECT %s", (1,)), AsyncAwsWrapperCursor[TupleRow])
    assert_type(await cur.fetchone(), TupleRow | None)
    assert_type(await cur.fetchmany(), list[TupleRow])
    assert_type(await cur.fetchall(), list[TupleRow])
    async for row in cur:
        assert_type(row, TupleRow)
    assert_type(await conn.execute("SELECT 1"), AsyncAwsWrapperCursor[TupleRow])

    dconn = await AsyncAwsWrapperConnection.connect(
        psycopg.AsyncConnection.connect, dsn, row_factory=dict_row
    )
    assert_type(dconn, AsyncAwsWrapperConnection[DictRow])
    dcur = dconn.cursor()
    assert_type(dcur, AsyncAwsWrapperCursor[DictRow])
    assert_type(await dcur.fetchone(), DictRow | None)
    assert_type(await dcur.fetchall(), list[DictRow])
    async for drow in dcur:
        assert_type(drow, DictRow)
    assert_type(conn.cursor(row_factory=dict_row), AsyncAwsWrapperCursor[DictRow])

    assert_type(await aws_wrapper.aio.connect(dsn), AsyncAwsWrapperConnection[TupleRow])
    assert_type(
        await aws_wrapper.aio.connect(dsn, row_factory=dict_row),
        AsyncAwsWrapperConnection[DictRow],
    )
    async with await aws_wrapper.aio.connect(dsn) as c:
        assert_type(c, AsyncAwsWrapperConnection[TupleRow])
        await c.set_autocommit(True)  # a coroutine here: the property has no setter
        assert_type(c.read_only, bool)


# -- PyMySQL and aiomysql ----------------------------------------------------------------------


def pymysql_sync() -> None:
    conn = AwsWrapperConnection.connect(pymysql.connect, host="db", user="app")
    assert_type(conn, AwsWrapperConnection[TupleRow, str, Any])
    cur = conn.cursor()
    assert_type(cur, AwsWrapperCursor[TupleRow, str, Any])
    assert_type(cur.execute("SELECT %s", (1,)), AwsWrapperCursor[TupleRow, str, Any])
    assert_type(cur.fetchone(), TupleRow | None)
    assert_type(cur.fetchall(), list[TupleRow])
    for row in cur:
        assert_type(row, TupleRow)
    dcur = conn.cursor(pymysql.cursors.DictCursor)
    assert_type(dcur, AwsWrapperCursor[DictRow, str, Any])
    assert_type(dcur.fetchone(), DictRow | None)

    dconn = AwsWrapperConnection.connect(
        pymysql.connect, host="db", cursorclass=pymysql.cursors.DictCursor
    )
    assert_type(dconn, AwsWrapperConnection[DictRow, str, Any])
    assert_type(dconn.cursor().fetchall(), list[DictRow])
    by_name = aws_wrapper.connect(driver="pymysql", host="db")
    assert_type(by_name, AwsWrapperConnection[TupleRow, str, Any])


async def aiomysql_async() -> None:
    conn = await AsyncAwsWrapperConnection.connect(aiomysql.connect, host="db", user="app")
    assert_type(conn, AsyncAwsWrapperConnection[TupleRow, str, Any])
    cur = conn.cursor()
    assert_type(cur, AsyncAwsWrapperCursor[TupleRow, str, Any])
    assert_type(await cur.execute("SELECT %s", (1,)), AsyncAwsWrapperCursor[TupleRow, str, Any])
    assert_type(await cur.fetchone(), TupleRow | None)
    assert_type(await cur.fetchall(), list[TupleRow])
    async for row in cur:
        assert_type(row, TupleRow)
    dcur = conn.cursor(aiomysql.DictCursor)
    assert_type(dcur, AsyncAwsWrapperCursor[DictRow, str, Any])
    assert_type(await dcur.fetchone(), DictRow | None)

    dconn = await AsyncAwsWrapperConnection.connect(
        aiomysql.connect, host="db", cursorclass=aiomysql.DictCursor
    )
    assert_type(dconn, AsyncAwsWrapperConnection[DictRow, str, Any])
    by_name = await aws_wrapper.aio.connect(driver="aiomysql", host="db")
    assert_type(by_name, AsyncAwsWrapperConnection[TupleRow, str, Any])


# -- mysql-connector ---------------------------------------------------------------------------


def mysql_connector_sync() -> None:
    conn = AwsWrapperConnection.connect(mysql.connector.connect, host="db")
    assert_type(conn, AwsWrapperConnection[MySQLRow, str, MySQLParams])
    cur = conn.cursor()
    assert_type(cur.execute("SELECT %s", (1,)), AwsWrapperCursor[MySQLRow, str, MySQLParams])
    assert_type(cur.fetchone(), MySQLRow | None)
    assert_type(cur.fetchall(), list[MySQLRow])
    dcur = conn.cursor(dictionary=True)
    assert_type(dcur, AwsWrapperCursor[MySQLDictRow, str, MySQLParams])
    assert_type(dcur.fetchone(), MySQLDictRow | None)
    by_name = aws_wrapper.connect(driver="mysql-connector", host="db")
    assert_type(by_name, AwsWrapperConnection[MySQLRow, str, MySQLParams])


async def mysql_connector_async() -> None:
    conn = await AsyncAwsWrapperConnection.connect(mysql.connector.aio.connect, host="db")
    assert_type(conn, AsyncAwsWrapperConnection[MySQLRow, str, MySQLParams])
    cur = conn.cursor()
    assert_type(await cur.fetchone(), MySQLRow | None)
    async for row in cur:
        assert_type(row, MySQLRow)
    dcur = conn.cursor(dictionary=True)
    assert_type(await dcur.fetchall(), list[MySQLDictRow])
    by_name = await aws_wrapper.aio.connect(driver="mysql-connector", host="db")
    assert_type(by_name, AsyncAwsWrapperConnection[MySQLRow, str, MySQLParams])


# -- a driver named another way: nothing is known about it ---------------------------------------


def other_spelling() -> None:
    conn = aws_wrapper.connect(driver="mysql.connector", host="db")
    assert_type(conn, AwsWrapperConnection[Any, Any, Any])
