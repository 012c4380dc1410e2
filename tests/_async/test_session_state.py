"""Session state as aws-advanced-python-wrapper has it, on the devcluster, both trees:
transferred to the new connection of a read/write switch and of a failover
(``transfer_session_state_on_switch``), reset before a connection goes back to an internal
pool or is closed (``reset_session_state_on_close``), a transaction left on a connection
switched away from rolled back (``rollback_on_switch``), and the user callbacks of
``SessionStateTransferHandlers``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.plugin import BasePlugin
from aws_wrapper._async.session_state import SessionStateTransferHandlers as Handlers
from aws_wrapper._compat import AIO, arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncPooledConnectionProvider, PoolSettings
from aws_wrapper.plugin_registry import _unregister, register_plugin
from aws_wrapper.states.session_state import SessionState
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of

WORLD = "aio" if AIO else "sync"


@pytest.fixture(params=["psycopg", "aiomysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder:
    """A session state callback: records (a copy of the state, the connection); answers
    ``handled``."""

    def __init__(self, handled: bool = False) -> None:
        self.handled = handled
        self.calls: list[tuple[SessionState, Any]] = []

    async def __call__(self, session_state: SessionState, conn: Any) -> bool:
        self.calls.append((session_state.copy(), conn))
        return self.handled


@pytest.fixture(autouse=True)
def no_handlers() -> Iterator[None]:
    yield
    Handlers.clear_reset_session_state_on_close_func()
    Handlers.reset_transfer_session_state_on_switch_func()


@pytest.fixture
async def provider() -> AsyncIterator[AsyncPooledConnectionProvider]:
    p = AsyncPooledConnectionProvider(PoolSettings(max_size=2, timeout=5.0))
    yield p
    await aw.release_resources()


async def connect(
    cluster: Cluster, driver: str, endpoint: str = "cluster", **props: Any
) -> AsyncAwsWrapperConnection:
    """``endpoint``: ``cluster`` or an instance id (the endpoints internal pools take)."""
    props.setdefault("plugins", "read_write_splitting,failover_v2")
    return await aw.connect(driver=driver, **cluster.conn_params(endpoint), **props)


# -- transfer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transfer", [True, False])
async def test_read_write_switch_transfers_the_session(
    cluster: Cluster, driver: str, transfer: bool
) -> None:
    recorder = Recorder()
    Handlers.set_transfer_session_state_on_switch_func(recorder)
    async with await connect(cluster, driver, transfer_session_state_on_switch=transfer) as conn:
        assert conn.autocommit is False
        await conn.set_autocommit(True)
        await conn.set_read_only(True)
        assert await instance_of(conn) != cluster.writer
        assert conn.autocommit is transfer  # False: the reader's own (pristine) value
        if transfer:
            state, new = recorder.calls[0]
            assert new is conn.driver_connection
            assert state.autocommit is True and state.auto_commit.value is True
            assert state.auto_commit.pristine_value is False
            assert state.readonly.pristine_value is False
        else:
            assert recorder.calls == []


async def test_a_transfer_callback_that_handles_it_replaces_the_default(
    cluster: Cluster, driver: str
) -> None:
    recorder = Recorder(handled=True)
    Handlers.set_transfer_session_state_on_switch_func(recorder)
    assert Handlers.get_transfer_session_state_on_switch_func() in (recorder,)
    async with await connect(cluster, driver) as conn:
        await conn.set_autocommit(True)
        await conn.set_read_only(True)
        assert len(recorder.calls) == 1
        assert conn.autocommit is False  # the callback said it was done: nothing replayed


async def test_failover_transfers_the_session(cluster: Cluster, driver: str) -> None:
    recorder = Recorder()
    Handlers.set_transfer_session_state_on_switch_func(recorder)
    async with await connect(cluster, driver, plugins="failover_v2") as conn:
        await conn.set_autocommit(True)
        await conn.set_isolation_level("SERIALIZABLE")
        old = await instance_of(conn)
        await arun_blocking(partial(cluster.failover))
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute("SELECT 1")
        assert await instance_of(conn) != old
        assert conn.autocommit is True
        state, new = recorder.calls[-1]
        assert new is conn.driver_connection
        assert state.autocommit is True and state.isolation_level == "SERIALIZABLE"


# -- reset -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reset", [True, False])
async def test_close_resets_the_session_of_a_pooled_connection(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider, reset: bool
) -> None:
    recorder = Recorder()
    Handlers.set_reset_session_state_on_close_func(recorder)
    conn = await connect(
        cluster,
        driver,
        cluster.writer,
        plugins="",
        connection_provider=provider,
        reset_session_state_on_close=reset,
    )
    raw = conn.driver_connection
    await conn.set_autocommit(True)
    await conn.close()
    if reset:
        (state, given), *_ = recorder.calls
        assert given is raw
        assert state.autocommit is True and state.pristine_autocommit is False
    else:
        assert recorder.calls == []
    again = await connect(cluster, driver, cluster.writer, plugins="", connection_provider=provider)
    try:
        assert again.driver_connection is raw  # the same pooled connection, reset
        assert again.autocommit is False
    finally:
        await again.close()


@pytest.mark.parametrize("reset", [True, False])
@pytest.mark.parametrize("handled", [True, False])
async def test_a_schema_never_goes_back_to_the_pool(
    cluster: Cluster,
    driver: str,
    provider: AsyncPooledConnectionProvider,
    reset: bool,
    handled: bool,
) -> None:
    """A pool does not reset the schema (or the isolation level): a connection with one set
    through the wrapper is closed, not pooled, whatever reset_session_state_on_close or a
    reset callback answering "handled" say (the next user would get it)."""
    Handlers.set_reset_session_state_on_close_func(Recorder(handled=handled))
    conn = await connect(
        cluster,
        driver,
        cluster.writer,
        plugins="",
        connection_provider=provider,
        reset_session_state_on_close=reset,
    )
    raw = conn.driver_connection
    other = "information_schema"
    await conn.set_schema(other)
    await conn.close()
    again = await connect(cluster, driver, cluster.writer, plugins="", connection_provider=provider)
    try:
        assert again.driver_connection is not raw
        sql = "SELECT current_schema()" if driver == "psycopg" else "SELECT DATABASE()"
        cur = await again.execute(sql)
        row = await cur.fetchone()
        assert row is not None and row[0] != other
    finally:
        await again.close()


async def test_close_calls_the_reset_callback_without_a_pool(cluster: Cluster, driver: str) -> None:
    recorder = Recorder()
    Handlers.set_reset_session_state_on_close_func(recorder)
    assert Handlers.get_reset_session_state_on_close_func() in (recorder,)
    conn = await connect(cluster, driver, plugins="")
    raw = conn.driver_connection
    await conn.set_read_only(True)
    await conn.close()
    assert len(recorder.calls) == 1
    state, given = recorder.calls[0]
    assert given is raw and state.read_only is True and state.readonly.pristine_value is False


async def test_a_switch_resets_the_connection_it_gives_back_to_the_pool(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    recorder = Recorder()
    Handlers.set_reset_session_state_on_close_func(recorder)
    async with await connect(
        cluster,
        driver,
        cluster.writer,
        plugins="read_write_splitting",
        connection_provider=provider,
    ) as conn:
        await conn.set_autocommit(True)
        writer_raw = conn.driver_connection
        await conn.set_read_only(True)  # the writer's connection goes back to its pool
        assert [given for _, given in recorder.calls] == [writer_raw]
        assert writer_raw is not conn.driver_connection
        # reset: back in the pool with the autocommit it was opened with
        assert conn.driver_dialect.get_autocommit(writer_raw) is False


# -- rollback_on_switch ------------------------------------------------------------------------


class Switcher(BasePlugin):
    """A plugin that moves the connection to a new one to the same host on demand."""

    last: Switcher | None = None

    def __init__(self, service: Any, props: Any) -> None:
        super().__init__(service, props)
        Switcher.last = self

    async def switch(self) -> Any:
        host = self.service.current_host
        assert host is not None
        old = self.service.current_connection
        new = await self.service.connect(host)
        await self.service.set_current_connection(new, host)
        return old


@pytest.fixture
def switcher() -> Iterator[None]:
    factory: dict[str, Any] = {WORLD: Switcher}
    register_plugin("test_session_switcher", weight=5000, **factory)
    yield
    _unregister("test_session_switcher")
    Switcher.last = None


@pytest.mark.parametrize("rollback", [True, False])
async def test_rollback_on_switch(
    cluster: Cluster, driver: str, switcher: None, rollback: bool
) -> None:
    async with await connect(
        cluster, driver, plugins="test_session_switcher", rollback_on_switch=rollback
    ) as conn:
        await conn.execute("START TRANSACTION")
        assert conn.in_transaction
        plugin = Switcher.last
        assert plugin is not None
        old = await plugin.switch()
        assert conn.driver_connection is not old
        assert conn.driver_dialect.in_transaction(old) is not rollback
        await plugin.service.release_connection(old, reusable=False)


def test_the_module_faces() -> None:
    if AIO:
        from aws_wrapper.aio.session_state import AsyncSessionStateTransferHandlers as face
    else:
        from aws_wrapper.states import SessionStateTransferHandlers as face
        from aws_wrapper.states.session_state_service import SessionStateTransferHandlers

        assert SessionStateTransferHandlers is Handlers
    assert face is Handlers
