"""Host selectors: pick a host of a role among candidates. Pure logic, shared by both worlds."""

from __future__ import annotations

import random
from collections.abc import Sequence

from .hostinfo import HostAvailability, HostInfo, HostRole
from .properties import Properties


def candidates(hosts: Sequence[HostInfo], role: HostRole) -> list[HostInfo]:
    """Available hosts with ``role``; raises ValueError naming the role when there are none."""
    found = [h for h in hosts if h.role is role and h.availability is HostAvailability.AVAILABLE]
    if not found:
        raise ValueError(f"no available {role.value} among {len(hosts)} hosts")
    return found


class RandomHostSelector:
    """Any available host of the role, uniformly."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        return self._rng.choice(candidates(hosts, role))


_SELECTORS: dict[str, type[RandomHostSelector]] = {"random": RandomHostSelector}


def strategies() -> list[str]:
    return sorted(_SELECTORS)


def selector_for(strategy: str) -> RandomHostSelector:
    try:
        return _SELECTORS[strategy]()
    except KeyError:
        raise ValueError(
            f"unknown host selector strategy {strategy!r}; valid: {', '.join(strategies())}"
        ) from None
