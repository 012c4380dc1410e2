"""MySQLRelay: the Aurora MySQL metadata surface on MariaDB, through a tiny TCP forwarder.

Unit tests feed the relay bytes (one byte at a time, several packets per chunk, 16 MB
packets); the integration tests run a MariaDB writer and reader (MariaDBBackend), put an
asyncio forwarder that applies the relay in front of each, and run every contract query as
``app`` with PyMySQL, aiomysql, mysql.connector and mysql.connector.aio.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomysql
import mysql.connector
import mysql.connector.aio
import pymysql
import pytest

from aws_wrapper import aurora_queries as dialect
from aws_wrapper_devcluster.mariadb import MariaDBBackend, RdsTopologyRow
from aws_wrapper_devcluster.model import (
    AURORA_MYSQL_VERSION,
    WRITER_SESSION_ID,
    InstanceMetadata,
    InstanceSpec,
    TopologyRow,
)
from aws_wrapper_devcluster.mysql_relay import (
    CLIENT_COMPRESS,
    CLIENT_SSL,
    MAX_PACKET_PAYLOAD,
    MySQLRelay,
    rewrite_query,
)
from aws_wrapper_devcluster.servers import BinaryNotFoundError, find_mariadb_binaries, free_port

WRITER, READER = "relay-1", "relay-2"
STALE = "relay-9"  # a row older than 300 s: the wrapper's topology query must skip it

# --------------------------------------------------------------------------- packet helpers


def packet(seq: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "little") + bytes((seq & 0xFF,)) + payload


def packets(data: bytes) -> list[tuple[int, bytes]]:
    """Split a byte stream into ``(seq, payload)`` packets (the stream must be complete)."""
    out = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 3], "little")
        out.append((data[pos + 3], data[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    assert pos == len(data)
    return out


def greeting(caps: int = 0xF7FF | CLIENT_SSL | CLIENT_COMPRESS, caps_high: int = 0x81BF) -> bytes:
    """A MariaDB-like protocol v10 handshake payload."""
    return (
        b"\x0a5.5.5-10.11.19-MariaDB\x00"
        + (42).to_bytes(4, "little")
        + b"12345678\x00"
        + caps.to_bytes(2, "little")
        + b"\x2d\x02\x00"  # charset, status
        + caps_high.to_bytes(2, "little")
        + b"\x15"
        + b"\x00" * 6
        + b"\x1d\x00\x00\x00"  # MariaDB extended capabilities
        + b"9abcdefghijkl\x00mysql_native_password\x00"
    )


def handshake_response(caps: int = 0x000FA685) -> bytes:
    return (
        caps.to_bytes(4, "little")
        + (1 << 24).to_bytes(4, "little")
        + b"\x2d"
        + b"\x00" * 23
        + b"app\x00\x00app\x00caching_sha2_password\x00"
    )


META = InstanceMetadata(
    "db-1",
    (
        TopologyRow("db-1", WRITER_SESSION_ID, 1.5, None, 0.0),
        TopologyRow("db-2", "db-2-session", 2.5, 12.5, 1.25),
    ),
    AURORA_MYSQL_VERSION,
)

LOGIN_SERVER = [packet(0, greeting()), packet(2, b"\xfemysql_native_password\x00" + b"s" * 20)]
LOGIN_CLIENT = [packet(1, handshake_response()), packet(3, b"\x03" + b"@@aurora_server_id" + b"x")]
OK = b"\x00\x00\x00\x02\x00\x00\x00"


def logged_in_relay(metadata: InstanceMetadata = META) -> MySQLRelay:
    """A relay that saw a login with an auth switch (the client's auth data starts with 0x03
    and contains an Aurora name: it must pass untouched)."""
    relay = MySQLRelay(lambda: metadata)
    out = relay.server_to_client(LOGIN_SERVER[0])
    assert out != LOGIN_SERVER[0]  # capabilities cleared
    assert relay.client_to_server(LOGIN_CLIENT[0]) == LOGIN_CLIENT[0]
    assert relay.server_to_client(LOGIN_SERVER[1]) == LOGIN_SERVER[1]
    assert relay.client_to_server(LOGIN_CLIENT[1]) == LOGIN_CLIENT[1]
    assert relay.server_to_client(packet(4, OK)) == packet(4, OK)
    assert relay.rewritten == 0
    return relay


def feed(relay: MySQLRelay, stream: list[tuple[str, bytes]], step: int | None) -> dict[str, bytes]:
    """Feed ``(direction, bytes)`` items in order, ``step`` bytes at a time (None: whole)."""
    out = {"c": bytearray(), "s": bytearray()}
    for direction, data in stream:
        fn = relay.client_to_server if direction == "c" else relay.server_to_client
        size = step or len(data) or 1
        for i in range(0, len(data), size):
            out[direction] += fn(data[i : i + size])
    return {k: bytes(v) for k, v in out.items()}


# --------------------------------------------------------------------------- unit: handshake


def test_handshake_clears_tls_and_compression_only() -> None:
    relay = MySQLRelay(lambda: META)
    original = packet(0, greeting())
    out = relay.server_to_client(original)
    assert len(out) == len(original)
    payload = out[4:]
    low = payload.index(b"\x00", 1) + 1 + 4 + 8 + 1
    caps = int.from_bytes(payload[low : low + 2], "little")
    assert not caps & CLIENT_SSL and not caps & CLIENT_COMPRESS
    assert caps == 0xF7FF & ~(CLIENT_SSL | CLIENT_COMPRESS)
    # every other byte is unchanged
    diff = [i for i, (a, b) in enumerate(zip(original, out, strict=True)) if a != b]
    assert all(4 + low <= i < 4 + low + 2 for i in diff)


def test_handshake_one_byte_at_a_time() -> None:
    whole = MySQLRelay(lambda: META).server_to_client(packet(0, greeting()))
    relay = MySQLRelay(lambda: META)
    out = b"".join(relay.server_to_client(bytes((b,))) for b in packet(0, greeting()))
    assert out == whole


def test_client_asking_for_tls_turns_the_relay_into_a_pipe() -> None:
    relay = MySQLRelay(lambda: META)
    relay.server_to_client(packet(0, greeting()))
    ssl_request = packet(1, (0x000FA685 | CLIENT_SSL).to_bytes(4, "little") + b"\x00" * 28)
    assert relay.client_to_server(ssl_request) == ssl_request
    assert relay.passthrough
    query = packet(0, b"\x03SELECT @@aurora_server_id")
    assert relay.client_to_server(query) == query
    assert relay.server_to_client(b"\x16\x03\x01anything") == b"\x16\x03\x01anything"


def test_error_greeting_passes_through() -> None:
    relay = MySQLRelay(lambda: META)
    err = packet(0, b"\xff\x10\x04Too many connections")
    assert relay.server_to_client(err) == err
    assert relay.passthrough


# --------------------------------------------------------------------------- unit: commands


def session_stream() -> list[tuple[str, bytes]]:
    """A login with an auth switch, then several commands, some packed into one chunk."""
    q1 = packet(0, b"\x03SELECT @@aurora_server_id")
    ping = packet(0, b"\x0e")
    q2 = packet(0, b"\x03SELECT 1")
    q3 = packet(0, b"\x16SELECT SERVER_ID FROM information_schema.replica_host_status")
    result = packet(1, b"\x01") + packet(2, b"\x03def...") + packet(3, b"\x05db-1") + packet(4, OK)
    return [
        ("s", LOGIN_SERVER[0]),
        ("c", LOGIN_CLIENT[0]),
        ("s", LOGIN_SERVER[1]),
        ("c", LOGIN_CLIENT[1]),
        ("s", packet(4, OK)),
        ("c", q1),
        ("s", result),
        ("c", ping + q2),  # several packets in one chunk (pipelined)
        ("s", packet(1, OK) + packet(1, b"\x01") + packet(2, b"x") + packet(3, OK)),
        ("c", q3),
        ("s", packet(1, b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00")),
    ]


def test_commands_are_rewritten_whatever_the_chunking() -> None:
    stream = session_stream()
    whole = feed(MySQLRelay(lambda: META), stream, None)
    for step in (1, 2, 3, 5, 7, 64):
        assert feed(MySQLRelay(lambda: META), stream, step) == whole, step
    # everything in one chunk per direction, interleaving preserved by ordering
    client = packets(whole["c"])
    assert client[0] == (1, handshake_response())
    assert client[1] == (3, b"\x03@@aurora_server_idx")  # auth data: untouched
    assert client[2] == (0, b"\x03SELECT 'db-1' AS `@@aurora_server_id`")
    assert client[3] == (0, b"\x0e")
    assert client[4] == (0, b"\x03SELECT 1")
    seq, prepare = client[5]
    assert seq == 0 and prepare.startswith(b"\x16SELECT SERVER_ID FROM (SELECT CAST('db-1'")
    assert prepare.endswith(b") AS replica_host_status")
    server = [p for direction, data in stream if direction == "s" for p in packets(data)]
    assert packets(whole["s"])[1:] == server[1:]  # only the greeting changed


def test_packets_split_across_chunks_and_many_per_chunk() -> None:
    relay = logged_in_relay()
    queries = [packet(0, b"\x03SELECT @@innodb_read_only") for _ in range(3)]
    blob = b"".join(queries)
    out = b"".join(relay.client_to_server(blob[i : i + 1]) for i in range(len(blob)))
    assert packets(out) == [(0, b"\x03SELECT @@read_only AS `@@innodb_read_only`")] * 3
    relay = logged_in_relay()
    assert packets(relay.client_to_server(blob)) == packets(out)
    # a partial packet returns nothing until it is complete
    relay = logged_in_relay()
    assert relay.client_to_server(queries[0][:10]) == b""
    assert relay.client_to_server(queries[0][10:]) == out[: len(out) // 3]


def test_sixteen_megabyte_commands_pass_unchanged() -> None:
    relay = logged_in_relay()
    payload = b"\x03SELECT @@aurora_server_id, '" + b"x" * MAX_PACKET_PAYLOAD + b"'"
    first = payload[:MAX_PACKET_PAYLOAD]
    rest = payload[MAX_PACKET_PAYLOAD:]
    stream = packet(0, first) + packet(1, rest)
    out = bytearray()
    for i in range(0, len(stream), 1 << 16):
        out += relay.client_to_server(stream[i : i + 65536])
    assert bytes(out) == stream
    assert relay.rewritten == 0
    # and the next ordinary command is rewritten again
    assert b"'db-1'" in relay.client_to_server(packet(0, b"\x03SELECT @@aurora_server_id"))


def test_rewrite_that_outgrows_one_packet_is_split_and_sequence_ids_follow() -> None:
    relay = logged_in_relay()
    head = b"\x03SELECT SERVER_ID FROM information_schema.replica_host_status WHERE '"
    payload = head + b"y" * (MAX_PACKET_PAYLOAD - 1 - len(head) - 1) + b"'"
    assert len(payload) == MAX_PACKET_PAYLOAD - 1
    query = packet(0, payload)
    out = bytearray()
    for i in range(0, len(query), 1 << 16):
        out += relay.client_to_server(query[i : i + (1 << 16)])
    parts = packets(bytes(out))
    assert [seq for seq, _ in parts] == [0, 1]
    assert len(parts[0][1]) == MAX_PACKET_PAYLOAD
    joined = parts[0][1] + parts[1][1]
    assert joined == b"\x03" + rewrite_query(payload[1:], META)  # type: ignore[operator]
    # the server answers with sequence ids after the client's last one (2, 3, ...);
    # the client expects 1, 2, ...
    response = packet(2, b"\x01") + packet(3, b"\x03def") + packet(4, b"\x05db-1") + packet(5, OK)
    assert packets(relay.server_to_client(response)) == [
        (1, b"\x01"),
        (2, b"\x03def"),
        (3, b"\x05db-1"),
        (4, OK),
    ]
    # the next command resets the shift
    assert relay.client_to_server(packet(0, b"\x0e")) == packet(0, b"\x0e")
    assert relay.server_to_client(packet(1, OK)) == packet(1, OK)


def test_exactly_full_rewrite_ends_with_an_empty_packet() -> None:
    relay = logged_in_relay()
    base = b"\x03SELECT @@aurora_server_id, '"
    grown = len(rewrite_query(b"SELECT @@aurora_server_id", META) or b"") - len(
        b"SELECT @@aurora_server_id"
    )
    filler = MAX_PACKET_PAYLOAD - grown - len(base) - 1
    payload = base + b"z" * filler + b"'"
    out = relay.client_to_server(packet(0, payload))
    parts = packets(out)
    assert [(seq, len(p)) for seq, p in parts] == [(0, MAX_PACKET_PAYLOAD), (1, 0)]


def test_load_data_local_contents_are_never_rewritten() -> None:
    relay = logged_in_relay()
    query = packet(0, b"\x03LOAD DATA LOCAL INFILE 'f' INTO TABLE t")
    assert relay.client_to_server(query) == query
    assert relay.server_to_client(packet(1, b"\xfbf")) == packet(1, b"\xfbf")
    # file contents; even a packet whose sequence id wrapped to 0 and looks like a query
    contents = [packet(2, b"\x03@@aurora_server_id\n"), packet(0, b"\x03@@aurora_server_id\n")]
    for p in contents:
        assert relay.client_to_server(p) == p
    assert relay.client_to_server(packet(1, b"")) == packet(1, b"")  # end of file
    assert relay.server_to_client(packet(2, OK)) == packet(2, OK)
    assert b"'db-1'" in relay.client_to_server(packet(0, b"\x03SELECT @@aurora_server_id"))


def test_other_commands_pass_untouched() -> None:
    relay = logged_in_relay()
    for payload in (
        b"\x02information_schema",  # COM_INIT_DB
        b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00",  # COM_STMT_EXECUTE
        b"\x18\x01\x00\x00\x00\x00\x00@@aurora_server_id",  # COM_STMT_SEND_LONG_DATA
        b"\x03SELECT 'no aurora names here'",
    ):
        assert relay.client_to_server(packet(0, payload)) == packet(0, payload)
    assert relay.rewritten == 0


# --------------------------------------------------------------------------- unit: SQL


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT @@aurora_server_id", "SELECT 'db-1' AS `@@aurora_server_id`"),
        ("select @@AURORA_SERVER_ID as id", "select 'db-1' as id"),
        ("SELECT @@aurora_server_id id, 1", "SELECT 'db-1' id, 1"),
        (
            "SELECT @@global.innodb_read_only, 2",
            "SELECT @@global.read_only AS `@@global.innodb_read_only`, 2",
        ),
        ("SELECT IF(@@innodb_read_only, 'r', 'w')", "SELECT IF(@@read_only, 'r', 'w')"),
        (
            "SELECT CASE WHEN 1 THEN 2 END, @@aurora_server_id FROM dual",
            "SELECT CASE WHEN 1 THEN 2 END, 'db-1' AS `@@aurora_server_id` FROM dual",
        ),
        ("SELECT 1 FROM t WHERE x = @@aurora_server_id", "SELECT 1 FROM t WHERE x = 'db-1'"),
        ("SELECT 1 ORDER BY 1, @@aurora_server_id", "SELECT 1 ORDER BY 1, 'db-1'"),
        (
            "SELECT (SELECT @@aurora_server_id), 1",
            "SELECT (SELECT 'db-1' AS `@@aurora_server_id`), 1",
        ),
        ("SELECT @@aurora_version;", f"SELECT '{AURORA_MYSQL_VERSION}' AS `@@aurora_version`;"),
        (
            "SHOW VARIABLES LIKE 'aurora_version'",
            f"SELECT 'aurora_version' AS Variable_name, '{AURORA_MYSQL_VERSION}' AS Value",
        ),
        (
            '  show\n global   VARIABLES like "AURORA\\_VERSION"  ;',
            f"  SELECT 'aurora_version' AS Variable_name, '{AURORA_MYSQL_VERSION}' AS Value  ;",
        ),
        ("SHOW VARIABLES LIKE 'aurora%'", None),
        ("SELECT 'information_schema.replica_host_status', \"@@aurora_server_id\"", None),
        ("SELECT 1 -- @@aurora_server_id\n, /* @@innodb_read_only */ 2 # aurora_version", None),
        ("SELECT @aurora_server_id, `@@aurora_server_id` FROM aurora_version", None),
        ("SELECT information_schema.replica_host_status_x FROM t", None),
    ],
)
def test_rewrite_query(sql: str, expected: str | None) -> None:
    out = rewrite_query(sql.encode(), META)
    assert (out.decode() if out is not None else None) == expected


def test_rewrite_tables_keep_aliases_and_everything_else() -> None:
    derived = rewrite_query(b"SELECT * FROM information_schema.replica_host_status", META)
    assert derived is not None
    table = derived[len(b"SELECT * FROM ") :]
    assert table.startswith(b"(SELECT CAST('db-1' AS CHAR(100)) AS SERVER_ID")
    assert b"CAST(NULL AS DOUBLE) AS REPLICA_LAG_IN_MILLISECONDS" in table  # writer
    assert b"CAST(12.5 AS DOUBLE) AS REPLICA_LAG_IN_MILLISECONDS" in table
    assert b"NOW(6) - INTERVAL 1250000 MICROSECOND AS LAST_UPDATE_TIMESTAMP" in table
    assert table.endswith(b") AS replica_host_status")
    inner = table[: -len(b" AS replica_host_status")]

    def rw(sql: str) -> str:
        out = rewrite_query(sql.encode(), META)
        assert out is not None
        return out.replace(inner, b"<T>").decode()

    assert rw("select * FROM `information_schema` . `REPLICA_HOST_STATUS` r WHERE 1") == (
        "select * FROM <T> r WHERE 1"
    )
    assert rw("SELECT 1 FROM information_schema.replica_host_status AS x") == (
        "SELECT 1 FROM <T> AS x"
    )
    assert rw(
        "SELECT information_schema.replica_host_status.SERVER_ID"
        " FROM information_schema.replica_host_status ORDER BY SERVER_ID"
    ) == ("SELECT replica_host_status.SERVER_ID FROM <T> AS replica_host_status ORDER BY SERVER_ID")
    assert rw(
        "SELECT /* information_schema.replica_host_status */ 'a''b\\'c' FROM"
        " information_schema.replica_host_status JOIN t ON 1"
    ) == (
        "SELECT /* information_schema.replica_host_status */ 'a''b\\'c' FROM"
        " <T> AS replica_host_status JOIN t ON 1"
    )


def test_rewrite_empty_topology_and_odd_ids() -> None:
    empty = InstanceMetadata("it's", (), AURORA_MYSQL_VERSION)
    out = rewrite_query(b"SELECT * FROM information_schema.replica_host_status", empty)
    assert out is not None and b"FROM DUAL WHERE FALSE) AS replica_host_status" in out
    out = rewrite_query(b"SELECT @@aurora_server_id", empty)
    assert out == b"SELECT CONVERT(X'69742773' USING utf8mb4) AS `@@aurora_server_id`"
    out = rewrite_query(b"SELECT * FROM information_schema.aurora_global_db_instance_status", empty)
    assert out is not None and b"FROM DUAL WHERE FALSE) AS aurora_global_db_instance_status" in out


# --------------------------------------------------------------------------- the forwarder


class Forwarder:
    """A tiny asyncio TCP forwarder on its own thread that applies a MySQLRelay to every
    connection (``bytewise``: the relay gets one byte at a time); records each connection's
    chunks as ``(direction, data in, data out)``."""

    def __init__(
        self,
        target_port: int,
        metadata: Callable[[], InstanceMetadata],
        *,
        bytewise: bool = False,
    ) -> None:
        self.target_port = target_port
        self.metadata = metadata
        self.bytewise = bytewise
        self.relays: list[MySQLRelay] = []
        self.records: list[list[tuple[str, bytes, bytes]]] = []
        self.errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> Forwarder:
        self._thread.start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(5)
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        return self

    def close(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cwriter.close()
            return
        relay = MySQLRelay(self.metadata)
        record: list[tuple[str, bytes, bytes]] = []
        self.relays.append(relay)
        self.records.append(record)

        async def pump(
            src: asyncio.StreamReader,
            dst: asyncio.StreamWriter,
            transform: Callable[[bytes], bytes],
            direction: str,
        ) -> None:
            try:
                while data := await src.read(65536):
                    if self.bytewise:
                        out = b"".join(transform(data[i : i + 1]) for i in range(len(data)))
                    else:
                        out = transform(data)
                    record.append((direction, data, out))
                    if out:
                        dst.write(out)
                        await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            except Exception as exc:  # a relay bug: make the test fail loudly
                self.errors.append(exc)
            finally:
                dst.close()

        try:
            await asyncio.gather(
                pump(creader, swriter, relay.client_to_server, "c"),
                pump(sreader, cwriter, relay.server_to_client, "s"),
            )
        except asyncio.CancelledError:
            pass  # close(): end quietly (asyncio's stream callback reports cancelled tasks)
        finally:
            self._tasks.discard(task)


# --------------------------------------------------------------------------- the cluster


@dataclass
class Env:
    backend: MariaDBBackend
    forwarders: dict[str, Forwarder]
    topology: tuple[TopologyRow, ...]

    def relay_params(self, iid: str) -> dict[str, Any]:
        params = self.backend.direct_params(iid)
        return params | {"port": self.forwarders[iid].port}


def _log(message: str) -> None:
    if os.environ.get("AWS_WRAPPER_DEVCLUSTER_VERBOSE"):
        print(f"[mariadb] {message}", file=sys.stderr, flush=True)


def _base_dir(prefix: str) -> Path:
    parent = "/tmp"
    with contextlib.suppress(OSError):
        if shutil.disk_usage("/dev/shm").free > 2 << 30:
            parent = "/dev/shm"
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(base, 0o755)
    return base


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    try:
        find_mariadb_binaries()
    except BinaryNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    base = _base_dir("awmrl-")
    specs = [
        InstanceSpec(iid, n, f"127.0.78.{n}", 3306, free_port(), base / iid)
        for n, iid in enumerate((WRITER, READER), start=1)
    ]
    backend = MariaDBBackend(log=_log)
    forwarders: dict[str, Forwarder] = {}
    try:
        backend.create(specs, WRITER)
        topology = (
            TopologyRow(WRITER, WRITER_SESSION_ID, 1.5, None, 0.25),
            TopologyRow(READER, f"{READER}-session", 2.5, 12.5, 2.0),
            TopologyRow(STALE, f"{STALE}-session", 0.5, 99.0, 400.0),
        )
        for iid in (WRITER, READER):
            backend.publish_metadata(
                iid,
                InstanceMetadata(
                    iid, topology, AURORA_MYSQL_VERSION, {"aws_regions": {READER: "us-west-2"}}
                ),
            )
            port = backend.direct_params(iid)["port"]
            forwarders[iid] = Forwarder(port, backend.metadata_source(iid)).start()
        backend.set_rds_topology(
            [
                RdsTopologyRow("blue.cluster-xyz.us-east-1.rds.amazonaws.com", 3306,
                               "BLUE_GREEN_DEPLOYMENT_SOURCE", "AVAILABLE"),
                RdsTopologyRow("green.cluster-xyz.us-east-1.rds.amazonaws.com", 3306,
                               "BLUE_GREEN_DEPLOYMENT_TARGET", "AVAILABLE"),
            ]
        )  # fmt: skip
        backend.wait_caught_up(READER, WRITER, 10)
        yield Env(backend, forwarders, topology)
        for fwd in forwarders.values():
            assert not fwd.errors, fwd.errors
    finally:
        for fwd in forwarders.values():
            fwd.close()
        backend.destroy()
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- contract queries

Result = tuple[list[str], list[tuple[Any, ...]]]

TOPOLOGY_QUERY = (
    "SELECT SERVER_ID, CASE WHEN SESSION_ID = 'MASTER_SESSION_ID' THEN TRUE ELSE FALSE END,"
    " CPU, REPLICA_LAG_IN_MILLISECONDS, LAST_UPDATE_TIMESTAMP"
    " FROM information_schema.replica_host_status"
    " WHERE time_to_sec(timediff(now(), LAST_UPDATE_TIMESTAMP)) <= 300"
    " OR SESSION_ID = 'MASTER_SESSION_ID'"
)

CONTRACT_QUERIES = {
    "version": "SHOW VARIABLES LIKE 'aurora_version'",
    "server_id": "SELECT @@aurora_server_id",
    "read_only": "SELECT @@innodb_read_only",
    "both": "SELECT @@aurora_server_id AS id, @@innodb_read_only AS ro",
    "replica_host_status": (
        "SELECT SERVER_ID, SESSION_ID, CPU, REPLICA_LAG_IN_MILLISECONDS, LAST_UPDATE_TIMESTAMP,"
        " TIMESTAMPDIFF(MICROSECOND, LAST_UPDATE_TIMESTAMP, NOW(6)) AS age_us"
        " FROM information_schema.replica_host_status ORDER BY SERVER_ID"
    ),
    "topology": TOPOLOGY_QUERY,
    "writer_row": (
        "SELECT replica_host_status.SERVER_ID FROM INFORMATION_SCHEMA.REPLICA_HOST_STATUS"
        " WHERE replica_host_status.SESSION_ID = 'MASTER_SESSION_ID'"
    ),
    "global": (
        "SELECT SERVER_ID, SESSION_ID, AWS_REGION, DURABLE_LSN, HIGHEST_LSN_RCVD,"
        " OLDEST_READ_VIEW_TRX_ID, OLDEST_READ_VIEW_LSN, VISIBILITY_LAG_IN_MSEC"
        " FROM information_schema.aurora_global_db_instance_status ORDER BY SERVER_ID"
    ),
    "rds_topology": (
        "SELECT version, endpoint, port, role, status FROM mysql.rds_topology ORDER BY endpoint"
    ),
    # and the dialects' own queries, exactly as they send them
    **{f"dialect: {mq.name}": mq.sql for mq in dialect.AURORA_MYSQL_QUERIES},
}
REWRITTEN = sum("rds_topology" not in sql for sql in CONTRACT_QUERIES.values())


def check_contract(iid: str, results: dict[str, Result]) -> None:
    """Every contract answer on instance ``iid`` (the relay's metadata for it)."""
    reader = iid == READER
    cols, rows = results["version"]
    assert cols == ["Variable_name", "Value"]
    assert [tuple(r) for r in rows] == [("aurora_version", AURORA_MYSQL_VERSION)]
    cols, rows = results["server_id"]
    assert (cols, [tuple(r) for r in rows]) == (["@@aurora_server_id"], [(iid,)])
    cols, rows = results["read_only"]
    assert (cols, [tuple(r) for r in rows]) == (["@@innodb_read_only"], [(int(reader),)])
    cols, rows = results["both"]
    assert (cols, [tuple(r) for r in rows]) == (["id", "ro"], [(iid, int(reader))])

    cols, rows = results["replica_host_status"]
    assert cols == [
        "SERVER_ID",
        "SESSION_ID",
        "CPU",
        "REPLICA_LAG_IN_MILLISECONDS",
        "LAST_UPDATE_TIMESTAMP",
        "age_us",
    ]
    expected = sorted(
        (
            (WRITER, WRITER_SESSION_ID, 1.5, None, 0.25),
            (READER, f"{READER}-session", 2.5, 12.5, 2.0),
            (STALE, f"{STALE}-session", 0.5, 99.0, 400.0),
        )
    )
    assert [tuple(r[:4]) for r in rows] == [e[:4] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert isinstance(row[2], float)
        assert isinstance(row[4], datetime.datetime)
        assert abs(int(row[5]) / 1e6 - want[4]) < 2.0, (row, want)

    cols, rows = results["topology"]
    assert sorted((r[0], int(r[1])) for r in rows) == [(WRITER, 1), (READER, 0)]
    assert [tuple(r) for r in results["writer_row"][1]] == [(WRITER,)]

    cols, rows = results["global"]
    assert cols == [
        "SERVER_ID",
        "SESSION_ID",
        "AWS_REGION",
        "DURABLE_LSN",
        "HIGHEST_LSN_RCVD",
        "OLDEST_READ_VIEW_TRX_ID",
        "OLDEST_READ_VIEW_LSN",
        "VISIBILITY_LAG_IN_MSEC",
    ]
    by_id = {r[0]: tuple(r) for r in rows}
    assert set(by_id) == {WRITER, READER, STALE}
    assert by_id[WRITER][1:3] == (WRITER_SESSION_ID, "us-east-1")
    assert by_id[WRITER][4:] == (None, None, None, None)
    assert by_id[READER][2] == "us-west-2" and by_id[READER][7] == 12.5
    assert int(by_id[READER][3]) >= int(by_id[READER][6])

    for mq in dialect.AURORA_MYSQL_QUERIES:  # every dialect query answers, with its columns
        cols, rows = results[f"dialect: {mq.name}"]
        assert mq.columns < 0 or len(cols) == mq.columns, mq.name
        assert rows, mq.name
    answers = {mq: results[f"dialect: {mq.name}"][1] for mq in dialect.AURORA_MYSQL_QUERIES}
    assert [tuple(r) for r in answers[dialect.MYSQL_IS_AURORA]] == [
        ("aurora_version", AURORA_MYSQL_VERSION)
    ]
    assert [tuple(r) for r in answers[dialect.MYSQL_HOST_ID]] == [(iid,)]
    assert [int(r[0]) for r in answers[dialect.MYSQL_IS_READER]] == [int(reader)]
    assert sorted((r[0], int(r[1])) for r in answers[dialect.MYSQL_TOPOLOGY]) == [
        (WRITER, 1),
        (READER, 0),
    ]
    assert len(answers[dialect.MYSQL_BLUE_GREEN]) == 2
    assert sorted(tuple(r) for r in answers[dialect.MYSQL_GLOBAL_INSTANCES]) == [
        (WRITER, WRITER_SESSION_ID, "us-east-1"),
        (READER, f"{READER}-session", "us-west-2"),
        (STALE, f"{STALE}-session", "us-east-1"),
    ]

    cols, rows = results["rds_topology"]
    assert cols == ["version", "endpoint", "port", "role", "status"]
    assert [tuple(r) for r in rows] == [
        ("1.0", "blue.cluster-xyz.us-east-1.rds.amazonaws.com", 3306,
         "BLUE_GREEN_DEPLOYMENT_SOURCE", "AVAILABLE"),
        ("1.0", "green.cluster-xyz.us-east-1.rds.amazonaws.com", 3306,
         "BLUE_GREEN_DEPLOYMENT_TARGET", "AVAILABLE"),
    ]  # fmt: skip


def _columns(description: Any) -> list[str]:
    return [d[0] for d in description]


def run_pymysql(params: dict[str, Any]) -> dict[str, Result]:
    conn = pymysql.connect(**params, connect_timeout=5)
    try:
        out = {}
        with conn.cursor() as cur:
            for name, sql in CONTRACT_QUERIES.items():
                cur.execute(sql)
                out[name] = (_columns(cur.description), list(cur.fetchall()))
        return out
    finally:
        conn.close()


def run_mysql_connector(params: dict[str, Any], **kwargs: Any) -> dict[str, Result]:
    conn: Any = mysql.connector.connect(**params, use_pure=True, connection_timeout=5, **kwargs)
    try:
        out = {}
        cur = conn.cursor()
        for name, sql in CONTRACT_QUERIES.items():
            cur.execute(sql)
            out[name] = (_columns(cur.description), list(cur.fetchall()))
        cur.close()
        return out
    finally:
        conn.close()


async def run_aiomysql(params: dict[str, Any]) -> dict[str, Result]:
    p = dict(params)
    conn = await aiomysql.connect(db=p.pop("database"), **p, connect_timeout=5)
    try:
        out = {}
        async with conn.cursor() as cur:
            for name, sql in CONTRACT_QUERIES.items():
                await cur.execute(sql)
                out[name] = (_columns(cur.description), list(await cur.fetchall()))
        return out
    finally:
        conn.close()


async def run_mysql_connector_aio(params: dict[str, Any]) -> dict[str, Result]:
    # mysql.connector.aio fails on servers without TLS unless told: the wrapper's dialect
    # retries this way too.
    conn: Any = await mysql.connector.aio.connect(**params, ssl_disabled=True)
    try:
        out = {}
        cur = await conn.cursor()
        for name, sql in CONTRACT_QUERIES.items():
            await cur.execute(sql)
            out[name] = (_columns(cur.description), list(await cur.fetchall()))
        await cur.close()
        return out
    finally:
        await conn.close()


SYNC_DRIVERS: dict[str, Callable[[dict[str, Any]], dict[str, Result]]] = {
    "pymysql": run_pymysql,
    "mysql-connector": run_mysql_connector,
}
ASYNC_DRIVERS: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Result]]]] = {
    "aiomysql": run_aiomysql,
    "mysql-connector-aio": run_mysql_connector_aio,
}


