"""Every connection property name of aws-advanced-python-wrapper 3.1.0 is accepted (issue 17):
parsed for every driver of both worlds, with a valid value of the peer's; what each does here
is in docs/migration.md and /work/notes/issue17/properties-mapping.md. The behaviour on real
servers and the devcluster is tested in tests/_async/test_peer_connect.py.

The list is the peer's, copied here (not read from the peer at test time).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aws_wrapper import properties
from aws_wrapper.drivers import adriver_dialect_for, driver_dialect_for
from aws_wrapper.errors import PropertyError, UnsupportedDriverError
from aws_wrapper.host_selectors import WEIGHTED_RANDOM_DEFAULT_WEIGHT, selector_for
from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.plugin_registry import parse_plugin_codes
from aws_wrapper.properties import (
    HIGH_REFRESH_RATE_MS,
    WRAPPER_DIALECT,
    Properties,
    parse_properties,
    registry,
)

PEER_PROPERTIES = (
    "profile_name",
    "plugins",
    "user",
    "password",
    "database",
    "connect_timeout",
    "socket_timeout",
    "tcp_keepalive",
    "tcp_keepalive_time",
    "tcp_keepalive_interval",
    "tcp_keepalive_probes",
    "transfer_session_state_on_switch",
    "reset_session_state_on_close",
    "rollback_on_switch",
    "topology_refresh_ms",
    "cluster_id",
    "cluster_instance_host_pattern",
    "global_cluster_instance_host_patterns",
    "aws_profile",
    "iam_host",
    "iam_default_port",
    "iam_region",
    "iam_expiration",
    "secrets_manager_secret_id",
    "secrets_manager_secret_username_key",
    "secrets_manager_secret_password_key",
    "secrets_manager_region",
    "secrets_manager_endpoint",
    "secrets_manager_expiration",
    "wrapper_dialect",
    "auxiliary_query_timeout_sec",
    "failure_detection_enabled",
    "failure_detection_time_ms",
    "failure_detection_interval_ms",
    "failure_detection_count",
    "monitor_disposal_time_ms",
    "enable_failover",
    "failover_mode",
    "failover_timeout_sec",
    "failover_cluster_topology_refresh_rate_sec",
    "failover_writer_reconnect_interval_sec",
    "failover_reader_connect_timeout_sec",
    "failover_reader_host_selector_strategy",
    "enable_connect_failover",
    "failover_home_region",
    "active_home_failover_mode",
    "inactive_home_failover_mode",
    "cluster_topology_high_refresh_rate_ms",
    "custom_endpoint_info_refresh_rate_ms",
    "custom_endpoint_idle_monitor_expiration_ms",
    "wait_for_custom_endpoint_info",
    "wait_for_custom_endpoint_info_timeout_ms",
    "default_host_availability_strategy",
    "host_availability_strategy_max_retries",
    "host_availability_strategy_initial_backoff_time",
    "wrapper_driver_dialect",
    "reader_host_selector_strategy",
    "auto_sort_wrapper_plugin_order",
    "round_robin_default_weight",
    "round_robin_host_weight_pairs",
    "weighted_random_default_weight",
    "weighted_random_host_weight_pairs",
    "idp_endpoint",
    "idp_port",
    "rp_identifier",
    "iam_role_arn",
    "iam_idp_arn",
    "iam_token_expiration",
    "idp_username",
    "idp_password",
    "http_request_connect_timeout",
    "ssl_secure",
    "idp_name",
    "db_user",
    "app_id",
    "response_measurement_interval_ms",
    "limitless_transaction_router_monitor_disposal_time_ms",
    "limitless_transaction_router_monitor_interval_ms",
    "limitless_wait_for_transaction_router_info",
    "limitless_get_transaction_router_retry_interval_ms",
    "limitless_get_transaction_router_max_retries",
    "limitless_max_retries_ms",
    "bg_connect_timeout_ms",
    "bg_id",
    "bg_interval_baseline_ms",
    "bg_interval_increased_ms",
    "bg_interval_high_ms",
    "bg_switchover_timeout_ms",
    "bg_suspend_new_blue_connections",
    "enable_telemetry",
    "telemetry_submit_toplevel",
    "telemetry_traces_backend",
    "telemetry_metrics_backend",
    "telemetry_failover_additional_top_trace",
    "reader_initial_connection_host_selector_strategy",
    "initial_connection_host_selector_strategy",
    "endpoint_substitution_role",
    "inactive_cluster_writer_endpoint_substitution_role",
    "verify_opened_connection_type",
    "verify_inactive_cluster_writer_endpoint_connection_type",
    "open_connection_retry_timeout_ms",
    "open_connection_retry_interval_ms",
    "wait_for_initial_topology_ms",
    "srw_read_endpoint",
    "srw_write_endpoint",
    "srw_verify_new_connections",
    "srw_verify_initial_connection_type",
    "srw_connect_retry_timeout_ms",
    "srw_connect_retry_interval_ms",
    "gdb_rw_home_region",
    "gdb_rw_restrict_writer_to_home_region",
    "gdb_rw_restrict_reader_to_home_region",
    "gdb_enable_global_write_forwarding",
    "gdb_accessible_regions",
    "monitoring_connection_priority",
    "gdb_monitoring_connection_priority",
)
"""The 116 properties of aws-advanced-python-wrapper 3.1.0 (WrapperProperties), in its order."""

SAMPLES: dict[str, Any] = {
    # a valid value for each property without a default in the peer (the others take theirs)
    "profile_name": "failover",  # one of the preset profiles
    "plugins": "initial_connection,aurora_connection_tracker,failover_v2,host_monitoring_v2",
    "user": "app",
    "password": "pw",
    "database": "app",
    "connect_timeout": 10,
    "socket_timeout": 30,
    "tcp_keepalive": True,
    "tcp_keepalive_time": 30,
    "tcp_keepalive_interval": 10,
    "tcp_keepalive_probes": 3,
    "cluster_instance_host_pattern": "?.abc123.us-east-1.rds.amazonaws.com",
    "global_cluster_instance_host_patterns": "?.abc123.us-east-1.rds.amazonaws.com",
    "aws_profile": "default",
    "iam_host": "db.example.com",
    "iam_default_port": 5432,
    "iam_region": "us-east-1",
    "secrets_manager_secret_id": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
    "secrets_manager_endpoint": "https://secretsmanager.us-east-1.amazonaws.com",
    "failover_mode": "strict_writer",
    "failover_home_region": "us-east-1",
    "active_home_failover_mode": "strict-writer",
    "inactive_home_failover_mode": "home-reader-or-writer",
    "idp_endpoint": "adfs.example.com",
    "iam_role_arn": "arn:aws:iam::123456789012:role/db",
    "iam_idp_arn": "arn:aws:iam::123456789012:saml-provider/adfs",
    "idp_username": "someone",
    "idp_password": "secret",
    "db_user": "app",
    "app_id": "0oa1",
    "telemetry_traces_backend": "NONE",
    "telemetry_metrics_backend": "NONE",
    "endpoint_substitution_role": "writer",
    "verify_opened_connection_type": "writer",
    "srw_read_endpoint": "db.cluster-ro-abc123.us-east-1.rds.amazonaws.com",
    "srw_write_endpoint": "db.cluster-abc123.us-east-1.rds.amazonaws.com",
    "srw_verify_initial_connection_type": "writer",
    "gdb_rw_home_region": "us-east-1",
    "gdb_accessible_regions": "us-east-1,us-west-2",
}

PEER_DEFAULTS: dict[str, Any] = {
    # the peer's defaults, as it declares them (strings where it has strings)
    "transfer_session_state_on_switch": True,
    "reset_session_state_on_close": True,
    "rollback_on_switch": True,
    "topology_refresh_ms": 30000,
    "cluster_id": "1",
    "iam_expiration": 900,
    "secrets_manager_secret_username_key": "username",
    "secrets_manager_secret_password_key": "password",
    "secrets_manager_region": "us-east-1",
    "secrets_manager_expiration": 31536000,
    "auxiliary_query_timeout_sec": 5,
    "failure_detection_enabled": True,
    "failure_detection_time_ms": 30000,
    "failure_detection_interval_ms": 5000,
    "failure_detection_count": 3,
    "monitor_disposal_time_ms": 600000,
    "enable_failover": True,
    "failover_timeout_sec": 300,
    "failover_cluster_topology_refresh_rate_sec": 2,
    "failover_writer_reconnect_interval_sec": 2,
    "failover_reader_connect_timeout_sec": 30,
    "failover_reader_host_selector_strategy": "random",
    "enable_connect_failover": False,
    "cluster_topology_high_refresh_rate_ms": 100,
    "custom_endpoint_info_refresh_rate_ms": 30000,
    "custom_endpoint_idle_monitor_expiration_ms": 900000,
    "wait_for_custom_endpoint_info": True,
    "wait_for_custom_endpoint_info_timeout_ms": 5000,
    "default_host_availability_strategy": "",
    "host_availability_strategy_max_retries": "5",
    "host_availability_strategy_initial_backoff_time": "30",
    "reader_host_selector_strategy": "random",
    "auto_sort_wrapper_plugin_order": True,
    "round_robin_default_weight": 1,
    "round_robin_host_weight_pairs": "",
    "weighted_random_default_weight": 1,
    "weighted_random_host_weight_pairs": "",
    "idp_port": 443,
    "rp_identifier": "urn:amazon:webservices",
    "iam_token_expiration": 870,
    "http_request_connect_timeout": 60,
    "ssl_secure": True,
    "idp_name": "adfs",
    "response_measurement_interval_ms": 30000,
    "limitless_transaction_router_monitor_disposal_time_ms": 600000,
    "limitless_transaction_router_monitor_interval_ms": 7500,
    "limitless_wait_for_transaction_router_info": True,
    "limitless_get_transaction_router_retry_interval_ms": 300,
    "limitless_get_transaction_router_max_retries": 5,
    "limitless_max_retries_ms": 7500,
    "bg_connect_timeout_ms": 30000,
    "bg_id": "1",
    "bg_interval_baseline_ms": 60000,
    "bg_interval_increased_ms": 1000,
    "bg_interval_high_ms": 100,
    "bg_switchover_timeout_ms": 180000,
    "bg_suspend_new_blue_connections": False,
    "enable_telemetry": False,
    "telemetry_submit_toplevel": False,
    "telemetry_failover_additional_top_trace": False,
    "reader_initial_connection_host_selector_strategy": "random",
    "initial_connection_host_selector_strategy": "random",
    "inactive_cluster_writer_endpoint_substitution_role": "writer",
    "verify_inactive_cluster_writer_endpoint_connection_type": "writer",
    "open_connection_retry_timeout_ms": 30000,
    "open_connection_retry_interval_ms": 1000,
    "wait_for_initial_topology_ms": 0,
    "srw_verify_new_connections": True,
    "srw_connect_retry_timeout_ms": 60000,
    "srw_connect_retry_interval_ms": 1000,
    "gdb_rw_restrict_writer_to_home_region": True,
    "gdb_rw_restrict_reader_to_home_region": True,
    "gdb_enable_global_write_forwarding": False,
    "monitoring_connection_priority": "strict-writer",
    "gdb_monitoring_connection_priority": "strict-writer-primary",
}

# (driver name, async world): every driver of both worlds
DRIVERS = [
    ("psycopg", True),
    ("aiomysql", True),
    ("mysql-connector", True),
    ("psycopg", False),
    ("pymysql", False),
    ("mysql-connector", False),
]
# what the peer spells for each (wrapper_dialect, wrapper_driver_dialect); PyMySQL and aiomysql
# have no driver dialect of the peer's own: 'generic' (choose from the connect function)
PEER_DIALECTS = {
    "psycopg": ("aurora-pg", "psycopg"),
    "aiomysql": ("aurora-mysql", "generic"),
    "pymysql": ("aurora-mysql", "generic"),
    "mysql-connector": ("aurora-mysql", "mysql-connector-python"),
}


def peer_value(name: str, driver: str) -> Any:
    """A valid value of the peer's for ``name`` with ``driver``."""
    if name == "wrapper_dialect":
        return PEER_DIALECTS[driver][0]
    if name == "wrapper_driver_dialect":
        return PEER_DIALECTS[driver][1]
    if name in PEER_DEFAULTS:
        return PEER_DEFAULTS[name]
    return SAMPLES[name]


