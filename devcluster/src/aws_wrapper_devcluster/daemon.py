"""The devcluster daemon: one process per cluster that owns its servers and proxies.

Started by :meth:`aws_wrapper_devcluster.client.Cluster.up` (or ``python -m
aws_wrapper_devcluster up``) as::

    python -m aws_wrapper_devcluster.daemon --state-dir DIR --engine postgresql --readers 2

It answers JSON requests, one per connection, on ``DIR/control.sock``, writes progress
lines to stdout (the client points it at ``DIR/daemon.log`` and shows them), and stops
everything it started on ``down``, on SIGTERM/SIGINT, or when the process named by
``--parent-pid`` is gone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .cluster import READY, STATE_FILE, ClusterRuntime, dumps, parse_fault, plan
from .iam_verifier import LOG_FILE as IAM_LOG_FILE
from .iam_verifier import IamVerifier
from .model import HEALTHY, Engine, EngineBackend


def _backend(engine: Engine, log: Any, iam: IamVerifier | None) -> EngineBackend:
    if engine is Engine.POSTGRESQL:
        from .pg import PgBackend

        return PgBackend(log=log, iam_ldap=iam.address if iam is not None else None)
    from .mariadb import MariaDBBackend

    return MariaDBBackend(log=log)


class Daemon:
    def __init__(self, state_dir: Path, parent_pid: int | None) -> None:
        self.state_dir = state_dir
        self.parent_pid = parent_pid
        self.runtime: ClusterRuntime | None = None
        self.iam: IamVerifier | None = None  # PostgreSQL: checks rds_iam members' tokens
        self.stopping = asyncio.Event()

    def log(self, message: str) -> None:
        # stdout is DIR/daemon.log (the client shows it while the cluster starts)
        print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)

    async def run(
        self,
        engine: Engine,
        readers: int,
        name: str,
        port: int | None,
        *,
        regions: tuple[str, ...] = (),
        secondary_instances: int = 1,
        cross_region_latency_ms: int = 0,
        limitless_routers: int = 0,
    ) -> int:
        spec = plan(
            name,
            engine,
            readers,
            self.state_dir,
            port,
            regions=regions,
            secondary_instances=secondary_instances,
            cross_region_latency_ms=cross_region_latency_ms,
            limitless_routers=limitless_routers,
        )
        (self.state_dir / STATE_FILE).write_text(json.dumps(spec.to_json(), indent=2))
        if engine is Engine.POSTGRESQL:
            self.iam = IamVerifier.for_cluster(
                spec, log_path=self.state_dir / IAM_LOG_FILE, log_fn=self.log
            ).start()
        backend = _backend(engine, self.log, self.iam)
        runtime = ClusterRuntime(spec, backend, self.state_dir, self.log)
        runtime.on_names_changed = self._iam_endpoints
        self.runtime = runtime
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        sock_path = self.state_dir / "control.sock"
        sock_path.unlink(missing_ok=True)
        try:
            await runtime.start()
            server = await asyncio.start_unix_server(self._serve, path=str(sock_path))
            os.chmod(sock_path, 0o600)
            self.log(READY)
            watcher = asyncio.create_task(self._watch_parent())
            async with server:
                await self.stopping.wait()
            watcher.cancel()
        except Exception as e:
            self.log(f"devcluster failed: {e}")
            traceback.print_exc()
            return 1
        finally:
            self.log("stopping the cluster")
            with contextlib.suppress(Exception):
                await runtime.shutdown()
            if self.iam is not None:
                self.iam.stop()
            sock_path.unlink(missing_ok=True)
            self.log("devcluster stopped")
        return 0

    async def _watch_parent(self) -> None:
        if self.parent_pid is None:
            return
        while not self.stopping.is_set():
            try:
                os.kill(self.parent_pid, 0)
            except ProcessLookupError:
                self.log(f"parent process {self.parent_pid} is gone")
                self.stopping.set()
                return
            await asyncio.sleep(0.5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line)
            result = await self.handle(request)
            response: dict[str, Any] = {"ok": True, "result": result}
        except Exception as e:
            response = {"ok": False, "error": str(e) or type(e).__name__}
        try:
            writer.write((dumps(response) + "\n").encode())
            await writer.drain()
        finally:
            writer.close()

    async def handle(self, request: dict[str, Any]) -> Any:
        rt = self.runtime
        assert rt is not None
        op = request.get("op")
        args = request.get("args", {})
        if op == "status":
            status = rt.status()
            if args.get("check"):
                status["check"] = await rt.check()
            if self.iam is not None:
                status["iam"] = self.iam.describe()
            return status
        if op == "failover":
            return await rt.failover(
                args.get("target"),
                crash=bool(args.get("crash", False)),
                delay=float(args.get("delay", 0.0)),
                dns=bool(args.get("dns", True)),
            )
        if op == "switchover":
            return await rt.switchover(args.get("target"))
        if op == "fault":
            rt.set_fault(
                args.get("instance"),
                parse_fault(args["kind"], args.get("latency_ms")),
                region=args.get("region"),
            )
            return rt.status()
        if op == "heal":
            rt.set_fault(args.get("instance"), HEALTHY, region=args.get("region"))
            return rt.status()
        if op in ("global_switchover", "global_failover"):
            move = rt.global_switchover if op == "global_switchover" else rt.global_failover
            dns_lag = args.get("dns_lag")
            return await move(
                str(args["region"]),
                args.get("target"),
                dns_lag=None if dns_lag is None else float(dns_lag),
            )
        if op == "limitless_add":
            return await rt.limitless_add(float(args.get("load", 0.0)))
        if op == "limitless_remove":
            return await rt.limitless_remove(str(args["router"]))
        if op == "limitless_load":
            return rt.limitless_load(str(args["router"]), float(args["load"]))
        if op == "limitless_status":
            return rt.limitless_status()
        if op == "topology":
            rt.edit_topology(**args)
            return rt.status()
        if op == "dns":
            rt.set_dns(frozen=args.get("frozen"), cluster_target=args.get("cluster_target"))
            return rt.status()
        if op == "wait_rejoins":
            await rt.wait_rejoins(float(args.get("timeout", 120.0)))
            return rt.status()
        if op == "reset":
            await rt.reset()
            if self.iam is not None:  # keys added stay; the STS lookup (a test's moto) goes
                self.iam.set_sts_lookup(None)
            return rt.status()
        if op == "metadata":
            return rt.metadata_for(args["instance"]).to_json()
        if op == "direct_params":
            return rt.backend.direct_params(args["instance"], admin=bool(args.get("admin")))
        if op == "iam_credentials":  # accept tokens signed with this key pair from now on
            if self.iam is None:
                raise ValueError("IAM authentication is emulated for PostgreSQL clusters only")
            self.iam.add_credentials(args["access_key"], args["secret_key"])
            return self.iam.describe()
        if op == "iam_sts_lookup":  # look unknown (temporary) keys up there; url None: stop
            if self.iam is None:
                raise ValueError("IAM authentication is emulated for PostgreSQL clusters only")
            self.iam.set_sts_lookup(args.get("url"))
            self.log(f"IAM verifier: STS lookup {args.get('url') or 'off'}")
            return self.iam.describe()
        if op == "bg_create":
            return await rt.bg_create(args.get("suffix"))
        if op == "bg_status":
            return rt.bg_status()
        if op == "bg_delete":
            return await rt.bg_delete()
        if op == "bg_switchover":
            timings = args.get("timings")
            if timings is not None and not isinstance(timings, dict):
                raise ValueError("timings must be a mapping of phase names to seconds")
            result = await rt.bg_switchover(
                rollback=bool(args.get("rollback", False)),
                slow=bool(args.get("slow", False)),
                timings=timings,
            )
            if args.get("wait", True):
                return await rt.bg_wait(None, float(args.get("timeout_s", 300.0)))
            return result
        if op == "bg_wait":
            return await rt.bg_wait(args.get("status"), float(args.get("timeout_s", 120.0)))
        if op == "bg_statements":
            since = args.get("since")
            return await rt.bg_statements(None if since is None else float(since))
        if op == "bg_permissions":
            return await rt.bg_permissions(bool(args["allow"]))
        if op == "down":
            self.stopping.set()
            return {"stopping": True}
        raise ValueError(f"unknown operation {op!r}")

    def _iam_endpoints(self) -> None:
        """Each instance accepts IAM tokens for the names it goes by now: its own, its
        cluster's and its reader endpoint's (green's until a switchover, then blue's; old
        blue's ``-old1`` ones after it)."""
        rt, iam = self.runtime, self.iam
        if rt is None or iam is None:
            return
        ids = rt.instance_ids()
        for instance in list(iam.endpoints):
            if instance not in ids:
                iam.set_endpoints(instance, None)
        port = rt.spec.port
        sides = [rt.bg_side(green=False)]
        if rt.bg is not None:
            sides.append(rt.bg_side(green=True))
        # a DB shard group: every router reaches the writer, whichever instance that is, so
        # each instance accepts tokens for the shard group endpoint and every router's name
        routers = {(r.host, port) for r in rt.routers.values()}
        if rt.spec.is_limitless:
            routers.add((rt.spec.shard_group_host, port))
        for side in sides:
            shared = {(side.cluster_host, port), (side.reader_host, port)} | routers
            for instance, host in side.instances:
                iam.set_endpoints(instance, shared | {(host, port)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The devcluster daemon (started by the CLI).")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--engine", choices=[e.value for e in Engine], default="postgresql")
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--name", default="devcluster")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument(
        "--regions", default="", help="a global database's regions, comma-separated"
    )
    parser.add_argument("--secondary-instances", type=int, default=1)
    parser.add_argument("--cross-region-latency-ms", type=int, default=0)
    parser.add_argument("--limitless", type=int, default=0, help="transaction routers")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    daemon = Daemon(state_dir, args.parent_pid)
    regions = tuple(r for r in args.regions.split(",") if r.strip())
    return asyncio.run(
        daemon.run(
            Engine(args.engine),
            args.readers,
            args.name,
            args.port,
            regions=regions,
            secondary_instances=args.secondary_instances,
            cross_region_latency_ms=args.cross_region_latency_ms,
            limitless_routers=args.limitless,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
