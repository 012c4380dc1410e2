# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/provider_manager.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``ConnectionProviderManager``: aws-advanced-python-wrapper's connection-provider
manager, over this world's process-wide provider (``set_connection_provider``); the public
modules at the peer's paths re-export it (see docs/migration.md)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_wrapper.hostinfo import HostInfo, HostRole
from aws_wrapper.properties import Properties

from .connection_provider import DIRECT
from .pooled_connection_provider import get_connection_provider, set_connection_provider
from .protocols import ConnectionProvider


class ConnectionProviderManager:
    """Chooses the provider of a connection: the one installed with
    :meth:`set_connection_provider` when it accepts the host, else ``default_provider``."""

    def __init__(self, default_provider: ConnectionProvider = DIRECT) -> None:
        self._default_provider = default_provider

    @property
    def default_provider(self) -> ConnectionProvider:
        return self._default_provider

    @staticmethod
    def set_connection_provider(connection_provider: ConnectionProvider) -> None:
        """Use ``connection_provider`` (e.g. an :class:`PooledConnectionProvider`) for
        the connections of every wrapper connection opened from now on."""
        set_connection_provider(connection_provider)

    @staticmethod
    def reset_provider() -> None:
        """Open plain connections again."""
        set_connection_provider(None)

    @staticmethod
    def release_resources() -> None:
        """Close the installed provider's pools (connections in use close when returned)."""
        provider = get_connection_provider()
        if provider is not None:
            provider.release_resources()

    def get_connection_provider(self, host_info: HostInfo, props: Properties) -> ConnectionProvider:
        provider = get_connection_provider()
        if provider is not None and provider.accepts(host_info, props):
            return provider
        return self._default_provider

    def accepts_strategy(self, role: HostRole, strategy: str) -> bool:
        provider = get_connection_provider()
        if provider is not None and provider.accepts_strategy(role, strategy):
            return True
        return self._default_provider.accepts_strategy(role, strategy)

    def get_host_info_by_strategy(
        self,
        hosts: Sequence[HostInfo],
        role: HostRole,
        strategy: str,
        props: Properties | None = None,
    ) -> HostInfo:
        provider = get_connection_provider()
        if provider is None or not provider.accepts_strategy(role, strategy):
            provider = self._default_provider
        return provider.select_host(hosts, role, strategy, props or Properties({}, {}))
