"""``manage.py demo``: the ORM through a failover, a transaction a crash interrupts, reads on a
reader. Fails the cluster over when ``AWS_WRAPPER_DEVCLUSTER`` names a devcluster (set by
``manage.py --devcluster``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import OperationalError, connections, transaction
from django.db.models import F

import aws_wrapper
from aws_wrapper.django import read_only
from aws_wrapper_devcluster import Cluster

from ...models import Account, Note

INSTANCE_SQL = {
    "postgresql": "SELECT pg_catalog.aurora_db_instance_identifier()",
    "mysql": "SELECT @@aurora_server_id",
}


def say(message: str) -> None:
    print(f"[django] {message}", flush=True)


def instance(using: str = "default") -> str:
    """The instance the alias' connection is on (Aurora's own function)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(INSTANCE_SQL[connection.vendor])
        row = cursor.fetchone()
    return str(row[0]) if row else "?"


class Command(BaseCommand):
    help = "Write notes through a failover and read them on a reader."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--notes", type=int, default=6, help="notes to write (6)")

    def handle(self, *args: Any, **options: Any) -> None:
        state = os.environ.get("AWS_WRAPPER_DEVCLUSTER")
        cluster = Cluster(Path(state)) if state else None
        call_command("migrate", verbosity=0)
        Note.objects.all().delete()
        Account.objects.all().delete()
        Account.objects.bulk_create([Account(name="alice", balance=100), Account(name="bob")])
        say(f"connected to {instance()} (the writer) through {connections['default'].vendor}")

        count = options["notes"]
        for i in range(count):
            if cluster is not None and i == count // 2:
                result = cluster.failover()
                say(f"failover: {result['old_writer']} -> {result['new_writer']}")
            self.save_note(f"note {i}")
        say(f"{Note.objects.count()} notes written; now on {instance()}")

        self.transfer(30, cluster)
        balances = dict(Account.objects.values_list("name", "balance"))
        say(f"balances {balances} (each transfer applied once)")

        with read_only():
            reader = instance()
            notes = self.wait_for_notes(count)
            say(f"read_only(): on {reader} (a reader), {notes} notes replicated")
        say(f"after read_only(): back on {instance()}")
        say(f"the 'replica' alias is on {instance('replica')}")
        say("done")

    def save_note(self, text: str) -> None:
        """A single autocommit write: after FailoverSuccessError it did not happen; run it
        again (the connection is on the new writer already)."""
        for _attempt in range(3):
            try:
                Note.objects.create(text=text, written_on=instance())
                return
            except aws_wrapper.FailoverSuccessError as e:
                kind = "a django.db.OperationalError" if isinstance(e, OperationalError) else ""
                say(f"{text}: {type(e).__name__} ({kind}): run it again")
        raise RuntimeError(f"{text}: gave up after three failovers")

    def transfer(self, amount: int, cluster: Cluster | None) -> None:
        """A transaction; a crash before COMMIT leaves its outcome unknown: check, then run
        it again if it did not commit."""
        expected = Account.objects.get(name="alice").balance - amount
        for attempt in range(3):
            try:
                with transaction.atomic():
                    alice = Account.objects.select_for_update().get(name="alice")
                    alice.balance -= amount
                    alice.save()
                    if cluster is not None and attempt == 0:
                        result = cluster.failover(crash=True)
                        say(f"crash failover inside the transaction -> {result['new_writer']}")
                    Account.objects.filter(name="bob").update(balance=F("balance") + amount)
                return
            except aws_wrapper.TransactionResolutionUnknownError as e:
                committed = Account.objects.get(name="alice").balance == expected
                say(f"transfer: {type(e).__name__}; committed: {committed}")
                if committed:
                    return
            except aws_wrapper.FailoverSuccessError:
                pass  # before the transaction began: nothing happened
        raise RuntimeError("transfer: gave up after three failovers")

    @staticmethod
    def wait_for_notes(count: int, timeout: float = 10.0) -> int:
        """Replication to readers is asynchronous: wait until the reader has every note."""
        deadline = time.monotonic() + timeout
        while (seen := Note.objects.count()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return seen
