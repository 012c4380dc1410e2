"""Configuration profiles (``profile_name``, aws_wrapper.driver_configuration_profiles):
user-registered and preset, applied on connect — plugins, properties, dialect and connection
provider — on the plain servers and the devcluster, both trees."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

import pytest

from aws_wrapper import aio as aw
from aws_wrapper._async.plugin import BasePlugin
from aws_wrapper._async.plugins.dev import ExceptionSimulatorManager, simulator
from aws_wrapper._compat import arun_blocking
from aws_wrapper.aio import AsyncAwsWrapperConnection, AsyncPooledConnectionProvider, PoolSettings
from aws_wrapper.driver_configuration_profiles import PRESETS, DriverConfigurationProfiles
from aws_wrapper.plugin import Plugin as PeerPlugin
from aws_wrapper.properties import Properties
from aws_wrapper_devcluster import Cluster
from tests.drivers import ENGINES

from .cluster import instance_of

SEEN: list[Properties] = []


def recording_factory(service: Any, props: Properties) -> BasePlugin:
    """A plugin factory of the profile: records the properties the connection got."""
    SEEN.append(props)
    return BasePlugin(service, props)


class PeerStylePlugin(PeerPlugin):
    """A plugin written for aws-advanced-python-wrapper (its hooks' signatures)."""

    methods: list[str] = []

    @property
    def subscribed_methods(self) -> set[str]:
        return {"Cursor.execute"}

    def execute(
        self, target: object, method_name: str, execute_func: Any, *args: Any, **kwargs: Any
    ) -> Any:
        PeerStylePlugin.methods.append(method_name)
        return execute_func()


class PeerStyleFactory:
    """aws-advanced-python-wrapper's factory form: ``get_instance(service, props)`` giving
    one of its plugins (run through the adapter, as ``PluginManager.register_plugin``'s)."""

    made = 0

    def get_instance(self, service: Any, props: Any) -> PeerStylePlugin:
        PeerStyleFactory.made += 1
        return PeerStylePlugin()


@pytest.fixture(autouse=True)
def no_profiles() -> Iterator[None]:
    SEEN.clear()
    simulator.clear()
    yield
    DriverConfigurationProfiles.clear_profiles()
    simulator.clear()


def rds_dialect(driver: str) -> str:
    return "rds-pg" if ENGINES[driver] == "postgresql" else "rds-mysql"


async def scalar(conn: AsyncAwsWrapperConnection, sql: str) -> Any:
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    assert row is not None
    await cur.fetchall()
    return row[0]


# -- user-registered profiles ------------------------------------------------------------------


async def test_a_registered_profile_gives_plugins_properties_and_dialect(
    driver: str, db_params: dict[str, Any]
) -> None:
    DriverConfigurationProfiles.add_or_replace_profile(
        "mine",
        ["dev", recording_factory],
        properties={"failure_detection_time_ms": 1234, "failover_timeout_sec": 77},
        dialect=rds_dialect(driver),
    )
    assert DriverConfigurationProfiles.contains_profile("mine")
    async with await aw.connect(
        driver=driver, profile_name="mine", failover_timeout_sec=55, **db_params
    ) as conn:
        assert conn.dialect_code == rds_dialect(driver)
        (props,) = SEEN
        assert props.wrapper["failure_detection_time_ms"] == 1234  # from the profile
        assert props.wrapper["failover_timeout_sec"] == 55  # the user's wins
        # the dev plugin came from the profile
        ExceptionSimulatorManager.raise_exception_on_next_method(RuntimeError("dev is on"))
        with pytest.raises(RuntimeError, match="dev is on"):
            await conn.execute("SELECT 1")
        assert await scalar(conn, "SELECT 1") == 1


async def test_the_profile_plugins_replace_the_plugins_property(
    driver: str, db_params: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    DriverConfigurationProfiles.add_or_replace_profile("only_recording", [recording_factory])
    caplog.set_level("INFO", logger="aws_wrapper")
    async with await aw.connect(
        driver=driver, profile_name="only_recording", plugins="dev", **db_params
    ) as conn:
        ExceptionSimulatorManager.raise_exception_on_next_method(RuntimeError("dev is on"))
        assert await scalar(conn, "SELECT 1") == 1  # no dev plugin: nothing raised
    assert len(SEEN) == 1
    assert any("'plugins' property" in r.getMessage() for r in caplog.records)


async def test_a_profile_without_plugins_keeps_the_plugins_property(
    driver: str, db_params: dict[str, Any]
) -> None:
    DriverConfigurationProfiles.add_or_replace_profile(
        "props_only", None, dialect=rds_dialect(driver)
    )
    async with await aw.connect(
        driver=driver, profile_name="props_only", plugins="dev", **db_params
    ) as conn:
        assert conn.dialect_code == rds_dialect(driver)
        ExceptionSimulatorManager.raise_exception_on_next_method(RuntimeError("dev is on"))
        with pytest.raises(RuntimeError, match="dev is on"):
            await conn.execute("SELECT 1")


async def test_a_peer_style_factory(driver: str, db_params: dict[str, Any]) -> None:
    DriverConfigurationProfiles.add_or_replace_profile("peer", [PeerStyleFactory()])
    made = PeerStyleFactory.made
    PeerStylePlugin.methods.clear()
    async with await aw.connect(driver=driver, profile_name="peer", **db_params) as conn:
        assert await scalar(conn, "SELECT 1") == 1
    assert PeerStyleFactory.made == made + 1
    assert PeerStylePlugin.methods == ["Cursor.execute"]
    assert len(DriverConfigurationProfiles.get_plugin_factories("peer")) == 1


async def test_profile_errors(driver: str, db_params: dict[str, Any]) -> None:
    with pytest.raises(aw.PropertyError, match=r"unknown configuration profile 'nope'.*failover"):
        await aw.connect(driver=driver, profile_name="nope", **db_params)
    DriverConfigurationProfiles.add_or_replace_profile("typo", ["failover_v3"])
    with pytest.raises(aw.ConfigurationError, match=r"profile 'typo'.*failover_v3.*did you mean"):
        await aw.connect(driver=driver, profile_name="typo", **db_params)
    DriverConfigurationProfiles.add_or_replace_profile("bad_prop", [], properties={"nope_x": 1})
    with pytest.raises(aw.PropertyError, match="nope_x"):
        await aw.connect(driver=driver, profile_name="bad_prop", **db_params)


def test_the_registry_api() -> None:
    profiles = DriverConfigurationProfiles
    assert set(PRESETS) <= set(profiles.profile_names())
    assert profiles.contains_profile("failover") and not profiles.contains_profile("x")
    profiles.add_or_replace_profile("x", "failover_v2, dev")
    assert profiles.get_plugin_factories("x") == ["failover_v2", "dev"]
    profiles.add_or_replace_profile("failover", ["dev"])  # replaces the preset
    assert profiles.get_plugin_factories("failover") == ["dev"]
    profiles.remove_profile("failover")  # the preset again
    assert profiles.get_plugin_factories("failover") == list(PRESETS["failover"].plugins or ())
    profiles.remove_profile("x")
    assert not profiles.contains_profile("x")
    with pytest.raises(aw.ConfigurationError, match="no registered configuration profile"):
        profiles.remove_profile("x")
    with pytest.raises(aw.ConfigurationError, match="'plugins' cannot be one of its properties"):
        profiles.add_or_replace_profile("y", properties={"plugins": "dev"})
    with pytest.raises(aw.ConfigurationError, match="a plugin must be a code"):
        profiles.add_or_replace_profile("y", [42])
    profiles.add_or_replace_profile("y", [])
    profiles.clear_profiles()
    assert not profiles.contains_profile("y") and profiles.contains_profile("no_plugins")


# -- presets and connection providers on the devcluster ------------------------------------------


@pytest.fixture
async def provider() -> AsyncIterator[AsyncPooledConnectionProvider]:
    p = AsyncPooledConnectionProvider(PoolSettings(max_size=2, timeout=5.0))
    yield p
    await aw.release_resources()


async def test_preset_failover_fast_detection(cluster: Cluster, driver: str) -> None:
    async with await aw.connect(
        driver=driver, profile_name="failover_fast_detection", **cluster.conn_params()
    ) as conn:
        await conn.set_autocommit(True)
        service: Any = conn._service
        assert sorted(type(p).__name__ for p in service.manager.plugins) == [
            "AuroraConnectionTrackerPlugin",
            "FailoverPlugin",
            "HostMonitoringPlugin",
        ]
        assert service.props.wrapper["failure_detection_time_ms"] == 5000
        assert service.props.wrapper["failure_detection_interval_ms"] == 1000
    async with await aw.connect(
        driver=driver,
        profile_name="failover_fast_detection",
        enable_failover=False,
        **cluster.conn_params(),
    ) as off:
        assert "FailoverPlugin" not in [type(p).__name__ for p in off._service.manager.plugins]
    async with await aw.connect(
        driver=driver, profile_name="failover_fast_detection", **cluster.conn_params()
    ) as conn:
        await conn.set_autocommit(True)
        old = await instance_of(conn)
        await arun_blocking(partial(cluster.failover))
        with pytest.raises(aw.FailoverSuccessError):
            await conn.execute("SELECT 1")
        assert await instance_of(conn) != old


async def test_preset_read_write_splitting_pooled(cluster: Cluster, driver: str) -> None:
    params = cluster.conn_params(cluster.writer)  # an instance endpoint: pooled
    conn = await aw.connect(driver=driver, profile_name="read_write_splitting_pooled", **params)
    try:
        service: Any = conn._service
        assert isinstance(service.connection_provider, AsyncPooledConnectionProvider)
        first = conn.driver_connection
        assert service.connection_provider.owns(first)
        await conn.set_read_only(True)
        assert await instance_of(conn) != cluster.writer
        await conn.set_read_only(False)
        assert await instance_of(conn) == cluster.writer
    finally:
        await conn.close()
    again = await aw.connect(driver=driver, profile_name="read_write_splitting_pooled", **params)
    try:
        # one provider per world for the preset: the pooled connection is reused
        assert again._service.connection_provider is service.connection_provider
        assert again.driver_connection is first
    finally:
        await again.close()


async def test_a_profile_provider_and_the_one_passed_to_connect(
    cluster: Cluster, driver: str, provider: AsyncPooledConnectionProvider
) -> None:
    made: list[str] = []

    def make(world: str) -> AsyncPooledConnectionProvider:
        made.append(world)
        return provider

    DriverConfigurationProfiles.add_or_replace_profile("pooled", [], connection_provider=make)
    params = cluster.conn_params(cluster.writer)
    async with await aw.connect(driver=driver, profile_name="pooled", **params) as conn:
        assert provider.owns(conn.driver_connection)
    async with await aw.connect(driver=driver, profile_name="pooled", **params) as conn:
        assert provider.owns(conn.driver_connection)
    assert len(made) == 1  # one provider per world, made on first use
    other = AsyncPooledConnectionProvider(PoolSettings(max_size=1))
    async with await aw.connect(
        driver=driver, profile_name="pooled", connection_provider=other, **params
    ) as conn:
        assert other.owns(conn.driver_connection)  # the one passed to connect wins
        assert not provider.owns(conn.driver_connection)
