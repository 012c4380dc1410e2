"""The metadata queries the database dialects send to Aurora and RDS, in one place.

They follow the contract in ``shared/aurora-metadata.md``. The dialects use them; the
devcluster's conformance test runs every one of them on every instance, so the local cluster
and the dialects cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._version import __version__

BLUE_GREEN_CLIENT = f"aws_wrapper-{__version__}"
"""What the blue/green status functions are told the client is (``aws_wrapper-<version>``)."""


@dataclass(frozen=True, slots=True)
class MetadataQuery:
    name: str
    sql: str
    columns: int
    """How many columns an answer has."""


# -- Aurora PostgreSQL ---------------------------------------------------------------------

PG_IS_AURORA = MetadataQuery(
    "aurora-pg detection",
    "SELECT (setting LIKE '%aurora_stat_utils%') AS aurora_stat_utils "
    "FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'rds.extensions'",
    1,
)
PG_IS_RDS = MetadataQuery(
    "rds-pg detection",
    "SELECT (setting LIKE '%rds_tools%') AS rds_tools, "
    "(setting LIKE '%aurora_stat_utils%') AS aurora_stat_utils "
    "FROM pg_catalog.pg_settings WHERE name OPERATOR(pg_catalog.=) 'rds.extensions'",
    2,
)
PG_HAS_REPLICA_STATUS = MetadataQuery(
    "aurora_replica_status exists",
    "SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n "
    "ON n.oid OPERATOR(pg_catalog.=) p.pronamespace "
    "WHERE n.nspname OPERATOR(pg_catalog.=) 'pg_catalog' "
    "AND p.proname OPERATOR(pg_catalog.=) 'aurora_replica_status'",
    1,
)
PG_TOPOLOGY = MetadataQuery(
    "aurora-pg topology",
    "SELECT server_id, "
    "CASE WHEN session_id OPERATOR(pg_catalog.=) 'MASTER_SESSION_ID' THEN TRUE ELSE FALSE END, "
    "cpu, COALESCE(replica_lag_in_msec, 0), last_update_timestamp "
    "FROM pg_catalog.aurora_replica_status() "
    "WHERE EXTRACT(EPOCH FROM (pg_catalog.NOW() OPERATOR(pg_catalog.-) last_update_timestamp)) "
    "OPERATOR(pg_catalog.<=) 300 OR session_id OPERATOR(pg_catalog.=) 'MASTER_SESSION_ID' "
    "OR last_update_timestamp IS NULL",
    5,
)
PG_HOST_ID = MetadataQuery(
    "aurora-pg instance id", "SELECT pg_catalog.aurora_db_instance_identifier()", 1
)
PG_IS_READER = MetadataQuery("pg is reader", "SELECT pg_catalog.pg_is_in_recovery()", 1)
PG_LIMITLESS_ROUTERS = MetadataQuery(
    "aurora-pg limitless routers",
    "SELECT router_endpoint, load FROM pg_catalog.aurora_limitless_router_endpoints()",
    2,
)
PG_BLUE_GREEN = MetadataQuery(
    "aurora-pg blue/green",
    "SELECT version, endpoint, port, role, status "
    f"FROM pg_catalog.get_blue_green_fast_switchover_metadata('{BLUE_GREEN_CLIENT}')",
    5,
)
PG_HAS_BLUE_GREEN = MetadataQuery(
    "aurora-pg blue/green available",
    "SELECT pg_catalog.to_regproc('pg_catalog.get_blue_green_fast_switchover_metadata') "
    "IS NOT NULL",
    1,
)
PG_GLOBAL_INSTANCES = MetadataQuery(
    "aurora-pg global database instances",
    "SELECT server_id, session_id, aws_region FROM aurora_global_db_instance_status()",
    3,
)
PG_GLOBAL_STATUS = MetadataQuery(
    "aurora-pg global database status", "SELECT * FROM aurora_global_db_status()", -1
)

AURORA_PG_QUERIES = (
    PG_IS_AURORA,
    PG_IS_RDS,
    PG_HAS_REPLICA_STATUS,
    PG_TOPOLOGY,
    PG_HOST_ID,
    PG_IS_READER,
    PG_LIMITLESS_ROUTERS,
    PG_BLUE_GREEN,
    PG_GLOBAL_INSTANCES,
    PG_GLOBAL_STATUS,
)

# -- Aurora MySQL --------------------------------------------------------------------------

MYSQL_IS_AURORA = MetadataQuery("aurora-mysql detection", "SHOW VARIABLES LIKE 'aurora_version'", 2)
MYSQL_TOPOLOGY = MetadataQuery(
    "aurora-mysql topology",
    "SELECT SERVER_ID, CASE WHEN SESSION_ID = 'MASTER_SESSION_ID' THEN TRUE ELSE FALSE END, "
    "CPU, REPLICA_LAG_IN_MILLISECONDS, LAST_UPDATE_TIMESTAMP "
    "FROM information_schema.replica_host_status "
    "WHERE time_to_sec(timediff(now(), LAST_UPDATE_TIMESTAMP)) <= 300 "
    "OR SESSION_ID = 'MASTER_SESSION_ID'",
    5,
)
MYSQL_HOST_ID = MetadataQuery("aurora-mysql instance id", "SELECT @@aurora_server_id", 1)
MYSQL_IS_READER = MetadataQuery("aurora-mysql is reader", "SELECT @@innodb_read_only", 1)
MYSQL_BLUE_GREEN = MetadataQuery(
    "aurora-mysql blue/green",
    "SELECT version, endpoint, port, role, status FROM mysql.rds_topology",
    5,
)
MYSQL_HAS_BLUE_GREEN = MetadataQuery(
    "aurora-mysql blue/green available",
    "SELECT 1 FROM information_schema.tables "
    "WHERE table_schema = 'mysql' AND table_name = 'rds_topology'",
    1,
)
MYSQL_GLOBAL_INSTANCES = MetadataQuery(
    "aurora-mysql global database instances",
    "SELECT SERVER_ID, SESSION_ID, AWS_REGION "
    "FROM information_schema.aurora_global_db_instance_status",
    3,
)

AURORA_MYSQL_QUERIES = (
    MYSQL_IS_AURORA,
    MYSQL_TOPOLOGY,
    MYSQL_HOST_ID,
    MYSQL_IS_READER,
    MYSQL_BLUE_GREEN,
    MYSQL_GLOBAL_INSTANCES,
)

# -- RDS PostgreSQL (the rds_tools extension) ----------------------------------------------

RDS_PG_BLUE_GREEN = MetadataQuery(
    "rds-pg blue/green",
    "SELECT version, endpoint, port, role, status "
    f"FROM rds_tools.show_topology('{BLUE_GREEN_CLIENT}')",
    5,
)
RDS_PG_HAS_BLUE_GREEN = MetadataQuery(
    "rds-pg blue/green available",
    "SELECT pg_catalog.to_regproc('rds_tools.show_topology') IS NOT NULL",
    1,
)