def dialect(driver: str, aio: bool) -> Any:
    return adriver_dialect_for(driver) if aio else driver_dialect_for(driver)


def parse(driver: str, aio: bool, raw: dict[str, Any]) -> Properties:
    """What a connect does with ``raw``: the driver's parsing, then the split and checks."""
    d = dialect(driver, aio)
    return parse_properties(d.parse_target("", raw), d.driver_params(), d.code)


def test_the_list_is_the_peers() -> None:
    assert len(PEER_PROPERTIES) == 116
    assert len(set(PEER_PROPERTIES)) == 116
    assert set(PEER_DEFAULTS) | set(SAMPLES) >= set(PEER_PROPERTIES) - {
        "wrapper_dialect",
        "wrapper_driver_dialect",
    }


@pytest.mark.parametrize(
    ("driver", "aio"), DRIVERS, ids=[f"{d}-{'aio' if a else 'sync'}" for d, a in DRIVERS]
)
@pytest.mark.parametrize("name", PEER_PROPERTIES)
def test_every_peer_property_is_accepted(name: str, driver: str, aio: bool) -> None:
    props = parse(driver, aio, {name: peer_value(name, driver)})
    # a wrapper property of ours, or a parameter of the driver's (user, password, ...)
    assert name in props.wrapper or name in props.driver