@pytest.mark.parametrize("iid", [WRITER, READER])
@pytest.mark.parametrize("driver", sorted(SYNC_DRIVERS))
def test_contract_queries_sync_drivers(env: Env, driver: str, iid: str) -> None:
    before = len(env.forwarders[iid].relays)
    check_contract(iid, SYNC_DRIVERS[driver](env.relay_params(iid)))
    relay = env.forwarders[iid].relays[before]
    assert relay.rewritten == REWRITTEN  # all but mysql.rds_topology


@pytest.mark.parametrize("iid", [WRITER, READER])
@pytest.mark.parametrize("driver", sorted(ASYNC_DRIVERS))
async def test_contract_queries_async_drivers(env: Env, driver: str, iid: str) -> None:
    check_contract(iid, await ASYNC_DRIVERS[driver](env.relay_params(iid)))


def test_rds_topology_is_a_real_replicated_table(env: Env) -> None:
    """Direct (no relay) as app on both instances; the Multi-AZ shape does not exist."""
    for iid in (WRITER, READER):
        conn = pymysql.connect(**env.backend.direct_params(iid))
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM mysql.rds_topology")
            assert cur.fetchone() == (2,)
            with pytest.raises(pymysql.err.OperationalError) as info:
                cur.execute("SELECT id, endpoint, port FROM mysql.rds_topology")
            assert info.value.args[0] == 1054  # unknown column
            with pytest.raises(pymysql.err.OperationalError):
                cur.execute("DELETE FROM mysql.rds_topology")  # app may only read it
        conn.close()


