"""Database dialects: what the wrapper knows of each kind of database server.

A dialect is chosen from ``wrapper_dialect`` or detected: a first guess from the host name and
the driver's engine, then the metadata queries of ``aws_wrapper.aurora_queries`` on the first
connection (once per endpoint per process: the answer is kept in
:mod:`aws_wrapper.dialect_cache`, and later connections to the endpoint make no query).

=====================  =========================================================
code                   detected by
=====================  =========================================================
``aurora-pg``          ``rds.extensions`` lists ``aurora_stat_utils``
``global-aurora-pg``   aurora-pg whose global database spans more than one region
``rds-pg``             ``rds.extensions`` lists ``rds_tools`` (not Aurora)
``multi-az-pg``        rds-pg with ``rds_tools.show_topology()``
``pg``                 none of the above
``aurora-mysql``       ``SHOW VARIABLES LIKE 'aurora_version'`` answers
``global-aurora-mysql`` aurora-mysql whose global database spans more than one region
``rds-mysql``          ``@@version_comment = 'Source distribution'``, ``@@report_host`` set
``multi-az-mysql``     rds-mysql with ``mysql.rds_topology (id, endpoint, port)``
``mariadb``            ``VERSION()`` says MariaDB
``mysql``              none of the above
=====================  =========================================================
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from aws_wrapper import aurora_queries as q
from aws_wrapper import custom_dialects
from aws_wrapper._interned import Interned
from aws_wrapper.dialect_cache import remember_dialect
from aws_wrapper.errors import ConfigurationError
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.topology import TopologyEntry, entry_from_row, global_entry_from_row

from .protocols import DatabaseDialect, DriverConnection, DriverDialect


@runtime_checkable
class BlueGreenDialect(Protocol):
    """A dialect that can read a blue/green deployment's status (the ``bg`` plugin)."""

    code: str
    blue_green_sql: str | None
    blue_green_exists_sql: str | None
    blue_green_grant: str

    async def blue_green_available(self, conn: DriverConnection, driver: DriverDialect) -> bool: ...


@runtime_checkable
class GlobalTopologyDialect(Protocol):
    """A dialect that can read a global database's instances with their regions."""

    code: str

    async def global_topology(
        self, conn: DriverConnection, driver: DriverDialect
    ) -> list[TopologyEntry]: ...


class _GlobalTopology:
    """Aurora Global Database: every instance of every region, from the global instance
    status (``server_id, session_id, aws_region``); the writer's session is
    ``MASTER_SESSION_ID``."""

    global_topology_sql = ""

    async def global_topology(
        self, conn: DriverConnection, driver: DriverDialect
    ) -> list[TopologyEntry]:
        rows = await driver.fetch(conn, self.global_topology_sql)
        return [global_entry_from_row(row) for row in rows]


