# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_custom_endpoint.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The custom_endpoint plugin with a stub member source: no database, no AWS.

The plugin's hooks are called directly with a minimal plugin service (the plugin reads only
``service.initial_host``), and the connect chain is a function returning a marker object.
Written once as async code: tests/_sync/test_custom_endpoint.py is generated from it (monitors
are then threads, and "concurrent" connects run in threads).
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any, cast

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import gather, sleep
from aws_wrapper._sync.plugins.custom_endpoint import (
    CustomEndpointPlugin,
    custom_endpoint_plugin_for,
    filter_hosts_for,
    monitors,
)
from aws_wrapper._sync.protocols import PluginService
from aws_wrapper.custom_endpoint import (
    CustomEndpointError,
    CustomEndpointInfo,
    CustomEndpointNotFoundError,
    CustomEndpointRoleType,
    set_custom_endpoint_source,
)
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import Properties, parse_properties

DOMAIN = "abc123xyz.us-east-1.rds.amazonaws.com"
ENDPOINT = f"analytics.cluster-custom-{DOMAIN}"
OTHER_ENDPOINT = f"batch.cluster-custom-{DOMAIN}"
CLUSTER = f"prod.cluster-{DOMAIN}"
HOSTS = [
    HostInfo(
        f"prod-{i}.{DOMAIN}",
        5432,
        HostRole.WRITER if i == 1 else HostRole.READER,
        host_id=f"prod-{i}",
    )
    for i in range(1, 5)
]
CONN = object()  # what the connect chain "opens"


def info(
    endpoint_id: str, static: tuple[str, ...] = (), excluded: tuple[str, ...] = ()
) -> CustomEndpointInfo:
    return CustomEndpointInfo(
        endpoint_id=endpoint_id,
        cluster_id="prod",
        endpoint=f"{endpoint_id}.cluster-custom-{DOMAIN}",
        role_type=CustomEndpointRoleType.READER if static else CustomEndpointRoleType.ANY,
        static_members=frozenset(static),
        excluded_members=frozenset(excluded),
    )


class StubSource:
    """Answers from ``infos``; records every call. ``error`` is raised instead when set;
    ``delay`` blocks the (worker) thread like a slow RDS call."""

    def __init__(self) -> None:
        self.infos: dict[str, CustomEndpointInfo] = {}
        self.calls: list[tuple[str, str]] = []
        self.threads: set[str] = set()
        self.error: Exception | None = None
        self.delay = 0.0

    def fetch(self, endpoint_id: str, region: str) -> CustomEndpointInfo:
        self.calls.append((endpoint_id, region))
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        found = self.infos.get(endpoint_id)
        if found is None:
            raise CustomEndpointNotFoundError(
                f"custom endpoint '{endpoint_id}' not found", endpoint_id
            )
        return found


class MinimalService:
    """All of PluginService the plugin uses."""

    def __init__(self, host: str) -> None:
        self.initial_host = HostInfo(host, 5432)


@pytest.fixture
def source() -> Any:
    stub = StubSource()
    stub.infos["analytics"] = info("analytics", static=("prod-2", "prod-3"))
    stub.infos["batch"] = info("batch", excluded=("prod-1",))
    set_custom_endpoint_source(stub)
    yield stub
    set_custom_endpoint_source(None)


@pytest.fixture(autouse=True)
def release_monitors() -> Any:
    yield
    aw.release_resources()


def props(**values: Any) -> Properties:
    return parse_properties(values, frozenset(), "test")


def plugin(host: str = ENDPOINT, **values: Any) -> CustomEndpointPlugin:
    service = cast(PluginService, MinimalService(host))
    return CustomEndpointPlugin(service, props(**values))


def opened() -> object:
    return CONN


def connect(p: CustomEndpointPlugin, host: str | None = None) -> object:
    target = HostInfo(host or p.service.initial_host.host, 5432)
    return p.connect(target, p.props, True, opened)


def passthrough() -> str:
    return "result"


def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        sleep(0.01)


