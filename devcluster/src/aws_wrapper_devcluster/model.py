"""The devcluster's shared vocabulary: instances, topology rows, faults, and the interface
each database engine's backend implements. Pure data; no I/O.

Layout of a cluster (engine-neutral)::

    client --> 127.0.S.i:PORT  (FaultProxy of instance i: faults; for MySQL also the
                   |            metadata relay that answers the Aurora MySQL surface)
                   v
               127.0.0.1:server_port  (the real PostgreSQL / MariaDB server of instance i)

Every instance has its own loopback address ``127.0.S.i`` and all share one ``PORT``, like
Aurora instances share a port. Host names (cluster, reader and instance endpoints) resolve to
those addresses through the devcluster's hosts file (see :mod:`aws_wrapper_devcluster.names`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

WRITER_SESSION_ID = "MASTER_SESSION_ID"
AURORA_PG_VERSION = "15.4.devcluster"
AURORA_MYSQL_VERSION = "3.05.2"


class Engine(enum.StrEnum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """One instance: its identity, where clients reach it, where its server really is."""

    id: str
    """Instance identifier (``devcluster-1``): Aurora's ``server_id``."""
    index: int
    """1-based position in the cluster."""
    address: str
    """Loopback address clients use (the proxy listens on it): ``127.0.S.index``."""
    port: int
    """The port shared by every instance of the cluster (the proxy's)."""
    server_port: int
    """Port of the real server, on 127.0.0.1 (internal; clients never use it)."""
    base_dir: Path
    """Directory of the instance's server (data and run dirs below it)."""
    region: str = ""
    """The instance's AWS region in a global database (``up --regions``); empty in a
    single-region cluster (whose region is ``us-east-1``)."""


@dataclass(frozen=True, slots=True)
class TopologyRow:
    """One row of ``aurora_replica_status()`` / ``information_schema.replica_host_status``."""

    server_id: str
    session_id: str
    """``MASTER_SESSION_ID`` on the writer's row, a per-instance id on readers' rows."""
    cpu: float = 1.0
    replica_lag_in_msec: float | None = None
    """None on the writer's row."""
    age_s: float = 0.0
    """How old the row is: ``last_update_timestamp = now() - age_s`` at query time."""

    @property
    def is_writer(self) -> bool:
        return self.session_id == WRITER_SESSION_ID

    def to_json(self) -> dict[str, Any]:
        return {
            "server_id": self.server_id,
            "session_id": self.session_id,
            "cpu": self.cpu,
            "replica_lag_in_msec": self.replica_lag_in_msec,
            "age_s": self.age_s,
        }


@dataclass(frozen=True, slots=True)
class InstanceMetadata:
    """What one instance answers to the Aurora metadata queries (its own view)."""

    instance_id: str
    topology: Sequence[TopologyRow]
    engine_version: str = AURORA_PG_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "engine_version": self.engine_version,
            "topology": [r.to_json() for r in self.topology],
            **self.extra,
        }


class FaultKind(enum.StrEnum):
    NONE = "none"
    BLACKHOLE = "blackhole"
    """Packets dropped: new connects hang (not refused), established connections stall."""
    REJECT = "reject"
    """Connects refused, established connections reset."""
    LATENCY = "latency"
    """Every chunk forwarded in either direction is delayed by ``latency_ms``."""


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind = FaultKind.NONE
    latency_ms: int = 0

    def __str__(self) -> str:
        if self.kind is FaultKind.LATENCY:
            return f"latency {self.latency_ms} ms"
        return self.kind.value


HEALTHY = Fault()


class Role(enum.StrEnum):
    WRITER = "writer"
    READER = "reader"