@pytest.mark.parametrize(
    ("driver", "aio"), DRIVERS, ids=[f"{d}-{'aio' if a else 'sync'}" for d, a in DRIVERS]
)
def test_all_peer_properties_together(driver: str, aio: bool) -> None:
    raw = {name: peer_value(name, driver) for name in PEER_PROPERTIES}
    props = parse(driver, aio, raw)
    assert set(props.wrapper) | set(props.driver) >= set(PEER_PROPERTIES)


def test_every_peer_property_is_registered_or_a_driver_parameter() -> None:
    """Apart from the connection parameters every driver has, each is a wrapper property."""
    driver_level = {"user", "password", "database", "connect_timeout"}
    missing = [n for n in PEER_PROPERTIES if n not in registry() and n not in driver_level]
    assert missing == []


def test_typos_keep_the_helpful_error() -> None:
    for typo, meant in (
        ("socket_timout", "socket_timeout"),
        ("enable_failovr", "enable_failover"),
        ("tcp_keepalive_tim", "tcp_keepalive_time"),
        ("weighted_random_default_weigth", "weighted_random_default_weight"),
        ("failover_writer_reconnect_interval", "failover_writer_reconnect_interval_sec"),
    ):
        with pytest.raises(PropertyError) as info:
            parse("psycopg", True, {typo: 1})
        assert f"unknown connection property '{typo}'" in str(info.value)
        assert f"did you mean '{meant}'" in str(info.value)


