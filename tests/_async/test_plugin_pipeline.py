"""The plugin pipeline on real connections: subscription, ordering, connect chain, the dev
and timing plugins, and plugins that replace the current connection."""

from __future__ import annotations

from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.cursor import AsyncAwsWrapperCursor, _LeanCursor
from aws_wrapper._async.plugins.timing import ExecuteTimePlugin
from aws_wrapper._async.protocols import NETWORK_METHODS, Call, ConnectCall, PluginService
from aws_wrapper._compat import AIO
from aws_wrapper.aio import AsyncAwsWrapperConnection
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties
from tests import plugin_registrations  # noqa: F401 - test_counting, for both worlds

from .counting_plugin import CountingPlugin

EVENTS: list[tuple[str, str]] = []


class Recorder(aw.BasePlugin):
    """Records what it sees; ``name`` tells instances apart."""

    name = "rec"
    subscribed_methods = frozenset({"connect", "Cursor.execute", "Connection.commit"})

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> Any:
        EVENTS.append((self.name, f"connect {host.url} initial={is_initial}"))
        return await call()

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        EVENTS.append((self.name, f"{method} {args[0] if args else ''}".strip()))
        try:
            return await call()
        finally:
            EVENTS.append((self.name, f"done {method}"))


class Outer(Recorder):
    name = "outer"


class Network(Recorder):
    name = "net"
    subscribed_methods = frozenset({NETWORK_METHODS})


class Switched(Exception):
    pass


class Switcher(aw.BasePlugin):
    """On ``SELECT 'switch'`` opens a new connection through the pipeline, makes it current
    and raises, as failover does."""

    subscribed_methods = frozenset({"Cursor.execute"})

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        if args and args[0] == "SELECT 'switch'":
            service: PluginService = self.service
            host = service.current_host
            assert host is not None
            new = await service.connect(host)
            old = service.current_connection
            await service.set_current_connection(new, host)
            await service.driver_dialect.close(old)
            raise Switched
        return await call()


def _factory(cls: type[aw.BasePlugin]) -> Any:
    def make(service: PluginService, props: Properties) -> aw.BasePlugin:
        return cls(service, props)

    return make


aw.register_plugin("test_recorder", _factory(Recorder), 500, "test")
aw.register_plugin("test_outer", _factory(Outer), 100, "test")
aw.register_plugin("test_network", _factory(Network), 600, "test")
aw.register_plugin("test_switcher", _factory(Switcher), 700, "test")


