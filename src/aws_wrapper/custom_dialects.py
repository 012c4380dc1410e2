"""The custom database dialect and driver dialect an application installs (both worlds read
them on every connect): aws-advanced-python-wrapper's
``DatabaseDialectManager.set_custom_dialect`` and ``DriverDialectManager.set_custom_dialect``
(faces in :mod:`aws_wrapper.database_dialect` and :mod:`aws_wrapper.driver_dialect_manager`).

A custom **database dialect** is used for every new connection instead of the named or
detected one. It is either a dialect of the connecting world (an instance of a class of
``aws_wrapper.database_dialect``, whose methods that world calls), or any object with the
peer's query attributes: ``is_reader_query`` (or ``is_reader_sql``), and optionally
``host_id_query`` (``host_id_sql``), ``topology_query`` (``topology_sql``, rows of
``(instance id, is writer, cpu, lag ms, last update)``: failover and read/write splitting
then know the cluster) and ``default_port``; its ``code`` is ``custom``.

A custom **driver dialect** is used for every connection whose connect function it
accepts: its ``is_dialect(connect_function)`` answers True, or, without ``is_dialect``, the
connect function belongs to a driver of the dialect's ``engine`` (``postgresql``/``mysql``;
any connect function when it has none). It is a driver dialect of the world it is used in
(aws_wrapper's protocol ``aws_wrapper._async.protocols.DriverDialect``, or its blocking twin:
blocking dialects' ``connect`` is a plain method, async ones' a coroutine function), or a class
(or factory) taking the connect function and returning one, such as a subclass of one of
aws_wrapper's dialects. The peer's driver dialects (a different interface) do not fit.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_database: Any = None
_driver: Any = None


def set_database_dialect(dialect: Any) -> None:
    global _database
    with _lock:
        _database = dialect


def get_database_dialect() -> Any:
    return _database


def set_driver_dialect(dialect: Any) -> None:
    global _driver
    with _lock:
        _driver = dialect


def get_driver_dialect() -> Any:
    return _driver


PEER_QUERIES = (
    ("is_reader_sql", "is_reader_query"),
    ("host_id_sql", "host_id_query"),
    ("topology_sql", "topology_query"),
)
"""(our attribute, aws-advanced-python-wrapper's) for a dialect's queries."""


def query_attribute(dialect: Any, ours: str, peers: str) -> str | None:
    """A custom dialect's query: the peer's attribute name when the dialect has it (our
    classes do not: a subclass of one that sets it overrides the inherited query), else
    ours."""
    found = getattr(dialect, peers, None)
    if found is None:
        found = getattr(dialect, ours, None)
    return None if found is None else str(found)


def has_peer_queries(dialect: Any) -> bool:
    """Whether the dialect sets any query by the peer's attribute names."""
    return any(getattr(dialect, peers, None) is not None for _, peers in PEER_QUERIES)
