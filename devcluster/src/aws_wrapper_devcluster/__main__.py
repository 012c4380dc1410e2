"""``python -m aws_wrapper_devcluster`` (also the ``aws-wrapper-devcluster`` command): a local
Aurora-like cluster on real servers.

Examples::

    python -m aws_wrapper_devcluster up --engine postgresql --readers 2
    python -m aws_wrapper_devcluster status          # endpoints, login, ports, hosts line
    python -m aws_wrapper_devcluster failover --crash
    python -m aws_wrapper_devcluster blackhole devcluster-2
    python -m aws_wrapper_devcluster heal
    python -m aws_wrapper_devcluster bg create       # a green cluster replicating from blue
    python -m aws_wrapper_devcluster bg status
    python -m aws_wrapper_devcluster bg switchover   # blue -> green, phase by phase
    python -m aws_wrapper_devcluster bg delete
    python -m aws_wrapper_devcluster down
    python -m aws_wrapper_devcluster up --regions us-east-1,us-west-2   # a global database
    python -m aws_wrapper_devcluster global switchover us-west-2       # managed, nothing lost
    python -m aws_wrapper_devcluster global failover us-east-1         # the primary region lost
    python -m aws_wrapper_devcluster fault --region us-west-2 blackhole
    python -m aws_wrapper_devcluster up --limitless 3   # a DB shard group, 3 routers
    python -m aws_wrapper_devcluster limitless load devcluster-router-2 0.8
    python -m aws_wrapper_devcluster status --name other   # --name before or after the command

An application reaches the cluster by its RDS-shaped names once it has installed the
devcluster's name resolver: ``eval "$(python -m aws_wrapper_devcluster env)"`` exports
``DEVCLUSTER_HOSTS_FILE``, and the application calls
``aws_wrapper_devcluster.install_resolver_from_env()`` (the wrapper itself reads no variable).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .client import Cluster, _read_new, default_state_dir, stop
from .names import ENV_VAR
from .servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    ServerError,
)

DEFAULT_NAME = "devcluster"


def _say(message: str) -> None:
    print(message, flush=True)


def print_status(status: dict[str, Any]) -> None:
    print(
        f"{status['name']} ({status['engine']})  writer: {status['writer']}  port: {status['port']}"
    )
    dns = status["dns"]
    lag = "  [DNS frozen on " + dns["cluster"] + "]" if dns["frozen"] else ""
    glob = status.get("global")
    if glob:
        dns_note = "  [DNS lagging: still " + glob["global_dns"]["writer"] + "]"
        print(
            f"  global writer endpoint: {glob['global_host']}"
            + (dns_note if glob["global_dns"]["lagging"] else "")
        )
        print(f"  primary region:   {glob['primary_region']}")
        for region in glob["regions"]:
            kind = "primary" if region["primary"] else "secondary"
            print(f"  region {region['region']} ({kind}, cluster {region['cluster']})")
            print(
                f"    cluster endpoint: {region['cluster_host']}"
                + (lag if region["primary"] else "")
            )
            print(f"    reader endpoint:  {region['reader_host']}")
            print(f"    instances:        {region['instance_template']}")
        print(f"  global_cluster_instance_host_patterns: {glob['host_patterns']}")
        if glob["cross_region_latency_ms"]:
            print(
                f"  cross-region latency: {glob['cross_region_latency_ms']} ms on the proxies "
                f"outside {glob['home_region']}"
            )
    else:
        print(f"  cluster endpoint: {status['cluster_host']}{lag}")
        print(f"  reader endpoint:  {status['reader_host']}")
    print(f"  hosts file:       {dns['hosts_file']}")
    admin_db = "postgres" if status["engine"] == "postgresql" else APP_DATABASE
    print(
        f"  login:            user {APP_USER}  password {APP_PASSWORD}  database {APP_DATABASE}"
        f"   (superuser: {ADMIN_USER} / {ADMIN_PASSWORD}, database {admin_db})"
    )
    servers = ", ".join(
        f"{i['id']} 127.0.0.1:{i['server_port']}" for i in status["instances"] if "server_port" in i
    )
    print(f"  ports:            {status['port']} on every endpoint and instance address")
    if servers:
        print(f"                    real servers, behind the proxies: {servers}")
    check = status.get("check", {})
    width = max([16, *(len(i["id"]) for i in status["instances"])])
    header = (
        f"  {'instance':<{width}} {'role':<7} {'state':<10} {'address':<16} {'fault':<18} conns"
    )
    if glob:
        header += "  region"
    if check:
        header += "  server-role  replicating"
    print(header)
    for i in status["instances"]:
        line = (
            f"  {i['id']:<{width}} {i['role']:<7} {i['state']:<10} {i['address']:<16} "
            f"{i['fault']:<18} {i['connections']:>5}"
        )
        if glob:
            line += f"  {i['region']}"
        if check:
            c = check.get(i["id"], {})
            line += f"  {c.get('role') or '-':<11}  {c.get('replicating')}"
        print(line)
    edits = status["topology_edits"]
    if any(edits.values()):
        print(f"  topology edits: {json.dumps(edits)}")
    if glob and glob.get("last"):
        last = glob["last"]
        print(
            f"  last global {last['kind']}: {last['old_region']} ({last['old_writer']}) -> "
            f"{last['new_region']} ({last['new_writer']}) in {last['total_s']:.2f} s"
        )
    if status.get("last_failover"):
        print(f"  last failover: {json.dumps(status['last_failover'])}")
    lim = status.get("limitless")
    if lim:
        print(f"  DB shard group:   {lim['shard_group_host']} (round-robin over its routers)")
        print(
            f"  {'router':<{width}} {'load':>5}  {'listed':<6} {'address':<16} {'fault':<18} conns"
            "  host"
        )
        for r in lim["routers"]:
            print(
                f"  {r['id']:<{width}} {r['load']:>5.2f}  {'yes' if r['listed'] else 'no':<6} "
                f"{r['address']:<16} {r['fault']:<18} {r['connections']:>5}  {r['host']}"
            )
    bg = status.get("blue_green")
    if bg:
        print(
            f"  blue/green:       {bg['id']} {bg['status']}, green cluster "
            f"{bg['green']['cluster']} ({len(bg['green']['instances'])} instances; `bg status`)"
        )
    print(f"  hosts line:       {hosts_line(status)}")
    print(
        "                    (then aws_wrapper_devcluster.install_resolver_from_env() in the "
        "application)"
    )


def print_bg_status(deployment: dict[str, Any] | None) -> None:
    if deployment is None:
        print("no blue/green deployment (create one with `bg create`)")
        return
    sides = deployment["sides"]
    print(
        f"blue/green deployment {deployment['id']}  status: {deployment['status']}"
        f"  (blue: {sides['blue'] or 'no rows'}, green: {sides['green']})"
    )
    for side in ("blue", "green"):
        names = deployment[side]
        print(f"  {side:<5} cluster {names['cluster']}  writer: {names['writer']}")
        print(f"        cluster endpoint: {names['cluster_host']}")
        print(f"        reader endpoint:  {names['reader_host']}")
        for i in names["instances"]:
            extra = f"  (instance {i['id']})" if i["name"] != i["id"] else ""
            if side == "green":
                extra += (
                    f"  {i['role']:<7} {i['address']:<16} from {i['source']}"
                    f"  (server 127.0.0.1:{i['server_port']}, fault {i['fault']})"
                )
            print(f"        {i['host']}{extra}")
    if deployment["switched"] and not deployment["dns_switched"]:
        print("  DNS: lagging (blue's names still answer old blue's addresses)")
    if deployment.get("access_denied"):
        print("  the app user may not read the status rows (bg permissions --deny)")
    for side in ("blue", "green"):
        rows = deployment["rows_by_side"][side]
        print(f"  status rows on {side}'s instances ({len(rows)}):")
        for row in rows:
            print(
                f"    {row['version']}  {row['role']:<28} {row['status']:<29} "
                f"{row['endpoint']}:{row['port']}"
            )
    switchover = deployment.get("switchover")
    if switchover:
        state = "running" if switchover["running"] else switchover["outcome"]
        print(f"  last switchover ({state}):")
        for event in switchover["events"]:
            print(f"    {_clock(event['at'])}  +{event['offset_s']:6.2f} s  {event['event']}")


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}"


def run_switchover(cluster: Cluster, args: argparse.Namespace) -> int:
    """Start the switchover in the daemon and print its events as they happen."""
    started = cluster.bg_switchover(
        rollback=args.rollback, slow=args.slow, wait=False, dns_lag=args.dns_lag
    )
    timings = started["switchover"]["timings"]
    kind = "rollback" if args.rollback else "switchover"
    _say(
        f"blue/green {started['id']}: {kind} of {started['blue']['cluster']} -> "
        f"{started['green']['cluster']} ("
        + ", ".join(f"{k} {v:g}" for k, v in timings.items())
        + ")"
    )
    shown = 0
    while True:
        deployment = cluster.bg_status()
        if deployment is None or deployment["switchover"] is None:
            _say("the deployment was deleted meanwhile")
            return 1
        switchover = deployment["switchover"]
        for event in switchover["events"][shown:]:
            _say(f"{_clock(event['at'])}  +{event['offset_s']:6.2f} s  {event['event']}")
        shown = len(switchover["events"])
        if not switchover["running"]:
            break
        time.sleep(0.05)
    if switchover["error"]:
        _say(f"switchover failed: {switchover['error']}")
        return 1
    _say(f"{kind} {switchover['outcome']}")
    print_bg_status(deployment)
    return 0


def with_daemon_progress(cluster: Cluster, word: str, call: Callable[[], Any]) -> Any:
    """Run ``call`` (a daemon request) while printing the daemon's log lines that contain
    ``word`` as they appear."""
    log_path = cluster.state_dir / "daemon.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    while True:
        alive = worker.is_alive()
        offset, lines = _read_new(log_path, offset)
        for line in lines:
            if word in line:
                _say(line)
        if not alive:
            break
        worker.join(0.05)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def hosts_line(status: dict[str, Any]) -> str:
    """The shell line that hands the cluster's hosts file to an application."""
    return (
        f'export {ENV_VAR}="{status["dns"]["hosts_file"]}"   # or: eval "$({PROG} '
        f'--name {status["name"]} env)"'
    )


