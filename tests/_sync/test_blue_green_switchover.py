# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_blue_green_switchover.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""``bg`` end to end: applications writing through ``bg,failover_v2`` across a real devcluster
blue/green switchover (``cluster.bg_switchover(wait=False)``), both engines, both trees (tasks
in the async tree, threads in the sync one), beside the same workload through ``failover_v2`` alone;
a rolled-back switchover; a user without the right to read the status.

Evidence comes from the servers: the rows on green (through the blue names, which are green's
after the switchover, and on green's promoted writer directly), and the statements old blue
received after it stopped taking writes (``cluster.bg_statements()``; the log also has the
harness' and the monitors' statements: only the application user's on the workload's table
count).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._compat import Worker, sleep, spawn
from aws_wrapper._sync.plugins.blue_green import BlueGreenPlugin, blue_green_providers
from aws_wrapper.blue_green import Phase
from aws_wrapper.errors import (
    BlueGreenTimeoutError,
    FailoverSuccessError,
    TransactionResolutionUnknownError,
)
from aws_wrapper.sync import AwsWrapperConnection
from aws_wrapper_devcluster import Cluster

from .cluster import ENGINE_OF, instance_of

WORKERS = 8
"""Writers per workload (both workloads run side by side in one switchover); the odd ones
connect afresh for every row."""
PROBES = 3
"""New connections started the moment the switchover is IN_PROGRESS."""

TIMINGS = {"initiated_s": 1.0, "in_progress_s": 1.0, "dns_lag_s": 1.5, "post_s": 0.5}
"""The switchover's phases, shortened (defaults: 1.5, >= 1, 2.5, 0.5 s)."""
BG = {
    "bg_interval_baseline_ms": 1000,
    "bg_interval_increased_ms": 200,
    "bg_interval_high_ms": 50,
    "bg_connect_timeout_ms": 15000,
}
AFTER_S = 1.5
"""The workloads go on this long after the switchover has ended."""

DOCUMENTED = {
    FailoverSuccessError.__name__,
    TransactionResolutionUnknownError.__name__,
    BlueGreenTimeoutError.__name__,
}
"""What an application writing through bg,failover_v2 may see during a switchover: its
connection replaced by failover (re-run the statement / the transaction), or a hold that
lasted too long."""

READ_ONLY = re.compile(r"read.only", re.IGNORECASE)


def one_per_engine() -> pytest.MarkDecorator:
    return pytest.mark.parametrize("driver", ["psycopg", "pymysql"])


def new_bg_id() -> str:
    return f"so{uuid.uuid4().hex[:10]}"


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:160] if lines else ""


