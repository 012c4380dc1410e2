"""Process-wide resources (shared monitors, pools) and how to release them all."""

from __future__ import annotations

import weakref
from typing import Protocol

from aws_wrapper._compat import AIO, amonitor_scope
from aws_wrapper.forking import at_fork_in_child, bury


class Releasable(Protocol):
    async def release_resources(self) -> None: ...


# resource -> the scope it lives in (an event loop in asyncio, the process in sync code)
_resources: weakref.WeakKeyDictionary[Releasable, object] = weakref.WeakKeyDictionary()


@at_fork_in_child
def _forget_resources_after_fork() -> None:
    """A forked child releases none of its parent's resources (that would close the parent's
    connections): it forgets them (see :mod:`aws_wrapper.forking`)."""
    global _resources
    bury(list(_resources.items()))
    _resources = weakref.WeakKeyDictionary()


def register_resource(resource: Releasable) -> None:
    """Track a shared resource of the current scope so :func:`release_resources` stops it."""
    _resources[resource] = amonitor_scope()


async def release_resources() -> None:
    """Stop every shared monitor and close every internal pool of this scope (in async code:
    of the running event loop; blocking: of the process).

    Call it once when the application shuts down (after closing its connections)."""
    scope = amonitor_scope()
    for resource, owner in list(_resources.items()):
        if owner is scope:
            await resource.release_resources()
            _resources.pop(resource, None)
    if AIO:  # the monitors' waits had their deadlines in the alarm thread (_compat.await_event)
        from aws_wrapper._compat import astop_idle_alarms

        await astop_idle_alarms()
