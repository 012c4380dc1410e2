# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_simple_read_write_splitting.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""srw (simple read/write splitting) on the devcluster: both engines, both trees."""

from __future__ import annotations

import re
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import ENGINE_OF, instance_of

FAST = {"srw_connect_retry_timeout_ms": 2000, "srw_connect_retry_interval_ms": 100}


def connect(
    cluster: Cluster, driver: str, endpoint: str = "cluster", **props: Any
) -> AwsWrapperConnection:
    props.setdefault("plugins", "srw")
    props.setdefault("srw_read_endpoint", cluster.reader_host)
    props.setdefault("srw_write_endpoint", f"{cluster.cluster_host}:{cluster.port}")
    for name, value in FAST.items():
        props.setdefault(name, value)
    return aw.connect(driver=driver, **cluster.conn_params(endpoint), **props)


def test_read_only_moves_to_the_read_endpoint_and_back(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.execute("CREATE TABLE IF NOT EXISTS srw_t (id INT)")
        writer = cluster.writer
        assert instance_of(conn) == writer
        writer_raw = conn.driver_connection
        conn.set_read_only(True)
        reader = instance_of(conn)
        assert reader != writer
        assert conn.current_host is not None and conn.current_host.host == cluster.reader_host
        reader_raw = conn.driver_connection
        with pytest.raises(Exception, match=r"(?i)read.only|recovery"):
            conn.execute("INSERT INTO srw_t VALUES (1)")  # the server's own refusal
        conn.set_read_only(False)
        assert instance_of(conn) == writer
        assert conn.driver_connection is writer_raw  # the initial connection is the writer's
        conn.execute("INSERT INTO srw_t VALUES (1)")
        conn.set_read_only(True)  # the reader connection is reused
        assert conn.driver_connection is reader_raw
        assert instance_of(conn) == reader


def test_switching_inside_a_transaction_is_refused(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        conn.execute("START TRANSACTION")
        assert conn.in_transaction
        with pytest.raises(aw.ReadWriteSplittingError, match="inside a transaction"):
            conn.set_read_only(True)
        conn.rollback()
        conn.set_read_only(True)
        assert instance_of(conn) != cluster.writer


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({"srw_write_endpoint": "w.example"}, "srw_read_endpoint"),
        ({"srw_read_endpoint": "r.example", "srw_write_endpoint": " "}, "srw_write_endpoint"),
        ({"srw_read_endpoint": "r.example:99999", "srw_write_endpoint": "w"}, "srw_read_endpoint"),
        ({"srw_read_endpoint": "r:x", "srw_write_endpoint": "w"}, "srw_read_endpoint"),
        ({"srw_read_endpoint": "a b", "srw_write_endpoint": "w"}, "srw_read_endpoint"),
        (
            {
                "srw_read_endpoint": "r",
                "srw_write_endpoint": "w",
                "srw_connect_retry_timeout_ms": 0,
            },
            "srw_connect_retry_timeout_ms",
        ),
        (
            {
                "srw_read_endpoint": "r",
                "srw_write_endpoint": "w",
                "srw_connect_retry_interval_ms": -1,
            },
            "srw_connect_retry_interval_ms",
        ),
        (
            {
                "srw_read_endpoint": "r",
                "srw_write_endpoint": "w",
                "srw_verify_initial_connection_type": "x",
            },
            "srw_verify_initial_connection_type",
        ),
    ],
)
def test_missing_or_malformed_properties_are_named(
    driver: str, props: dict[str, Any], named: str
) -> None:
    # checked when the plugin is built, before anything is opened: no server needed
    with pytest.raises(aw.PropertyError, match=named) as info:
        aw.connect(driver=driver, host="127.0.0.1", port=1, user="u", plugins="srw", **props)
    assert info.value.prop == named


def test_verification_rejects_a_wrong_role_endpoint(cluster: Cluster, driver: str) -> None:
    """srw_read_endpoint naming the writer instance: verified, it is never used for reads."""
    writer = cluster.writer
    wrong = cluster.instance_host(writer)
    fast: dict[str, Any] = {
        "srw_connect_retry_timeout_ms": 300,
        "srw_connect_retry_interval_ms": 100,
    }
    with connect(cluster, driver, srw_read_endpoint=wrong, **fast) as conn:
        initial = conn.driver_connection
        conn.set_read_only(True)  # falls back to the writer (the default)
        assert conn.driver_connection is initial
        assert instance_of(conn) == writer
    with connect(
        cluster,
        driver,
        srw_read_endpoint=wrong,
        read_write_splitting_fallback_to_writer=False,
        **fast,
    ) as conn:
        with pytest.raises(aw.ReadWriteSplittingError, match=wrong):
            conn.set_read_only(True)
        assert instance_of(conn) == writer
    with connect(
        cluster, driver, srw_read_endpoint=wrong, srw_verify_new_connections=False
    ) as conn:
        initial = conn.driver_connection
        conn.set_read_only(True)  # not verified: used as given
        assert conn.driver_connection is not initial
        assert conn.current_host is not None and conn.current_host.host == wrong
        assert instance_of(conn) == writer


