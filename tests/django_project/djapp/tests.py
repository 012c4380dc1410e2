"""The Django test project's tests: the ORM on a devcluster through aws_wrapper's backends,
across failovers, with read/write splitting. Run by tests/test_django.py (see settings.py)."""

from __future__ import annotations

import os
import time
import unittest
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Sum
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings

import aws_wrapper
import aws_wrapper.django as awd
from aws_wrapper.django import ReadReplicaRouter, read_only, wrapper_connection
from aws_wrapper_devcluster import Cluster

from .models import Item

INSTANCE_SQL = {
    "postgresql": "SELECT pg_catalog.aurora_db_instance_identifier()",
    "mysql": "SELECT @@aurora_server_id",
}


def cluster() -> Cluster:
    return Cluster(Path(os.environ["AWS_WRAPPER_DJANGO_DEVCLUSTER"]))


def query(sql: str, using: str = "default") -> Any:
    with connections[using].cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        cursor.fetchall()
    assert row is not None
    return row[0]


def instance_id(using: str = "default") -> str:
    return str(query(INSTANCE_SQL[connections[using].vendor], using))


def isolation_level() -> str:
    """The isolation level of a transaction opened now (psycopg applies it at BEGIN)."""
    if connection.vendor == "postgresql":
        sql = "SHOW transaction_isolation"
    elif getattr(connection, "mysql_is_mariadb", False):
        sql = "SELECT @@tx_isolation"
    else:
        sql = "SELECT @@transaction_isolation"
    with transaction.atomic():
        return str(query(sql)).replace("-", " ").lower()


EXPECTED_ISOLATION = {"postgresql": "repeatable read", "mysql": "read committed"}


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for ``check`` (replication to a reader)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(0.05)


class OrmTests(TestCase):
    """CRUD through the ORM (each test in a transaction rolled back at its end)."""

    def test_crud(self) -> None:
        Item.objects.create(name="apple", quantity=3, attributes={"colour": "red"})
        Item.objects.bulk_create([Item(name="pear", quantity=5), Item(name="plum", quantity=7)])
        self.assertEqual(Item.objects.count(), 3)
        apple = Item.objects.get(name="apple")
        self.assertEqual(apple.attributes, {"colour": "red"})
        self.assertIsNotNone(apple.created.tzinfo)
        Item.objects.filter(name="apple").update(quantity=F("quantity") + 1)
        apple.refresh_from_db()
        self.assertEqual(apple.quantity, 4)
        self.assertEqual(Item.objects.aggregate(total=Sum("quantity"))["total"], 16)
        self.assertEqual(
            list(Item.objects.filter(name__startswith="p").values_list("name", flat=True)),
            ["pear", "plum"],
        )
        self.assertEqual(Item.objects.filter(attributes__colour="red").get().name, "apple")
        # chunked reads: a server-side (named) cursor on PostgreSQL
        names = [item.name for item in Item.objects.iterator(chunk_size=1)]
        self.assertEqual(names, ["apple", "pear", "plum"])
        Item.objects.filter(name="pear").delete()
        self.assertEqual(Item.objects.count(), 2)

    def test_savepoints(self) -> None:
        Item.objects.create(name="outer")
        try:
            with transaction.atomic():
                Item.objects.create(name="inner")
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        self.assertEqual(list(Item.objects.values_list("name", flat=True)), ["outer"])

    def test_driver_errors_become_djangos(self) -> None:
        Item.objects.create(name="unique")
        with self.assertRaises(IntegrityError) as caught, transaction.atomic():
            Item.objects.create(name="unique")
        # the driver's error, which is also the wrapper's PEP 249 class, is the cause
        cause = caught.exception.__cause__
        driver_class, _ = cast(Any, connection).Database.IntegrityError  # (the driver's, ours)
        self.assertIsInstance(cause, driver_class)
        self.assertIsInstance(cause, aws_wrapper.IntegrityError)

    def test_the_connection_is_a_wrapper_connection(self) -> None:
        conn = wrapper_connection()
        self.assertIsInstance(connection.connection, aws_wrapper.AwsWrapperConnection)
        self.assertIn(conn.dialect_code, ("aurora-pg", "aurora-mysql"))
        self.assertIsNotNone(conn.current_host)
        assert conn.current_host is not None
        self.assertEqual(conn.current_host.host_id, instance_id())
        self.assertEqual(isolation_level(), EXPECTED_ISOLATION[connection.vendor])
        self.assertTrue(connection.is_usable())

    def test_read_only_is_refused_inside_a_transaction(self) -> None:
        # a TestCase runs each test inside transaction.atomic()
        with self.assertRaises(awd.ReadWriteSplittingError) as caught, read_only():
            pass
        self.assertIsInstance(caught.exception, OperationalError)
        self.assertIsInstance(caught.exception, aws_wrapper.ReadWriteSplittingError)
        self.assertIn("inside a transaction", str(caught.exception))

    def test_configuration_errors(self) -> None:
        backend = type(connections["default"])
        settings = {**connection.settings_dict}
        bad = backend({**settings, "OPTIONS": {"plugins": "failover_v3"}}, "bad")
        with self.assertRaises(ImproperlyConfigured) as caught:
            bad.ensure_connection()
        self.assertIn("failover_v3", str(caught.exception))
        bad = backend({**settings, "OPTIONS": {"failover_timout_sec": 1}}, "bad")
        with self.assertRaises(ImproperlyConfigured) as caught:
            bad.ensure_connection()
        self.assertIn("failover_timeout_sec", str(caught.exception))  # the suggestion
        if connection.vendor == "postgresql":
            pooled = backend({**settings, "OPTIONS": {"pool": True}}, "bad")
            with self.assertRaises(ImproperlyConfigured) as caught:
                pooled.ensure_connection()
            self.assertIn("pool", str(caught.exception))
            self.assertIn("-c TimeZone=UTC", connection.get_connection_params()["options"])