class _Dialect:
    code = "?"
    engine = "?"
    default_port = 0
    host_id_sql: str | None = None
    is_reader_sql = ""
    topology_sql: str | None = None
    blue_green_sql: str | None = None
    """The blue/green status query (``version, endpoint, port, role, status``); None: this
    kind of server publishes no blue/green status."""
    blue_green_exists_sql: str | None = None
    """One row, one column, true when the status query's function or table exists (and, on
    MySQL, is visible to the user)."""
    blue_green_grant: str = ""
    """What a user needs to be granted to read the status (for the warning when it cannot)."""

    @property
    def has_topology(self) -> bool:
        return self.topology_sql is not None

    async def blue_green_available(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        """True when the server has the blue/green status function or table (it may still
        refuse the user: the status query then fails)."""
        if self.blue_green_sql is None or self.blue_green_exists_sql is None:
            return False
        rows = await driver.fetch(conn, self.blue_green_exists_sql)
        return bool(rows) and bool(rows[0][0])

    async def host_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        if self.host_id_sql is None:
            return None
        rows = await driver.fetch(conn, self.host_id_sql)
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    async def is_reader(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        rows = await driver.fetch(conn, self.is_reader_sql)
        value = rows[0][0] if rows else False
        return bool(value) if isinstance(value, bool) else str(value) not in ("0", "OFF", "")

    async def topology(
        self, conn: DriverConnection, driver: DriverDialect
    ) -> list[TopologyEntry] | None:
        """The cluster's instances as this instance reports them; None: no topology here."""
        if self.topology_sql is None:
            return None
        return [entry_from_row(row) for row in await driver.fetch(conn, self.topology_sql)]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code}>"


class PgDialect(_Dialect):
    """Plain PostgreSQL (community, or anything speaking it without RDS extensions)."""

    code = "pg"
    engine = "postgresql"
    default_port = 5432
    is_reader_sql = q.PG_IS_READER.sql


class RdsPgDialect(PgDialect):
    code = "rds-pg"
    blue_green_sql = q.RDS_PG_BLUE_GREEN.sql
    blue_green_exists_sql = q.RDS_PG_HAS_BLUE_GREEN.sql
    blue_green_grant = "EXECUTE ON FUNCTION rds_tools.show_topology(text)"


class _MultiAzTopology:
    """Multi-AZ DB clusters list every instance with its endpoint; the writer is the one
    the current instance replicates from, or the current instance when it replicates from
    none."""

    code: str
    host_id_sql: str | None
    members_sql = ""
    source_sql = ""

    @property
    def has_topology(self) -> bool:
        return True

    async def topology(
        self, conn: DriverConnection, driver: DriverDialect
    ) -> list[TopologyEntry] | None:
        members = await driver.fetch(conn, self.members_sql)
        writer = await self._writer_id(conn, driver)
        return [
            TopologyEntry(
                host_id=str(row[0]),
                is_writer=str(row[0]) == writer,
                endpoint=str(row[1]),
                port=int(row[2]) if row[2] is not None else None,
            )
            for row in members
        ]

    async def _writer_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        rows = await driver.fetch(conn, self.source_sql)
        source = rows[0][0] if rows else None
        if source:
            return str(source)
        assert self.host_id_sql is not None
        own = await driver.fetch(conn, self.host_id_sql)
        return str(own[0][0]) if own else None


class MultiAzPgDialect(_MultiAzTopology, RdsPgDialect):
    """RDS Multi-AZ DB cluster (PostgreSQL): topology from ``rds_tools.show_topology()``."""

    code = "multi-az-pg"
    host_id_sql = "SELECT dbi_resource_id FROM rds_tools.dbi_resource_id()"
    members_sql = "SELECT id, endpoint, port FROM rds_tools.show_topology('aws_wrapper')"
    source_sql = (
        "SELECT multi_az_db_cluster_source_dbi_resource_id "
        "FROM rds_tools.multi_az_db_cluster_source_dbi_resource_id()"
    )


class AuroraPgDialect(PgDialect):
    code = "aurora-pg"
    host_id_sql = q.PG_HOST_ID.sql
    topology_sql = q.PG_TOPOLOGY.sql
    blue_green_sql = q.PG_BLUE_GREEN.sql
    blue_green_exists_sql = q.PG_HAS_BLUE_GREEN.sql
    blue_green_grant = (
        "EXECUTE ON FUNCTION pg_catalog.get_blue_green_fast_switchover_metadata(text)"
    )


class GlobalAuroraPgDialect(_GlobalTopology, AuroraPgDialect):
    code = "global-aurora-pg"
    global_topology_sql = q.PG_GLOBAL_INSTANCES.sql


class MysqlDialect(_Dialect):
    """Plain MySQL."""

    code = "mysql"
    engine = "mysql"
    default_port = 3306
    is_reader_sql = "SELECT @@read_only"


class MariaDBDialect(MysqlDialect):
    code = "mariadb"


class RdsMysqlDialect(MysqlDialect):
    code = "rds-mysql"
    blue_green_sql = q.MYSQL_BLUE_GREEN.sql
    blue_green_exists_sql = q.MYSQL_HAS_BLUE_GREEN.sql
    blue_green_grant = "SELECT ON mysql.rds_topology"


class MultiAzMysqlDialect(_MultiAzTopology, RdsMysqlDialect):
    """RDS Multi-AZ DB cluster (MySQL): topology from ``mysql.rds_topology``."""

    code = "multi-az-mysql"
    host_id_sql = "SELECT @@server_id"
    members_sql = "SELECT id, endpoint, port FROM mysql.rds_topology"
    source_sql = "SHOW REPLICA STATUS"

    async def _writer_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        # SHOW REPLICA STATUS: Source_Server_Id is the 40th column of MySQL 8's answer
        rows = await driver.fetch(conn, self.source_sql)
        if rows and len(rows[0]) > 39 and rows[0][39]:
            return str(rows[0][39])
        own = await driver.fetch(conn, "SELECT @@server_id")
        return str(own[0][0]) if own else None


class AuroraMysqlDialect(MysqlDialect):
    code = "aurora-mysql"
    host_id_sql = q.MYSQL_HOST_ID.sql
    is_reader_sql = q.MYSQL_IS_READER.sql
    topology_sql = q.MYSQL_TOPOLOGY.sql
    blue_green_sql = q.MYSQL_BLUE_GREEN.sql
    blue_green_exists_sql = q.MYSQL_HAS_BLUE_GREEN.sql
    blue_green_grant = "SELECT ON mysql.rds_topology"


class GlobalAuroraMysqlDialect(_GlobalTopology, AuroraMysqlDialect):
    code = "global-aurora-mysql"
    global_topology_sql = q.MYSQL_GLOBAL_INSTANCES.sql


_DIALECTS: dict[str, type[_Dialect]] = {
    cls.code: cls
    for cls in (
        PgDialect,
        RdsPgDialect,
        MultiAzPgDialect,
        AuroraPgDialect,
        GlobalAuroraPgDialect,
        MysqlDialect,
        MariaDBDialect,
        RdsMysqlDialect,
        MultiAzMysqlDialect,
        AuroraMysqlDialect,
        GlobalAuroraMysqlDialect,
    )
}


class CustomDialect(_Dialect):
    """An installed custom dialect that is not one of this world's (see
    :mod:`aws_wrapper.custom_dialects`): its queries run the way ours do."""

    code = "custom"

    def __init__(self, custom: Any, engine: str) -> None:
        self.custom = custom
        self.engine = engine
        self.default_port = int(
            getattr(custom, "default_port", 0) or (5432 if engine == "postgresql" else 3306)
        )
        self.is_reader_sql = custom_dialects.query_attribute(
            custom, "is_reader_sql", "is_reader_query"
        ) or (PgDialect.is_reader_sql if engine == "postgresql" else MysqlDialect.is_reader_sql)
        self.host_id_sql = custom_dialects.query_attribute(custom, "host_id_sql", "host_id_query")
        self.topology_sql = custom_dialects.query_attribute(
            custom, "topology_sql", "topology_query"
        )
        # the peer's host id queries answer (host, id): the id is the last column
        self._id_column = -1 if getattr(custom, "host_id_query", None) is not None else 0

    async def host_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        if self.host_id_sql is None:
            return None
        rows = await driver.fetch(conn, self.host_id_sql)
        value = rows[0][self._id_column] if rows and rows[0] else None
        return None if value is None else str(value)


def custom_dialect(driver: DriverDialect) -> DatabaseDialect | None:
    """The installed custom dialect (see :mod:`aws_wrapper.custom_dialects`), or None."""
    custom = custom_dialects.get_database_dialect()
    if custom is None:
        return None
    if isinstance(custom, type) and issubclass(custom, _Dialect):
        custom = custom()
    if (
        isinstance(custom, _Dialect)
        and custom.engine in (driver.engine, "?")
        and not custom_dialects.has_peer_queries(custom)
    ):
        return custom
    # an object of the peer's form, or one of our classes with queries set by the peer's
    # names (which win): run its queries
    return CustomDialect(custom, driver.engine)


_ENGINE_DEFAULT = {"postgresql": "pg", "mysql": "mysql"}
_AURORA_GUESS = {"postgresql": "aurora-pg", "mysql": "aurora-mysql"}


_INSTANCES: Interned[type[_Dialect], _Dialect] = Interned(64)


def _shared(cls: type[_Dialect]) -> _Dialect:
    """The one object of our dialect class ``cls`` (they hold no state: class attributes
    only), rather than one per connection (see aws_wrapper._interned)."""
    return _INSTANCES.get(cls, _make)


def _make(cls: type[_Dialect]) -> _Dialect:
    return cls()


def dialect_codes() -> list[str]:
    return sorted(_DIALECTS)


def dialect_for(
    code: str | None, driver: DriverDialect, host_is_rds_cluster: bool = False
) -> DatabaseDialect:
    """The dialect named ``code`` (``wrapper_dialect``), or the first guess: Aurora for an RDS
    cluster endpoint, else the engine's plain dialect. An installed custom dialect comes
    first (see :mod:`aws_wrapper.custom_dialects`)."""
    custom = custom_dialect(driver)
    if custom is not None:
        return custom
    if code == "custom":
        raise ConfigurationError(
            "property 'wrapper_dialect': 'custom' needs a custom dialect installed with "
            "DatabaseDialectManager.set_custom_dialect(...)"
        )
    if code is None:
        guess = _AURORA_GUESS if host_is_rds_cluster else _ENGINE_DEFAULT
        return _shared(_DIALECTS[guess[driver.engine]])
    cls = _DIALECTS.get(code)
    if cls is None:
        raise ConfigurationError(
            f"property 'wrapper_dialect': unknown dialect '{code}'; valid: "
            + ", ".join(dialect_codes())
        )
    if cls.engine != driver.engine:
        raise ConfigurationError(
            f"property 'wrapper_dialect': '{code}' is a {cls.engine} dialect and does not fit "
            f"the {driver.code} driver"
        )
    return _shared(cls)


async def detect(conn: DriverConnection, driver: DriverDialect, host: HostInfo) -> DatabaseDialect:
    """The dialect of the server on ``conn``, opened to ``host``: asked with the metadata
    queries, and remembered for the endpoint (see :func:`aws_wrapper.dialect_cache.known_dialect`,
    which callers consult first). An installed custom dialect is used without a query."""
    custom = custom_dialect(driver)
    if custom is not None:
        return custom
    code = await (
        _detect_pg(conn, driver) if driver.engine == "postgresql" else _detect_mysql(conn, driver)
    )
    remember_dialect(host.host, host.port, driver.engine, code)
    return _shared(_DIALECTS[code])


async def _detect_pg(conn: DriverConnection, driver: DriverDialect) -> str:
    rows = await driver.fetch(conn, q.PG_IS_RDS.sql)
    if not rows:
        return "pg"
    rds_tools, aurora = (bool(v) for v in rows[0])
    if aurora:
        regions = await _optional(
            driver,
            conn,
            "SELECT COUNT(DISTINCT aws_region) FROM aurora_global_db_instance_status()",
        )
        return "global-aurora-pg" if regions > 1 else "aurora-pg"
    if rds_tools:
        found = await _optional(
            driver,
            conn,
            "SELECT COUNT(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'rds_tools' "
            "AND p.proname = 'show_topology'",
        )
        return "multi-az-pg" if found else "rds-pg"
    return "pg"


async def _detect_mysql(conn: DriverConnection, driver: DriverDialect) -> str:
    if await driver.fetch(conn, q.MYSQL_IS_AURORA.sql):
        regions = await _optional(
            driver,
            conn,
            "SELECT COUNT(DISTINCT AWS_REGION) "
            "FROM information_schema.aurora_global_db_instance_status",
        )
        return "global-aurora-mysql" if regions > 1 else "aurora-mysql"
    rows = await driver.fetch(conn, "SELECT VERSION(), @@version_comment, @@report_host")
    version, comment, report_host = (str(v or "") for v in rows[0])
    if "mariadb" in version.lower():
        return "mariadb"
    if comment == "Source distribution" and report_host:
        found = await _optional(
            driver,
            conn,
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'mysql' "
            "AND table_name = 'rds_topology' AND column_name = 'id'",
        )
        return "multi-az-mysql" if found else "rds-mysql"
    return "mysql"


async def _optional(driver: DriverDialect, conn: DriverConnection, sql: str) -> int:
    """A count from a query that may not exist on this server (0 then)."""
    try:
        rows = await driver.fetch(conn, sql)
    except Exception as e:
        if driver.is_network_error(e):
            raise
        if driver.in_transaction(conn):
            await driver.rollback(conn)
        return 0
    return int(rows[0][0] or 0) if rows else 0
