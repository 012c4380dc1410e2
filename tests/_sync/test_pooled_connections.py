# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_pooled_connections.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Internal connection pools on the devcluster: both engines, both trees.

PostgreSQL pools are psycopg_pool's; MySQL pools are the wrapper's generic pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import gather
from aws_wrapper._sync.pooled_connection_provider import default_pool_key
from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import parse_properties
from aws_wrapper.sync import AwsWrapperConnection, PooledConnectionProvider, PoolSettings
from aws_wrapper_devcluster import Cluster

from ..helpers import live_workers

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql"}


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture
def provider() -> Iterator[PooledConnectionProvider]:
    p = PooledConnectionProvider(PoolSettings(max_size=4, timeout=5.0))
    yield p
    aw.release_resources()


def scalar(conn: AwsWrapperConnection, sql: str) -> Any:
    cur = conn.execute(sql)
    row = cur.fetchone()
    assert row is not None
    conn.rollback()
    return row[0]


def instance_of(conn: AwsWrapperConnection) -> str:
    pg = conn.driver_dialect.engine == "postgresql"
    sql = "SELECT pg_catalog.aurora_db_instance_identifier()" if pg else "SELECT @@aurora_server_id"
    return str(scalar(conn, sql))


def backend_of(conn: AwsWrapperConnection) -> int:
    pg = conn.driver_dialect.engine == "postgresql"
    return int(scalar(conn, "SELECT pg_backend_pid()" if pg else "SELECT CONNECTION_ID()"))


def connect(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider | None, **props: Any
) -> AwsWrapperConnection:
    props.setdefault("plugins", "read_write_splitting")
    return aw.connect(driver=driver, connection_provider=provider, **cluster.conn_params(), **props)


