"""One typed registry of every wrapper connection property.

Each property is declared once, with its name, type, default and documentation::

    FAILOVER_TIMEOUT_SEC = register(Prop("failover_timeout_sec", float, 300.0, "..."))

Where: the core properties (the plugin list, the dialects, logging, the shared topology
monitor) are declared at the end of this module; a plugin's properties in the module of
:mod:`aws_wrapper.plugins` that registers the plugin (``aws_wrapper.plugins.failover``, ...),
which both worlds' plugin classes import them from; and the properties of the other shared
modules beside their code (:mod:`aws_wrapper.custom_endpoint`,
:mod:`aws_wrapper.host_selectors`). Every one of them is registered when ``aws_wrapper`` (or
``aws_wrapper.aio``) is imported, before any plugin class loads. A third-party plugin declares
its own with its registration; those of a plugin found through an entry point are known once
the entry points are loaded (at the first name that is not known otherwise).

At connect the wrapper splits what the user passed into wrapper properties (parsed and checked
here, once) and driver properties (passed to the driver untouched). A name that is neither a
wrapper property nor a parameter the driver accepts fails at connect with a message naming it.
Plugins read their typed values with ``props.get(FAILOVER_TIMEOUT_SEC)`` when they are built,
never on the hot path.

Secrets (passwords, tokens, secret values) are masked in every repr and log line.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from .errors import PropertyError

logger = logging.getLogger("aws_wrapper")

T = TypeVar("T")

MASK = "***"

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})

DAY_MS = 86_400_000
"""The upper bound of every duration in milliseconds: a day."""
DAY_S = 86_400
"""The upper bound of every duration in seconds: a day."""
MAX_COUNT = 1000
"""The upper bound of counts (attempts, failed probes)."""
MAX_PORT = 65535
MAX_WEIGHT = 10_000
"""The upper bound of host selector weights."""

_SECRET_WORDS = ("password", "passwd", "secret", "token", "assertion", "credential")


_SECRETS_MANAGER_SETTINGS = frozenset(
    {"secrets_manager_region", "secrets_manager_endpoint", "secrets_manager_expiration"}
)


def is_secret(name: str) -> bool:
    """True for property names whose values must never be shown."""
    low = name.lower()
    if low.startswith("secrets_manager_secret_") and low != "secrets_manager_secret_value":
        return False  # the secret's id and the names of its keys, not secret values
    if low in _SECRETS_MANAGER_SETTINGS:
        return False  # where and how long, not what
    return any(word in low for word in _SECRET_WORDS) or low in ("pwd", "key", "ssl_key")


@dataclass(frozen=True, slots=True)
class Prop(Generic[T]):
    """A wrapper connection property."""

    name: str
    type: type[T]
    default: T
    doc: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False
    notice: str | None = None
    """Set for a property accepted for compatibility only (a name of aws-advanced-python-wrapper
    with no effect here): why, logged once per process at INFO when the property is given."""
    maps_to: str | None = None
    """Another property this one stands for (a peer's name in other units): when given, its
    value, passed through ``convert``, sets that property unless that one is given too."""
    convert: Callable[[Any], Any] | None = None
    value_aliases: tuple[tuple[str, Any], ...] = ()
    """Other spellings of values (``("unknown", None)``), taken before conversion."""

    @property
    def numeric(self) -> bool:
        """True for int and float properties (bool excluded)."""
        return self.type in (int, float)

    def accepted_range(self) -> str:
        """``'1 to 86400000'``: what a numeric property accepts, for messages and docs."""
        low = "-inf" if self.minimum is None else _number(self.minimum)
        high = "inf" if self.maximum is None else _number(self.maximum)
        return f"{low} to {high}"

    def parse(self, raw: object) -> T:
        """Convert ``raw`` (a typed value or a string from a URL/conninfo) to this type."""
        if self.value_aliases and isinstance(raw, str):
            for spelling, meant in self.value_aliases:
                if raw == spelling:
                    return cast(T, meant)
        value = _convert(self, raw)
        if self.choices is not None and value not in self.choices:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is not one of "
                f"{', '.join(self.choices)}",
                self.name,
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._check_range(raw, value)
        return value

    def _check_range(self, raw: object, value: float) -> None:
        """Reject NaN, infinities and values outside [minimum, maximum]: a NaN timeout never
        expires and a huge one overflows the waits it ends up in."""
        if not math.isfinite(value):
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is not a finite number "
                f"(accepted: {self.accepted_range()})",
                self.name,
            )
        if self.minimum is not None and value < self.minimum:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is below the minimum "
                f"{_number(self.minimum)} (accepted: {self.accepted_range()})",
                self.name,
            )
        if self.maximum is not None and value > self.maximum:
            raise PropertyError(
                f"property '{self.name}': {self._show(raw)} is above the maximum "
                f"{_number(self.maximum)} (accepted: {self.accepted_range()})",
                self.name,
            )

    def _show(self, raw: object) -> str:
        return MASK if self.secret or is_secret(self.name) else repr(raw)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _convert(prop: Prop[T], raw: object) -> T:
    kind: type[Any] = prop.type
    accepted = f" from {prop.accepted_range()}" if prop.numeric else ""
    bad = PropertyError(
        f"property '{prop.name}' expects {_kind_name(kind)}{accepted}, got {prop._show(raw)}"
        f" ({type(raw).__name__})",
        prop.name,
    )
    if raw is None:
        if prop.default is None:
            return cast(T, None)
        raise bad
    if kind is bool:
        if isinstance(raw, bool):
            return cast(T, raw)
        if isinstance(raw, str):
            low = raw.strip().lower()
            if low in _TRUE:
                return cast(T, True)
            if low in _FALSE:
                return cast(T, False)
        if isinstance(raw, int) and raw in (0, 1):
            return cast(T, bool(raw))
        raise bad
    if kind is int:
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int):
            return cast(T, raw)
        if isinstance(raw, str):
            try:
                return cast(T, int(raw.strip()))
            except ValueError:
                raise bad from None
        raise bad
    if kind is float:
        if isinstance(raw, bool):
            raise bad
        if isinstance(raw, int | float):
            return cast(T, float(raw))
        if isinstance(raw, str):
            try:
                return cast(T, float(raw.strip()))
            except ValueError:
                raise bad from None
        raise bad
    if kind is str:
        if isinstance(raw, str):
            return cast(T, raw)
        if isinstance(raw, os.PathLike):  # a file name given as a Path
            return cast(T, os.fspath(raw))
        raise bad
    if isinstance(raw, kind):
        return cast(T, raw)
    raise bad


def _kind_name(kind: type[Any]) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        kind, f"a {kind.__name__}"
    )


_REGISTRY: dict[str, Prop[Any]] = {}
_PREFIXES: dict[str, str] = {}


def register(prop: Prop[T]) -> Prop[T]:
    """Declare a wrapper property. Declaring the same name twice is a bug, and so is a
    numeric property without both bounds (every one has an accepted range)."""
    if prop.numeric and (prop.minimum is None or prop.maximum is None):
        raise RuntimeError(f"numeric property {prop.name!r} needs a minimum and a maximum")
    existing = _REGISTRY.get(prop.name)
    if existing is not None and existing != prop:
        raise RuntimeError(f"property {prop.name!r} registered twice")
    _REGISTRY[prop.name] = prop
    return prop


def register_prefix(prefix: str, doc: str) -> str:
    """Declare a family of properties: ``<prefix><driver property>`` (e.g. ``monitoring-``)."""
    _PREFIXES[prefix] = doc
    return prefix


def registry() -> Mapping[str, Prop[Any]]:
    """Every declared wrapper property, by name."""
    return dict(_REGISTRY)


def lookup(name: str) -> Prop[Any] | None:
    return _REGISTRY.get(name)


class Properties:
    """Connection properties after validation: parsed wrapper values and driver pass-through."""

    __slots__ = ("driver", "wrapper")

    def __init__(self, wrapper: dict[str, Any], driver: dict[str, Any]) -> None:
        self.wrapper = wrapper
        self.driver = driver

    def get(self, prop: Prop[T]) -> T:
        value = self.wrapper.get(prop.name, _MISSING)
        if value is _MISSING:
            return prop.default
        return cast(T, value)

    def is_set(self, prop: Prop[Any]) -> bool:
        return prop.name in self.wrapper

    def with_prefix(self, prefix: str) -> dict[str, Any]:
        """Values given as ``<prefix>name`` (prefix stripped), e.g. monitoring connection props."""
        n = len(prefix)
        return {k[n:]: v for k, v in self.wrapper.items() if k.startswith(prefix)}

    def copy(
        self, *, wrapper: Mapping[str, Any] | None = None, driver: Mapping[str, Any] | None = None
    ) -> Properties:
        """A copy with some values replaced (values given here are already validated)."""
        w = dict(self.wrapper)
        d = dict(self.driver)
        if wrapper:
            w.update(wrapper)
        if driver:
            d.update(driver)
        return Properties(w, d)

    def masked(self) -> dict[str, Any]:
        """All values, secrets masked: what may be logged or shown."""
        return {**mask(self.driver), **mask(self.wrapper)}

    def __repr__(self) -> str:
        return f"Properties({self.masked()!r})"


_MISSING: Any = object()


def mask(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with secret values replaced by ``***``."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        prop = _REGISTRY.get(k)
        secret = is_secret(k) or (prop is not None and prop.secret)
        out[k] = MASK if secret and v not in (None, "") else v
    return out


def parse_properties(
    raw: Mapping[str, Any],
    driver_params: frozenset[str] | None,
    driver_name: str,
) -> Properties:
    """Split and validate what the user passed.

    ``driver_params`` is the set of parameter names the driver accepts (None when the driver
    accepts arbitrary names; then unknown names are passed to it and it decides).
    """
    if "profile_name" in raw:  # a configuration profile: its properties under the user's
        from .driver_configuration_profiles import with_profile

        raw = with_profile(raw)
    wrapper: dict[str, Any] = {}
    driver: dict[str, Any] = {}
    mapped: list[Prop[Any]] = []
    for name, value in raw.items():
        prop = _REGISTRY.get(name)
        if prop is not None:
            wrapper[name] = prop.parse(value)
            if prop.notice is not None:
                notice_once(name, f"property '{name}': {prop.notice}")
            if prop.maps_to is not None:
                mapped.append(prop)
            continue
        if _is_prefixed(name):
            wrapper[name] = value
            continue
        if driver_params is None or name in driver_params:
            driver[name] = value
            continue
        if _load_plugin_entry_points():  # a third-party plugin may declare it
            return parse_properties(raw, driver_params, driver_name)
        shown = shown_name(name)
        raise PropertyError(_unknown_message(name, shown, driver_params, driver_name), shown)
    for prop in mapped:
        _apply_mapping(prop, wrapper)
    return Properties(wrapper, driver)


def _apply_mapping(prop: Prop[Any], wrapper: dict[str, Any]) -> None:
    """Set the property ``prop`` stands for from its value (unless given itself)."""
    target = _REGISTRY[cast(str, prop.maps_to)]
    value = wrapper[prop.name]
    if target.name in wrapper or value is None:
        return
    converted = prop.convert(value) if prop.convert is not None else value
    try:
        wrapper[target.name] = target.parse(converted)
    except PropertyError as e:
        raise PropertyError(
            f"property '{prop.name}' (which sets '{target.name}'): {e}", prop.name
        ) from None


_noticed: set[str] = set()
_notice_lock = threading.Lock()


def notice_once(key: str, message: str) -> None:
    """Log ``message`` at INFO the first time ``key`` is noticed in this process."""
    if key in _noticed:
        return
    with _notice_lock:
        if key in _noticed:
            return
        _noticed.add(key)
    logger.info("%s", message)


def _is_prefixed(name: str) -> bool:
    return any(name.startswith(p) for p in _PREFIXES)


def _load_plugin_entry_points() -> bool:
    """Load the third-party plugins (once; see :mod:`aws_wrapper.plugin_registry`): True when
    this call loaded them."""
    from .plugin_registry import load_entry_points

    return load_entry_points()


def shown_name(name: str) -> str:
    """``name`` as an error may show it: an unknown name with a secret word in it may be a
    password run into its key (``passwordS3cr3t=...`` in a conninfo string), so only the
    secret word is shown (``…password…``)."""
    if not is_secret(name):
        return name
    low = name.lower()
    for word in _SECRET_WORDS:
        at = low.find(word)
        if at >= 0:
            end = at + len(word)
            return ("…" if at else "") + name[at:end] + ("…" if end < len(name) else "")
    return "…"


def _unknown_message(name: str, shown: str, driver_params: Iterable[str], driver_name: str) -> str:
    candidates = list(_REGISTRY) + list(driver_params)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"unknown connection property '{shown}': it is neither an aws_wrapper property nor a "
        f"{driver_name} connection parameter{hint}"
    )


def describe() -> str:
    """A plain-text table of every wrapper property (for docs and ``--help`` output)."""
    lines = []
    for name in sorted(_REGISTRY):
        p = _REGISTRY[name]
        lines.append(f"{name} ({_kind_name(p.type)}, default {p.default!r}): {p.doc}")
    for prefix, doc in sorted(_PREFIXES.items()):
        lines.append(f"{prefix}<name>: {doc}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# core properties
# ---------------------------------------------------------------------------------------------

PLUGINS: Prop[str | None] = register(
    Prop(
        "plugins",
        cast(type[str | None], str),
        None,
        "Comma-separated plugin codes, e.g. 'failover_v2,host_monitoring_v2'. Unset: the "
        "default plugins. Empty string: no plugins.",
    )
)
AUTO_SORT_PLUGIN_ORDER = register(
    Prop(
        "auto_sort_wrapper_plugin_order",
        bool,
        True,
        "Order plugins by their built-in weights instead of the order given in 'plugins'.",
    )
)
ENABLE_FAILOVER = register(
    Prop(
        "enable_failover",
        bool,
        True,
        "False: no failover, even where 'plugins' (or the default plugin list) names "
        "failover_v2 / failover (aws-advanced-python-wrapper's switch, honoured).",
    )
)
WRAPPER_DIALECT: Prop[str | None] = register(
    Prop(
        "wrapper_dialect",
        cast(type[str | None], str),
        None,
        "Database dialect code (e.g. 'pg', 'aurora-pg', 'mysql', 'aurora-mysql', 'mariadb'); "
        "unset (or 'unknown', as aws-advanced-python-wrapper spells it): detected.",
        value_aliases=(("unknown", None),),
    )
)
WRAPPER_DRIVER_DIALECT: Prop[str | None] = register(
    Prop(
        "wrapper_driver_dialect",
        cast(type[str | None], str),
        None,
        "Driver dialect ('psycopg', 'pymysql', 'aiomysql', 'mysql-connector'; also the "
        "spellings of aws-advanced-python-wrapper: 'mysql-connector-python', and 'generic' for "
        "unset); unset: chosen from the connect function. Needed for a custom connect function.",
    )
)
LOGGER_LEVEL: Prop[str | None] = register(
    Prop(
        "wrapper_logger_level",
        cast(type[str | None], str),
        None,
        "Level for the 'aws_wrapper' logger (DEBUG, INFO, WARNING, ...); unset: unchanged.",
        choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"),
    )
)

# ---------------------------------------------------------------------------------------------
# cluster topology (the shared topology monitor, for every plugin that needs topology)
# ---------------------------------------------------------------------------------------------

CLUSTER_ID: Prop[str | None] = register(
    Prop(
        "cluster_id",
        cast(type[str | None], str),
        None,
        "Identifies the cluster: connections with the same id share one topology monitor. "
        "Unset: derived from the cluster endpoint (or host:port).",
    )
)
CLUSTER_INSTANCE_HOST_PATTERN: Prop[str | None] = register(
    Prop(
        "cluster_instance_host_pattern",
        cast(type[str | None], str),
        None,
        "Host template of the instances, with '?' for the instance id (e.g. "
        "'?.abc123.us-east-1.rds.amazonaws.com'); needed when connecting by IP or custom DNS.",
    )
)
GLOBAL_CLUSTER_INSTANCE_HOST_PATTERNS: Prop[str | None] = register(
    Prop(
        "global_cluster_instance_host_patterns",
        cast(type[str | None], str),
        None,
        "Aurora Global Database: the instance host template of every region, comma-separated "
        "'<region>:<template>[:<port>]' (e.g. 'us-east-1:?.abc.us-east-1.rds.amazonaws.com,"
        "us-west-2:?.def.us-west-2.rds.amazonaws.com'). With a global database dialect "
        "(global-aurora-pg / global-aurora-mysql) the topology then lists the instances of "
        "every region (needed by gdb_failover and gdb_rw); unset: the cluster connected to "
        "only, as an Aurora cluster. See docs/global-database.md.",
    )
)
TOPOLOGY_REFRESH_MS = register(
    Prop(
        "topology_refresh_ms",
        int,
        30000,
        "How often the topology monitor reads the topology while the writer is known.",
        minimum=1,
        maximum=DAY_MS,
    )
)
HIGH_REFRESH_RATE_MS = register(
    Prop(
        "cluster_topology_high_refresh_rate_ms",
        int,
        50,
        "How often the topology monitor probes every instance while the writer is unknown "
        "(panic mode, e.g. during a failover): one query per instance on connections kept "
        "between rounds (the AWS wrappers' default is 100).",
        minimum=1,
        maximum=DAY_MS,
    )
)
TOPOLOGY_MONITORING_PREFIX = register_prefix(
    "topology-monitoring-",
    "A driver parameter for the topology monitor's connections only (e.g. "
    "topology-monitoring-connect_timeout=3).",
)

# The properties of aws-advanced-python-wrapper that have no property of ours (translated per
# driver, mapped onto ours, or accepted with a notice): known wherever these are.
from . import peer_properties as _peer_properties  # noqa: E402, F401
