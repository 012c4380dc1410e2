"""Host selectors: pick a host of a role among candidates. Pure logic, shared by both worlds.

The strategies are those of the AWS Advanced wrappers:

``random``
    Any available host of the role, uniformly.
``round_robin``
    Hosts in order of host name, each picked ``weight`` times in a row, then the next one.
    Weights come from ``round_robin_host_weight_pairs`` (``"instance-1:2,instance-2:1"``, a host
    given by instance id or host name), else ``round_robin_default_weight``. The rotation is kept
    per cluster and per role and carries on when hosts appear or disappear.
``least_connections``
    The host with the fewest open connections, as counted by the callable given to
    :func:`set_connection_counter` (the internal connection pools); ties by host name.
``weighted_random``
    Random, with a probability proportional to the weight from
    ``weighted_random_host_weight_pairs``, else ``weighted_random_default_weight`` (1).
``highest_weight``
    The host with the highest :attr:`HostInfo.weight`; ties by host name.
``fastest_response``
    The host with the lowest response time from the source given to
    :func:`set_response_time_source`; unknown times count as infinite, and when no time is known
    at all the host is picked at random.

Every selector raises ``ValueError`` naming the role when no host of the role is available, and
``PropertyError`` naming the property when a weight property is malformed. Selectors are shared
process-wide (:func:`selector_for` hands out one instance per strategy) and are thread-safe.
"""

from __future__ import annotations

import functools
import math
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import PropertyError
from .forking import at_fork_in_child
from .hostinfo import HostAvailability, HostInfo, HostRole
from .properties import MAX_WEIGHT, Prop, Properties, register

ROUND_ROBIN_HOST_WEIGHT_PAIRS = register(
    Prop(
        "round_robin_host_weight_pairs",
        str,
        "",
        "round_robin host selector: comma-separated '<host>:<weight>' pairs (host = instance id "
        "or host name, weight a positive integer), e.g. 'instance-1:2,instance-2:1'. A host of "
        "weight w is picked w times in a row per cycle.",
    )
)
ROUND_ROBIN_DEFAULT_WEIGHT = register(
    Prop(
        "round_robin_default_weight",
        int,
        1,
        "round_robin host selector: weight of the hosts not listed in "
        "'round_robin_host_weight_pairs'.",
        minimum=1,
        maximum=MAX_WEIGHT,
    )
)
WEIGHTED_RANDOM_HOST_WEIGHT_PAIRS = register(
    Prop(
        "weighted_random_host_weight_pairs",
        str,
        "",
        "weighted_random host selector: comma-separated '<host>:<weight>' pairs (host = instance "
        "id or host name, weight a positive integer); a host is picked with a probability "
        "proportional to its weight (weighted_random_default_weight when not listed).",
    )
)
WEIGHTED_RANDOM_DEFAULT_WEIGHT = register(
    Prop(
        "weighted_random_default_weight",
        int,
        1,
        "weighted_random host selector: weight of the hosts not listed in "
        "'weighted_random_host_weight_pairs'.",
        minimum=1,
        maximum=MAX_WEIGHT,
    )
)

ConnectionCounter = Callable[[HostInfo], int]
"""Open connections to a host (provided by the internal connection pools)."""

ResponseTimeSource = Callable[[HostInfo], float | None]
"""Measured response time of a host (any unit, lower is faster); ``None`` when unknown."""


def candidates(hosts: Sequence[HostInfo], role: HostRole) -> list[HostInfo]:
    """Available hosts with ``role``; raises ValueError naming the role when there are none."""
    found = [h for h in hosts if h.role is role and h.availability is HostAvailability.AVAILABLE]
    if not found:
        raise ValueError(f"no available {role.value} among {len(hosts)} hosts")
    return found


def _place(host: HostInfo) -> tuple[str, int]:
    """Identity and order of a host: host name, then port."""
    return host.host, host.port


# ---------------------------------------------------------------------------------------------
# weight properties
# ---------------------------------------------------------------------------------------------


def parse_host_weight_pairs(value: str, prop_name: str) -> Mapping[str, int]:
    """``"host1:2,host2:1"`` as ``{"host1": 2, "host2": 1}``.

    Blanks around names and numbers and empty items (a trailing comma) are ignored; anything
    else that is not ``<host>:<positive integer>``, or a host listed twice, raises
    ``PropertyError`` naming ``prop_name``.
    """
    return _parse_pairs(value, prop_name)


@functools.lru_cache(maxsize=128)
def _parse_pairs(value: str, prop_name: str) -> Mapping[str, int]:
    weights: dict[str, int] = {}
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, raw_weight = item.partition(":")
        host, raw_weight = host.strip(), raw_weight.strip()
        if not sep or not host or not raw_weight.isdigit() or not raw_weight.isascii():
            raise PropertyError(
                f"property '{prop_name}': {item!r} is not '<host>:<weight>' with a positive "
                f"integer weight (expected e.g. 'instance-1:2,instance-2:1')",
                prop_name,
            )
        weight = int(raw_weight)
        if weight < 1:
            raise PropertyError(
                f"property '{prop_name}': weight of {host!r} must be a positive integer, "
                f"got {weight}",
                prop_name,
            )
        if host in weights:
            raise PropertyError(f"property '{prop_name}': {host!r} is listed twice", prop_name)
        weights[host] = weight
    return MappingProxyType(weights)


