# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/peer_plugin.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Plugins written for aws-advanced-python-wrapper, run in aws_wrapper's pipeline.

A peer plugin has the peer's hooks: ``connect(target_driver_func, driver_dialect, host_info,
props, is_initial_connection, connect_func)``, ``execute(target, method_name, execute_func,
*args, **kwargs)``, ``subscribed_methods`` (the same method names as ours: ``"connect"``,
``"Cursor.execute"``, ``"*"``, ...) and optionally ``release_resources()``.
:class:`PeerPluginAdapter` gives it aws_wrapper's plugin hooks. In async code a hook may be a
coroutine function (the peer's async plugins): what it returns is awaited.

Differences: ``props`` is a dict of the connection's properties (changing it changes nothing),
``plugin_service`` is aws_wrapper's plugin service, ``driver_dialect`` aws_wrapper's driver
dialect; the peer's ``force_connect``, ``notify_connection_changed``,
``notify_host_list_changed``, ``accepts_strategy`` / ``get_host_info_by_strategy`` and
``init_host_provider`` hooks are not called.
"""

from __future__ import annotations

from typing import Any

from aws_wrapper._peer import props_view
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from .plugin import BasePlugin
from .protocols import Call, ConnectCall, DriverConnection, PluginService


def _settled(value: Any) -> Any:
    """A peer hook's answer (awaited first in async code when it is awaitable)."""
    return value


class PeerPluginAdapter(BasePlugin):
    """Runs ``peer`` (a plugin written for aws-advanced-python-wrapper) as our plugin."""

    def __init__(self, service: PluginService, props: Properties, peer: Any) -> None:
        super().__init__(service, props)
        self.peer = peer
        self.subscribed_methods = frozenset(str(m) for m in peer.subscribed_methods)

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        driver = self.service.driver_dialect
        answer = self.peer.connect(
            getattr(driver, "_connect_func", None),
            driver,
            host,
            props_view(props),
            is_initial,
            call,
        )
        return _settled(answer)

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        return _settled(self.peer.execute(target, method, call, *args))

    def release_resources(self) -> None:
        release = getattr(self.peer, "release_resources", None)
        if release is not None:
            _settled(release())


def peer_factory(plugin_factory: Any) -> Any:
    """Our plugin factory, ``(service, props) -> plugin``, for a peer plugin factory (a class
    or object with ``get_instance(plugin_service, props)``)."""

    def factory(service: PluginService, props: Properties) -> PeerPluginAdapter:
        peer = plugin_factory.get_instance(service, props_view(props))
        return PeerPluginAdapter(service, props, peer)

    return factory
