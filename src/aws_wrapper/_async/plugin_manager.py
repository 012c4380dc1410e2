"""The plugin pipeline: this world's plugins, and the chains calls go through.

The plugin codes, their order and their classes come from the registry both worlds share
(:mod:`aws_wrapper.plugin_registry`). Each chain of a connection is built once, from the
plugins that subscribe to its method, into one table (``PluginManager._chains``; the
connection binds the chains of its hot paths to attributes, from there). A method no plugin
subscribes to has no chain (``None``): the wrapper then calls the driver directly, so an
unused feature costs one ``is None`` test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from aws_wrapper import plugin_registry
from aws_wrapper._compat import AIO, AResult
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.plugin_registry import FactoryRef, PluginSpec
from aws_wrapper.properties import Prop, Properties

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

Chain = Callable[[object, tuple[Any, ...], Call], AResult[Any]]
"""``chain(target, args, call)``: run the subscribed plugins around ``call``."""

PluginFactory = Callable[[PluginService, Properties], Plugin]


def register_plugin(
    code: str,
    factory: PluginFactory | None = None,
    weight: int | None = None,
    doc: str = "",
    aliases: Iterable[str] = (),
    *,
    aio: FactoryRef | None = None,
    sync: FactoryRef | None = None,
    properties: Iterable[Prop[Any]] = (),
    replace: bool = False,
) -> PluginSpec:
    """Make a plugin available under ``code`` (and ``aliases``) in ``plugins=``, for both
    worlds: ``aio=`` the factory of async code, ``sync=`` that of blocking code, each a
    plugin class (or a callable ``(service, props) -> plugin``) or ``"module:attribute"``
    naming one (imported on first use); see :mod:`aws_wrapper.plugin_registry`. Raises
    :class:`aws_wrapper.errors.DuplicatePluginError` when the code or an alias is taken,
    unless ``replace=True``.

    The older form ``register_plugin(code, factory, weight, doc, aliases)`` registers
    ``factory`` for one world only: that of the package it is called from. Registering the
    other world's factory under the same code, weight and aliases then completes the plugin.
    """
    if factory is not None:
        if AIO:
            if aio is not None:
                raise TypeError("register_plugin: give the factory or aio=, not both")
            aio = factory
        else:
            if sync is not None:
                raise TypeError("register_plugin: give the factory or sync=, not both")
            sync = factory
    if weight is None:
        raise TypeError("register_plugin: missing the plugin's weight")
    return plugin_registry.register_plugin(
        code,
        weight=weight,
        doc=doc,
        aliases=aliases,
        aio=aio,
        sync=sync,
        properties=properties,
        replace=replace,
    )


def build_plugins(
    specs: Sequence[PluginSpec], service: PluginService, props: Properties
) -> list[Plugin]:
    """This world's plugin of each spec (its class imported on first use); every class is
    found before any plugin is built."""
    factories: list[PluginFactory] = [spec.async_factory for spec in specs]
    return [factory(service, props) for factory in factories]


def subscribes(plugin: Plugin, method: str, network: frozenset[str]) -> bool:
    methods = plugin.subscribed_methods
    return (
        method in methods
        or ALL_METHODS in methods
        or (NETWORK_METHODS in methods and method in network)
    )


def _spanned(plugin: Plugin, tel: Any) -> Callable[..., AResult[Any]]:
    """``plugin.execute`` inside a span of its own (``telemetry_plugin_spans``)."""
    execute = plugin.execute
    name = "aws_wrapper.plugin." + type(plugin).__name__
    attributes = {"aws_wrapper.plugin": type(plugin).__name__}

    async def run(method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        with tel.span(name, {**attributes, "aws_wrapper.method": method}):
            return await execute(method, target, args, call)

    return run


def _build_chain(method: str, plugins: Sequence[Plugin], tel: Any = None) -> Chain | None:
    if not plugins:
        return None
    executes = [
        p.execute if tel is None or getattr(p, "is_telemetry", False) else _spanned(p, tel)
        for p in plugins
    ]
    if len(plugins) == 1:
        return partial(executes[0], method)
    first = executes[0]
    rest = tuple(reversed(executes[1:]))

    async def many(target: object, args: tuple[Any, ...], call: Call) -> Any:
        for execute in rest:
            call = partial(execute, method, target, args, call)
        return await first(method, target, args, call)

    return many


INLINE = frozenset(
    {
        "Cursor.execute",
        "Cursor.executemany",
        "Connection.cursor",
        "Connection.commit",
        "Connection.rollback",
    }
)
"""Methods whose hot paths run two kinds of plugin inline instead of as chain links:

