"""The blocking SQLAlchemy dialects (create_engine) on the devcluster: psycopg, PyMySQL and
mysql-connector through aws_wrapper."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

import aws_wrapper
from aws_wrapper.sqlalchemy import wrapper_connection
from aws_wrapper.sqlalchemy._base import SyncWrapperDBAPI
from aws_wrapper.sqlalchemy.mysql import MySQLDialect_aws_wrapper_pymysql
from aws_wrapper.sqlalchemy.psycopg import PGDialect_aws_wrapper_psycopg
from aws_wrapper_devcluster import Cluster

from .helpers import Base, Item, cluster_for, instance_sql, kill_session, session_id_sql, url_for


@pytest.fixture(params=["psycopg", "pymysql", "mysqlconnector"])
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, driver: str) -> Cluster:
    return cluster_for(request, driver)


@pytest.fixture(autouse=True)
def release_monitors() -> Iterator[None]:
    yield
    aws_wrapper.release_resources()


def make_engine(
    cluster: Cluster, driver: str, query: dict[str, object] | None = None, **kwargs: Any
) -> Engine:
    """An engine on the cluster endpoint with failover and read/write splitting."""
    props: dict[str, object] = {
        "wrapper_plugins": "failover_v2,read_write_splitting",
        "failover_timeout_sec": 20,
    }
    props.update(query or {})
    return create_engine(url_for(cluster, driver, **props), **kwargs)


@pytest.fixture
def engine(cluster: Cluster, driver: str) -> Iterator[Engine]:
    engine = make_engine(cluster, driver)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_orm_crud(engine: Engine, driver: str) -> None:
    with Session(engine) as session:
        session.add_all([Item(id=i, name=f"item {i}") for i in range(1, 6)])
        session.commit()
        found = session.scalars(select(Item).where(Item.id > 2).order_by(Item.id)).all()
        assert [i.id for i in found] == [3, 4, 5]
        found[0].name = "changed"
        session.commit()
        assert session.get(Item, 3) is not None
        result = session.execute(update(Item).where(Item.id < 3).values(name="bulk"))
        assert result.rowcount == 2  # type: ignore[attr-defined]
        session.execute(delete(Item).where(Item.id == 5))
        session.commit()
    with Session(engine) as session:
        names = {i: n for i, n in session.execute(select(Item.id, Item.name))}
        assert names == {1: "bulk", 2: "bulk", 3: "changed", 4: "item 4"}
        # executemany (ORM bulk UPDATE by primary key) reports its row count
        session.execute(update(Item), [{"id": 1, "name": "x"}, {"id": 2, "name": "y"}])
        session.commit()
        assert session.scalar(select(func.count()).where(Item.name.in_(["x", "y"]))) == 2
    with engine.connect() as conn:
        wrapper = wrapper_connection(conn)
        assert isinstance(wrapper, aws_wrapper.AwsWrapperConnection)
        assert conn.scalar(text(instance_sql(driver))) == wrapper.current_host.host_id  # type: ignore[union-attr]
        assert engine.dialect.driver == "aws_wrapper_" + driver


def test_isolation_level_goes_through_the_wrapper(engine: Engine, driver: str) -> None:
    """So that failover replays it on the new connection."""
    with engine.connect().execution_options(isolation_level="SERIALIZABLE") as conn:
        wrapper = wrapper_connection(conn)
        assert wrapper.isolation_level == "SERIALIZABLE"
        assert not wrapper.autocommit
        assert conn.get_isolation_level() == "SERIALIZABLE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert wrapper_connection(conn).autocommit
        conn.execute(text("INSERT INTO sa_items (id, name, worker) VALUES (7, 'auto', 0)"))
    with engine.connect() as conn:  # reset on return to the pool
        assert not wrapper_connection(conn).autocommit
        assert conn.scalar(text("SELECT name FROM sa_items WHERE id = 7")) == "auto"


def test_url_properties_are_applied(cluster: Cluster, driver: str) -> None:
    # a wrapper property from the URL: the database dialect is forced
    engine = make_engine(cluster, driver, query={"wrapper_dialect": _plain_dialect(driver)})
    with engine.connect() as conn:
        assert wrapper_connection(conn).dialect_code == _plain_dialect(driver)
    engine.dispose()
    # ... and from connect_args
    engine = create_engine(
        url_for(cluster, driver),
        connect_args={"plugins": "", "wrapper_dialect": _plain_dialect(driver)},
    )
    with engine.connect() as conn:
        assert wrapper_connection(conn).dialect_code == _plain_dialect(driver)
    engine.dispose()
    # an unknown name fails at connect, naming it
    engine = make_engine(cluster, driver, query={"failover_timeout_secs": 5})
    with pytest.raises(sa_exc.InterfaceError) as info:
        engine.connect()
    assert isinstance(info.value.orig, aws_wrapper.PropertyError)
    assert "'failover_timeout_secs'" in str(info.value)
    assert "failover_timeout_sec" in str(info.value)  # the suggestion
    engine.dispose()
    # an unknown plugin code too
    engine = create_engine(url_for(cluster, driver, wrapper_plugins="failover_v3"))
    with pytest.raises(sa_exc.InterfaceError, match="failover_v3") as err:
        engine.connect()
    assert isinstance(err.value.orig, aws_wrapper.UnknownPluginError)
    engine.dispose()
    # the plugins given twice
    engine = create_engine(
        url_for(cluster, driver, wrapper_plugins="failover_v2"), connect_args={"plugins": ""}
    )
    with pytest.raises(sa_exc.ArgumentError, match="wrapper_plugins"):
        engine.connect()
    engine.dispose()


def _plain_dialect(driver: str) -> str:
    return "pg" if driver == "psycopg" else "mysql"


def test_read_only_execution_option(engine: Engine, driver: str, cluster: Cluster) -> None:
    writer = cluster.writer
    with engine.connect() as conn:
        assert conn.scalar(text(instance_sql(driver))) == writer
    readers = engine.execution_options(aws_read_only=True)
    with readers.connect() as conn:
        reader = conn.scalar(text(instance_sql(driver)))
        assert reader != writer
        assert wrapper_connection(conn).read_only is True
        with pytest.raises(sa_exc.DBAPIError, match=r"(?i)read.only|recovery"):
            conn.execute(text("INSERT INTO sa_items (id, name, worker) VALUES (1, 'a', 0)"))
    with engine.connect() as conn:  # reset on return to the pool
        assert conn.scalar(text(instance_sql(driver))) == writer
        assert wrapper_connection(conn).read_only is False
        conn.rollback()  # on a connection, outside a transaction
        conn.execution_options(aws_read_only=True)
        assert conn.scalar(text(instance_sql(driver))) != writer
        conn.rollback()
        with pytest.raises(sa_exc.InvalidRequestError, match="aws_read_only"):
            conn.begin()
            conn.execution_options(aws_read_only=False)
        conn.rollback()
    with Session(engine) as session:
        conn = session.connection(execution_options={"aws_read_only": True})
        assert session.scalar(text(instance_sql(driver))) != writer
        assert wrapper_connection(conn).read_only
    with pytest.raises(sa_exc.ArgumentError, match="aws_read_only"), engine.connect() as conn:
        conn.execution_options(aws_read_only="yes")
    if driver == "psycopg":  # SQLAlchemy's own option maps to the wrapper's read_only too
        with engine.connect().execution_options(postgresql_readonly=True) as conn:
            assert conn.scalar(text(instance_sql(driver))) != writer
        with engine.connect() as conn:
            assert conn.scalar(text(instance_sql(driver))) == writer


def test_a_failed_switch_is_wrapped_and_invalidates(
    cluster: Cluster, driver: str, engine: Engine
) -> None:
    """No reader answers and falling back to the writer is off: the wrapper's error comes as a
    statement's would, and the half-switched connection is not reused."""
    for reader in cluster.instance_ids:
        if reader != cluster.writer:
            cluster.reject(reader)
    strict = make_engine(
        cluster, driver, {"read_write_splitting_fallback_to_writer": "false"}, pool_size=1
    )
    with strict.connect() as conn:
        before = wrapper_connection(conn)
        conn.rollback()
        with pytest.raises(sa_exc.OperationalError) as info:
            conn.execution_options(aws_read_only=True)
        assert isinstance(info.value.orig, aws_wrapper.ReadWriteSplittingError)
        assert conn.invalidated
    with strict.connect() as conn:
        assert wrapper_connection(conn) is not before
        assert conn.scalar(text(instance_sql(driver))) == cluster.writer
    strict.dispose()