def test_connect_waits_for_members_and_filters_hosts(source: StubSource) -> None:
    p = plugin()
    assert connect(p) is CONN
    assert source.calls == [("analytics", "us-east-1")]
    assert p.allowed_host_ids() == frozenset({"prod-2", "prod-3"})
    assert p.blocked_host_ids() == frozenset()
    assert [h.host_id for h in p.filter_hosts(HOSTS)] == ["prod-2", "prod-3"]
    assert custom_endpoint_plugin_for(p.service) is p
    assert [h.host_id for h in filter_hosts_for(p.service, HOSTS)] == ["prod-2", "prod-3"]
    # the endpoint itself leads to a member; the cluster endpoint may lead anywhere
    assert p.filter_hosts([HostInfo(ENDPOINT, 5432), HostInfo(CLUSTER, 5432)]) == [
        HostInfo(ENDPOINT, 5432)
    ]
    assert p.info is not None and p.info.role_type is CustomEndpointRoleType.READER
    assert p.subscribed_methods == frozenset({"connect", "<network>"})


def test_excluded_members_endpoint(source: StubSource) -> None:
    p = plugin(OTHER_ENDPOINT)
    connect(p)
    assert p.allowed_host_ids() is None  # "all instances but ..."
    assert p.blocked_host_ids() == frozenset({"prod-1"})
    assert [h.host_id for h in p.filter_hosts(HOSTS)] == ["prod-2", "prod-3", "prod-4"]


def test_other_endpoints_pass_through(source: StubSource) -> None:
    p = plugin(CLUSTER)
    assert p.subscribed_methods == frozenset({"connect"})  # no per-call cost
    assert connect(p) is CONN
    assert p.execute("Cursor.execute", None, ("SELECT 1",), passthrough) == "result"
    assert source.calls == [] and monitors() == []
    assert p.allowed_host_ids() is None and p.filter_hosts(HOSTS) == HOSTS
    assert filter_hosts_for(cast(PluginService, MinimalService(CLUSTER)), HOSTS) == HOSTS


def test_one_shared_monitor_per_endpoint(source: StubSource) -> None:
    plugins = [plugin() for _ in range(20)] + [plugin(OTHER_ENDPOINT) for _ in range(5)]
    results = gather(*(partial(connect, p) for p in plugins))
    assert results == [CONN] * 25
    found = monitors()
    assert sorted(m.endpoint_id for m in found) == ["analytics", "batch"]
    # one fetch per endpoint answered all 25 connects (the refresh rate is 30 s)
    assert sorted(source.calls) == [("analytics", "us-east-1"), ("batch", "us-east-1")]
    assert len({id(p.monitor) for p in plugins[:20]}) == 1
    # the RDS call never runs on the event loop (async) or the connecting thread (sync)
    assert threading.main_thread().name not in source.threads


def test_refresh_picks_up_membership_changes(source: StubSource) -> None:
    p = plugin(custom_endpoint_info_refresh_rate_ms=20)
    other = plugin(custom_endpoint_info_refresh_rate_ms=20)
    connect(p)
    connect(other)
    assert p.allowed_host_ids() == frozenset({"prod-2", "prod-3"})
    source.infos["analytics"] = info("analytics", static=("prod-3", "prod-4"))
    eventually(lambda: p.allowed_host_ids() == frozenset({"prod-3", "prod-4"}))
    assert other.allowed_host_ids() == frozenset({"prod-3", "prod-4"})  # the same monitor
    assert [h.host_id for h in p.filter_hosts(HOSTS)] == ["prod-3", "prod-4"]
    # a failing refresh keeps the last known members
    source.error = RuntimeError("throttled")
    version = monitors()[0].version
    eventually(lambda: monitors()[0].version > version + 1)
    assert p.allowed_host_ids() == frozenset({"prod-3", "prod-4"})
    assert isinstance(monitors()[0].error, RuntimeError)


