"""The loopback database servers used by the test suite (aws_wrapper_devcluster)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from aws_wrapper_devcluster import (
    APP_USER,
    SERVER_OS_USER,
    DatabaseServer,
    MariaDBServer,
    PostgresServer,
    free_port,
)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _process_uids(pid: int) -> set[int]:
    """Real, effective, saved and filesystem UIDs of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return {int(uid) for uid in line.split()[1:]}
    raise AssertionError(f"no Uid line for pid {pid}")


def _assert_unprivileged(pid: int) -> None:
    uids = _process_uids(pid)
    if os.geteuid() == 0:
        assert 0 not in uids, f"server process {pid} runs with uid 0: {uids}"
    else:
        assert uids == {os.geteuid()}


def _process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat.rsplit(b")", 1)[1].split()[0] == b"Z"


# --------------------------------------------------------------------------- PostgreSQL


def test_pg_app_user_connects_and_is_not_superuser(pg_server: PostgresServer) -> None:
    with psycopg.connect(**pg_server.conn_params(), connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT current_user, current_database(), rolsuper, rolcreaterole,"
            " rolcreatedb, rolreplication FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (APP_USER, "app", False, False, False, False)
        conn.execute("CREATE TABLE t_servers (id int PRIMARY KEY)")
        conn.execute("INSERT INTO t_servers VALUES (1)")
        assert conn.execute("SELECT count(*) FROM t_servers").fetchone() == (1,)
        conn.execute("DROP TABLE t_servers")


def test_pg_admin_and_settings(pg_server: PostgresServer) -> None:
    with psycopg.connect(**pg_server.admin_params(), connect_timeout=5) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses',"
                " 'max_connections', 'wal_level', 'hot_standby', 'fsync', 'max_wal_senders')"
            ).fetchall()
        )
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert conn.execute("SHOW is_superuser").fetchone() == ("on",)
    assert settings == {
        "listen_addresses": pg_server.host,
        "max_connections": "300",
        "wal_level": "replica",
        "hot_standby": "on",
        "fsync": "off",
        "max_wal_senders": "10",
    }


def test_pg_wrong_password_is_rejected(pg_server: PostgresServer) -> None:
    params = pg_server.conn_params() | {"password": "wrong"}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**params, connect_timeout=5)


def test_pg_processes_are_not_root(pg_server: PostgresServer) -> None:
    assert pg_server.pid is not None
    _assert_unprivileged(pg_server.pid)
    with psycopg.connect(**pg_server.conn_params(), connect_timeout=5) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert backend is not None
    _assert_unprivileged(backend[0])
    if os.geteuid() == 0:
        assert pg_server.os_user == SERVER_OS_USER
        assert pg_server.data_dir.stat().st_uid != 0


# --------------------------------------------------------------------------- MariaDB