def test_an_unreachable_read_endpoint_falls_back_to_the_writer(
    cluster: Cluster, driver: str
) -> None:
    closed = f"{cluster.instance_host(cluster.writer)}:1"  # nothing listens on port 1
    fast: dict[str, Any] = {
        "srw_connect_retry_timeout_ms": 300,
        "srw_connect_retry_interval_ms": 100,
    }
    with connect(cluster, driver, srw_read_endpoint=closed, **fast) as conn:
        initial = conn.driver_connection
        conn.set_read_only(True)
        assert conn.driver_connection is initial
        assert conn.read_only
        conn.set_read_only(False)
        assert conn.driver_connection is initial and not conn.read_only
    with connect(
        cluster,
        driver,
        srw_read_endpoint=closed,
        read_write_splitting_fallback_to_writer="false",
        **fast,
    ) as conn:
        with pytest.raises(
            aw.ReadWriteSplittingError, match=f"no reader connection through {re.escape(closed)}"
        ):
            conn.set_read_only(True)
        assert instance_of(conn) == cluster.writer


def test_the_initial_connection_is_verified(cluster: Cluster, driver: str) -> None:
    reader = next(i for i in cluster.instance_ids if i != cluster.writer)
    with pytest.raises(aw.ReadWriteSplittingError, match="not on a writer"):
        connect(
            cluster,
            driver,
            reader,
            srw_verify_initial_connection_type="writer",
            srw_connect_retry_timeout_ms=300,
        )
    with connect(cluster, driver, reader, srw_verify_initial_connection_type="reader") as conn:
        assert instance_of(conn) == reader
        conn.set_read_only(True)  # already on a reader: stays
        assert instance_of(conn) == reader
        conn.set_read_only(False)
        assert instance_of(conn) == cluster.writer
    with connect(cluster, driver, "reader") as conn:  # cluster-ro: a reader
        assert instance_of(conn) != cluster.writer


def test_works_without_topology(cluster: Cluster, driver: str) -> None:
    """A plain dialect (no topology, as on a non-Aurora primary and replica): the two
    endpoints and the role queries are all srw needs."""
    writer = cluster.writer
    reader = next(i for i in cluster.instance_ids if i != writer)
    plain = "pg" if ENGINE_OF[driver] == "pg" else "mysql"
    with connect(
        cluster,
        driver,
        writer,
        plugins="srw,failover_v2",
        wrapper_dialect=plain,
        srw_read_endpoint=cluster.instance_host(reader),
        srw_write_endpoint=cluster.instance_host(writer),
    ) as conn:
        assert conn.dialect_code == plain
        conn.set_read_only(True)
        assert instance_of(conn) == reader
        conn.set_read_only(False)
        assert instance_of(conn) == writer


def test_roles_are_followed_after_a_failover(cluster: Cluster, driver: str) -> None:
    """The cached reader promoted by a failover is dropped; both modes land right."""
    with connect(cluster, driver, plugins="srw,failover_v2") as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        reader = instance_of(conn)
        conn.set_read_only(False)
        result = cluster.failover(reader)  # promote our reader
        assert result["new_writer"] == reader
        conn.set_read_only(True)  # the cached reader is the writer now: a new one
        assert instance_of(conn) != reader
        conn.set_read_only(False)  # the cached writer is gone: the new writer
        assert instance_of(conn) == reader == cluster.writer
        conn.execute("SELECT 1")


@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
def test_back_to_the_new_writer_after_a_failover_on_a_reader(
    cluster: Cluster, driver: str, crash: bool
) -> None:
    """The writer fails over while the connection is on a reader: leaving read-only drops
    the lost cached writer connection and lands on the new writer (through the write
    endpoint, which names it now)."""
    with connect(cluster, driver, plugins="srw,failover_v2") as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        reader = instance_of(conn)
        target = next(i for i in cluster.instance_ids if i not in (cluster.writer, reader))
        result = cluster.failover(target, crash=crash)
        assert result["new_writer"] == target
        conn.set_read_only(False)
        assert instance_of(conn) == target
        conn.execute("CREATE TABLE IF NOT EXISTS srw_t_fo (id INT)")  # a writer
        conn.execute("INSERT INTO srw_t_fo VALUES (1)")


@pytest.mark.parametrize("noticed", [False, True], ids=["unnoticed", "noticed"])
@pytest.mark.parametrize("plugins", ["srw,failover_v2", "srw"], ids=["failover", "alone"])
def test_a_lost_connection_at_the_switch_is_a_wrapper_error(
    cluster: Cluster, driver: str, plugins: str, noticed: bool
) -> None:
    """The reader the connection is on goes away; ``read_only = True`` then runs on the lost
    connection (MySQL: a statement; ``noticed``: a statement failed on it first). What
    leaves is a wrapper error, never the driver's: the failover's with failover_v2 (the
    connection is replaced), else ReadWriteSplittingError. Leaving read-only works after."""
    failover = "failover" in plugins
    with connect(cluster, driver, plugins=plugins) as conn:
        conn.set_autocommit(True)
        writer = cluster.writer
        conn.set_read_only(True)
        reader = instance_of(conn)
        conn.set_read_only(False)
        conn.set_read_only(True)  # both connections cached, on the reader
        assert instance_of(conn) == reader
        cluster.reject(reader)  # its connections are cut
        if noticed:
            with pytest.raises(aw.FailoverSuccessError if failover else Exception):
                instance_of(conn)
        try:
            conn.set_read_only(True)
        except aw.Error as e:
            assert isinstance(
                e, aw.FailoverSuccessError if failover else aw.ReadWriteSplittingError
            ), e
        conn.set_read_only(False)
        assert instance_of(conn) == writer