def test_pool_pre_ping_replaces_a_killed_connection(cluster: Cluster, driver: str) -> None:
    engine = make_engine(cluster, driver, pool_size=1, max_overflow=0, pool_pre_ping=True)
    with engine.connect() as conn:
        first = int(conn.scalar(text(session_id_sql(driver))))
    kill_session(cluster, driver, first)
    with engine.connect() as conn:  # no error: the ping found it dead, the pool replaced it
        second = int(conn.scalar(text(session_id_sql(driver))))
    assert second != first
    engine.dispose()


def test_a_closed_pooled_connection_is_replaced_at_checkout(cluster: Cluster, driver: str) -> None:
    engine = make_engine(cluster, driver, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        wrapper = wrapper_connection(conn)
    wrapper.close()  # e.g. by a read-only reset that failed
    with engine.connect() as conn:
        assert wrapper_connection(conn) is not wrapper
        assert conn.scalar(text("SELECT 1")) == 1
    engine.dispose()


def test_iam_login(request: pytest.FixtureRequest, fake_aws_env: dict[str, str]) -> None:
    """The iam plugin logs pooled connections in with tokens (the devcluster's PostgreSQL
    checks them as RDS does; it emulates IAM authentication for PostgreSQL only); no password
    in the URL."""
    cluster = cluster_for(request, "psycopg")
    cluster.create_iam_user("sa_iam")
    url = url_for(cluster, "psycopg", wrapper_plugins="iam,failover_v2")
    engine = create_engine(url.set(username="sa_iam", password=None), pool_size=2)
    with engine.connect() as first, engine.connect() as second:
        assert first.scalar(text("SELECT current_user")) == "sa_iam"
        assert second.scalar(text("SELECT current_user")) == "sa_iam"
    engine.dispose()


def test_a_killed_connection_is_a_disconnect(cluster: Cluster, driver: str) -> None:
    """Without pre-ping and without plugins, the driver's network error invalidates the
    connection (and the pool); the next checkout reconnects."""
    engine = make_engine(cluster, driver, query={"wrapper_plugins": ""}, pool_size=1)
    with engine.connect() as conn:
        first = int(conn.scalar(text(session_id_sql(driver))))
    kill_session(cluster, driver, first)
    with engine.connect() as conn:
        with pytest.raises(sa_exc.DBAPIError) as info:
            conn.execute(text("SELECT 1")).all()
        assert info.value.connection_invalidated, info.value
    with engine.connect() as conn:
        assert conn.scalar(text(session_id_sql(driver))) != first
    engine.dispose()


def test_failover_invalidates_the_pool(engine: Engine, driver: str, cluster: Cluster) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).all()
        conn.commit()
        old = cluster.writer
        new = cluster.failover()["new_writer"]
        with pytest.raises(sa_exc.OperationalError) as info:
            conn.execute(text(instance_sql(driver))).all()
        assert isinstance(
            info.value.orig,
            aws_wrapper.FailoverSuccessError | aws_wrapper.TransactionResolutionUnknownError,
        )
        assert info.value.connection_invalidated
        conn.rollback()
        assert conn.scalar(text(instance_sql(driver))) == new  # a fresh connection
    with Session(engine) as session:
        session.add(Item(id=1, name="after"))
        session.commit()
        where = session.scalar(text(instance_sql(driver)))
    assert where == new != old