def test_toggling_reuses_pooled_connections(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    readers: set[str] = set()
    backends: set[tuple[str, int]] = set()
    with connect(cluster, driver, provider) as conn:
        for _ in range(6):
            conn.set_read_only(True)
            reader = instance_of(conn)
            readers.add(reader)
            backends.add((reader, backend_of(conn)))
            assert conn.current_host is not None and conn.current_host.host_id == reader
            conn.set_read_only(False)
            assert instance_of(conn) == cluster.writer
    # every switch went back to a pool: one server connection per reader visited, no more
    assert len(backends) == len(readers)
    stats = provider.pool_stats()
    assert stats and all(size <= 1 for size, _ in stats.values()), stats


def test_a_pooled_connection_outlives_the_wrapper_connection(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    with connect(cluster, driver, provider, reader_host_selector_strategy="random") as c1:
        c1.set_read_only(True)
        first = (instance_of(c1), backend_of(c1))
    seen = set()
    for _ in range(40):  # random picks among 2 readers: the first comes back (but for 2^-40)
        with connect(cluster, driver, provider) as c2:
            c2.set_read_only(True)
            seen.add((instance_of(c2), backend_of(c2)))
        if first in seen:
            break
    assert first in seen
    assert len(seen) <= 2  # never more server connections than readers


def test_returned_connections_are_reset(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    reader_host = None
    with connect(cluster, driver, provider) as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        reader_host = conn.current_host
        raw = conn.driver_connection
        assert conn.driver_dialect.get_read_only(raw)
    assert reader_host is not None
    # take the same pooled connection directly and look at its state
    dialect = conn.driver_dialect
    again = provider.connect(reader_host, _props_of(cluster, dialect), dialect)
    try:
        assert dialect.get_autocommit(again) is False
        assert dialect.get_read_only(again) is False
        assert dialect.in_transaction(again) is False
    finally:
        provider.release(again, dialect)


def test_a_connection_given_back_is_idle_when_release_returns(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    """The reset happens in the release, not in a pool worker later: a checkout right after
    finds the connection, and no second server connection is opened for it."""
    with connect(cluster, driver, provider) as conn:
        conn.set_read_only(True)
        reader = conn.current_host
        dialect = conn.driver_dialect
    assert reader is not None
    props = _props_of(cluster, dialect)
    first = provider.connect(reader, props, dialect)
    for _ in range(3):
        dialect.set_read_only(first, True)  # something the release must undo
        provider.release(first, dialect)
        assert provider.pool_stats()[default_pool_key(reader, props)] == (1, 1)  # back, idle
        again = provider.connect(reader, props, dialect)
        assert again is first
        assert dialect.get_read_only(again) is False
    provider.release(first, dialect)


def _props_of(cluster: Cluster, dialect: Any) -> Any:
    raw = dialect.parse_target("", cluster.conn_params())
    return parse_properties(raw, dialect.driver_params(), dialect.code)


def test_least_connections_spreads_over_readers(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    conns = [
        connect(cluster, driver, provider, reader_host_selector_strategy="least_connections")
        for _ in range(4)
    ]
    try:
        picked = []
        for conn in conns:
            conn.set_read_only(True)
            picked.append(instance_of(conn))
        # each switch sees the pooled connections the earlier ones hold: 2 and 2
        assert sorted(picked.count(r) for r in set(picked)) == [2, 2], picked
    finally:
        for conn in conns:
            conn.close()


def test_pool_timeout_names_the_pool(cluster: Cluster, driver: str) -> None:
    provider = PooledConnectionProvider(PoolSettings(max_size=1, timeout=0.3))
    try:
        host = HostInfo(cluster.instance_host(cluster.writer), cluster.port)
        with connect(cluster, driver, None) as plain:
            dialect_obj = plain.driver_dialect
        props = _props_of(cluster, dialect_obj)
        first = provider.connect(host, props, dialect_obj)
        with pytest.raises(aw.PoolTimeoutError, match=rf"pool .*{host.host}.* within 0\.3 s"):
            provider.connect(host, props, dialect_obj)
        provider.release(first, dialect_obj)
        second = provider.connect(host, props, dialect_obj)  # free again
        provider.release(second, dialect_obj)
    finally:
        provider.release_resources()


def test_a_refusing_reader_fails_fast_and_the_other_is_used(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    readers = [i for i in cluster.instance_ids if i != cluster.writer]
    cluster.reject(readers[0])
    try:
        with connect(
            cluster, driver, provider, reader_host_selector_strategy="round_robin"
        ) as conn:
            for _ in range(3):  # round robin tries the refusing reader too, then moves on
                conn.set_read_only(True)
                assert instance_of(conn) == readers[1]
                conn.set_read_only(False)
    finally:
        cluster.heal(readers[0])


def test_release_resources_closes_the_pools(cluster: Cluster, driver: str) -> None:
    provider = PooledConnectionProvider()
    with connect(cluster, driver, provider) as conn:
        conn.set_read_only(True)
        conn.set_read_only(False)
    assert provider.pool_stats()
    aw.release_resources()
    assert provider.pool_stats() == {}
    assert live_workers("aws-wrapper:") == []  # psycopg_pool's workers are named after the pool


def test_global_provider_is_used_by_new_connections(cluster: Cluster, driver: str) -> None:
    provider = PooledConnectionProvider()
    aw.set_connection_provider(provider)
    try:
        with aw.connect(
            driver=driver, plugins="read_write_splitting", **cluster.conn_params()
        ) as conn:
            conn.set_read_only(True)
            assert provider.pool_stats()
    finally:
        aw.set_connection_provider(None)
        aw.release_resources()


def test_concurrent_wrapper_connections_share_the_pools(
    cluster: Cluster, driver: str, provider: PooledConnectionProvider
) -> None:
    def work() -> str:
        with connect(cluster, driver, provider) as conn:
            conn.set_read_only(True)
            return instance_of(conn)

    picked = gather(*[work for _ in range(8)])
    assert set(picked) <= set(cluster.instance_ids) - {cluster.writer}
    assert all(size <= 4 for size, _ in provider.pool_stats().values())


def test_a_bad_connection_provider_is_a_clear_error(cluster: Cluster, driver: str) -> None:
    with pytest.raises(aw.ConfigurationError, match="connection_provider"):
        aw.connect(driver=driver, connection_provider=object(), **cluster.conn_params())
