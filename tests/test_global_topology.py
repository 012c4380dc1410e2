"""Global Database pure logic: ``global_cluster_instance_host_patterns``, hosts built per
region from the global instance status, the gdb_failover mode and home region properties.
(The behaviour on the multi-region devcluster: tests/_async/test_global_database.py.)"""

from __future__ import annotations

import pytest

from aws_wrapper._async.plugins.gdb_failover import home_region, parse_mode, region_of
from aws_wrapper.errors import PropertyError
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugins.gdb_failover import (
    ACTIVE_HOME_FAILOVER_MODE,
    FAILOVER_HOME_REGION,
    GDB_FAILOVER_MODES,
)
from aws_wrapper.properties import Properties, parse_properties
from aws_wrapper.rds_utils import parse_global_host_patterns
from aws_wrapper.topology import build_hosts, global_entry_from_row

PATTERNS = (
    "us-east-1:?.abc.us-east-1.rds.amazonaws.com, US-WEST-2:?.def.us-west-2.rds.amazonaws.com:6000"
)
PROP = "global_cluster_instance_host_patterns"


def test_patterns_per_region_with_ports() -> None:
    assert parse_global_host_patterns(PATTERNS, 5432) == {
        "us-east-1": ("?.abc.us-east-1.rds.amazonaws.com", 5432),
        "us-west-2": ("?.def.us-west-2.rds.amazonaws.com", 6000),
    }
    # any host template (custom DNS), as cluster_instance_host_pattern
    assert parse_global_host_patterns("eu-west-1:?.db.example.com:3307", 3306) == {
        "eu-west-1": ("?.db.example.com", 3307)
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("?.abc.us-east-1.rds.amazonaws.com", "is not '<region>:<host template>"),
        ("mars:?.abc.com", "is not '<region>:<host template>"),
        ("us-east-1:", "is not '<region>:<host template>"),
        ("us-east-1:abc.us-east-1.rds.amazonaws.com", "has no '?'"),
        ("us-east-1:?.abc.us-east-1.rds.amazonaws.com:99999", "bad port"),
        ("us-east-1:?.cluster-abc.us-east-1.rds.amazonaws.com", "not an instance host template"),
        ("us-east-1:?.abc.us-west-2.rds.amazonaws.com", "is in us-west-2, not us-east-1"),
        ("us-east-1:?.a.com,us-east-1:?.b.com", "given twice"),
        (" , ", "names no region"),
    ],
)
def test_bad_patterns_name_the_property(value: str, message: str) -> None:
    with pytest.raises(PropertyError) as info:
        parse_global_host_patterns(value, 5432)
    assert info.value.prop == PROP
    assert message in str(info.value)


def test_hosts_of_every_region_from_the_global_status() -> None:
    templates = parse_global_host_patterns(PATTERNS, 5432)
    rows = [
        ("east-2", "east-2-session", "us-east-1"),
        ("west-1", "MASTER_SESSION_ID", "us-west-2"),
        ("east-1", "east-1-session", "us-east-1"),
    ]
    hosts = build_hosts([global_entry_from_row(r) for r in rows], "?.x", 1, templates=templates)
    assert [(h.host, h.port, h.role, h.region) for h in hosts] == [
        ("west-1.def.us-west-2.rds.amazonaws.com", 6000, HostRole.WRITER, "us-west-2"),
        ("east-2.abc.us-east-1.rds.amazonaws.com", 5432, HostRole.READER, "us-east-1"),
        ("east-1.abc.us-east-1.rds.amazonaws.com", 5432, HostRole.READER, "us-east-1"),
    ]
    assert [region_of(h) for h in hosts] == ["us-west-2", "us-east-1", "us-east-1"]
    # a region without a pattern
    rows.append(("eu-1", "eu-1-session", "eu-west-1"))
    with pytest.raises(PropertyError) as info:
        build_hosts([global_entry_from_row(r) for r in rows], "?.x", 1, templates=templates)
    assert info.value.prop == PROP
    assert "no pattern for region eu-west-1" in str(info.value)


def test_host_region_in_equality_and_from_the_name() -> None:
    a = HostInfo("h", 1, region="us-east-1")
    assert a == HostInfo("h", 1, region="us-east-1")
    assert hash(a) == hash(HostInfo("h", 1, region="us-east-1"))
    assert a.same_place(HostInfo("h", 1))
    assert region_of(HostInfo("i.abc.eu-west-1.rds.amazonaws.com", 1)) == "eu-west-1"
    assert region_of(HostInfo("10.0.0.1", 1)) is None


def _props(**values: object) -> Properties:
    return parse_properties(values, frozenset(), "psycopg")


def test_modes_and_home_region() -> None:
    for mode in GDB_FAILOVER_MODES:
        props = _props(active_home_failover_mode=mode.upper().replace("-", "_"))
        assert parse_mode(ACTIVE_HOME_FAILOVER_MODE, props) == mode
    props = _props(active_home_failover_mode="closest")
    with pytest.raises(PropertyError) as info:
        parse_mode(ACTIVE_HOME_FAILOVER_MODE, props)
    assert info.value.prop == "active_home_failover_mode"
    none = _props()
    assert parse_mode(ACTIVE_HOME_FAILOVER_MODE, none) is None
    regional = "db.cluster-abc.eu-west-1.rds.amazonaws.com"
    assert home_region(none, regional, FAILOVER_HOME_REGION, "gdb_failover") == "eu-west-1"
    for endpoint in ("db.global-abc.global.rds.amazonaws.com", "10.1.2.3", "db.example.com"):
        with pytest.raises(PropertyError) as info:
            home_region(none, endpoint, FAILOVER_HOME_REGION, "gdb_failover")
        assert info.value.prop == "failover_home_region"
        assert endpoint in str(info.value)
    given = _props(failover_home_region=" US-West-2 ")
    assert home_region(given, regional, FAILOVER_HOME_REGION, "gdb_failover") == "us-west-2"