def test_mysql_connector_prepared_statement_and_no_tls(env: Env) -> None:
    params = env.relay_params(READER)
    conn: Any = mysql.connector.connect(**params, use_pure=True)
    try:
        cur = conn.cursor(prepared=True)  # COM_STMT_PREPARE
        cur.execute(
            "SELECT SERVER_ID, REPLICA_LAG_IN_MILLISECONDS FROM"
            " information_schema.replica_host_status WHERE SERVER_ID = %s",
            (READER,),
        )
        assert [tuple(r) for r in cur.fetchall()] == [(READER, 12.5)]
        cur.close()
        cur = conn.cursor()
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cur.fetchall() == [("Ssl_cipher", "")]  # plaintext through the relay
        cur.close()
        # COM_CHANGE_USER re-authenticates (auth data with non-zero sequence ids)
        conn.cmd_change_user(username="app", password="app-secret", database="app")
        cur = conn.cursor()
        cur.execute("SELECT @@aurora_server_id, @@innodb_read_only, current_user()")
        assert cur.fetchall() == [(READER, 1, "app@%")]
    finally:
        conn.close()
    # direct, mysql.connector takes the server's TLS
    conn = mysql.connector.connect(**env.backend.direct_params(READER), use_pure=True)
    try:
        cur = conn.cursor()
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        row = cur.fetchone()
        assert row is not None and row[1] != ""
    finally:
        conn.close()