# -- without a cluster ---------------------------------------------------------------------


def test_error_classes_recognise_both_hierarchies() -> None:
    import psycopg

    dbapi = PGDialect_aws_wrapper_psycopg.import_dbapi()
    assert isinstance(dbapi, SyncWrapperDBAPI)
    for error in (
        aws_wrapper.FailoverSuccessError("moved"),
        aws_wrapper.ConnectionClosedError("closed"),
        psycopg.errors.UniqueViolation("dup"),
    ):
        assert isinstance(error, dbapi.Error)
        wrapped = sa_exc.DBAPIError.instance("SELECT 1", None, error, dbapi.Error)
        expected = (
            sa_exc.IntegrityError
            if isinstance(error, psycopg.Error)
            else sa_exc.InterfaceError
            if isinstance(error, aws_wrapper.InterfaceError)
            else sa_exc.OperationalError
        )
        assert type(wrapped) is expected
    assert dbapi.adapters is psycopg.adapters  # the driver module shows through


@pytest.mark.parametrize(
    ("error", "disconnect"),
    [
        (aws_wrapper.FailoverSuccessError("moved"), True),
        (aws_wrapper.TransactionResolutionUnknownError("unknown"), True),
        (aws_wrapper.FailoverFailedError("none"), True),
        (aws_wrapper.ConnectionClosedError("closed"), True),
        (aws_wrapper.ConnectError("refused", "h:1"), True),
        (aws_wrapper.LoginError("denied", "h:1"), False),
        (aws_wrapper.ReadWriteSplittingError("refused"), False),
        (aws_wrapper.PropertyError("bad", "x"), False),
        (ConnectionResetError("reset"), True),
    ],
)
def test_is_disconnect(error: Exception, disconnect: bool) -> None:
    import pymysql

    dialects = (PGDialect_aws_wrapper_psycopg(), MySQLDialect_aws_wrapper_pymysql())  # type: ignore[no-untyped-call]
    for dialect in dialects:
        assert dialect.is_disconnect(error, None, None) is disconnect, (dialect, error)
    mysql = dialects[1]
    lost = pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
    assert mysql.is_disconnect(lost, None, None)
    assert not mysql.is_disconnect(pymysql.err.IntegrityError(1062, "dup"), None, None)


def test_lastrowid_of_an_insert(cluster: Cluster, driver: str) -> None:
    """CursorResult.lastrowid reads the cursor after SQLAlchemy closed it (MySQL dialects):
    the wrapper's cursor keeps it, as the drivers' cursors do."""
    if driver == "psycopg":
        pytest.skip("PostgreSQL has no lastrowid (RETURNING instead)")
    engine = make_engine(cluster, driver)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS lastrowid_t"))
            conn.execute(
                text("CREATE TABLE lastrowid_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
            )
            conn.execute(text("INSERT INTO lastrowid_t (v) VALUES (1), (2)"))
            result = conn.execute(text("INSERT INTO lastrowid_t (v) VALUES (3)"))
            assert result.lastrowid == 3
            conn.execute(text("DROP TABLE lastrowid_t"))
    finally:
        engine.dispose()
