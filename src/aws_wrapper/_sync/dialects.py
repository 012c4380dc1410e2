# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/dialects.py
# Change the async source (or the table in tools/unasync_build.py), then `make generate`.
"""Database dialects: what the wrapper knows of each kind of database server.

Here: plain PostgreSQL, MySQL and MariaDB. A dialect is chosen from ``wrapper_dialect`` or,
when unset, from the driver's engine and what the server says about itself after connecting.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_wrapper.errors import ConfigurationError

from .protocols import DatabaseDialect, DriverConnection, DriverDialect


class PgDialect:
    """Plain PostgreSQL (community, or anything speaking it without RDS extensions)."""

    code = "pg"
    engine = "postgresql"
    default_port = 5432

    def matches(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        return driver.engine == "postgresql"

    def host_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        return None

    def is_reader(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        rows = driver.fetch(conn, "SELECT pg_catalog.pg_is_in_recovery()")
        return bool(rows and rows[0][0])

    def update_candidates(self) -> Sequence[str]:
        return ()


class MysqlDialect:
    """Plain MySQL."""

    code = "mysql"
    engine = "mysql"
    default_port = 3306

    def matches(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        if driver.engine != "mysql":
            return False
        rows = driver.fetch(conn, "SELECT VERSION()")
        return bool(rows) and "mariadb" not in str(rows[0][0]).lower()

    def host_id(self, conn: DriverConnection, driver: DriverDialect) -> str | None:
        return None

    def is_reader(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        rows = driver.fetch(conn, "SELECT @@read_only")
        return bool(rows and int(rows[0][0]))

    def update_candidates(self) -> Sequence[str]:
        return ("mariadb",)


class MariaDBDialect(MysqlDialect):
    """MariaDB."""

    code = "mariadb"

    def matches(self, conn: DriverConnection, driver: DriverDialect) -> bool:
        if driver.engine != "mysql":
            return False
        rows = driver.fetch(conn, "SELECT VERSION()")
        return bool(rows) and "mariadb" in str(rows[0][0]).lower()

    def update_candidates(self) -> Sequence[str]:
        return ()


_DIALECTS: dict[str, type[PgDialect] | type[MysqlDialect]] = {
    "pg": PgDialect,
    "mysql": MysqlDialect,
    "mariadb": MariaDBDialect,
}
_ENGINE_DEFAULT = {"postgresql": "pg", "mysql": "mysql"}


def dialect_codes() -> list[str]:
    return sorted(_DIALECTS)


def dialect_for(code: str | None, driver: DriverDialect) -> DatabaseDialect:
    """The dialect named ``code`` (``wrapper_dialect``), or the engine's starting guess."""
    if code is None:
        return _DIALECTS[_ENGINE_DEFAULT[driver.engine]]()
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
    return cls()


def refine_dialect(
    dialect: DatabaseDialect, conn: DriverConnection, driver: DriverDialect
) -> DatabaseDialect:
    """After connecting: the most specific dialect whose detection query matches."""
    for code in dialect.update_candidates():
        candidate = _DIALECTS[code]()
        if candidate.matches(conn, driver):
            return candidate
    return dialect
