"""The MariaDB side of an Aurora-MySQL-like devcluster: GTID replication between throw-away
MariaDB servers, failover (promote / follow / rejoin) and the metadata the relay serves.

Every instance is a :class:`ClusterMariaDBServer` (a :class:`MariaDBServer` with replication
options) on ``127.0.0.1:<server_port>``. The writer is writable; every reader replicates from
it with GTIDs (``MASTER_USE_GTID=slave_pos``) and runs with ``read_only=1``, so the ``app``
user (not ``SUPER`` / ``READ ONLY ADMIN``) cannot write there, while replication can.

What lives where:

- **Real, in MariaDB**: data, roles (``@@read_only``), replication, and the blue/green table
  ``mysql.rds_topology (version, endpoint, port, role, status)``. It is created on every
  instance at initialization (outside the binary log, like the accounts), ``app`` may read
  it. A blue/green deployment writes its rows on each instance, outside the binary log
  (:meth:`MariaDBBackend.publish_blue_green`), so that blue and green (every instance) answer
  their own view, as during an RDS switchover; :meth:`MariaDBBackend.set_rds_topology`
  writes rows on the writer that replicate. It is empty unless a blue/green deployment is
  being emulated. The devcluster emulates *Aurora* MySQL, so the
  table has the blue/green shape, not the Multi-AZ DB cluster one (``id, endpoint, port``):
  Aurora has no Multi-AZ topology table, and a table answering ``SELECT id, endpoint, port``
  would let a dialect probe mistake the cluster for an RDS Multi-AZ DB cluster (``report_host``
  is left empty for the same reason).
- **In memory, served by the relay** (:mod:`aws_wrapper_devcluster.mysql_relay`): what
  MariaDB cannot host under the Aurora names — ``information_schema.replica_host_status``,
  ``information_schema.aurora_global_db_instance_status``, ``@@aurora_server_id`` and
  ``SHOW VARIABLES LIKE 'aurora_version'``. :meth:`MariaDBBackend.publish_metadata` stores
  an instance's view; :meth:`MariaDBBackend.metadata_source` hands the relay a callable.

Failover. ``promote`` drains the relay log before it stops replication, so a reader that had
received everything loses nothing. ``follow`` / ``rejoin`` first compare GTID states: an
instance whose GTID position is not part of the new writer's binary log history has *errant*
transactions (a crashed writer's last commits that no reader received); it is re-cloned. After
replication is started, a replication error (``1236``: position not in the master's binlog,
or any SQL-thread error such as a duplicate key from a non-GTID divergence) also triggers a
re-clone. Re-clone = in place, logical: drop every non-system database, import a consistent
``mariadb-dump --single-transaction --gtid`` of the writer (with ``sql_log_bin=0``),
``RESET MASTER``, set ``gtid_slave_pos`` to the dump's position and replicate from there. It
keeps the instance's accounts, TLS certificate and configuration, and costs a dump and an
import (about 0.2 s for a small database) instead of a ``mariadb-install-db`` (about 0.7 s)
plus a restart and the same import.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from aws_wrapper_devcluster.model import (
    AURORA_MYSQL_VERSION,
    WRITER_SESSION_ID,
    Engine,
    InstanceMetadata,
    InstanceSpec,
    Role,
    TopologyRow,
)
from aws_wrapper_devcluster.servers import (
    APP_USER,
    LogFn,
    MariaDBServer,
    ServerError,
)

__all__ = [
    "REPLICATION_PASSWORD",
    "REPLICATION_USER",
    "ClusterMariaDBServer",
    "DataTemplate",
    "MariaDBBackend",
    "RdsTopologyRow",
    "shared_template",
]

#: Account readers use to replicate (created on every instance, outside the binary log).
REPLICATION_USER = "repl"
REPLICATION_PASSWORD = "repl-secret"

#: Schemas that are the server's own: never dropped or copied by a re-clone.
_SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})

_RDS_TOPOLOGY_DDL = (
    "CREATE TABLE IF NOT EXISTS mysql.rds_topology ("
    " version VARCHAR(20) NOT NULL,"
    " endpoint VARCHAR(255) NOT NULL,"
    " port INT NOT NULL,"
    " role VARCHAR(64) NOT NULL,"
    " status VARCHAR(64) NOT NULL,"
    " PRIMARY KEY (endpoint, port)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
)

# Errors after which replication cannot continue from the instance's position: the history
# diverged (or the position is gone from the source's binlog). IO errors other than 1236
# (connect failures, ...) are retried by the server itself.
_IO_DIVERGENCE_ERRNOS = frozenset({1236})

_DUMP_GTID_RE = re.compile(rb"gtid_slave_pos\s*=\s*'([^']*)'")


class _ReplicationDiverged(ServerError):
    """The instance cannot replicate from the writer without a re-clone."""


@dataclass(frozen=True, slots=True)
class RdsTopologyRow:
    """One row of the blue/green table ``mysql.rds_topology``."""

    endpoint: str
    port: int
    role: str
    """``BLUE_GREEN_DEPLOYMENT_SOURCE`` / ``BLUE_GREEN_DEPLOYMENT_TARGET``."""
    status: str
    """``AVAILABLE``, ``SWITCHOVER_INITIATED``, ``SWITCHOVER_IN_PROGRESS``, ..."""
    version: str = "1.0"


class ClusterMariaDBServer(MariaDBServer):
    """A :class:`MariaDBServer` set up for GTID replication in a devcluster.

    On top of the base server: every replicated transaction is binlogged too
    (``log_slave_updates``, so any reader can become the source of the others), replication
    never starts by itself (``skip_slave_start``: the backend decides), ``read_only`` is
    decided at start (readers come up read-only, without a writable window), and commits
    reach the OS at each commit (``innodb_flush_log_at_trx_commit=2``) so that a SIGKILL
    loses no committed transaction — only an OS crash would. The replication account and
    ``mysql.rds_topology`` are created at initialization, outside the binary log.
    """

    def __init__(
        self, *, read_only: bool = False, template: DataTemplate | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.read_only = read_only
        self.template = template

    def _initialize(self, deadline: float) -> None:
        if self.template is None:
            super()._initialize(deadline)
            return
        with self.template.lock:
            source = self.template.path
            if source is None or not source.is_dir():
                super()._initialize(deadline)
                self.template.keep(self.data_dir)
                return
        self._log(f"{self.name}: data directory copied from {source}")
        _copy_tree(source, self.data_dir)

    def _server_argv(self) -> list[str]:
        # Later options win over the base class' ones.
        return [
            *super()._server_argv(),
            "--innodb-flush-log-at-trx-commit=2",
            "--log-slave-updates=ON",
            "--skip-slave-start",
            "--slave-net-timeout=10",
            f"--read-only={'ON' if self.read_only else 'OFF'}",
        ]

    def _configure(self) -> None:
        super()._configure()
        conn = self.root_connection()
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute(
                    "CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s",
                    (REPLICATION_USER, REPLICATION_PASSWORD),
                )
                cur.execute("GRANT REPLICATION SLAVE ON *.* TO %s@'%%'", (REPLICATION_USER,))
                cur.execute(_RDS_TOPOLOGY_DDL)
                cur.execute("GRANT SELECT ON mysql.rds_topology TO %s@'%%'", (APP_USER,))
        finally:
            conn.close()

    def root_connection(self, timeout: float = 5.0) -> pymysql.Connection[Any]:
        """``root`` over the unix socket (the harness' own account), autocommit."""
        return pymysql.connect(
            unix_socket=str(self.unix_socket),
            user="root",
            password="",
            autocommit=True,
            connect_timeout=max(1, int(timeout)),
            cursorclass=pymysql.cursors.DictCursor,
        )

    def kill(self) -> None:
        """SIGKILL the server (and its process group): a crash, no clean shutdown."""
        with self._lock:
            self._kill_process()


class DataTemplate:
    """A freshly initialized data directory (``mariadb-install-db`` output and TLS
    certificate, never started), copied into new instances' data directories instead of
    running ``mariadb-install-db`` once per instance. The first instance of a process
    initializes and keeps a copy; every later one copies it (``cp -a`` of about 30 MB: a few
    hundredths of a second, against 0.7-3 s for ``mariadb-install-db``, which loads the help
    tables and the sys schema, and more when several run at once on few cores). Nothing in it
    is instance-specific: MariaDB has no server UUID and the server id is an option."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.path: Path | None = None
        self._dir: Path | None = None

    def keep(self, data_dir: Path) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="awswrapper-mariadb-template-"))
        path = self._dir / "data"
        path.mkdir()
        _copy_tree(data_dir, path)
        self.path = path

    def remove(self) -> None:
        with self.lock:
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = self.path = None


_templates: dict[bool, DataTemplate] = {}
_templates_lock = threading.Lock()


def shared_template(tls: bool) -> DataTemplate:
    """The process-wide template for servers with (or without) a TLS certificate; removed
    when the process exits."""
    with _templates_lock:
        template = _templates.get(tls)
        if template is None:
            template = _templates[tls] = DataTemplate()
        return template


@atexit.register
def _remove_templates() -> None:
    for template in list(_templates.values()):
        template.remove()


def _copy_tree(source: Path, target: Path) -> None:
    """Copy the contents of ``source`` into ``target``, keeping owners and modes."""
    result = subprocess.run(
        ["cp", "-a", f"{source}/.", f"{target}/"], capture_output=True, check=False
    )
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip()
        raise ServerError(f"copying {source} to {target} failed: {err}")


@dataclass
class _Instance:
    spec: InstanceSpec
    server: ClusterMariaDBServer
    role: Role
    source: str | None = None
    """The instance it replicates from (readers)."""
    metadata: InstanceMetadata | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    reclones: int = 0


def _parse_gtids(text: str) -> dict[int, tuple[int, int]]:
    """``'0-1-10,1-2-5'`` -> ``{domain: (server_id, seq_no)}`` (the last one per domain)."""
    out: dict[int, tuple[int, int]] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            domain, server_id, seq = (int(x) for x in part.split("-"))
            out[domain] = (server_id, seq)
    return out


def _parse_gtid_state(text: str) -> dict[tuple[int, int], int]:
    """``@@gtid_binlog_state`` -> ``{(domain, server_id): last seq_no}``."""
    out: dict[tuple[int, int], int] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            domain, server_id, seq = (int(x) for x in part.split("-"))
            out[(domain, server_id)] = max(seq, out.get((domain, server_id), 0))
    return out


def _reached(position: dict[int, tuple[int, int]], target: dict[int, tuple[int, int]]) -> bool:
    """Whether a replica at ``position`` has applied ``target`` (both from ``_parse_gtids``)."""
    for domain, (server_id, seq) in target.items():
        have = position.get(domain)
        if have is None or have[1] < seq or (have[1] == seq and have[0] != server_id):
            return False
    return True


class MariaDBBackend:
    """:class:`~aws_wrapper_devcluster.model.EngineBackend` for MariaDB (Aurora MySQL).

    Blocking; safe to call from several worker threads (one operation at a time per
    instance). Each method raises :class:`ServerError` with a clear message on failure.
    """

    engine = Engine.MYSQL

    def __init__(
        self,
        *,
        log: LogFn | None = None,
        tls: bool = True,
        catch_up_timeout: float = 30.0,
    ) -> None:
        self._log_fn = log
        self._tls = tls
        self._catch_up_timeout = catch_up_timeout
        self._instances: dict[str, _Instance] = {}
        self._pending: dict[str, InstanceMetadata] = {}  # published before add_replicas
        self._lock = threading.RLock()
        self._template = shared_template(tls)
        #: Seconds each re-clone took (dump + import + restart of replication), in order.
        self.reclone_seconds: list[float] = []
        #: The last measured duration (seconds) of ``create``, ``stop``, ``promote``,
        #: ``follow``, ``rejoin`` and ``reclone``.
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ lifecycle

    def create(self, specs: Sequence[InstanceSpec], writer: str) -> None:
        if writer not in {s.id for s in specs}:
            raise ServerError(f"writer {writer!r} is not one of the instances")
        t0 = time.monotonic()
        with self._lock:
            for spec in specs:
                inst = self._instances.get(spec.id)
                role = Role.WRITER if spec.id == writer else Role.READER
                if inst is None:
                    server = ClusterMariaDBServer(
                        host="127.0.0.1",
                        port=spec.server_port,
                        base_dir=spec.base_dir,
                        name=spec.id,
                        log=self._log_fn,
                        server_id=spec.index,
                        tls=self._tls,
                        read_only=role is Role.READER,
                        template=self._template,
                    )
                    self._instances[spec.id] = _Instance(spec, server, role)
                else:
                    inst.role = role
                    inst.server.read_only = role is Role.READER
            instances = [self._instances[s.id] for s in specs]
            with ThreadPoolExecutor(max_workers=len(instances)) as pool:
                for started in [pool.submit(i.server.start) for i in instances]:
                    started.result()
            self._log(f"started {len(instances)} servers in {time.monotonic() - t0:.2f} s")
            self._make_writer(self._instances[writer])
            readers = [i for i in instances if i.spec.id != writer]
            with ThreadPoolExecutor(max_workers=max(1, len(readers))) as pool:
                futures = [pool.submit(self.follow, i.spec.id, writer) for i in readers]
                for future in futures:
                    future.result()
        seconds = self.timings["create"] = time.monotonic() - t0
        self._log(f"created {len(specs)} instances (writer {writer}) in {seconds:.2f} s")

    def start(self, instance_id: str) -> None:
        inst = self._get(instance_id)
        with inst.lock:
            inst.server.read_only = inst.role is Role.READER
            inst.server.start()
            if inst.role is Role.READER and inst.source is not None:
                with self._root(inst) as cur:
                    cur.execute("START SLAVE")

    def stop(self, instance_id: str, *, crash: bool) -> None:
        inst = self._get(instance_id)
        t0 = time.monotonic()
        with inst.lock:
            if crash:
                inst.server.kill()
                self._log(f"{instance_id}: killed (SIGKILL)")
                return
            if inst.server.running and inst.role is Role.WRITER:
                self._drain_replicas(inst)
            inst.server.stop()
        self.timings["stop"] = time.monotonic() - t0

    def running(self, instance_id: str) -> bool:
        return self._get(instance_id).server.running

    def stop_all(self) -> None:
        with self._lock:
            instances = list(self._instances.values())
        writers = [i for i in instances if i.role is Role.WRITER]
        for inst in writers:  # first: they wait for their readers to have everything
            self.stop(inst.spec.id, crash=False)
        readers = [i for i in instances if i.role is not Role.WRITER]
        with ThreadPoolExecutor(max_workers=max(1, len(readers))) as pool:
            for future in [pool.submit(self.stop, i.spec.id, crash=False) for i in readers]:
                future.result()

    def add_replicas(self, specs: Sequence[InstanceSpec], source: str) -> None:
        """New read-only servers (from the data template), each replicating from ``source``
        with GTIDs from the start of its binary log (re-cloned from a dump when that history
        is gone); server ids after every existing one (a replica skips events carrying its
        own id)."""
        t0 = time.monotonic()
        with self._lock:
            writer = self._get(source)
            for spec in specs:
                if spec.id in self._instances:
                    raise ServerError(f"MariaDB instance {spec.id!r} exists already")
            next_id = max(i.server.server_id for i in self._instances.values()) + 1
            added = []
            for n, spec in enumerate(specs):
                server = ClusterMariaDBServer(
                    host="127.0.0.1",
                    port=spec.server_port,
                    base_dir=spec.base_dir,
                    name=spec.id,
                    log=self._log_fn,
                    server_id=next_id + n,
                    tls=self._tls,
                    read_only=True,
                    template=self._template,
                )
                inst = _Instance(spec, server, Role.READER)
                inst.metadata = self._pending.pop(spec.id, None)
                self._instances[spec.id] = inst
                added.append(inst)
        try:
            with ThreadPoolExecutor(max_workers=max(1, len(added))) as pool:
                for started in [pool.submit(i.server.start) for i in added]:
                    started.result()
            with ThreadPoolExecutor(max_workers=max(1, len(added))) as pool:
                futures = [pool.submit(self.follow, i.spec.id, writer.spec.id) for i in added]
                for future in futures:
                    future.result()
        except BaseException:
            self.remove([i.spec.id for i in added])
            raise
        seconds = self.timings["add_replicas"] = time.monotonic() - t0
        names = ", ".join(i.spec.id for i in added)
        self._log(f"{names} replicate from {source} ({seconds:.2f} s)")

    def remove(self, instance_ids: Sequence[str]) -> None:
        """Stop the instances (SIGKILL: nothing of theirs is kept) and delete their files."""
        with self._lock:
            instances = [self._instances.pop(i) for i in instance_ids if i in self._instances]
            for instance_id in instance_ids:
                self._pending.pop(instance_id, None)
        for inst in instances:
            with inst.lock, contextlib.suppress(Exception):
                inst.server.kill()
            inst.server.stop()  # releases the watchdog bookkeeping
            shutil.rmtree(inst.spec.base_dir, ignore_errors=True)

    def publish_blue_green(self, views: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Each listed instance's ``mysql.rds_topology`` gets its rows, written on that
        instance outside the binary log (``sql_log_bin = 0``): nothing replicates, so blue
        and green (and each instance) can answer different views, as on RDS. Instances not
        running are skipped."""

        def write(instance_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
            inst = self._get(instance_id)
            if not inst.server.running:
                return
            with self._root(inst) as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                cur.execute("START TRANSACTION")
                cur.execute("DELETE FROM mysql.rds_topology")
                for r in rows:
                    cur.execute(
                        "INSERT INTO mysql.rds_topology (version, endpoint, port, role, status)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (r["version"], r["endpoint"], int(r["port"]), r["role"], r["status"]),
                    )
                cur.execute("COMMIT")

        self._each(views, write)

    def _each(self, items: Mapping[str, Any], fn: Callable[[str, Any], None]) -> None:
        """``fn(instance_id, value)`` for every item, in parallel; the first error raised."""
        if not items:
            return
        with ThreadPoolExecutor(max_workers=len(items)) as pool:
            futures = [pool.submit(fn, key, value) for key, value in items.items()]
            errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    # ------------------------------------------------------------------ blue/green switchover

    def set_writable(self, instance_id: str, writable: bool) -> None:
        """``read_only`` off / on (the app user has neither ``SUPER`` nor ``READ ONLY
        ADMIN``)."""
        inst = self._get(instance_id)
        with inst.lock, self._root(inst) as cur:
            cur.execute(f"SET GLOBAL read_only = {0 if writable else 1}")
        inst.server.read_only = not writable

    def cut_sessions(self, instance_id: str) -> None:
        """``KILL CONNECTION`` for every client thread but ours and replication's."""
        inst = self._get(instance_id)
        with self._root(inst) as cur:
            cur.execute(
                "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
                " AND user NOT IN ('system user', 'event_scheduler', %s)"
                " AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon',"
                " 'Slave_IO', 'Slave_SQL', 'Slave_worker')",
                (REPLICATION_USER,),
            )
            for row in cur.fetchall():
                with contextlib.suppress(pymysql.Error):  # gone meanwhile
                    cur.execute(f"KILL CONNECTION {int(row['id'])}")

    def position(self, instance_id: str) -> str:
        with self._root(self._get(instance_id)) as cur:
            cur.execute("SELECT @@gtid_binlog_pos AS pos")
            return str(_one(cur)["pos"])

    def detach(self, instance_id: str) -> None:
        """``STOP SLAVE`` (the replication settings stay; :meth:`follow` replaces them)."""
        inst = self._get(instance_id)
        with inst.lock, self._root(inst) as cur:
            cur.execute("STOP SLAVE")

    def statement_log(self, instance_ids: Sequence[str], on: bool) -> dict[str, int]:
        """The general query log into ``mysql.general_log`` (emptied first), or off. The
        offsets are 0: :meth:`statements` filters by time."""

        def switch(instance_id: str, _: object) -> None:
            inst = self._get(instance_id)
            if not inst.server.running:
                return
            with self._root(inst) as cur:
                if on:
                    # each instance empties its own log: a TRUNCATE in the binary log would
                    # replicate, and on a replica it would be a transaction of its own server
                    # id, which breaks its GTID stream (the next failover's replicas stop on
                    # "out-of-order sequence number")
                    cur.execute("SET SESSION sql_log_bin = 0")
                    cur.execute("SET GLOBAL general_log = 0")
                    cur.execute("TRUNCATE TABLE mysql.general_log")
                    cur.execute("SET GLOBAL log_output = 'TABLE'")
                    cur.execute("SET GLOBAL general_log = 1")
                else:
                    cur.execute("SET GLOBAL general_log = 0")

        self._each(dict.fromkeys(instance_ids), switch)
        return dict.fromkeys(instance_ids, 0)

    def statements(self, instance_id: str, offset: int, since: float) -> list[dict[str, Any]]:
        """``Query`` / ``Execute`` / ``Prepare`` entries of ``mysql.general_log`` at or
        after ``since`` (not this query's own)."""
        inst = self._get(instance_id)
        if not inst.server.running:
            return []
        with self._root(inst) as cur:
            cur.execute(
                "SELECT UNIX_TIMESTAMP(event_time) AS at, user_host, argument"
                " FROM mysql.general_log WHERE thread_id <> CONNECTION_ID()"
                " AND command_type IN ('Query', 'Execute', 'Prepare')"
                " AND event_time >= FROM_UNIXTIME(%s) ORDER BY event_time",
                (round(since, 6),),
            )
            rows = cur.fetchall()
        found = []
        for row in rows:
            argument = row["argument"]
            text = argument.decode("utf-8", "replace") if isinstance(argument, bytes) else argument
            user = str(row["user_host"]).split("[", 1)[0].strip()
            found.append({"at": float(row["at"]), "user": user, "statement": str(text)})
        return found

    def set_bg_access(self, instance_ids: Sequence[str], allowed: bool) -> None:
        """GRANT / REVOKE SELECT on ``mysql.rds_topology`` to the app user on every running
        instance listed, outside the binary log (each instance has its own grant)."""

        def change(instance_id: str, _: object) -> None:
            inst = self._get(instance_id)
            if not inst.server.running:
                return
            with self._root(inst) as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                if allowed:
                    cur.execute("GRANT SELECT ON mysql.rds_topology TO %s@'%%'", (APP_USER,))
                    return
                try:
                    cur.execute("REVOKE SELECT ON mysql.rds_topology FROM %s@'%%'", (APP_USER,))
                except pymysql.MySQLError as exc:
                    if not exc.args or exc.args[0] != 1147:  # no such grant: revoked already
                        raise

        self._each(dict.fromkeys(instance_ids), change)

    def destroy(self) -> None:
        with self._lock:
            instances = list(self._instances.values())
            with ThreadPoolExecutor(max_workers=max(1, len(instances))) as pool:
                for future in [pool.submit(i.server.kill) for i in instances]:
                    with contextlib.suppress(Exception):
                        future.result()
            for inst in instances:
                inst.server.stop()  # releases the watchdog bookkeeping
                shutil.rmtree(inst.spec.base_dir, ignore_errors=True)
            self._instances.clear()

    # ------------------------------------------------------------------ replication

    def wait_caught_up(self, instance_id: str, writer: str, timeout: float) -> None:
        reader, source = self._get(instance_id), self._get(writer)
        with self._root(source) as cur:
            cur.execute("SELECT @@gtid_binlog_pos AS pos")
            target = str(_one(cur)["pos"])
        self._wait_position(reader, target, timeout)

    def promote(self, instance_id: str) -> None:
        inst = self._get(instance_id)
        t0 = time.monotonic()
        with inst.lock:
            self._require_running(inst)
            self._make_writer(inst)
        seconds = self.timings["promote"] = time.monotonic() - t0
        self._log(f"{instance_id}: promoted to writer in {seconds:.2f} s")

    def follow(self, instance_id: str, writer: str) -> None:
        inst, source = self._get(instance_id), self._get(writer)
        if inst is source:
            raise ServerError(f"{instance_id} cannot follow itself")
        t0 = time.monotonic()
        with inst.lock:
            self._require_running(inst)
            self._replicate_or_reclone(inst, source)
        seconds = self.timings["follow"] = time.monotonic() - t0
        self._log(f"{instance_id}: follows {writer} ({seconds:.2f} s)")

    def rejoin(self, instance_id: str, writer: str) -> None:
        inst, source = self._get(instance_id), self._get(writer)
        if inst is source:
            raise ServerError(f"{instance_id} cannot rejoin itself")
        t0 = time.monotonic()
        with inst.lock:
            inst.role = Role.READER
            inst.server.read_only = True
            if inst.server.running:
                with self._root(inst) as cur:
                    cur.execute("SET GLOBAL read_only = 1")
            else:
                inst.server.start()
            self._replicate_or_reclone(inst, source)
        seconds = self.timings["rejoin"] = time.monotonic() - t0
        self._log(f"{instance_id}: rejoined as a reader of {writer} in {seconds:.2f} s")

    def server_role(self, instance_id: str) -> Role:
        inst = self._get(instance_id)
        self._require_running(inst)
        with self._root(inst) as cur:
            cur.execute("SELECT @@read_only AS ro")
            return Role.READER if int(_one(cur)["ro"]) else Role.WRITER

    def replicating(self, instance_id: str) -> bool:
        inst = self._get(instance_id)
        if not inst.server.running:
            return False
        try:
            status = self._slave_status(inst)
        except pymysql.Error:
            return False
        return (
            status is not None
            and status["Slave_IO_Running"] == "Yes"
            and status["Slave_SQL_Running"] == "Yes"
            and not status["Last_IO_Errno"]
            and not status["Last_SQL_Errno"]
        )

    def reclone_count(self, instance_id: str) -> int:
        """How many times the instance was re-cloned from a writer."""
        return self._get(instance_id).reclones

    # ------------------------------------------------------------------ metadata

    def publish_metadata(self, instance_id: str, metadata: InstanceMetadata) -> None:
        with self._lock:
            inst = self._instances.get(instance_id)
            if inst is None:  # an instance add_replicas is about to make
                self._pending[instance_id] = metadata
                return
        inst.metadata = metadata

    def metadata(self, instance_id: str) -> InstanceMetadata:
        """What the instance answers now. Until something is published: the backend's own
        view (a row per instance, the current writer's with ``MASTER_SESSION_ID``)."""
        inst = self._get(instance_id)
        published = inst.metadata
        if published is not None:
            return published
        with self._lock:
            instances = sorted(self._instances.values(), key=lambda i: i.spec.index)
        rows = tuple(
            TopologyRow(
                server_id=i.spec.id,
                session_id=WRITER_SESSION_ID if i.role is Role.WRITER else f"{i.spec.id}-session",
                cpu=1.0,
                replica_lag_in_msec=None if i.role is Role.WRITER else 0.0,
            )
            for i in instances
        )
        return InstanceMetadata(instance_id, rows, engine_version=AURORA_MYSQL_VERSION)

    def metadata_source(self, instance_id: str) -> Callable[[], InstanceMetadata]:
        """The callable a :class:`~aws_wrapper_devcluster.mysql_relay.MySQLRelay` needs."""
        self._get(instance_id)
        return lambda: self.metadata(instance_id)

    def set_rds_topology(self, rows: Sequence[RdsTopologyRow]) -> None:
        """Replace the rows of ``mysql.rds_topology`` on the writer; readers get them by
        replication."""
        with self._lock:
            writers = [i for i in self._instances.values() if i.role is Role.WRITER]
        if len(writers) != 1:
            raise ServerError(f"expected one writer, found {len(writers)}")
        with self._root(writers[0]) as cur:
            cur.execute("START TRANSACTION")
            cur.execute("DELETE FROM mysql.rds_topology")
            for r in rows:
                cur.execute(
                    "INSERT INTO mysql.rds_topology (version, endpoint, port, role, status)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (r.version, r.endpoint, r.port, r.role, r.status),
                )
            cur.execute("COMMIT")

    def direct_params(self, instance_id: str, *, admin: bool = False) -> dict[str, Any]:
        server = self._get(instance_id).server
        return dict(server.admin_params() if admin else server.conn_params())

    def server(self, instance_id: str) -> ClusterMariaDBServer:
        return self._get(instance_id).server

    # ------------------------------------------------------------------ internals

    def _log(self, message: str) -> None:
        if self._log_fn is not None:
            self._log_fn(message)

    def _get(self, instance_id: str) -> _Instance:
        try:
            return self._instances[instance_id]
        except KeyError:
            raise ServerError(f"unknown instance {instance_id!r}")

    @staticmethod
    def _require_running(inst: _Instance) -> None:
        if not inst.server.running:
            raise ServerError(f"{inst.spec.id} is not running")

    @contextlib.contextmanager
    def _root(self, inst: _Instance) -> Iterator[pymysql.cursors.DictCursor]:
        try:
            conn = inst.server.root_connection()
        except pymysql.Error as exc:
            raise ServerError(f"{inst.spec.id}: cannot connect to the server: {exc}")
        try:
            with conn.cursor() as cur:
                yield cur
        except pymysql.Error as exc:
            raise ServerError(f"{inst.spec.id}: {exc}") from exc
        finally:
            conn.close()

    def _slave_status(self, inst: _Instance) -> dict[str, Any] | None:
        conn = inst.server.root_connection()
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW SLAVE STATUS")
                row: dict[str, Any] | None = cur.fetchone()
                return row
        finally:
            conn.close()

    def _make_writer(self, inst: _Instance) -> None:
        """Apply what the reader already received, stop replicating, accept writes."""
        with self._root(inst) as cur:
            cur.execute("SHOW SLAVE STATUS")
            if cur.fetchone() is not None:
                cur.execute("STOP SLAVE IO_THREAD")
                self._drain_relay_log(inst, cur)
                cur.execute("STOP SLAVE")
                cur.execute("RESET SLAVE ALL")
            cur.execute("SET GLOBAL read_only = 0")
        inst.role = Role.WRITER
        inst.source = None
        inst.server.read_only = False

    def _drain_relay_log(self, inst: _Instance, cur: pymysql.cursors.DictCursor) -> None:
        deadline = time.monotonic() + self._catch_up_timeout
        while True:
            cur.execute("SHOW SLAVE STATUS")
            st = _one(cur)
            if st["Slave_SQL_Running"] != "Yes":
                if st["Last_SQL_Errno"]:
                    self._log(f"{inst.spec.id}: SQL thread stopped: {st['Last_SQL_Error']}")
                return
            if (
                st["Master_Log_File"] == st["Relay_Master_Log_File"]
                and st["Read_Master_Log_Pos"] == st["Exec_Master_Log_Pos"]
            ):
                return
            if time.monotonic() > deadline:
                raise ServerError(f"{inst.spec.id}: relay log not applied in time")
            time.sleep(0.01)

    def _drain_replicas(self, writer: _Instance) -> None:
        """Before a clean stop: let the running readers of ``writer`` receive everything."""
        with self._lock:
            readers = [
                i
                for i in self._instances.values()
                if i.source == writer.spec.id and i.server.running
            ]
        if not readers:
            return
        try:
            with self._root(writer) as cur:
                cur.execute("SELECT @@gtid_binlog_pos AS pos")
                target = str(_one(cur)["pos"])
        except ServerError:
            return
        for reader in readers:
            try:
                self._wait_position(reader, target, min(10.0, self._catch_up_timeout))
            except ServerError as exc:
                self._log(f"{writer.spec.id}: stopping although {reader.spec.id} lags: {exc}")

    def _wait_position(self, reader: _Instance, target: str, timeout: float) -> None:
        """Wait until ``reader`` applied GTID position ``target``; raise on error/timeout."""
        goal = _parse_gtids(target)
        deadline = time.monotonic() + timeout
        with self._root(reader) as cur:
            while True:
                left = deadline - time.monotonic()
                cur.execute(
                    "SELECT MASTER_GTID_WAIT(%s, %s) AS r, @@gtid_slave_pos AS pos",
                    (target, max(0.0, min(0.2, left))),
                )
                row = _one(cur)
                if row["r"] == 0 and _reached(_parse_gtids(str(row["pos"])), goal):
                    return
                cur.execute("SHOW SLAVE STATUS")
                st = cur.fetchone()
                if st is None:
                    raise ServerError(f"{reader.spec.id} is not a replica")
                if st["Last_SQL_Errno"] or st["Last_IO_Errno"] in _IO_DIVERGENCE_ERRNOS:
                    raise _ReplicationDiverged(
                        f"{reader.spec.id}: replication error: IO {st['Last_IO_Errno']}"
                        f" {st['Last_IO_Error']!r}, SQL {st['Last_SQL_Errno']}"
                        f" {st['Last_SQL_Error']!r}"
                    )
                if time.monotonic() >= deadline:
                    raise ServerError(
                        f"{reader.spec.id} did not reach {target!r} in {timeout:.1f} s"
                        f" (at {row['pos']!r}; IO {st['Slave_IO_Running']},"
                        f" SQL {st['Slave_SQL_Running']}, last IO error {st['Last_IO_Error']!r})"
                    )

    def _errant(self, inst: _Instance, source: _Instance) -> str | None:
        """Why ``inst``'s history is not part of ``source``'s binlog history, or None."""
        with self._root(inst) as cur:
            cur.execute("SELECT @@gtid_current_pos AS pos")
            mine = _parse_gtids(str(_one(cur)["pos"]))
        with self._root(source) as cur:
            cur.execute("SELECT @@gtid_binlog_state AS state")
            theirs = _parse_gtid_state(str(_one(cur)["state"]))
        for domain, (server_id, seq) in mine.items():
            if theirs.get((domain, server_id), -1) < seq:
                return (
                    f"{inst.spec.id} has GTID {domain}-{server_id}-{seq} that"
                    f" {source.spec.id}'s binlog history does not contain"
                )
        return None

    def _replicate_or_reclone(self, inst: _Instance, source: _Instance) -> None:
        errant = self._errant(inst, source)
        if errant is None:
            try:
                self._start_replication(inst, source, from_current=True)
                self._check_replication(inst, source)
                return
            except _ReplicationDiverged as exc:
                reason = str(exc)
        else:
            reason = errant
        self._log(f"{inst.spec.id}: re-cloning from {source.spec.id}: {reason}")
        self._reclone(inst, source)

    def _start_replication(self, inst: _Instance, source: _Instance, *, from_current: bool) -> None:
        with self._root(inst) as cur:
            cur.execute("SET GLOBAL read_only = 1")
            cur.execute("STOP SLAVE")
            if from_current:
                # A former writer's own transactions are in its binlog, not gtid_slave_pos:
                # gtid_current_pos covers both (for a plain reader it equals gtid_slave_pos).
                cur.execute("SET GLOBAL gtid_slave_pos = @@gtid_current_pos")
            cur.execute(
                "CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, MASTER_USER = %s,"
                " MASTER_PASSWORD = %s, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1,"
                " MASTER_SSL = 0",
                (
                    source.server.host,
                    source.server.port,
                    REPLICATION_USER,
                    REPLICATION_PASSWORD,
                ),
            )
            cur.execute("START SLAVE")
        inst.role = Role.READER
        inst.source = source.spec.id
        inst.server.read_only = True

    def _check_replication(self, inst: _Instance, source: _Instance) -> None:
        """Replication runs and reaches the source's current position (or raises)."""
        with self._root(source) as cur:
            cur.execute("SELECT @@gtid_binlog_pos AS pos")
            target = str(_one(cur)["pos"])
        self._wait_position(inst, target, self._catch_up_timeout)

    def _reclone(self, inst: _Instance, source: _Instance) -> None:
        t0 = time.monotonic()
        with self._root(inst) as cur:
            cur.execute("STOP SLAVE")
            cur.execute("RESET SLAVE ALL")
            # RESET MASTER waits until InnoDB has made every commit durable: with
            # innodb_flush_log_at_trx_commit=2 that is the background flush, once a second.
            # Durable commits meanwhile make it immediate (restored below).
            cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 1")
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute("SHOW DATABASES")
            for row in cur.fetchall():
                name = str(row["Database"])
                if name.lower() not in _SYSTEM_SCHEMAS:
                    cur.execute(f"DROP DATABASE `{name.replace('`', '``')}`")
        t_drop = time.monotonic()
        with self._root(source) as cur:
            cur.execute("SHOW DATABASES")
            databases = [
                str(r["Database"])
                for r in cur.fetchall()
                if str(r["Database"]).lower() not in _SYSTEM_SCHEMAS
            ]
            cur.execute(
                "SELECT TABLE_NAME AS name FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME <> 'rds_topology'"
            )
            ignored = [f"--ignore-table=mysql.{r['name']}" for r in cur.fetchall()]
        dump = self._tool(
            [
                "mariadb-dump",
                f"--socket={source.server.unix_socket}",
                "--user=root",
                "--single-transaction",
                "--gtid",
                "--master-data=2",
                "--routines",
                "--events",
                "--triggers",
                "--hex-blob",
                *ignored,
                "--databases",
                *databases,
                "mysql",
            ],
            None,
            "mariadb-dump",
        )
        match = _DUMP_GTID_RE.search(dump)
        if match is None:
            raise ServerError(f"mariadb-dump of {source.spec.id} printed no GTID position")
        position = match.group(1).decode()
        t_dump = time.monotonic()
        self._tool(
            [
                "mariadb",
                f"--socket={inst.server.unix_socket}",
                "--user=root",
                "--init-command=SET SESSION sql_log_bin = 0",
                "--binary-mode",
            ],
            dump,
            "import of the dump",
        )
        t_import = time.monotonic()
        with self._root(inst) as cur:
            # Forget the errant history; the binlog restarts at the clone's position, so
            # replicas at that position can follow this instance if it becomes the writer.
            cur.execute("RESET MASTER")
            cur.execute("SET GLOBAL gtid_binlog_state = %s", (position,))
            cur.execute("SET GLOBAL gtid_slave_pos = %s", (position,))
            cur.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 2")
        self._start_replication(inst, source, from_current=False)
        t_started = time.monotonic()
        try:
            self._check_replication(inst, source)
        except _ReplicationDiverged as exc:
            raise ServerError(f"{inst.spec.id}: replication fails even after a re-clone: {exc}")
        inst.reclones += 1
        seconds = self.timings["reclone"] = time.monotonic() - t0
        self.reclone_seconds.append(seconds)
        self._log(
            f"{inst.spec.id}: re-cloned from {source.spec.id} at {position} in {seconds:.2f} s"
            f" (drop {t_drop - t0:.2f} s, dump {t_dump - t_drop:.2f} s of {len(dump)} bytes,"
            f" import {t_import - t_dump:.2f} s, reset and start {t_started - t_import:.2f} s,"
            f" catch-up {time.monotonic() - t_started:.2f} s)"
        )

    def _tool(self, argv: list[str], stdin: bytes | None, what: str) -> bytes:
        try:
            result = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerError(f"{what} failed: {exc}")
        if result.returncode != 0:
            err = result.stderr.decode("utf-8", "replace").strip()
            raise ServerError(f"{what} failed with exit code {result.returncode}: {err}")
        return result.stdout


def _one(cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
    row: dict[str, Any] | None = cur.fetchone()
    if row is None:
        raise ServerError("query returned no row")
    return row