class EngineBackend(Protocol):
    """The database side of a devcluster for one engine. Blocking methods, called from
    worker threads of the devcluster daemon; each raises ``ServerError`` (from
    :mod:`aws_wrapper_devcluster.servers`) with a clear message on failure."""

    engine: Engine

    def create(self, specs: Sequence[InstanceSpec], writer: str) -> None:
        """Initialize and start every instance: ``writer`` accepts writes, every other
        instance replicates from it (streaming replication / GTID replication) and is
        read-only. Metadata functions or tables exist on every instance. Idempotent for an
        already created set (a restart after ``stop_all``)."""
        ...

    def start(self, instance_id: str) -> None: ...

    def stop(self, instance_id: str, *, crash: bool) -> None:
        """Stop the server: cleanly (its replicas receive everything it committed), or
        ``crash``: SIGKILL, no goodbye."""
        ...

    def running(self, instance_id: str) -> bool: ...

    def wait_caught_up(self, instance_id: str, writer: str, timeout: float) -> None:
        """Return when reader ``instance_id`` has applied everything ``writer`` committed."""
        ...

    def promote(self, instance_id: str) -> None:
        """Make a reader the writer; return when it accepts writes from the app user."""
        ...

    def follow(self, instance_id: str, writer: str) -> None:
        """Point a running reader at a (new) writer; it keeps serving reads."""
        ...

    def rejoin(self, instance_id: str, writer: str) -> None:
        """A stopped former writer becomes a reader of ``writer`` and is started (rewinding
        or re-cloning it when its history diverged)."""
        ...

    def server_role(self, instance_id: str) -> Role:
        """What the server itself says (``pg_is_in_recovery()`` / ``@@read_only``)."""
        ...

    def replicating(self, instance_id: str) -> bool:
        """True when a reader's replication is running without error."""
        ...

    def publish_metadata(self, instance_id: str, metadata: InstanceMetadata) -> None:
        """Make the instance answer the metadata queries with ``metadata`` from now on."""
        ...

    def direct_params(self, instance_id: str, *, admin: bool = False) -> dict[str, Any]:
        """Connect parameters for the real server (bypassing the proxy): app or admin user."""
        ...

    def add_replicas(self, specs: Sequence[InstanceSpec], source: str) -> None:
        """Create and start new instances (a blue/green deployment's green side), each a
        read-only replica of the running writer ``source``, cloned from it; metadata stored
        with :meth:`publish_metadata` before the call is in place when they start. Returns
        when every one of them replicates."""
        ...

    def remove(self, instance_ids: Sequence[str]) -> None:
        """Stop instances made by :meth:`add_replicas` and delete everything of theirs."""
        ...

    def publish_blue_green(self, views: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Blue/green status rows (``version, endpoint, port, role, status``) per instance,
        for engines that keep them in a table (MariaDB: ``mysql.rds_topology``, written on
        each instance outside the binary log, so each answers its own view; instances not
        running are skipped). PostgreSQL has them from :meth:`publish_metadata`."""
        ...

    def set_writable(self, instance_id: str, writable: bool) -> None:
        """Make a running writer refuse writes from the app user, or take them again
        (PostgreSQL: ``default_transaction_read_only``; MariaDB: ``read_only``)."""
        ...

    def cut_sessions(self, instance_id: str) -> None:
        """End every client session on the server (not replication, not the harness')."""
        ...

    def position(self, instance_id: str) -> str:
        """Where the instance's data is: WAL LSN (PostgreSQL) or GTID position (MariaDB)."""
        ...

    def detach(self, instance_id: str) -> None:
        """A reader stops replicating (stays read-only, keeps what it applied)."""
        ...

    def statement_log(self, instance_ids: Sequence[str], on: bool) -> dict[str, int]:
        """Log (or stop logging) every statement the servers receive; returns, per instance,
        where its log starts (for :meth:`statements`)."""
        ...

    def statements(self, instance_id: str, offset: int, since: float) -> list[dict[str, Any]]:
        """Statements logged at or after ``since`` (epoch seconds), past log position
        ``offset``: ``{"at", "user", "statement"}``, oldest first."""
        ...

    def set_bg_access(self, instance_ids: Sequence[str], allowed: bool) -> None:
        """Grant or revoke the app user's access to the blue/green metadata (PostgreSQL:
        EXECUTE on ``get_blue_green_fast_switchover_metadata``; MariaDB: SELECT on
        ``mysql.rds_topology``); returns when every running instance listed says so."""
        ...

    def stop_all(self) -> None: ...

    def destroy(self) -> None:
        """Stop everything and remove every directory it created."""
        ...