def test_mariadb_app_user_connects_and_is_not_superuser(mariadb_server: MariaDBServer) -> None:
    conn = pymysql.connect(**mariadb_server.conn_params(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER(), DATABASE()")
            assert cur.fetchone() == (f"{APP_USER}@%", "app")
            cur.execute("SHOW GRANTS")
            grants = " ".join(row[0] for row in cur.fetchall())
            assert "ON *.*" not in grants.replace("GRANT USAGE ON *.*", "")
            assert "SUPER" not in grants
            cur.execute("CREATE TABLE t_servers (id INT PRIMARY KEY)")
            cur.execute("INSERT INTO t_servers VALUES (1)")
            conn.commit()
            cur.execute("DROP TABLE t_servers")
            with pytest.raises(pymysql.err.OperationalError) as denied:
                cur.execute("SELECT * FROM mysql.user")
            assert denied.value.args[0] == 1142  # ER_TABLEACCESS_DENIED_ERROR
            with pytest.raises(pymysql.err.OperationalError):
                cur.execute("CREATE DATABASE not_allowed")
    finally:
        conn.close()


def test_mariadb_admin_and_settings(mariadb_server: MariaDBServer) -> None:
    conn = pymysql.connect(**mariadb_server.admin_params(), connect_timeout=5)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GRANTS")
            grants = " ".join(row[0] for row in cur.fetchall())
            assert "GRANT ALL PRIVILEGES ON *.*" in grants
            assert "WITH GRANT OPTION" in grants
            cur.execute(
                "SELECT @@bind_address, @@max_connections, @@log_bin, @@server_id,"
                " @@gtid_strict_mode, @@skip_name_resolve, @@character_set_server"
            )
            row = cur.fetchone()
    finally:
        conn.close()
    assert row == (mariadb_server.host, 500, 1, 1, 1, 1, "utf8mb4")


def test_mariadb_root_is_not_reachable_over_tcp(mariadb_server: MariaDBServer) -> None:
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(
            host=mariadb_server.host,
            port=mariadb_server.port,
            user="root",
            password="",
            connect_timeout=5,
        ).close()


def test_mariadb_process_is_not_root(mariadb_server: MariaDBServer) -> None:
    assert mariadb_server.pid is not None
    _assert_unprivileged(mariadb_server.pid)
    if os.geteuid() == 0:
        assert mariadb_server.os_user == SERVER_OS_USER
        assert mariadb_server.data_dir.stat().st_uid != 0


# --------------------------------------------------------------------------- lifecycle


SERVER_CLASSES = [PostgresServer, MariaDBServer]


@pytest.mark.parametrize("server_class", SERVER_CLASSES, ids=["pg", "mariadb"])
def test_stop_is_idempotent_and_closes_port(
    server_class: type[DatabaseServer], devcluster_log: Callable[[str], None]
) -> None:
    server = server_class(name=f"short-{server_class.__name__}", log=devcluster_log)
    with server:
        host, port, pid, base = server.host, server.port, server.pid, server.base_dir
        assert pid is not None
        assert _port_open(host, port)
        assert base.is_dir()
        server.stop()
        server.stop()
    server.stop()  # and once more after __exit__
    assert server.pid is None
    assert not server.running
    assert _process_gone(pid)
    assert not _port_open(host, port)
    assert not base.exists(), "the temporary directory should be removed"


@pytest.mark.parametrize("server_class", SERVER_CLASSES, ids=["pg", "mariadb"])
def test_restart_keeps_data_in_given_base_dir(
    server_class: type[DatabaseServer], devcluster_log: Callable[[str], None]
) -> None:
    # pytest's tmp_path lives in a 0700 directory that the unprivileged
    # server user cannot enter, so make a searchable one.
    parent = Path(tempfile.mkdtemp(prefix="awswrapper-test-"))
    os.chmod(parent, 0o755)
    server = server_class(base_dir=parent / "node", port=free_port(), log=devcluster_log)
    try:
        server.start()
        _write_marker(server)
        server.stop()
        assert (parent / "node" / "data").is_dir(), "a given base_dir is kept"
        server.start()
        assert _read_marker(server) == 42
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


def _write_marker(server: DatabaseServer) -> None:
    if isinstance(server, PostgresServer):
        with psycopg.connect(**server.conn_params(), autocommit=True) as conn:
            conn.execute("CREATE TABLE marker (v int)")
            conn.execute("INSERT INTO marker VALUES (42)")
    else:
        my = pymysql.connect(**server.conn_params(), autocommit=True)
        with my.cursor() as cur:
            cur.execute("CREATE TABLE marker (v INT)")
            cur.execute("INSERT INTO marker VALUES (42)")
        my.close()


def _read_marker(server: DatabaseServer) -> int:
    if isinstance(server, PostgresServer):
        with psycopg.connect(**server.conn_params()) as conn:
            row = conn.execute("SELECT v FROM marker").fetchone()
    else:
        my = pymysql.connect(**server.conn_params())
        with my.cursor() as cur:
            cur.execute("SELECT v FROM marker")
            row = cur.fetchone()
        my.close()
    assert row is not None
    value: int = row[0]
    return value


def test_mysql_connector_aio_works_without_server_tls() -> None:
    """mysql.connector.aio crashes after logging in to a server without TLS; the wrapper's
    dialect retries that login explicitly without TLS (the session was plain either way)."""
    import asyncio

    import aws_wrapper.aio

    async def query(params: dict[str, Any]) -> Any:
        conn = await aws_wrapper.aio.connect(driver="mysql-connector", plugins="", **params)
        try:
            cur = await conn.execute("SELECT 1")
            return await cur.fetchone()
        finally:
            await conn.close()

    with MariaDBServer(tls=False) as server:
        assert asyncio.run(query(server.conn_params())) == (1,)


def test_free_port_is_below_the_ephemeral_range_and_bindable() -> None:
    """A server port is never one the kernel may give a client socket meanwhile (the
    devcluster's green instances once lost theirs to a connect() between pick and bind)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(1024 <= p < low for p in ports), (sorted(ports), low)
    assert len(ports) > 1  # random, not one fixed port
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
