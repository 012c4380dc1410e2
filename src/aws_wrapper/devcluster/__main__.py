"""``python -m aws_wrapper.devcluster``: a local Aurora-like cluster on real servers.

Examples::

    python -m aws_wrapper.devcluster up --engine postgresql --readers 2
    eval "$(python -m aws_wrapper.devcluster env)"     # RDS-shaped names resolve for the wrapper
    python -m aws_wrapper.devcluster status
    python -m aws_wrapper.devcluster failover --crash
    python -m aws_wrapper.devcluster blackhole devcluster-2
    python -m aws_wrapper.devcluster heal
    python -m aws_wrapper.devcluster down
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from .client import Cluster, DevclusterError, default_state_dir, stop


def _say(message: str) -> None:
    print(message, flush=True)


def print_status(status: dict[str, Any]) -> None:
    print(
        f"{status['name']} ({status['engine']})  writer: {status['writer']}  port: {status['port']}"
    )
    dns = status["dns"]
    lag = "  [DNS frozen on " + dns["cluster"] + "]" if dns["frozen"] else ""
    print(f"  cluster endpoint: {status['cluster_host']}{lag}")
    print(f"  reader endpoint:  {status['reader_host']}")
    print(f"  hosts file:       {dns['hosts_file']}")
    check = status.get("check", {})
    header = f"  {'instance':<16} {'role':<7} {'state':<10} {'address':<16} {'fault':<18} conns"
    if check:
        header += "  server-role  replicating"
    print(header)
    for i in status["instances"]:
        line = (
            f"  {i['id']:<16} {i['role']:<7} {i['state']:<10} {i['address']:<16} "
            f"{i['fault']:<18} {i['connections']:>5}"
        )
        if check:
            c = check.get(i["id"], {})
            line += f"  {c.get('role') or '-':<11}  {c.get('replicating')}"
        print(line)
    edits = status["topology_edits"]
    if any(edits.values()):
        print(f"  topology edits: {json.dumps(edits)}")
    if status.get("last_failover"):
        print(f"  last failover: {json.dumps(status['last_failover'])}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aws_wrapper.devcluster",
        description="A local Aurora-like cluster (PostgreSQL streaming replication or MariaDB "
        "GTID replication) with Aurora metadata, RDS-shaped names and fault injection.",
        epilog="Run `COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--name", default="devcluster", help="cluster name (default: %(default)s)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state directory (default: per name in /tmp)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start a cluster (or show the running one)")
    up.add_argument(
        "--engine",
        default="postgresql",
        choices=["postgresql", "pg", "mysql", "mariadb"],
        help="database engine (default: %(default)s)",
    )
    up.add_argument("--readers", type=int, default=2, help="number of readers (default: 2)")
    up.add_argument("--port", type=int, default=None, help="shared port (default: a free one)")

    sub.add_parser("down", help="stop the cluster and remove its files (idempotent)")
    status = sub.add_parser("status", help="show instances, roles, faults and endpoints")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument(
        "--check", action="store_true", help="also ask each server its role and replication"
    )
    sub.add_parser("env", help="print the shell line that makes the cluster's names resolve")

    fo = sub.add_parser("failover", help="stop the writer and promote a reader")
    fo.add_argument("--target", help="instance to promote (default: the first reader)")
    fo.add_argument("--crash", action="store_true", help="kill the writer instead of stopping it")
    fo.add_argument("--delay", type=float, default=0.0, help="seconds without a writer")
    fo.add_argument(
        "--no-dns",
        action="store_true",
        help="keep the cluster endpoint on the old writer (DNS lag)",
    )
    so = sub.add_parser("switchover", help="a planned failover (clean, no delay)")
    so.add_argument("--target", help="instance to promote (default: the first reader)")

    topo = sub.add_parser("topology", help="edit what the metadata reports (not real roles)")
    topo.add_argument("--instance", help="the row (or, with --view, the instance) to edit")
    topo.add_argument("--age", type=float, help="make the row this many seconds old (stale)")
    topo.add_argument("--lag", type=float, help="replica lag of the row, in ms")
    topo.add_argument("--missing", action="store_true", help="leave the row out")
    topo.add_argument("--present", action="store_true", help="put a left-out row back")
    topo.add_argument("--writer", action="store_true", help="the row also claims writer")
    topo.add_argument("--not-writer", action="store_true", help="undo --writer")
    topo.add_argument(
        "--view",
        help="JSON list of rows this instance reports instead of the real topology",
    )
    topo.add_argument("--clear", action="store_true", help="drop every edit first")

    dns = sub.add_parser("dns", help="control the cluster endpoint's DNS")
    group = dns.add_mutually_exclusive_group(required=True)
    group.add_argument("--freeze", action="store_true", help="keep it where it is (DNS lag)")
    group.add_argument("--follow", action="store_true", help="follow the writer again")
    dns.add_argument("--target", help="with --freeze: point it at this instance")

    for name, text in (
        ("blackhole", "drop the instance's packets: connects and reads hang"),
        ("reject", "refuse connects to the instance and reset its connections"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("instance")
    lat = sub.add_parser("latency", help="delay the instance's traffic")
    lat.add_argument("instance")
    lat.add_argument("ms", type=int, help="milliseconds added in each direction")
    heal = sub.add_parser("heal", help="remove faults (of one instance, or all)")
    heal.add_argument("instance", nargs="?")
    sub.add_parser("reset", help="heal everything, clear edits, restart stopped instances")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state_dir = args.state_dir or default_state_dir(args.name)
    try:
        return run(args, state_dir)
    except DevclusterError as e:
        print(f"devcluster: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"devcluster: {e}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, state_dir: Path) -> int:
    command = args.command
    if command == "up":
        started = time.monotonic()
        cluster = Cluster.up(
            args.engine,
            readers=args.readers,
            name=args.name,
            state_dir=state_dir,
            port=args.port,
            log=_say,
        )
        _say(f"ready in {time.monotonic() - started:.1f} s")
        print_status(cluster.status())
        _say(
            f'\nexport {next(iter(cluster.env()))}="{cluster.hosts_file}"   # or: eval "$('
            f'python -m aws_wrapper.devcluster --name {args.name} env)"'
        )
        return 0
    if command == "down":
        was = stop(state_dir)
        _say(
            f"devcluster {args.name} stopped" if was else f"devcluster {args.name} was not running"
        )
        return 0
    cluster = Cluster.attach(args.name, state_dir)
    if command == "status":
        status = cluster.status(check=args.check)
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            print_status(status)
    elif command == "env":
        for key, value in cluster.env().items():
            print(f'export {key}="{value}"')
    elif command in ("failover", "switchover"):
        if command == "failover":
            result = cluster.failover(
                args.target, crash=args.crash, delay=args.delay, dns=not args.no_dns
            )
        else:
            result = cluster.switchover(args.target)
        _say(
            f"{result['old_writer']} -> {result['new_writer']} in {result['total_s']:.2f} s "
            f"(stop {result['stop_s']:.2f} s, promote {result['promote_s']:.2f} s); "
            f"{result['old_writer']} rejoins as a reader"
        )
    elif command == "topology":
        edits: dict[str, Any] = {"instance": args.instance, "clear": args.clear}
        if args.age is not None:
            edits["age_s"] = args.age
        if args.lag is not None:
            edits["lag_ms"] = args.lag
        if args.missing or args.present:
            edits["missing"] = bool(args.missing)
        if args.writer or args.not_writer:
            edits["writer"] = bool(args.writer)
        if args.view is not None:
            edits["view"] = json.loads(args.view)
        needs_instance = any(k in edits for k in ("age_s", "lag_ms", "missing", "writer", "view"))
        if needs_instance and not args.instance:
            raise ValueError("topology edits need --instance")
        cluster.edit_topology(**edits)
        print_status(cluster.status())
    elif command == "dns":
        cluster.freeze_dns(bool(args.freeze), args.target if args.freeze else None)
        print_status(cluster.status())
    elif command == "blackhole":
        cluster.blackhole(args.instance)
    elif command == "reject":
        cluster.reject(args.instance)
    elif command == "latency":
        cluster.latency(args.instance, args.ms)
    elif command == "heal":
        cluster.heal(args.instance)
    elif command == "reset":
        cluster.reset()
        print_status(cluster.status(check=True))
    if command in ("blackhole", "reject", "latency", "heal"):
        print_status(cluster.status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