def test_bad_values_name_the_property() -> None:
    for name, bad in (
        ("socket_timeout", "soon"),
        ("tcp_keepalive", "perhaps"),
        ("tcp_keepalive_probes", 0),
        ("enable_failover", "maybe"),
        ("limitless_max_retries_ms", -1),
        ("bg_suspend_new_blue_connections", "sometimes"),
    ):
        with pytest.raises(PropertyError) as info:
            parse("pymysql", False, {name: bad})
        assert info.value.prop == name


# -- mapped onto ours -------------------------------------------------------------------------


def test_failover_topology_refresh_rate_sec_sets_the_high_refresh_rate_in_ms() -> None:
    props = parse("psycopg", True, {"failover_cluster_topology_refresh_rate_sec": "0.25"})
    assert props.get(HIGH_REFRESH_RATE_MS) == 250
    # ours, given too, wins (in either order)
    for raw in (
        {
            "failover_cluster_topology_refresh_rate_sec": 2,
            "cluster_topology_high_refresh_rate_ms": 70,
        },
        {
            "cluster_topology_high_refresh_rate_ms": 70,
            "failover_cluster_topology_refresh_rate_sec": 2,
        },
    ):
        assert parse("psycopg", True, raw).get(HIGH_REFRESH_RATE_MS) == 70
    assert not parse("psycopg", True, {}).is_set(HIGH_REFRESH_RATE_MS)


def test_initial_connection_host_selector_strategy_is_the_reader_initial_strategy() -> None:
    from aws_wrapper.plugins.aurora import READER_INITIAL_STRATEGY

    props = parse("psycopg", True, {"initial_connection_host_selector_strategy": "round_robin"})
    assert props.get(READER_INITIAL_STRATEGY) == "round_robin"


def test_wrapper_dialect_values_as_the_peer_spells_them() -> None:
    from aws_wrapper._async.dialects import dialect_for

    pg, mysql = adriver_dialect_for("psycopg"), adriver_dialect_for("aiomysql")
    for code in ("aurora-pg", "global-aurora-pg", "multi-az-pg", "rds-pg", "pg"):
        assert (
            dialect_for(
                parse("psycopg", True, {"wrapper_dialect": code}).get(WRAPPER_DIALECT), pg
            ).code
            == code
        )
    for code in ("aurora-mysql", "global-aurora-mysql", "multi-az-mysql", "rds-mysql", "mysql"):
        assert (
            dialect_for(
                parse("aiomysql", True, {"wrapper_dialect": code}).get(WRAPPER_DIALECT), mysql
            ).code
            == code
        )
    # 'unknown': detected, as when unset
    assert parse("psycopg", True, {"wrapper_dialect": "unknown"}).get(WRAPPER_DIALECT) is None


