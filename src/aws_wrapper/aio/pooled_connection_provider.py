"""aws-advanced-python-wrapper's ``aio.pooled_connection_provider`` module:
:class:`AsyncPooledConnectionProvider` is aws_wrapper's own, which also takes the peer's
arguments (``pool_configurator``, ``pool_mapping``, ``accept_url_func``,
``pool_expiration_check_ns``, ``pool_cleanup_interval_ns``)."""

from __future__ import annotations

from aws_wrapper._async.pooled_connection_provider import AsyncPooledConnectionProvider

__all__ = ["AsyncPooledConnectionProvider"]