class FailoverTests(TransactionTestCase):
    """A failover in the middle of the application's work (committed data is kept)."""

    databases = {"default", "replica"}

    def test_a_lost_reader_is_replaced_by_a_reader(self) -> None:
        # first of the class (unittest sorts by name): the process' topology still lists
        # every reader; one that rejoins after a failover is listed after the next refresh
        devcluster = cluster()
        lost = instance_id("replica")
        devcluster.reject(lost)  # refuses connections, resets the established ones
        try:
            with self.assertRaises(aws_wrapper.FailoverSuccessError):
                instance_id("replica")
            # failover_mode reader_or_writer: another reader, not the writer
            now = instance_id("replica")
            self.assertNotIn(now, (lost, devcluster.writer))
        finally:
            devcluster.heal()

    def test_failover_outside_a_transaction(self) -> None:
        devcluster = cluster()
        Item.objects.create(name="before")
        self.assertEqual(instance_id(), devcluster.writer)
        result = devcluster.failover()
        with self.assertRaises(aws_wrapper.FailoverSuccessError) as caught:
            Item.objects.create(name="after")
        error = caught.exception
        # the documented error: Django's OperationalError and the wrapper's, by either name
        self.assertIsInstance(error, awd.FailoverSuccessError)
        self.assertIsInstance(error, OperationalError)
        self.assertIsInstance(error.__cause__, aws_wrapper.FailoverSuccessError)
        self.assertNotIsInstance(error.__cause__, DatabaseError)  # the wrapper's own
        self.assertIn(result["new_writer"], str(error))
        # the same connection, already on the new writer: run the statement again
        Item.objects.create(name="after")
        self.assertEqual(instance_id(), result["new_writer"])
        self.assertEqual(list(Item.objects.values_list("name", flat=True)), ["after", "before"])
        self.assertTrue(connection.is_usable())
        self.assertEqual(isolation_level(), EXPECTED_ISOLATION[connection.vendor])
        if connection.vendor == "postgresql":
            self.assertEqual(query("SHOW TimeZone"), "UTC")  # startup options

    def test_failover_inside_a_transaction(self) -> None:
        devcluster = cluster()
        devcluster.wait_rejoins(timeout=60)
        Item.objects.create(name="account", quantity=100)

        def withdraw(amount: int, fail_over: bool) -> None:
            with transaction.atomic():
                account = Item.objects.select_for_update().get(name="account")
                account.quantity -= amount
                account.save()
                if fail_over:
                    devcluster.failover(crash=True)
                Item.objects.create(name=f"withdrawal {amount}", quantity=amount)

        with self.assertRaises(aws_wrapper.TransactionResolutionUnknownError) as caught:
            withdraw(30, fail_over=True)
        self.assertIsInstance(caught.exception, OperationalError)
        self.assertIsInstance(caught.exception, awd.TransactionResolutionUnknownError)
        self.assertFalse(connection.in_atomic_block)
        # the transaction was not committed (the writer crashed before COMMIT): run it again
        self.assertEqual(Item.objects.get(name="account").quantity, 100)
        withdraw(30, fail_over=False)
        self.assertEqual(Item.objects.get(name="account").quantity, 70)
        self.assertEqual(instance_id(), devcluster.writer)

    @unittest.skipUnless(connection.vendor == "postgresql", "server-side cursors: PostgreSQL")
    def test_failover_during_a_chunked_read(self) -> None:
        # a named cursor's fetch is not watched by failover: the backend fails over when
        # Django sees the driver connection die, and raises the same error
        devcluster = cluster()
        devcluster.wait_rejoins(timeout=60)
        Item.objects.bulk_create([Item(name=f"row {i}") for i in range(6)])
        rows = Item.objects.iterator(chunk_size=2)
        self.assertEqual(next(rows).name, "row 0")
        result = devcluster.failover()
        with self.assertRaises(aws_wrapper.FailoverSuccessError) as caught:
            list(rows)
        self.assertIsInstance(caught.exception, OperationalError)
        # the connection moved: the query runs again, on the new writer
        self.assertEqual(len(list(Item.objects.iterator(chunk_size=2))), 6)
        self.assertEqual(instance_id(), result["new_writer"])


