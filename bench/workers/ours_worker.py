#!/usr/bin/env python3
"""Benchmark worker for the raw drivers and aws_wrapper (runs in the project's venv).

Variants: ``raw-sync`` (the blocking driver itself), ``raw-async`` (the asyncio driver itself),
``ours-sync`` (``aws_wrapper.connect``), ``ours-aio`` (``aws_wrapper.aio.connect``). The driver
is the target's ``driver`` (see :func:`driver_of`): psycopg on PostgreSQL; on MySQL PyMySQL or
MySQL Connector/Python (pure Python) blocking, aiomysql or ``mysql.connector.aio`` async.
Driven by ``bench/compare.py`` over stdin/stdout (see ``worker_common.py``); not meant to be
run by hand.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import sys
from collections.abc import Mapping
from typing import Any

import aiomysql
import mysql.connector
import mysql.connector.aio
import psycopg
import pymysql
from worker_common import HOSTS, AsyncVariant, SyncVariant, Variant, resolved, serve

import aws_wrapper
import aws_wrapper.aio

# the devcluster's names (the harness passes its hosts file in DEVCLUSTER_HOSTS_FILE) resolve
# for aws_wrapper through its name-resolution hook; the wrapper reads no variable itself
aws_wrapper.set_name_resolver(HOSTS.lookup)

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    pymysql.err.OperationalError,
    pymysql.err.InterfaceError,
    mysql.connector.errors.OperationalError,
    mysql.connector.errors.InterfaceError,
    ConnectionError,
    asyncio.IncompleteReadError,
    aws_wrapper.OperationalError,
    aws_wrapper.InterfaceError,
)


def driver_of(target: Mapping[str, Any], world: str) -> str:
    """The target's ``driver``, or the default of its engine and world: psycopg on
    PostgreSQL; on MySQL ``mysql-connector`` blocking (see :func:`driver_params`), ``aiomysql``
    async."""
    driver = target.get("driver")
    if driver:
        return str(driver)
    if target["engine"] == "postgresql":
        return "psycopg"
    return "mysql-connector" if world == "sync" else "aiomysql"


def driver_params(target: Mapping[str, Any], raw: bool) -> dict[str, Any]:
    """Connection parameters of ``target``. The raw drivers get the hosts file's address
    (psycopg as ``hostaddr``, keeping the name, as aws_wrapper does); aws_wrapper the name.

    MySQL, blocking: MySQL Connector/Python, pure-Python (``use_pure=True``), the blocking MySQL
    driver aws-advanced-python-wrapper supports (not PyMySQL), and the only one its dead-host
    monitor can abort; asyncio: aiomysql."""
    params: dict[str, Any] = {
        "host": target["host"],
        "port": int(target["port"]),
        "user": target["user"],
        "password": target["password"],
    }
    if target["engine"] == "postgresql":
        params["dbname"] = target["database"]
        if raw:
            params["hostaddr"] = resolved(target)
    else:
        params["database"] = target["database"]
        if raw:
            params["host"] = resolved(target)
    return params


AIO_NO_TLS = {"ssl_disabled": True}
"""For ``mysql.connector.aio``: the benchmark's MariaDB servers offer no TLS (the plain one is
started without, the devcluster's relay hides it), and mysql.connector.aio 26.x then logs in
unencrypted but fails reading the TLS cipher of its plain socket unless told ``ssl_disabled``
(aws_wrapper would retry with it; both get it at once)."""


def describe(conn: Any) -> str:
    try:
        service = conn._service
        plugins = ",".join(type(p).__name__ for p in service.manager.plugins) or "none"
        return f"{plugins} (dialect {service.dialect.code})"
    except Exception:
        return "?"


class RawSync(SyncVariant):
    name = "raw-sync"
    wrapper = False

    def connect(self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any) -> Any:
        params = driver_params(target, raw=True)
        driver = driver_of(target, "sync")
        if driver == "psycopg":
            return psycopg.Connection.connect(**params, autocommit=True)
        if driver == "pymysql":
            return pymysql.connect(**params, autocommit=True)
        return mysql.connector.connect(**params, use_pure=True, autocommit=True)

    def is_network_error(self, error: BaseException) -> bool:
        return isinstance(error, NETWORK_ERRORS)

    def describe(self, conn: Any) -> str:
        return type(conn).__module__.split(".")[0]


class RawAsync(AsyncVariant):
    name = "raw-async"
    wrapper = False

    async def connect(
        self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
    ) -> Any:
        params = driver_params(target, raw=True)
        driver = driver_of(target, "async")
        if driver == "psycopg":
            return await psycopg.AsyncConnection.connect(**params, autocommit=True)
        if driver == "mysql-connector":
            return await mysql.connector.aio.connect(**params, **AIO_NO_TLS, autocommit=True)
        params["db"] = params.pop("database")
        return await aiomysql.connect(**params, autocommit=True)

    def is_network_error(self, error: BaseException) -> bool:
        return isinstance(error, NETWORK_ERRORS)

    def describe(self, conn: Any) -> str:
        return type(conn).__module__.split(".")[0]


class OursSync(SyncVariant):
    name = "ours-sync"

    def connect(self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any) -> Any:
        driver = driver_of(target, "sync")
        extra: dict[str, Any] = {} if provider is None else {"connection_provider": provider}
        if driver == "mysql-connector":
            extra["use_pure"] = True
        return aws_wrapper.connect(
            driver=driver, **driver_params(target, raw=False), **props, **extra, autocommit=True
        )

    def failover_success(self, error: BaseException) -> bool:
        return isinstance(error, aws_wrapper.FailoverSuccessError)

    def is_network_error(self, error: BaseException) -> bool:
        return isinstance(error, NETWORK_ERRORS)

    def describe(self, conn: Any) -> str:
        return describe(conn)

    def pooled_provider(self) -> Any:
        return aws_wrapper.PooledConnectionProvider()

    def release(self) -> None:
        aws_wrapper.release_resources()


class OursAio(AsyncVariant):
    name = "ours-aio"

    async def connect(
        self, target: Mapping[str, Any], props: Mapping[str, Any], provider: Any
    ) -> Any:
        driver = driver_of(target, "async")
        extra: dict[str, Any] = {} if provider is None else {"connection_provider": provider}
        if driver == "mysql-connector":
            extra.update(AIO_NO_TLS)
        return await aws_wrapper.aio.connect(
            driver=driver, **driver_params(target, raw=False), **props, **extra, autocommit=True
        )

    def failover_success(self, error: BaseException) -> bool:
        return isinstance(error, aws_wrapper.aio.FailoverSuccessError)

    def is_network_error(self, error: BaseException) -> bool:
        return isinstance(error, NETWORK_ERRORS)

    def describe(self, conn: Any) -> str:
        return describe(conn)

    def pooled_provider(self) -> Any:
        return aws_wrapper.aio.AsyncPooledConnectionProvider()

    async def release(self) -> None:
        await aws_wrapper.aio.release_resources()


def info() -> dict[str, Any]:
    return {
        "implementation": "aws_wrapper",
        "version": aws_wrapper.__version__,
        "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__}, libpq {psycopg.pq.version()})",
        "pymysql": importlib.metadata.version("PyMySQL"),
        "aiomysql": importlib.metadata.version("aiomysql"),
        "mysql-connector-python": importlib.metadata.version("mysql-connector-python"),
    }


def main() -> int:
    # the monitors' warnings (aborted connections, failovers) would flood the worker's log
    logging.getLogger("aws_wrapper").setLevel(logging.ERROR)
    variants: dict[str, Variant] = {
        v.name: v for v in (RawSync(), RawAsync(), OursSync(), OursAio())
    }
    return serve(variants, info)


if __name__ == "__main__":
    sys.exit(main())
