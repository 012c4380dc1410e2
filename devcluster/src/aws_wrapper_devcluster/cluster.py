"""The running devcluster, inside its daemon: instances, proxies, roles, topology, DNS, faults.

Everything here runs on the daemon's event loop; the database backends' blocking calls run in
worker threads. The daemon (:mod:`.daemon`) exposes these operations over a control socket to
the :class:`~aws_wrapper_devcluster.client.Cluster` API and the CLI.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import bluegreen, globaldb, limitless
from .bluegreen import OLD_SUFFIX, BgStatus, Deployment, Side, Switchover, Timings
from .model import (
    AURORA_MYSQL_VERSION,
    AURORA_PG_VERSION,
    HEALTHY,
    WRITER_SESSION_ID,
    Engine,
    EngineBackend,
    Fault,
    FaultKind,
    InstanceMetadata,
    InstanceSpec,
    Role,
    TopologyRow,
)
from .servers import ServerError, free_port

if TYPE_CHECKING:
    from .proxy import FaultProxy, StreamTransform

LogFn = Callable[[str], None]
REGION = "us-east-1"
READY = "devcluster ready"
"""The daemon's log line that says the cluster accepts connections and requests."""
STATE_FILE = "cluster.json"


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """Names and addresses of a cluster: fixed for its lifetime."""

    name: str
    engine: Engine
    port: int
    slot: int
    instances: tuple[InstanceSpec, ...]
    regions: tuple[str, ...] = ()
    """A global database's regions (the home region first); empty: one region, us-east-1."""
    cross_region_latency_ms: int = 0
    """Latency added by the proxies of the instances outside the home region (the
    application is taken to run in the home region)."""
    limitless: int = 0
    """Transaction routers at the start (``up --limitless N``, PostgreSQL); 0: no DB shard
    group."""

    @property
    def is_limitless(self) -> bool:
        return self.limitless > 0

    @property
    def shard_group_host(self) -> str:
        """The DB shard group endpoint (``--limitless`` clusters)."""
        return limitless.shard_group_host(self.name, self.rds_id, self.home_region)

    def router_host(self, k: int) -> str:
        return self.instance_template.replace("?", limitless.router_id(self.name, k))

    def router_address(self, k: int) -> str:
        return f"127.0.{self.slot}.{limitless.ROUTER_ADDRESS_OFFSET + k}"

    @property
    def is_global(self) -> bool:
        return bool(self.regions)

    @property
    def home_region(self) -> str:
        return self.regions[0] if self.regions else REGION

    @property
    def rds_id(self) -> str:
        return hashlib.sha1(self.name.encode()).hexdigest()[:12]

    @property
    def cluster_host(self) -> str:
        return self.region_cluster_host(self.home_region)

    @property
    def reader_host(self) -> str:
        return self.region_reader_host(self.home_region)

    @property
    def instance_template(self) -> str:
        """``cluster_instance_host_pattern`` for the wrapper: ``?`` is the instance id (of
        the home region in a global database)."""
        return self.region_template(self.home_region)

    def instance_host(self, instance_id: str) -> str:
        return self.region_template(self.region_of(instance_id)).replace("?", instance_id)

    # -- regions (a global database; one region otherwise) --------------------------------

    def region_of(self, instance_id: str) -> str:
        for spec in self.instances:
            if spec.id == instance_id:
                return spec.region or self.home_region
        return self.home_region  # green instances and the like: the home region's names

    def region_rds_id(self, region: str) -> str:
        return globaldb.region_rds_id(self.name, region, self.rds_id, self.home_region)

    def region_cluster(self, region: str) -> str:
        """The name of ``region``'s cluster: the devcluster's name in the home region,
        ``<name>-<region>`` elsewhere."""
        return self.name if region == self.home_region else f"{self.name}-{region}"

    def region_cluster_host(self, region: str) -> str:
        return bluegreen.cluster_host(
            self.region_cluster(region), self.region_rds_id(region), region
        )

    def region_reader_host(self, region: str) -> str:
        return bluegreen.reader_host(
            self.region_cluster(region), self.region_rds_id(region), region
        )

    def region_template(self, region: str) -> str:
        return f"?.{self.region_rds_id(region)}.{region}.rds.amazonaws.com"

    def region_instances(self, region: str) -> list[InstanceSpec]:
        return [s for s in self.instances if (s.region or self.home_region) == region]

    @property
    def global_host(self) -> str:
        """The global writer endpoint (a global database only)."""
        return globaldb.global_host(self.name)

    @property
    def host_patterns(self) -> str:
        """``global_cluster_instance_host_patterns`` for the wrapper."""
        return globaldb.host_patterns({r: self.region_template(r) for r in self.regions})

    def instance(self, instance_id: str) -> InstanceSpec:
        for spec in self.instances:
            if spec.id == instance_id:
                return spec
        known = ", ".join(s.id for s in self.instances)
        raise ValueError(f"no instance {instance_id!r} in cluster {self.name} ({known})")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine.value,
            "port": self.port,
            "slot": self.slot,
            "regions": list(self.regions),
            "cross_region_latency_ms": self.cross_region_latency_ms,
            "limitless": self.limitless,
            "instances": [
                {
                    "id": s.id,
                    "index": s.index,
                    "address": s.address,
                    "port": s.port,
                    "server_port": s.server_port,
                    "base_dir": str(s.base_dir),
                    "region": s.region,
                }
                for s in self.instances
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterSpec:
        return cls(
            name=data["name"],
            engine=Engine(data["engine"]),
            port=int(data["port"]),
            slot=int(data["slot"]),
            instances=tuple(
                InstanceSpec(
                    id=i["id"],
                    index=int(i["index"]),
                    address=i["address"],
                    port=int(i["port"]),
                    server_port=int(i["server_port"]),
                    base_dir=Path(i["base_dir"]),
                    region=str(i.get("region", "")),
                )
                for i in data["instances"]
            ),
            regions=tuple(data.get("regions", ())),
            cross_region_latency_ms=int(data.get("cross_region_latency_ms", 0)),
            limitless=int(data.get("limitless", 0)),
        )


def load_spec(state_dir: Path) -> ClusterSpec | None:
    """The spec a daemon wrote in ``state_dir`` (None when there is none)."""
    try:
        return ClusterSpec.from_json(json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError, KeyError):
        return None


def plan(
    name: str,
    engine: Engine,
    readers: int,
    state_dir: Path,
    port: int | None,
    *,
    regions: Sequence[str] = (),
    secondary_instances: int = 1,
    cross_region_latency_ms: int = 0,
    limitless_routers: int = 0,
) -> ClusterSpec:
    """Pick addresses and ports for a new cluster of 1 writer + ``readers`` readers; with
    ``regions`` (a global database), those in the first (home) region, and
    ``secondary_instances`` read-only instances in each other region."""
    if not 0 <= readers <= 15:
        raise ValueError(f"readers must be between 0 and 15, got {readers}")
    region_list = globaldb.check_regions(regions) if regions else ()
    if limitless_routers:
        check_limitless(engine, limitless_routers, region_list)
    if region_list and not 1 <= secondary_instances <= 15:
        raise ValueError(f"secondary_instances must be between 1 and 15, got {secondary_instances}")
    if cross_region_latency_ms < 0:
        raise ValueError(f"cross_region_latency_ms must be >= 0, got {cross_region_latency_ms}")
    # (id, region) of each instance: the home region's first, ids <name>-<i> as before
    members = [
        (f"{name}-{i}", region_list[0] if region_list else "") for i in range(1, readers + 2)
    ]
    for region in region_list[1:]:
        members += [(f"{name}-{region}-{i}", region) for i in range(1, secondary_instances + 1)]
    count = len(members)
    start = 10 + int(hashlib.sha1(f"{name}:{engine}".encode()).hexdigest(), 16) % 200
    for attempt in range(50):
        slot = 10 + (start - 10 + attempt) % 240
        addresses = [f"127.0.{slot}.{i}" for i in range(1, count + 1)]
        routers = [
            f"127.0.{slot}.{limitless.ROUTER_ADDRESS_OFFSET + k}"
            for k in range(1, limitless_routers + 1)
        ]
        chosen = port or free_port()
        if _bindable(addresses + routers, chosen):
            break
        if port is not None and attempt > 3:
            raise ServerError(f"port {port} is not free on {addresses}")
    else:  # pragma: no cover - 50 busy address ranges
        raise ServerError("no free loopback address range for the devcluster")
    instances = tuple(
        InstanceSpec(
            id=instance_id,
            index=i,
            address=addresses[i - 1],
            port=chosen,
            server_port=free_port(),
            base_dir=state_dir / "instances" / instance_id,
            region=region,
        )
        for i, (instance_id, region) in enumerate(members, start=1)
    )
    return ClusterSpec(
        name,
        engine,
        chosen,
        slot,
        instances,
        regions=region_list,
        cross_region_latency_ms=cross_region_latency_ms if region_list else 0,
        limitless=limitless_routers,
    )


def check_limitless(engine: Engine, routers: int, regions: Sequence[str] = ()) -> None:
    """``--limitless N``: PostgreSQL only (Aurora Limitless Database is Aurora PostgreSQL),
    one region, 1..16 routers."""
    if engine is not Engine.POSTGRESQL:
        raise ValueError(
            f"limitless: Aurora Limitless Database is Aurora PostgreSQL only; the {engine.value} "
            "engine (MariaDB) has no DB shard group (use --engine postgresql)"
        )
    if regions:
        raise ValueError("limitless: a global database (--regions) has no DB shard group")
    limitless.check_count(routers)


def _bindable(addresses: Sequence[str], port: int) -> bool:
    socks = []
    try:
        for address in addresses:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


class _Cancelled(Exception):
    """A running switchover was told to stop (bg delete, reset)."""


@dataclass
class TopologyEdits:
    """What the harness changes on top of the real topology (stale rows, lag, ...)."""

    age_s: dict[str, float] = field(default_factory=dict)
    lag_ms: dict[str, float] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    extra_writers: set[str] = field(default_factory=set)
    views: dict[str, list[TopologyRow]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "age_s": self.age_s,
            "lag_ms": self.lag_ms,
            "missing": sorted(self.missing),
            "extra_writers": sorted(self.extra_writers),
            "views": {k: [r.to_json() for r in v] for k, v in self.views.items()},
        }


class ClusterRuntime:
    """A cluster's live state and operations (inside the daemon)."""

    def __init__(
        self, spec: ClusterSpec, backend: EngineBackend, state_dir: Path, log: LogFn
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.state_dir = state_dir
        self.log = log
        self.writer = spec.instances[0].id
        self.faults: dict[str, Fault] = {s.id: self.base_fault(s.id) for s in spec.instances}
        self.dns_frozen = False
        self.dns_cluster_target = self.writer
        self.edits = TopologyEdits()
        self.down: set[str] = set()  # instances whose server is stopped
        self.rejoining: set[str] = set()
        self.proxies: dict[str, FaultProxy] = {}
        self._rejoin_tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one topology-changing operation at a time
        self.last_failover: dict[str, Any] | None = None
        self.bg: Deployment | None = None  # the blue/green deployment, if any
        self.bg_access_denied = False  # `bg permissions --deny`: the app cannot read the rows
        self.on_names_changed: Callable[[], None] | None = None  # the daemon's IAM endpoints
        self._bg_changed = asyncio.Condition()  # a switchover published something
        self._bg_cancel = asyncio.Event()  # bg_delete / reset: stop a running switchover
        self._bg_task: asyncio.Task[None] | None = None
        # a global database (spec.regions): the region of the global writer, where the global
        # writer endpoint points (it lags a global switchover / failover), the last one's report
        self.primary_region = spec.home_region
        self.global_dns_writer = self.writer
        self.global_dns_lagging = False
        self.last_global: dict[str, Any] | None = None
        self._global_dns_task: asyncio.Task[None] | None = None
        # a DB shard group (spec.limitless): its transaction routers, their proxies and faults
        self.routers: dict[str, limitless.Router] = {}
        self.router_proxies: dict[str, FaultProxy] = {}
        self.router_faults: dict[str, Fault] = {}

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        started = time.monotonic()
        if self.spec.is_global:
            shape = "; ".join(
                f"{region}: {len(self.spec.region_instances(region))} instances"
                + (" (writer and readers)" if region == self.spec.home_region else " (read-only)")
                for region in self.spec.regions
            )
            self.log(f"creating {self.spec.engine.value} global database {self.spec.name}: {shape}")
        else:
            self.log(
                f"creating {self.spec.engine.value} cluster {self.spec.name}: "
                f"1 writer + {len(self.spec.instances) - 1} readers"
            )
        await asyncio.to_thread(self.backend.create, self.spec.instances, self.writer)
        self.publish_all()
        for spec in self.spec.instances:
            await self._start_proxy(spec)
            if self.faults[spec.id] != HEALTHY:  # cross-region latency
                self.proxies[spec.id].set_fault(self.faults[spec.id])
        if self.spec.is_limitless:
            for k in range(1, self.spec.limitless + 1):
                await self._start_router(k)
            self.publish_all()
            self.log(
                f"DB shard group {self.spec.shard_group_host}: {self.spec.limitless} transaction "
                f"routers ({', '.join(self.routers)}) in front of the writer"
            )
            self._names_changed()  # the IAM verifier accepts tokens for the routers' names
        self.write_hosts()
        self.log(
            f"cluster {self.spec.name} up in {time.monotonic() - started:.1f} s: "
            f"{self.spec.cluster_host}:{self.spec.port}"
        )

    async def _start_proxy(self, spec: InstanceSpec) -> None:
        from .proxy import FaultProxy

        proxy = FaultProxy(
            spec.address,
            spec.port,
            "127.0.0.1",
            spec.server_port,
            name=spec.id,
            transform_factory=self._transform_factory(spec.id),
        )
        await proxy.start()
        self.proxies[spec.id] = proxy

    def _transform_factory(self, instance_id: str) -> Callable[[], StreamTransform] | None:
        if self.spec.engine is not Engine.MYSQL:
            return None
        from .mysql_relay import MySQLRelay

        def make() -> StreamTransform:
            return MySQLRelay(lambda: self.metadata_for(instance_id))

        return make

    async def shutdown(self) -> None:
        for task in list(self._rejoin_tasks):
            task.cancel()
        for proxy in [*self.proxies.values(), *self.router_proxies.values()]:
            await proxy.stop()
        self.proxies.clear()
        self.router_proxies.clear()
        await asyncio.to_thread(self.backend.destroy)
        hosts = self.hosts_path
        hosts.unlink(missing_ok=True)

    # -- topology and DNS --------------------------------------------------------------------

    def metadata_for(self, instance_id: str) -> InstanceMetadata:
        version = (
            AURORA_PG_VERSION if self.spec.engine is Engine.POSTGRESQL else AURORA_MYSQL_VERSION
        )
        extra: dict[str, Any] = {}
        if self.spec.is_limitless:
            extra["limitless_router_endpoints"] = limitless.endpoint_rows(self.listed_routers())
        name = self.presented_id  # the instance's name now (a switchover renames them)
        if self.bg is not None:
            is_green = self.bg.green_spec(instance_id) is not None
            extra["blue_green"] = self.bg_rows(green=is_green)
            if is_green:  # green: its own cluster's view
                green = [
                    TopologyRow(
                        server_id=name(s.id),
                        session_id=WRITER_SESSION_ID
                        if s.id == self.bg.green_writer
                        else f"{name(s.id)}-session",
                        cpu=1.0 + s.index / 10,
                        replica_lag_in_msec=None if s.id == self.bg.green_writer else 0.0,
                    )
                    for s in self.bg.green_specs
                ]
                return InstanceMetadata(name(instance_id), tuple(green), version, extra)
        if self.spec.is_global:
            extra.update(self._global_extra(instance_id))
        view = self.edits.views.get(instance_id)
        if view is not None:
            return InstanceMetadata(name(instance_id), tuple(view), version, extra)
        rows = []
        region = self.spec.region_of(instance_id)
        for spec in self.spec.instances:
            sid = spec.id
            if sid in self.edits.missing or sid in self.down or sid in self.rejoining:
                continue
            if self.spec.region_of(sid) != region:  # a region's own cluster only
                continue
            writer = sid == self.writer or sid in self.edits.extra_writers
            rows.append(
                TopologyRow(
                    server_id=name(sid),
                    session_id=WRITER_SESSION_ID if writer else f"{name(sid)}-session",
                    cpu=1.0 + spec.index / 10,
                    replica_lag_in_msec=None if writer else self.edits.lag_ms.get(sid, 0.0),
                    age_s=self.edits.age_s.get(sid, 0.0),
                )
            )
        return InstanceMetadata(name(instance_id), tuple(rows), version, extra)

    def _global_extra(self, instance_id: str) -> dict[str, Any]:
        """A global database's metadata on ``instance_id``: its region, every running
        instance of every region (the global writer ``MASTER_SESSION_ID``; secondary
        regions' instances lag by the cross-region latency), one row per region."""
        spec = self.spec
        rows = []
        for s in spec.instances:
            sid = s.id
            if sid in self.edits.missing or sid in self.down or sid in self.rejoining:
                continue
            region = spec.region_of(sid)
            writer = sid == self.writer or sid in self.edits.extra_writers
            lag = self.edits.lag_ms.get(sid, self._region_lag_ms(region))
            rows.append(globaldb.GlobalRow(sid, region, writer, None if writer else lag))
        return {
            "aws_region": spec.region_of(instance_id),
            "global_db_instance_status": globaldb.instance_status_rows(rows),
            "global_db_status": globaldb.region_status_rows(
                spec.regions,
                self.primary_region,
                self._region_lag_ms(None),
            ),
        }

    def _region_lag_ms(self, region: str | None) -> float:
        """Replication lag shown for an instance of ``region`` (None: any secondary):
        0 in the primary region, the cross-region latency (at least 1 ms) elsewhere."""
        if region == self.primary_region:
            return 0.0
        return float(max(1, self.spec.cross_region_latency_ms))

    def presented_id(self, instance_id: str) -> str:
        """The name an instance goes by now: its id, until a blue/green switchover renamed
        it (blue ``X`` -> ``X-old1``, green ``X-green-xxxxxx`` -> ``X``). Internally (proxies,
        faults, servers, this API) an instance keeps its id for life."""
        bg = self.bg
        if bg is None or not bg.switched:
            return instance_id
        source = bg.source_of.get(instance_id)
        return source if source is not None else instance_id + OLD_SUFFIX

    def publish_all(self) -> None:
        for instance_id in self.instance_ids():
            self.backend.publish_metadata(instance_id, self.metadata_for(instance_id))

    def instance_ids(self) -> list[str]:
        """Every instance: blue's, then green's (while a blue/green deployment exists)."""
        ids = [s.id for s in self.spec.instances]
        return ids + (self.bg.green_ids if self.bg is not None else [])

    def instance_spec(self, instance_id: str) -> InstanceSpec:
        """A blue or green instance (ValueError naming the known ones otherwise)."""
        if self.bg is not None:
            green = self.bg.green_spec(instance_id)
            if green is not None:
                return green
        try:
            return self.spec.instance(instance_id)
        except ValueError:
            known = ", ".join(self.instance_ids())
            raise ValueError(
                f"no instance {instance_id!r} in cluster {self.spec.name} ({known})"
            ) from None

    @property
    def hosts_path(self) -> Path:
        return self.state_dir / "hosts"

    def readers(self) -> list[str]:
        """The running readers of the writer's region (every region in a single-region
        cluster)."""
        return [
            s.id
            for s in self.spec.instances
            if s.id != self.writer
            and s.id not in self.down
            and s.id not in self.rejoining
            and self.spec.region_of(s.id) == self.primary_region
        ]

    def secondaries(self, region: str | None = None) -> list[str]:
        """The running instances of the secondary regions (of ``region`` only, if given)."""
        return [
            s.id
            for s in self.spec.instances
            if s.id not in self.down
            and s.id not in self.rejoining
            and self.spec.region_of(s.id) != self.primary_region
            and (region is None or self.spec.region_of(s.id) == region)
        ]

    def write_hosts(self) -> None:
        """The cluster's hosts file. With a blue/green deployment: green's names too; once a
        switchover renamed the endpoints, blue's ``-old1`` names at once, and blue's own
        names (then on green's addresses) only when DNS has followed (``dns_switched``):
        until then they keep answering old blue's addresses, and green's ``-green-`` names
        keep answering too (DNS lag)."""
        spec, bg = self.spec, self.bg
        lines = [f"# devcluster {spec.name} ({spec.engine.value}): generated, do not edit"]
        target = self.dns_cluster_target if self.dns_frozen else self.writer
        self.dns_cluster_target = target
        blue_readers = [spec.instance(r).address for r in self.readers() or [self.writer]]

        def endpoint_lines(
            cluster: str, instances: list[tuple[str, str]], writer: str, readers: list[str]
        ) -> list[str]:
            """Instance lines (host, address), then the cluster and reader endpoints of the
            cluster named ``cluster``."""
            out = [f"{address} {host}" for host, address in instances]
            out.append(f"{writer} {bluegreen.cluster_host(cluster, spec.rds_id, REGION)}")
            out += [f"{a} {bluegreen.reader_host(cluster, spec.rds_id, REGION)}" for a in readers]
            return out

        def blue(suffix: str) -> list[str]:
            instances = [(spec.instance_host(s.id + suffix), s.address) for s in spec.instances]
            return endpoint_lines(
                spec.name + suffix, instances, spec.instance(target).address, blue_readers
            )

        if spec.is_limitless:
            lines.append(f"# DB shard group {spec.shard_group_host}: transaction routers")
            lines += [f"{r.address} {r.host}" for r in self.routers.values()]
            lines += [f"{r.address} {spec.shard_group_host}" for r in self.routers.values()]
        if spec.is_global:
            lines += self._global_hosts_lines(target)
        elif bg is None:
            lines += blue("")
        else:
            writer_address = self.instance_spec(bg.green_writer).address
            green_readers = [self.instance_spec(r).address for r in bg.green_readers]

            def green(cluster: str, host_of: Callable[[str], str]) -> list[str]:
                instances = [(host_of(s.id), s.address) for s in bg.green_specs]
                return endpoint_lines(
                    cluster, instances, writer_address, green_readers or [writer_address]
                )

            if not bg.dns_switched:  # before the switchover, or DNS still lagging
                lines += blue("")
                lines.append(f"# blue/green deployment {bg.id}: green cluster {bg.green_cluster}")
                lines += green(bg.green_cluster, spec.instance_host)
            if bg.switched:
                lines.append(f"# blue/green deployment {bg.id}: old blue, renamed {OLD_SUFFIX}")
                lines += blue(OLD_SUFFIX)
            if bg.dns_switched:
                lines.append(f"# blue/green deployment {bg.id}: green under blue's names")
                lines += green(spec.name, lambda i: spec.instance_host(bg.source_of[i]))
        tmp = self.hosts_path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.hosts_path)

    def _global_hosts_lines(self, target: str) -> list[str]:
        """Each region's instance, cluster and reader endpoints, then the global writer
        endpoint. The primary region's cluster endpoint answers the writer (or ``target``,
        DNS frozen); a secondary region's, one of its instances (it has no writer). Reader
        endpoints answer a region's readers. The global endpoint answers what the primary
        region's cluster endpoint answers, except for ``global_dns_writer`` while it lags a
        global switchover or failover."""
        spec = self.spec
        out: list[str] = []
        for region in spec.regions:
            members = spec.region_instances(region)
            out.append(f"# region {region}: cluster {spec.region_cluster(region)}")
            out += [f"{s.address} {spec.instance_host(s.id)}" for s in members]
            if region == self.primary_region:
                cluster = spec.instance(target).address
                readers = [spec.instance(r).address for r in self.readers()]
                readers = readers or [spec.instance(self.writer).address]
            else:
                running = self.secondaries(region)
                addresses = [spec.instance(r).address for r in running]
                addresses = addresses or [s.address for s in members]
                cluster, readers = addresses[0], addresses
            out.append(f"{cluster} {spec.region_cluster_host(region)}")
            out += [f"{a} {spec.region_reader_host(region)}" for a in readers]
        out.append("# global writer endpoint")
        writer = self.global_dns_writer if self.global_dns_lagging else target
        out.append(f"{spec.instance(writer).address} {spec.global_host}")
        return out

    def set_dns(self, frozen: bool | None = None, cluster_target: str | None = None) -> None:
        if frozen is not None:
            self.dns_frozen = frozen
        if cluster_target is not None:
            self.spec.instance(cluster_target)
            self.dns_cluster_target = cluster_target
            self.dns_frozen = True
        self.write_hosts()

    def edit_topology(
        self,
        *,
        instance: str | None = None,
        age_s: float | None = None,
        lag_ms: float | None = None,
        missing: bool | None = None,
        writer: bool | None = None,
        view: list[dict[str, Any]] | None = None,
        clear: bool = False,
    ) -> None:
        """Change what the metadata says (not the real roles). ``instance`` names the row
        edited (age, lag, missing, also-writer) or, with ``view``, the instance whose whole
        view is replaced."""
        if clear:
            self.edits = TopologyEdits()
        if instance is not None:
            self.spec.instance(instance)
            if age_s is not None:
                self.edits.age_s[instance] = age_s
            if lag_ms is not None:
                self.edits.lag_ms[instance] = lag_ms
            if missing is not None:
                (self.edits.missing.add if missing else self.edits.missing.discard)(instance)
            if writer is not None:
                extra = self.edits.extra_writers
                (extra.add if writer else extra.discard)(instance)
            if view is not None:
                self.edits.views[instance] = [_row(r) for r in view]
        self.publish_all()

    # -- faults ------------------------------------------------------------------------------

    def base_fault(self, instance_id: str) -> Fault:
        """What ``heal`` leaves on an instance: nothing, or the cross-region latency on the
        instances outside the home region."""
        spec = self.spec
        if spec.cross_region_latency_ms and spec.region_of(instance_id) != spec.home_region:
            return Fault(FaultKind.LATENCY, spec.cross_region_latency_ms)
        return HEALTHY

    def set_fault(self, instance: str | None, fault: Fault, *, region: str | None = None) -> None:
        """``fault`` on one instance, every instance of ``region``, or every instance;
        ``HEALTHY`` heals (back to the cross-region latency where there is one)."""
        if region is not None:
            if region not in self.spec.regions:
                raise ValueError(
                    f"no region {region!r} in cluster {self.spec.name} "
                    f"(regions: {', '.join(self.spec.regions) or 'none: not a global database'})"
                )
            targets = [s.id for s in self.spec.region_instances(region)]
        elif instance is not None and instance in self.routers:
            self._set_router_fault(instance, fault)
            return
        else:
            targets = [instance] if instance is not None else self.instance_ids()
            if instance is None:
                for router in list(self.routers):
                    self._set_router_fault(router, fault)
        for target in targets:
            self.instance_spec(target)
            applied = self.base_fault(target) if fault == HEALTHY else fault
            self.faults[target] = applied
            self.proxies[target].set_fault(applied)

    # -- failover ----------------------------------------------------------------------------

    async def wait_rejoins(self, timeout: float = 120.0) -> None:
        tasks = list(self._rejoin_tasks)
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    async def failover(
        self,
        target: str | None = None,
        *,
        crash: bool = False,
        delay: float = 0.0,
        dns: bool = True,
    ) -> dict[str, Any]:
        """Stop (or kill) the writer, promote a reader, repoint the others, update topology
        and DNS; the old writer rejoins as a reader in the background."""
        async with self._lock:
            if self.bg is not None and self.bg.switched:
                raise ServerError(
                    "after a blue/green switchover the devcluster does not emulate failovers; "
                    "delete the deployment first (bg delete)"
                )
            await self.wait_rejoins()
            old = self.writer
            candidates = self.readers()
            if target is None:
                if not candidates:
                    raise ServerError("failover needs a reader to promote; the cluster has none")
                target = candidates[0]
            self.spec.instance(target)
            if target == old:
                raise ServerError(f"{target} is already the writer")
            if target not in candidates:
                raise ServerError(f"{target} is not a running reader; readers: {candidates}")
            started = time.monotonic()
            self.log(f"failover: {old} -> {target}{' (crash)' if crash else ''}")
            if crash:
                # Aurora loses no acknowledged commit in a crash (shared storage). Emulate it:
                # cut every client off first (connections reset, connects refused), let the
                # target apply what the writer has, then kill the writer.
                self.proxies[old].set_fault(Fault(FaultKind.REJECT))
            await asyncio.to_thread(self.backend.wait_caught_up, target, old, 30.0)
            self.down.add(old)
            self.publish_all()  # the writer's row is gone: clients see no writer
            await asyncio.to_thread(self.backend.stop, old, crash=crash)
            self.proxies[old].reset_connections()
            self.proxies[old].set_fault(self.faults[old])
            stopped = time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await asyncio.to_thread(self.backend.promote, target)
            promoted = time.monotonic()
            self.writer = target
            self._routers_follow_writer()
            # as on Aurora, the new writer's metadata says so as soon as it accepts writes;
            # the other readers follow it afterwards
            self.publish_all()
            if not dns:  # DNS lag: the cluster endpoint stays on the old writer until unfrozen
                self.dns_frozen = True
            self.write_hosts()
            for reader in self.readers():
                await asyncio.to_thread(self.backend.follow, reader, target)
            for secondary in self.secondaries():  # a global database's other regions
                await self._repoint(secondary, target)
            if self.bg is not None:  # green replicates from blue's writer, wherever it is
                for green in self.bg.green_ids:
                    try:
                        await asyncio.to_thread(self.backend.follow, green, target)
                    except ServerError as exc:  # blue's failover stands; `status --check`
                        self.log(f"green instance {green} cannot follow {target}: {exc}")
            self.publish_all()
            done = time.monotonic()
            result = {
                "old_writer": old,
                "new_writer": target,
                "crash": crash,
                "stop_s": round(stopped - started, 3),
                "promote_s": round(promoted - stopped - delay, 3),
                "total_s": round(done - started, 3),
            }
            self.last_failover = result
            self.log(
                f"failover done in {result['total_s']:.2f} s "
                f"(stop {result['stop_s']:.2f} s, promote {result['promote_s']:.2f} s); "
                f"{old} rejoins as a reader"
            )
            self.down.discard(old)
            self.rejoining.add(old)
            task = asyncio.create_task(self._rejoin(old, target))
            self._rejoin_tasks.add(task)
            task.add_done_callback(self._rejoin_tasks.discard)
            return result

    async def _rejoin(self, old: str, writer: str) -> None:
        started = time.monotonic()
        try:
            await asyncio.to_thread(self.backend.rejoin, old, writer)
        except Exception as e:  # keep the daemon alive; status shows it
            self.log(f"rejoin of {old} failed: {e}")
            self.rejoining.discard(old)
            self.down.add(old)
            raise
        self.rejoining.discard(old)
        self.publish_all()
        self.write_hosts()
        self.log(f"{old} rejoined as a reader of {writer} in {time.monotonic() - started:.1f} s")

    async def switchover(self, target: str | None = None) -> dict[str, Any]:
        """A planned failover: clean stop, no delay."""
        return await self.failover(target, crash=False, delay=0.0)

    async def reset(self) -> None:
        """Back to a healthy cluster (faults healed, topology edits and DNS freeze cleared,
        every instance running and replicating, no blue/green deployment, the app user may
        read the blue/green metadata); the writer stays where it is."""
        await self.wait_rejoins()
        if self.bg is not None:
            await self.bg_delete()
        if self.bg_access_denied:
            await self.bg_permissions(allow=True)
        self.set_fault(None, HEALTHY)
        if self.spec.is_limitless:
            await self._reset_routers()
        self.edits = TopologyEdits()
        self.dns_frozen = False
        if self._global_dns_task is not None:
            self._global_dns_task.cancel()
        self.global_dns_lagging = False
        for instance in sorted(self.down):
            await asyncio.to_thread(self.backend.rejoin, instance, self.writer)
            self.down.discard(instance)
        self.publish_all()
        self.write_hosts()

    # -- Aurora Limitless: the DB shard group's transaction routers (see limitless.py) -------

    def listed_routers(self) -> list[limitless.Router]:
        """The routers ``aurora_limitless_router_endpoints()`` answers: every router but the
        unreachable ones (blackholed or rejecting), as Aurora lists the routers that serve."""
        return [
            r
            for r in self.routers.values()
            if self.router_faults.get(r.id, HEALTHY).kind
            not in (FaultKind.BLACKHOLE, FaultKind.REJECT)
        ]

    def _require_limitless(self, what: str) -> None:
        if not self.spec.is_limitless:
            raise ServerError(
                f"limitless {what}: {self.spec.name} has no DB shard group "
                "(start one with up --limitless N, PostgreSQL)"
            )

    def _router(self, router: str) -> limitless.Router:
        found = self.routers.get(router)
        if found is None:
            known = ", ".join(self.routers) or "none"
            raise ValueError(f"no transaction router {router!r} in {self.spec.name} ({known})")
        return found

    async def _start_router(self, k: int, load: float = 0.0) -> limitless.Router:
        from .proxy import FaultProxy

        rid = limitless.router_id(self.spec.name, k)
        router = limitless.Router(
            rid, k, self.spec.router_host(k), self.spec.router_address(k), load
        )
        proxy = FaultProxy(
            router.address,
            self.spec.port,
            "127.0.0.1",
            self.spec.instance(self.writer).server_port,
            name=rid,
        )
        await proxy.start()
        self.routers[rid] = router
        self.router_proxies[rid] = proxy
        self.router_faults[rid] = HEALTHY
        return router

    async def _stop_router(self, rid: str) -> None:
        self.routers.pop(rid, None)
        self.router_faults.pop(rid, None)
        proxy = self.router_proxies.pop(rid, None)
        if proxy is not None:
            proxy.reset_connections()
            await proxy.stop()

    def _routers_follow_writer(self) -> None:
        port = self.spec.instance(self.writer).server_port
        for proxy in self.router_proxies.values():
            proxy.target_port = port

    def _set_router_fault(self, rid: str, fault: Fault) -> None:
        self._router(rid)
        self.router_faults[rid] = fault
        self.router_proxies[rid].set_fault(fault)
        self.publish_all()  # a router that cannot serve leaves the endpoint rows

    def _limitless_changed(self) -> None:
        self.publish_all()
        self.write_hosts()
        self._names_changed()

    async def limitless_add(self, load: float = 0.0) -> dict[str, Any]:
        """A new transaction router (the lowest free number), listed at once."""
        self._require_limitless("add")
        load = limitless.check_load(load)
        used = {r.index for r in self.routers.values()}
        free = [k for k in range(1, limitless.MAX_ROUTERS + 1) if k not in used]
        if not free:
            raise ServerError(f"no room for another router (at most {limitless.MAX_ROUTERS})")
        k = free[0]
        if not _bindable([self.spec.router_address(k)], self.spec.port):
            raise ServerError(f"{self.spec.router_address(k)}:{self.spec.port} is busy")
        router = await self._start_router(k, load)
        self._limitless_changed()
        self.log(f"transaction router {router.id} added ({router.host}, load {load:g})")
        return router.to_json()

    async def limitless_remove(self, router: str) -> dict[str, Any]:
        """Take a router away: it leaves the endpoint rows and the shard group's DNS, its
        connections are reset and its address refuses connects."""
        self._require_limitless("remove")
        gone = self._router(router)
        await self._stop_router(router)
        self._limitless_changed()
        self.log(f"transaction router {router} removed")
        return gone.to_json()

    def limitless_load(self, router: str, load: float) -> dict[str, Any]:
        """Set the load ``router`` reports (0.0 idle .. 1.0 saturated)."""
        self._require_limitless("load")
        found = self._router(router)
        found.load = limitless.check_load(load)
        self.publish_all()
        return found.to_json()

    async def _reset_routers(self) -> None:
        """Back to the routers of ``up`` (numbers 1..N), each at load 0, healthy."""
        wanted = {limitless.router_id(self.spec.name, k) for k in range(1, self.spec.limitless + 1)}
        for rid in [r for r in self.routers if r not in wanted]:
            await self._stop_router(rid)
        for k in range(1, self.spec.limitless + 1):
            rid = limitless.router_id(self.spec.name, k)
            if rid not in self.routers:
                await self._start_router(k)
            self.routers[rid].load = 0.0
            self.router_faults[rid] = HEALTHY
            self.router_proxies[rid].set_fault(HEALTHY)
        self._routers_follow_writer()
        self._limitless_changed()

    def limitless_status(self) -> dict[str, Any] | None:
        if not self.spec.is_limitless:
            return None
        listed = {r.id for r in self.listed_routers()}
        return {
            "shard_group_host": self.spec.shard_group_host,
            "routers": [
                {
                    **r.to_json(),
                    "fault": str(self.router_faults.get(r.id, HEALTHY)),
                    "listed": r.id in listed,
                    "connections": self.router_proxies[r.id].active_connections
                    if r.id in self.router_proxies
                    else 0,
                }
                for r in self.routers.values()
            ],
        }

    # -- global databases (see globaldb.py) -----------------------------------------------------

    async def _repoint(self, instance: str, writer: str) -> None:
        """A running replica follows ``writer``; rewound or re-cloned (``rejoin``) when it
        cannot (PostgreSQL: it replayed past the new writer's fork point)."""
        try:
            await asyncio.to_thread(self.backend.follow, instance, writer)
        except ServerError as exc:
            self.log(f"{instance} cannot follow {writer} ({exc}); rejoining it")
            await asyncio.to_thread(self.backend.rejoin, instance, writer)

    async def global_switchover(
        self, region: str, target: str | None = None, *, dns_lag: float | None = None
    ) -> dict[str, Any]:
        """A managed switchover of a global database to ``region`` (nothing lost): the
        writer stops taking writes (its connections cut and refused, read-only), every
        instance of every region catches up, ``target`` (default: the region's first
        running instance) is promoted, every other instance follows it (the old writer
        rejoins as a replica before this returns), each region's endpoints and then,
        ``dns_lag`` seconds later, the global writer endpoint follow."""
        return await self._global_move(region, target, planned=True, dns_lag=dns_lag)

    async def global_failover(
        self, region: str, target: str | None = None, *, dns_lag: float | None = None
    ) -> dict[str, Any]:
        """An unplanned failover of a global database to ``region`` (the primary region
        lost): the primary region is cut off through its proxies (blackhole) first, its
        writer killed, then ``target`` promoted with what it had received (later commits
        are lost, as on AWS). The other regions follow it; the old primary region's
        instances rejoin as replicas of the new writer in the background (rewound or
        re-cloned) and stay cut off until healed (``fault --region R heal``)."""
        return await self._global_move(region, target, planned=False, dns_lag=dns_lag)

    async def _global_move(
        self, region: str, target: str | None, *, planned: bool, dns_lag: float | None
    ) -> dict[str, Any]:
        spec = self.spec
        kind = "switchover" if planned else "failover"
        if not spec.is_global:
            raise ServerError(
                f"global {kind}: {spec.name} is not a global database (start one with "
                "up --regions us-east-1,us-west-2)"
            )
        if region not in spec.regions:
            raise ValueError(
                f"global {kind}: no region {region!r} in {spec.name} "
                f"(regions: {', '.join(spec.regions)})"
            )
        lag = globaldb.DEFAULT_DNS_LAG_S if dns_lag is None else float(dns_lag)
        if lag < 0:
            raise ValueError(f"dns_lag must be >= 0 seconds, got {lag}")
        async with self._lock:
            await self.wait_rejoins()
            if region == self.primary_region:
                raise ServerError(f"{region} is already the primary region (writer {self.writer})")
            candidates = self.secondaries(region)
            if target is None:
                if not candidates:
                    raise ServerError(f"region {region} has no running instance to promote")
                target = candidates[0]
            spec.instance(target)
            if target not in candidates:
                raise ServerError(
                    f"{target} is not a running instance of {region}; running there: {candidates}"
                )
            old, old_region = self.writer, self.primary_region
            old_readers = self.readers()
            peers = [i for i in candidates if i != target]
            others = [i for i in self.secondaries() if spec.region_of(i) != region]
            started, at = time.monotonic(), time.time()
            steps: list[dict[str, Any]] = []

            def step(what: str) -> None:
                offset = time.monotonic() - started
                steps.append({"at": time.time(), "offset_s": round(offset, 3), "event": what})
                self.log(f"global {kind}: +{offset:.2f} s {what}")

            step(f"{old_region} ({old}) -> {region} ({target})")
            position: str | None = None
            if planned:
                self.proxies[old].set_fault(Fault(FaultKind.REJECT))
                await asyncio.to_thread(self.backend.cut_sessions, old)
                await asyncio.to_thread(self.backend.set_writable, old, False)
                position = await asyncio.to_thread(self.backend.position, old)
                at_position = position or "its start (no transaction yet)"
                step(f"writes stopped: {old} read-only at {at_position}, its connections cut")
                await asyncio.gather(
                    *(
                        asyncio.to_thread(self.backend.wait_caught_up, i, old, 30.0)
                        for i in [*old_readers, *candidates, *others]
                    )
                )
                step("every instance of every region caught up")
            else:
                self.set_fault(None, Fault(FaultKind.BLACKHOLE), region=old_region)
                step(f"region {old_region} cut off (its proxies blackholed)")
                self.down.add(old)
                self.publish_all()
                await asyncio.to_thread(self.backend.stop, old, crash=True)
                step(f"{old} killed: what {region} had not received is lost")
            await asyncio.to_thread(self.backend.promote, target)
            self.writer, self.primary_region = target, region
            self.dns_frozen, self.dns_cluster_target = False, target
            if self._global_dns_task is not None:
                self._global_dns_task.cancel()
            self.global_dns_writer, self.global_dns_lagging = old, lag > 0
            if not planned:
                self.down.discard(old)
                self.rejoining.add(old)
                self.rejoining.update(old_readers)
            self.publish_all()
            self.write_hosts()
            self._names_changed()
            step(f"{target} promoted: {region} is the primary region")
            for instance in peers:
                await self._repoint(instance, target)
            for instance in others:
                await self._repoint(instance, target)
            if peers or others:
                step(f"{len(peers) + len(others)} secondary instances follow {target}")
            if planned:
                for instance in old_readers:
                    await self._repoint(instance, target)
                await asyncio.to_thread(self.backend.set_writable, old, True)
                await asyncio.to_thread(self.backend.rejoin, old, target)
                self.proxies[old].set_fault(self.faults[old])
                step(f"{old_region} replicates from {target} ({old} rejoined as a replica)")
            else:
                for instance in [old, *old_readers]:
                    task = asyncio.create_task(self._rejoin(instance, target))
                    self._rejoin_tasks.add(task)
                    task.add_done_callback(self._rejoin_tasks.discard)
                step(f"{old_region}'s instances rejoin as replicas of {target} in the background")
            self.publish_all()
            self.write_hosts()
            if lag > 0:
                self._global_dns_task = asyncio.create_task(self._global_dns_follow(lag))
            total = time.monotonic() - started
            result = {
                "kind": kind,
                "old_region": old_region,
                "new_region": region,
                "old_writer": old,
                "new_writer": target,
                "writes_stopped_position": position,
                "dns_lag_s": lag,
                "started_at": at,
                "total_s": round(total, 3),
                "steps": steps,
            }
            self.last_global = result
            self.log(f"global {kind} done in {total:.2f} s")
            return result

    async def _global_dns_follow(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.global_dns_lagging = False
        self.write_hosts()
        self.log(f"global writer endpoint follows {self.writer} (after {delay:g} s)")

    def global_status(self) -> dict[str, Any] | None:
        """Regions, their endpoints and instances, the global writer endpoint (None in a
        single-region cluster)."""
        spec = self.spec
        if not spec.is_global:
            return None
        regions = []
        for region in spec.regions:
            regions.append(
                {
                    "region": region,
                    "primary": region == self.primary_region,
                    "cluster": spec.region_cluster(region),
                    "cluster_host": spec.region_cluster_host(region),
                    "reader_host": spec.region_reader_host(region),
                    "instance_template": spec.region_template(region),
                    "rds_id": spec.region_rds_id(region),
                    "instances": [s.id for s in spec.region_instances(region)],
                }
            )
        dns_writer = self.global_dns_writer if self.global_dns_lagging else self.writer
        return {
            "primary_region": self.primary_region,
            "home_region": spec.home_region,
            "writer": self.writer,
            "global_host": spec.global_host,
            "global_dns": {"writer": dns_writer, "lagging": self.global_dns_lagging},
            "host_patterns": spec.host_patterns,
            "cross_region_latency_ms": spec.cross_region_latency_ms,
            "regions": regions,
            "last": self.last_global,
        }

    # -- blue/green deployments (see bluegreen.py) ---------------------------------------------

    def bg_side(self, *, green: bool) -> Side:
        """The names blue's or green's side of the deployment goes by now (a switchover
        gives green blue's names and blue ``-old1`` ones)."""
        spec, bg = self.spec, self.bg
        name = self.presented_id
        if not green:
            cluster = spec.name + (OLD_SUFFIX if bg is not None and bg.switched else "")
            return Side(
                cluster=cluster,
                cluster_host=bluegreen.cluster_host(cluster, spec.rds_id, REGION),
                reader_host=bluegreen.reader_host(cluster, spec.rds_id, REGION),
                writer=self.writer,
                instances=tuple((s.id, spec.instance_host(name(s.id))) for s in spec.instances),
            )
        assert bg is not None
        cluster = spec.name if bg.switched else bg.green_cluster
        return Side(
            cluster=cluster,
            cluster_host=bluegreen.cluster_host(cluster, spec.rds_id, REGION),
            reader_host=bluegreen.reader_host(cluster, spec.rds_id, REGION),
            writer=bg.green_writer,
            instances=tuple((s.id, spec.instance_host(name(s.id))) for s in bg.green_specs),
        )

    def bg_rows(self, *, green: bool = True) -> list[dict[str, Any]]:
        """The status rows green's (or blue's) instances publish now: one per endpoint of
        both sides under their current names, with that side's status; none without a
        deployment, nor on old blue after a completed switchover."""
        bg = self.bg
        if bg is None or (not green and bg.blue_rows_cleared):
            return []
        status = bg.green_status if green else bg.blue_status
        return bluegreen.status_rows(
            self.bg_side(green=False), self.bg_side(green=True), self.spec.port, status
        )

    async def _publish_bg(self) -> None:
        """Every instance's metadata (names, topology, status rows), and MariaDB's
        per-instance ``mysql.rds_topology``."""
        self.publish_all()
        bg = self.bg
        views: dict[str, list[dict[str, Any]]] = {}
        for instance_id in self.instance_ids():
            if instance_id in self.down or instance_id in self.rejoining:
                continue
            is_green = bg is not None and bg.green_spec(instance_id) is not None
            views[instance_id] = self.bg_rows(green=is_green)
        try:
            await asyncio.to_thread(self.backend.publish_blue_green, views)
        except ServerError as exc:  # an instance went away meanwhile: logged, not fatal
            self.log(f"publishing the blue/green status rows failed: {exc}")

    def _names_changed(self) -> None:
        if self.on_names_changed is not None:
            self.on_names_changed()

    def _plan_green(self, suffix: str) -> tuple[InstanceSpec, ...]:
        """Green's instances: one per blue instance, on ``127.0.S.(100 + i)`` and the
        cluster's port, each with a free server port and a directory of its own."""
        specs = []
        for blue in self.spec.instances:
            index = bluegreen.GREEN_ADDRESS_OFFSET + blue.index
            address = f"127.0.{self.spec.slot}.{index}"
            if not _bindable([address], self.spec.port):
                raise ServerError(f"{address}:{self.spec.port} is busy; no room for green")
            green_id = f"{blue.id}{suffix}"
            specs.append(
                InstanceSpec(
                    id=green_id,
                    index=blue.index,
                    address=address,
                    port=self.spec.port,
                    server_port=free_port(),
                    base_dir=self.state_dir / "instances" / green_id,
                )
            )
        return tuple(specs)

    async def bg_create(self, suffix: str | None = None) -> dict[str, Any]:
        """A green cluster replicating from blue: as many instances as blue has, cloned
        from blue's writer and streaming from it, each behind its own proxy, with green
        names in the hosts file and the status rows (``AVAILABLE``) on every instance of
        both sides. ``suffix``: ``-green-xxxxxx`` (default: a random one)."""
        async with self._lock:
            if self.bg is not None:
                raise ServerError(
                    f"blue/green deployment {self.bg.id} exists already (green cluster "
                    f"{self.bg.green_cluster}); delete it first"
                )
            if self.spec.is_global:
                raise ServerError("blue/green deployments of a global database are not emulated")
            await self.wait_rejoins()
            if self.down:
                raise ServerError(f"instances {sorted(self.down)} are stopped; reset first")
            suffix = bluegreen.check_suffix(suffix) if suffix else bluegreen.new_suffix()
            started = time.monotonic()
            specs = self._plan_green(suffix)
            green_writer = f"{self.writer}{suffix}"
            bg = Deployment(
                id=bluegreen.new_deployment_id(),
                suffix=suffix,
                green_cluster=f"{self.spec.name}{suffix}",
                green_specs=specs,
                source_of={f"{s.id}{suffix}": s.id for s in self.spec.instances},
                green_writer=green_writer,
                created_at=time.time(),
            )
            self.log(
                f"blue/green deployment {bg.id}: creating green cluster {bg.green_cluster} "
                f"({len(specs)} instances, from {self.writer})"
            )
            self.bg = bg
            try:
                # green's metadata first: the clones start with it in their data directory
                for s in specs:
                    self.faults[s.id] = HEALTHY
                    self.backend.publish_metadata(s.id, self.metadata_for(s.id))
                await asyncio.to_thread(self.backend.add_replicas, specs, self.writer)
                for s in specs:
                    await self._start_proxy(s)
                if self.bg_access_denied:  # MariaDB's green starts from a template with it
                    await asyncio.to_thread(self.backend.set_bg_access, bg.green_ids, False)
                await self._publish_bg()
                self.write_hosts()
            except BaseException:
                await self._drop_green(bg)
                raise
            self._names_changed()
            seconds = time.monotonic() - started
            self.log(f"green cluster {bg.green_cluster} created in {seconds:.1f} s")
            result = self.bg_status()
            assert result is not None
            result["create_s"] = round(seconds, 3)
            return result

    async def bg_delete(self) -> dict[str, Any]:
        """Stop and remove green (servers, proxies, names, status rows); idempotent. A
        running switchover is stopped first; after one, blue gets its names back and takes
        writes again (green, with whatever was written there, is gone: a harness
        convenience; on RDS both environments stay)."""
        await self._bg_stop_task()
        async with self._lock:
            bg = self.bg
            if bg is None:
                return {"deleted": None}
            started = time.monotonic()
            await self._drop_green(bg)
            seconds = time.monotonic() - started
            self.log(f"blue/green deployment {bg.id} deleted in {seconds:.1f} s")
            return {
                "deleted": bg.id,
                "green_cluster": bg.green_cluster,
                "delete_s": round(seconds, 3),
            }

    async def _bg_stop_task(self) -> None:
        task = self._bg_task
        if task is not None and not task.done():
            self._bg_cancel.set()
            await asyncio.gather(task, return_exceptions=True)
        self._bg_cancel.clear()

    async def _drop_green(self, bg: Deployment) -> None:
        """Forget green first (names and rows go at once), then stop and delete it; blue
        takes writes again and stops logging statements if a switchover touched it."""
        self.bg = None
        self.write_hosts()
        await self._publish_bg()
        self._names_changed()
        if bg.switchover is not None:
            await self._bg_resume_blue()
            try:
                blue = [s.id for s in self.spec.instances if s.id not in self.down]
                await asyncio.to_thread(self.backend.statement_log, blue, False)
            except ServerError as exc:
                self.log(f"turning blue's statement log off failed: {exc}")
        for s in bg.green_specs:
            proxy = self.proxies.pop(s.id, None)
            if proxy is not None:
                await proxy.stop()
            self.faults.pop(s.id, None)
        await asyncio.to_thread(self.backend.remove, bg.green_ids)
        async with self._bg_changed:
            self._bg_changed.notify_all()

    def bg_status(self) -> dict[str, Any] | None:
        """The deployment: id, status (overall and per side), both sides' names now and
        their instances, the name table, what the hosts file answers for every name of the
        deployment, each side's status rows, and the last switchover's record."""
        bg = self.bg
        if bg is None:
            return None
        blue, green = self.bg_side(green=False), self.bg_side(green=True)
        blue_json, green_json = blue.to_json(), green.to_json()
        for item in blue_json["instances"]:
            item["name"] = self.presented_id(item["id"])
        for item in green_json["instances"]:
            s = bg.green_spec(item["id"])
            assert s is not None
            proxy = self.proxies.get(s.id)
            item.update(
                name=self.presented_id(s.id),
                role="writer" if s.id == bg.green_writer else "reader",
                source=bg.source_of[s.id],
                address=s.address,
                port=s.port,
                server_port=s.server_port,
                fault=str(self.faults.get(s.id, HEALTHY)),
                connections=proxy.active_connections if proxy is not None else 0,
            )
        from .names import parse

        try:
            hosts = parse(self.hosts_path.read_text())
        except OSError:
            hosts = {}
        spec = self.spec
        every_name = {
            bluegreen.cluster_host(c, spec.rds_id, REGION)
            for c in (spec.name, spec.name + OLD_SUFFIX, bg.green_cluster)
        }
        every_name |= {
            bluegreen.reader_host(c, spec.rds_id, REGION)
            for c in (spec.name, spec.name + OLD_SUFFIX, bg.green_cluster)
        }
        for s in spec.instances:
            every_name |= {spec.instance_host(s.id), spec.instance_host(s.id + OLD_SUFFIX)}
        every_name |= {spec.instance_host(i) for i in bg.green_ids}
        return {
            "id": bg.id,
            "status": bg.status.value,
            "sides": {
                "blue": None if bg.blue_rows_cleared else bg.blue_status.value,
                "green": bg.green_status.value,
            },
            "suffix": bg.suffix,
            "created_at": bg.created_at,
            "switched": bg.switched,
            "dns_switched": bg.dns_switched,
            "blue": blue_json,
            "green": green_json,
            "names": {
                **{s.id: self.presented_id(s.id) for s in spec.instances},
                **{i: self.presented_id(i) for i in bg.green_ids},
            },
            "dns": {name: list(hosts.get(name, ())) for name in sorted(every_name)},
            "rows": self.bg_rows(green=True),
            "rows_by_side": {"blue": self.bg_rows(green=False), "green": self.bg_rows()},
            "switchover": bg.switchover.to_json() if bg.switchover is not None else None,
            "access_denied": self.bg_access_denied,
        }

    async def bg_switchover(
        self,
        *,
        rollback: bool = False,
        slow: bool = False,
        timings: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        """Start a switchover in the background (see :meth:`_switchover`); returns
        :meth:`bg_status` at once. :meth:`bg_wait` waits for a status or the end."""
        bg = self.bg
        if bg is None:
            raise ServerError("no blue/green deployment; create one first (bg create)")
        if bg.switchover is not None and bg.switchover.running:
            raise ServerError(f"a switchover of {bg.id} is running already")
        if bg.switched:
            raise ServerError(
                f"{bg.id} has switched over already; delete it (bg delete) and create another"
            )
        sw = Switchover(rollback=rollback, timings=Timings.make(slow=slow, overrides=timings))
        bg.switchover = sw
        self._bg_cancel.clear()
        self._bg_task = asyncio.create_task(self._switchover(bg, sw))
        status = self.bg_status()
        assert status is not None
        return status

    async def bg_wait(self, status: str | None = None, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the running (or last) switchover has published ``status`` (on either
        side; at once if it did already), or, ``status`` None, until it has ended. Returns
        :meth:`bg_status`. ServerError: no deployment, timeout, a switchover that failed,
        or ended without reaching ``status`` (a rollback never completes)."""
        wanted = BgStatus(status).value if status is not None else None

        def reached() -> bool:
            bg = self.bg
            if bg is None or bg.switchover is None:
                return True
            sw = bg.switchover
            return not sw.running or (wanted is not None and wanted in sw.statuses)

        try:
            async with self._bg_changed:
                await asyncio.wait_for(self._bg_changed.wait_for(reached), timeout)
        except TimeoutError:
            now = self.bg.status.value if self.bg is not None else None
            what = wanted or "the end of the switchover"
            raise ServerError(
                f"blue/green: {what} not reached within {timeout:.1f} s (status now {now})"
            ) from None
        bg = self.bg
        if bg is None:
            raise ServerError("no blue/green deployment (deleted meanwhile?)")
        sw = bg.switchover
        if sw is None:
            if wanted is None or wanted == bg.status.value:
                result = self.bg_status()
                assert result is not None
                return result
            raise ServerError(f"no switchover has run; the status is {bg.status.value}")
        if sw.error is not None:
            raise ServerError(f"the switchover failed: {sw.error}")
        if wanted is not None and wanted not in sw.statuses:
            raise ServerError(f"the switchover ended ({sw.outcome}) without reaching {wanted}")
        result = self.bg_status()
        assert result is not None
        return result

    async def _bg_sleep(self, seconds: float) -> None:
        """Sleep, unless (or until) the switchover is cancelled: then _Cancelled."""
        if self._bg_cancel.is_set():
            raise _Cancelled
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._bg_cancel.wait(), seconds)
        except TimeoutError:
            return
        raise _Cancelled

    async def _bg_publish(
        self, bg: Deployment, sw: Switchover, status: BgStatus, note: str = ""
    ) -> None:
        """Both sides publish ``status``."""
        bg.blue_status = bg.green_status = status
        sw.statuses.append(status.value)
        event = sw.event(status.value + (f" ({note})" if note else ""))
        await self._publish_bg()
        self.log(f"blue/green {bg.id}: +{event['offset_s']:.2f} s {event['event']}")
        async with self._bg_changed:
            self._bg_changed.notify_all()

    async def _bg_event(self, bg: Deployment, sw: Switchover, what: str) -> None:
        event = sw.event(what)
        self.log(f"blue/green {bg.id}: +{event['offset_s']:.2f} s {what}")
        async with self._bg_changed:
            self._bg_changed.notify_all()

    async def _switchover(self, bg: Deployment, sw: Switchover) -> None:
        """The switchover, phase by phase (the statuses published on both sides):

        1. ``SWITCHOVER_INITIATED`` for ``initiated_s``; blue's instances log every
           statement from now on (the evidence :meth:`bg_statements` reads).
        2. ``SWITCHOVER_IN_PROGRESS``: blue's proxies reset every connection and refuse
           new ones; the servers end every
           client session; blue's writer turns read-only; then each green instance catches
           up with blue's last write. Rollback: after ``in_progress_s``, blue takes writes
           and connections again, rows back to ``AVAILABLE``, green still replicating.
           Otherwise green's readers stop replicating from blue, green's writer is promoted,
           its readers follow it, and the names are swapped (metadata, IAM, hosts file: the
           ``-old1`` names appear; blue's names keep their old addresses for
           ``dns_lag_s``, green's names stay as long).
        3. ``SWITCHOVER_IN_POST_PROCESSING`` once ``in_progress_s`` has passed: old blue
           accepts connections again (read-only, no longer replicating to green); DNS
           follows ``dns_lag_s`` after the renames; ``post_s`` later:
        4. ``SWITCHOVER_COMPLETED`` on green; old blue's table is emptied.
        """
        t = sw.timings
        spec = self.spec
        blue_ids = [s.id for s in spec.instances]
        try:
            async with self._lock:
                await self.wait_rejoins()
                if self.down:
                    raise ServerError(f"instances {sorted(self.down)} are stopped; reset first")
                kind = "rollback" if sw.rollback else "switchover"
                self.log(f"blue/green {bg.id}: {kind} starts ({t.to_json()})")
                await self._bg_publish(bg, sw, BgStatus.SWITCHOVER_INITIATED)
                initiated_at = time.monotonic()
                sw.log_offsets = await asyncio.to_thread(self.backend.statement_log, blue_ids, True)
                await self._bg_sleep(initiated_at + t.initiated_s - time.monotonic())

                await self._bg_publish(bg, sw, BgStatus.SWITCHOVER_IN_PROGRESS)
                in_progress_at = time.monotonic()
                for instance in blue_ids:
                    self.proxies[instance].set_fault(Fault(FaultKind.REJECT))
                await asyncio.gather(
                    *(asyncio.to_thread(self.backend.cut_sessions, i) for i in blue_ids)
                )
                await asyncio.to_thread(self.backend.set_writable, self.writer, False)
                sw.writes_stopped_position = await asyncio.to_thread(
                    self.backend.position, self.writer
                )
                sw.writes_stopped_at = time.time()
                await self._bg_event(
                    bg,
                    sw,
                    f"blue stopped taking writes: connections cut, {self.writer} read-only "
                    f"at {sw.writes_stopped_position}",
                )
                await asyncio.gather(
                    *(
                        asyncio.to_thread(self.backend.wait_caught_up, g, self.writer, 30.0)
                        for g in bg.green_ids
                    )
                )
                await self._bg_event(bg, sw, "green caught up with blue")
                if sw.rollback:
                    await self._bg_sleep(in_progress_at + t.in_progress_s - time.monotonic())
                    await self._bg_resume_blue()
                    await self._bg_event(bg, sw, "rolled back: blue takes writes again")
                    await self._bg_publish(bg, sw, BgStatus.AVAILABLE, "rolled back")
                    sw.outcome = "rolled back"
                    return
                await asyncio.gather(  # nothing more from blue
                    *(asyncio.to_thread(self.backend.detach, r) for r in bg.green_readers)
                )
                await asyncio.to_thread(self.backend.promote, bg.green_writer)
                await self._bg_event(bg, sw, f"green writer {bg.green_writer} promoted")
                await asyncio.gather(
                    *(
                        asyncio.to_thread(self.backend.follow, r, bg.green_writer)
                        for r in bg.green_readers
                    )
                )
                if bg.green_readers:
                    await self._bg_event(bg, sw, "green readers follow the green writer")
                bg.switched = True
                self.write_hosts()
                await self._publish_bg()
                self._names_changed()
                renamed_at = time.monotonic()
                await self._bg_event(
                    bg,
                    sw,
                    f"renamed: {bg.green_cluster} -> {spec.name}, {spec.name} -> "
                    f"{spec.name}{OLD_SUFFIX} (DNS lags {t.dns_lag_s:g} s)",
                )
                await self._bg_sleep(in_progress_at + t.in_progress_s - time.monotonic())
                for instance in blue_ids:  # old blue: reachable again, read-only
                    self.proxies[instance].set_fault(self.faults[instance])
                await self._bg_publish(bg, sw, BgStatus.SWITCHOVER_IN_POST_PROCESSING)
                await self._bg_sleep(renamed_at + t.dns_lag_s - time.monotonic())
                bg.dns_switched = True
                self.write_hosts()
                await self._bg_event(bg, sw, "DNS updated: blue's names answer green's addresses")
                await self._bg_sleep(t.post_s)
                bg.blue_rows_cleared = True
                await self._bg_publish(bg, sw, BgStatus.SWITCHOVER_COMPLETED)
                sw.outcome = "completed"
        except _Cancelled:
            sw.outcome = "cancelled"
            self.log(f"blue/green {bg.id}: switchover cancelled")
        except Exception as exc:
            sw.outcome = "failed"
            sw.error = str(exc) or type(exc).__name__
            self.log(f"blue/green {bg.id}: switchover failed: {sw.error}")
            if not bg.switched and self.bg is bg:  # blue takes writes again, rows AVAILABLE
                try:
                    await self._bg_resume_blue()
                    bg.blue_status = bg.green_status = BgStatus.AVAILABLE
                    await self._publish_bg()
                except Exception as undo:  # reported; the daemon lives on
                    self.log(f"blue/green {bg.id}: undoing the failed switchover: {undo}")
        finally:
            if sw.outcome is None:
                sw.outcome = "cancelled"
            async with self._bg_changed:
                self._bg_changed.notify_all()

    async def _bg_resume_blue(self) -> None:
        """Blue's writer takes writes, blue's proxies take connections again."""
        await asyncio.to_thread(self.backend.set_writable, self.writer, True)
        for s in self.spec.instances:
            self.proxies[s.id].set_fault(self.faults[s.id])

    async def bg_statements(self, since: float | None = None) -> list[dict[str, Any]]:
        """Every statement blue's instances received since ``since`` (epoch seconds;
        default: when blue stopped taking writes in the last switchover), oldest first:
        ``{"instance", "at", "user", "statement"}``. Blue logs statements from the
        start of ``SWITCHOVER_INITIATED`` on, until the deployment is deleted."""
        bg = self.bg
        sw = bg.switchover if bg is not None else None
        if sw is None or sw.writes_stopped_at is None:
            raise ServerError("no switchover has stopped blue's writes yet")
        start = sw.writes_stopped_at if since is None else float(since)
        found: list[dict[str, Any]] = []
        for s in self.spec.instances:
            if s.id in self.down:
                continue
            rows = await asyncio.to_thread(
                self.backend.statements, s.id, sw.log_offsets.get(s.id, 0), start
            )
            found += [{"instance": s.id, **row} for row in rows]
        found.sort(key=lambda r: float(r["at"]))
        return found

    async def bg_permissions(self, allow: bool) -> dict[str, Any]:
        """Grant (``allow``) or revoke the app user's access to the blue/green metadata
        (PostgreSQL: EXECUTE on ``get_blue_green_fast_switchover_metadata``; MariaDB:
        SELECT on ``mysql.rds_topology``) on every instance, for good until changed back
        or ``reset``: what a client sees on an engine version without it, or without the
        grant."""
        async with self._lock:
            ids = [i for i in self.instance_ids() if i not in self.down]
            await asyncio.to_thread(self.backend.set_bg_access, ids, allow)
            self.bg_access_denied = not allow
            self.log(f"blue/green metadata: app user access {'granted' if allow else 'revoked'}")
            return {"access_denied": self.bg_access_denied}

    # -- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        instances = []
        for s in self.spec.instances:
            if s.id in self.down:
                state = "stopped"
            elif s.id in self.rejoining:
                state = "rejoining"
            else:
                state = "running"
            instances.append(
                {
                    "id": s.id,
                    "role": "writer" if s.id == self.writer else "reader",
                    "state": state,
                    "host": self.spec.instance_host(self.presented_id(s.id)),
                    "address": s.address,
                    "port": s.port,
                    "server_port": s.server_port,
                    "region": self.spec.region_of(s.id),
                    "fault": str(self.faults[s.id]),
                    "connections": self.proxies[s.id].active_connections
                    if s.id in self.proxies
                    else 0,
                }
            )
        return {
            "name": self.spec.name,
            "engine": self.spec.engine.value,
            "cluster_host": self.spec.cluster_host,
            "reader_host": self.spec.reader_host,
            "instance_template": self.spec.instance_template,
            "port": self.spec.port,
            "writer": self.writer,
            "dns": {
                "frozen": self.dns_frozen,
                "cluster": self.dns_cluster_target,
                "hosts_file": str(self.hosts_path),
            },
            "instances": instances,
            "topology_edits": self.edits.to_json(),
            "last_failover": self.last_failover,
            "blue_green": self.bg_status(),
            "global": self.global_status(),
            "limitless": self.limitless_status(),
        }

    async def check(self) -> dict[str, Any]:
        """Roles and replication as the servers report them (for tests and `status`)."""
        report: dict[str, Any] = {}
        green = self.bg.green_specs if self.bg is not None else ()
        for s in (*self.spec.instances, *green):
            if s.id in self.down or s.id in self.rejoining:
                report[s.id] = {"role": None, "replicating": None}
                continue
            role = await asyncio.to_thread(self.backend.server_role, s.id)
            replicating = (
                None
                if role is Role.WRITER
                else await asyncio.to_thread(self.backend.replicating, s.id)
            )
            report[s.id] = {"role": role.value, "replicating": replicating}
        return report


def _row(data: dict[str, Any]) -> TopologyRow:
    return TopologyRow(
        server_id=str(data["server_id"]),
        session_id=str(data.get("session_id") or f"{data['server_id']}-session"),
        cpu=float(data.get("cpu", 1.0)),
        replica_lag_in_msec=(
            None if data.get("replica_lag_in_msec") is None else float(data["replica_lag_in_msec"])
        ),
        age_s=float(data.get("age_s", 0.0)),
    )


def parse_fault(kind: str, latency_ms: int | None = None) -> Fault:
    try:
        fault_kind = FaultKind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in FaultKind)
        raise ValueError(f"unknown fault {kind!r}; valid: {valid}") from None
    if fault_kind is FaultKind.LATENCY:
        if latency_ms is None or latency_ms < 0:
            raise ValueError("latency needs a number of milliseconds >= 0")
        return Fault(fault_kind, latency_ms)
    return Fault(fault_kind)


def dumps(data: Any) -> str:
    return json.dumps(data, default=str)
