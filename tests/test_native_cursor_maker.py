"""How the blocking MySQL Connector/Python dialect makes native cursors (pure logic): as the
pure-Python connection's own ``cursor(cursor_class=...)`` does (a result left unread
handled, a ping, ``cls(conn)``), without calling it, only where that ``cursor()`` is the one
known; through it otherwise. The behaviour on a real server is in test_native_cursor.py."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from mysql.connector import errors as mc_errors
from mysql.connector.connection import MySQLConnection
from mysql.connector.cursor import MySQLCursor

from aws_wrapper.drivers import driver_dialect_for
from aws_wrapper.drivers.mysql_connector import (
    _make_pure_cursor,
    _pure_cursor,
    native_cursor_maker,
)


class Recorder(MySQLConnection):
    """A pure-Python connection that records what is called on it (never connected)."""

    def __init__(self, connected: bool) -> None:  # (no super().__init__: no server)
        self.calls: list[str] = []
        self.connected = connected

    def handle_unread_result(self, prepared: bool = False) -> None:
        self.calls.append("handle_unread_result")

    def is_connected(self) -> bool:
        self.calls.append("is_connected")
        return self.connected


class Made:
    def __init__(self, conn: Any) -> None:
        self.conn = conn


class OwnCursor(MySQLConnection):
    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        return ("own", args, kwargs)


def test_the_installed_drivers_cursor_is_the_one_known() -> None:
    """If this fails, the driver's cursor() now refers to something new: check what it does
    with just a cursor class, then update _KNOWN_CURSOR_NAMES (until then the dialect calls
    it, which is correct, only slower)."""
    assert _pure_cursor(MySQLConnection.cursor)


def test_made_as_the_pure_connection_makes_it() -> None:
    conn = Recorder(connected=True)
    make = native_cursor_maker(conn, Made)
    assert isinstance(make, partial) and make.func is _make_pure_cursor
    made = make(conn)
    assert isinstance(made, Made) and made.conn is conn
    assert conn.calls == ["handle_unread_result", "is_connected"]


def test_a_lost_connection_is_the_drivers_network_error() -> None:
    conn = Recorder(connected=False)
    with pytest.raises(mc_errors.OperationalError, match="MySQL Connection not available") as e:
        native_cursor_maker(conn, Made)(conn)
    assert conn.calls == ["handle_unread_result", "is_connected"]
    assert driver_dialect_for("mysql-connector", None).is_network_error(e.value)


def test_a_cursor_of_its_own_is_called() -> None:
    """A subclass with its own cursor() (or the C extension's connection): through it."""
    conn = OwnCursor.__new__(OwnCursor)
    make = native_cursor_maker(conn, MySQLCursor)
    assert make(conn) == ("own", (), {"cursor_class": MySQLCursor})


def test_a_driver_whose_cursor_does_more_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    known = MySQLConnection.cursor

    def cursor(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.check_something_new()
        return known(self, *args, **kwargs)

    monkeypatch.setattr(MySQLConnection, "cursor", cursor)
    assert not _pure_cursor(MySQLConnection.cursor)
    conn = Recorder(connected=True)
    make = native_cursor_maker(conn, Made)
    assert isinstance(make, partial) and make.func is cursor
    assert make.keywords == {"cursor_class": Made}
