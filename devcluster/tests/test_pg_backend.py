"""PgBackend: a real PostgreSQL writer with two hot standbys, Aurora metadata, failovers.

One cluster serves the whole module; the tests run in file order and each one leaves the
cluster healthy (one writer, every other instance streaming from it) for the next.
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

import psycopg
import pytest

from aws_wrapper_devcluster.model import (
    WRITER_SESSION_ID,
    InstanceMetadata,
    InstanceSpec,
    Role,
    TopologyRow,
)
from aws_wrapper_devcluster.pg import METADATA_FILE, PgBackend
from aws_wrapper_devcluster.servers import (
    BinaryNotFoundError,
    find_postgres_bindir,
    free_port,
)

IDS = ("pg-1", "pg-2", "pg-3")


@dataclass
class Cluster:
    backend: PgBackend
    specs: list[InstanceSpec]
    base: Path
    writer: str = IDS[0]
    next_row: int = 1
    timings: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    @property
    def readers(self) -> list[str]:
        return [i for i in IDS if i != self.writer]


def _log(message: str) -> None:
    if os.environ.get("AWS_WRAPPER_DEVCLUSTER_VERBOSE"):
        print(f"[pg] {message}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        find_postgres_bindir()
    except BinaryNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    # Short (unix socket paths) and searchable by the unprivileged server user; on tmpfs when
    # there is room, since creating the ~1000 files of a data directory dominates create().
    parent = "/tmp"
    with contextlib.suppress(OSError):
        if shutil.disk_usage("/dev/shm").free > 2 << 30:
            parent = "/dev/shm"
    base = Path(tempfile.mkdtemp(prefix="awpgb-", dir=parent))
    os.chmod(base, 0o755)
    specs = [
        InstanceSpec(
            id=iid,
            index=n,
            address=f"127.0.77.{n}",
            port=5432,
            server_port=free_port(),
            base_dir=base / iid,
        )
        for n, iid in enumerate(IDS, start=1)
    ]
    backend = PgBackend(log=_log)
    try:
        started = time.monotonic()
        backend.create(specs, IDS[0])
        elapsed = time.monotonic() - started
        c = Cluster(backend, specs, base)
        c.timings.append(("create", {"create": elapsed}))
        yield c
        for what, numbers in c.timings:
            _log(f"{what}: " + ", ".join(f"{k} {v:.2f} s" for k, v in numbers.items()))
    finally:
        backend.destroy()
        shutil.rmtree(base, ignore_errors=True)


def _connect(c: Cluster, iid: str, **kw: Any) -> psycopg.Connection[tuple[Any, ...]]:
    params = c.backend.direct_params(iid) | kw
    return psycopg.connect(**params, connect_timeout=5, autocommit=True)


def _insert(c: Cluster, count: int) -> list[int]:
    """Commit ``count`` rows on the writer, one transaction each; return their ids."""
    ids = list(range(c.next_row, c.next_row + count))
    c.next_row += count
    with _connect(c, c.writer) as conn:
        for i in ids:
            conn.execute("INSERT INTO t_rows (id) VALUES (%s)", (i,))
    return ids


def _rows(c: Cluster, iid: str) -> list[int]:
    with _connect(c, iid) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM t_rows ORDER BY id").fetchall()]


def _log_tail(c: Cluster, iid: str, lines: int = 20) -> str:
    spec = next(s for s in c.specs if s.id == iid)
    try:
        text = (spec.base_dir / "server.log").read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _assert_healthy(c: Cluster, expected_rows: list[int]) -> None:
    """One writer, every other instance a streaming standby of it, all with the same rows."""
    b = c.backend
    assert b.server_role(c.writer) is Role.WRITER
    for r in c.readers:
        assert b.running(r)
        assert b.server_role(r) is Role.READER
        assert b.replicating(r), f"{r} is not streaming:\n{_log_tail(c, r)}"
        b.wait_caught_up(r, c.writer, 10)
    on_writer = _rows(c, c.writer)
    assert set(expected_rows) <= set(on_writer), "committed rows lost"
    for r in c.readers:
        assert _rows(c, r) == on_writer, f"{r} differs from the writer {c.writer}"


# --------------------------------------------------------------------------- create


def test_create_starts_a_writer_and_two_streaming_readers(cluster: Cluster) -> None:
    b = cluster.backend
    assert b.timings["create"] < 15  # ~1-2 s on a quiet machine
    assert b.server_role(IDS[0]) is Role.WRITER
    assert not b.replicating(IDS[0])
    for r in IDS[1:]:
        assert b.running(r)
        assert b.server_role(r) is Role.READER
        assert b.replicating(r)
    for spec in cluster.specs:
        params = b.direct_params(spec.id)
        assert params == {
            "host": "127.0.0.1",
            "port": spec.server_port,
            "user": "app",
            "password": "app-secret",
            "dbname": "app",
        }
        assert b.direct_params(spec.id, admin=True)["user"] == "admin"
        data = spec.base_dir / "data"
        if os.geteuid() == 0:
            assert data.stat().st_uid != 0
            assert (data / METADATA_FILE).stat().st_uid == data.stat().st_uid
    with _connect(cluster, IDS[0]) as conn:
        conn.execute("CREATE TABLE t_rows (id int PRIMARY KEY, at timestamptz DEFAULT now())")
    rows = _insert(cluster, 5)
    for r in IDS[1:]:
        b.wait_caught_up(r, IDS[0], 10)
        assert _rows(cluster, r) == rows


def test_readers_are_read_only_for_the_app_user(cluster: Cluster) -> None:
    for r in cluster.readers:
        with _connect(cluster, r) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO t_rows (id) VALUES (-1)")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("CREATE TABLE t_nope (id int)")
        admin = cluster.backend.direct_params(r, admin=True) | {"dbname": "app"}
        with psycopg.connect(**admin) as conn:
            assert conn.execute("SHOW is_superuser").fetchone() == ("on",)
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("INSERT INTO t_rows (id) VALUES (-1)")


# --------------------------------------------------------------------------- metadata


def _topology(conn: psycopg.Connection[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT server_id, session_id, cpu, replica_lag_in_msec,"
        " EXTRACT(EPOCH FROM (now() - last_update_timestamp))::float8"
        " FROM pg_catalog.aurora_replica_status() ORDER BY server_id"
    ).fetchall()


def test_metadata_before_any_publish(cluster: Cluster) -> None:
    """create() writes each instance's own view: the writer's row and one per reader."""
    for iid in IDS:
        with _connect(cluster, iid) as conn:
            assert conn.execute("SELECT pg_catalog.aurora_db_instance_identifier()").fetchone() == (
                iid,
            )
            assert _topology(conn) == [
                ("pg-1", WRITER_SESSION_ID, 1.0, None, 0.0),
                ("pg-2", "pg-2-session", 1.0, 0.0, 0.0),
                ("pg-3", "pg-3-session", 1.0, 0.0, 0.0),
            ]


def _metadata(iid: str, writer: str, n: int) -> InstanceMetadata:
    """A distinct view per instance (and per ``n``)."""
    rows = [
        TopologyRow(writer, WRITER_SESSION_ID, cpu=10.0 + n, age_s=1000.0),
        TopologyRow(f"{iid}-peer", f"sess-{iid}-{n}", cpu=0.5, replica_lag_in_msec=12.5 + n),
        TopologyRow("stale", "sess-stale", cpu=0.1, replica_lag_in_msec=3.0, age_s=400.0),
    ]
    extra = {
        "aws_region": f"eu-west-{n}",
        "limitless_router_endpoints": [{"router_endpoint": f"{iid}.router", "load": 0.25}],
        "blue_green": [
            {
                "version": "1.0",
                "endpoint": f"{iid}.example",
                "port": 5432,
                "role": "BLUE_GREEN_DEPLOYMENT_SOURCE",
                "status": "AVAILABLE",
            }
        ],
    }
    return InstanceMetadata(iid, tuple(rows), engine_version=f"15.4.{n}", extra=extra)


def test_every_metadata_function_answers_the_app_user_per_instance(cluster: Cluster) -> None:
    b = cluster.backend
    for n in (1, 2):  # republishing changes the answers of running servers at once
        for iid in IDS:
            b.publish_metadata(iid, _metadata(iid, cluster.writer, n))
        for iid in IDS:
            for dbname in ("app", "postgres"):
                with _connect(cluster, iid, dbname=dbname) as conn:
                    _check_metadata(conn, iid, cluster.writer, n)


def _check_metadata(
    conn: psycopg.Connection[tuple[Any, ...]], iid: str, writer: str, n: int
) -> None:
    assert conn.execute(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone() == (False,)
    setting = conn.execute(
        "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'rds.extensions'"
    ).fetchone()
    assert setting is not None and "aurora_stat_utils" in setting[0] and "rds_tools" in setting[0]
    assert conn.execute("SHOW rds.extensions").fetchone() == (setting[0],)
    assert conn.execute(
        "SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace ns"
        " ON ns.oid = p.pronamespace"
        " WHERE ns.nspname = 'pg_catalog' AND p.proname = 'aurora_replica_status'"
    ).fetchall() == [(1,)]
    assert conn.execute("SELECT pg_catalog.aurora_db_instance_identifier()").fetchone() == (iid,)
    assert conn.execute("SELECT aurora_version()").fetchone() == (f"15.4.{n}",)

    topology = {r[0]: r[1:] for r in _topology(conn)}
    assert topology.keys() == {writer, f"{iid}-peer", "stale"}
    assert topology[writer][:3] == (WRITER_SESSION_ID, 10.0 + n, None)
    assert topology[f"{iid}-peer"][:3] == (f"sess-{iid}-{n}", 0.5, 12.5 + n)
    assert topology["stale"][:3] == ("sess-stale", 0.1, 3.0)
    # last_update_timestamp = now() - age_s
    ages = {k: round(v[3], 3) for k, v in topology.items()}
    assert ages == {writer: 1000.0, f"{iid}-peer": 0.0, "stale": 400.0}
    # The dialect's query: rows older than 300 s are dropped, except the writer's.
    kept = conn.execute(
        "SELECT server_id, CASE WHEN session_id = 'MASTER_SESSION_ID' THEN TRUE ELSE FALSE END,"
        " cpu, COALESCE(replica_lag_in_msec, 0), last_update_timestamp"
        " FROM pg_catalog.aurora_replica_status()"
        " WHERE EXTRACT(EPOCH FROM (NOW() - last_update_timestamp)) <= 300"
        " OR session_id = 'MASTER_SESSION_ID' OR last_update_timestamp IS NULL"
    ).fetchall()
    assert sorted((r[0], r[1]) for r in kept) == sorted([(f"{iid}-peer", False), (writer, True)])

    assert conn.execute(
        "SELECT router_endpoint, load FROM pg_catalog.aurora_limitless_router_endpoints()"
    ).fetchall() == [(f"{iid}.router", 0.25)]
    assert conn.execute(
        "SELECT version, endpoint, port, role, status"
        " FROM pg_catalog.get_blue_green_fast_switchover_metadata('aws_wrapper')"
    ).fetchall() == [("1.0", f"{iid}.example", 5432, "BLUE_GREEN_DEPLOYMENT_SOURCE", "AVAILABLE")]
    instances = conn.execute(
        "SELECT server_id, session_id, aws_region, durable_lsn, visibility_lag_in_msec"
        " FROM aurora_global_db_instance_status()"
    ).fetchall()
    assert sorted(r[:3] for r in instances) == sorted(
        [
            (f"{iid}-peer", f"sess-{iid}-{n}", f"eu-west-{n}"),
            ("stale", "sess-stale", f"eu-west-{n}"),
            (writer, WRITER_SESSION_ID, f"eu-west-{n}"),
        ]
    )
    assert all(r[3] > 0 for r in instances)
    status = conn.execute(
        "SELECT aws_region, highest_lsn_written, durability_lag_in_msec, rpo_lag_in_msec"
        " FROM aurora_global_db_status()"
    ).fetchall()
    assert len(status) == 1 and status[0][0] == f"eu-west-{n}" and status[0][2:] == (-1, -1)
    # The file itself stays the superuser's business.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT pg_read_file('{METADATA_FILE}')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT pg_catalog.aurora_devcluster_metadata()")


def test_empty_metadata_and_functions_without_rows(cluster: Cluster) -> None:
    b = cluster.backend
    for iid in IDS:
        b.publish_metadata(iid, InstanceMetadata(iid, ()))
    with _connect(cluster, cluster.readers[0]) as conn:
        assert _topology(conn) == []
        for fn in (
            "aurora_limitless_router_endpoints()",
            "get_blue_green_fast_switchover_metadata('x')",
            "aurora_global_db_instance_status()",
        ):
            assert conn.execute(f"SELECT * FROM {fn}").fetchall() == []
        assert len(conn.execute("SELECT * FROM aurora_global_db_status()").fetchall()) == 1
    _publish_real_topology(cluster)


def _publish_real_topology(c: Cluster) -> None:
    rows = [
        TopologyRow(
            i,
            WRITER_SESSION_ID if i == c.writer else f"{i}-session",
            replica_lag_in_msec=None if i == c.writer else 0.0,
        )
        for i in IDS
    ]
    for iid in IDS:
        c.backend.publish_metadata(iid, InstanceMetadata(iid, tuple(rows)))


def _check_published_topology(c: Cluster) -> None:
    for iid in IDS:
        with _connect(c, iid) as conn:
            assert conn.execute("SELECT aurora_db_instance_identifier()").fetchone() == (iid,)
            writers = conn.execute(
                "SELECT server_id FROM aurora_replica_status()"
                " WHERE session_id = 'MASTER_SESSION_ID'"
            ).fetchall()
            assert writers == [(c.writer,)]


# --------------------------------------------------------------------------- failover


def _failover(c: Cluster, target: str, *, crash: bool) -> list[int]:
    b = c.backend
    old = c.writer
    others = [r for r in c.readers if r != target]
    rows = _insert(c, 20)
    if crash:
        # Replication is asynchronous: only what the standbys received survives a crash.
        for r in c.readers:
            b.wait_caught_up(r, old, 10)
    t0 = time.monotonic()
    b.stop(old, crash=crash)
    t_stop = time.monotonic() - t0
    assert not b.running(old)
    pgdata = next(s.base_dir for s in c.specs if s.id == old) / "data"
    if crash:
        assert (pgdata / "postmaster.pid").exists()  # no goodbye
    b.wait_caught_up(target, old, 10)
    assert set(rows) <= set(_rows(c, target)), "the promoted reader misses committed rows"
    b.promote(target)
    c.writer = target
    with _connect(c, target) as conn:  # the app user writes at once
        conn.execute("INSERT INTO t_rows (id) VALUES (%s)", (c.next_row,))
        rows.append(c.next_row)
        c.next_row += 1
    for r in others:
        b.follow(r, target)
    b.rejoin(old, target)
    timings = {"stop": t_stop} | {
        k: b.timings[k] for k in ("promote", "follow", "rejoin") if k in b.timings
    }
    c.timings.append((f"{'crash' if crash else 'clean'} failover {old} -> {target}", timings))
    assert b.rejoin_method == "rewind"
    _publish_real_topology(c)
    rows += _insert(c, 3)
    _assert_healthy(c, rows)
    _check_published_topology(c)
    return rows


def test_clean_failover(cluster: Cluster) -> None:
    old, new = IDS[0], IDS[1]
    _failover(cluster, new, crash=False)
    assert cluster.writer == new
    assert cluster.backend.server_role(old) is Role.READER
    assert cluster.backend.timings["promote"] < 10


def test_crash_failover(cluster: Cluster) -> None:
    old, new = cluster.writer, cluster.readers[1]
    _failover(cluster, new, crash=True)
    assert cluster.backend.server_role(old) is Role.READER


def test_three_failovers_in_a_row(cluster: Cluster) -> None:
    for crash in (False, True, False):
        _failover(cluster, cluster.readers[0], crash=crash)


def test_follow_rewinds_a_reader_that_is_ahead_of_the_new_writer(cluster: Cluster) -> None:
    """The promoted reader lagged (it missed WAL the other reader has): the other reader
    cannot just switch upstream, it is rewound onto the new writer's timeline."""
    b = cluster.backend
    old = cluster.writer
    lagging, ahead = cluster.readers
    with psycopg.connect(**b.direct_params(lagging, admin=True), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET primary_conninfo = ''")
        conn.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while b.replicating(lagging):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    kept = _rows(cluster, lagging)
    _insert(cluster, 10)  # only `ahead` gets these
    b.wait_caught_up(ahead, old, 10)
    b.stop(old, crash=True)
    b.wait_caught_up(lagging, old, 10)
    b.promote(lagging)
    cluster.writer = lagging
    b.follow(ahead, lagging)
    assert b.rejoin_method == "rewind"
    b.rejoin(old, lagging)
    _assert_healthy(cluster, kept)
    assert _rows(cluster, ahead) == kept  # the unreplicated rows are gone everywhere
    _publish_real_topology(cluster)
    _check_published_topology(cluster)


def test_stop_all_and_create_again_keeps_data(cluster: Cluster) -> None:
    b = cluster.backend
    rows = _rows(cluster, cluster.writer)
    b.stop_all()
    assert not any(b.running(i) for i in IDS)
    b.create(cluster.specs, cluster.writer)
    _assert_healthy(cluster, rows)
    _check_published_topology(cluster)  # the published metadata survived the restart


def test_destroy_removes_the_directories(cluster: Cluster) -> None:
    b = cluster.backend
    pids = []
    for spec in cluster.specs:
        with psycopg.connect(**b.direct_params(spec.id, admin=True)) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            pids.append(row[0])
    b.destroy()
    for spec in cluster.specs:
        assert not spec.base_dir.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True
