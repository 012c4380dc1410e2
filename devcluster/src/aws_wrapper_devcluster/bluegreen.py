"""Blue/green deployments in the devcluster: names, the deployment record, its status rows.

A deployment is made by :meth:`~aws_wrapper_devcluster.cluster.ClusterRuntime.bg_create`:
a *green* cluster with as many instances as blue has, each a read-only replica of the blue
writer (PostgreSQL: cloned with ``pg_basebackup``, streaming; MariaDB: GTID replication from
the start of its binary log), each behind its own fault proxy on its own
loopback address (``127.0.S.(100 + i)``, on the cluster's shared port). Green names carry
``-green-<6 lowercase alnum>`` on their first label, as on RDS::

    devcluster.cluster-<id>.us-east-1.rds.amazonaws.com                 blue cluster
    devcluster-green-abc123.cluster-<id>.us-east-1.rds.amazonaws.com    green cluster
    devcluster-green-abc123.cluster-ro-<id>.us-east-1.rds.amazonaws.com green reader
    devcluster-1-green-abc123.<id>.us-east-1.rds.amazonaws.com          green instance

They are listed in the cluster's hosts file beside blue's. The status rows (``version,
endpoint, port, role, status``: one per endpoint of both sides) go into every instance's
metadata file (``blue_green`` key), which ``pg_catalog.get_blue_green_fast_switchover_metadata
(text)`` reads: each PostgreSQL instance answers its own view, so blue and green can disagree
during a switchover, as on RDS. MariaDB keeps them in the real table ``mysql.rds_topology``
of each instance.

Switchover (:meth:`~aws_wrapper_devcluster.cluster.ClusterRuntime.bg_switchover`): the
statuses move ``AVAILABLE`` -> ``SWITCHOVER_INITIATED`` -> ``SWITCHOVER_IN_PROGRESS`` (blue
stops taking writes, green catches up and is promoted, the names are swapped) ->
``SWITCHOVER_IN_POST_PROCESSING`` (DNS lags, then follows) -> ``SWITCHOVER_COMPLETED``. After
the renames green's endpoints carry blue's names and blue's carry ``-old1``
(:data:`OLD_SUFFIX`) on their first label. MariaDB keeps the rows in ``mysql.rds_topology``
too, but written on each instance outside the binary log (not replicated), so that every
instance answers its own side's view, as PostgreSQL's metadata files do.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .model import InstanceSpec

VERSION = "1.0"
"""The ``version`` column of every status row."""
ROLE_SOURCE = "BLUE_GREEN_DEPLOYMENT_SOURCE"
ROLE_TARGET = "BLUE_GREEN_DEPLOYMENT_TARGET"
GREEN_ADDRESS_OFFSET = 100
"""Green instance ``i`` listens on ``127.0.S.(GREEN_ADDRESS_OFFSET + i)``."""
SUFFIX_RE = re.compile(r"-green-[a-z0-9]{6}")
OLD_SUFFIX = "-old1"
"""What blue's endpoints get on their first label once the switchover renamed them."""
_ALPHABET = string.ascii_lowercase + string.digits


class BgStatus(enum.StrEnum):
    """The ``status`` column, in the order a switchover moves it."""

    AVAILABLE = "AVAILABLE"
    SWITCHOVER_INITIATED = "SWITCHOVER_INITIATED"
    SWITCHOVER_IN_PROGRESS = "SWITCHOVER_IN_PROGRESS"
    SWITCHOVER_IN_POST_PROCESSING = "SWITCHOVER_IN_POST_PROCESSING"
    SWITCHOVER_COMPLETED = "SWITCHOVER_COMPLETED"


def new_suffix() -> str:
    """A fresh ``-green-xxxxxx`` suffix (6 lowercase letters and digits)."""
    return "-green-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def check_suffix(suffix: str) -> str:
    """``suffix`` as ``-green-xxxxxx``; ``xxxxxx`` and ``green-xxxxxx`` are accepted too
    (a command-line value cannot start with ``-`` unless written ``--suffix=-green-...``)."""
    if re.fullmatch(r"[a-z0-9]{6}", suffix):
        suffix = f"-green-{suffix}"
    elif suffix.startswith("green-"):
        suffix = f"-{suffix}"
    if not SUFFIX_RE.fullmatch(suffix):
        raise ValueError(
            f"a green suffix is -green- and 6 lowercase letters or digits, got {suffix!r}"
        )
    return suffix


def new_deployment_id() -> str:
    """An identifier shaped like RDS's (``bgd-`` and 16 lowercase letters and digits)."""
    return "bgd-" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def cluster_host(cluster: str, rds_id: str, region: str) -> str:
    return f"{cluster}.cluster-{rds_id}.{region}.rds.amazonaws.com"


def reader_host(cluster: str, rds_id: str, region: str) -> str:
    return f"{cluster}.cluster-ro-{rds_id}.{region}.rds.amazonaws.com"


@dataclass(frozen=True, slots=True)
class Side:
    """The names of one side of a deployment."""

    cluster: str
    """Cluster identifier (the first label of its endpoints)."""
    cluster_host: str
    reader_host: str
    writer: str
    instances: tuple[tuple[str, str], ...]
    """``(instance id, instance endpoint)`` of every instance, in cluster order."""

    def endpoints(self) -> list[str]:
        """Cluster, reader, then instance endpoints: one status row each."""
        return [self.cluster_host, self.reader_host, *(host for _, host in self.instances)]

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "cluster_host": self.cluster_host,
            "reader_host": self.reader_host,
            "writer": self.writer,
            "instances": [{"id": i, "host": h} for i, h in self.instances],
        }


