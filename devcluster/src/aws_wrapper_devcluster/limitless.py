"""Aurora PostgreSQL Limitless Database emulation: the DB shard group and its transaction
routers (names, addresses, the router rows; pure, no I/O).

``up --limitless N`` (PostgreSQL only) adds to a devcluster a DB shard group endpoint::

    <name>.shardgrp-<id>.us-east-1.rds.amazonaws.com     resolves round-robin to the routers

and N transaction routers, each with its own endpoint and its own fault proxy::

    <name>-router-<k>.<id>.us-east-1.rds.amazonaws.com   127.0.S.(200 + k):PORT

Every router's proxy forwards to the writer's PostgreSQL server (it follows the writer on a
failover): all routers reach the same data, as Limitless routers reach the same shards. What
is emulated is what a client sees of the routers: their names, their addresses, their load
in ``aurora_limitless_router_endpoints()``, their faults; not the sharding itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_ROUTERS",
    "ROUTER_ADDRESS_OFFSET",
    "Router",
    "check_count",
    "check_load",
    "endpoint_rows",
    "router_id",
    "shard_group_host",
]

ROUTER_ADDRESS_OFFSET = 200
"""Router ``k`` listens on ``127.0.S.(200 + k)`` (instances use ``.1``.., green ``.101``..)."""
MAX_ROUTERS = 50


def check_count(count: int) -> int:
    if not 1 <= count <= 16:
        raise ValueError(f"limitless takes 1 to 16 transaction routers, got {count}")
    return count


def check_load(load: float) -> float:
    value = float(load)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"a router's load is between 0.0 and 1.0, got {load}")
    return value


def shard_group_host(name: str, rds_id: str, region: str) -> str:
    """The DB shard group endpoint: ``<name>.shardgrp-<id>.<region>.rds.amazonaws.com``."""
    return f"{name}.shardgrp-{rds_id}.{region}.rds.amazonaws.com"


def router_id(name: str, k: int) -> str:
    return f"{name}-router-{k}"


@dataclass(slots=True)
class Router:
    """One transaction router: its id (``<name>-router-<k>``), host name, loopback address,
    reported load."""

    id: str
    index: int
    host: str
    address: str
    load: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.index,
            "host": self.host,
            "address": self.address,
            "load": self.load,
        }


def endpoint_rows(routers: Iterable[Router]) -> list[dict[str, Any]]:
    """``aurora_limitless_router_endpoints()`` rows: ``router_endpoint, load``."""
    return [{"router_endpoint": r.host, "load": r.load} for r in routers]
