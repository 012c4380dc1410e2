"""Response times measured by the ``fastest_response_strategy`` plugin, as the ``fastest_response``
host selector reads them. Shared by both worlds: pure logic and a small thread-safe table.

The plugin's monitors (one per host per event loop in asyncio, per process in blocking code)
measure rounds of :data:`SAMPLES_PER_ROUND` pings on connections of their own, one round per
``response_measurement_interval_ms``, and register themselves here while they run. The
selector's source, :func:`response_time`, asks the monitors of a host for their figure:

- a round's figure is the **median** of its samples (:func:`round_figure`), so one slow ping
  (a spike) does not change it; a round that fails (connection lost, ping error) makes the
  host's figure unknown until a round succeeds again;
- a figure holds until the next round ends: hosts are compared on figures that change once per
  interval, which is the caching of the AWS wrappers (they keep the pick for the interval);
- a ping still unanswered counts for its elapsed time (:func:`current_figure`): a host that
  stops answering becomes the slowest at once, without waiting for a timeout;
- a figure older than two intervals (plus :data:`GRACE_S`) is unknown: a monitor that stopped
  measuring is not believed.

Unknown (``None``) counts as infinitely slow for the selector; with no figure at all it picks
at random. Several monitors of one host (several event loops, or both worlds in one process)
all measure the same thing from the same process: the lowest figure is used.
"""

from __future__ import annotations

import statistics
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Protocol

from .forking import at_fork_in_child
from .host_selectors import set_response_time_source
from .hostinfo import HostInfo

SAMPLES_PER_ROUND = 5
"""Pings per measuring round (the AWS wrappers take 5 too, and average them)."""

GRACE_S = 5.0
"""How much longer than two intervals a figure is believed (a slow round, a busy machine)."""

clock = time.perf_counter
"""The clock of every figure and timestamp here (seconds, monotonic, process-wide)."""


def round_figure(samples: Sequence[float]) -> float | None:
    """The figure of one round: the median of its samples (seconds); None without samples."""
    if not samples:
        return None
    return float(statistics.median(samples))


def current_figure(
    figure: float | None, valid_until: float, sample_started: float | None, now: float
) -> float | None:
    """What a monitor's figure is worth at ``now``: unknown when there is none or it is too
    old; at least as long as the ping in flight since ``sample_started`` has been waiting."""
    if figure is None or now > valid_until:
        return None
    if sample_started is not None and now - sample_started > figure:
        return now - sample_started
    return figure


def valid_until(measured_at: float, interval_s: float) -> float:
    """Until when a figure measured at ``measured_at`` is believed."""
    return measured_at + 2 * interval_s + GRACE_S


class Measurer(Protocol):
    """A monitor that measures one host (``fastest_response_strategy``)."""

    def response_time(self, now: float) -> float | None:
        """The host's figure at ``now`` (seconds), None when unknown."""
        ...


_lock = threading.Lock()
_measurers: dict[str, weakref.WeakSet[Measurer]] = {}


@at_fork_in_child
def _forget_measurers_after_fork() -> None:
    """The parent's monitors measure nothing in a forked child (their threads are gone)."""
    global _lock, _measurers
    _lock = threading.Lock()
    _measurers = {}


def track(url: str, measurer: Measurer) -> None:
    """``measurer`` measures the host at ``url`` (``host:port``) from now on."""
    with _lock:
        _measurers.setdefault(url, weakref.WeakSet()).add(measurer)


def untrack(url: str, measurer: Measurer) -> None:
    """``measurer`` stopped measuring the host at ``url``."""
    with _lock:
        found = _measurers.get(url)
        if found is not None:
            found.discard(measurer)
            if not found:
                del _measurers[url]


def response_time(host: HostInfo) -> float | None:
    """The measured response time of ``host`` in seconds (None: unknown); the source the
    ``fastest_response_strategy`` plugin gives the ``fastest_response`` selector."""
    with _lock:
        found = _measurers.get(host.url)
        measurers = list(found) if found else []
    now = clock()
    best: float | None = None
    for measurer in measurers:
        value = measurer.response_time(now)
        if value is not None and (best is None or value < best):
            best = value
    return best


def install() -> None:
    """Make :func:`response_time` the source of the shared ``fastest_response`` selector."""
    set_response_time_source(response_time)
