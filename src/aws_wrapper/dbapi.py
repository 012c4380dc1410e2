"""PEP 249 module globals, type objects and constructors, shared by both public faces."""

from __future__ import annotations

import datetime
import time
from typing import Any

apilevel = "2.0"
threadsafety = 1
"""Threads may share the module, not connections (as PyMySQL; psycopg allows more)."""
paramstyle = "pyformat"
"""``%s`` / ``%(name)s``: what psycopg, PyMySQL, aiomysql and mysql.connector all accept."""

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> datetime.date:
    return datetime.date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:
    return datetime.time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    return datetime.datetime(*time.localtime(ticks)[:6])


class DBAPITypeObject:
    """Compares equal to any of the type names it groups (PEP 249 type objects)."""

    def __init__(self, name: str, *values: str) -> None:
        self.name = name
        self.values = frozenset(v.lower() for v in values)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        return str(other).lower() in self.values

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


STRING = DBAPITypeObject("STRING", "text", "varchar", "char", "bpchar", "name", "string")
BINARY = DBAPITypeObject("BINARY", "bytea", "blob", "binary", "varbinary")
NUMBER = DBAPITypeObject(
    "NUMBER",
    "int2",
    "int4",
    "int8",
    "integer",
    "bigint",
    "smallint",
    "numeric",
    "decimal",
    "float4",
    "float8",
    "real",
    "double",
    "tinyint",
    "mediumint",
    "float",
)
DATETIME = DBAPITypeObject("DATETIME", "date", "time", "timestamp", "timestamptz", "datetime")
ROWID = DBAPITypeObject("ROWID", "oid", "rowid")

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "apilevel",
    "paramstyle",
    "threadsafety",
]