@pytest.mark.parametrize("aio", [True, False])
def test_wrapper_driver_dialect_values_as_the_peer_spells_them(aio: bool) -> None:
    import mysql.connector
    import mysql.connector.aio
    import psycopg

    pick = adriver_dialect_for if aio else driver_dialect_for
    connector = mysql.connector.aio.connect if aio else mysql.connector.connect
    pg = psycopg.AsyncConnection.connect if aio else psycopg.Connection.connect
    assert pick(connector, "mysql-connector-python").code.startswith("mysql-connector")
    assert pick(None, "mysql-connector-python").code.startswith("mysql-connector")
    assert pick(pg, "psycopg").code == "psycopg"
    # the peer's MySQL code with another MySQL driver's connect function: that driver
    import aiomysql
    import pymysql

    other = aiomysql.connect if aio else pymysql.connect
    assert pick(other, "mysql-connector-python").code == ("aiomysql" if aio else "pymysql")
    # 'generic': chosen from the connect function
    assert pick(connector, "generic").code.startswith("mysql-connector")
    assert pick(pg, "generic").code == "psycopg"
    with pytest.raises(UnsupportedDriverError, match="wrapper_driver_dialect"):
        pick(pg, "mysql-connector-pyhton")


# -- enable_failover ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plugins", [None, "failover", "failover_v2,host_monitoring_v2", "failover,failover_v2"]
)
def test_enable_failover_false_takes_failover_out(plugins: str | None) -> None:
    raw: dict[str, Any] = {} if plugins is None else {"plugins": plugins}
    on = [s.code for s in parse_plugin_codes(parse("psycopg", True, raw))]
    off = [
        s.code
        for s in parse_plugin_codes(parse("psycopg", True, {**raw, "enable_failover": "false"}))
    ]
    assert "failover_v2" in on
    assert off == [c for c in on if c != "failover_v2"]


# -- accepted with a notice -------------------------------------------------------------------


def test_an_ignored_property_logs_one_info_line_per_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = "failover_writer_reconnect_interval_sec"
    properties._noticed.discard(name)
    with caplog.at_level(logging.INFO, logger="aws_wrapper"):
        for _ in range(3):
            parse("psycopg", True, {name: 2})
            parse("pymysql", False, {name: "5"})
    lines = [r for r in caplog.records if name in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "failover_timeout_sec" in lines[0].getMessage()  # what applies instead


def test_honoured_properties_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aws_wrapper"):
        parse(
            "psycopg",
            True,
            {
                "failover_timeout_sec": 30,
                "enable_failover": True,
                "weighted_random_default_weight": 3,
            },
        )
    assert caplog.records == []


# -- weighted_random_default_weight ---------------------------------------------------------


def test_weighted_random_default_weight_is_honoured() -> None:
    hosts = [HostInfo("a", 5432, HostRole.READER), HostInfo("b", 5432, HostRole.READER)]
    selector = selector_for("weighted_random")
    props = parse(
        "psycopg",
        True,
        {"weighted_random_host_weight_pairs": "a:1", "weighted_random_default_weight": 50},
    )
    assert props.get(WEIGHTED_RANDOM_DEFAULT_WEIGHT) == 50
    picks = [selector.select(hosts, HostRole.READER, props).host for _ in range(2000)]
    # b has weight 50, a weight 1: b about 98 % of the time
    assert picks.count("b") > 1850
    even = parse("psycopg", True, {"weighted_random_host_weight_pairs": "a:1"})
    picks = [selector.select(hosts, HostRole.READER, even).host for _ in range(2000)]
    assert 800 < picks.count("b") < 1200


# -- the monitoring prefixes ----------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["monitoring-", "topology-monitoring-", "frt-"])
def test_monitoring_prefixes(prefix: str) -> None:
    props = parse("psycopg", True, {f"{prefix}connect_timeout": 3})
    assert props.with_prefix(prefix) == {"connect_timeout": 3}
