"""One registry of plugin codes for both worlds (``aws_wrapper`` and ``aws_wrapper.aio``).

A plugin is registered once: its code (and aliases), its ordering weight, its documentation,
the connection properties it declares, and the class (or factory) of each world::

    register_plugin(
        "count_queries",
        aio="my_pkg.aio_plugins:CountQueries",      # aws_wrapper.aio
        sync="my_pkg.plugins:CountQueries",         # aws_wrapper
        weight=50,
        doc="Counts queries.",
    )

A world's factory is a callable ``factory(service, props) -> plugin`` (a plugin class is
one) or ``"module:attribute"`` naming one, imported the first time a connection of that world
uses the plugin: an unused plugin costs nothing, not even the import of its dependencies. The
built-in plugins are registered this way by the modules of :mod:`aws_wrapper.plugins`, which
also declare their properties. A plugin registered for one world only fails, when the other
world asks for it, with an error naming the code and the missing world.

Registering a code or an alias that is taken raises :class:`DuplicatePluginError`, unless
``replace=True`` (which replaces the plugin of the same code and takes its aliases over) or
the registration only adds the world the existing one lacks (same weight and aliases): that
is how the older one-world form, ``aws_wrapper.register_plugin(code, factory, weight, doc)``
and ``aws_wrapper.aio.register_plugin(...)``, still fills both worlds. An identical
registration (a module imported twice) does nothing.

Third-party plugins can also be found through the ``aws_wrapper.plugins`` entry-point group:
each entry point loads a :class:`PluginSpec` or a callable taking no argument that registers.
They are loaded once, the first time a code (or a property) is not found, or the codes are
listed.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .errors import ConfigurationError, DuplicatePluginError, UnknownPluginError
from .properties import AUTO_SORT_PLUGIN_ORDER, ENABLE_FAILOVER, PLUGINS, Prop, Properties
from .properties import register as register_property

logger = logging.getLogger("aws_wrapper")

ENTRY_POINT_GROUP = "aws_wrapper.plugins"
"""The entry-point group third-party plugins are registered under."""

Factory = Callable[[Any, Any], Any]
"""``factory(service, props) -> plugin`` of one world: a plugin class, or a function."""

FactoryRef = Factory | str
"""A factory, or ``"module:attribute"`` naming one (imported on first use)."""

WORLDS = {"aio": "async code (aws_wrapper.aio)", "sync": "blocking code (aws_wrapper)"}
"""The keyword that names each world's factory, and how messages name the world."""


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """A registered plugin: code, aliases, weight (lower runs first, outermost), documentation,
    the properties it declares, and each world's factory."""

    code: str
    weight: int
    doc: str = ""
    aliases: tuple[str, ...] = ()
    aio: FactoryRef | None = None
    sync: FactoryRef | None = None
    properties: tuple[Prop[Any], ...] = ()

    @property
    def async_factory(self) -> Factory:
        """The factory of async code (imported now if it was named by path)."""
        return _resolve(self, "aio")

    @property
    def sync_factory(self) -> Factory:
        """The factory of blocking code (imported now if it was named by path)."""
        return _resolve(self, "sync")

    @property
    def names(self) -> tuple[str, ...]:
        """The code and the aliases."""
        return (self.code, *self.aliases)


_SPECS: dict[str, PluginSpec] = {}
_ALIASES: dict[str, str] = {}
"""alias -> code"""
_lock = threading.RLock()


def register_plugin(
    code: str,
    *,
    weight: int,
    doc: str = "",
    aliases: Iterable[str] = (),
    aio: FactoryRef | None = None,
    sync: FactoryRef | None = None,
    properties: Iterable[Prop[Any]] = (),
    replace: bool = False,
) -> PluginSpec:
    """Make a plugin available under ``code`` (and ``aliases``) in ``plugins=``, in the worlds
    it has a factory for: ``aio`` (async code) and ``sync`` (blocking code), each a callable
    ``(service, props) -> plugin`` or ``"module:attribute"``. ``properties`` are declared
    with it (see :func:`aws_wrapper.properties.register`). Raises
    :class:`DuplicatePluginError` when the code or an alias is taken (see the module doc),
    unless ``replace=True``. Returns the registered spec."""
    spec = PluginSpec(code, weight, doc, tuple(aliases), aio, sync, tuple(properties))
    return register_spec(spec, replace=replace)


def register_spec(spec: PluginSpec, *, replace: bool = False) -> PluginSpec:
    """Register ``spec`` (see :func:`register_plugin`); returns the spec now registered."""
    _check(spec)
    with _lock:
        existing = _SPECS.get(spec.code)
        if existing is not None and not replace:
            spec = _completed(existing, spec)
            if spec == existing:
                return existing
        for name in spec.names:
            _check_name_free(name, spec.code, replace)
        for prop in spec.properties:
            register_property(prop)
        if existing is not None:
            for alias in existing.aliases:
                _ALIASES.pop(alias, None)
        for alias in spec.aliases:
            previous = _ALIASES.get(alias)
            if previous is not None and previous != spec.code:  # replace=True takes it over
                old = _SPECS[previous]
                kept = tuple(a for a in old.aliases if a != alias)
                _SPECS[previous] = dataclasses.replace(old, aliases=kept)
            _ALIASES[alias] = spec.code
        _SPECS[spec.code] = spec
    return spec


