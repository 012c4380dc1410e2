"""The connect path reads no environment variable: where a connection goes is decided by code
(the connect arguments and the name-resolution hook, ``aws_wrapper.set_name_resolver``), never
by a variable. Recorded over first connects, topology and monitoring connections, a failover
and the reconnects after it, in both worlds.

Reads are attributed to the first frame outside the standard library: a read by a driver
(psycopg follows libpq's ``PG*`` variables) is the driver's; one by the standard library on
behalf of the wrapper (``getpass.getuser()``, say) is the wrapper's.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper._async.plugins.host_monitoring import host_monitors as async_host_monitors
from aws_wrapper._sync.plugins.host_monitoring import host_monitors as sync_host_monitors
from aws_wrapper_devcluster import Cluster, DatabaseServer

WRAPPER_DIR = str(Path(aws_wrapper.__file__).resolve().parent)
HERE = str(Path(__file__).resolve())
STDLIB_DIRS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
)
SITE_DIRS = tuple(
    str(Path(p).resolve()) for p in {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
)
PLUGINS = "failover_v2,host_monitoring_v2"
EFM: dict[str, Any] = {
    "failure_detection_time_ms": 1000,
    "failure_detection_interval_ms": 500,
    "failure_detection_count": 2,
}


@functools.cache
def _resolved(filename: str) -> str:
    return str(Path(filename).resolve())


@functools.cache
def _is_stdlib(path: str) -> bool:
    if path.startswith("<frozen"):
        return True
    return path.startswith(STDLIB_DIRS) and not path.startswith(SITE_DIRS)


class RecordingEnviron(MutableMapping[str, str]):
    """``os.environ`` that remembers which reads the wrapper made (writes go through)."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real
        self.by_wrapper: list[tuple[str, str]] = []
        self.reads = 0
        self._lock = threading.Lock()

    def _record(self, key: str) -> None:
        frame: FrameType | None = sys._getframe(2)
        path = ""
        while frame is not None:
            filename = frame.f_code.co_filename
            path = filename if filename.startswith("<") else _resolved(filename)
            if path == HERE:
                return  # the test itself
            if not _is_stdlib(path):
                break
            frame = frame.f_back
        with self._lock:
            self.reads += 1
            if frame is not None and path.startswith(WRAPPER_DIR + os.sep):
                self.by_wrapper.append((key, f"{path}:{frame.f_lineno}"))

    def __getitem__(self, key: str) -> str:
        self._record(key)
        return self.real[key]

    def __contains__(self, key: object) -> bool:
        self._record(str(key))
        return key in self.real

    def __iter__(self) -> Iterator[str]:
        self._record("<every variable>")
        return iter(list(self.real))

    def __len__(self) -> int:
        return len(self.real)

    def __setitem__(self, key: str, value: str) -> None:
        self.real[key] = value

    def __delitem__(self, key: str) -> None:
        del self.real[key]

    def copy(self) -> dict[str, str]:
        self._record("<every variable>")
        return dict(self.real)


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RecordingEnviron]:
    """Records reads of ``os.environ`` (and so ``os.getenv``) in every thread. The variables
    that used to steer connections point at a hosts file that would send every name nowhere."""
    bogus = tmp_path / "hosts"
    bogus.write_text("192.0.2.1 localhost\n")  # TEST-NET-1: nothing answers there
    monkeypatch.setenv("AWS_WRAPPER_HOSTS_FILE", str(bogus))
    monkeypatch.setenv("DEVCLUSTER_HOSTS_FILE", str(bogus))
    recording = RecordingEnviron(os.environ)
    monkeypatch.setattr(os, "environ", recording)
    yield recording
    assert recording.by_wrapper == [], f"the wrapper read the environment: {recording.by_wrapper}"


