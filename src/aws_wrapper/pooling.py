"""Settings of the internal connection pools (shared by both worlds)."""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_wrapper.errors import ConfigurationError
from aws_wrapper.hostinfo import HostInfo


class _Counting(Protocol):
    def connections_in_use(self, host: HostInfo) -> int: ...


_providers: weakref.WeakSet[_Counting] = weakref.WeakSet()


def track_provider(provider: _Counting) -> None:
    """Count ``provider``'s connections for ``least_connections`` (both worlds' pooled
    providers, however many, feed one count)."""
    from aws_wrapper.host_selectors import set_connection_counter

    _providers.add(provider)
    set_connection_counter(connections_in_use)


def connections_in_use(host: HostInfo) -> int:
    """Pooled connections to ``host`` handed out by every pooled provider of the process."""
    return sum(p.connections_in_use(host) for p in list(_providers))


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How each internal pool (one per host and user) is sized and aged.

    ``max_size`` connections at most per pool; a caller waits up to ``timeout`` seconds for one
    to come free. Idle connections are closed after ``max_idle`` seconds and every connection
    after ``max_lifetime`` seconds. ``min_size`` connections are kept open once the pool has
    grown (PostgreSQL pools also open them in the background when the pool is created).
    """

    min_size: int = 0
    max_size: int = 10
    timeout: float = 30.0
    max_idle: float = 600.0
    max_lifetime: float = 3600.0

    def __post_init__(self) -> None:
        checks = (
            ("min_size", self.min_size >= 0, "must be >= 0"),
            ("max_size", self.max_size >= 1, "must be >= 1"),
            ("max_size", self.max_size >= self.min_size, "must be >= min_size"),
            ("timeout", 0 < self.timeout < math.inf, "must be > 0 and finite"),
            ("max_idle", self.max_idle > 0, "must be > 0"),
            ("max_lifetime", self.max_lifetime > 0, "must be > 0"),
        )
        for name, ok, why in checks:
            if not ok:
                got = getattr(self, name)
                raise ConfigurationError(f"pool setting {name!r} {why} (got {got!r})")


# -- aws-advanced-python-wrapper's pool arguments -------------------------------------------

UNLIMITED_POOL_SIZE = 2**31 - 1
"""``max_size`` for a pool whose peer configuration sets no cap (``max_overflow=-1``)."""

PEER_POOL_DEFAULTS: dict[str, Any] = {"pool_size": 5, "max_overflow": 10, "timeout": 30.0}
"""SQLAlchemy ``QueuePool``'s sizing defaults, which the peer's pooled providers use when no
pool configurator is given: 5 connections plus 10 overflow, a 30 s wait."""

IGNORED_POOL_ARGS = frozenset(
    {"pre_ping", "reset_on_return", "echo", "logging_name", "use_lifo", "events", "dialect"}
)
"""``QueuePool`` arguments a peer pool configurator may return that have no counterpart
here: accepted and ignored (our pools always roll back on return, check connections they
hand out for being closed, and hand out the most recently returned one)."""


def settings_from_pool_args(args: Mapping[str, Any], base: PoolSettings) -> PoolSettings:
    """Pool settings from the arguments a peer pool configurator returns.

    ``pool_size`` (or the async provider's ``max_size``) plus ``max_overflow`` is the cap
    (``max_overflow`` < 0: no cap); ``timeout`` (or ``timeout_seconds``) the wait for a free
    connection; ``recycle`` (> 0) the lifetime of a connection. This module's own names
    (``min_size``, ``max_idle``, ``max_lifetime``) may be given too. The arguments of
    :data:`IGNORED_POOL_ARGS` are ignored; any other raises :class:`ConfigurationError`."""
    known = {"pool_size", "max_size", "max_overflow", "timeout", "timeout_seconds", "recycle"}
    ours = {"min_size", "max_idle", "max_lifetime"}
    for key in args:
        if key not in known and key not in ours and key not in IGNORED_POOL_ARGS:
            raise ConfigurationError(
                f"pool configurator: unknown pool argument {key!r}; expected one of: "
                + ", ".join(sorted(known | ours | IGNORED_POOL_ARGS))
            )

    def number(names: tuple[str, ...], kind: type[int] | type[float], default: Any) -> Any:
        name = next((n for n in names if n in args), None)
        if name is None:
            return default
        value = args[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ConfigurationError(
                f"pool configurator: pool argument {name!r} must be a number, got {value!r}"
            )
        if kind is int and value != int(value):
            raise ConfigurationError(
                f"pool configurator: pool argument {name!r} must be a whole number, got {value!r}"
            )
        return kind(value)

    size = number(("pool_size", "max_size"), int, PEER_POOL_DEFAULTS["pool_size"])
    overflow = number(("max_overflow",), int, PEER_POOL_DEFAULTS["max_overflow"])
    timeout = number(("timeout", "timeout_seconds"), float, base.timeout)
    recycle = number(("recycle",), float, -1.0)
    # QueuePool: pool_size 0 or max_overflow < 0 set no cap
    no_cap = overflow < 0 or size == 0
    return PoolSettings(
        min_size=number(("min_size",), int, base.min_size),
        max_size=UNLIMITED_POOL_SIZE if no_cap else size + overflow,
        timeout=timeout,
        max_idle=number(("max_idle",), float, base.max_idle),
        max_lifetime=number(
            ("max_lifetime",), float, recycle if recycle > 0 else base.max_lifetime
        ),
    )


def peer_base_settings(pool_expiration_check_ns: int) -> PoolSettings:
    """The settings a peer-configured provider starts from: QueuePool's 5 + 10 connections
    and 30 s wait; ``pool_expiration_check_ns`` (when > -1) as the idle time after which a
    connection is closed (the peer disposes of a whole unused pool after it)."""
    base = PoolSettings(max_size=15)
    if pool_expiration_check_ns > 0:
        base = PoolSettings(max_size=15, max_idle=pool_expiration_check_ns / 1e9)
    return base
