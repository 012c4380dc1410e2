# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugin_manager.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The plugin pipeline: plugin codes, ordering, and the chains calls go through.

A chain is built once per method name, at connect, from the plugins that subscribe to it. A
method no plugin subscribes to has no chain (``None``): the wrapper then calls the driver
directly, so an unused feature costs one ``is None`` test.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_wrapper._compat import Result
from aws_wrapper.errors import UnknownPluginError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import AUTO_SORT_PLUGIN_ORDER, PLUGINS, Properties

from .protocols import (
    ALL_METHODS,
    CONNECT,
    NETWORK_METHODS,
    Call,
    ConnectCall,
    DriverConnection,
    Plugin,
    PluginService,
)

Chain = Callable[[object, tuple[Any, ...], Call], Result[Any]]
"""``chain(target, args, call)``: run the subscribed plugins around ``call``."""

PluginFactory = Callable[[PluginService, Properties], Plugin]


@dataclass(frozen=True, slots=True)
class PluginSpec:
    code: str
    factory: PluginFactory
    weight: int
    doc: str


_SPECS: dict[str, PluginSpec] = {}
_ALIASES: dict[str, str] = {}

DEFAULT_PLUGINS: tuple[str, ...] = (
    "aurora_connection_tracker",
    "failover_v2",
    "host_monitoring_v2",
)
"""The plugins used when ``plugins`` is not given: the AWS wrappers' default set."""


def register_plugin(
    code: str, factory: PluginFactory, weight: int, doc: str, aliases: Sequence[str] = ()
) -> None:
    """Make a plugin available under ``code`` (and its aliases) in ``plugins=``."""
    _SPECS[code] = PluginSpec(code, factory, weight, doc)
    for alias in aliases:
        _ALIASES[alias] = code


def plugin_codes() -> list[str]:
    """Every valid plugin code, aliases included."""
    return sorted([*_SPECS, *_ALIASES])


def parse_plugin_codes(props: Properties) -> list[PluginSpec]:
    """The plugins ``props`` asks for, validated and ordered."""
    raw = props.get(PLUGINS)
    codes = list(DEFAULT_PLUGINS) if raw is None else [c.strip() for c in raw.split(",")]
    specs: list[PluginSpec] = []
    seen: set[str] = set()
    for code in codes:
        if not code:
            continue
        canonical = _ALIASES.get(code, code)
        spec = _SPECS.get(canonical)
        if spec is None:
            close = difflib.get_close_matches(code, plugin_codes(), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UnknownPluginError(
                f"property 'plugins': unknown plugin code '{code}'{hint}; valid codes: "
                + ", ".join(plugin_codes())
            )
        if canonical in seen:
            continue
        seen.add(canonical)
        specs.append(spec)
    if props.get(AUTO_SORT_PLUGIN_ORDER):
        specs.sort(key=lambda s: s.weight)  # stable: equal weights keep the given order
    return specs


def subscribes(plugin: Plugin, method: str, network: frozenset[str]) -> bool:
    methods = plugin.subscribed_methods
    return (
        method in methods
        or ALL_METHODS in methods
        or (NETWORK_METHODS in methods and method in network)
    )


def _build_chain(method: str, plugins: Sequence[Plugin]) -> Chain | None:
    if not plugins:
        return None
    if len(plugins) == 1:
        return partial(plugins[0].execute, method)
    first = plugins[0].execute
    rest = tuple(p.execute for p in reversed(plugins[1:]))

    def many(target: object, args: tuple[Any, ...], call: Call) -> Any:
        for execute in rest:
            call = partial(execute, method, target, args, call)
        return first(method, target, args, call)

    return many


STAMPED_INLINE = frozenset(
    {"Cursor.execute", "Cursor.executemany", "Connection.commit", "Connection.rollback"}
)
"""Methods whose start and end the wrapper itself writes on the *stamper* plugin (one that
only needs to know that a call is in flight, and since when: host_monitoring_v2), instead of
running it as a chain link: two attribute writes instead of a call."""


class PluginManager:
    """Holds one connection's plugins and the chains built from them."""

    __slots__ = ("_chains", "_network", "plugins", "stamper")

    def __init__(self, plugins: Sequence[Plugin], network_methods: frozenset[str]) -> None:
        self.plugins: tuple[Plugin, ...] = tuple(plugins)
        self._network = network_methods
        self._chains: dict[str, Chain | None] = {}
        self.stamper: Any = next((p for p in plugins if getattr(p, "stamps_calls", False)), None)

    def subscribers(self, method: str) -> tuple[Plugin, ...]:
        inline = self.stamper if method in STAMPED_INLINE else None
        return tuple(
            p for p in self.plugins if p is not inline and subscribes(p, method, self._network)
        )

    def chain(self, method: str) -> Chain | None:
        """The chain for ``method`` (``None`` when no plugin wants it); built once."""
        try:
            return self._chains[method]
        except KeyError:
            chain = self._chains[method] = _build_chain(method, self.subscribers(method))
            return chain

    def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        """Run ``call`` through the chain of ``method`` (for calls off the hot path)."""
        chain = self.chain(method)
        if chain is None:
            return call()
        return chain(target, args, call)

    def connect(
        self,
        host: HostInfo,
        props: Properties,
        is_initial: bool,
        terminal: ConnectCall,
        skip: Plugin | None = None,
    ) -> DriverConnection:
        """Open a connection through every plugin subscribed to ``connect`` (but ``skip``)."""
        plugins = [p for p in self.subscribers(CONNECT) if p is not skip]
        call = terminal
        for plugin in reversed(plugins[1:]):
            call = partial(plugin.connect, host, props, is_initial, call)
        if plugins:
            return plugins[0].connect(host, props, is_initial, call)
        return call()

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        for plugin in self.plugins:
            plugin.notify_connection_changed(old, new)

    def notify_host_list_changed(self, hosts: Sequence[HostInfo]) -> None:
        for plugin in self.plugins:
            plugin.notify_host_list_changed(hosts)

    def release_resources(self) -> None:
        for plugin in self.plugins:
            plugin.release_resources()