def test_empty_topology_has_the_columns_and_no_rows(env: Env) -> None:
    b = env.backend
    saved = b.metadata(READER)
    b.publish_metadata(READER, InstanceMetadata(READER, (), AURORA_MYSQL_VERSION))
    try:
        conn = pymysql.connect(**env.relay_params(READER))
        with conn.cursor() as cur:
            cur.execute(TOPOLOGY_QUERY)
            assert cur.fetchall() == ()
            assert len(cur.description or ()) == 5
            cur.execute("SELECT * FROM information_schema.replica_host_status")
            assert _columns(cur.description) == [
                "SERVER_ID",
                "SESSION_ID",
                "CPU",
                "REPLICA_LAG_IN_MILLISECONDS",
                "LAST_UPDATE_TIMESTAMP",
            ]
            assert cur.fetchall() == ()
            cur.execute("SELECT count(*) FROM information_schema.aurora_global_db_instance_status")
            assert cur.fetchone() == (0,)
        conn.close()
    finally:
        b.publish_metadata(READER, saved)


def test_metadata_changes_are_seen_by_the_next_query(env: Env) -> None:
    b = env.backend
    saved = b.metadata(WRITER)
    conn = pymysql.connect(**env.relay_params(WRITER))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT SERVER_ID FROM information_schema.replica_host_status")
            assert len(cur.fetchall()) == 3
            b.publish_metadata(
                WRITER,
                InstanceMetadata(WRITER, saved.topology[:1], "3.99.0"),
            )
            cur.execute("SELECT SERVER_ID FROM information_schema.replica_host_status")
            assert cur.fetchall() == ((WRITER,),)
            cur.execute("SHOW VARIABLES LIKE 'aurora_version'")
            assert cur.fetchall() == (("aurora_version", "3.99.0"),)
    finally:
        conn.close()
        b.publish_metadata(WRITER, saved)


