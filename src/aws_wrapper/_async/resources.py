"""Process-wide resources (shared monitors, pools) and how to release them all."""

from __future__ import annotations

import weakref
from typing import Protocol


class Releasable(Protocol):
    async def release_resources(self) -> None: ...


_resources: weakref.WeakSet[Releasable] = weakref.WeakSet()


def register_resource(resource: Releasable) -> None:
    """Track a shared resource so :func:`release_resources` stops it."""
    _resources.add(resource)


async def release_resources() -> None:
    """Stop every shared monitor and close every internal pool of this process.

    Call it once when the application shuts down (after closing its connections)."""
    for resource in list(_resources):
        await resource.release_resources()
        _resources.discard(resource)