@dataclass(slots=True)
class Deployment:
    """A blue/green deployment of a devcluster (inside its daemon)."""

    id: str
    suffix: str
    green_cluster: str
    green_specs: tuple[InstanceSpec, ...]
    source_of: dict[str, str]
    """Green instance id -> the blue instance it mirrors."""
    green_writer: str
    created_at: float
    """``time.time()`` at creation."""
    blue_status: BgStatus = BgStatus.AVAILABLE
    """The status blue's instances publish."""
    green_status: BgStatus = BgStatus.AVAILABLE
    """The status green's instances publish."""
    blue_rows_cleared: bool = False
    """Old blue's table is empty (after a completed switchover, as on RDS)."""
    switched: bool = False
    """The names are swapped: green has blue's names, blue has ``-old1`` ones."""
    dns_switched: bool = False
    """The hosts file answers the swapped names (until then it answers the old addresses)."""
    switchover: Switchover | None = None
    """The last (or running) switchover."""

    @property
    def status(self) -> BgStatus:
        """The deployment's status: the furthest either side has published."""
        order = list(BgStatus)
        return max(self.blue_status, self.green_status, key=order.index)

    def green_spec(self, instance_id: str) -> InstanceSpec | None:
        for spec in self.green_specs:
            if spec.id == instance_id:
                return spec
        return None

    @property
    def green_ids(self) -> list[str]:
        return [s.id for s in self.green_specs]

    @property
    def green_readers(self) -> list[str]:
        return [s.id for s in self.green_specs if s.id != self.green_writer]


def status_rows(blue: Side, green: Side, port: int, status: BgStatus) -> list[dict[str, Any]]:
    """What ``get_blue_green_fast_switchover_metadata`` answers: blue's endpoints (source),
    then green's (target)."""
    rows: list[dict[str, Any]] = []
    for side, role in ((blue, ROLE_SOURCE), (green, ROLE_TARGET)):
        for endpoint in side.endpoints():
            rows.append(
                {
                    "version": VERSION,
                    "endpoint": endpoint,
                    "port": port,
                    "role": role,
                    "status": status.value,
                }
            )
    return rows


@dataclass(frozen=True, slots=True)
class Timings:
    """How long each step of a switchover takes (seconds). The work itself (cutting blue
    off, waiting for green, promoting it) runs inside ``in_progress_s``, which is a minimum."""

    initiated_s: float = 1.5
    """``SWITCHOVER_INITIATED`` before blue stops taking writes (longer than a client's
    1 s polling interval of a created deployment, ``bg_interval_increased_ms``, so that
    it sees the phase)."""
    in_progress_s: float = 1.0
    """``SWITCHOVER_IN_PROGRESS`` at least (blue refuses connections meanwhile)."""
    dns_lag_s: float = 2.5
    """After the renames, the hosts file answers the old addresses this long."""
    post_s: float = 0.5
    """``SWITCHOVER_IN_POST_PROCESSING`` lasts this long after DNS has followed."""

    @classmethod
    def make(cls, *, slow: bool = False, overrides: Mapping[str, float] | None = None) -> Timings:
        """The defaults (a switchover of a few seconds), or ``slow`` ones (each phase tens
        of seconds, to watch it), with ``overrides`` (``dns_lag_s=...``; each 0..600)."""
        base = SLOW_TIMINGS if slow else cls()
        if not overrides:
            return base
        known = {f.name for f in fields(cls)}
        values: dict[str, float] = {}
        for key, value in overrides.items():
            if key not in known:
                raise ValueError(f"unknown switchover timing {key!r}; known: {sorted(known)}")
            number = float(value)
            if not 0.0 <= number <= 600.0:
                raise ValueError(f"switchover timing {key} must be 0..600 s, got {value!r}")
            values[key] = number
        return replace(base, **values)

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SLOW_TIMINGS = Timings(initiated_s=10.0, in_progress_s=15.0, dns_lag_s=20.0, post_s=10.0)


@dataclass(slots=True)
class Switchover:
    """What a switchover did and when (inside the daemon; :meth:`to_json` for clients)."""

    rollback: bool
    timings: Timings
    started_at: float = field(default_factory=time.time)
    events: list[dict[str, Any]] = field(default_factory=list)
    """``{"event", "at" (epoch seconds), "offset_s"}`` in order."""
    statuses: list[str] = field(default_factory=list)
    """Every status published so far, in order."""
    writes_stopped_at: float | None = None
    """Epoch seconds when blue's writer stopped taking writes (connections cut, read-only)."""
    writes_stopped_position: str | None = None
    """Blue writer's WAL LSN (PostgreSQL) or GTID position (MariaDB) at that moment."""
    log_offsets: dict[str, int] = field(default_factory=dict)
    """Where each blue instance's statement log started (engine-specific)."""
    outcome: str | None = None
    """``completed``, ``rolled back``, ``failed`` or ``cancelled`` once finished."""
    error: str | None = None

    def event(self, name: str) -> dict[str, Any]:
        now = time.time()
        item = {"event": name, "at": now, "offset_s": round(now - self.started_at, 3)}
        self.events.append(item)
        return item

    @property
    def running(self) -> bool:
        return self.outcome is None

    def to_json(self) -> dict[str, Any]:
        return {
            "rollback": self.rollback,
            "timings": self.timings.to_json(),
            "started_at": self.started_at,
            "events": list(self.events),
            "statuses": list(self.statuses),
            "writes_stopped_at": self.writes_stopped_at,
            "writes_stopped_position": self.writes_stopped_position,
            "running": self.running,
            "outcome": self.outcome,
            "error": self.error,
        }