def instance_sql(engine: str) -> str:
    if engine == "postgresql":
        return "SELECT pg_catalog.aurora_db_instance_identifier()"
    return "SELECT @@aurora_server_id"


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_blocking_connect_failover_and_monitors_read_no_environment(
    request: pytest.FixtureRequest, driver: str, environ: RecordingEnviron
) -> None:
    cluster: Cluster = request.getfixturevalue(
        "devcluster_pg" if driver == "psycopg" else "devcluster_mysql"
    )
    conn = aws_wrapper.connect(
        driver=driver, plugins=PLUGINS, **EFM, **cluster.conn_params(), failover_timeout_sec=30
    )
    try:
        conn.autocommit = True
        sql = instance_sql(cluster.engine.value)
        with conn.cursor() as cur:
            cur.execute(sql)
            assert cur.fetchone() == (cluster.writer,)
        wait_for(lambda: any(m.has_connection for m in sync_host_monitors()))
        result = cluster.failover()
        with conn.cursor() as cur, pytest.raises(aws_wrapper.FailoverSuccessError):
            cur.execute(sql)
        with conn.cursor() as cur:
            cur.execute(sql)
            assert cur.fetchone() == (result["new_writer"],)
        reader = aws_wrapper.connect(
            driver=driver, plugins=PLUGINS, **cluster.conn_params("reader")
        )
        reader.close()
    finally:
        conn.close()
        aws_wrapper.release_resources()


@pytest.mark.parametrize("driver", ["psycopg", "aiomysql"])
async def test_async_connect_failover_and_monitors_read_no_environment(
    request: pytest.FixtureRequest, driver: str, environ: RecordingEnviron
) -> None:
    cluster: Cluster = request.getfixturevalue(
        "devcluster_pg" if driver == "psycopg" else "devcluster_mysql"
    )
    conn = await aws_wrapper.aio.connect(
        driver=driver, plugins=PLUGINS, **EFM, **cluster.conn_params(), failover_timeout_sec=30
    )
    try:
        await conn.set_autocommit(True)
        sql = instance_sql(cluster.engine.value)
        cur = await conn.execute(sql)
        assert await cur.fetchone() == (cluster.writer,)
        for _ in range(100):
            if any(m.has_connection for m in async_host_monitors()):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no monitoring connection")
        result = await asyncio.to_thread(cluster.failover)
        with pytest.raises(aws_wrapper.aio.FailoverSuccessError):
            await conn.execute(sql)
        cur = await conn.execute(sql)
        assert await cur.fetchone() == (result["new_writer"],)
        reader = await aws_wrapper.aio.connect(
            driver=driver, plugins=PLUGINS, **cluster.conn_params("reader")
        )
        await reader.close()
    finally:
        await conn.close()
        await aws_wrapper.aio.release_resources()


def test_the_recorder_sees_a_read_by_the_wrapper(environ: RecordingEnviron) -> None:
    """The check above would catch one: a read made from a module of the wrapper's package."""
    code = compile("import os\nos.getenv('AWS_WRAPPER_HOSTS_FILE')", f"{WRAPPER_DIR}/x.py", "exec")
    exec(code, {})
    assert [key for key, _ in environ.by_wrapper] == ["AWS_WRAPPER_HOSTS_FILE"]
    environ.by_wrapper.clear()


def test_hosts_file_variables_do_not_steer_connections(
    pg_server: DatabaseServer, environ: RecordingEnviron, tmp_path: Path
) -> None:
    """With no resolver installed, a name listed in a hosts file named by the variables that
    once steered connections (``AWS_WRAPPER_HOSTS_FILE``) stays unresolvable."""
    params = pg_server.conn_params()
    hosts = tmp_path / "steer"
    hosts.write_text(f"{params['host']} db.devcluster.invalid\n")
    os.environ["AWS_WRAPPER_HOSTS_FILE"] = str(hosts)
    os.environ["DEVCLUSTER_HOSTS_FILE"] = str(hosts)
    previous = aws_wrapper.set_name_resolver(None)
    try:
        with pytest.raises(aws_wrapper.ConnectError):
            aws_wrapper.connect(
                driver="psycopg", plugins="", **{**params, "host": "db.devcluster.invalid"}
            )
        aws_wrapper.set_name_resolver(
            lambda host: str(params["host"]) if "devcluster" in host else None
        )
        with (
            aws_wrapper.connect(
                driver="psycopg", plugins="", **{**params, "host": "db.devcluster.invalid"}
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        aws_wrapper.set_name_resolver(previous)
