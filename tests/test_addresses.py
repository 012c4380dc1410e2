"""Connect-time knowledge without queries: the per-endpoint dialect cache
(``aws_wrapper.dialect_cache``) and instance identification by address
(``aws_wrapper.addresses``). Pure logic; the devcluster tests are in
tests/_async/test_connect_round_trips.py."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from aws_wrapper import dialect_cache
from aws_wrapper.addresses import (
    AddressBook,
    dns_addresses,
    normalize,
    peer_address,
    quick_addresses,
)
from aws_wrapper.resolver import set_name_resolver
from tests.helpers import run_in_child

CLUSTER = "app.cluster-abc123.us-east-1.rds.amazonaws.com"
READER = "app.cluster-ro-abc123.us-east-1.rds.amazonaws.com"
OTHER_CLUSTER = "billing.cluster-abc123.us-east-1.rds.amazonaws.com"
INSTANCE = "app-1.abc123.us-east-1.rds.amazonaws.com"
GLOBAL = "app.global-xyz789.global.rds.amazonaws.com"


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    dialect_cache.forget_dialects()
    yield
    dialect_cache.forget_dialects()


def test_a_detected_dialect_is_known_for_its_endpoint_and_engine() -> None:
    assert dialect_cache.known_dialect("db.internal", 5432, "postgresql") is None
    dialect_cache.remember_dialect("db.internal", 5432, "postgresql", "pg")
    assert dialect_cache.known_dialect("db.internal", 5432, "postgresql") == "pg"
    assert dialect_cache.known_dialect("DB.Internal", 5432, "postgresql") == "pg"
    assert dialect_cache.known_dialect("db.internal", 5433, "postgresql") is None
    assert dialect_cache.known_dialect("db.internal", 5432, "mysql") is None


def test_a_clusters_writer_and_reader_endpoints_share_the_dialect() -> None:
    dialect_cache.remember_dialect(READER, 5432, "postgresql", "aurora-pg")
    assert dialect_cache.known_dialect(CLUSTER, 5432, "postgresql") == "aurora-pg"
    # another cluster of the same account and region (same <id>): not known
    assert dialect_cache.known_dialect(OTHER_CLUSTER, 5432, "postgresql") is None
    # an instance endpoint's name does not say which cluster it belongs to
    assert dialect_cache.known_dialect(INSTANCE, 5432, "postgresql") is None


def test_only_a_global_writer_endpoint_tells_the_dialect_by_its_name() -> None:
    assert dialect_cache.known_dialect(GLOBAL, 5432, "postgresql") == "global-aurora-pg"
    assert dialect_cache.known_dialect(GLOBAL, 3306, "mysql") == "global-aurora-mysql"
    # a cluster endpoint may be Aurora or an RDS Multi-AZ DB cluster; other names tell nothing
    for host in (CLUSTER, READER, INSTANCE, "10.0.0.7", "localhost"):
        assert dialect_cache.known_dialect(host, 5432, "postgresql") is None


def test_a_forked_child_starts_with_no_dialect_known() -> None:
    dialect_cache.remember_dialect("db.internal", 5432, "postgresql", "pg")

    def child() -> None:
        assert dialect_cache.known_dialect("db.internal", 5432, "postgresql") is None

    code, failure = run_in_child(child)
    assert code == 0, failure
    assert dialect_cache.known_dialect("db.internal", 5432, "postgresql") == "pg"


def test_normalize() -> None:
    assert normalize("10.0.0.7", 5432) == ("10.0.0.7", 5432)
    assert normalize("::ffff:10.0.0.7", 5432) == ("10.0.0.7", 5432)
    assert normalize("2001:db8:0:0::1", 5432) == ("2001:db8::1", 5432)
    assert normalize("fe80::1%eth0", 5432) == ("fe80::1", 5432)
    assert normalize("/var/run/postgresql", 5432) is None
    assert normalize("db.internal", 5432) is None
    assert normalize("", 5432) is None


def test_an_address_shared_by_two_instances_identifies_neither() -> None:
    book = AddressBook(
        [
            ("db-1", [("10.0.0.1", 5432)]),
            ("db-2", [("10.0.0.2", 5432), ("10.0.9.9", 5432)]),
            ("db-3", [("10.0.0.3", 5432), ("10.0.9.9", 5432)]),  # one proxy in front of two
        ]
    )
    assert book.host_id_at(("10.0.0.1", 5432)) == "db-1"
    assert book.host_id_at(("10.0.0.2", 5432)) == "db-2"
    assert book.host_id_at(("10.0.9.9", 5432)) is None
    assert book.host_id_at(("10.0.0.1", 5433)) is None  # another port: another server
    assert book.host_id_at(("10.0.0.4", 5432)) is None
    assert book.host_id_at(None) is None
    assert len(book) == 3


def test_the_same_instance_at_two_addresses_is_still_itself() -> None:
    book = AddressBook([("db-1", [("10.0.0.1", 5432), ("2001:db8::1", 5432)])])
    assert book.host_id_at(("10.0.0.1", 5432)) == "db-1"
    assert book.host_id_at(("2001:db8::1", 5432)) == "db-1"


def test_instance_names_resolve_through_the_resolver_hook() -> None:
    previous = set_name_resolver(lambda host: {"db-1.internal": "127.0.5.1"}.get(host))
    try:
        assert quick_addresses("db-1.internal", 5432) == [("127.0.5.1", 5432)]
        assert quick_addresses("10.0.0.7", 5432) == [("10.0.0.7", 5432)]
        assert quick_addresses("db-2.internal", 5432) is None  # DNS must be asked
        assert dns_addresses("db-1.internal", 5432) == [("127.0.5.1", 5432)]
    finally:
        set_name_resolver(previous)
    assert dns_addresses("127.0.0.1", 5432) == [("127.0.0.1", 5432)]
    assert dns_addresses("no-such-host.invalid", 5432) == []


class _Writer:
    def __init__(self, peer: Any) -> None:
        self.peer = peer

    def get_extra_info(self, name: str) -> Any:
        return self.peer if name == "peername" else None


class _Holder:
    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def test_peer_address_of_the_driver_connections() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    try:
        port = server.getsockname()[1]
        # PyMySQL: a socket in _sock; mysql.connector: a socket in _socket.sock
        assert peer_address(_Holder(_sock=client)) == ("127.0.0.1", port)
        assert peer_address(_Holder(_socket=_Holder(sock=client))) == ("127.0.0.1", port)
    finally:
        client.close()
        server.close()
    # aiomysql: an asyncio stream in _writer; mysql.connector.aio: in _socket._writer
    assert peer_address(_Holder(_writer=_Writer(("10.0.0.7", 3306)))) == ("10.0.0.7", 3306)
    v6 = _Writer(("::ffff:10.0.0.7", 3306, 0, 0))
    assert peer_address(_Holder(_socket=_Holder(_writer=v6))) == ("10.0.0.7", 3306)
    # psycopg: libpq's address and port
    pgconn = _Holder(hostaddr=b"10.0.0.8", port=b"5432")
    assert peer_address(_Holder(pgconn=pgconn)) == ("10.0.0.8", 5432)
    # a Unix socket, a closed connection, anything else: unknown
    assert peer_address(_Holder(pgconn=_Holder(hostaddr=b"", port=b"5432"))) is None
    assert peer_address(_Holder(_writer=_Writer("/run/mysqld/mysqld.sock"))) is None
    assert peer_address(_Holder(_writer=_Writer(None))) is None
    assert peer_address(_Holder(_sock=None)) is None
    assert peer_address(object()) is None
    closed = socket.socket()
    closed.close()
    assert peer_address(_Holder(_sock=closed)) is None
