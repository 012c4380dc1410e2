# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_recovery.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Recovery: after any error the connection works again once the cluster does. On the
devcluster, every driver of the world (the sync twin is generated).

The recovery contract (docs/errors.md): a driver connection left broken by an error (a network
error, a failover that found no host, a cancelled call) is aborted at once; the next call
replaces it. With failover on a cluster it fails over (``FailoverSuccessError``, or
``TransactionResolutionUnknownError`` when a transaction was open); otherwise it reconnects
to the same host and the call goes on.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster


@pytest.fixture
def table(cluster: Cluster, driver: str) -> Any:
    name = f"rc_{uuid.uuid4().hex[:8]}"
    with aw.connect(driver=driver, plugins="", **cluster.conn_params()) as conn:
        conn.set_autocommit(True)
        conn.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY)")
    return name


def one(conn: AwsWrapperConnection, sql: str) -> Any:
    cur = conn.execute(sql)
    row = cur.fetchone()
    assert row is not None
    cur.fetchall()
    return row[0]


def reject_all(cluster: Cluster) -> None:
    for instance in cluster.instance_ids:
        cluster.reject(instance)


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "transaction"])
def test_failover_failed_then_the_cluster_is_back(
    cluster: Cluster, driver: str, table: str, autocommit: bool
) -> None:
    conn = aw.connect(
        driver=driver, plugins="failover_v2", failover_timeout_sec=1.0, **cluster.conn_params()
    )
    try:
        conn.set_autocommit(autocommit)
        cur = conn.cursor()  # an old cursor, made before the failure
        cur.execute("SELECT 1")
        cur.fetchall()
        if not autocommit:
            conn.execute(f"INSERT INTO {table} VALUES (1)")
        reject_all(cluster)
        with pytest.raises(aw.FailoverFailedError):
            conn.execute(f"INSERT INTO {table} VALUES (2)")
        with pytest.raises(aw.FailoverFailedError):  # still down: still no raw driver error
            conn.cursor().execute("SELECT 1")
        cluster.heal()
        # the next call fails over; the error says whether a transaction was lost
        expected = aw.FailoverSuccessError if autocommit else aw.TransactionResolutionUnknownError
        with pytest.raises(expected):
            conn.execute(f"INSERT INTO {table} VALUES (3)")
        conn.execute(f"INSERT INTO {table} VALUES (4)")
        if not autocommit:
            conn.commit()
        assert one(conn, f"SELECT COUNT(*) FROM {table}") == 1
        cur.execute("SELECT 2")  # the old cursor works again too
        assert cur.fetchone() == (2,)
        assert conn.autocommit is autocommit
    finally:
        cluster.heal()
        conn.close()


def test_old_cursor_fails_over_with_the_right_error(cluster: Cluster, driver: str) -> None:
    conn = aw.connect(
        driver=driver, plugins="failover_v2", failover_timeout_sec=1.0, **cluster.conn_params()
    )
    try:
        conn.set_autocommit(True)
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        reject_all(cluster)
        with pytest.raises(aw.FailoverFailedError):
            cur.execute("SELECT 1")
        cluster.heal()
        with pytest.raises(aw.FailoverSuccessError):  # autocommit: no transaction was open
            cur.execute("SELECT 1")
        cur.execute("SELECT 3")
        assert cur.fetchone() == (3,)
    finally:
        cluster.heal()
        conn.close()


def test_without_failover_the_next_call_reconnects(cluster: Cluster, driver: str) -> None:
    writer = cluster.writer
    params = cluster.conn_params(writer)
    conn = aw.connect(driver=driver, plugins="", **params)
    try:
        conn.set_autocommit(True)
        conn.set_isolation_level("SERIALIZABLE")
        assert one(conn, "SELECT 1") == 1
        cluster.reject(writer)
        with pytest.raises(aw.OperationalError) as info:
            conn.execute("SELECT 1")
        assert isinstance(info.value, aw.Error)
        with pytest.raises(aw.OperationalError):  # down: the reconnect fails, clearly
            conn.execute("SELECT 1")
        cluster.heal(writer)
        assert one(conn, "SELECT 5") == 5  # reconnected, session state replayed
        assert conn.autocommit is True
        assert conn.isolation_level == "SERIALIZABLE"
    finally:
        cluster.heal()
        conn.close()


def test_without_failover_a_lost_transaction_is_reported(
    cluster: Cluster, driver: str, table: str
) -> None:
    writer = cluster.writer
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params(writer))
    try:
        conn.set_autocommit(False)
        conn.execute(f"INSERT INTO {table} VALUES (1)")
        cluster.reject(writer)
        with pytest.raises(aw.OperationalError):
            conn.execute(f"INSERT INTO {table} VALUES (2)")
        cluster.heal(writer)
        with pytest.raises(aw.TransactionResolutionUnknownError):
            conn.commit()  # never a silent commit of nothing
        conn.execute(f"INSERT INTO {table} VALUES (3)")
        conn.commit()
        assert one(conn, f"SELECT COUNT(*) FROM {table}") == 1
    finally:
        cluster.heal()
        conn.close()
