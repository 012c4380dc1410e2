"""Which PyMySQL cursor classes get native cursors (aws_wrapper.drivers.pymysql): those whose
code is as the native class reads it. Pure logic; the behaviour on a server is in
tests/_sync/test_native_cursor.py."""

from __future__ import annotations

from typing import Any

import pymysql.cursors

from aws_wrapper.drivers.pymysql import native_pymysql_base


class Extra(pymysql.cursors.Cursor):
    def rows_read(self) -> int:
        return self.rownumber


class OwnExecute(pymysql.cursors.Cursor):
    def execute(self, query: Any, args: Any = None) -> Any:
        return super().execute(query, args)


class ReadsConnection(pymysql.cursors.Cursor):
    def server(self) -> Any:
        return self.connection.host_info


class ReadsItInAComprehension(pymysql.cursors.Cursor):
    def servers(self) -> list[Any]:
        return [c.connection for c in (self,)]


def test_pymysqls_own_buffered_classes_are_accepted() -> None:
    assert native_pymysql_base(pymysql.cursors.Cursor)
    assert native_pymysql_base(pymysql.cursors.DictCursor)
    assert native_pymysql_base(Extra)  # a method that leaves the connection alone


def test_classes_the_native_class_would_break_are_refused() -> None:
    # unbuffered: their close and __del__ read the driver connection from `connection`
    assert not native_pymysql_base(pymysql.cursors.SSCursor)
    assert not native_pymysql_base(pymysql.cursors.SSDictCursor)
    assert not native_pymysql_base(OwnExecute)  # the native class would skip its execute
    assert not native_pymysql_base(ReadsConnection)  # it would get the wrapper connection
    assert not native_pymysql_base(ReadsItInAComprehension)
    assert not native_pymysql_base(int)
    assert not native_pymysql_base(None)
