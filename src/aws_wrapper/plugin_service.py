"""aws-advanced-python-wrapper's ``plugin_service`` module: ``PluginManager.register_plugin``
registers a plugin written the peer's way (see :mod:`aws_wrapper.plugin`) in aws_wrapper's
plugin registry, for blocking and async code; ``PluginService`` is what a plugin is given
(aws_wrapper's plugin service of blocking code; ``PluginServiceImpl`` its implementation)."""

from __future__ import annotations

from typing import Any

from aws_wrapper import plugin_registry
from aws_wrapper._async import peer_plugin as _aio_peer
from aws_wrapper._sync import peer_plugin as _sync_peer
from aws_wrapper._sync.plugin_service import PluginServiceImpl
from aws_wrapper._sync.protocols import PluginService
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.plugin_registry import PluginSpec

RELATIVE_WEIGHT = 9_000
"""The weight a plugin registered with ``weight=-1`` gets (the peer's "after the plugin before
it"): after every built-in plugin (nearest the driver), before the ``dev`` plugin."""


class PluginManager:
    """The peer's plugin manager, for its registration method."""

    @staticmethod
    def register_plugin(plugin_code: str, plugin_factory: Any, weight: int = -1) -> PluginSpec:
        """Make ``plugin_code`` usable in ``plugins=`` (blocking and async code): a connection
        that names it gets ``plugin_factory.get_instance(plugin_service, props)``, run in
        aws_wrapper's pipeline. ``weight`` orders it among the plugins (lower first, when
        ``auto_sort_wrapper_plugin_order`` is on); -1: :data:`RELATIVE_WEIGHT`. Registering a
        code again replaces the plugin, as on the peer."""
        if not callable(getattr(plugin_factory, "get_instance", None)):
            raise ConfigurationError(
                f"register_plugin('{plugin_code}'): the plugin factory must have "
                f"get_instance(plugin_service, props), got {plugin_factory!r}"
            )
        return plugin_registry.register_plugin(
            plugin_code,
            weight=RELATIVE_WEIGHT if weight == -1 else weight,
            doc=(getattr(plugin_factory, "__doc__", None) or "").strip(),
            sync=_sync_peer.peer_factory(plugin_factory),
            aio=_aio_peer.peer_factory(plugin_factory),
            replace=True,
        )


__all__ = ["PluginManager", "PluginService", "PluginServiceImpl"]
