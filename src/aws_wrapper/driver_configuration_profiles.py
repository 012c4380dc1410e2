"""Configuration profiles: a named set of plugins, connection properties, database dialect and
connection provider, chosen with the connection property ``profile_name``::

    from aws_wrapper.driver_configuration_profiles import DriverConfigurationProfiles

    DriverConfigurationProfiles.add_or_replace_profile(
        "orders",
        ["failover_v2", "host_monitoring_v2"],
        properties={"failure_detection_time_ms": 10000, "failover_timeout_sec": 60},
        dialect="aurora-pg",
    )
    conn = aws_wrapper.connect("host=... dbname=app user=app", profile_name="orders")

What a profile gives, and what the user gives too:

- **plugins**: replace the ``plugins`` property (a ``plugins`` given as well is ignored, with one
  INFO line, as in aws-advanced-python-wrapper). Each entry is a plugin code (``"failover_v2"``,
  ordered by weight as ``plugins=`` is, unless ``auto_sort_wrapper_plugin_order`` is false), or
  a plugin factory: a callable ``factory(service, props) -> plugin`` or an object with
  ``get_instance(service, props)`` (the peer's form), which must make a plugin of the world the
  profile is used in; factories run inside the coded plugins, in the order given. ``None``
  (the default): the profile leaves plugins to ``plugins`` / the default plugins.
- **properties**: connection properties (wrapper properties and driver parameters) applied
  under the user's: a property the user gives wins.
- **dialect**: the ``wrapper_dialect`` code, unless the user gives one.
- **connection_provider**: the connection provider, unless one is passed to ``connect``
  (``connection_provider=``); it wins over the process-wide one
  (``set_connection_provider``). A provider object serves the world it was made for; a
  callable ``factory(world) -> provider`` (``world``: ``"aio"`` or ``"sync"``) is called once
  per world.

Preset profiles (aws-advanced-python-wrapper 3.1.0 has **none**; these adapt the intents of the
AWS JDBC wrapper's configuration presets to this library's plugins, under descriptive names
rather than the JDBC letters, whose timeouts are Java-driver specific):

- ``no_plugins``: the driver alone, through the wrapper (JDBC ``A*``).
- ``failover``: ``aurora_connection_tracker,failover_v2,host_monitoring_v2``, normal failure
  detection: 30 s, then a probe every 5 s, 3 failed (JDBC ``B``, ``C0``).
- ``failover_fast_detection``: the same with fast failure detection: 5 s, then a probe every
  1 s, 3 failed (JDBC ``C1``).
- ``failover_pooled``: ``failover`` with internal connection pools (default
  :class:`~aws_wrapper.PoolSettings`; instance endpoints are pooled) (JDBC ``D*``, ``E``).
- ``read_write_splitting_pooled``: ``read_write_splitting`` with ``failover``'s plugins and
  internal connection pools (JDBC ``D0``, ``F*``).

A profile registered under a preset's name replaces the preset; :meth:`clear_profiles` and
:meth:`remove_profile` act on the registered profiles only (the presets stay).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

from aws_wrapper.errors import ConfigurationError, PropertyError
from aws_wrapper.plugin_registry import FAILOVER_CODE, PluginSpec, find_plugin
from aws_wrapper.pooling import PoolSettings
from aws_wrapper.properties import (
    AUTO_SORT_PLUGIN_ORDER,
    ENABLE_FAILOVER,
    PLUGINS,
    WRAPPER_DIALECT,
    Prop,
    Properties,
    register,
)

logger = logging.getLogger("aws_wrapper")

PROFILE_NAME: Prop[str | None] = register(
    Prop(
        "profile_name",
        cast(type[str | None], str),
        None,
        "A configuration profile (aws_wrapper.driver_configuration_profiles): its plugins, "
        "properties, dialect and connection provider; a preset or one registered with "
        "DriverConfigurationProfiles.add_or_replace_profile.",
    )
)

PluginEntry = str | PluginSpec | Callable[[Any, Any], Any] | Any
"""A plugin code, a spec, a factory ``(service, props) -> plugin``, or an object with
``get_instance(service, props)``."""

FACTORY_WEIGHT = 20_000
"""The weight of a profile's factory entries: inside every built-in plugin."""


@dataclass(frozen=True)
class ConfigurationProfile:
    """A named configuration (see the module doc)."""

    name: str
    plugins: tuple[PluginEntry, ...] | None = None
    # not in the repr: properties may hold passwords
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    dialect: str | None = None
    connection_provider: Any = None
    """A connection provider, or ``factory(world) -> provider``."""
    doc: str = ""
    _providers: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def provider_for(self, world: str) -> Any:
        """The connection provider for ``world`` (``"aio"`` or ``"sync"``), or None."""
        given = self.connection_provider
        if given is None or not _is_provider_factory(given):
            return given
        made = self._providers.get(world)
        if made is None:
            with _lock:
                made = self._providers.get(world)
                if made is None:
                    made = self._providers[world] = given(world)
        return made


