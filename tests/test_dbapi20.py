"""The DB-API 2.0 compliance suite (Stuart Bishop's ``dbapi20.py``) against aws_wrapper's
blocking face over psycopg, PyMySQL and mysql-connector, and against those drivers themselves
as the baseline.

The suite is not vendored: the first run downloads the psycopg2 sdist from PyPI with pip
(pinned version), checks the sha256 of its ``tests/dbapi20.py`` (so a changed upstream copy is
noticed) and keeps it in ``.pytest_cache/d/dbapi20/``. Without network the tests skip, and
fail in CI (``CI`` set).

The rule: aws_wrapper passes what the raw driver passes. A test the raw driver fails is a
strict expected failure, with its reason, for the driver and for the wrapper over it
(:data:`DRIVER_LIMITS`; unless the wrapper passes it anyway, :data:`WRAPPER_PASSES`); a test
that only the wrapper fails is a wrapper defect (:data:`WRAPPER_DEFECTS`), a strict expected
failure too, so that its fix makes it XPASS, which fails until the entry is removed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import mysql.connector
import psycopg
import pymysql
import pytest

import aws_wrapper

# -- the suite: downloaded, checked, cached ---------------------------------------------------

PSYCOPG2_VERSION = "2.9.11"
"""The psycopg2 sdist whose ``tests/dbapi20.py`` (Revision 1.12) is the suite."""
DBAPI20_MEMBER = f"psycopg2-{PSYCOPG2_VERSION}/tests/dbapi20.py"
DBAPI20_SHA256 = "3303fdd887b935d608ba67d015e24aa53d119f1716a511800695b6eda09ee74d"
CACHE_DIR = Path(__file__).resolve().parents[1] / ".pytest_cache" / "d" / "dbapi20"


class SuiteUnavailable(Exception):
    """The suite could not be downloaded (no network, PyPI unreachable)."""


def _download_suite(target: Path) -> None:
    """pip-download the psycopg2 sdist and extract ``tests/dbapi20.py`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        argv = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-binary",
            "psycopg2",
            "--timeout",
            "20",
            "--retries",
            "1",
            f"psycopg2=={PSYCOPG2_VERSION}",
            "-d",
            tmp,
        ]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SuiteUnavailable(f"`pip download psycopg2=={PSYCOPG2_VERSION}`: {exc}")
        sdists = list(Path(tmp).glob("psycopg2-*.tar.gz"))
        if done.returncode != 0 or not sdists:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise SuiteUnavailable(
                f"`pip download psycopg2=={PSYCOPG2_VERSION}` failed"
                f" (exit {done.returncode}): {tail}"
            )
        with tarfile.open(sdists[0]) as tar:
            member = tar.extractfile(DBAPI20_MEMBER)
            if member is None:
                raise RuntimeError(f"{sdists[0].name} has no {DBAPI20_MEMBER}")
            data = member.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != DBAPI20_SHA256:
            raise RuntimeError(
                f"{DBAPI20_MEMBER} changed upstream: sha256 {digest}, expected {DBAPI20_SHA256};"
                " review the new file and update DBAPI20_SHA256 (and the expectations here)"
            )
        part = Path(tmp) / "dbapi20.py"
        part.write_bytes(data)
        part.replace(target)


def load_suite() -> ModuleType:
    """The ``dbapi20`` module, downloaded on first use."""
    target = CACHE_DIR / f"dbapi20-psycopg2-{PSYCOPG2_VERSION}.py"
    if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != DBAPI20_SHA256:
        _download_suite(target)
    spec = importlib.util.spec_from_file_location("dbapi20", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _SuiteMissing(unittest.TestCase):
    """Stands in for the suite's test case when it could not be loaded: one test that skips
    locally (no network) and fails in CI, or fails everywhere when the file changed."""

    __test__ = False  # run through the concrete subclasses below
    load_error: ClassVar[str] = ""
    network: ClassVar[bool] = True

    def setUp(self) -> None:
        if self.network and not os.environ.get("CI"):
            self.skipTest(f"the DB-API 2.0 suite could not be downloaded: {self.load_error}")
        self.fail(f"the DB-API 2.0 suite could not be loaded: {self.load_error}")

    def test_dbapi20_suite_available(self) -> None:
        pass


try:
    dbapi20: ModuleType | None = load_suite()
except SuiteUnavailable as exc:
    dbapi20 = None
    _SuiteMissing.load_error = str(exc)
except Exception as exc:  # a changed upstream file, a broken cache: fail everywhere
    dbapi20 = None
    _SuiteMissing.load_error = f"{type(exc).__name__}: {exc}"
    _SuiteMissing.network = False

if TYPE_CHECKING:
    _Suite = unittest.TestCase
else:
    _Suite = dbapi20.DatabaseAPI20Test if dbapi20 is not None else _SuiteMissing


# -- the targets --------------------------------------------------------------------------------

ENGINE = {"psycopg": "postgresql", "pymysql": "mysql", "mysql-connector": "mysql"}
RAW_MODULES: dict[str, ModuleType] = {
    "psycopg": psycopg,
    "pymysql": pymysql,
    "mysql-connector": mysql.connector,
}

_NOT_ERROR_AFTER_NO_ROWS = (
    "{} returns an empty result instead of raising Error when the last statement"
    " (CREATE TABLE, INSERT) produced no rows"
)
DRIVER_LIMITS: dict[tuple[str, str], str] = {
    # (driver, test) -> why the raw driver fails it. xfailed (strictly) for the driver, and for
    # the wrapper over it unless listed in WRAPPER_PASSES: the wrapper passes the driver's
    # results through.
    ("pymysql", "test_fetchone"): _NOT_ERROR_AFTER_NO_ROWS.format("PyMySQL's fetchone()"),
    ("pymysql", "test_fetchall"): _NOT_ERROR_AFTER_NO_ROWS.format("PyMySQL's fetchall()"),
    ("pymysql", "test_rowcount"): "PyMySQL's rowcount is 0, not -1, after a DDL statement",
    ("pymysql", "test_setoutputsize_basic"): "PyMySQL's cursor has no setoutputsize()",
    ("pymysql", "test_setoutputsize"): "PyMySQL's cursor has no setoutputsize()",
    ("mysql-connector", "test_fetchone"): _NOT_ERROR_AFTER_NO_ROWS.format(
        "mysql-connector's fetchone()"
    ),
    ("mysql-connector", "test_fetchall"): _NOT_ERROR_AFTER_NO_ROWS.format(
        "mysql-connector's fetchall()"
    ),
    ("mysql-connector", "test_rowcount"): (
        "mysql-connector's rowcount is 0, not -1, after a DDL statement"
    ),
    ("mysql-connector", "test_description"): (
        "mysql-connector's cursor.description items have 9 elements (PEP 249: 7)"
    ),
    ("mysql-connector", "test_ExceptionsAsConnectionAttributes"): (
        "mysql-connector's connection has no Warning/Error/... attributes (an optional"
        " PEP 249 extension)"
    ),
    ("mysql-connector", "test_callproc"): (
        "mysql-connector keeps a procedure's result sets in cursor.stored_results(), not in"
        " the cursor: fetchall() after callproc() returns []"
    ),
    ("mysql-connector", "test_nextset"): (
        "mysql-connector keeps a procedure's result sets in cursor.stored_results(), not in"
        " the cursor: fetchone() after callproc() returns None"
    ),
}
"""Tests the raw driver fails."""

WRAPPER_PASSES: set[tuple[str, str]] = {
    # aws_wrapper's cursor has setoutputsize() (a no-op) whatever the driver
    ("pymysql", "test_setoutputsize_basic"),
    ("pymysql", "test_setoutputsize"),
    # aws_wrapper's connection has aws_wrapper's exception classes whatever the driver
    ("mysql-connector", "test_ExceptionsAsConnectionAttributes"),
}
"""Tests in :data:`DRIVER_LIMITS` that aws_wrapper passes over that driver nevertheless."""

WRAPPER_DEFECTS: dict[tuple[str, str], str] = {}
"""(driver, test) -> a failure of aws_wrapper that the raw driver does not have. xfailed
strictly: the fix makes it XPASS, which fails until the entry is removed."""


def _params(request: pytest.FixtureRequest, driver: str) -> dict[str, Any]:
    fixture = "pg_server" if ENGINE[driver] == "postgresql" else "mariadb_server"
    return dict(request.getfixturevalue(fixture).conn_params())


@pytest.fixture(autouse=True)
def _dbapi20_connect_args(request: pytest.FixtureRequest) -> None:
    """Points each test class at its server (the session's PostgreSQL or MariaDB)."""
    cls = request.cls
    if cls is None or not issubclass(cls, DBAPI20Harness) or cls.target_driver == "":
        return
    params = _params(request, cls.target_driver)
    cls.cleanup_params = params
    if cls.wrapped:
        cls.connect_kw_args = {"driver": cls.target_driver, "plugins": "", **params}
    else:
        cls.connect_kw_args = params


class DBAPI20Harness(_Suite):
    """The suite's hooks, per driver: table names, the procedure for ``test_callproc``, a
    ``nextset`` test, and clean-up through the raw driver (not through the code under test)."""

    __test__ = False  # collected through the concrete subclasses only

    target_driver: ClassVar[str] = ""
    wrapped: ClassVar[bool] = False
    driver: Any
    connect_kw_args: ClassVar[dict[str, Any]] = {}
    cleanup_params: ClassVar[dict[str, Any]] = {}

    table_prefix = "dbapi20test_"
    ddl1 = f"create table {table_prefix}booze (name varchar(20))"
    ddl2 = f"create table {table_prefix}barflys (name varchar(20))"
    xddl1 = f"drop table {table_prefix}booze"
    xddl2 = f"drop table {table_prefix}barflys"
    lower_func = "lower"
    """PostgreSQL: the built-in ``lower()`` (a function, called as a procedure by the suite).
    MySQL: a procedure ``dbapi20test_lower`` that SELECTs ``LOWER(s)`` (made in setUp)."""

    if TYPE_CHECKING:  # the suite's, used here
        samples: list[str]

        def _connect(self) -> Any: ...
        def executeDDL1(self, cursor: Any) -> None: ...
        def _populate(self) -> list[str]: ...

    # Python 3.12 removed the aliases the suite (2009) still uses
    failUnless = unittest.TestCase.assertTrue

    @property
    def mysql(self) -> bool:
        return ENGINE[self.target_driver] == "mysql"

    def _raw_cleanup(self, statements: list[str]) -> None:
        """Run DDL on a raw driver connection in autocommit: the suite's own tearDown drops
        through the connection under test and relies on its error classes."""
        params = self.cleanup_params
        if self.mysql:
            with pymysql.connect(autocommit=True, **params) as con, con.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        else:
            with psycopg.connect(autocommit=True, **params) as pg:
                for sql in statements:
                    pg.execute(sql)

    def _drop_all(self) -> None:
        drops = [
            f"drop table if exists {self.table_prefix}booze",
            f"drop table if exists {self.table_prefix}barflys",
        ]
        if self.mysql:
            drops += [
                f"drop procedure if exists {self.table_prefix}lower",
                "drop procedure if exists deleteme",
            ]
        self._raw_cleanup(drops)

    def setUp(self) -> None:
        super().setUp()  # the suite's: nothing; without the suite: skip, or fail in CI
        if not self.target_driver:
            return
        self._drop_all()
        if self.mysql:
            self.lower_func = f"{self.table_prefix}lower"
            self._raw_cleanup(
                [f"create procedure {self.lower_func}(in s varchar(20)) begin select lower(s); end"]
            )

    def tearDown(self) -> None:
        if self.target_driver:
            self._drop_all()

    # -- tests the suite leaves to the driver -------------------------------------------------

    def test_setoutputsize(self) -> None:
        # the suite: "Real test for setoutputsize is driver dependent"; it is a no-op in
        # psycopg, PyMySQL and mysql-connector (PEP 249 allows that): check that it is callable
        con = self._connect()
        try:
            cur = con.cursor()
            cur.setoutputsize(1000)
            cur.setoutputsize(2000, 0)
        finally:
            con.close()

    def help_nextset_setUp(self, cur: Any) -> None:
        cur.execute(
            "create procedure deleteme() begin"
            f" select count(*) from {self.table_prefix}booze;"
            f" select name from {self.table_prefix}booze; end"
        )

    def help_nextset_tearDown(self, cur: Any) -> None:
        cur.execute("drop procedure deleteme")

    def test_nextset(self) -> None:
        # The suite's own test_nextset (shadowed in dbapi20.py by a NotImplementedError stub),
        # with the hooks: MySQL runs a procedure returning two result sets (as the suite
        # intends); PostgreSQL has no such procedures, so psycopg gets the two result sets from
        # one execute() of two statements. MySQL then sends the CALL's own (empty) status
        # result: accepted after the two sets, as MySQLdb's and PyMySQL's copies of the suite do.
        con = self._connect()
        try:
            cur = con.cursor()
            if not hasattr(cur, "nextset"):
                return
            self.executeDDL1(cur)
            for sql in self._populate():
                cur.execute(sql)
            if self.mysql:
                self.help_nextset_setUp(cur)
                cur.callproc("deleteme")
            else:
                cur.execute(
                    f"select count(*) from {self.table_prefix}booze;"
                    f" select name from {self.table_prefix}booze"
                )
            numberofrows = cur.fetchone()
            self.assertEqual(numberofrows[0], len(self.samples))
            self.assertTrue(cur.nextset())
            names = cur.fetchall()
            self.assertEqual(len(names), len(self.samples))
            s = cur.nextset()
            if s and self.mysql:
                self.assertEqual(len(cur.fetchall()), 0, "rows after the procedure's sets")
                s = cur.nextset()
            self.assertFalse(s, "No more return sets, should return None")
        finally:
            con.close()


def _expect(cls: type[DBAPI20Harness]) -> type[DBAPI20Harness]:
    """Marks the class's known failures (:data:`DRIVER_LIMITS`, :data:`WRAPPER_DEFECTS`)."""
    if dbapi20 is None:  # every test skips (fails in CI) in setUp: nothing is expected
        return cls
    tests = {name for name in dir(cls) if name.startswith("test_")}
    for name in sorted(tests):
        key = (cls.target_driver, name)
        if cls.wrapped and key in WRAPPER_DEFECTS:
            reason = WRAPPER_DEFECTS[key]
        elif key in DRIVER_LIMITS and not (cls.wrapped and key in WRAPPER_PASSES):
            reason = f"the raw driver fails it: {DRIVER_LIMITS[key]}"
        else:
            continue
        _mark(cls, name, pytest.mark.xfail(reason=reason, strict=True))
    return cls


def _mark(cls: type[DBAPI20Harness], name: str, mark: pytest.MarkDecorator) -> None:
    inherited: Callable[[Any], None] = getattr(cls, name)

    def test(self: Any) -> None:
        inherited(self)

    test.__name__ = test.__qualname__ = name
    setattr(cls, name, mark(test))


del _Suite  # pytest collects every TestCase bound to a module-level name


# -- the concrete test cases ------------------------------------------------------------------
# driver = the PEP 249 module: the raw driver's, or aws_wrapper (connect(driver=...))


@_expect
class TestRawPsycopg(DBAPI20Harness):
    __test__ = True
    driver = psycopg
    target_driver = "psycopg"


@_expect
class TestAwsWrapperPsycopg(DBAPI20Harness):
    __test__ = True
    driver = aws_wrapper
    target_driver = "psycopg"
    wrapped = True


@_expect
class TestRawPyMySQL(DBAPI20Harness):
    __test__ = True
    driver = pymysql
    target_driver = "pymysql"


@_expect
class TestAwsWrapperPyMySQL(DBAPI20Harness):
    __test__ = True
    driver = aws_wrapper
    target_driver = "pymysql"
    wrapped = True


@_expect
class TestRawMySQLConnector(DBAPI20Harness):
    __test__ = True
    driver = mysql.connector
    target_driver = "mysql-connector"


@_expect
class TestAwsWrapperMySQLConnector(DBAPI20Harness):
    __test__ = True
    driver = aws_wrapper
    target_driver = "mysql-connector"
    wrapped = True
