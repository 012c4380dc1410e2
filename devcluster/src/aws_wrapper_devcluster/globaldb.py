"""Aurora Global Database emulation: names, regions and the global status rows (pure; no I/O).

A global devcluster (``up --regions us-east-1,us-west-2``) is one devcluster whose instances
are spread over regions. Each region is its own Aurora cluster with its own cluster id in its
host names::

    <cluster_r>.cluster-<id_r>.<region>.rds.amazonaws.com      cluster (writer) endpoint
    <cluster_r>.cluster-ro-<id_r>.<region>.rds.amazonaws.com   reader endpoint
    <instance>.<id_r>.<region>.rds.amazonaws.com               instance endpoints

and the whole database has one global writer endpoint
``<name>.global-<gid>.global.rds.amazonaws.com`` that follows the writer across regions.
The first region of ``--regions`` is the *home* region: its cluster is named like the devcluster
(so ``cluster_host`` / ``reader_host`` keep their single-region meaning), the others are named
``<name>-<region>``. Every instance of every region replicates from the one global writer.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import WRITER_SESSION_ID

__all__ = [
    "DEFAULT_DNS_LAG_S",
    "GlobalRow",
    "check_regions",
    "global_host",
    "global_id",
    "host_patterns",
    "instance_status_rows",
    "region_rds_id",
    "region_status_rows",
]

DEFAULT_DNS_LAG_S = 2.0
"""How long the global writer endpoint keeps answering the old writer after a global
switchover or failover."""

MAX_REGIONS = 5
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d\Z")


def check_regions(regions: Sequence[str]) -> tuple[str, ...]:
    """Validated region names (``us-east-1`` shape, distinct, 2..5 of them)."""
    out = tuple(r.strip() for r in regions if r.strip())
    if len(out) < 2:
        raise ValueError(
            f"regions needs at least two regions (a primary and a secondary), got {list(out)}"
        )
    if len(out) > MAX_REGIONS:
        raise ValueError(f"regions takes at most {MAX_REGIONS} regions, got {len(out)}")
    for region in out:
        if not _REGION.match(region):
            raise ValueError(f"regions: {region!r} is not a region name like us-east-1")
    if len(set(out)) != len(out):
        raise ValueError(f"regions: each region once, got {list(out)}")
    return out


def region_rds_id(name: str, region: str, home_rds_id: str, home_region: str) -> str:
    """The cluster id in the host names of ``region``: the home region keeps the
    single-region id; each other region has its own."""
    if region == home_region:
        return home_rds_id
    return hashlib.sha1(f"{name}:{region}".encode()).hexdigest()[:12]


def global_id(name: str) -> str:
    return hashlib.sha1(f"{name}:global".encode()).hexdigest()[:12]


def global_host(name: str) -> str:
    """The global writer endpoint: ``<name>.global-<id>.global.rds.amazonaws.com``."""
    return f"{name}.global-{global_id(name)}.global.rds.amazonaws.com"


def host_patterns(templates: dict[str, str]) -> str:
    """``global_cluster_instance_host_patterns``: ``region:?.<id>.<region>...,...``."""
    return ",".join(f"{region}:{template}" for region, template in templates.items())


@dataclass(frozen=True, slots=True)
class GlobalRow:
    """One instance as the global status shows it."""

    server_id: str
    region: str
    writer: bool
    lag_ms: float | None
    """Visibility lag (None on the global writer)."""


def instance_status_rows(rows: Sequence[GlobalRow]) -> list[dict[str, Any]]:
    """``aurora_global_db_instance_status`` rows (lower-case column names of both engines:
    PostgreSQL takes ``server_id, session_id, aws_region, durable_lsn, highest_lsn_rcvd,
    feedback_epoch, feedback_xmin, oldest_read_view_lsn, visibility_lag_in_msec``, MySQL also
    ``oldest_read_view_trx_id``). LSN columns are None: each instance fills in its own
    position at query time (PostgreSQL); the MySQL relay shows a fixed number."""
    out = []
    for r in rows:
        out.append(
            {
                "server_id": r.server_id,
                "session_id": WRITER_SESSION_ID if r.writer else f"{r.server_id}-session",
                "aws_region": r.region,
                "durable_lsn": None,
                "highest_lsn_rcvd": None,
                "feedback_epoch": 0,
                "feedback_xmin": None,
                "oldest_read_view_lsn": None,
                "oldest_read_view_trx_id": None if r.writer else 1000,
                "visibility_lag_in_msec": None if r.writer else r.lag_ms,
            }
        )
    return out


def region_status_rows(regions: Sequence[str], primary: str, lag_ms: float) -> list[dict[str, Any]]:
    """``aurora_global_db_status``: one row per region, the primary first. The primary's
    lags are -1 and its lag calculation time 1970-01-01 (as Aurora shows them); a
    secondary's lags are ``lag_ms``, its lag calculation time None: the time of the query
    (both engines fill it in)."""
    epoch = datetime.datetime.fromtimestamp(0, datetime.UTC).isoformat()
    out = []
    for region in [primary, *(r for r in regions if r != primary)]:
        is_primary = region == primary
        out.append(
            {
                "aws_region": region,
                "highest_lsn_written": None,
                "durability_lag_in_msec": -1.0 if is_primary else lag_ms,
                "rpo_lag_in_msec": -1.0 if is_primary else lag_ms,
                "last_lag_calculation_time": epoch if is_primary else None,
                "feedback_epoch": 0,
                "feedback_xmin": None,
                "oldest_read_view_trx_id": 1000,
            }
        )
    return out
