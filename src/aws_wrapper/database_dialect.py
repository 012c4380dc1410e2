"""aws-advanced-python-wrapper's ``database_dialect`` module: install a custom database
dialect with ``DatabaseDialectManager.set_custom_dialect(dialect)``; every new connection then
uses it instead of the named or detected one (see :mod:`aws_wrapper.custom_dialects` for
what a custom dialect may be). The dialect classes here are aws_wrapper's (of blocking code)
under the peer's names; subclass one and change its queries (``is_reader_sql``,
``host_id_sql``, ``topology_sql``) to make a custom dialect usable in both worlds."""

from __future__ import annotations

import enum
from typing import Any, Protocol, runtime_checkable

from aws_wrapper import custom_dialects
from aws_wrapper._sync.dialects import (
    AuroraMysqlDialect,
    AuroraPgDialect,
    GlobalAuroraMysqlDialect,
    GlobalAuroraPgDialect,
    MariaDBDialect,
    RdsMysqlDialect,
    RdsPgDialect,
)
from aws_wrapper._sync.dialects import MultiAzMysqlDialect as MultiAzClusterMysqlDialect
from aws_wrapper._sync.dialects import MultiAzPgDialect as MultiAzClusterPgDialect
from aws_wrapper._sync.dialects import MysqlDialect as MysqlDatabaseDialect
from aws_wrapper._sync.dialects import PgDialect as PgDatabaseDialect
from aws_wrapper._sync.protocols import DatabaseDialect
from aws_wrapper.errors import ConfigurationError


class DialectCode(enum.Enum):
    """The ``wrapper_dialect`` codes (as the peer spells them; ``mariadb`` is aws_wrapper's
    own, ``custom`` needs a custom dialect installed)."""

    MULTI_AZ_CLUSTER_MYSQL = "multi-az-mysql"
    GLOBAL_AURORA_MYSQL = "global-aurora-mysql"
    AURORA_MYSQL = "aurora-mysql"
    RDS_MYSQL = "rds-mysql"
    MYSQL = "mysql"
    MARIADB = "mariadb"
    MULTI_AZ_CLUSTER_PG = "multi-az-pg"
    GLOBAL_AURORA_PG = "global-aurora-pg"
    AURORA_PG = "aurora-pg"
    RDS_PG = "rds-pg"
    PG = "pg"
    CUSTOM = "custom"
    UNKNOWN = "unknown"

    @staticmethod
    def from_string(value: str) -> DialectCode:
        try:
            return DialectCode(value)
        except ValueError:
            raise ConfigurationError(
                f"property 'wrapper_dialect': unknown dialect '{value}'; valid: "
                + ", ".join(c.value for c in DialectCode)
            ) from None


class TargetDriverType(enum.Enum):
    MYSQL = 1
    POSTGRES = 2
    CUSTOM = 3


@runtime_checkable
class TopologyAwareDatabaseDialect(Protocol):
    """A custom dialect (the peer's way) whose cluster has a topology: with these queries set,
    failover and read/write splitting know the cluster's instances."""

    @property
    def topology_query(self) -> str: ...

    @property
    def host_id_query(self) -> str: ...

    @property
    def is_reader_query(self) -> str: ...


@runtime_checkable
class GlobalAuroraTopologyDialect(TopologyAwareDatabaseDialect, Protocol):
    """The peer's global-database dialect shape (aws_wrapper's global dialects read the same
    topology as Aurora's; the region query is not used)."""

    @property
    def region_by_instance_id_query(self) -> str: ...


class DatabaseDialectManager:
    """The peer's registration of a custom database dialect."""

    @staticmethod
    def set_custom_dialect(dialect: Any) -> None:
        """Use ``dialect`` for every new connection (see the module doc)."""
        custom_dialects.set_database_dialect(dialect)

    @staticmethod
    def get_custom_dialect() -> Any:
        return custom_dialects.get_database_dialect()

    @staticmethod
    def reset_custom_dialect() -> None:
        custom_dialects.set_database_dialect(None)


__all__ = [
    "AuroraMysqlDialect",
    "AuroraPgDialect",
    "DatabaseDialect",
    "DatabaseDialectManager",
    "DialectCode",
    "GlobalAuroraMysqlDialect",
    "GlobalAuroraPgDialect",
    "GlobalAuroraTopologyDialect",
    "MariaDBDialect",
    "MultiAzClusterMysqlDialect",
    "MultiAzClusterPgDialect",
    "MysqlDatabaseDialect",
    "PgDatabaseDialect",
    "RdsMysqlDialect",
    "RdsPgDialect",
    "TargetDriverType",
    "TopologyAwareDatabaseDialect",
]