def test_wait_timeout_names_the_endpoint(source: StubSource) -> None:
    source.error = RuntimeError("Rate exceeded")
    p = plugin(wait_for_custom_endpoint_info_timeout_ms=300)
    started = time.monotonic()
    with pytest.raises(CustomEndpointError) as raised:
        connect(p)
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2.0
    message = str(raised.value)
    assert ENDPOINT in message and "wait_for_custom_endpoint_info_timeout_ms" in message
    assert "Rate exceeded" in message
    assert raised.value.endpoint == ENDPOINT
    assert isinstance(raised.value, aw.OperationalError)
    assert len(source.calls) >= 1


def test_slow_source_times_out_without_blocking(source: StubSource) -> None:
    source.delay = 0.6
    p = plugin(wait_for_custom_endpoint_info_timeout_ms=100)
    started = time.monotonic()
    with pytest.raises(CustomEndpointError, match="analytics"):
        connect(p)
    assert time.monotonic() - started < 0.5  # did not wait for the RDS call


def test_unknown_endpoint_fails_fast(source: StubSource) -> None:
    p = plugin(f"missing.cluster-custom-{DOMAIN}", wait_for_custom_endpoint_info_timeout_ms=5000)
    started = time.monotonic()
    with pytest.raises(CustomEndpointNotFoundError, match="missing"):
        connect(p)
    assert time.monotonic() - started < 2.0


def test_a_configuration_error_fails_fast(source: StubSource) -> None:
    source.error = ConfigurationError("boto3 is not installed: pip install boto3")
    p = plugin(wait_for_custom_endpoint_info_timeout_ms=5000)
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match=r"analytics.*pip install boto3"):
        connect(p)
    assert time.monotonic() - started < 2.0


def test_without_waiting_hosts_are_not_restricted_yet(source: StubSource) -> None:
    source.delay = 0.3
    p = plugin(wait_for_custom_endpoint_info=False)
    started = time.monotonic()
    assert connect(p) is CONN
    assert time.monotonic() - started < 0.25
    assert p.allowed_host_ids() is None and p.filter_hosts(HOSTS) == HOSTS
    eventually(lambda: p.allowed_host_ids() == frozenset({"prod-2", "prod-3"}))


def test_region_override(source: StubSource) -> None:
    p = plugin(custom_endpoint_region="eu-west-1")
    connect(p)
    assert source.calls == [("analytics", "eu-west-1")]


def test_release_resources_stops_the_monitor(source: StubSource) -> None:
    p = plugin()
    connect(p)
    monitor = p.monitor
    assert monitor is not None and monitor.running
    aw.release_resources()
    assert not monitor.running and monitors() == []
    # the connection goes on: its next call attaches to a new monitor
    assert p.execute("Cursor.execute", None, (), passthrough) == "result"
    assert p.monitor is not monitor and p.monitor is not None and p.monitor.running
    assert len(source.calls) == 2


def test_idle_monitor_expires_and_comes_back(source: StubSource) -> None:
    p = plugin(
        custom_endpoint_idle_monitor_expiration_ms=150, custom_endpoint_info_refresh_rate_ms=30
    )
    connect(p)
    monitor = p.monitor
    assert monitor is not None
    # in use: no expiry
    for _ in range(6):
        sleep(0.05)
        assert p.execute("Cursor.execute", None, (), passthrough) == "result"
    assert monitor.active and p.monitor is monitor
    # unused: it stops and leaves the registry
    eventually(lambda: not monitor.running)
    assert monitor.expired and monitors() == []
    assert p.allowed_host_ids() == frozenset({"prod-2", "prod-3"})  # the last known members
    # the next call starts a new one and waits for its members
    assert p.execute("Cursor.execute", None, (), passthrough) == "result"
    assert p.monitor is not monitor and p.monitor is not None
    assert p.monitor.info is not None and monitors() == [p.monitor]


def test_closing_a_connection_keeps_the_shared_monitor(source: StubSource) -> None:
    first, second = plugin(), plugin()
    connect(first)
    connect(second)
    first.release_resources()
    assert first.monitor is None
    assert second.monitor is not None and second.monitor.running and len(monitors()) == 1
