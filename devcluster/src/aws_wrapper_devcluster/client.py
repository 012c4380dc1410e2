"""The devcluster API: start, inspect, break and fail over a local Aurora-like cluster.

::

    from aws_wrapper_devcluster import Cluster

    cluster = Cluster.up("postgresql", readers=2, log=print)   # or attach to a running one
    # from here on, its RDS-shaped names resolve for the wrapper in this process
    conn = aws_wrapper.connect(**cluster.conn_params())        # the cluster (writer) endpoint
    cluster.failover(crash=True)             # kill the writer, promote a reader
    cluster.blackhole("devcluster-2"); cluster.heal()
    cluster.down()

Every call is a request to the cluster's daemon (:mod:`.daemon`), so a cluster started by the
CLI can be driven from Python and the reverse.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import globaldb, names
from .cluster import READY, check_limitless, load_spec
from .model import Engine
from .servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    RequirementError,
    ServerError,
    check_requirements,
)

LogFn = Callable[[str], None]


class DevclusterError(ServerError):
    """A devcluster operation failed; the message says which and why."""


def default_state_dir(name: str) -> Path:
    return Path(tempfile.gettempdir()) / f"awswrapper-devcluster-{name}"


class Cluster:
    """A handle on a running devcluster (its daemon)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        spec = load_spec(state_dir)
        if spec is None:
            raise DevclusterError(f"no devcluster in {state_dir} (start one with `up`)")
        self.spec = spec

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def up(
        cls,
        engine: str | Engine = Engine.POSTGRESQL,
        *,
        readers: int = 2,
        name: str = "devcluster",
        state_dir: Path | None = None,
        port: int | None = None,
        log: LogFn | None = None,
        tie_to_this_process: bool = False,
        timeout: float = 180.0,
        resolve_names: bool = True,
        regions: list[str] | tuple[str, ...] | str | None = None,
        secondary_instances: int = 1,
        cross_region_latency_ms: int = 0,
        limitless: int = 0,
    ) -> Cluster:
        """Start a cluster (1 writer + ``readers`` readers), or attach to the running one
        with the same state directory. Progress lines go to ``log``. ``resolve_names``:
        install the cluster's name resolver in this process (:meth:`install_resolver`).

        ``regions`` (``["us-east-1", "us-west-2"]`` or ``"us-east-1,us-west-2"``): a global
        database; the writer and ``readers`` in the first region, ``secondary_instances``
        read-only instances in each other one, ``cross_region_latency_ms`` added by the
        proxies of the instances outside the first region.

        ``limitless`` (PostgreSQL): a DB shard group with that many transaction routers
        (``shard_group_host``; see :mod:`.limitless`).

        Fails at once (:class:`DevclusterError`, naming what to install) when the engine's
        server binaries or Python driver are missing."""
        engine = Engine(engine if not isinstance(engine, str) else _engine_name(engine))
        if isinstance(regions, str):
            regions = regions.split(",")
        region_list = globaldb.check_regions(regions) if regions else ()
        if region_list and not 1 <= secondary_instances <= 15:
            raise ValueError(
                f"secondary_instances must be between 1 and 15, got {secondary_instances}"
            )
        if cross_region_latency_ms < 0:
            raise ValueError(f"cross_region_latency_ms must be >= 0, got {cross_region_latency_ms}")
        if limitless:
            check_limitless(engine, limitless, region_list)
        state_dir = state_dir or default_state_dir(name)
        if _alive(state_dir):
            cluster = cls(state_dir)
            if cluster.spec.limitless != limitless:
                raise DevclusterError(
                    f"a devcluster named {name!r} with {cluster.spec.limitless} transaction "
                    f"routers is already running in {state_dir}; stop it first (down) or use "
                    "another --name"
                )
            if cluster.spec.regions != region_list:
                raise DevclusterError(
                    f"a devcluster named {name!r} with regions "
                    f"{list(cluster.spec.regions) or 'none'} is already running in {state_dir}; "
                    "stop it first (down) or use another --name"
                )
            if cluster.spec.engine is not engine:
                raise DevclusterError(
                    f"a {cluster.spec.engine.value} devcluster named {name!r} is already running "
                    f"in {state_dir}; stop it first (down) or use another --name"
                )
            if log:
                log(f"devcluster {name} is already running ({state_dir})")
            if resolve_names:
                cluster.install_resolver()
            return cluster
        try:
            check_requirements(engine.value)
        except RequirementError as e:
            raise DevclusterError(f"cannot start a {engine.value} devcluster: {e}") from None
        _cleanup(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(state_dir, 0o755)
        log_path = state_dir / "daemon.log"
        argv = [
            sys.executable,
            "-m",
            "aws_wrapper_devcluster.daemon",
            "--state-dir",
            str(state_dir),
            "--engine",
            engine.value,
            "--readers",
            str(readers),
            "--name",
            name,
        ]
        if port is not None:
            argv += ["--port", str(port)]
        if region_list:
            argv += [
                "--regions",
                ",".join(region_list),
                "--secondary-instances",
                str(secondary_instances),
                "--cross-region-latency-ms",
                str(cross_region_latency_ms),
            ]
        if limitless:
            argv += ["--limitless", str(limitless)]
        if tie_to_this_process:
            argv += ["--parent-pid", str(os.getpid())]
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        (state_dir / "daemon.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        offset = 0
        while True:
            offset, lines = _read_new(log_path, offset)
            for line in lines:
                if log:
                    log(line)
                if line.endswith(READY):
                    cluster = cls(state_dir)
                    if resolve_names:
                        cluster.install_resolver()
                    return cluster
            if proc.poll() is not None:
                raise DevclusterError(
                    f"the devcluster daemon exited with code {proc.returncode}; its log:\n"
                    + _tail(log_path)
                )
            if time.monotonic() > deadline:
                proc.terminate()
                raise DevclusterError(f"the devcluster did not start within {timeout:.0f} s")
            time.sleep(0.05)

    @classmethod
    def attach(
        cls, name: str = "devcluster", state_dir: Path | None = None, *, resolve_names: bool = True
    ) -> Cluster:
        """A handle on the running cluster ``name``; ``resolve_names``: install its name
        resolver in this process (:meth:`install_resolver`)."""
        state_dir = state_dir or default_state_dir(name)
        if not _alive(state_dir):
            raise DevclusterError(f"no running devcluster named {name!r} ({state_dir})")
        cluster = cls(state_dir)
        if resolve_names:
            cluster.install_resolver()
        return cluster

    def down(self, timeout: float = 60.0) -> None:
        """Stop the cluster, remove its files and its name resolver (idempotent)."""
        names.uninstall_resolver(self.hosts_file)
        stop(self.state_dir, timeout)

    def install_resolver(self) -> None:
        """Make the cluster's RDS-shaped names resolve for every wrapper connection of this
        process (:func:`aws_wrapper.set_name_resolver`; see :mod:`.names`). ``up`` and
        ``attach`` do it unless told not to; ``down`` undoes it."""
        names.install_resolver(self.hosts_file)

    def uninstall_resolver(self) -> None:
        """Undo :meth:`install_resolver`."""
        names.uninstall_resolver(self.hosts_file)

    # -- requests ----------------------------------------------------------------------------

    def request(self, op: str, timeout: float = 300.0, **args: Any) -> Any:
        path = self.state_dir / "control.sock"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(str(path))
                s.sendall((json.dumps({"op": op, "args": args}) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError as e:
            raise DevclusterError(
                f"devcluster {self.spec.name} does not answer ({path}): {e}"
            ) from None
        if not data:
            raise DevclusterError(f"devcluster {self.spec.name} closed the connection on {op!r}")
        response = json.loads(data)
        if not response.get("ok"):
            raise DevclusterError(f"{op}: {response.get('error')}")
        return response.get("result")

    def status(self, check: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self.request("status", check=check)
        return result

    def failover(
        self,
        target: str | None = None,
        *,
        crash: bool = False,
        delay: float = 0.0,
        dns: bool = True,
    ) -> dict[str, Any]:
        """Stop (``crash``: kill) the writer, promote ``target`` (default: the first reader)
        after ``delay`` seconds; ``dns=False`` keeps the cluster endpoint on the old writer.
        Returns timings in seconds."""
        result: dict[str, Any] = self.request(
            "failover", target=target, crash=crash, delay=delay, dns=dns
        )
        return result

    def switchover(self, target: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.request("switchover", target=target)
        return result

    def blackhole(self, instance: str) -> None:
        self.request("fault", instance=instance, kind="blackhole")

    def reject(self, instance: str) -> None:
        self.request("fault", instance=instance, kind="reject")

    def latency(self, instance: str, ms: int) -> None:
        self.request("fault", instance=instance, kind="latency", latency_ms=ms)

    def heal(self, instance: str | None = None) -> None:
        self.request("heal", instance=instance)

    # -- Aurora Limitless: the DB shard group ---------------------------------------------------

    def limitless_status(self) -> dict[str, Any] | None:
        """The shard group endpoint and its routers (id, host, address, load, fault, listed in
        the endpoint rows, connections); None without a shard group."""
        result: dict[str, Any] | None = self.request("limitless_status")
        return result

    @property
    def shard_group_host(self) -> str:
        """The DB shard group endpoint (``up --limitless N``)."""
        if not self.spec.is_limitless:
            raise DevclusterError(f"{self.name} has no DB shard group (up --limitless N)")
        return self.spec.shard_group_host

    def router_ids(self) -> list[str]:
        """The transaction routers now (``limitless add`` / ``remove`` change them)."""
        status = self.limitless_status()
        return [r["id"] for r in status["routers"]] if status else []

    def router_host(self, router: str) -> str:
        status = self.limitless_status() or {"routers": []}
        for r in status["routers"]:
            if r["id"] == router:
                return str(r["host"])
        raise ValueError(f"no transaction router {router!r} in {self.name}")

    def limitless_load(self, router: str, load: float) -> dict[str, Any]:
        """Set the load ``router`` reports in ``aurora_limitless_router_endpoints()``."""
        result: dict[str, Any] = self.request("limitless_load", router=router, load=load)
        return result

    def limitless_add(self, load: float = 0.0) -> dict[str, Any]:
        """Add a transaction router; returns it (``id``, ``host``, ``address``, ``load``)."""
        result: dict[str, Any] = self.request("limitless_add", load=load)
        return result

    def limitless_remove(self, router: str) -> dict[str, Any]:
        """Remove a transaction router (its connections reset, its name gone)."""
        result: dict[str, Any] = self.request("limitless_remove", router=router)
        return result

    # -- global databases ----------------------------------------------------------------------

    def region_fault(self, region: str, kind: str, latency_ms: int | None = None) -> None:
        """A fault on every instance of ``region``: ``blackhole``, ``reject``, ``latency``
        (with ``latency_ms``) or ``heal`` (back to the cross-region latency, if any)."""
        if kind == "heal":
            self.request("heal", region=region)
        else:
            self.request("fault", region=region, kind=kind, latency_ms=latency_ms)

    def global_switchover(
        self, region: str, target: str | None = None, *, dns_lag: float | None = None
    ) -> dict[str, Any]:
        """A managed switchover of the global database to ``region`` (nothing lost); the
        global writer endpoint follows ``dns_lag`` seconds later (default 2). Returns the
        steps with their times."""
        result: dict[str, Any] = self.request(
            "global_switchover", region=region, target=target, dns_lag=dns_lag
        )
        return result

    def global_failover(
        self, region: str, target: str | None = None, *, dns_lag: float | None = None
    ) -> dict[str, Any]:
        """An unplanned failover to ``region``: the primary region is cut off (blackhole
        on its proxies) and its writer killed, then ``target`` is promoted; the old primary
        region's instances rejoin as replicas in the background and stay cut off until
        ``region_fault(old_region, "heal")``."""
        result: dict[str, Any] = self.request(
            "global_failover", region=region, target=target, dns_lag=dns_lag
        )
        return result

    def global_status(self) -> dict[str, Any] | None:
        """Regions, endpoints, the primary region, the global writer endpoint (None: not a
        global database)."""
        result: dict[str, Any] | None = self.status()["global"]
        return result

    @property
    def regions(self) -> tuple[str, ...]:
        return self.spec.regions

    @property
    def global_host(self) -> str:
        """The global writer endpoint (a global database)."""
        return self.spec.global_host

    @property
    def host_patterns(self) -> str:
        """``global_cluster_instance_host_patterns`` (``region:?.<id>.<region>...,...``)."""
        return self.spec.host_patterns

    def region_of(self, instance_id: str) -> str:
        return self.spec.region_of(self.spec.instance(instance_id).id)

    def region_instance_ids(self, region: str) -> list[str]:
        return [s.id for s in self.spec.region_instances(region)]

    def edit_topology(self, **edits: Any) -> None:
        """See :meth:`ClusterRuntime.edit_topology`: ``instance=``, ``age_s=``, ``lag_ms=``,
        ``missing=``, ``writer=``, ``view=[{...}]``, ``clear=True``."""
        self.request("topology", **edits)

    def freeze_dns(self, frozen: bool = True, cluster_target: str | None = None) -> None:
        """Keep (or stop keeping) the cluster endpoint where it is (DNS lag)."""
        self.request("dns", frozen=frozen, cluster_target=cluster_target)

    def wait_rejoins(self, timeout: float = 120.0) -> None:
        self.request("wait_rejoins", timeout=timeout)

    def reset(self) -> None:
        """Healthy again: faults healed, topology edits and DNS lag cleared, every instance
        running and replicating (the writer stays where it is), no blue/green deployment,
        no IAM STS lookup."""
        self.request("reset")

    def metadata(self, instance: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("metadata", instance=instance)
        return result

    def direct_params(self, instance: str, admin: bool = False) -> dict[str, Any]:
        """Parameters for the instance's real server, bypassing its proxy (for the harness)."""
        result: dict[str, Any] = self.request("direct_params", instance=instance, admin=admin)
        return result

    # -- blue/green deployments (see bluegreen.py) ---------------------------------------------

    def bg_create(self, suffix: str | None = None) -> dict[str, Any]:
        """Create a blue/green deployment: a green cluster with as many instances as this
        (blue) one, cloned from blue's writer and replicating from it (read-only), each
        behind its own proxy; green names (``-green-xxxxxx`` on the first label; ``suffix``
        picks it) in the hosts file; status rows ``AVAILABLE`` from
        ``get_blue_green_fast_switchover_metadata`` / ``mysql.rds_topology`` on every
        instance of both sides.
        Returns :meth:`bg_status` (with ``create_s``, seconds)."""
        result: dict[str, Any] = self.request("bg_create", suffix=suffix)
        return result

    def bg_status(self) -> dict[str, Any] | None:
        """The deployment (None without one): ``id``, ``status``, ``suffix``, ``blue`` and
        ``green`` (``cluster``, ``cluster_host``, ``reader_host``, ``writer``, ``instances``:
        id, host and, for green, role, source, address, ports, fault, connections), and the
        status ``rows`` (``version, endpoint, port, role, status``)."""
        result: dict[str, Any] | None = self.request("bg_status")
        return result

    def bg_delete(self) -> dict[str, Any]:
        """Stop and remove green: servers, proxies, names, status rows (idempotent); a
        running switchover is stopped first. After a switchover blue gets its names back
        and takes writes again (what was written on green is gone with it).
        ``{"deleted": id or None, ...}``."""
        result: dict[str, Any] = self.request("bg_delete")
        return result

    def bg_switchover(
        self,
        rollback: bool = False,
        slow: bool = False,
        wait: bool = True,
        *,
        dns_lag: float | None = None,
        timings: dict[str, float] | None = None,
        timeout: float = 300.0,
    ) -> dict[str, Any]:
        """Switch the deployment over, phase by phase (docs/devcluster.md): blue stops
        taking writes, green catches up and is promoted, the names are swapped (old blue
        ``-old1``), DNS follows after ``dns_lag`` seconds; ``rollback``: abort during
        ``SWITCHOVER_IN_PROGRESS``, before the renames (blue takes writes again, green keeps
        replicating). ``slow``: each phase tens of seconds. ``timings`` overrides phase
        lengths (``initiated_s``, ``in_progress_s``, ``dns_lag_s``, ``post_s``).

        ``wait=False`` returns at once (the daemon runs it in the background; follow it
        with :meth:`bg_wait` / :meth:`bg_status`); otherwise returns when it has ended
        (:class:`DevclusterError` if it failed). Returns :meth:`bg_status`."""
        overrides = dict(timings or {})
        if dns_lag is not None:
            overrides["dns_lag_s"] = dns_lag
        result: dict[str, Any] = self.request(
            "bg_switchover",
            timeout=timeout + 10,
            rollback=rollback,
            slow=slow,
            wait=wait,
            timings=overrides or None,
            timeout_s=timeout,
        )
        return result

    def bg_wait(self, status: str | None = None, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the switchover has published ``status`` (``SWITCHOVER_IN_PROGRESS``,
        ...; at once if it did already) or, ``status`` None, until it has ended. Returns
        :meth:`bg_status`; :class:`DevclusterError` on timeout, on a failed switchover, or
        when it ended without reaching ``status``."""
        result: dict[str, Any] = self.request(
            "bg_wait", timeout=timeout + 10, status=status, timeout_s=timeout
        )
        return result

    def bg_statements(self, since: float | None = None) -> list[dict[str, Any]]:
        """Server-side evidence: every statement old blue's instances received at or after
        ``since`` (epoch seconds; default: when blue stopped taking writes, in
        ``bg_status()["switchover"]["writes_stopped_at"]``), oldest first:
        ``{"instance", "at", "user", "statement"}`` (from PostgreSQL's server log with
        ``log_statement = 'all'`` / MariaDB's ``mysql.general_log``; the harness' own
        statements included, with their user)."""
        result: list[dict[str, Any]] = self.request("bg_statements", since=since)
        return result

    def bg_permissions(self, allow: bool) -> dict[str, Any]:
        """Revoke (``allow=False``) or grant again the app user's access to the blue/green
        metadata on every instance: EXECUTE on ``get_blue_green_fast_switchover_metadata``
        (PostgreSQL), SELECT on ``mysql.rds_topology`` (MariaDB). :meth:`reset` grants it
        again. ``{"access_denied": bool}``."""
        result: dict[str, Any] = self.request("bg_permissions", allow=allow)
        return result

    # -- IAM database authentication (PostgreSQL; see iam_verifier.py) -----------------------

    def add_iam_credentials(self, access_key: str, secret_key: str) -> dict[str, Any]:
        """Accept IAM auth tokens signed with this key pair from now on. Returns the
        verifier's description (as in ``status()["iam"]``; no secrets)."""
        result: dict[str, Any] = self.request(
            "iam_credentials", access_key=access_key, secret_key=secret_key
        )
        return result

    def set_iam_sts_lookup(self, url: str | None) -> dict[str, Any]:
        """Look access keys the verifier does not know up at ``url`` (a moto server's
        ``<endpoint>/moto-api/data.json``: the temporary credentials its STS issued), so
        tokens signed with them are accepted, with their session token; None stops it, as
        does :meth:`reset`. ``url`` must be on a loopback address."""
        result: dict[str, Any] = self.request("iam_sts_lookup", url=url)
        return result

    def iam_log(self) -> list[str]:
        """The lines of the IAM verifier's log (one per IAM login attempt, accepted or not,
        with the reason; never a token or a secret), oldest first."""
        from .iam_verifier import LOG_FILE

        try:
            return (self.state_dir / LOG_FILE).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def create_iam_user(self, user: str, timeout: float = 10.0) -> None:
        """Create the login role ``user`` in ``rds_iam`` (PostgreSQL; idempotent) and wait
        until every instance has it: it can then log in with IAM auth tokens only."""
        import psycopg
        from psycopg import sql

        from .iam_verifier import IAM_ROLE

        if self.engine is not Engine.POSTGRESQL:
            raise DevclusterError("IAM authentication is emulated for PostgreSQL clusters only")
        role = sql.Identifier(user)
        writer = self.direct_params(self.writer, admin=True)
        with psycopg.connect(**writer, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(IAM_ROLE), role))
        query = "SELECT pg_has_role(%s, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s"
        deadline = time.monotonic() + timeout
        for instance in self.instance_ids:  # replication brings the role to the readers
            params = self.direct_params(instance, admin=True)
            while True:
                with psycopg.connect(**params, autocommit=True, connect_timeout=5) as conn:
                    if conn.execute(query, (user, IAM_ROLE, user)).fetchone() == (True,):
                        break
                if time.monotonic() > deadline:
                    raise DevclusterError(f"the role {user} did not reach {instance}")
                time.sleep(0.05)

    # -- names and parameters ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def engine(self) -> Engine:
        return self.spec.engine

    @property
    def port(self) -> int:
        return self.spec.port

    @property
    def cluster_host(self) -> str:
        return self.spec.cluster_host

    @property
    def reader_host(self) -> str:
        return self.spec.reader_host

    @property
    def instance_template(self) -> str:
        return self.spec.instance_template

    @property
    def instance_ids(self) -> list[str]:
        return [s.id for s in self.spec.instances]

    def instance_host(self, instance_id: str) -> str:
        return self.spec.instance_host(instance_id)

    @property
    def writer(self) -> str:
        return str(self.status()["writer"])

    @property
    def hosts_file(self) -> Path:
        return self.state_dir / "hosts"

    def env(self) -> dict[str, str]:
        """The environment a subprocess needs to reach the cluster by name: the hosts file in
        ``DEVCLUSTER_HOSTS_FILE``. The wrapper does not read it: the subprocess opts in with
        :func:`aws_wrapper_devcluster.install_resolver_from_env`."""
        return {names.ENV_VAR: str(self.hosts_file)}

    def conn_params(self, endpoint: str = "cluster", *, admin: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``aws_wrapper.connect`` (and the drivers): ``endpoint`` is
        ``cluster``, ``reader`` or an instance id; in a global database also ``global``
        (the global writer endpoint) and ``cluster@REGION`` / ``reader@REGION``; with a DB
        shard group ``shardgrp`` (its endpoint) or a router id."""
        kind, _, region = endpoint.partition("@")
        if region and kind in ("cluster", "reader"):
            if region not in self.spec.regions:
                raise ValueError(f"no region {region!r} in {self.name} ({self.spec.regions})")
            if kind == "cluster":
                host = self.spec.region_cluster_host(region)
            else:
                host = self.spec.region_reader_host(region)
        elif endpoint == "global" and self.spec.is_global:
            host = self.spec.global_host
        elif endpoint == "shardgrp":
            host = self.shard_group_host
        elif endpoint.startswith(f"{self.name}-router-") and self.spec.is_limitless:
            host = self.router_host(endpoint)
        elif endpoint == "cluster":
            host = self.cluster_host
        elif endpoint == "reader":
            host = self.reader_host
        else:
            host = self.spec.instance_host(self.spec.instance(endpoint).id)
        params: dict[str, Any] = {
            "host": host,
            "port": self.port,
            "user": ADMIN_USER if admin else APP_USER,
            "password": ADMIN_PASSWORD if admin else APP_PASSWORD,
        }
        if self.engine is Engine.POSTGRESQL:
            params["dbname"] = "postgres" if admin else APP_DATABASE
        elif not admin:
            params["database"] = APP_DATABASE
        return params

    def address_of(self, instance_id: str) -> str:
        return self.spec.instance(instance_id).address

    def __repr__(self) -> str:
        return f"<Cluster {self.name} {self.engine.value} {self.cluster_host}:{self.port}>"


def _engine_name(name: str) -> str:
    low = name.strip().lower()
    aliases = {"pg": "postgresql", "postgres": "postgresql", "mariadb": "mysql"}
    return aliases.get(low, low)


def _alive(state_dir: Path) -> bool:
    path = state_dir / "control.sock"
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def _pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "daemon.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def stop(state_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the daemon of ``state_dir`` (if any) and remove the directory. True if a daemon
    was running."""
    was_running = False
    if _alive(state_dir):
        was_running = True
        with contextlib.suppress(DevclusterError, OSError):
            Cluster(state_dir).request("down", timeout=10)
    pid = _pid(state_dir)
    if pid is not None:
        deadline = time.monotonic() + timeout
        while _process_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _process_exists(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
    _cleanup(state_dir)
    return was_running


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _cleanup(state_dir: Path) -> None:
    import shutil

    if state_dir.exists():
        shutil.rmtree(state_dir, ignore_errors=True)


def _read_new(path: Path, offset: int) -> tuple[int, list[str]]:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset, []
    end = data.rfind(b"\n")
    if end < 0:
        return offset, []
    chunk = data[: end + 1]
    return offset + len(chunk), chunk.decode("utf-8", "replace").splitlines()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