def _check(spec: PluginSpec) -> None:
    for name in spec.names:
        if not name or name != name.strip() or "," in name:
            raise ConfigurationError(
                f"plugin code or alias {name!r}: must be non-empty, without commas or "
                "surrounding spaces"
            )
    if len(set(spec.names)) != len(spec.names):
        raise ConfigurationError(f"plugin '{spec.code}': an alias repeats a name")
    if spec.aio is None and spec.sync is None:
        raise ConfigurationError(
            f"plugin '{spec.code}': give a factory for at least one world (aio=..., sync=...)"
        )
    for world in WORLDS:
        ref = getattr(spec, world)
        if isinstance(ref, str):
            module, _, attr = ref.partition(":")
            if not module or not attr:
                raise ConfigurationError(
                    f"plugin '{spec.code}': {world}={ref!r} is not 'module:attribute'"
                )
        elif ref is not None and not callable(ref):
            raise ConfigurationError(
                f"plugin '{spec.code}': {world}= must be a callable or 'module:attribute', "
                f"got {type(ref).__name__}"
            )


def _completed(existing: PluginSpec, new: PluginSpec) -> PluginSpec:
    """``existing`` with the world ``new`` adds; raises if ``new`` conflicts with it."""
    same_shape = (
        new.weight == existing.weight
        and new.aliases in ((), existing.aliases)
        and new.doc in ("", existing.doc)
        and new.properties in ((), existing.properties)
    )
    merged = existing
    for world in WORLDS:
        mine, theirs = getattr(existing, world), getattr(new, world)
        if theirs is None or theirs == mine:
            continue
        if mine is not None:
            same_shape = False
            break
        merged = dataclasses.replace(merged, **{world: theirs})
    if not same_shape:
        raise DuplicatePluginError(
            f"plugin code '{existing.code}' is already registered ({_describe(existing)}); "
            "pass replace=True to replace it"
        )
    return merged


def _check_name_free(name: str, code: str, replace: bool) -> None:
    if name != code and name in _SPECS:
        raise DuplicatePluginError(
            f"plugin '{code}': '{name}' is the code of another plugin ({_describe(_SPECS[name])})"
        )
    owner = _ALIASES.get(name)
    if owner is not None and owner != code and not replace:
        raise DuplicatePluginError(
            f"plugin '{code}': '{name}' is already an alias of plugin '{owner}'; pass "
            "replace=True to take it over"
        )


def _describe(spec: PluginSpec) -> str:
    worlds = " and ".join(w for w in WORLDS if getattr(spec, w) is not None)
    aliases = f", aliases {', '.join(spec.aliases)}" if spec.aliases else ""
    return f"weight {spec.weight}, for {worlds}{aliases}"


_loaded: dict[str, Any] = {}


def import_ref(ref: str, what: str, world: str) -> Any:
    """The object ``ref`` (``"module:attribute"``) names, imported on first use and kept;
    ``what`` names the registration for the error (``"plugin 'x'"``)."""
    found = _loaded.get(ref)
    if found is None:
        module, _, attr = ref.partition(":")
        obj: Any = importlib.import_module(module)
        try:
            for part in attr.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(
                f"{what}: {world}={ref!r}: module {module} has no {attr}"
            ) from None
        found = _loaded[ref] = obj
    return found


def one_world_only(what: str, kind: str, world: str) -> ConfigurationError:
    """The error for a registration (``what``) that lacks this world's ``kind``."""
    other = next(w for w in WORLDS if w != world)
    return ConfigurationError(
        f"{what} has no {kind} for {WORLDS[world]}: it was registered for {WORLDS[other]} "
        f"only (register it with {world}=... as well)"
    )


def _resolve(spec: PluginSpec, world: str) -> Factory:
    ref: FactoryRef | None = getattr(spec, world)
    if ref is None:
        raise one_world_only(f"plugin '{spec.code}'", "class", world)
    factory: Factory = (
        ref if not isinstance(ref, str) else import_ref(ref, f"plugin '{spec.code}'", world)
    )
    return factory


def find_plugin(code: str) -> PluginSpec | None:
    """The plugin registered under ``code`` or an alias (loading the entry points once when
    it is not known yet), or None."""
    spec = _SPECS.get(_ALIASES.get(code, code))
    if spec is None and load_entry_points():
        spec = _SPECS.get(_ALIASES.get(code, code))
    return spec


