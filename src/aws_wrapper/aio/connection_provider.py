"""aws-advanced-python-wrapper's ``aio.connection_provider`` module, over aws_wrapper's
providers of async code.

``AsyncConnectionProviderManager.set_connection_provider(provider)`` installs a provider for
every wrapper connection opened from then on in async code (as
:func:`aws_wrapper.aio.set_connection_provider`); ``reset_provider()`` removes it and
``await release_resources()`` closes its pools (those of the running event loop). The
blocking counterpart is :mod:`aws_wrapper.connection_provider`.
"""

from __future__ import annotations

from aws_wrapper._async.connection_provider import (
    DriverConnectionProvider as AsyncDriverConnectionProvider,
)
from aws_wrapper._async.protocols import ConnectionProvider as AsyncConnectionProvider
from aws_wrapper._async.provider_manager import AsyncConnectionProviderManager

__all__ = [
    "AsyncConnectionProvider",
    "AsyncConnectionProviderManager",
    "AsyncDriverConnectionProvider",
]
