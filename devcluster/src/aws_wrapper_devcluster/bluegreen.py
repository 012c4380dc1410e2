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
during a switchover, as on RDS. MariaDB keeps them in the real table ``mysql.rds_topology``,
written on blue's writer and replicated to every other instance of both sides.
"""

from __future__ import annotations

import enum
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from .model import InstanceSpec

VERSION = "1.0"
"""The ``version`` column of every status row."""
ROLE_SOURCE = "BLUE_GREEN_DEPLOYMENT_SOURCE"
ROLE_TARGET = "BLUE_GREEN_DEPLOYMENT_TARGET"
GREEN_ADDRESS_OFFSET = 100
"""Green instance ``i`` listens on ``127.0.S.(GREEN_ADDRESS_OFFSET + i)``."""
SUFFIX_RE = re.compile(r"-green-[a-z0-9]{6}")
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
    status: BgStatus = BgStatus.AVAILABLE

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
