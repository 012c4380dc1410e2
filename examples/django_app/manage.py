#!/usr/bin/env python
"""manage.py of an example Django site on aws_wrapper (see docs/django.md).

    python examples/django_app/manage.py --devcluster demo                 # PostgreSQL
    python examples/django_app/manage.py --devcluster --engine mysql demo  # MySQL
    python examples/django_app/manage.py --devcluster --keep migrate       # any Django command
    DB_HOST=app.cluster-abc.us-east-1.rds.amazonaws.com DB_PASSWORD=... \\
        python examples/django_app/manage.py demo                          # a real cluster

With ``--devcluster`` it uses a local devcluster (``--name``, default ``djangodemo``):
attached when it runs, else started, and then stopped at the end unless ``--keep``. The
``demo`` command writes notes through a failover, moves money inside a transaction that a
crash interrupts, and reads from a reader; the database settings are in
``notesite/settings.py``, driven by ``DB_*`` environment variables.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description="Django's manage.py for the example site, optionally on a local "
        "devcluster. Django's own commands: manage.py help.",
        epilog="The demo command fails the devcluster over; on a real cluster it only "
        "writes and reads (fail the cluster over yourself to see it react).",
    )
    parser.add_argument(
        "--devcluster",
        action="store_true",
        help="use a local devcluster (started if it is not running)",
    )
    parser.add_argument("--name", default="djangodemo", help="devcluster name (djangodemo)")
    parser.add_argument(
        "--engine",
        choices=["postgresql", "mysql"],
        default="postgresql",
        help="engine of a devcluster started here (postgresql)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="leave a devcluster started here running"
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="a Django command and its arguments"
    )
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notesite.settings")
    started = None
    if args.devcluster:
        from aws_wrapper_devcluster import Cluster
        from aws_wrapper_devcluster.client import DevclusterError

        try:
            cluster = Cluster.attach(args.name)
        except DevclusterError:
            print(f"[django] starting devcluster {args.name} ({args.engine})", flush=True)
            cluster = started = Cluster.up(args.engine, name=args.name)
        params = cluster.conn_params()
        os.environ.update(
            DB_ENGINE=cluster.engine.value,
            DB_HOST=params["host"],
            DB_PORT=str(params["port"]),
            DB_NAME=params.get("dbname") or params["database"],
            DB_USER=params["user"],
            DB_PASSWORD=params["password"],
            AWS_WRAPPER_DEVCLUSTER=str(cluster.state_dir),  # the demo fails it over
        )
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *args.command])
    finally:
        import aws_wrapper

        aws_wrapper.release_resources()
        if started is not None and not args.keep:
            print(f"[django] stopping devcluster {args.name}", flush=True)
            started.down()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
