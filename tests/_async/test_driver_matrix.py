"""The behavioural matrix every driver runs through, against real servers.

Written once as async code: tests/_sync/test_driver_matrix.py is generated from it and runs the
same checks on the blocking drivers (psycopg, PyMySQL, mysql.connector).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._compat import asleep, aspawn
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper.drivers import adriver_dialect_for
from tests.drivers import ENGINES, AsyncConnectFunctions
from tests.helpers import first


@pytest.fixture
async def table(conn: AsyncAwsWrapperConnection, driver: str) -> Any:
    name = f"t_{uuid.uuid4().hex[:10]}"
    await conn.set_autocommit(True)
    await conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, v VARCHAR(20))")
    await conn.set_autocommit(False)
    yield name
    if not conn.closed:
        await conn.rollback()
        await conn.set_autocommit(True)
        await conn.execute(f"DROP TABLE {name}")


def sleep_sql(driver: str, seconds: float) -> str:
    if ENGINES[driver] == "postgresql":
        return f"SELECT pg_sleep({seconds})"
    return f"SELECT SLEEP({seconds})"


async def count(conn: AsyncAwsWrapperConnection, table: str) -> int:
    cur = await conn.execute(f"SELECT COUNT(*) FROM {table}")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_connect_execute_fetch(conn: AsyncAwsWrapperConnection) -> None:
    cur = conn.cursor()
    await cur.execute("SELECT 1, 'two'")
    assert await cur.fetchone() == (1, "two")
    assert await cur.fetchone() is None
    assert cur.description is not None and len(cur.description) == 2
    await cur.close()
    assert cur.closed


async def test_fetchmany_fetchall_and_iteration(
    conn: AsyncAwsWrapperConnection, table: str
) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            f"INSERT INTO {table} (id, v) VALUES (%s, %s)", [(i, f"v{i}") for i in range(5)]
        )
        await cur.execute(f"SELECT id, v FROM {table} ORDER BY id")
        assert await cur.fetchmany(2) == [(0, "v0"), (1, "v1")]
        assert await cur.fetchall() == [(2, "v2"), (3, "v3"), (4, "v4")]
        await cur.execute(f"SELECT id FROM {table} WHERE id >= %s ORDER BY id", (3,))
        assert [row async for row in cur] == [(3,), (4,)]


async def test_commit_and_rollback(
    conn: AsyncAwsWrapperConnection, table: str, driver: str, db_params: dict[str, Any]
) -> None:
    assert conn.autocommit is False
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert conn.in_transaction
    await conn.rollback()
    assert await count(conn, table) == 0
    await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    await conn.commit()
    async with await aw.connect(driver=driver, plugins="", **db_params) as other:
        assert await count(other, table) == 1


async def test_autocommit(
    conn: AsyncAwsWrapperConnection, table: str, driver: str, db_params: dict[str, Any]
) -> None:
    await conn.set_autocommit(True)
    assert conn.autocommit is True
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert not conn.in_transaction
    async with await aw.connect(driver=driver, plugins="", **db_params) as other:
        assert await count(other, table) == 1
    await conn.set_autocommit(False)
    assert conn.autocommit is False


async def test_read_only(conn: AsyncAwsWrapperConnection, table: str) -> None:
    await conn.set_read_only(True)
    assert conn.read_only is True
    with pytest.raises(Exception) as info:
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert "read" in str(info.value).lower() and "only" in str(info.value).lower()
    await conn.rollback()
    await conn.set_read_only(False)
    assert conn.read_only is False
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    await conn.commit()
    assert await count(conn, table) == 1


async def test_isolation_level_and_schema(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    pg = ENGINES[driver] == "postgresql"
    assert conn.isolation_level is None and conn.schema is None
    await conn.set_isolation_level("repeatable_read")
    assert conn.isolation_level == "REPEATABLE READ"
    cur = await conn.execute("SHOW transaction_isolation" if pg else "SELECT @@tx_isolation")
    assert str(first(await cur.fetchone())).upper().replace("-", " ") == "REPEATABLE READ"
    await conn.rollback()
    with pytest.raises(aw.ConfigurationError, match="isolation level"):
        await conn.set_isolation_level("sometimes")
    if pg:
        await conn.set_autocommit(True)
        await conn.execute('CREATE SCHEMA IF NOT EXISTS "Odd ""schema"""')
        await conn.set_autocommit(False)
        await conn.set_schema('Odd "schema"')
        cur = await conn.execute("SELECT current_schema()")
    else:
        await conn.set_schema("app")
        cur = await conn.execute("SELECT DATABASE()")
    assert first(await cur.fetchone()) == conn.schema
    await conn.rollback()


