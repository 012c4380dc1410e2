"""Pure logic of aws_wrapper.telemetry: db.operation.name and db.system.name."""

from __future__ import annotations

import pytest

from aws_wrapper.telemetry import operation_name, system_name


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT 1", "SELECT"),
        ("  select * from t", "SELECT"),
        ("\n\t(SELECT 1) UNION (SELECT 2)", "SELECT"),
        (b"INSERT INTO t VALUES (1)", "INSERT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("SELECT\n1", "SELECT"),
        ("set_config('a', 'b', false)", "SET_CONFIG"),
        ("", None),
        ("   ", None),
        ("123", None),
        (None, None),
        (object(), None),
    ],
)
def test_operation_name_is_the_first_keyword(query: object, expected: str | None) -> None:
    assert operation_name(query) == expected


def test_system_name_per_engine_and_dialect() -> None:
    assert system_name("postgresql", "aurora-pg") == "postgresql"
    assert system_name("mysql", "aurora-mysql") == "mysql"
    assert system_name("mysql", "mariadb") == "mariadb"
    assert system_name("mysql", "mysql") == "mysql"
