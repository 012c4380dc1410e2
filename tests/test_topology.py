"""Topology rows -> hosts (pure logic): the 300 s rule, the newest writer, host names; and
dialect detection from what a server answers."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Sequence
from typing import Any

import pytest

from aws_wrapper._async.dialects import _detect_mysql, _detect_pg
from aws_wrapper.hostinfo import HostRole
from aws_wrapper.topology import TopologyEntry, build_hosts, entry_from_row, writer_of

NOW = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC)
TEMPLATE = "?.abc123.us-east-1.rds.amazonaws.com"


def ago(seconds: float) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=seconds)


def test_hosts_from_rows() -> None:
    hosts = build_hosts(
        [
            TopologyEntry("db-2", False, 1.0, 5.0, ago(1)),
            TopologyEntry("db-1", True, 2.0, 0.0, ago(1)),
        ],
        TEMPLATE,
        5432,
        NOW,
    )
    assert [(h.host_id, h.role) for h in hosts] == [
        ("db-1", HostRole.WRITER),
        ("db-2", HostRole.READER),
    ]
    assert hosts[0].host == "db-1.abc123.us-east-1.rds.amazonaws.com" and hosts[0].port == 5432


def test_stale_reader_rows_are_dropped_but_not_the_writer() -> None:
    hosts = build_hosts(
        [
            TopologyEntry("db-1", True, last_update=ago(900)),
            TopologyEntry("db-2", False, last_update=ago(301)),
            TopologyEntry("db-3", False, last_update=ago(299)),
            TopologyEntry("db-4", False, last_update=None),
        ],
        TEMPLATE,
        5432,
        NOW,
    )
    assert [h.host_id for h in hosts] == ["db-1", "db-3", "db-4"]


def test_the_newest_writer_wins() -> None:
    hosts = build_hosts(
        [
            TopologyEntry("db-1", True, last_update=ago(30)),
            TopologyEntry("db-2", True, last_update=ago(2)),
            TopologyEntry("db-3", False, last_update=ago(1)),
        ],
        TEMPLATE,
        5432,
        NOW,
    )
    writer = writer_of(hosts)
    assert writer is not None and writer.host_id == "db-2"
    assert {h.host_id: h.role for h in hosts}["db-1"] is HostRole.READER


def test_no_writer_means_no_usable_topology() -> None:
    assert build_hosts([TopologyEntry("db-2", False, last_update=ago(1))], TEMPLATE, 1, NOW) == []


def test_rows_as_drivers_return_them() -> None:
    naive = datetime.datetime(2026, 1, 1, 0, 0)
    assert entry_from_row(("db-1", 1, "2.5", None, naive)) == TopologyEntry(
        "db-1", True, 2.5, 0.0, naive
    )
    assert entry_from_row(("db-2", False, 1, 12.0, None)).lag_ms == 12.0


class Answers:
    """A driver dialect that answers queries from a table (for detection logic only)."""

    engine = "postgresql"

    def __init__(self, answers: dict[str, Sequence[tuple[Any, ...]] | Exception]) -> None:
        self.answers = answers

    async def fetch(self, conn: object, sql: str, params: object = None) -> list[tuple[Any, ...]]:
        for key, answer in self.answers.items():
            if key in sql:
                if isinstance(answer, Exception):
                    raise answer
                return list(answer)
        return []

    def is_network_error(self, error: BaseException) -> bool:
        return isinstance(error, ConnectionError)

    def in_transaction(self, conn: object) -> bool:
        return False


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"rds.extensions": [(False, True)], "aws_region": [(1,)]}, "aurora-pg"),
        ({"rds.extensions": [(False, True)], "aws_region": [(2,)]}, "global-aurora-pg"),
        ({"rds.extensions": [(True, False)], "show_topology": [(1,)]}, "multi-az-pg"),
        ({"rds.extensions": [(True, False)], "show_topology": [(0,)]}, "rds-pg"),
        ({"rds.extensions": [(False, False)]}, "pg"),
        ({"rds.extensions": []}, "pg"),
        (
            {"rds.extensions": [(False, True)], "aws_region": ValueError("no such function")},
            "aurora-pg",
        ),
    ],
)
def test_pg_detection(answers: dict[str, Any], expected: str) -> None:
    assert asyncio.run(_detect_pg(None, Answers(answers))) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"aurora_version": [("aurora_version", "3.05.2")], "AWS_REGION": [(1,)]}, "aurora-mysql"),
        (
            {"aurora_version": [("aurora_version", "3.05.2")], "AWS_REGION": [(3,)]},
            "global-aurora-mysql",
        ),
        ({"VERSION()": [("10.11.6-MariaDB-0+deb12u1", "Debian 12", "")]}, "mariadb"),
        (
            {"VERSION()": [("8.0.35", "Source distribution", "10.0.0.1")], "column_name": [(1,)]},
            "multi-az-mysql",
        ),
        (
            {"VERSION()": [("8.0.35", "Source distribution", "10.0.0.1")], "column_name": [(0,)]},
            "rds-mysql",
        ),
        ({"VERSION()": [("8.0.35", "MySQL Community Server - GPL", "")]}, "mysql"),
    ],
)
def test_mysql_detection(answers: dict[str, Any], expected: str) -> None:
    assert asyncio.run(_detect_mysql(None, Answers(answers))) == expected  # type: ignore[arg-type]


def test_a_lost_connection_during_detection_is_not_swallowed() -> None:
    answers = {"rds.extensions": [(False, True)], "aws_region": ConnectionError("gone")}
    with pytest.raises(ConnectionError):
        asyncio.run(_detect_pg(None, Answers(answers)))  # type: ignore[arg-type]


def test_multi_az_pg_topology_names_the_source_as_writer() -> None:
    from aws_wrapper._async.dialects import MultiAzPgDialect

    members = [
        ("db-a", "a.abc.us-east-1.rds.amazonaws.com", 5432),
        ("db-b", "b.abc.us-east-1.rds.amazonaws.com", 5432),
    ]
    on_reader = Answers({"show_topology": members, "source_dbi_resource_id()": [("db-a",)]})
    on_writer = Answers(
        {
            "show_topology": members,
            "source_dbi_resource_id()": [(None,)],
            "dbi_resource_id()": [("db-a",)],
        }
    )
    for answers in (on_reader, on_writer):
        entries = asyncio.run(MultiAzPgDialect().topology(None, answers))  # type: ignore[arg-type]
        assert entries is not None
        hosts = build_hosts(entries, "?.unused", 1, NOW)
        assert [(h.host, h.role) for h in hosts] == [
            ("a.abc.us-east-1.rds.amazonaws.com", HostRole.WRITER),
            ("b.abc.us-east-1.rds.amazonaws.com", HostRole.READER),
        ]


def test_multi_az_mysql_topology() -> None:
    from aws_wrapper._async.dialects import MultiAzMysqlDialect

    members = [(11, "a.example", 3306), (12, "b.example", 3306)]
    status = tuple([None] * 39 + [11])
    fake: Any = Answers({"rds_topology": members, "REPLICA STATUS": [status]})
    entries = asyncio.run(MultiAzMysqlDialect().topology(None, fake))
    assert entries is not None
    assert [(e.host_id, e.is_writer) for e in entries] == [("11", True), ("12", False)]
    alone: Any = Answers({"REPLICA STATUS": [], "@@server_id": [(12,)]})
    assert asyncio.run(MultiAzMysqlDialect()._writer_id(None, alone)) == "12"