def plugin_codes() -> list[str]:
    """Every valid plugin code, aliases included (entry points loaded)."""
    load_entry_points()
    return sorted([*_SPECS, *_ALIASES])


DEFAULT_PLUGINS: tuple[str, ...] = (
    "aurora_connection_tracker",
    "failover_v2",
    "host_monitoring_v2",
)
"""The plugins used when ``plugins`` is not given: the AWS wrappers' default set."""


FAILOVER_CODE = "failover_v2"
"""The plugin ``enable_failover=False`` takes out of the list (aliases: ``failover``)."""


def parse_plugin_codes(props: Properties) -> list[PluginSpec]:
    """The plugins ``props`` asks for, validated and ordered."""
    if "profile_name" in props.wrapper:  # a configuration profile may give the plugins
        profiled = _profile_plugin_specs(props)
        if profiled is not None:
            return _failover_enabled(profiled, props)
    raw = props.get(PLUGINS)
    codes = list(DEFAULT_PLUGINS) if raw is None else [c.strip() for c in raw.split(",")]
    specs: list[PluginSpec] = []
    seen: set[str] = set()
    for code in codes:
        if not code:
            continue
        spec = find_plugin(code)
        if spec is None:
            raise UnknownPluginError(_unknown_message(code))
        if spec.code not in seen:  # a code given twice, or with its alias
            seen.add(spec.code)
            specs.append(spec)
    specs = _failover_enabled(specs, props)
    if props.get(AUTO_SORT_PLUGIN_ORDER):
        specs.sort(key=lambda s: s.weight)  # stable: equal weights keep the given order
    return specs


def _failover_enabled(specs: list[PluginSpec], props: Properties) -> list[PluginSpec]:
    """``specs`` without failover when ``enable_failover`` is false (the peer's switch: failover
    off whatever the plugin list, the default one or a profile's, says)."""
    if props.get(ENABLE_FAILOVER):
        return specs
    return [s for s in specs if s.code != FAILOVER_CODE]


def _profile_plugin_specs(props: Properties) -> list[PluginSpec] | None:
    from .driver_configuration_profiles import profile_plugin_specs

    return profile_plugin_specs(props)


def _unknown_message(code: str) -> str:
    codes = plugin_codes()
    close = difflib.get_close_matches(code, codes, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    failed = entry_point_failures()
    broken = f"; entry points that failed to load: {'; '.join(failed)}" if failed else ""
    return (
        f"property 'plugins': unknown plugin code '{code}'{hint}; valid codes: "
        + ", ".join(codes)
        + broken
    )


# -- entry points ---------------------------------------------------------------------------

_entry_points_state = "unloaded"  # then "loading", "loaded"
_entry_point_failures: list[str] = []


def load_entry_points() -> bool:
    """Load the ``aws_wrapper.plugins`` entry points of the installed distributions, once.
    True when this call loaded them (a lookup that failed before is worth retrying). An entry
    point that fails to load is logged (WARNING) and named in unknown-code errors."""
    global _entry_points_state
    if _entry_points_state == "loaded":
        return False
    with _lock:  # other threads wait here until the entry points are loaded
        if _entry_points_state != "unloaded":  # loaded, or an entry point looks a code up
            return False
        _entry_points_state = "loading"
        try:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                _load_entry_point(ep)
        finally:
            _entry_points_state = "loaded"
    return True


def _load_entry_point(ep: EntryPoint) -> None:
    dist = ep.dist.name if ep.dist is not None else "?"
    where = f"entry point {ep.name!r} ({ep.value}) of {dist}"
    try:
        target = ep.load()
        if isinstance(target, PluginSpec):
            register_spec(target)
        elif callable(target):
            target()
        else:
            raise ConfigurationError(
                f"it loads a {type(target).__name__}, not a PluginSpec or a callable"
            )
    except Exception as e:
        _entry_point_failures.append(f"{where}: {e}")
        logger.warning("plugin %s failed to load: %s", where, e)


def entry_point_failures() -> list[str]:
    """The entry points that failed to load, with why (for error messages)."""
    return list(_entry_point_failures)


def _forget_entry_points() -> None:
    """For tests: load the entry points again at the next lookup."""
    global _entry_points_state
    _entry_points_state = "unloaded"
    _entry_point_failures.clear()


def _unregister(code: str) -> None:
    """For tests: forget the plugin of ``code`` and its aliases."""
    with _lock:
        spec = _SPECS.pop(code, None)
        if spec is not None:
            for alias in spec.aliases:
                if _ALIASES.get(alias) == code:
                    del _ALIASES[alias]


# The built-in plugins: their modules register them (and declare their properties); the
# configuration profiles (and their property, profile_name).
from aws_wrapper import driver_configuration_profiles as _profiles  # noqa: E402, F401
from aws_wrapper import plugins as _builtin_plugins  # noqa: E402, F401
