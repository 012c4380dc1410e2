# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_read_write_splitting.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""read_write_splitting on the devcluster: both engines, both trees."""

from __future__ import annotations

from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import instance_of


def connect(cluster: Cluster, driver: str, **props: Any) -> AwsWrapperConnection:
    props.setdefault("plugins", "read_write_splitting,failover_v2")
    return aw.connect(driver=driver, **cluster.conn_params(), **props)


def test_read_only_moves_to_a_reader_and_back(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.execute("CREATE TABLE IF NOT EXISTS rw_t (id INT)")
        writer = cluster.writer
        assert instance_of(conn) == writer
        conn.set_read_only(True)
        reader = instance_of(conn)
        assert reader != writer
        assert conn.current_host is not None and conn.current_host.host_id == reader
        with pytest.raises(Exception, match=r"(?i)read.only|recovery"):
            conn.execute("INSERT INTO rw_t VALUES (1)")  # the server's own refusal
        conn.set_read_only(False)
        assert instance_of(conn) == writer
        conn.execute("INSERT INTO rw_t VALUES (1)")
        conn.set_read_only(True)  # the reader connection is reused
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


def test_roles_are_followed_after_a_failover(cluster: Cluster, driver: str) -> None:
    """A reader that became the writer is not used for reads."""
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        reader = instance_of(conn)
        conn.set_read_only(False)
        result = cluster.failover(reader)  # promote our reader
        assert result["new_writer"] == reader
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute("SELECT 1")
        assert instance_of(conn) == reader  # now the writer
        conn.set_read_only(True)
        assert instance_of(conn) != cluster.writer


def other_reader(cluster: Cluster, *not_these: str) -> str:
    return next(i for i in cluster.instance_ids if i != cluster.writer and i not in not_these)


@pytest.mark.parametrize("promote", ["other_reader", "our_reader"])
@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
def test_back_to_the_new_writer_after_a_failover_on_a_reader(
    cluster: Cluster, driver: str, crash: bool, promote: str
) -> None:
    """The writer fails over while the connection is on a reader: leaving read-only drops
    the lost cached writer connection (its error never reaches the caller), reads the
    topology again and lands on the new writer."""
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        old_writer = cluster.writer
        conn.set_read_only(True)
        reader = instance_of(conn)
        assert reader != old_writer
        target = reader if promote == "our_reader" else other_reader(cluster, reader)
        result = cluster.failover(target, crash=crash)
        assert result["new_writer"] == target
        conn.set_read_only(False)
        assert conn.current_host is not None and conn.current_host.host_id == target
        assert instance_of(conn) == target
        conn.execute("CREATE TABLE IF NOT EXISTS rw_t_fo (id INT)")  # a writer
        conn.execute("INSERT INTO rw_t_fo VALUES (1)")  # on the writer: the write works
        conn.set_read_only(True)  # and back on a reader (not the promoted one)
        assert instance_of(conn) not in (target, old_writer)


def test_a_dead_cached_reader_is_replaced(cluster: Cluster, driver: str) -> None:
    """The cached reader connection died while the connection was on the writer: read-only
    mode goes to another reader."""
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        first = instance_of(conn)
        conn.set_read_only(False)
        cluster.reject(first)  # its connections are cut
        conn.set_read_only(True)
        second = instance_of(conn)
        assert second not in (first, cluster.writer)
        assert conn.current_host is not None and conn.current_host.host_id == second


def test_no_reader_left_stays_on_the_writer(cluster: Cluster, driver: str) -> None:
    """The cached reader died and no other reader answers: read-only mode stays on the writer
    (``read_write_splitting_fallback_to_writer``, default true), or fails with
    ReadWriteSplittingError when the fallback is off."""
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        writer = cluster.writer
        conn.set_read_only(True)
        conn.set_read_only(False)
        for reader in cluster.instance_ids:
            if reader != writer:
                cluster.reject(reader)
        conn.set_read_only(True)
        assert instance_of(conn) == writer
    with connect(cluster, driver, read_write_splitting_fallback_to_writer=False) as conn:
        conn.set_autocommit(True)
        with pytest.raises(aw.ReadWriteSplittingError, match="no reader"):
            conn.set_read_only(True)
        assert instance_of(conn) == writer


@pytest.mark.parametrize("noticed", [False, True], ids=["unnoticed", "noticed"])
@pytest.mark.parametrize(
    "plugins",
    ["read_write_splitting,failover_v2", "read_write_splitting"],
    ids=["failover", "alone"],
)
def test_a_lost_connection_at_the_switch_is_a_wrapper_error(
    cluster: Cluster, driver: str, plugins: str, noticed: bool
) -> None:
    """The reader the connection is on goes away; ``read_only = True`` then runs on the lost
    connection (MySQL: a statement; ``noticed``: a statement failed on it first, the driver
    knows it is closed). What leaves is a wrapper error, never the driver's: the failover's
    when failover_v2 is loaded (the connection is replaced), else ReadWriteSplittingError.
    Leaving read-only, and going back to a (live) reader, work afterwards."""
    failover = "failover" in plugins
    with connect(cluster, driver, plugins=plugins) as conn:
        conn.set_autocommit(True)
        writer = cluster.writer
        conn.set_read_only(True)
        reader = instance_of(conn)
        conn.set_read_only(False)
        conn.set_read_only(True)  # both connections cached, on the reader
        cluster.reject(reader)  # its connections are cut
        if noticed:
            # with failover_v2 the statement's failure moves the connection to the writer
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
        conn.set_read_only(True)
        assert instance_of(conn) not in (reader, writer)
