"""A tiny plugin written once (the sync twin is generated) and registered once for both
worlds, by import path, in ``tests/plugin_registrations.py``."""

from __future__ import annotations

from typing import Any

from aws_wrapper import aio as aw
from aws_wrapper._async.protocols import Call


class CountingPlugin(aw.BasePlugin):
    """Counts the ``Cursor.execute`` calls of every connection that uses it."""

    subscribed_methods = frozenset({"Cursor.execute"})
    executes = 0

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        CountingPlugin.executes += 1
        return await call()
