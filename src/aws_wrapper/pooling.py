"""Settings of the internal connection pools (shared by both worlds)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Protocol

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
            ("timeout", self.timeout > 0, "must be > 0"),
            ("max_idle", self.max_idle > 0, "must be > 0"),
            ("max_lifetime", self.max_lifetime > 0, "must be > 0"),
        )
        for name, ok, why in checks:
            if not ok:
                got = getattr(self, name)
                raise ConfigurationError(f"pool setting {name!r} {why} (got {got!r})")