- the *stamper* (``stamps_calls = True``: host_monitoring_v2), which only needs to know
  that a call is in flight, and since when: the wrapper writes the start of the call to
  ``stamp.since`` and clears it after (two attribute writes instead of a call); the wrapper
  sets the stamper's ``stamp`` to an object of its own with a ``since`` attribute;
- a *guard* (``guards_calls = True``: failover_v2) that is the method's outermost
  subscriber, whose ``execute`` only acts on a failed call: the wrapper notes whether a
  transaction is open before the call and, only when the call fails, awaits the guard's
  ``call_failed(method, error, in_transaction)``, which raises what should leave instead
  of ``error`` or returns to let ``error`` leave. A successful call does not touch it.
"""


class PluginManager:
    """Holds one connection's plugins and the chains built from them."""

    __slots__ = ("_chains", "_network", "plugin_spans", "plugins", "stamper")

    def __init__(self, plugins: Sequence[Plugin], network_methods: frozenset[str]) -> None:
        self.plugins: tuple[Plugin, ...] = tuple(plugins)
        self._network = network_methods
        # the one cache of chains, filled at each method's first call: plugins settle what
        # they subscribe to during the initial connect (failover only once it knows there is
        # a topology), so no chain is built before that
        self._chains: dict[str, Chain | None] = {}
        self.stamper: Any = next((p for p in plugins if getattr(p, "stamps_calls", False)), None)
        # telemetry_plugin_spans: the Telemetry whose spans wrap each plugin of the chains
        self.plugin_spans: Any = None

    def _all_subscribers(self, method: str) -> list[Plugin]:
        return [p for p in self.plugins if subscribes(p, method, self._network)]

    def stamped(self, method: str) -> bool:
        """Whether the stamper watches ``method`` (run inline for the INLINE methods)."""
        stamper = self.stamper
        return stamper is not None and subscribes(stamper, method, self._network)

    def guard(self, method: str) -> Any:
        """The guard run inline for ``method`` (see INLINE), or None."""
        if method not in INLINE:
            return None
        first = next((p for p in self._all_subscribers(method) if p is not self.stamper), None)
        return first if getattr(first, "guards_calls", False) else None

    def subscribers(self, method: str) -> tuple[Plugin, ...]:
        """The plugins of ``method``'s chain: those subscribed to it, but for the stamper and
        the guard of an INLINE method."""
        plugins = self._all_subscribers(method)
        if method in INLINE:
            guard = self.guard(method)
            plugins = [p for p in plugins if p is not self.stamper and p is not guard]
        return tuple(plugins)

    def chain(self, method: str) -> Chain | None:
        """The chain for ``method`` (``None`` when no plugin wants it); built once. The
        connection binds those of its hot paths to attributes of its own, from here."""
        try:
            return self._chains[method]
        except KeyError:
            chain = self._chains[method] = _build_chain(
                method, self.subscribers(method), self.plugin_spans
            )
            return chain

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        """Run ``call`` through the chain of ``method`` (for calls off the hot path)."""
        chain = self.chain(method)
        if chain is None:
            return await call()
        return await chain(target, args, call)

    async def connect(
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
            return await plugins[0].connect(host, props, is_initial, call)
        return await call()

    def notify_connection_changed(self, old: DriverConnection | None, new: HostInfo) -> None:
        for plugin in self.plugins:
            plugin.notify_connection_changed(old, new)

    def notify_host_list_changed(self, hosts: Sequence[HostInfo]) -> None:
        for plugin in self.plugins:
            plugin.notify_host_list_changed(hosts)

    async def release_resources(self) -> None:
        for plugin in self.plugins:
            await plugin.release_resources()