@dataclass
class Workload:
    """What one workload's writers saw."""

    name: str
    table: str
    params: dict[str, Any]
    acked: list[int] = field(default_factory=list)
    ack_times: dict[int, list[float]] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    refused_read_only: int = 0
    connects: int = 0
    stop: bool = False
    workers: list[Worker] = field(default_factory=list)

    def longest_stall(self, since: float, until: float) -> float:
        """The longest time a writer went without an acknowledged commit in [since, until]."""
        longest = 0.0
        for times in self.ack_times.values():
            marks = [since, *(t for t in times if since < t < until), until]
            longest = max(longest, *(b - a for a, b in pairwise(marks)))
        return longest

    def error_kinds(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for kind, _ in self.errors:
            kinds[kind] = kinds.get(kind, 0) + 1
        return kinds


def make_table(cluster: Cluster, driver: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = aw.connect(driver=driver, plugins="", **cluster.conn_params())
    try:
        conn.set_autocommit(True)
        conn.execute(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, worker INT)")
    finally:
        conn.close()
    return name


def discard(conn: AwsWrapperConnection | None) -> None:
    if conn is None:
        return
    try:
        conn.close()
    except aw.Error:
        pass


def writer(load: Workload, driver: str, n: int) -> None:
    """Connect if needed, insert a row with a new id, commit; again, until told to stop. An
    error other than failover's (the connection replaced) drops the connection, as a pool
    would. Odd-numbered writers connect afresh for every row (short-lived clients: they
    meet the DNS of the moment)."""
    fresh = n % 2 == 1
    conn: AwsWrapperConnection | None = None
    next_id = (n + 1) * 1_000_000
    try:
        while not load.stop:
            try:
                if conn is None:
                    load.connects += 1
                    conn = aw.connect(driver=driver, **load.params)
                next_id += 1
                conn.execute(f"INSERT INTO {load.table} (id, worker) VALUES ({next_id}, {n})")
                conn.commit()
                load.acked.append(next_id)
                load.ack_times[n].append(time.monotonic())
                if fresh:
                    discard(conn)
                    conn = None
            except Exception as e:  # recorded, judged by the test
                load.errors.append((type(e).__name__, first_line(e)))
                if READ_ONLY.search(str(e)):
                    load.refused_read_only += 1
                if not isinstance(e, FailoverSuccessError | TransactionResolutionUnknownError):
                    discard(conn)
                    conn = None
                    sleep(0.05)
            sleep(0.01)
    finally:
        discard(conn)


def start(load: Workload, driver: str, count: int) -> None:
    load.ack_times = {n: [] for n in range(count)}
    load.workers = [spawn(writer, load, driver, n, name=f"{load.name}-{n}") for n in range(count)]


def stop(load: Workload) -> None:
    load.stop = True
    for worker in load.workers:
        assert worker.join(30), f"a {load.name} writer did not stop"


def wait_for(what: Any, timeout: float = 20.0, message: str = "timed out") -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, message
        sleep(0.02)


def ids_in(
    driver: str, params: dict[str, Any], table: str, identify: bool = True
) -> tuple[set[int], str | None]:
    """The ids in ``table`` and (``identify``) the instance that answered (a MariaDB server
    reached directly, not through the devcluster's relay, has no ``@@aurora_server_id``)."""
    conn = aw.connect(driver=driver, **{**params, "plugins": ""})
    try:
        where = instance_of(conn) if identify else None
        cur = conn.execute(f"SELECT id FROM {table}")
        found = {int(r[0]) for r in cur.fetchall()}
        conn.rollback()
        return found, where
    finally:
        conn.close()


def app_statements_on(statements: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
    """The application user's statements about ``table`` (not the harness', not the
    monitors')."""
    return [s for s in statements if s["user"] == "app" and table in s["statement"]]


@dataclass
class Probe:
    """A new connection by the blue cluster name, started in IN_PROGRESS."""

    started: float = 0.0
    connected: float = 0.0
    error: str | None = None
    row: int | None = None
    conn: AwsWrapperConnection | None = None
    instance: str | None = None


def probe(p: Probe, driver: str, params: dict[str, Any], table: str, row: int) -> None:
    p.started = time.monotonic()
    try:
        conn = aw.connect(driver=driver, **params)
        p.connected = time.monotonic()
        p.conn = conn
        conn.execute(f"INSERT INTO {table} (id, worker) VALUES ({row}, -1)")
        conn.commit()
        p.row = row
    except Exception as e:
        p.error = f"{type(e).__name__}: {first_line(e)}"


# -- the switchover under load ------------------------------------------------------------------


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_writers_across_a_switchover_bg_beside_failover_alone(
    request: pytest.FixtureRequest, driver: str
) -> None:
    """WORKERS writers through bg,failover_v2 and WORKERS through failover_v2 alone, side by
    side, across one switchover; PROBES new connects the moment it is IN_PROGRESS; one call
    started on an idle connection while IN_PROGRESS."""
    engine = ENGINE_OF[driver]
    cluster: Cluster = request.getfixturevalue(f"devcluster_{engine}_bg")
    before = cluster.bg_status()
    assert before is not None
    green_ids = [i["id"] for i in before["green"]["instances"]]
    green_writer = before["green"]["writer"]
    bg_id = new_bg_id()
    common = {**cluster.conn_params(), "connect_timeout": 5, "failover_timeout_sec": 20}
    bg = Workload(
        "bg",
        make_table(cluster, driver, "bgw"),
        {**common, "plugins": "bg,failover_v2", "bg_id": bg_id, **BG},
    )
    plain = Workload(
        "failover", make_table(cluster, driver, "fow"), {**common, "plugins": "failover_v2"}
    )

    # the provider sees the deployment (CREATED) and has recorded both sides
    idle = aw.connect(driver=driver, **bg.params)
    (plugin,) = [p for p in idle._service.manager.plugins if isinstance(p, BlueGreenPlugin)]
    (provider,) = [p for p in blue_green_providers() if p.bg_id == bg_id]
    wait_for(
        lambda: (
            provider.phase is Phase.CREATED and all(m.start_ips for m in provider.monitors.values())
        ),
        message="the provider did not see the deployment",
    )
    phases: list[tuple[Phase, float]] = [(provider.phase, time.monotonic())]
    watching = {"on": True}

    def watch() -> None:
        while watching["on"]:
            if provider.phase is not phases[-1][0]:
                phases.append((provider.phase, time.monotonic()))
            sleep(0.005)

    watcher = spawn(watch, name="phase-watch")
    start(bg, driver, WORKERS)
    start(plain, driver, WORKERS)
    wait_for(
        lambda: all(bg.ack_times[n] and plain.ack_times[n] for n in range(WORKERS)),
        message="the writers did not start",
    )
    probes = [Probe() for _ in range(PROBES)]
    probe_workers: list[Worker] = []
    held_call: dict[str, Any] = {}
    try:
        began = time.monotonic()
        cluster.bg_switchover(wait=False, timings=TIMINGS)
        cluster.bg_wait("SWITCHOVER_IN_PROGRESS", 60)
        for k, p in enumerate(probes):
            probe_workers.append(
                spawn(probe, p, driver, bg.params, bg.table, 900_000_000 + k, name=f"probe-{k}")
            )
        # a call on a connection idle on blue, started while the provider holds calls
        wait_for(lambda: provider.hold_calls, message="calls never held")
        held_call["started"] = time.monotonic()
        try:
            instance_of(idle)
        except Exception as e:
            held_call["error"] = type(e).__name__
        held_call["ended"] = time.monotonic()
        held_call["held_s"] = plugin.last_hold_s
        done = cluster.bg_wait(None, 60)
        ended = time.monotonic()
        sleep(AFTER_S)
    finally:
        stop(bg)
        stop(plain)
        for w in probe_workers:
            w.join(30)
        for p in probes:  # where each probe is, now that the renames are done
            if p.conn is not None:
                try:
                    p.instance = instance_of(p.conn)
                except aw.Error as e:
                    p.error = p.error or f"{type(e).__name__}: {first_line(e)}"
                discard(p.conn)
        watching["on"] = False
        watcher.join(5)
        discard(idle)
    until = time.monotonic()
    switchover = done["switchover"]
    assert switchover["outcome"] == "completed", switchover

    # -- figures ----------------------------------------------------------------------------
    statements = cluster.bg_statements()
    on_old_blue = {
        load.name: [
            s
            for s in app_statements_on(statements, load.table)
            if "insert" in s["statement"].lower()
        ]
        for load in (bg, plain)
    }
    figures: dict[str, dict[str, Any]] = {
        load.name: {
            "acked": len(load.acked),
            "errors": len(load.errors),
            "kinds": load.error_kinds(),
            "refused_read_only": load.refused_read_only,
            "inserts_on_old_blue": len(on_old_blue[load.name]),
            "longest_stall_s": round(load.longest_stall(began, until), 2),
            "connects": load.connects,
        }
        for load in (bg, plain)
    }
    offsets = [(ph.name, round(t - began, 2)) for ph, t in phases]
    print(f"\n[{engine} {'sync'} x{WORKERS}] switchover {ended - began:.1f} s")
    print(f"  provider phases (s from start): {offsets}")
    events = [(e["event"], round(e["offset_s"], 2)) for e in switchover["events"]]
    print(f"  devcluster steps (s from its start): {events}")
    for name, f in figures.items():
        print(f"  {name}: {f}")
    print(f"  held call: {held_call}")
    print(f"  probes: {[(round(p.connected - p.started, 2), p.error) for p in probes]}")

    # -- bg: nothing lost, nothing on old blue, only documented errors ------------------------
    assert bg.acked and plain.acked
    unexpected = [e for e in bg.errors if e[0] not in DOCUMENTED]
    assert not unexpected, unexpected[:10]
    assert on_old_blue["bg"] == [], on_old_blue["bg"][:5]
    after = cluster.bg_status()
    assert after is not None
    now_names = after["names"]
    green_now = {now_names[g] for g in green_ids}
    expected = set(bg.acked) | {p.row for p in probes if p.row is not None}
    on_green, where = ids_in(driver, cluster.conn_params(), bg.table)
    assert where in green_now, (where, green_now)  # the blue name is green's now
    assert not expected - on_green, sorted(expected - on_green)[:10]
    pg = engine == "pg"
    direct, where = ids_in(driver, cluster.direct_params(green_writer), bg.table, pg)
    assert where == (now_names[green_writer] if pg else None)
    assert not expected - direct

    # the probes: held while IN_PROGRESS, then made to green
    in_progress = [t for ph, t in phases if ph is Phase.IN_PROGRESS]
    left = [t for ph, t in phases if ph > Phase.IN_PROGRESS]
    assert in_progress and left, offsets
    for p in probes:
        assert p.error is None and p.row is not None, p.error
        assert p.connected >= left[0] - 0.05, (p.connected - began, offsets)
        assert p.instance in green_now, p.instance
    # the call held across IN_PROGRESS went on promptly once the phase ended
    assert held_call["held_s"] > 0
    hold_end = held_call["started"] + held_call["held_s"]
    assert hold_end - left[0] < 0.5, (held_call, offsets)
    assert held_call.get("error") in (None, *DOCUMENTED), held_call

    # -- what bg prevents (failover_v2 alone, same switchover) --------------------------------
    assert figures["bg"]["errors"] <= figures["failover"]["errors"], figures
    assert figures["bg"]["inserts_on_old_blue"] == 0
    # failover_v2 alone loses nothing acknowledged either (it only fails more)
    plain_green, _ = ids_in(driver, cluster.conn_params(), plain.table)
    assert not set(plain.acked) - plain_green


# -- rollback -----------------------------------------------------------------------------------


@one_per_engine()
def test_rollback_keeps_the_application_on_blue(
    request: pytest.FixtureRequest, driver: str
) -> None:
    engine = ENGINE_OF[driver]
    cluster: Cluster = request.getfixturevalue(f"devcluster_{engine}_bg")
    blue_writer = cluster.writer
    bg_id = new_bg_id()
    load = Workload(
        "bg-rollback",
        make_table(cluster, driver, "bgr"),
        {
            **cluster.conn_params(),
            "connect_timeout": 5,
            "failover_timeout_sec": 20,
            "plugins": "bg,failover_v2",
            "bg_id": bg_id,
            **BG,
        },
    )
    first = aw.connect(driver=driver, **load.params)
    (provider,) = [p for p in blue_green_providers() if p.bg_id == bg_id]
    wait_for(
        lambda: (
            provider.phase is Phase.CREATED and all(m.start_ips for m in provider.monitors.values())
        )
    )
    count = 5
    start(load, driver, count)
    wait_for(lambda: all(load.ack_times[n] for n in range(count)))
    seen: set[Phase] = set()
    try:
        began = time.monotonic()
        cluster.bg_switchover(
            rollback=True,
            wait=False,
            timings={"initiated_s": 1.0, "in_progress_s": 1.0},
        )
        while True:
            seen.add(provider.phase)
            status = cluster.bg_status()
            if status is None or not status["switchover"]["running"]:
                break
            sleep(0.05)
        ended = time.monotonic()
        wait_for(lambda: provider.phase is Phase.CREATED, message="no rollback seen")
        sleep(AFTER_S)
    finally:
        stop(load)
    assert status is not None and status["switchover"]["outcome"] == "rolled back"
    assert Phase.IN_PROGRESS in seen, seen
    print(
        f"\n[{engine} {'sync'} rollback] errors {load.error_kinds()}, "
        f"longest stall {load.longest_stall(began, time.monotonic()):.2f} s"
    )
    unexpected = [e for e in load.errors if e[0] not in DOCUMENTED]
    assert not unexpected, unexpected[:10]
    # writes resumed after the hold, every writer, on blue
    for n in range(count):
        assert any(t > ended for t in load.ack_times[n]), n
    try:
        assert instance_of(first) == blue_writer
    except (FailoverSuccessError, TransactionResolutionUnknownError):
        assert instance_of(first) == blue_writer  # replaced, on blue again
    finally:
        discard(first)
    found, where = ids_in(driver, cluster.conn_params(), load.table)
    assert where == blue_writer
    assert not set(load.acked) - found
    assert provider.tracker.summaries and "(rolled back)" in provider.tracker.summaries[-1]


# -- no permission ------------------------------------------------------------------------------


@one_per_engine()
def test_no_permission_one_warning_then_pass_through(
    request: pytest.FixtureRequest, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The devcluster's own switch (``bg_permissions(False)``) on a cluster with a deployment:
    one WARNING, connections pass through."""
    caplog.set_level(logging.WARNING, logger="aws_wrapper")
    engine = ENGINE_OF[driver]
    cluster: Cluster = request.getfixturevalue(f"devcluster_{engine}_bg")
    assert (cluster.bg_permissions(False))["access_denied"]
    bg_id = new_bg_id()
    params = {**cluster.conn_params(), "plugins": "bg,failover_v2", "bg_id": bg_id, **BG}
    conns = [aw.connect(driver=driver, **params) for _ in range(3)]
    try:
        (provider,) = [p for p in blue_green_providers() if p.bg_id == bg_id]
        wait_for(lambda: all(m.polls >= 2 for m in provider.monitors.values()))
        assert provider.metadata_problem in ("denied", "missing")
        assert provider.phase is Phase.NOT_CREATED and not provider.routing.roles
        for conn in conns:
            assert instance_of(conn) == cluster.writer
    finally:
        for conn in conns:
            discard(conn)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    mine = [w for w in warnings if bg_id in w]
    assert len(mine) == 1, warnings
    assert "grant" in mine[0] and "passes connections through" in mine[0]