def test_real_drivers_through_a_byte_at_a_time_relay(env: Env) -> None:
    """Every chunk reaches the relay one byte at a time; replaying the recorded session
    through a fresh relay in other chunk sizes gives the same bytes."""
    port = env.backend.direct_params(READER)["port"]
    fwd = Forwarder(port, env.backend.metadata_source(READER), bytewise=True).start()
    try:
        params = env.relay_params(READER) | {"port": fwd.port}
        check_contract(READER, run_pymysql(params))
        # asking for caching_sha2_password makes MariaDB answer with an auth switch request
        check_contract(READER, run_mysql_connector(params, auth_plugin="caching_sha2_password"))
    finally:
        fwd.close()
    assert not fwd.errors
    switched = fwd.records[1]
    server = packets(b"".join(data for direction, data, _ in switched if direction == "s"))
    assert server[1][0] == 2 and server[1][1][:1] == b"\xfe"  # the auth switch request
    for record in fwd.records:
        stream = [(direction, data) for direction, data, _ in record]
        expected = {
            d: b"".join(out for direction, _, out in record if direction == d) for d in "cs"
        }
        for step in (None, 3, 1000):
            replay = feed(MySQLRelay(env.backend.metadata_source(READER)), stream, step)
            # timestamps are not in the client's bytes: only the query text is rewritten,
            # and the metadata did not change meanwhile
            assert replay == expected, step


