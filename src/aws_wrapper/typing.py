"""Type parameters of the wrapper's connections and cursors, for applications checked by mypy
(or pyright): a wrapped connection carries the row, query and parameter types of the driver it
wraps, so the wrapper keeps what the driver's own types check.

``AwsWrapperConnection[Row, Query, Params]`` (and the cursor, and their ``aio`` twins):

==================  ===================================  ========  ============================
driver              Row                                  Query     Params
==================  ===================================  ========  ============================
psycopg             ``TupleRow``; ``DictRow`` with       psycopg's psycopg's ``Params``
                    ``row_factory=dict_row``; any        ``Query`` (``LiteralString``, ``sql.SQL``,
                    row factory's row                    ...)
PyMySQL, aiomysql   ``TupleRow``; ``DictRow`` with       ``str``   ``Any``
                    ``cursorclass=DictCursor``
mysql-connector     ``MySQLRow``; ``MySQLDictRow``       ``str``   ``MySQLParams``
                    with ``cursor(dictionary=True)``
==================  ===================================  ========  ============================

Query and Params default to psycopg's, the default driver: ``AwsWrapperConnection[DictRow]``
is a psycopg connection with dict rows. For the MySQL drivers write them out, or use the
aliases below (``PyMySQLConnection[TupleRow]``, ...).

Nothing here costs anything at run time: the type variables' defaults exist for type
checkers only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

TupleRow: TypeAlias = tuple[Any, ...]
"""A row as a tuple (every driver's default)."""
DictRow: TypeAlias = dict[str, Any]
"""A row as a dict keyed by column name (psycopg's ``dict_row``, PyMySQL's ``DictCursor``)."""
MySQLParams: TypeAlias = Sequence[Any] | Mapping[str, Any]
"""Query parameters as mysql-connector declares them."""

if TYPE_CHECKING:
    from mysql.connector.types import RowItemType, RowType
    from psycopg.abc import Params as PsycopgParams
    from psycopg.abc import Query as PsycopgQuery
    from typing_extensions import TypeVar

    MySQLRow: TypeAlias = RowType
    """mysql-connector's row (a tuple of its column value types)."""
    MySQLDictRow: TypeAlias = dict[str, RowItemType]
    """mysql-connector's row with ``cursor(dictionary=True)``."""

    Row = TypeVar("Row", covariant=True, default=TupleRow)
    Query = TypeVar("Query", default=PsycopgQuery)
    Params = TypeVar("Params", default=PsycopgParams)
else:
    from typing import TypeVar

    MySQLRow = tuple
    MySQLDictRow = dict
    Row = TypeVar("Row", covariant=True)
    Query = TypeVar("Query")
    Params = TypeVar("Params")

__all__ = [
    "DictRow",
    "MySQLDictRow",
    "MySQLParams",
    "MySQLRow",
    "Params",
    "Query",
    "Row",
    "TupleRow",
]