PROG = "python -m aws_wrapper_devcluster"


def _prog() -> str:
    """How the user ran us: ``python -m aws_wrapper_devcluster`` or the console script."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if not name or name in ("__main__.py", "-c"):
        return PROG
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="A local Aurora-like cluster (PostgreSQL streaming replication or MariaDB "
        "GTID replication) with Aurora metadata, RDS-shaped names and fault injection.",
        epilog="Run `COMMAND --help` for the options of a command. --name and --state-dir "
        "go before or after the command.",
    )
    parser.add_argument("--name", default=DEFAULT_NAME, help="cluster name (default: %(default)s)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="state directory (default: per name in /tmp)"
    )
    # the same options after the command; SUPPRESS keeps the values given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--name", default=argparse.SUPPRESS, help=f"cluster name (default: {DEFAULT_NAME})"
    )
    common.add_argument(
        "--state-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="state directory (default: per name in /tmp)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    up = add("up", help="start a cluster (or show the running one)")
    up.add_argument(
        "--engine",
        default="postgresql",
        choices=["postgresql", "pg", "mysql", "mariadb"],
        help="database engine (default: %(default)s)",
    )
    up.add_argument("--readers", type=int, default=2, help="number of readers (default: 2)")
    up.add_argument("--port", type=int, default=None, help="shared port (default: a free one)")
    up.add_argument(
        "--regions",
        default=None,
        metavar="R1,R2[,...]",
        help="a global database over these regions (the first one primary, with the writer "
        "and --readers readers), e.g. us-east-1,us-west-2",
    )
    up.add_argument(
        "--secondary-instances",
        type=int,
        default=1,
        metavar="N",
        help="with --regions: read-only instances in each secondary region (default: 1)",
    )
    up.add_argument(
        "--cross-region-latency-ms",
        type=int,
        default=0,
        metavar="MS",
        help="with --regions: latency the proxies add to the instances outside the first "
        "region, where the application is taken to run (default: 0)",
    )
    up.add_argument(
        "--limitless",
        type=int,
        default=0,
        metavar="N",
        help="PostgreSQL: an Aurora Limitless DB shard group endpoint resolving round-robin to "
        "N transaction routers (1-16), each its own name and fault proxy in front of the writer",
    )

    add("down", help="stop the cluster and remove its files (idempotent)")
    status = add("status", help="show instances, roles, faults and endpoints")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument(
        "--check", action="store_true", help="also ask each server its role and replication"
    )
    add(
        "env",
        help=f"print the shell line exporting {ENV_VAR} (for install_resolver_from_env())",
    )

    fo = add("failover", help="stop the writer and promote a reader")
    fo.add_argument("--target", help="instance to promote (default: the first reader)")
    fo.add_argument("--crash", action="store_true", help="kill the writer instead of stopping it")
    fo.add_argument("--delay", type=float, default=0.0, help="seconds without a writer")
    fo.add_argument(
        "--no-dns",
        action="store_true",
        help="keep the cluster endpoint on the old writer (DNS lag)",
    )
    so = add("switchover", help="a planned failover (clean, no delay)")
    so.add_argument("--target", help="instance to promote (default: the first reader)")

    topo = add("topology", help="edit what the metadata reports (not real roles)")
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

    dns = add("dns", help="control the cluster endpoint's DNS")
    group = dns.add_mutually_exclusive_group(required=True)
    group.add_argument("--freeze", action="store_true", help="keep it where it is (DNS lag)")
    group.add_argument("--follow", action="store_true", help="follow the writer again")
    dns.add_argument("--target", help="with --freeze: point it at this instance")

    for name, text in (
        ("blackhole", "drop the instance's packets: connects and reads hang"),
        ("reject", "refuse connects to the instance and reset its connections"),
    ):
        cmd = add(name, help=text)
        cmd.add_argument("instance")
    lat = add("latency", help="delay the instance's traffic")
    lat.add_argument("instance")
    lat.add_argument("ms", type=int, help="milliseconds added in each direction")
    heal = add("heal", help="remove faults (of one instance, or all)")
    heal.add_argument("instance", nargs="?")
    fault = add("fault", help="a fault on an instance or on every instance of a region")
    fault.description = (
        "blackhole: packets dropped (connects hang); reject: connects refused, connections "
        "reset; latency MS: each direction delayed; heal: back to normal (the cross-region "
        "latency stays)."
    )
    where = fault.add_mutually_exclusive_group(required=True)
    where.add_argument("--region", help="every instance of this region (a global database)")
    where.add_argument("--instance", help="one instance")
    fault.add_argument("kind", choices=["blackhole", "reject", "latency", "heal"])
    fault.add_argument("ms", type=int, nargs="?", help="with latency: milliseconds")
    add("reset", help="heal everything, clear edits, restart stopped instances, delete green")

    lim = add("limitless", help="DB shard group: router load, add, remove, status")
    lim.description = (
        "An Aurora Limitless DB shard group (up --limitless N): set the load a transaction "
        "router reports in aurora_limitless_router_endpoints(), add or remove routers. Faults "
        "on a router: blackhole/reject/latency/heal ROUTER (a blackholed or rejecting router "
        "leaves the endpoint rows)."
    )
    lim_sub = lim.add_subparsers(dest="limitless_command", required=True, metavar="ACTION")
    lim_load = lim_sub.add_parser(
        "load", help="set a router's reported load (0.0 idle .. 1.0 saturated)", parents=[common]
    )
    lim_load.add_argument("router", help="router id, e.g. devcluster-router-1")
    lim_load.add_argument("load", type=float, help="0.0 .. 1.0")
    lim_add = lim_sub.add_parser("add", help="add a transaction router", parents=[common])
    lim_add.add_argument("--load", type=float, default=0.0, help="its load (default: 0.0)")
    lim_rm = lim_sub.add_parser("remove", help="remove a transaction router", parents=[common])
    lim_rm.add_argument("router")
    lim_status = lim_sub.add_parser("status", help="the routers", parents=[common])
    lim_status.add_argument("--json", action="store_true", help="print JSON")

    glob = add("global", help="global database: switchover, failover, status")
    glob.description = (
        "A global database (up --regions ...): move the writer to another region, managed "
        "(switchover, nothing lost) or unplanned (failover, the primary region cut off)."
    )
    glob_sub = glob.add_subparsers(dest="global_command", required=True, metavar="ACTION")
    for action, text in (
        (
            "switchover",
            "managed: writes stopped, REGION caught up, one of its instances promoted, the "
            "old primary region replicates from it; nothing lost",
        ),
        (
            "failover",
            "unplanned: the primary region cut off (blackhole) and its writer killed, then "
            "one of REGION's instances promoted; later commits may be lost",
        ),
    ):
        move = glob_sub.add_parser(action, help=text, parents=[common])
        move.description = text
        move.add_argument("region", help="the new primary region")
        move.add_argument("--target", help="the instance to promote (default: the region's first)")
        move.add_argument(
            "--dns-lag",
            type=float,
            default=None,
            metavar="SECONDS",
            help="how long the global writer endpoint keeps answering the old writer (default: 2)",
        )
    glob_status = glob_sub.add_parser(
        "status", help="regions, endpoints, the last switchover or failover", parents=[common]
    )
    glob_status.add_argument("--json", action="store_true", help="print JSON")

    bg = add("bg", help="blue/green deployment: create, status, switchover, delete")
    bg.description = (
        "A blue/green deployment: a green cluster replicating from this (blue) one, with "
        "-green-xxxxxx names and the status rows of get_blue_green_fast_switchover_metadata "
        "on both sides."
    )
    bg_sub = bg.add_subparsers(dest="bg_command", required=True, metavar="ACTION")
    bg_create = bg_sub.add_parser(
        "create",
        help="create green: one replica of blue's writer per blue instance, green names",
        parents=[common],
    )
    bg_create.add_argument(
        "--suffix",
        help="the 6 lowercase letters or digits of the green suffix -green-xxxxxx "
        "(default: random)",
    )
    bg_status = bg_sub.add_parser(
        "status", help="names, roles, instances and status rows", parents=[common]
    )
    bg_status.add_argument("--json", action="store_true", help="print JSON")
    bg_switch = bg_sub.add_parser(
        "switchover",
        help="switch over to green, phase by phase, printing each step",
        parents=[common],
    )
    bg_switch.description = (
        "SWITCHOVER_INITIATED; SWITCHOVER_IN_PROGRESS (blue stops taking writes, its "
        "connections are cut, green catches up and is promoted, the names are swapped: green "
        "takes blue's, old blue gets -old1); SWITCHOVER_IN_POST_PROCESSING (DNS lags, then "
        "follows); SWITCHOVER_COMPLETED. A few seconds in all by default."
    )
    bg_switch.add_argument(
        "--rollback",
        action="store_true",
        help="abort during SWITCHOVER_IN_PROGRESS, before the renames: blue takes writes "
        "again, nothing lost, green still replicating",
    )
    bg_switch.add_argument(
        "--slow", action="store_true", help="stretch each phase to tens of seconds (to watch it)"
    )
    bg_switch.add_argument(
        "--dns-lag",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long blue's names keep answering old blue's addresses after the renames "
        "(default: 2.5, 20 with --slow)",
    )
    bg_perm = bg_sub.add_parser(
        "permissions",
        help="revoke or grant the app user's access to the status rows",
        parents=[common],
    )
    perm = bg_perm.add_mutually_exclusive_group(required=True)
    perm.add_argument(
        "--deny",
        action="store_true",
        help="revoke it (EXECUTE on get_blue_green_fast_switchover_metadata / SELECT on "
        "mysql.rds_topology), as on an engine or grant without it",
    )
    perm.add_argument("--allow", action="store_true", help="grant it again")
    bg_stmts = bg_sub.add_parser(
        "statements",
        help="statements old blue received since it stopped taking writes",
        parents=[common],
    )
    bg_stmts.add_argument("--json", action="store_true", help="print JSON")
    bg_sub.add_parser("delete", help="stop and remove green, its names and rows", parents=[common])
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state_dir = args.state_dir or default_state_dir(args.name)
    try:
        return run(args, state_dir)
    except ServerError as e:  # DevclusterError, RequirementError, ...
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
            regions=args.regions,
            secondary_instances=args.secondary_instances,
            cross_region_latency_ms=args.cross_region_latency_ms,
            limitless=args.limitless,
        )
        _say(f"ready in {time.monotonic() - started:.1f} s")
        print_status(cluster.status())
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
    elif command == "bg":
        if args.bg_command == "create":
            created = cluster.bg_create(args.suffix)
            green, seconds = created["green"]["cluster"], created["create_s"]
            _say(f"green cluster {green} created in {seconds:.1f} s")
            print_bg_status(created)
        elif args.bg_command == "status":
            deployment = cluster.bg_status()
            if args.json:
                print(json.dumps(deployment, indent=2))
            else:
                print_bg_status(deployment)
        elif args.bg_command == "switchover":
            return run_switchover(cluster, args)
        elif args.bg_command == "permissions":
            denied = cluster.bg_permissions(allow=bool(args.allow))["access_denied"]
            _say(
                "the app user may not read the blue/green status rows"
                if denied
                else "the app user may read the blue/green status rows"
            )
        elif args.bg_command == "statements":
            statements = cluster.bg_statements()
            if args.json:
                print(json.dumps(statements, indent=2))
            else:
                for item in statements:
                    print(
                        f"{_clock(item['at'])}  {item['instance']:<20} {item['user']:<8} "
                        f"{item['statement']}"
                    )
        else:
            deleted = cluster.bg_delete()
            if deleted["deleted"]:
                _say(
                    f"blue/green deployment {deleted['deleted']} deleted (green cluster "
                    f"{deleted['green_cluster']}) in {deleted['delete_s']:.1f} s"
                )
            else:
                _say("no blue/green deployment")
    elif command == "fault":
        if args.kind == "latency" and args.ms is None:
            raise ValueError("fault latency needs MS (milliseconds)")
        if args.region:
            cluster.region_fault(args.region, args.kind, args.ms)
        elif args.kind == "heal":
            cluster.heal(args.instance)
        else:
            cluster.request("fault", instance=args.instance, kind=args.kind, latency_ms=args.ms)
    elif command == "limitless":
        action = args.limitless_command
        if action == "status":
            lim = cluster.limitless_status()
            if lim is None:
                raise ValueError(f"{cluster.name} has no DB shard group (up --limitless N)")
            if args.json:
                print(json.dumps(lim, indent=2))
                return 0
        elif action == "load":
            router = cluster.limitless_load(args.router, args.load)
            _say(f"{router['id']} reports load {router['load']:g}")
        elif action == "add":
            router = cluster.limitless_add(args.load)
            _say(f"transaction router {router['id']} added: {router['host']} ({router['address']})")
        else:
            router = cluster.limitless_remove(args.router)
            _say(f"transaction router {router['id']} removed")
        print_status(cluster.status())
    elif command == "global":
        if args.global_command == "status":
            glob = cluster.global_status()
            if glob is None:
                raise ValueError(f"{cluster.name} is not a global database (up --regions ...)")
            if args.json:
                print(json.dumps(glob, indent=2))
            else:
                print_status(cluster.status())
            return 0
        planned = args.global_command == "switchover"
        move = cluster.global_switchover if planned else cluster.global_failover
        result = with_daemon_progress(
            cluster,
            f"global {args.global_command}",
            lambda: move(args.region, args.target, dns_lag=args.dns_lag),
        )
        _say(
            f"global {result['kind']}: {result['old_region']} ({result['old_writer']}) -> "
            f"{result['new_region']} ({result['new_writer']}) in {result['total_s']:.2f} s; "
            f"the global writer endpoint follows in {result['dns_lag_s']:g} s"
        )
        print_status(cluster.status())
    elif command == "reset":
        cluster.reset()
        print_status(cluster.status(check=True))
    if command in ("blackhole", "reject", "latency", "heal", "fault"):
        print_status(cluster.status())
    return 0


def run_cli() -> None:
    """The ``aws-wrapper-devcluster`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    run_cli()
