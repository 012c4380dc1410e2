# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_read_write_splitting.py
# Change the async source (or the table in tools/unasync_build.py), then `make generate`.
"""read_write_splitting on the devcluster: both engines, both trees."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import run_blocking
from aws_wrapper.devcluster import Cluster
from aws_wrapper.sync import AwsWrapperConnection

ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql"}


@pytest.fixture(params=["psycopg", "pymysql"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture(autouse=True)
def release_monitors() -> Any:
    yield
    aw.release_resources()


def instance_of(conn: AwsWrapperConnection) -> str:
    sql = (
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if conn.driver_dialect.engine == "postgresql"
        else "SELECT @@aurora_server_id"
    )
    cur = conn.execute(sql)
    row = cur.fetchone()
    conn.rollback()
    return str(row[0])


def connect(cluster: Cluster, driver: str, **props: Any) -> AwsWrapperConnection:
    props.setdefault("plugins", "read_write_splitting,failover_v2")
    return aw.connect(driver=driver, **cluster.conn_params(), **props)


def test_read_only_moves_to_a_reader_and_back(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.execute("CREATE TABLE IF NOT EXISTS rw_t (id INT)")
        writer = cluster.writer
        assert instance_of(conn) == writer
        conn.set_read_only(True)
        reader = instance_of(conn)
        assert reader != writer
        assert conn.current_host is not None and conn.current_host.host_id == reader
        with pytest.raises(Exception, match=r"(?i)read.only|recovery"):
            conn.execute("INSERT INTO rw_t VALUES (1)")  # the server's own refusal
        conn.set_read_only(False)
        assert instance_of(conn) == writer
        conn.execute("INSERT INTO rw_t VALUES (1)")
        conn.set_read_only(True)  # the reader connection is reused
        assert instance_of(conn) == reader


def test_switching_inside_a_transaction_is_refused(cluster: Cluster, driver: str) -> None:
    with connect(cluster, driver) as conn:
        conn.execute("START TRANSACTION")
        assert conn.in_transaction
        with pytest.raises(aw.ReadWriteSplittingError, match="inside a transaction"):
            conn.set_read_only(True)
        conn.rollback()
        conn.set_read_only(True)
        assert instance_of(conn) != cluster.writer


def test_roles_are_followed_after_a_failover(cluster: Cluster, driver: str) -> None:
    """A reader that became the writer is not used for reads."""
    with connect(cluster, driver) as conn:
        conn.set_autocommit(True)
        conn.set_read_only(True)
        reader = instance_of(conn)
        conn.set_read_only(False)
        result = run_blocking(partial(cluster.failover, reader))  # promote our reader
        assert result["new_writer"] == reader
        with pytest.raises(aw.FailoverSuccessError):
            conn.execute("SELECT 1")
        assert instance_of(conn) == reader  # now the writer
        conn.set_read_only(True)
        assert instance_of(conn) != cluster.writer
