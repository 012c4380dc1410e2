"""What the SQLAlchemy tests share: URLs for the devcluster, the ORM model, instance ids."""

from __future__ import annotations

import pytest
from sqlalchemy import String
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import aws_wrapper.sqlalchemy  # noqa: F401 - registers the dialects even without entry points
from aws_wrapper_devcluster import Cluster

SCHEMES = {
    "psycopg": "postgresql+aws_wrapper_psycopg",
    "pymysql": "mysql+aws_wrapper_pymysql",
    "mysqlconnector": "mysql+aws_wrapper_mysqlconnector",
    "aiomysql": "mysql+aws_wrapper_aiomysql",
}
ENGINE_OF = {"psycopg": "pg", "pymysql": "mysql", "mysqlconnector": "mysql", "aiomysql": "mysql"}


def cluster_for(request: pytest.FixtureRequest, driver: str) -> Cluster:
    name = "devcluster_pg" if ENGINE_OF[driver] == "pg" else "devcluster_mysql"
    cluster: Cluster = request.getfixturevalue(name)
    return cluster


def url_for(cluster: Cluster, driver: str, **query: object) -> URL:
    """The SQLAlchemy URL of the cluster endpoint; ``query`` holds wrapper properties
    (``wrapper_plugins=...``) and driver parameters."""
    params = cluster.conn_params()
    return URL.create(
        SCHEMES[driver],
        username=params["user"],
        password=params["password"],
        host=params["host"],
        port=params["port"],
        database=params.get("dbname") or params.get("database"),
        query={k: str(v) for k, v in query.items()},
    )


def instance_sql(driver: str) -> str:
    if ENGINE_OF[driver] == "pg":
        return "SELECT pg_catalog.aurora_db_instance_identifier()"
    return "SELECT @@aurora_server_id"


def session_id_sql(driver: str) -> str:
    return "SELECT pg_backend_pid()" if ENGINE_OF[driver] == "pg" else "SELECT CONNECTION_ID()"


def kill_session(cluster: Cluster, driver: str, session_id: int) -> None:
    """End a server session from the server side (an administrator's kill, a restart)."""
    params = cluster.direct_params(cluster.writer, admin=True)
    if ENGINE_OF[driver] == "pg":
        import psycopg

        with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (session_id,))
    else:
        import pymysql

        mysql = pymysql.connect(**params, connect_timeout=5)
        try:
            with mysql.cursor() as cur:
                cur.execute(f"KILL {int(session_id)}")
        finally:
            mysql.close()


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(50))
    worker: Mapped[int] = mapped_column(default=0)
