"""Django: the aws_wrapper.django backends on the devcluster (both engines), and the error
mapping on its own.

The Django test project (tests/django_project) runs in a subprocess with ``python -m django
test``, against the session's devcluster: CRUD through the ORM, a failover outside and inside
a transaction, read-only routing to a reader (context manager and replica alias/router).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import aws_wrapper
from aws_wrapper_devcluster import Cluster, iam_verifier

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "djangotest"
ENGINES = {
    "postgresql": ("devcluster_pg", "aws_wrapper.django.postgresql"),
    "mysql": ("devcluster_mysql", "aws_wrapper.django.mysql"),
    # aws-advanced-python-wrapper's ENGINE path, package renamed (docs/migration.md)
    "mysql-peer-path": ("devcluster_mysql", "aws_wrapper.django.backends.mysql_connector"),
}
DJANGO_TESTS = [
    "test_configuration_errors",
    "test_crud",
    "test_driver_errors_become_djangos",
    "test_read_only_is_refused_inside_a_transaction",
    "test_savepoints",
    "test_the_connection_is_a_wrapper_connection",
    "test_a_lost_reader_is_replaced_by_a_reader",
    "test_failover_during_a_chunked_read",
    "test_failover_inside_a_transaction",
    "test_failover_outside_a_transaction",
    "test_read_only_moves_to_a_reader_and_back",
    "test_replica_alias_and_router",
]
IAM_USER = "django_iam"


def create_database(cluster: Cluster, name: str) -> None:
    """A database owned by (granted to) the application user, who may not create one: the
    Django test runner uses it as its test database with --keepdb."""
    pg = cluster.engine.value == "postgresql"
    driver = "psycopg" if pg else "pymysql"
    with aws_wrapper.connect(driver=driver, plugins="", **cluster.conn_params(admin=True)) as c:
        c.autocommit = True
        app_user = cluster.conn_params()["user"]
        if pg:
            cur = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                c.execute(f'CREATE DATABASE "{name}" OWNER "{app_user}"')
        else:
            c.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
            c.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@'%%'", (app_user,))


@pytest.mark.timeout(150)
@pytest.mark.parametrize("engine", ["postgresql", "mysql", "mysql-peer-path"])
def test_django_project(request: pytest.FixtureRequest, engine: str) -> None:
    fixture, backend = ENGINES[engine]
    cluster: Cluster = request.getfixturevalue(fixture)
    create_database(cluster, DATABASE)
    tests = list(DJANGO_TESTS)
    extra: dict[str, str] = {}
    if engine == "postgresql":  # IAM authentication is emulated on PostgreSQL devclusters
        cluster.create_iam_user(IAM_USER)
        extra = {
            "AWS_WRAPPER_DJANGO_IAM_USER": IAM_USER,
            "AWS_ACCESS_KEY_ID": iam_verifier.ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": iam_verifier.SECRET_ACCESS_KEY,
        }
        tests.append("test_iam_authentication_through_options")
    else:  # server-side cursors are PostgreSQL's
        tests.remove("test_failover_during_a_chunked_read")
    env = {
        **os.environ,
        **cluster.env(),
        "AWS_WRAPPER_DJANGO_ENGINE": backend,
        "AWS_WRAPPER_DJANGO_CONN": json.dumps(cluster.conn_params()),
        "AWS_WRAPPER_DJANGO_DB": DATABASE,
        "AWS_WRAPPER_DJANGO_DEVCLUSTER": str(cluster.state_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        **extra,
    }
    for name in ("DJANGO_SETTINGS_MODULE", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    argv = [
        sys.executable,
        "-m",
        "django",
        "test",
        "--settings=tests.django_project.settings",
        "--keepdb",
        "--noinput",
        "--verbosity=2",
        "tests.django_project.djapp",
    ]
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    for name in tests:
        assert re.search(rf"^{name} \(.*\) \.\.\. ok$", output, re.MULTILINE), output
    assert f"Ran {len(DJANGO_TESTS) + 1} tests" in output, output  # PostgreSQL-only ones skip


EXAMPLE = ROOT / "examples" / "django_app" / "manage.py"


@pytest.mark.timeout(150)
@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_example_site(request: pytest.FixtureRequest, engine: str) -> None:
    """examples/django_app/manage.py demo, on the session's devcluster (attached by name)."""
    cluster: Cluster = request.getfixturevalue(ENGINES[engine][0])
    argv = [sys.executable, str(EXAMPLE), "--devcluster", "--name", cluster.name, "demo"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "FailoverSuccessError (a django.db.OperationalError): run it again" in output, output
    assert "transfer: TransactionResolutionUnknownError; committed: False" in output, output
    assert "balances {'alice': 70, 'bob': 30}" in output, output
    found = re.search(r"read_only\(\): on (\S+) \(a reader\), 6 notes replicated", output)
    assert found is not None, output
    back = re.search(r"after read_only\(\): back on (\S+)$", output, re.MULTILINE)
    assert back is not None and back.group(1) == cluster.writer != found.group(1), output
    assert done.stdout.rstrip().endswith("[django] done"), output


def test_example_site_help() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--devcluster" in done.stdout and "Django's own commands" in done.stdout


# -- the error mapping, without a database ------------------------------------------------------


class _FakeBackend:
    def __init__(self, database: Any) -> None:
        self.Database = database
        self.errors_occurred = False


def _raise_through(database: Any, error: BaseException) -> BaseException:
    from aws_wrapper.django.errors import AwsDatabaseErrorWrapper

    backend = _FakeBackend(database)
    try:
        with AwsDatabaseErrorWrapper(backend):
            raise error
    except BaseException as e:
        assert backend.errors_occurred or not isinstance(e, aws_wrapper.Error)
        return e
    raise AssertionError("nothing raised")


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_wrapper_errors_become_django_errors(backend: str) -> None:
    import importlib

    from django.db import utils as dj

    import aws_wrapper.django as awd

    database = importlib.import_module(f"aws_wrapper.django.{backend}.database")
    cases: list[tuple[BaseException, type[BaseException], type[BaseException] | None]] = [
        (aws_wrapper.FailoverSuccessError("moved"), awd.FailoverSuccessError, None),
        (
            aws_wrapper.TransactionResolutionUnknownError("unknown"),
            awd.TransactionResolutionUnknownError,
            None,
        ),
        (aws_wrapper.FailoverFailedError("none"), awd.FailoverFailedError, None),
        (aws_wrapper.ReadWriteSplittingError("refused"), awd.ReadWriteSplittingError, None),
        (aws_wrapper.ConnectError("down", "h:1"), dj.OperationalError, awd.FailoverError),
        (aws_wrapper.ConnectionClosedError("closed"), dj.InterfaceError, None),
    ]
    for error, expected, not_expected in cases:
        raised = _raise_through(database, error)
        assert isinstance(raised, expected), (error, raised)
        assert isinstance(raised, dj.Error)
        assert raised.__cause__ is error
        assert raised.args == error.args
        if not_expected is not None:
            assert not isinstance(raised, not_expected)
    # the twins are the wrapper's classes too: the same except clause works in Django code
    raised = _raise_through(database, aws_wrapper.FailoverSuccessError("moved"))
    assert isinstance(raised, aws_wrapper.FailoverSuccessError)
    assert isinstance(raised, dj.OperationalError)
    assert not isinstance(raised, aws_wrapper.TransactionResolutionUnknownError)
    # the driver's own errors map as in Django; Django's pass unchanged; others untouched
    driver_error = database.IntegrityError[0]("duplicate")
    assert isinstance(_raise_through(database, driver_error), dj.IntegrityError)
    already = dj.OperationalError("django's")
    assert _raise_through(database, already) is already
    other = ValueError("not a database error")
    assert _raise_through(database, other) is other
    # Database.Error works in except clauses (Django's CursorWrapper.__exit__ uses it)
    for error in (database.Error[0]("driver"), aws_wrapper.ConnectionClosedError("wrapper")):
        try:
            raise error
        except database.Error:
            pass
