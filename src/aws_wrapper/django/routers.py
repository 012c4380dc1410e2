"""A database router for a reader alias.

::

    DATABASES = {
        "default": {"ENGINE": "aws_wrapper.django.postgresql", "HOST": CLUSTER, ...,
                    "OPTIONS": {"plugins": "read_write_splitting,failover_v2"}},
        "replica": {"ENGINE": "aws_wrapper.django.postgresql", "HOST": CLUSTER, ...,
                    "OPTIONS": {"plugins": "read_write_splitting,failover_v2",
                                "read_only": True, "failover_mode": "reader_or_writer"},
                    "TEST": {"MIRROR": "default"}},
    }
    DATABASE_ROUTERS = ["aws_wrapper.django.ReadReplicaRouter"]

The ``replica`` alias opens its connections in read-only mode: on a reader picked by
``reader_host_selector_strategy``, moved to another reader by failover. (Pointing its
``HOST`` at the cluster's reader endpoint, with ``failover_v2``, works too.)
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


class ReadReplicaRouter:
    """Reads go to :attr:`reader`, writes to :attr:`writer` (subclass to change the aliases).

    Reads inside a transaction of the writer (``transaction.atomic()``) stay on the writer,
    so they see the transaction's own writes. Outside one, a read right after a write may not
    see it yet (replica lag): read such rows with ``.using("default")``. Migrations run on
    the writer only.
    """

    writer: str = DEFAULT_DB_ALIAS
    reader: str = "replica"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        if connections[self.writer].in_atomic_block:
            return self.writer
        return self.reader

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return self.writer

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        ours = {self.writer, self.reader}
        if obj1._state.db in ours and obj2._state.db in ours:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        return False if db == self.reader else None
