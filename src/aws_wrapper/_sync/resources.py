# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/resources.py
# Change the async source (or the table in tools/unasync_build.py), then `make generate`.
"""Process-wide resources (shared monitors, pools) and how to release them all."""

from __future__ import annotations

import weakref
from typing import Protocol


class Releasable(Protocol):
    def release_resources(self) -> None: ...


_resources: weakref.WeakSet[Releasable] = weakref.WeakSet()


def register_resource(resource: Releasable) -> None:
    """Track a shared resource so :func:`release_resources` stops it."""
    _resources.add(resource)


def release_resources() -> None:
    """Stop every shared monitor and close every internal pool of this process.

    Call it once when the application shuts down (after closing its connections)."""
    for resource in list(_resources):
        resource.release_resources()
        _resources.discard(resource)
