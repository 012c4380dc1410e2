"""aws-advanced-python-wrapper's ``connection_provider`` module, over aws_wrapper's providers.

``ConnectionProviderManager.set_connection_provider(provider)`` installs a provider for every
wrapper connection opened from then on in blocking code (as
:func:`aws_wrapper.set_connection_provider`); ``reset_provider()`` removes it and
``release_resources()`` closes its pools. The async counterpart is
:mod:`aws_wrapper.aio.connection_provider`.
"""

from __future__ import annotations

from aws_wrapper._sync.connection_provider import DriverConnectionProvider
from aws_wrapper._sync.protocols import ConnectionProvider
from aws_wrapper._sync.provider_manager import ConnectionProviderManager

__all__ = ["ConnectionProvider", "ConnectionProviderManager", "DriverConnectionProvider"]
