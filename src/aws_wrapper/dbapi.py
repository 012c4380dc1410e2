"""PEP 249 module globals, type objects and constructors, shared by both public faces."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
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
    """A PEP 249 type object: compares equal to the ``cursor.description`` type codes of every
    supported driver for its group (PostgreSQL type OIDs from psycopg, MySQL field types from
    PyMySQL, aiomysql and mysql.connector) and to type names (``"varchar"``)."""

    def __init__(self, name: str, codes: Iterable[int], names: Iterable[str]) -> None:
        self.name = name
        self.codes = frozenset(codes)
        self.names = frozenset(n.lower() for n in names)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self is other
        if isinstance(other, int):
            return other in self.codes
        return str(other).lower() in self.names

    def __ne__(self, other: Any) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name}>"


# The two code spaces meet at 16 only (PostgreSQL bool, MySQL BIT), which is left out.
_PG = {
    "STRING": (18, 19, 25, 1042, 1043),  # char, name, text, bpchar, varchar
    "BINARY": (17,),  # bytea
    "NUMBER": (20, 21, 23, 700, 701, 1700),  # int8, int2, int4, float4, float8, numeric
    "DATETIME": (1082, 1083, 1114, 1184, 1186, 1266),  # date, time, timestamp[tz], interval, timetz
    "ROWID": (26,),  # oid
}
_MYSQL = {
    "STRING": (15, 247, 253, 254),  # VARCHAR, ENUM, VAR_STRING, STRING
    "BINARY": (249, 250, 251, 252),  # the BLOBs (TEXT columns too, as the drivers say)
    "NUMBER": (0, 1, 2, 3, 4, 5, 8, 9, 13, 246),  # DECIMAL .. YEAR, NEWDECIMAL
    "DATETIME": (7, 10, 11, 12, 14),  # TIMESTAMP, DATE, TIME, DATETIME, NEWDATE
    "ROWID": (),
}


def _type_object(name: str, *names: str) -> DBAPITypeObject:
    return DBAPITypeObject(name, (*_PG[name], *_MYSQL[name]), names)


STRING = _type_object("STRING", "text", "varchar", "char", "bpchar", "name", "string", "enum")
BINARY = _type_object("BINARY", "bytea", "blob", "binary", "varbinary")
NUMBER = _type_object(
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
DATETIME = _type_object(
    "DATETIME", "date", "time", "timestamp", "timestamptz", "timetz", "datetime", "interval"
)
ROWID = _type_object("ROWID", "oid", "rowid")

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
