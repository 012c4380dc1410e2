"""Django's MySQL backend of mysql-connector-python (``mysql.connector.django``) on wrapper
connections.

``ENGINE: "aws_wrapper.django.mysql"``. Django's own MySQL backend needs mysqlclient, which
the wrapper does not wrap; mysql-connector-python ships a Django backend of its own, and this
one is that backend with connections opened by ``aws_wrapper.connect(driver=
"mysql-connector")`` (wrapper properties in ``OPTIONS``). Besides:

- the isolation level is set through the wrapper (which replays it after a failover or a
  read/write switch), and ``sql_auto_is_null = 0`` goes in ``init_command`` (run on every
  driver connection) unless ``OPTIONS`` has its own ``init_command``;
- the server version comes from ``VERSION()`` as in Django's own MySQL backend (the driver's
  handshake version is ``5.5.5`` on MariaDB), and MariaDB is recognised as such;
- the pure-Python connection is the default (``use_pure``), as the wrapper's: only that one
  can be aborted from another thread.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import cached_property
from mysql.connector.django import base as mc

from aws_wrapper.sync import AwsWrapperConnection

from .._backend import READ_ONLY_OPTION, AwsBackendMixin, open_connection, wrapper_options
from . import database

SQL_AUTO_IS_NULL_OFF = "SET SESSION sql_auto_is_null = 0"


class DatabaseWrapper(AwsBackendMixin, mc.DatabaseWrapper):
    Database = database

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = self.settings_dict.get("OPTIONS") or {}
        self._use_pure = bool(options.get("use_pure", True))

    def get_connection_params(self) -> dict[str, Any]:
        wrapper_options(self.settings_dict["OPTIONS"])
        params: dict[str, Any] = super().get_connection_params()
        params.pop(READ_ONLY_OPTION, None)
        params.setdefault("init_command", SQL_AUTO_IS_NULL_OFF)
        return params

    def get_new_connection(  # type: ignore[override]  # a wrapper, not a driver, connection
        self, conn_params: dict[str, Any]
    ) -> AwsWrapperConnection:
        params = dict(conn_params)
        params.setdefault("converter_class", mc.DjangoMySQLConverter)
        return open_connection(
            self.alias,
            database.DRIVER,
            params,
            isolation_level=self.isolation_level,
            read_only=wrapper_options(self.settings_dict["OPTIONS"]),
        )

    def init_connection_state(self) -> None:
        # the isolation level was set through the wrapper in get_new_connection
        level, self.isolation_level = self.isolation_level, None
        try:
            super().init_connection_state()
        finally:
            self.isolation_level = level

    def get_database_version(self) -> tuple[int, ...]:
        version: tuple[int, ...] = self.mysql_version
        return version

    @cached_property
    def mysql_server_info(self) -> Any:
        return str(self.mysql_server_data["version"])

    @cached_property
    def mysql_version(self) -> tuple[int, ...]:
        info = str(self.mysql_server_info)
        parts = info.split("-", 1)[0].split(".")
        try:
            return tuple(int(p) for p in parts[:3])
        except ValueError:
            raise ValueError(f"cannot read the server version from {info!r}") from None

    @cached_property
    def mysql_is_mariadb(self) -> bool:
        return "mariadb" in str(self.mysql_server_info).lower()
