"""Small helpers shared by the async tests and their generated sync twins."""

from __future__ import annotations

import asyncio
import threading


def live_workers(prefix: str = "aws-wrapper") -> list[str]:
    """Names of the wrapper's background workers still alive: tasks of the running event loop
    (asyncio) and threads (blocking code)."""
    names = [t.name for t in threading.enumerate() if t.name.startswith(prefix)]
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no running loop: the blocking world
        tasks = set()
    names += [t.get_name() for t in tasks if t.get_name().startswith(prefix) and not t.done()]
    return names
