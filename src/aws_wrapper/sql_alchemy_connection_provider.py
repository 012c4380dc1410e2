"""aws-advanced-python-wrapper's ``sql_alchemy_connection_provider`` module.

:class:`SqlAlchemyPooledConnectionProvider` takes the peer's arguments and is aws_wrapper's
pooled provider of blocking code (:class:`aws_wrapper.PooledConnectionProvider`): internal
pools per instance and user (psycopg_pool for PostgreSQL, aws_wrapper's pool for MySQL), not
SQLAlchemy ``QueuePool`` objects. Install it with
``ConnectionProviderManager.set_connection_provider(provider)``.

How the peer's arguments map:

- ``pool_configurator(host_info, props) -> dict``: the ``QueuePool`` arguments
  ``pool_size`` + ``max_overflow`` make the cap of the host's pool (``max_overflow=-1``: no
  cap), ``timeout`` the wait for a free connection, ``recycle`` the lifetime of a
  connection; ``pre_ping``, ``reset_on_return``, ``echo``, ``logging_name``, ``use_lifo``,
  ``events`` and ``dialect`` are accepted and ignored; any other raises
  :class:`aws_wrapper.errors.ConfigurationError`. Without a configurator: 5 + 10, 30 s.
- ``pool_mapping(host_info, props) -> str``: the pool key after the host (default: user).
- ``accept_url_func(host_info, props) -> bool``: whether the host is pooled (default:
  instance endpoints; cluster, proxy and custom endpoints get plain connections).
- ``pool_expiration_check_ns``: idle connections are closed after this long (the peer
  disposes of whole pools unused for this long; default 30 minutes there, 10 here).
- ``pool_cleanup_interval_ns``: accepted and ignored.

``props`` given to the callables is a dict of the connection's properties (driver
parameters and wrapper properties).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_wrapper._sync.pooled_connection_provider import PooledConnectionProvider
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.pooling import peer_base_settings


class SqlAlchemyPooledConnectionProvider(PooledConnectionProvider):
    """aws_wrapper's pooled provider with aws-advanced-python-wrapper's arguments (see the
    module doc)."""

    def __init__(
        self,
        pool_configurator: Callable[[HostInfo, dict[str, Any]], Mapping[str, Any]] | None = None,
        pool_mapping: Callable[[HostInfo, dict[str, Any]], str] | None = None,
        accept_url_func: Callable[[HostInfo, dict[str, Any]], bool] | None = None,
        pool_expiration_check_ns: int = -1,
        pool_cleanup_interval_ns: int = -1,
    ) -> None:
        super().__init__(
            peer_base_settings(pool_expiration_check_ns),
            pool_mapping,
            accept_url_func,
            pool_expiration_check_ns,
            pool_cleanup_interval_ns,
            pool_configurator=pool_configurator,
        )


__all__ = ["SqlAlchemyPooledConnectionProvider"]