def _weight_of(host: HostInfo, weights: Mapping[str, int], default: int) -> int:
    """The weight given for the host's instance id, else for its host name, else ``default``."""
    if host.host_id is not None and host.host_id in weights:
        return weights[host.host_id]
    return weights.get(host.host, default)


def _round_robin_weights(props: Properties) -> tuple[Mapping[str, int], int]:
    pairs = parse_host_weight_pairs(
        props.get(ROUND_ROBIN_HOST_WEIGHT_PAIRS), ROUND_ROBIN_HOST_WEIGHT_PAIRS.name
    )
    default = props.get(ROUND_ROBIN_DEFAULT_WEIGHT)
    if isinstance(default, bool) or not isinstance(default, int) or default < 1:
        name = ROUND_ROBIN_DEFAULT_WEIGHT.name
        raise PropertyError(f"property '{name}' must be a positive integer, got {default!r}", name)
    return pairs, default


# ---------------------------------------------------------------------------------------------
# selectors
# ---------------------------------------------------------------------------------------------


class BaseHostSelector(ABC):
    """A host selection strategy: picks a host of a role among candidates (random,
    round_robin, ...)."""

    strategy: str = ""

    @abstractmethod
    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        """One of ``hosts`` with ``role`` that is available; raises ``ValueError`` if none."""


class RandomHostSelector(BaseHostSelector):
    """Any available host of the role, uniformly."""

    strategy = "random"

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        found = candidates(hosts, role)
        with self._lock:
            return self._rng.choice(found)


@dataclass(slots=True)
class _Rotation:
    """Where the rotation of one role stands: the last host picked, and how many more times."""

    last: tuple[str, int] | None = None
    remaining: int = 0


@dataclass(slots=True)
class _Cluster:
    used: float
    rotations: dict[HostRole, _Rotation] = field(default_factory=dict)


