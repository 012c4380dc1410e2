"""MariaDBBackend: a real MariaDB writer and two GTID replicas, failovers, crash and re-clone.

One cluster serves the whole module; the tests run in file order and each one leaves the
cluster healthy (one writer, every other instance replicating from it) for the next.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pytest

from aws_wrapper_devcluster.mariadb import MariaDBBackend
from aws_wrapper_devcluster.model import (
    AURORA_MYSQL_VERSION,
    WRITER_SESSION_ID,
    Engine,
    InstanceSpec,
    Role,
)
from aws_wrapper_devcluster.servers import (
    BinaryNotFoundError,
    find_mariadb_binaries,
    free_port,
)

IDS = ("my-1", "my-2", "my-3")
ER_OPTION_PREVENTS_STATEMENT = 1290  # --read-only


@dataclass
class Cluster:
    backend: MariaDBBackend
    specs: list[InstanceSpec]
    writer: str = IDS[0]
    next_row: int = 1
    committed: list[int] = field(default_factory=list)
    timings: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    @property
    def readers(self) -> list[str]:
        return [i for i in IDS if i != self.writer]


def _log(message: str) -> None:
    if os.environ.get("AWS_WRAPPER_DEVCLUSTER_VERBOSE"):
        print(f"[mariadb] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        find_mariadb_binaries()
    except BinaryNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    # Short (unix socket paths) and searchable by the unprivileged server user.
    parent = "/tmp"
    with contextlib.suppress(OSError):
        if shutil.disk_usage("/dev/shm").free > 2 << 30:
            parent = "/dev/shm"
    base = Path(tempfile.mkdtemp(prefix="awmyb-", dir=parent))
    os.chmod(base, 0o755)
    specs = [
        InstanceSpec(
            id=iid,
            index=n,
            address=f"127.0.79.{n}",
            port=3306,
            server_port=free_port(),
            base_dir=base / iid,
        )
        for n, iid in enumerate(IDS, start=1)
    ]
    backend = MariaDBBackend(log=_log)
    try:
        backend.create(specs, IDS[0])
        c = Cluster(backend, specs)
        c.timings.append(("create", {"create": backend.timings["create"]}))
        yield c
        for what, numbers in c.timings:
            _log(f"{what}: " + ", ".join(f"{k} {v:.2f} s" for k, v in numbers.items()))
        _log(f"re-clones: {backend.reclone_seconds}")
    finally:
        backend.destroy()
        shutil.rmtree(base, ignore_errors=True)
    assert not any(s.base_dir.exists() for s in specs)


def _connect(c: Cluster, iid: str, *, admin: bool = False) -> pymysql.Connection[Any]:
    params = c.backend.direct_params(iid, admin=admin)
    return pymysql.connect(**params, connect_timeout=5, autocommit=True)


def _query(c: Cluster, iid: str, sql: str, *, admin: bool = False) -> list[tuple[Any, ...]]:
    conn = _connect(c, iid, admin=admin)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def _insert(c: Cluster, count: int, *, on: str | None = None) -> list[int]:
    """Commit ``count`` rows as app (one transaction each) on the writer; return their ids."""
    ids = list(range(c.next_row, c.next_row + count))
    c.next_row += count
    conn = _connect(c, on or c.writer)
    try:
        with conn.cursor() as cur:
            for i in ids:
                cur.execute("INSERT INTO t_rows (id) VALUES (%s)", (i,))
    finally:
        conn.close()
    return ids


def _rows(c: Cluster, iid: str) -> list[int]:
    return [r[0] for r in _query(c, iid, "SELECT id FROM app.t_rows ORDER BY id")]


def _assert_healthy(c: Cluster) -> None:
    """One writer, every other instance a replica of it, all with the same rows, none of the
    committed rows lost."""
    b = c.backend
    assert b.server_role(c.writer) is Role.WRITER
    assert not b.replicating(c.writer)
    for r in c.readers:
        assert b.running(r)
        assert b.server_role(r) is Role.READER
        assert b.replicating(r), f"{r} is not replicating"
        b.wait_caught_up(r, c.writer, 10)
    on_writer = _rows(c, c.writer)
    assert set(c.committed) <= set(on_writer), "committed rows lost"
    for r in c.readers:
        assert _rows(c, r) == on_writer, f"{r} differs from the writer {c.writer}"
    # the new writer takes writes and they replicate
    c.committed += _insert(c, 1)
    for r in c.readers:
        b.wait_caught_up(r, c.writer, 10)
        assert _rows(c, r)[-1] == c.committed[-1]


def _failover(c: Cluster, new_writer: str, *, crash: bool) -> dict[str, float]:
    """Stop the writer (cleanly or SIGKILL), promote ``new_writer``, repoint the other
    reader, rejoin the old writer as a reader; return the timings."""
    b = c.backend
    old = c.writer
    other = [r for r in c.readers if r != new_writer]
    t0 = time.monotonic()
    b.stop(old, crash=crash)
    t1 = time.monotonic()
    assert not b.running(old)
    b.promote(new_writer)
    t2 = time.monotonic()
    c.writer = new_writer
    for r in other:
        b.follow(r, new_writer)
    t3 = time.monotonic()
    c.committed += _insert(c, 2)  # the new writer works before the old one is back
    t4 = time.monotonic()
    b.rejoin(old, new_writer)
    t5 = time.monotonic()
    numbers = {"stop": t1 - t0, "promote": t2 - t1, "follow": t3 - t2, "rejoin": t5 - t4}
    c.timings.append((f"{'crash' if crash else 'clean'} failover to {new_writer}", numbers))
    return numbers


# --------------------------------------------------------------------------- create


def test_create_starts_a_writer_and_two_replicas(cluster: Cluster) -> None:
    b = cluster.backend
    assert b.engine is Engine.MYSQL
    assert b.timings["create"] < 20  # ~1-3 s on a quiet machine
    assert b.server_role(IDS[0]) is Role.WRITER
    assert not b.replicating(IDS[0])
    server_ids = set()
    for spec in cluster.specs:
        params = b.direct_params(spec.id)
        assert params == {
            "host": "127.0.0.1",
            "port": spec.server_port,
            "user": "app",
            "password": "app-secret",
            "database": "app",
        }
        assert b.direct_params(spec.id, admin=True)["user"] == "admin"
        (row,) = _query(
            cluster,
            spec.id,
            "SELECT @@server_id, @@gtid_strict_mode, @@log_bin, @@log_slave_updates,"
            " @@read_only, @@innodb_read_only, @@report_host",
        )
        server_ids.add(row[0])
        reader = spec.id != IDS[0]
        assert row[1:] == (1, 1, 1, int(reader), 0, None)
        if reader:
            assert b.running(spec.id) and b.replicating(spec.id)
            assert b.server_role(spec.id) is Role.READER
        if os.geteuid() == 0:
            assert (spec.base_dir / "data").stat().st_uid != 0
    assert len(server_ids) == 3
    # metadata before anything is published: the backend's own view
    meta = b.metadata(IDS[1])
    assert meta.instance_id == IDS[1] and meta.engine_version == AURORA_MYSQL_VERSION
    assert [(r.server_id, r.is_writer) for r in meta.topology] == [
        (IDS[0], True),
        (IDS[1], False),
        (IDS[2], False),
    ]
    assert meta.topology[0].session_id == WRITER_SESSION_ID
    _query(
        cluster, IDS[0], "CREATE TABLE t_rows (id INT PRIMARY KEY, at DATETIME(6) DEFAULT NOW(6))"
    )
    cluster.committed += _insert(cluster, 5)
    for r in IDS[1:]:
        b.wait_caught_up(r, IDS[0], 10)
        assert _rows(cluster, r) == cluster.committed


def test_readers_are_read_only_for_the_app_user(cluster: Cluster) -> None:
    for r in cluster.readers:
        conn = _connect(cluster, r)
        with conn.cursor() as cur:
            for sql in (
                "INSERT INTO t_rows (id) VALUES (-1)",
                "UPDATE t_rows SET at = NOW(6)",
                "CREATE TABLE t_nope (id INT)",
            ):
                with pytest.raises(pymysql.err.OperationalError) as info:
                    cur.execute(sql)
                assert info.value.args[0] == ER_OPTION_PREVENTS_STATEMENT, sql
            cur.execute("SHOW GRANTS")
            grants = " ".join(g[0] for g in cur.fetchall()).upper()
            assert "SUPER" not in grants and "READ ONLY ADMIN" not in grants
        conn.close()
    _assert_healthy(cluster)


def test_wait_caught_up_and_replication_status(cluster: Cluster) -> None:
    b = cluster.backend
    reader = cluster.readers[0]
    conn = _connect(cluster, reader, admin=True)
    with conn.cursor() as cur:
        cur.execute("STOP SLAVE")
        assert not b.replicating(reader)
        cluster.committed += _insert(cluster, 3)
        with pytest.raises(Exception, match="did not reach"):
            b.wait_caught_up(reader, cluster.writer, 0.3)
        cur.execute("START SLAVE")
    conn.close()
    b.wait_caught_up(reader, cluster.writer, 10)
    assert b.replicating(reader)
    _assert_healthy(cluster)


# --------------------------------------------------------------------------- failover


def test_clean_failover_loses_no_row(cluster: Cluster) -> None:
    """Rows committed right before a clean stop are on the promoted reader; the old writer
    rejoins without a re-clone."""
    b = cluster.backend
    old = cluster.writer
    cluster.committed += _insert(cluster, 20)  # no waiting: stop() hands them over
    _failover(cluster, IDS[1], crash=False)
    assert b.reclone_count(old) == 0
    assert b.server_role(old) is Role.READER
    _assert_healthy(cluster)


def test_crash_failover_rejoin_reclones_errant_writer(cluster: Cluster) -> None:
    """The readers miss the writer's last commits (replication paused), the writer is
    SIGKILLed: its binlog has GTIDs the new writer never saw. Rejoining detects them and
    re-clones it from the new writer."""
    b = cluster.backend
    old = cluster.writer
    new = cluster.readers[0]
    for r in cluster.readers:
        conn = _connect(cluster, r, admin=True)
        conn.cursor().execute("STOP SLAVE IO_THREAD")
        conn.close()
    lost = _insert(cluster, 3)  # committed on the old writer only: lost in the failover
    before = b.reclone_count(old)
    numbers = _failover(cluster, new, crash=True)
    assert b.reclone_count(old) == before + 1
    assert b.timings["reclone"] < 10
    numbers["reclone"] = b.timings["reclone"]
    assert not set(lost) & set(_rows(cluster, old)), "errant rows survived the re-clone"
    _assert_healthy(cluster)


def test_crash_rejoin_reclones_on_a_replication_error(cluster: Cluster) -> None:
    """A divergence GTIDs cannot see (a row written on the old writer outside the binary
    log) breaks replication after the rejoin: the error is detected and the instance is
    re-cloned."""
    b = cluster.backend
    old = cluster.writer
    new = cluster.readers[0]
    row = cluster.next_row
    conn = _connect(cluster, old, admin=True)
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")
        cur.execute(f"INSERT INTO app.t_rows (id) VALUES ({row})")
    conn.close()
    b.stop(old, crash=True)
    b.promote(new)
    cluster.writer = new
    for r in cluster.readers:
        if r != old:
            b.follow(r, new)
    cluster.committed += _insert(cluster, 1)  # the same id, now binlogged: 1062 on `old`
    assert cluster.committed[-1] == row
    before = b.reclone_count(old)
    b.rejoin(old, new)
    assert b.reclone_count(old) == before + 1
    _assert_healthy(cluster)


def test_three_failovers_in_a_row(cluster: Cluster) -> None:
    b = cluster.backend
    for n, crash in enumerate((False, True, False)):
        cluster.committed += _insert(cluster, 5)
        target = cluster.readers[n % 2]
        if crash:
            # replication is asynchronous: like the devcluster's own crash failover (which
            # cuts the clients off first), let the readers have every acknowledged commit
            # before the kill, or a loaded machine loses the last ones
            for r in cluster.readers:
                cluster.backend.wait_caught_up(r, cluster.writer, 10)
        _failover(cluster, target, crash=crash)
        _assert_healthy(cluster)
    assert b.timings["promote"] < 5


# --------------------------------------------------------------------------- restarts


def test_crashed_reader_restarts_and_catches_up(cluster: Cluster) -> None:
    b = cluster.backend
    reader = cluster.readers[0]
    b.stop(reader, crash=True)
    assert not b.running(reader) and not b.replicating(reader)
    cluster.committed += _insert(cluster, 3)
    b.start(reader)
    assert b.server_role(reader) is Role.READER
    _assert_healthy(cluster)


def test_stop_all_then_create_again_keeps_data_and_roles(cluster: Cluster) -> None:
    b = cluster.backend
    b.stop_all()
    assert not any(b.running(i) for i in IDS)
    b.create(cluster.specs, cluster.writer)
    assert b.timings["create"] < 20
    _assert_healthy(cluster)