async def test_transaction_block(conn: AsyncAwsWrapperConnection, table: str) -> None:
    await conn.set_autocommit(True)
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(ZeroDivisionError):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
            raise ZeroDivisionError
    assert await count(conn, table) == 1
    await conn.set_autocommit(False)
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (3, 'c')")
        with pytest.raises(KeyError):
            async with conn.transaction():  # nested: a savepoint
                await conn.execute(f"INSERT INTO {table} VALUES (4, 'd')")
                raise KeyError
    assert not conn.in_transaction
    assert await count(conn, table) == 2


async def test_transaction_state_read_before_guarded_calls(
    conn: AsyncAwsWrapperConnection, table: str, driver: str
) -> None:
    """What the hot paths read before a call a guard watches (HotPath.tx_state, made a bool
    by tx_open) follows the driver's transaction; for MySQL Connector/Python's pure-Python
    connections it is their flag itself (no property frame per call)."""
    from aws_wrapper.drivers.mysql_connector import _IN_TRANSACTION_FLAG

    hot = conn._hot
    raw = conn.driver_connection

    def open_now() -> bool:
        return hot.tx_open(hot.tx_state(raw))

    if driver == "mysql-connector" and type(raw).__module__.startswith("mysql.connector."):
        pure = not type(raw).__module__.endswith("connection_cext")
        assert (hot.tx_state is _IN_TRANSACTION_FLAG) is pure
    assert not open_now()
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert open_now() and conn.in_transaction
    await conn.commit()
    assert not open_now()
    await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    assert open_now()
    await conn.rollback()
    assert not open_now()


