# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugin.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""A base class for plugins: every hook passes straight through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties

from .protocols import Call, ConnectCall, DriverConnection, PluginService


class BasePlugin:
    """Subclass and override what you need; set ``subscribed_methods`` to the method names
    (``"connect"``, ``"Cursor.execute"``, ...) whose hooks should run."""

    subscribed_methods: frozenset[str] = frozenset()

    def __init__(self, service: PluginService, props: Properties) -> None:
        self.service = service
        self.props = props

    def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        return call()

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        return call()

    def recover(self, in_transaction: bool) -> bool:
        return False

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        return None

    def notify_host_list_changed(self, hosts: Sequence[HostInfo]) -> None:
        return None

    def release_resources(self) -> None:
        return None
