#!/usr/bin/env python3
"""Benchmark worker for aws-advanced-python-wrapper (runs in its own venv, .bench-venv/peer).

Variants: ``peer-sync`` (``AwsWrapperConnection.connect(psycopg.Connection.connect`` or
``mysql.connector.connect, ...)``) and ``peer-aio`` (``aws_advanced_python_wrapper.aio.
AsyncAwsWrapperConnection.connect(psycopg.AsyncConnection.connect`` or ``aiomysql.connect,
...)``); scenario 1 also asks for PyMySQL (sync) and ``mysql.connector.aio`` (aio), which the
peer does not support: those connects fail and the harness reports them. Imports only the
standard library,
``worker_common.py`` (standard library only) and the implementation under test with its drivers;
never aws_wrapper. Driven by ``bench/compare.py`` over stdin/stdout; not meant to be run by hand.

Not type-checked by the project's mypy (the package is not installed in the project's venv):
excluded in pyproject.toml.

Host names: aws-advanced-python-wrapper does not read the devcluster's hosts file, so this
worker patches ``socket.getaddrinfo`` to answer its names (``worker_common.patch_getaddrinfo``),
which covers every connection the library opens (psycopg resolves names in Python, PyMySQL and
aiomysql connect through Python sockets), and ``socket.gethostbyname``, with which its
blue/green monitors record the endpoints' addresses.

Instance endpoints: the harness passes ``cluster_instance_host_pattern`` with the cluster's
port (``?.<id>.<region>.rds.amazonaws.com:<port>``). The aio package builds topology hosts
with the pattern's port or else 5432, not the port of the connection, so without it every
topology, failover and reader connection of ``peer-aio`` goes to port 5432 (the sync package
takes the connection's port; it gets the same pattern, which names the same hosts).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import sys
from collections.abc import Mapping
from typing import Any

from worker_common import AsyncVariant, SyncVariant, patch_getaddrinfo, serve

patch_getaddrinfo()

import aiomysql  # noqa: E402
import mysql.connector  # noqa: E402
import psycopg  # noqa: E402
import pymysql  # noqa: E402
from aws_advanced_python_wrapper import AwsWrapperConnection, release_resources  # noqa: E402
from aws_advanced_python_wrapper.aio import (  # noqa: E402
    AsyncAwsWrapperConnection,
    AsyncPooledConnectionProvider,
    release_resources_async,
)
from aws_advanced_python_wrapper.aio.connection_provider import (  # noqa: E402
    AsyncConnectionProviderManager,
)
from aws_advanced_python_wrapper.connection_provider import (  # noqa: E402
    ConnectionProviderManager,
)
from aws_advanced_python_wrapper.errors import FailoverSuccessError  # noqa: E402
from aws_advanced_python_wrapper.sql_alchemy_connection_provider import (  # noqa: E402
    SqlAlchemyPooledConnectionProvider,
)

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
    mysql.connector.errors.OperationalError,
    mysql.connector.errors.InterfaceError,
    ConnectionError,
    asyncio.IncompleteReadError,
)


def params(target: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": target["host"],
        "port": int(target["port"]),
        "user": target["user"],
        "password": target["password"],
        "autocommit": True,
        **props,
    }
    if target["engine"] == "postgresql":
        out["dbname"] = target["database"]
    else:
        out["database"] = target["database"]
    return out


def driver_of(target: Mapping[str, Any], world: str) -> str:
    """The target's ``driver``, or its engine's default in ``world`` (as ours_worker.py)."""
    driver = target.get("driver")
    if driver:
        return str(driver)
    if target["engine"] == "postgresql":
        return "psycopg"
    return "mysql-connector" if world == "sync" else "aiomysql"


def is_network_error(error: BaseException) -> bool:
    return isinstance(error, NETWORK_ERRORS) and not isinstance(error, FailoverSuccessError)


def describe(conn: Any) -> str:
    try:
        plugins = ",".join(type(p).__name__ for p in conn._plugin_manager._plugins)
        dialect = type(conn._plugin_service.database_dialect).__name__
        return f"{plugins} (dialect {dialect})"
    except Exception:
        return "?"


class PeerSync(SyncVariant):
    name = "peer-sync"

    def connect(self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any) -> Any:
        if provider is not None:
            ConnectionProviderManager.set_connection_provider(provider)
        driver = driver_of(target, "sync")
        if driver == "psycopg":
            return AwsWrapperConnection.connect(psycopg.Connection.connect, **params(target, props))
        if driver == "pymysql":  # asked for by scenario 1; it is not supported (it fails)
            return AwsWrapperConnection.connect(pymysql.connect, **params(target, props))
        # MySQL Connector/Python, pure-Python: its supported blocking MySQL driver (PyMySQL is
        # not recognized), and the only one its EFM can abort from the monitor thread
        return AwsWrapperConnection.connect(
            mysql.connector.connect, **params(target, props), use_pure=True
        )

    def failover_success(self, error: BaseException) -> bool:
        return isinstance(error, FailoverSuccessError)

    def is_network_error(self, error: BaseException) -> bool:
        return is_network_error(error)

    def describe(self, conn: Any) -> str:
        return describe(conn)

    def pooled_provider(self) -> Any:
        return SqlAlchemyPooledConnectionProvider()

    def release(self) -> None:
        try:
            ConnectionProviderManager.release_resources()
        finally:
            ConnectionProviderManager.reset_provider()
            release_resources()


class PeerAio(AsyncVariant):
    name = "peer-aio"

    async def connect(
        self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
    ) -> Any:
        if provider is not None:
            AsyncConnectionProviderManager.set_connection_provider(provider)
        driver = driver_of(target, "async")
        if driver == "psycopg":
            return await AsyncAwsWrapperConnection.connect(
                psycopg.AsyncConnection.connect, **params(target, props)
            )
        if driver == "mysql-connector":  # asked for by scenario 1; its aio package has no
            # dialect for it (it fails)
            import mysql.connector.aio

            return await AsyncAwsWrapperConnection.connect(
                mysql.connector.aio.connect, **params(target, props), ssl_disabled=True
            )
        return await AsyncAwsWrapperConnection.connect(aiomysql.connect, **params(target, props))

    def failover_success(self, error: BaseException) -> bool:
        return isinstance(error, FailoverSuccessError)

    def is_network_error(self, error: BaseException) -> bool:
        return is_network_error(error)

    def describe(self, conn: Any) -> str:
        return describe(conn)

    def pooled_provider(self) -> Any:
        return AsyncPooledConnectionProvider()

    async def release(self) -> None:
        try:
            await AsyncConnectionProviderManager.release_resources()
        finally:
            AsyncConnectionProviderManager.reset_provider()
            await release_resources_async()


def info() -> dict[str, Any]:
    return {
        "implementation": "aws-advanced-python-wrapper",
        "version": importlib.metadata.version("aws_advanced_python_wrapper"),
        "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__}, libpq {psycopg.pq.version()})",
        "pymysql": importlib.metadata.version("PyMySQL"),
        "aiomysql": importlib.metadata.version("aiomysql"),
        "mysql-connector-python": importlib.metadata.version("mysql-connector-python"),
    }


def main() -> int:
    # its warnings (aborted connections, failovers) would flood the worker's log
    logging.getLogger("aws_advanced_python_wrapper").setLevel(logging.ERROR)
    variants = {v.name: v for v in (PeerSync(), PeerAio())}
    return serve(variants, info)


if __name__ == "__main__":
    sys.exit(main())