class RoundRobinHostSelector(BaseHostSelector):
    """Hosts in order of host name, each picked ``weight`` times in a row per cycle.

    The rotation state is kept per cluster: every host seen maps to the state of its cluster,
    so a host list that shares any host with one seen before continues that cluster's rotation
    (hosts added or removed, a failed host dropped from the list), and one sharing none starts
    its own. Within a cluster each role rotates independently. After the last host picked, the
    next host is the first one whose name sorts after it, wrapping around: a host that
    disappears does not restart the cycle, and one that appears joins it at its place.
    A cluster unused for ``cache_ttl`` seconds is forgotten.
    """

    strategy = "round_robin"

    def __init__(
        self, *, cache_ttl: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = cache_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._clusters: dict[tuple[str, int], _Cluster] = {}
        self._next_purge = clock() + min(cache_ttl, 60.0)

    def clear_cache(self) -> None:
        """Forget every rotation (tests; a fresh start)."""
        with self._lock:
            self._clusters.clear()

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        ordered = sorted(candidates(hosts, role), key=_place)
        pairs, default = _round_robin_weights(props)
        with self._lock:
            rotation = self._cluster(hosts).rotations.setdefault(role, _Rotation())
            if rotation.last is not None:
                current = next((h for h in ordered if _place(h) == rotation.last), None)
                if current is not None:
                    # a lowered weight shortens the current run
                    weight = _weight_of(current, pairs, default)
                    rotation.remaining = min(rotation.remaining, weight - 1)
                    if rotation.remaining > 0:
                        rotation.remaining -= 1
                        return current
                last = rotation.last
                chosen = next((h for h in ordered if _place(h) > last), ordered[0])
            else:
                chosen = ordered[0]
            rotation.last = _place(chosen)
            rotation.remaining = _weight_of(chosen, pairs, default) - 1
            return chosen

    def _cluster(self, hosts: Sequence[HostInfo]) -> _Cluster:
        """The state of the cluster these hosts belong to (lock held)."""
        now = self._clock()
        if now >= self._next_purge:
            self._purge(now)
        places = sorted({_place(h) for h in hosts})
        cluster = None
        for place in places:
            known = self._clusters.get(place)
            if known is not None and now - known.used < self._ttl:
                cluster = known
                break
        if cluster is None:
            cluster = _Cluster(used=now)
        cluster.used = now
        for place in places:
            self._clusters[place] = cluster
        return cluster

    def _purge(self, now: float) -> None:
        self._next_purge = now + min(self._ttl, 60.0)
        stale = [p for p, c in self._clusters.items() if now - c.used >= self._ttl]
        for place in stale:
            del self._clusters[place]


class LeastConnectionsHostSelector(BaseHostSelector):
    """The host with the fewest open connections; ties by host name.

    Counts come from the callable given to :meth:`set_connection_counter` (called outside any
    lock of this selector). Without one every count is zero, so the first host by name wins.
    """

    strategy = "least_connections"

    def __init__(self, counter: ConnectionCounter | None = None) -> None:
        self._lock = threading.Lock()
        self._counter = counter

    def set_connection_counter(self, counter: ConnectionCounter | None) -> None:
        """Where open connection counts come from; ``None``: every count is zero."""
        with self._lock:
            self._counter = counter

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        found = candidates(hosts, role)
        with self._lock:
            counter = self._counter
        if counter is None:
            return min(found, key=_place)
        counts = [(counter(h), _place(h), i) for i, h in enumerate(found)]
        return found[min(counts)[2]]


class WeightedRandomHostSelector(BaseHostSelector):
    """Random, with a probability proportional to the weight in
    ``weighted_random_host_weight_pairs`` (``weighted_random_default_weight`` for a host not
    listed)."""

    strategy = "weighted_random"

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        found = candidates(hosts, role)
        name = WEIGHTED_RANDOM_HOST_WEIGHT_PAIRS.name
        pairs = parse_host_weight_pairs(props.get(WEIGHTED_RANDOM_HOST_WEIGHT_PAIRS), name)
        default = props.get(WEIGHTED_RANDOM_DEFAULT_WEIGHT)
        weights = [_weight_of(h, pairs, default) for h in found]
        with self._lock:
            return self._rng.choices(found, weights=weights)[0]


class HighestWeightHostSelector(BaseHostSelector):
    """The host with the highest ``HostInfo.weight``; ties by host name."""

    strategy = "highest_weight"

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        return min(candidates(hosts, role), key=lambda h: (-h.weight, *_place(h)))


class FastestResponseHostSelector(BaseHostSelector):
    """The host with the lowest measured response time; ties by host name.

    Times come from the callable given to :meth:`set_response_time_source` (called outside any
    lock of this selector). ``None`` or NaN means unknown, which counts as infinitely slow; when
    no host's time is known (or there is no source) the host is picked at random.
    """

    strategy = "fastest_response"

    def __init__(
        self, source: ResponseTimeSource | None = None, rng: random.Random | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._source = source
        self._rng = rng or random.Random()

    def set_response_time_source(self, source: ResponseTimeSource | None) -> None:
        """Where response times come from; ``None``: unknown for every host (random pick)."""
        with self._lock:
            self._source = source

    def select(self, hosts: Sequence[HostInfo], role: HostRole, props: Properties) -> HostInfo:
        found = candidates(hosts, role)
        with self._lock:
            source = self._source
        if source is not None:
            times = [(_known(source(h)), _place(h), i) for i, h in enumerate(found)]
            best = min(times)
            if best[0] != math.inf:
                return found[best[2]]
        with self._lock:
            return self._rng.choice(found)


def _known(value: float | None) -> float:
    if value is None or math.isnan(value):
        return math.inf
    return float(value)


# ---------------------------------------------------------------------------------------------
# the shared selectors
# ---------------------------------------------------------------------------------------------

_LEAST_CONNECTIONS = LeastConnectionsHostSelector()
_FASTEST_RESPONSE = FastestResponseHostSelector()

_SELECTORS: dict[str, BaseHostSelector] = {
    s.strategy: s
    for s in (
        RandomHostSelector(),
        RoundRobinHostSelector(),
        _LEAST_CONNECTIONS,
        WeightedRandomHostSelector(),
        HighestWeightHostSelector(),
        _FASTEST_RESPONSE,
    )
}


@at_fork_in_child
def _selectors_after_fork() -> None:
    """In a forked child: new locks (the parent's may be held by a thread that does not exist
    here), and a new seed for the random ones (or every worker would pick the same hosts)."""
    for selector in _SELECTORS.values():
        state = vars(selector)
        if "_lock" in state:
            state["_lock"] = threading.Lock()
        rng = state.get("_rng")
        if isinstance(rng, random.Random):
            rng.seed()


def strategies() -> list[str]:
    """Names of the host selection strategies, sorted."""
    return sorted(_SELECTORS)


def selector_for(strategy: str) -> BaseHostSelector:
    """The process-wide selector of ``strategy``; ValueError listing the valid ones if unknown."""
    try:
        return _SELECTORS[strategy]
    except KeyError:
        raise ValueError(
            f"unknown host selector strategy {strategy!r}; valid: {', '.join(strategies())}"
        ) from None


def set_connection_counter(counter: ConnectionCounter | None) -> None:
    """Give the shared ``least_connections`` selector its connection counts (``None``: zero)."""
    _LEAST_CONNECTIONS.set_connection_counter(counter)


def set_response_time_source(source: ResponseTimeSource | None) -> None:
    """Give the shared ``fastest_response`` selector its response times (``None``: unknown)."""
    _FASTEST_RESPONSE.set_response_time_source(source)