def _is_provider_factory(obj: Any) -> bool:
    """A provider factory is a callable that is not a provider (providers have ``connect``)."""
    return callable(obj) and not hasattr(obj, "connect")


_lock = threading.RLock()
_PROFILES: dict[str, ConfigurationProfile] = {}
_SPECS: dict[tuple[str, int], PluginSpec] = {}
"""The specs made for a profile's factory entries: (profile, position) -> spec."""


class DriverConfigurationProfiles:
    """The registered configuration profiles (aws-advanced-python-wrapper's class, with
    properties, a dialect and a connection provider besides the plugins)."""

    @classmethod
    def clear_profiles(cls) -> None:
        """Forget every registered profile (the presets stay)."""
        with _lock:
            _PROFILES.clear()
            _SPECS.clear()

    @classmethod
    def add_or_replace_profile(
        cls,
        profile_name: str,
        factories: Iterable[PluginEntry] | None = None,
        *,
        properties: Mapping[str, Any] | None = None,
        dialect: str | None = None,
        connection_provider: Any = None,
        doc: str = "",
    ) -> ConfigurationProfile:
        """Register (or replace) the profile ``profile_name``: ``factories`` are its plugins
        (codes or factories; None: not set by the profile). Returns it."""
        if not isinstance(profile_name, str) or not profile_name.strip():
            raise ConfigurationError(f"profile name {profile_name!r}: must be a non-empty string")
        plugins = None if factories is None else tuple(_checked(profile_name, factories))
        if properties is not None and not isinstance(properties, Mapping):
            raise ConfigurationError(
                f"profile '{profile_name}': properties must be a mapping, got "
                f"{type(properties).__name__}"
            )
        for reserved in ("profile_name", "plugins"):
            if properties and reserved in properties:
                raise ConfigurationError(
                    f"profile '{profile_name}': '{reserved}' cannot be one of its properties"
                    + (
                        " (give the plugins as the profile's factories)"
                        if reserved == "plugins"
                        else ""
                    )
                )
        profile = ConfigurationProfile(
            profile_name,
            plugins,
            MappingProxyType(dict(properties or {})),
            dialect,
            connection_provider,
            doc,
        )
        with _lock:
            _PROFILES[profile_name] = profile
            for key in [k for k in _SPECS if k[0] == profile_name]:
                del _SPECS[key]
        return profile

    @classmethod
    def remove_profile(cls, profile_name: str) -> None:
        """Forget the registered profile ``profile_name`` (a preset of that name is used
        again)."""
        with _lock:
            if _PROFILES.pop(profile_name, None) is None:
                raise ConfigurationError(f"no registered configuration profile '{profile_name}'")
            for key in [k for k in _SPECS if k[0] == profile_name]:
                del _SPECS[key]

    @classmethod
    def contains_profile(cls, profile_name: str) -> bool:
        """True for a registered profile or a preset."""
        return profile_name in _PROFILES or profile_name in PRESETS

    @classmethod
    def get_profile(cls, profile_name: str) -> ConfigurationProfile:
        """The profile ``profile_name`` (registered, else preset)."""
        profile = _PROFILES.get(profile_name) or PRESETS.get(profile_name)
        if profile is None:
            known = sorted({*_PROFILES, *PRESETS})
            raise PropertyError(
                f"property 'profile_name': unknown configuration profile {profile_name!r}; "
                f"known: {', '.join(known)}",
                "profile_name",
            )
        return profile

    @classmethod
    def get_plugin_factories(cls, profile_name: str) -> list[PluginEntry]:
        """The plugins of the profile (as given), empty if it sets none."""
        return list(cls.get_profile(profile_name).plugins or ())

    @classmethod
    def profile_names(cls) -> list[str]:
        """Every profile name: the registered ones and the presets."""
        return sorted({*_PROFILES, *PRESETS})


def _checked(name: str, entries: Iterable[PluginEntry]) -> list[PluginEntry]:
    if isinstance(entries, str):
        entries = [c.strip() for c in entries.split(",") if c.strip()]
    out = list(entries)
    for entry in out:
        if isinstance(entry, str | PluginSpec):
            continue
        if not (callable(entry) or callable(getattr(entry, "get_instance", None))):
            raise ConfigurationError(
                f"profile '{name}': a plugin must be a code, a factory (service, props) -> "
                f"plugin, or have get_instance(service, props); got {type(entry).__name__}"
            )
    return out


# -- the seams: properties (aws_wrapper.properties), plugins (aws_wrapper.plugin_registry) and
# the connection provider (the plugin service) ---------------------------------------------------


