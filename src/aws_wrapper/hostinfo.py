"""Hosts: where a connection can go, with the role and availability the wrapper knows of."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class HostRole(enum.Enum):
    WRITER = "writer"
    READER = "reader"
    UNKNOWN = "unknown"


class HostAvailability(enum.Enum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class HostInfo:
    """One database instance (or endpoint) the wrapper may connect to.

    ``host_id`` is the instance identifier when known (Aurora ``server_id``), else ``None``;
    ``region`` its AWS region when a global database's topology names it.
    Two HostInfo with the same host and port are the same place even when their roles differ.
    """

    host: str
    port: int
    role: HostRole = HostRole.UNKNOWN
    availability: HostAvailability = HostAvailability.AVAILABLE
    weight: int = 100
    host_id: str | None = None
    last_update_time: float | None = None
    aliases: frozenset[str] = frozenset()  # (one empty set shared by every HostInfo)
    region: str | None = None
    """The AWS region of the instance when the topology says (Global Database), else None."""

    @property
    def url(self) -> str:
        """``host:port`` as it appears in error messages and logs."""
        return f"{self.host}:{self.port}"

    @property
    def is_writer(self) -> bool:
        return self.role is HostRole.WRITER

    def same_place(self, other: HostInfo) -> bool:
        return self.host == other.host and self.port == other.port

    def with_role(self, role: HostRole) -> HostInfo:
        return replace(self, role=role)

    def with_availability(self, availability: HostAvailability) -> HostInfo:
        return replace(self, availability=availability)

    def __str__(self) -> str:
        ident = f" ({self.host_id})" if self.host_id and self.host_id != self.host else ""
        return f"{self.url}{ident} [{self.role.value}]"


Topology = tuple[HostInfo, ...]
"""A cluster's hosts (aws-advanced-python-wrapper's name)."""
