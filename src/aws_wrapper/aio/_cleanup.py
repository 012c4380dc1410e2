"""``release_resources_async`` and ``register_shutdown_hook``, as aws-advanced-python-wrapper's
``aio`` package has them, over aws_wrapper's :func:`aws_wrapper.aio.release_resources`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aws_wrapper._async.resources import release_resources
from aws_wrapper.errors import ConfigurationError

_hooks: list[Callable[[], Awaitable[None]]] = []


def register_shutdown_hook(hook: Callable[[], Awaitable[None]]) -> None:
    """Have :func:`release_resources_async` await ``hook()`` (a coroutine function taking no
    argument) before it releases the wrapper's own resources. Each hook runs once: the
    hooks are forgotten when they have run."""
    if not callable(hook):
        raise ConfigurationError(
            f"register_shutdown_hook: the hook must be a coroutine function, got "
            f"{type(hook).__name__}"
        )
    _hooks.append(hook)


async def release_resources_async() -> None:
    """Await the registered shutdown hooks (concurrently; an error of one does not stop the
    others), then stop the shared monitors and close the internal pools of the running event
    loop (:func:`aws_wrapper.aio.release_resources`). Call it once at shutdown, after closing
    the application's connections (and disposing of its SQLAlchemy engines)."""
    hooks = list(_hooks)
    _hooks.clear()
    if hooks:
        await asyncio.gather(*(hook() for hook in hooks), return_exceptions=True)
    await release_resources()