async def test_abort_from_another_worker(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    """A call blocked on the server is broken by abort() from another task/thread, cleanly."""

    async def abort_soon() -> None:
        await asleep(0.5)
        conn.abort()

    worker = aspawn(abort_soon, name="aborter")
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        await conn.execute(sleep_sql(driver, 10))
    elapsed = time.monotonic() - start
    await worker.join(5)
    assert elapsed < 5, f"abort took {elapsed:.1f} s"
    assert conn.driver_dialect.is_network_error(info.value), repr(info.value)
    # the connection is unusable afterwards, and says so
    if not conn.closed:
        with pytest.raises(Exception) as again:
            await conn.execute("SELECT 1")
        assert conn.driver_dialect.is_network_error(again.value), repr(again.value)


async def test_closed_detection(conn: AsyncAwsWrapperConnection) -> None:
    assert not conn.closed
    await conn.close()
    assert conn.closed
    with pytest.raises(aw.InterfaceError):
        conn.cursor()
    with pytest.raises(aw.ConnectionClosedError):
        await conn.execute("SELECT 1")
    await conn.close()  # idempotent


async def test_driver_errors_pass_through(conn: AsyncAwsWrapperConnection) -> None:
    with pytest.raises(Exception) as info:
        await conn.execute("SELECT * FROM no_such_table_here")
    assert not isinstance(info.value, aw.AwsWrapperError)
    assert not conn.driver_dialect.is_network_error(info.value)
    await conn.rollback()
    cur = await conn.execute("SELECT 1")
    assert await cur.fetchone() == (1,)


async def test_migration_form(driver: str, db_params: dict[str, Any]) -> None:
    """``AsyncAwsWrapperConnection.connect(<driver connect function>, ...)`` as in the AWS
    wrapper; the driver dialect follows the function."""
    target = AsyncConnectFunctions[driver]
    if driver == "psycopg":
        conninfo = " ".join(f"{k}={v}" for k, v in db_params.items())
        conn = await AsyncAwsWrapperConnection.connect(target, conninfo, plugins="")
    else:
        conn = await AsyncAwsWrapperConnection.connect(target, plugins="", **db_params)
    try:
        assert conn.driver_dialect.engine == ENGINES[driver]
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchone() == (1,)
    finally:
        await conn.close()


async def test_custom_connect_function(driver: str, db_params: dict[str, Any]) -> None:
    """A connect function the wrapper cannot recognise needs ``wrapper_driver_dialect``."""
    target = AsyncConnectFunctions[driver]
    calls = []

    async def my_connect(**kwargs: Any) -> Any:
        calls.append(kwargs["host"])
        return await target(**kwargs)

    with pytest.raises(aw.UnsupportedDriverError, match="wrapper_driver_dialect"):
        await AsyncAwsWrapperConnection.connect(my_connect, plugins="", **db_params)
    conn = await AsyncAwsWrapperConnection.connect(
        my_connect, plugins="", wrapper_driver_dialect=driver, **db_params
    )
    async with conn:
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchone() == (1,)
    assert calls == [db_params["host"]]


async def test_wrong_password_is_a_clear_login_error(
    driver: str, db_params: dict[str, Any]
) -> None:
    params = {**db_params, "password": "not-the-password-42"}
    with pytest.raises(aw.LoginError) as info:
        await aw.connect(driver=driver, plugins="", **params)
    text = str(info.value)
    assert f"{params['host']}:{params['port']}" in text
    assert "not-the-password-42" not in text
    assert isinstance(info.value, aw.OperationalError)


async def test_unknown_database_is_not_a_network_error(
    driver: str, db_params: dict[str, Any]
) -> None:
    key = "dbname" if "dbname" in db_params else "database"
    with pytest.raises(aw.ConnectError) as info:
        await aw.connect(driver=driver, plugins="", **{**db_params, key: "no_such_db"})
    cause = info.value.__cause__
    assert cause is not None and "no_such_db" in str(info.value)
    classifier = adriver_dialect_for(driver)  # the driver dialect classifies driver errors
    assert not classifier.is_network_error(cause)
    # PostgreSQL says the database does not exist; MariaDB denies a non-privileged user
    # access to it (1044), which counts as a login error.
    expect_login = ENGINES[driver] == "mysql"
    assert classifier.is_login_error(cause) is expect_login
    assert isinstance(info.value, aw.LoginError) is expect_login


async def test_unreachable_host_names_the_host(driver: str, db_params: dict[str, Any]) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: refused
    params = {**db_params, "port": port}
    with pytest.raises(aw.ConnectError) as info:
        await aw.connect(driver=driver, plugins="", **params)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert str(db_params["password"]) not in str(info.value)


async def test_bad_input_is_named(driver: str, db_params: dict[str, Any]) -> None:
    with pytest.raises(aw.UnknownPluginError) as plugin_info:
        await aw.connect(driver=driver, plugins="failover_v3", **db_params)
    assert "failover_v3" in str(plugin_info.value) and "dev" in str(plugin_info.value)
    with pytest.raises(aw.PropertyError) as prop_info:
        await aw.connect(driver=driver, auto_sort_wrapper_plugin_order="maybe", **db_params)
    assert prop_info.value.prop == "auto_sort_wrapper_plugin_order"
    with pytest.raises(aw.PropertyError) as unknown_info:
        await aw.connect(driver=driver, auto_sort_wraper_plugin_order=True, **db_params)
    assert "auto_sort_wrapper_plugin_order" in str(unknown_info.value)
    with pytest.raises(aw.ConfigurationError) as port_info:
        await aw.connect(driver=driver, **{**db_params, "port": "fifty"})
    assert "port" in str(port_info.value)
    assert str(db_params["password"]) not in str(port_info.value)


async def test_name_resolver_sends_names_to_its_address(
    driver: str, db_params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resolver installed with aws_wrapper.set_name_resolver (how devcluster names resolve)
    sends a name it knows to its address and keeps the name; it is asked again at each
    connect; None leaves the name to the driver."""
    table = {"db-1.devcluster.invalid": str(db_params["host"])}
    asked: list[str] = []

    def resolve(host: str) -> str | None:
        asked.append(host)
        return table.get(host)

    monkeypatch.setattr("aws_wrapper.resolver._resolver", None)
    assert aw.set_name_resolver(resolve) is None
    assert aw.get_name_resolver() is resolve
    params = {**db_params, "host": "db-1.devcluster.invalid"}
    async with await aw.connect(driver=driver, plugins="", **params) as conn:
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchone() == (1,)
        assert conn.current_host is not None
        assert conn.current_host.host == "db-1.devcluster.invalid"
    assert "db-1.devcluster.invalid" in asked
    table.clear()
    with pytest.raises(aw.ConnectError) as info:
        await aw.connect(driver=driver, plugins="", **params)
    assert "db-1.devcluster.invalid" in str(info.value)
    assert aw.set_name_resolver(None) is resolve


async def test_dialect_follows_the_server(conn: AsyncAwsWrapperConnection, driver: str) -> None:
    expected = "pg" if ENGINES[driver] == "postgresql" else "mariadb"
    assert conn.dialect_code == expected
