"""Turning topology rows (``aurora_replica_status()`` / ``replica_host_status``) into hosts.

Pure logic shared by both worlds: the 300 s rule for stale rows, the newest writer winning
when two rows claim it, and building instance host names from the template.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .errors import PropertyError
from .hostinfo import HostInfo, HostRole
from .rds_utils import GLOBAL_HOST_PATTERNS_PROPERTY

STALE_ROW_S = 300.0
"""Reader rows older than this are ignored (the writer's row never is)."""


@dataclass(frozen=True, slots=True)
class TopologyEntry:
    """One row of a topology query, as the dialect read it."""

    host_id: str
    is_writer: bool
    cpu: float = 0.0
    lag_ms: float = 0.0
    last_update: datetime.datetime | None = None
    endpoint: str | None = None
    """The instance's host name when the database reports it (Multi-AZ DB clusters);
    otherwise it is made from the instance template."""
    port: int | None = None
    region: str | None = None
    """The instance's AWS region (a global database's topology)."""


RegionTemplates = Mapping[str, tuple[str, int]]
"""``{region: (instance host template, port)}`` of a global database
(``global_cluster_instance_host_patterns``)."""


def global_entry_from_row(row: Sequence[object]) -> TopologyEntry:
    """``(server_id, session_id, aws_region)`` of the global instance status -> entry."""
    host_id, session, region = [*row, None, None, None][:3]
    return TopologyEntry(
        host_id=str(host_id),
        is_writer=str(session) == "MASTER_SESSION_ID",
        region=str(region).lower() if region else None,
    )


def entry_from_row(row: Sequence[object]) -> TopologyEntry:
    """``(server_id, is_writer, cpu, lag_ms, last_update_timestamp)`` -> entry."""
    cells = [*row, None, None, None, None][:5]
    host_id, writer, cpu, lag, updated = cells
    return TopologyEntry(
        host_id=str(host_id),
        is_writer=writer if isinstance(writer, bool) else _num(writer) != 0,
        cpu=_num(cpu),
        lag_ms=_num(lag),
        last_update=updated if isinstance(updated, datetime.datetime) else None,
    )


def _num(value: object) -> float:
    if value is None:
        return 0.0
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def instance_host(template: str, host_id: str) -> str:
    return template.replace("?", host_id, 1)


def build_hosts(
    entries: Iterable[TopologyEntry],
    template: str,
    port: int,
    now: datetime.datetime | None = None,
    templates: RegionTemplates | None = None,
) -> list[HostInfo]:
    """Hosts from topology rows: stale reader rows dropped, one writer (the newest row among
    those claiming it; the others count as readers), writer first. Empty when no row
    claims writer: the topology is then unusable (the caller keeps looking).

    ``templates``: a global database's templates per region; a row with a region takes its
    region's template and port (a region without one: :class:`PropertyError` naming
    ``global_cluster_instance_host_patterns``)."""
    now = now or datetime.datetime.now(datetime.UTC)
    fresh: list[TopologyEntry] = []
    for e in entries:
        if e.is_writer or e.last_update is None:
            fresh.append(e)
            continue
        updated = e.last_update
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=datetime.UTC)
        if (now - updated).total_seconds() <= STALE_ROW_S:
            fresh.append(e)
    writers = [e for e in fresh if e.is_writer]
    if not writers:
        return []
    oldest = datetime.datetime.min.replace(tzinfo=datetime.UTC)

    def stamp(e: TopologyEntry) -> datetime.datetime:
        if e.last_update is None:
            return oldest
        return e.last_update if e.last_update.tzinfo else e.last_update.replace(tzinfo=datetime.UTC)

    writer = max(writers, key=stamp)
    hosts = [_host(writer, template, port, HostRole.WRITER, templates)]
    seen = {writer.host_id}
    for e in fresh:
        if e.host_id in seen:
            continue
        seen.add(e.host_id)
        hosts.append(_host(e, template, port, HostRole.READER, templates))
    return hosts


def _host(
    e: TopologyEntry,
    template: str,
    port: int,
    role: HostRole,
    templates: RegionTemplates | None = None,
) -> HostInfo:
    stamp = e.last_update.timestamp() if e.last_update is not None else None
    if templates is not None and e.region is not None:
        found = templates.get(e.region)
        if found is None:
            raise PropertyError(
                f"property '{GLOBAL_HOST_PATTERNS_PROPERTY}' has no pattern for region "
                f"{e.region} (instance {e.host_id}); it has: {', '.join(sorted(templates))}",
                GLOBAL_HOST_PATTERNS_PROPERTY,
            )
        template, port = found
    return HostInfo(
        host=e.endpoint or instance_host(template, e.host_id),
        port=e.port or port,
        role=role,
        host_id=e.host_id,
        weight=max(1, int(e.lag_ms * 100 + e.cpu * 10)),
        last_update_time=stamp,
        region=e.region,
    )


def writer_of(hosts: Sequence[HostInfo]) -> HostInfo | None:
    return next((h for h in hosts if h.role is HostRole.WRITER), None)