def with_profile(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """``raw`` (what the user passed) with the properties and dialect of its profile under
    it: the user's values win."""
    name = raw.get("profile_name")
    if name is None:
        return raw
    if not isinstance(name, str):
        raise PropertyError(
            f"property 'profile_name': expected a profile name, got {type(name).__name__}",
            "profile_name",
        )
    profile = DriverConfigurationProfiles.get_profile(name)
    merged = dict(profile.properties)
    if profile.dialect is not None:
        merged[WRAPPER_DIALECT.name] = profile.dialect
    merged.update(raw)
    return merged


def profile_plugin_specs(props: Properties) -> list[PluginSpec] | None:
    """The plugins of the profile ``props`` names, validated and ordered; None when there is
    no profile or it leaves plugins to ``plugins``."""
    name = props.get(PROFILE_NAME)
    if name is None:
        return None
    profile = DriverConfigurationProfiles.get_profile(name)
    if profile.plugins is None:
        return None
    if props.is_set(PLUGINS):
        logger.info(
            "profile '%s' gives the plugins: the 'plugins' property (%r) is ignored",
            name,
            props.get(PLUGINS),
        )
    specs: list[PluginSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(profile.plugins):
        spec = _spec_of(profile, index, entry)
        if spec.code not in seen:
            seen.add(spec.code)
            specs.append(spec)
    if not props.get(ENABLE_FAILOVER):  # the peer's switch applies to a profile's list too
        specs = [s for s in specs if s.code != FAILOVER_CODE]
    if props.get(AUTO_SORT_PLUGIN_ORDER):
        specs.sort(key=lambda s: s.weight)
    return specs


def _spec_of(profile: ConfigurationProfile, index: int, entry: PluginEntry) -> PluginSpec:
    if isinstance(entry, PluginSpec):
        return entry
    if isinstance(entry, str):
        spec = find_plugin(entry.strip())
        if spec is None:
            from aws_wrapper.plugin_registry import _unknown_message

            raise ConfigurationError(
                f"profile '{profile.name}': " + _unknown_message(entry.strip())
            )
        return spec
    key = (profile.name, index)
    spec = _SPECS.get(key)
    if spec is None:
        if getattr(entry, "get_instance", None) is None:
            aio = sync = entry
        else:  # the peer's form: its plugins run through the adapter, as register_plugin's
            from aws_wrapper._async.peer_plugin import peer_factory as aio_peer_factory
            from aws_wrapper._sync.peer_plugin import peer_factory as sync_peer_factory

            aio, sync = aio_peer_factory(entry), sync_peer_factory(entry)
        spec = PluginSpec(
            f"{profile.name}#{index}",
            FACTORY_WEIGHT + index,
            f"plugin {index} of configuration profile '{profile.name}'",
            aio=aio,
            sync=sync,
        )
        with _lock:
            spec = _SPECS.setdefault(key, spec)
    return spec


def profile_connection_provider(props: Properties, world: str) -> Any:
    """The connection provider of the profile ``props`` names for ``world``, or None."""
    name = props.get(PROFILE_NAME)
    if name is None:
        return None
    return DriverConfigurationProfiles.get_profile(name).provider_for(world)


# -- presets -------------------------------------------------------------------------------------

_FAILOVER = ("aurora_connection_tracker", "failover_v2", "host_monitoring_v2")
_FAST_DETECTION = MappingProxyType(
    {
        "failure_detection_time_ms": 5000,
        "failure_detection_interval_ms": 1000,
        "failure_detection_count": 3,
    }
)


def _pooled(world: str) -> Any:
    """An internal pooled connection provider (default pool settings) for ``world``."""
    if world == "aio":
        from aws_wrapper._async.pooled_connection_provider import AsyncPooledConnectionProvider

        return AsyncPooledConnectionProvider(PoolSettings())
    from aws_wrapper._sync.pooled_connection_provider import PooledConnectionProvider

    return PooledConnectionProvider(PoolSettings())


def _preset(name: str, plugins: Sequence[str], doc: str, **kw: Any) -> ConfigurationProfile:
    return ConfigurationProfile(name, tuple(plugins), doc=doc, **kw)


PRESETS: Mapping[str, ConfigurationProfile] = MappingProxyType(
    {
        p.name: p
        for p in (
            _preset("no_plugins", (), "The driver alone, through the wrapper."),
            _preset(
                "failover",
                _FAILOVER,
                "Failover with normal failure detection (30 s, probes every 5 s, 3 failed).",
            ),
            _preset(
                "failover_fast_detection",
                _FAILOVER,
                "Failover with fast failure detection (5 s, probes every 1 s, 3 failed).",
                properties=_FAST_DETECTION,
            ),
            _preset(
                "failover_pooled",
                _FAILOVER,
                "Failover, connections from internal pools.",
                connection_provider=_pooled,
            ),
            _preset(
                "read_write_splitting_pooled",
                ("read_write_splitting", *_FAILOVER),
                "Read/write splitting and failover, connections from internal pools.",
                connection_provider=_pooled,
            ),
        )
    }
)
"""The preset profiles (see the module doc)."""
