"""The host list provider for a single server: the host the application named, nothing more."""

from __future__ import annotations

from collections.abc import Sequence

from aws_wrapper.hostinfo import HostInfo, HostRole

from .protocols import DriverConnection


class StaticHostListProvider:
    """One host, taken as the writer. Used for plain databases and as the starting point."""

    def __init__(self, host: HostInfo) -> None:
        self._hosts = (host.with_role(HostRole.WRITER),)
        self.cluster_id = host.url

    async def refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    async def force_refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    async def identify(self, conn: DriverConnection) -> HostInfo | None:
        return self._hosts[0]

    async def release_resources(self) -> None:
        return None