class ReadWriteSplittingTests(TransactionTestCase):
    databases = {"default", "replica"}

    def setUp(self) -> None:
        cluster().wait_rejoins(timeout=60)  # readers back after the failover tests

    def test_read_only_moves_to_a_reader_and_back(self) -> None:
        devcluster = cluster()
        writer = devcluster.writer
        Item.objects.create(name="replicated")
        self.assertEqual(instance_id(), writer)
        with read_only() as conn:
            reader = instance_id()
            self.assertNotEqual(reader, writer)
            self.assertIn(reader, devcluster.instance_ids)
            self.assertTrue(conn.read_only)
            eventually(lambda: Item.objects.filter(name="replicated").exists())
            with self.assertRaises(DatabaseError):  # the server refuses writes
                Item.objects.create(name="refused")
        self.assertEqual(instance_id(), writer)
        Item.objects.create(name="writable again")
        self.assertEqual(Item.objects.count(), 2)

    def test_replica_alias_and_router(self) -> None:
        devcluster = cluster()
        Item.objects.create(name="routed")
        reader = instance_id("replica")
        self.assertNotEqual(reader, devcluster.writer)
        self.assertIn(reader, devcluster.instance_ids)
        router = ReadReplicaRouter()
        with override_settings(DATABASE_ROUTERS=[router]):
            eventually(lambda: Item.objects.filter(name="routed").exists())
            self.assertEqual(Item.objects.all().db, "replica")
            with transaction.atomic():  # reads in a writer transaction stay on the writer
                self.assertEqual(Item.objects.all().db, "default")
            item = Item.objects.get(name="routed")
            item.quantity = 2
            item.save()  # written through the writer
        self.assertEqual(Item.objects.using("default").get(name="routed").quantity, 2)


@unittest.skipUnless("iam" in settings.DATABASES, "no IAM user (PostgreSQL devclusters only)")
class IamTests(SimpleTestCase):
    databases = {"iam"} if "iam" in settings.DATABASES else set()

    def test_iam_authentication_through_options(self) -> None:
        user = settings.DATABASES["iam"]["USER"]
        self.assertEqual(settings.DATABASES["iam"]["PASSWORD"], "")
        self.assertEqual(query("SELECT current_user", "iam"), user)
        accepted = [line for line in cluster().iam_log() if f"user {user!r}: accepted" in line]
        self.assertTrue(accepted, cluster().iam_log()[-5:])