@pytest.fixture(params=["psycopg", "aiomysql", "mysql-connector"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def clear_events() -> None:
    EVENTS.clear()
    aw.error_simulator.clear()


async def test_no_plugins_means_no_chains(driver: str, db_params: dict[str, Any]) -> None:
    async with await aw.connect(driver=driver, plugins="", **db_params) as conn:
        hot = conn._hot
        assert hot.ch_execute is None and hot.ch_fetchone is None
        assert hot.ch_commit is None and conn._manager.chain("Connection.close") is None
        assert hot.ch_cursor is None
        cur = await conn.execute("SELECT 1")
        assert await cur.fetchone() == (1,)


async def test_cursor_classes_follow_the_chains(driver: str, db_params: dict[str, Any]) -> None:
    """Where no plugin hooks a cursor call, wrapper cursors skip the chain lookups
    (_LeanCursor); where one does, their calls go through it. Either way they show as
    wrapper cursors."""
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = {}
    if driver == "psycopg":  # arguments: a wrapper cursor, never a native one
        from psycopg.rows import tuple_row

        kwargs = {"row_factory": tuple_row}
    elif driver == "aiomysql":
        import aiomysql

        args = (aiomysql.cursors.Cursor,)
    else:
        kwargs = {"buffered": True}
    for plugins, lean in (("", True), ("test_recorder", False)):
        async with await aw.connect(driver=driver, plugins=plugins, **db_params) as conn:
            assert conn._hot.lean is lean
            EVENTS.clear()
            cur = conn.cursor(*args, **kwargs)
            await cur.execute("SELECT 1")
            assert await cur.fetchone() == (1,)
            await cur.execute("SELECT 2")
            assert await cur.fetchall() == [(2,)]
            assert isinstance(cur, _LeanCursor) is lean
            assert isinstance(cur, AsyncAwsWrapperCursor)
            assert type(cur).__name__ == AsyncAwsWrapperCursor.__name__
            assert repr(cur).startswith(f"<{AsyncAwsWrapperCursor.__name__} open")
            assert ("rec", "Cursor.execute SELECT 2") in EVENTS or lean
            await cur.close()


async def test_subscribed_methods_only(driver: str, db_params: dict[str, Any]) -> None:
    async with await aw.connect(driver=driver, plugins="test_recorder", **db_params) as conn:
        url = f"{db_params['host']}:{db_params['port']}"
        assert [("rec", f"connect {url} initial=True")] == EVENTS
        EVENTS.clear()
        cur = await conn.execute("SELECT 1")
        await cur.fetchone()
        await conn.commit()
        await conn.rollback()
        assert EVENTS == [
            ("rec", "Cursor.execute SELECT 1"),
            ("rec", "done Cursor.execute"),
            ("rec", "Connection.commit"),
            ("rec", "done Connection.commit"),
        ]
        assert conn._manager.chain("Cursor.execute") is conn._hot.ch_execute  # built once


async def test_network_methods_follow_the_driver(driver: str, db_params: dict[str, Any]) -> None:
    async with await aw.connect(driver=driver, plugins="test_network", **db_params) as conn:
        await conn.set_autocommit(True)
        cur = await conn.execute("SELECT 1")
        await cur.fetchall()
        seen = {e for _, e in EVENTS if not e.startswith("done")}
        assert "Cursor.execute SELECT 1" in seen
        assert not any("fetch" in e for e in seen)
        network = conn.driver_dialect.network_bound_methods
        assert ("Connection.set_autocommit True" in seen) == (
            "Connection.set_autocommit" in network
        )


@pytest.mark.parametrize(
    ("plugins", "auto_sort", "expected"),
    [
        ("test_recorder,test_outer", True, ["outer", "rec", "rec", "outer"]),
        ("test_recorder,test_outer", False, ["rec", "outer", "outer", "rec"]),
        ("test_outer,test_recorder", False, ["outer", "rec", "rec", "outer"]),
    ],
)
async def test_plugin_order(
    driver: str, db_params: dict[str, Any], plugins: str, auto_sort: bool, expected: list[str]
) -> None:
    async with await aw.connect(
        driver=driver, plugins=plugins, auto_sort_wrapper_plugin_order=auto_sort, **db_params
    ) as conn:
        EVENTS.clear()
        cur = await conn.execute("SELECT 1")
        assert [name for name, _ in EVENTS] == expected
        await cur.fetchall()  # mysql.connector: no commit with unread results


async def test_dev_plugin_simulates_errors(driver: str, db_params: dict[str, Any]) -> None:
    async with await aw.connect(driver=driver, plugins="dev", **db_params) as conn:
        aw.error_simulator.raise_on_next_call(RuntimeError("simulated"), "Cursor.execute")
        with pytest.raises(RuntimeError, match="simulated"):
            await conn.execute("SELECT 1")
        cur = await conn.execute("SELECT 1")  # one shot
        assert await cur.fetchone() == (1,)
    aw.error_simulator.raise_on_next_connect(RuntimeError("no route (simulated)"))
    with pytest.raises(aw.ConnectError) as info:
        await aw.connect(driver=driver, plugins="dev", **db_params)
    assert "no route (simulated)" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_execute_time_counts_calls(driver: str, db_params: dict[str, Any]) -> None:
    ExecuteTimePlugin.reset()
    async with await aw.connect(driver=driver, plugins="execute_time", **db_params) as conn:
        cur = await conn.execute("SELECT 1")
        await cur.fetchone()
        await conn.commit()
    calls, total_ns = ExecuteTimePlugin.totals()
    assert calls >= 4  # execute, fetchone, commit, close (+ commit on exit)
    assert total_ns > 0


async def test_replaced_connection_is_followed(driver: str, db_params: dict[str, Any]) -> None:
    """After a plugin replaces the driver connection, the wrapper, its cursors and the
    session state follow it (no call reaches the old connection)."""
    conn: AsyncAwsWrapperConnection
    async with await aw.connect(driver=driver, plugins="test_switcher", **db_params) as conn:
        await conn.set_autocommit(True)
        first = conn.driver_connection
        cur = conn.cursor()
        await cur.execute("SELECT 1")
        assert await cur.fetchone() == (1,)
        with pytest.raises(Switched):
            await cur.execute("SELECT 'switch'")
        assert conn.driver_connection is not first
        assert conn.driver_dialect.is_closed(first)
        assert conn.autocommit is True  # replayed on the new connection
        await cur.execute("SELECT 2")
        assert await cur.fetchone() == (2,)
        await conn.commit()


async def test_a_plugin_registered_once_runs_in_both_worlds(
    driver: str, db_params: dict[str, Any]
) -> None:
    """``test_counting`` is registered once (tests/plugin_registrations.py) with the class of
    each world: this test and its generated twin each get their own world's class."""
    before = CountingPlugin.executes
    async with await aw.connect(driver=driver, plugins="test_counting", **db_params) as conn:
        assert [type(p) for p in conn._manager.plugins] == [CountingPlugin]
        cur = await conn.execute("SELECT 1")
        await cur.fetchall()
    assert CountingPlugin.executes == before + 1


async def test_a_plugin_of_the_other_world_only_fails_clearly() -> None:
    code = "test_counting_sync_only" if AIO else "test_counting_aio_only"
    missing = "async code" if AIO else "blocking code"  # this world
    with pytest.raises(aw.ConfigurationError) as info:  # before any connection is attempted
        await aw.connect(driver="psycopg", host="127.0.0.1", port=1, dbname="x", plugins=code)
    assert f"plugin '{code}' has no class for {missing}" in str(info.value)
