"""aws-advanced-python-wrapper's ``plugin`` module: the base class of a plugin written the
peer's way, and its factory protocol. Register such a plugin with
``aws_wrapper.plugin_service.PluginManager.register_plugin(code, factory)``; it then runs in
aws_wrapper's pipeline (see :mod:`aws_wrapper._async.peer_plugin` for what differs). Plugins
written for aws_wrapper subclass :class:`aws_wrapper.BasePlugin` instead."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from aws_wrapper.errors import UnsupportedOperationError
from aws_wrapper.hostinfo import HostInfo, HostRole


class Plugin(ABC):
    """A plugin the peer's way: each hook calls the next step (``connect_func``,
    ``execute_func``) and returns what it returns."""

    @property
    @abstractmethod
    def subscribed_methods(self) -> set[str]:
        """The methods whose hooks run: ``"connect"``, ``"Cursor.execute"``, ..., ``"*"``."""

    def connect(
        self,
        target_driver_func: Callable[..., Any] | None,
        driver_dialect: Any,
        host_info: HostInfo,
        props: dict[str, Any],
        is_initial_connection: bool,
        connect_func: Callable[[], Any],
    ) -> Any:
        return connect_func()

    def force_connect(
        self,
        target_driver_func: Callable[..., Any] | None,
        driver_dialect: Any,
        host_info: HostInfo,
        props: dict[str, Any],
        is_initial_connection: bool,
        force_connect_func: Callable[[], Any],
    ) -> Any:
        return force_connect_func()

    def execute(
        self,
        target: object,
        method_name: str,
        execute_func: Callable[[], Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        return execute_func()

    def notify_host_list_changed(self, changes: dict[str, set[Any]]) -> None:
        return None

    def notify_connection_changed(self, changes: set[Any]) -> Any:
        return None

    def accepts_strategy(self, role: HostRole, strategy: str) -> bool:
        return False

    def get_host_info_by_strategy(
        self, role: HostRole, strategy: str, host_list: list[HostInfo] | None = None
    ) -> HostInfo:
        raise UnsupportedOperationError(
            f"{type(self).__name__} does not implement get_host_info_by_strategy"
        )

    def init_host_provider(
        self, props: dict[str, Any], host_list_provider_service: Any, init_host_provider_func: Any
    ) -> Any:
        return init_host_provider_func()


class PluginFactory(Protocol):
    """Makes a plugin for one connection (the peer's factory shape)."""

    @staticmethod
    def get_instance(plugin_service: Any, props: dict[str, Any]) -> Plugin: ...


@runtime_checkable
class CanReleaseResources(Protocol):
    def release_resources(self) -> Any: ...


__all__ = ["CanReleaseResources", "Plugin", "PluginFactory"]
