# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_fork.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Fork safety on the devcluster (gunicorn pre-fork workers, multiprocessing's fork): a child
process forgets its parent's monitors, pools and caches and builds its own; it never closes,
stops or uses the parent's, so the parent's sessions on the server survive the child's
``release_resources()``. Every driver, both trees (tests/_sync/ is generated); in async code the
child runs on a fresh event loop (a loop cannot be used across a fork)."""

from __future__ import annotations

from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import sleep
from aws_wrapper._sync.plugins import aurora
from aws_wrapper._sync.plugins.host_monitoring import host_monitors
from aws_wrapper._sync.topology_monitor import monitors
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster
from tests.helpers import first, run_in_child

FAST_EFM: dict[str, Any] = {
    "failure_detection_time_ms": 1000,
    "failure_detection_interval_ms": 500,
    "failure_detection_count": 2,
}


def sessions(conn: AwsWrapperConnection) -> set[int]:
    """The other sessions of the connection's user on its server (the monitors')."""
    if conn.driver_dialect.engine == "postgresql":
        sql = (
            "SELECT pid FROM pg_stat_activity WHERE usename = current_user "
            "AND pid <> pg_backend_pid()"
        )
    else:
        sql = (
            "SELECT id FROM information_schema.processlist "
            "WHERE user = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AND id <> CONNECTION_ID()"
        )
    cur = conn.execute(sql)
    return {int(row[0]) for row in cur.fetchall()}


def tracked_connections() -> int:
    return sum(len(conns) for conns in aurora._tracked.by_host.values())


def test_a_forked_child_leaves_the_parents_monitors_alone(cluster: Cluster, driver: str) -> None:
    # the default plugins: aurora_connection_tracker, failover_v2, host_monitoring_v2
    conn = aw.connect(driver=driver, **FAST_EFM, **cluster.conn_params())
    try:
        conn.set_autocommit(True)
        cur = conn.execute("SELECT 1")
        cur.fetchall()
        (topology,) = monitors()
        (efm,) = host_monitors()
        for _ in range(100):  # both open their own connection to the writer soon
            if topology.has_connection and not topology.in_panic() and efm.has_connection:
                break
            sleep(0.05)
        assert topology.has_connection and efm.has_connection
        before = sessions(conn)
        assert len(before) >= 2, before  # the two monitors' (and nothing else of ours)
        parents = {id(topology), id(efm)}
        assert tracked_connections() >= 1

        def child() -> None:
            # nothing of the parent's: no monitor, no tracked connection to abort
            assert monitors() == [] and host_monitors() == []
            assert tracked_connections() == 0
            mine = aw.connect(driver=driver, **FAST_EFM, **cluster.conn_params())
            try:
                mine.set_autocommit(True)
                cur = mine.execute("SELECT 1")
                assert first(cur.fetchone()) == 1
                cur.fetchall()
                started = monitors() + host_monitors()
                assert len(started) == 2 and not parents & {id(m) for m in started}
            finally:
                mine.close()
            aw.release_resources()

        code, report = run_in_child(child)
        assert code == 0, report

        sleep(0.2)  # a session the child ended would be gone from the server by now
        after = sessions(conn)
        assert before <= after, f"the child ended the parent's sessions {before - after}"
        assert monitors() == [topology] and host_monitors() == [efm]
        assert topology.has_connection and efm.has_connection

        # the parent's connection still works, and still fails over
        cur = conn.execute("SELECT 1")
        assert first(cur.fetchone()) == 1
        cur.fetchall()
        old = cluster.writer
        cluster.failover()
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute("SELECT 1")
        assert conn.current_host is not None and conn.current_host.host_id == cluster.writer != old
        cur = conn.execute("SELECT 1")
        assert first(cur.fetchone()) == 1
        cur.fetchall()
    finally:
        conn.close()
