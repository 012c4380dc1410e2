# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/host_list_provider.py
# Change the async source (or the table in tools/unasync_build.py), then `make generate`.
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

    def refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    def force_refresh(self, conn: DriverConnection | None = None) -> Sequence[HostInfo]:
        return self._hosts

    def identify(self, conn: DriverConnection) -> HostInfo | None:
        return self._hosts[0]

    def release_resources(self) -> None:
        return None