def test_rewritten_query_longer_than_a_packet_with_a_real_server(env: Env) -> None:
    """A query just under 16 MB that the rewrite makes longer: split in two packets, and
    PyMySQL (which checks sequence ids) reads the answer."""
    admin = pymysql.connect(**env.backend.direct_params(WRITER, admin=True), autocommit=True)
    with admin.cursor() as cur:
        cur.execute("SET GLOBAL max_allowed_packet = 64 * 1024 * 1024")
    admin.close()
    head = "SELECT SERVER_ID FROM information_schema.replica_host_status WHERE SESSION_ID <> '"
    tail = "' ORDER BY SERVER_ID"
    sql = head + "q" * (MAX_PACKET_PAYLOAD - 1 - len(head) - len(tail) - 10) + tail
    relays = env.forwarders[WRITER].relays
    before = len(relays)
    conn = pymysql.connect(**env.relay_params(WRITER), max_allowed_packet=64 * 1024 * 1024)
    try:
        with conn.cursor() as cur:
            started = time.monotonic()
            cur.execute(sql)
            assert cur.fetchall() == ((WRITER,), (READER,), (STALE,))
            cur.execute("SELECT @@aurora_server_id")  # sequence ids are back to normal
            assert cur.fetchall() == ((WRITER,),)
            assert time.monotonic() - started < 20
    finally:
        conn.close()
    assert relays[before].rewritten == 2
