#!/usr/bin/env python3
"""aws_wrapper against aws-advanced-python-wrapper 3.1.0 and the raw drivers, in one run.

Seven scenarios, each measured for the raw driver, aws-advanced-python-wrapper ("peer", sync and
its ``aio`` package) and aws_wrapper ("ours", sync and aio), on the same local servers and
devclusters, in interleaved rounds (the order of the variants rotates every round):

1. per-call overhead, in paired rounds (raw, then a wrapper, back to back; which goes first
   alternates): the wrapper's own cost in microseconds per call and its ratio to the raw
   driver, each the median of the per-round figures with their interquartile range, for
   psycopg (sync, async), PyMySQL, MySQL Connector/Python (sync, async) and aiomysql, a reused
   cursor and a new cursor per statement (and a 1,000-row fetch), aws_wrapper with the default
   plugins and with none, the peer with its defaults, on a plain PostgreSQL, a plain MariaDB
   and both devclusters' writers, pinned to one CPU; a verdict against a target is *met* or
   *MISSED* only when the whole interquartile range is on one side of it, else *undecided*;
2. connect overhead: open + close with the default plugins, devcluster cluster endpoint;
3. failover: writer killed -> first successful write, ``failover_v2``;
4. dead-host detection: blackholed host -> aborted call, ``host_monitoring_v2`` 1000/500/2;
5. read/write toggle and per-request cost with internal connection pools;
6. scale: 1,000 concurrent async connections on one event loop doing ``SELECT 1``:
   throughput vs raw psycopg async, peak memory per connection, monitor connections, tasks.
7. blue/green switchover (only when asked for: ``--scenario 7``, ~6 min): writers through
   ``bg,failover_v2`` (and aws_wrapper with ``failover_v2`` alone) across a devcluster
   switchover: how long writes were held, the worst write, errors, INSERTs that reached old
   blue after it stopped taking writes (its own statement log), acknowledged writes missing
   on green, time to steady state; a writer stuck in a call is reported as hung.
8. Global Database cross-region switchover (only when asked for: ``--scenario 8``, ~3 min):
   writers through ``gdb_failover`` on the global writer endpoint of a two-region devcluster
   (cross-region latency), across a managed switchover to the other region: how long writes
   were held, the worst write, errors, acknowledged writes missing on the new writer.
9. Limitless (only when asked for: ``--scenario 9``, ~2 min): connections opened and held
   through a DB shard group endpoint of a devcluster whose transaction routers report
   different loads: connect time and how the connections spread over the routers, the raw
   driver (Route 53's round robin) against both wrappers' ``limitless`` plugins.
10. telemetry (only when asked for: ``--scenario 10``, ~2 min): scenario 1's paired rounds for
   psycopg on a plain PostgreSQL, aws_wrapper with telemetry off and on, without and with the
   OpenTelemetry SDK set up in the process.

Each implementation runs in a worker subprocess (``bench/workers``): raw drivers and aws_wrapper
in the project's venv, aws-advanced-python-wrapper in its own venv (``.bench-venv/peer``,
created here with ``python -m venv`` and ``pip install aws-advanced-python-wrapper==3.1.0`` plus
the project venv's driver versions; reused while the pins are unchanged). This process never
imports the peer. It prints progress, a table per scenario with medians and ratios, and writes
the tables into docs/benchmarks.md (between ``<!-- compare:begin -->`` and
``<!-- compare:end -->``, one sub-block per scenario, so a run of some scenarios replaces only
theirs).

A report, not a test: exits 0 whatever the figures, non-zero when something cannot run (a
server that does not start, a worker that dies). A variant that fails a run is reported as
such, with the error, and the others go on. See ``--help`` and bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import itertools
import json
import os
import platform
import queue
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from aws_wrapper_devcluster import Cluster, MariaDBServer, PostgresServer
from aws_wrapper_devcluster.client import default_state_dir, stop
from aws_wrapper_devcluster.names import ENV_VAR as HOSTS_ENV

ROOT = Path(__file__).resolve().parent.parent
WORKERS = Path(__file__).resolve().parent / "workers"
DEFAULT_PEER_VENV = ROOT / ".bench-venv" / "peer"
DEFAULT_DOCS = ROOT / "docs" / "benchmarks.md"
LOG_ROOT = ROOT / ".bench" / "compare"

PEER_PACKAGE = "aws-advanced-python-wrapper==3.1.0"
PEER_DRIVERS = (
    "psycopg",
    "psycopg-binary",
    "PyMySQL",
    "aiomysql",
    "mysql-connector-python",
    "SQLAlchemy",
)
"""Installed in the peer's venv at the versions of the project's venv (same drivers for both);
SQLAlchemy for its SqlAlchemyPooledConnectionProvider (internal pools, scenario 5)."""

BEGIN = "<!-- compare:begin -->"
END = "<!-- compare:end -->"

SCENARIOS = {
    1: "per-call overhead",
    2: "connect overhead",
    3: "failover",
    4: "dead-host detection",
    5: "read/write splitting with internal pools",
    6: "scale: 1,000 async connections",
    7: "blue/green switchover",
    8: "Global Database: cross-region switchover",
    9: "Limitless: connect cost and spread over transaction routers",
    10: "telemetry: cost per call, off and on",
}
DEFAULT_SCENARIOS = (1, 2, 3, 4, 5, 6)
"""What runs without ``--scenario``: 7 (~6 min), 8 (~3 min), 9 (~1 min) and 10 (~2 min) are
asked for by name."""
IMPLS = ("raw", "ours", "peer")
SYNC = ("raw-sync", "ours-sync", "peer-sync")
ASYNC = ("raw-async", "ours-aio", "peer-aio")
WRAPPERS = ("ours-sync", "ours-aio", "peer-sync", "peer-aio")
LABEL = {
    "raw-sync": "raw",
    "raw-async": "raw",
    "ours-sync": "aws_wrapper",
    "ours-aio": "aws_wrapper.aio",
    "peer-sync": "aws-advanced-python-wrapper",
    "peer-aio": "aws-advanced-python-wrapper aio",
}
WORLD = {v: ("sync" if v in SYNC else "async") for v in (*SYNC, *ASYNC)}
PEER_OF = {"ours-sync": "peer-sync", "ours-aio": "peer-aio"}
RAW_OF = {"ours-sync": "raw-sync", "ours-aio": "raw-async", "peer-sync": "raw-sync"}
RAW_OF["peer-aio"] = "raw-async"

OWN_COST_TARGET_US = 2.5
"""Scenario 1: aws_wrapper's own cost per call (wrapper - raw, microseconds), default plugins:
the budget is absolute (1.05 x a 50 us round trip); the ratio to raw is reported, not judged,
as it depends on how fast the server answers."""
CONNECT_TARGET = 1.10
"""Scenario 2: aws_wrapper connect / raw connect."""
FAILOVER_TARGET = 2.0
SCALE_SETTLE_S = 0.05
"""Scenario 6: seconds between opening a worker's gate and counting (its tasks resume)."""
SCALE_TARGET = 0.95
"""Scenario 6: aws_wrapper.aio throughput / raw psycopg async throughput, at least."""
S1_CELLS: dict[str, tuple[tuple[str, str], ...]] = {
    "postgresql": (("psycopg", "sync"), ("psycopg", "async")),
    "mysql": (
        ("pymysql", "sync"),
        ("mysql-connector", "sync"),
        ("aiomysql", "async"),
        ("mysql-connector", "async"),
    ),
}
"""Scenario 1's drivers per engine and world (MySQL Connector/Python blocking: pure Python)."""
DRIVER_LABEL = {
    "psycopg": "psycopg",
    "pymysql": "PyMySQL",
    "aiomysql": "aiomysql",
    "mysql-connector": "mysql-connector",
}
PATTERN_LABEL = {"reused": "reused cursor", "new": "new cursor", "rows": "1,000 rows"}
PEER_NA = {
    ("pymysql", "sync"): "aws-advanced-python-wrapper does not support PyMySQL (it does not "
    "recognize its connect function)",
    ("mysql-connector", "async"): "aws-advanced-python-wrapper's aio package has no dialect "
    "for mysql.connector.aio (it passes it psycopg's parameters)",
}
"""Why the peer has no figure for these cells; the harness tries them anyway and quotes the
error it gets (a later version that supports them would just get figures)."""
EFM = {"failure_detection_time_ms": 1000, "failure_detection_interval_ms": 500}
EFM["failure_detection_count"] = 2
EFM_WATCHDOG_S = 15.0
"""A call not aborted this long after the blackhole counts as not detected (the harness then
heals the host and the query ends on its own). aws-advanced-python-wrapper's aio package
takes ~10.7 s on PostgreSQL: psycopg's cancellation of its timed-out probe waits 5 s for the
cancel request to the blackholed host, then 5 s more before closing."""
EFM_CONNECT_TIMEOUT = {"monitoring-connect_timeout": 1}
"""aws-advanced-python-wrapper's EFM has no timeout of its own for (re)connecting its monitor and
its docs require one ("Always ensure you provide a non-zero ... connect timeout value"); 1 is
what its own EFM performance test uses. Without it, a monitor that reconnects to a blackholed
host hangs and nothing is ever aborted. Both wrappers get it (psycopg makes it 2 s)."""
FAILOVER_TIMEOUT_SEC = 20
SCALE_MAX_CONNECTIONS = 2100
"""Scenario 6 holds two sets of 1,000 connections (raw and a wrapper) at once."""
S7_PLUGINS = "bg,failover_v2"
S7_CASES = (
    ("ours-sync", S7_PLUGINS),
    ("ours-aio", S7_PLUGINS),
    ("peer-sync", S7_PLUGINS),
    ("peer-aio", S7_PLUGINS),
    ("ours-sync", "failover_v2"),
)
"""Scenario 7's variants and plugins: both wrappers with ``bg,failover_v2`` in both worlds, and
aws_wrapper with ``failover_v2`` alone (what ``bg`` adds)."""
BG_WRITERS = 4
BG_INTERVAL_S = 0.01
BG_SETTLE_S = 2.0
"""Steady writes before the switchover (both wrappers' monitors poll every second once they
have seen the deployment)."""
BG_AFTER_S = 2.0
"""The writers go on this long after the switchover has ended."""
BG_FAILOVER_TIMEOUT_SEC = 10
"""``failover_timeout_sec`` of scenario 7: a failover that finds no writer gives up within the
run (and is counted as an error) rather than outlasting it."""
BG_HUNG_S = 15.0
"""A writer's call still running this long (longer than any timeout configured: failover 10
s; a bg hold lasts until IN_PROGRESS is over, 1-3 s here) when the writers are told to stop
is hung: aws-advanced-python-wrapper 3.1.0's BlueGreenPlugin.execute re-derives its routing
from the status it read before its loop, so a call suspended in IN_PROGRESS spins forever
once the phase is over."""
BG_STEADY_GAP_S = 0.5
S8_PLUGINS = "gdb_failover"
S8_CASES = tuple((v, S8_PLUGINS) for v in WRAPPERS)
"""Scenario 8's variants and plugins: both wrappers with ``gdb_failover`` in both worlds."""
GDB_REGIONS = ("us-east-1", "us-west-2")
GDB_LATENCY_MS = 20
"""Scenario 8: added by the proxies of the instances outside the home region."""
S9_CASES = (
    ("raw-sync", ""),
    ("ours-sync", "limitless"),
    ("peer-sync", "limitless"),
    ("raw-async", ""),
    ("ours-aio", "limitless"),
    ("peer-aio", "limitless"),
)
"""Scenario 9's variants: the raw driver on the shard group endpoint (Route 53's round robin),
both wrappers with ``limitless``."""
LIMITLESS_LOADS = (0.1, 0.3, 0.5, 0.8)
"""Scenario 9: the load each transaction router reports (the last one is the most loaded)."""


def free_shares() -> list[float]:
    """Scenario 9: each router's share of the free capacity (1 - load)."""
    free = [1.0 - x for x in LIMITLESS_LOADS]
    return [f / sum(free) for f in free]


def tv_distance(counts: Sequence[float], shares: Sequence[float]) -> float:
    """Total variation distance between ``counts`` (normalised) and ``shares``: half the sum
    of the absolute differences, 0 (the same) to 1 (disjoint)."""
    total = sum(counts)
    if not total:
        return float("nan")
    return sum(abs(c / total - s) for c, s in zip(counts, shares, strict=True)) / 2


READ_ONLY = re.compile(r"read.only", re.IGNORECASE)

T = TypeVar("T")

_started = time.monotonic()


def log(message: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {message}", flush=True)


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


# -- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    calls: int
    """Scenario 1: calls per timed batch; 0: chosen per cell so that a raw batch takes
    ``batch_ms``."""
    batch_ms: float
    """Scenario 1: the length of a raw batch (a pair is two batches, timed interleaved in
    ``slices``)."""
    pair_rounds: int
    """Scenario 1: paired rounds per cell (``SELECT 1``; the 1,000-row fetch: half as many)."""
    slices: int
    """Scenario 1: each round's two batches are timed interleaved, in this many slices each
    (at least 5 calls per slice); 1: back to back."""
    rounds: int
    """Interleaved rounds of scenarios 2 and 5."""
    connects: int
    """Connects per variant per round (scenario 2)."""
    runs: int
    """Failovers / blackholes per variant and engine (scenarios 3 and 4)."""
    rw_ops: int
    """Toggles per variant per round (scenario 5); requests: a quarter."""
    connections: int
    """Concurrent connections (scenario 6)."""
    scale_rounds: int
    """Rounds of scenario 6: in each, both workers load the same time, interleaved."""
    scale_slices: int
    """Load slices per worker per round (scenario 6), interleaved with the other worker's."""
    scale_slice_s: float
    """Seconds counted per load slice (scenario 6), after a short settle."""
    switchovers: int
    """Blue/green switchovers per variant and engine (scenario 7)."""
    limitless_connects: int
    """Connections opened and held per variant and round (scenario 9)."""
    limitless_rounds: int
    """Rounds of scenario 9."""


FULL = Sizes(
    calls=0,
    # batches of ~100 ms: the CPU-time figures' spread per round is about half that of 25 ms
    # batches (docs/benchmarks.md, issue 16), which the verdict against 2.5 us needs
    batch_ms=100.0,
    pair_rounds=20,
    # ~5 ms slices: the per-round CPU differences spread about a third as wide as with two
    # 100 ms batches back to back (PyMySQL new cursor: interquartile range 1.5-1.8 us -> 0.6)
    slices=20,
    rounds=15,
    connects=8,
    runs=5,
    rw_ops=20,
    connections=1000,
    # 8 rounds of 12 x 0.5 s interleaved slices per worker: both share the host's slower
    # swings, and a round's 6 s per worker average over the collector's pauses (up to ~60 ms
    # each); 4 rounds of one 2 s window each, back to back, gave per-round ratios of 0.86-1.14
    # in one run, 8 rounds of 4 slices [q1, q3] ranges of +-0.04-0.05, 6 rounds of 8 slices
    # +-0.01-0.02 on a quiet host but +-0.03 on a busy one (slices varying +-10-14%)
    scale_rounds=8,
    scale_slices=12,
    scale_slice_s=0.5,
    switchovers=2,
    limitless_connects=100,
    limitless_rounds=3,
)
QUICK = Sizes(
    calls=0,
    batch_ms=5.0,
    pair_rounds=8,
    slices=1,
    rounds=4,
    connects=4,
    runs=2,
    rw_ops=8,
    connections=200,
    scale_rounds=2,
    scale_slices=2,
    scale_slice_s=0.25,
    switchovers=1,
    limitless_connects=40,
    limitless_rounds=1,
)


@dataclass
class Options:
    scenarios: list[int]
    variants: list[str]
    engines: list[str]
    engines_1: list[str]
    """Devclusters of scenario 1 (both unless --engine says otherwise, --quick too)."""
    rows: bool
    """Scenario 1: the 1,000-row fetch on the plain servers too."""
    sizes: Sizes
    quick: bool
    pin: bool
    peer_venv: Path
    docs: Path | None
    log_dir: Path


# -- statistics --------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def iqr_pct(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return 100 * (q3 - q1) / statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(q1, median, q3) of ``values`` (inclusive method; one value: itself three times)."""
    if not values:
        nan = float("nan")
        return nan, nan, nan
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def judge(values: Sequence[float], target: float, at_least: bool = False) -> str:
    """The verdict on per-round figures against a target: ``met`` when the whole
    interquartile range is on the right side of the target (q3 <= target; with
    ``at_least``: q1 >= target), ``MISSED`` when it is all on the wrong side, ``undecided``
    when it straddles the target (the spread is wider than the margin to the target)."""
    q1, _, q3 = quartiles(values)
    if not values or q1 != q1:
        return "n/a"
    if at_least:
        return "met" if q1 >= target else ("MISSED" if q3 < target else "undecided")
    return "met" if q3 <= target else ("MISSED" if q1 > target else "undecided")


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """``median [q1, q3]``."""
    q1, q2, q3 = quartiles(values)
    if q2 != q2:
        return "n/a"
    return f"{fmt.format(q2)} [{fmt.format(q1)}, {fmt.format(q3)}]"


def rotated(items: Sequence[T], by: int) -> list[T]:
    if not items:
        return []
    k = by % len(items)
    return [*items[k:], *items[:k]]


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b != b or a != a or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


# -- tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    scenario: int
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    setup: str = ""

    def console(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) for i, h in enumerate(self.header)]
        out = [f"== {self.scenario}. {self.title}", self.setup] if self.setup else []
        if not out:
            out = [f"== {self.scenario}. {self.title}"]
        out.append("  ".join(h.ljust(w) for h, w in zip(self.header, widths, strict=True)))
        out.append("  ".join("-" * w for w in widths))
        for r in self.rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        out += [f"  * {n}" for n in self.notes]
        out += [f"  => {v}" for v in self.verdicts]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"### {self.scenario}. {self.title}", ""]
        if self.setup:
            out += [self.setup, ""]
        out.append("| " + " | ".join(self.header) + " |")
        out.append("|" + "|".join("---" for _ in self.header) + "|")
        for r in self.rows:
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        out.append("")
        for v in self.verdicts:
            out.append(f"- **{v}**")
        for n in self.notes:
            out.append(f"- {n}")
        return "\n".join(out).rstrip() + "\n"


@dataclass
class PairResult:
    """One row of scenario 1: a variant's paired rounds in one cell."""

    place: str
    driver: str
    world: str
    pattern: str
    who: str
    """``ours`` (default plugins), ``none`` (``plugins=""``), ``peer``."""
    raw_us: float
    diffs: list[float]
    """Per round: (variant - raw) per call, microseconds."""
    ratios: list[float]
    """Per round: variant / raw."""
    cpu_diffs: list[float]
    """Per round: (variant - raw) per call in CPU time of the calling thread, microseconds."""

    def verdict(self, what: str) -> str:
        """On the own CPU cost; MISSED whatever it says when the elapsed time is beyond the
        target over the whole interquartile range (a cost outside the client's CPU)."""
        assert what == "cost"
        if judge(self.diffs, OWN_COST_TARGET_US) == "MISSED":
            return "MISSED"
        return judge(self.cpu_diffs, OWN_COST_TARGET_US)

    def key(self) -> tuple[str, str, str, str]:
        return (self.place, self.driver, self.world, self.pattern)


# -- machine -----------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def mem_gib() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return "? GiB"


def os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def machine() -> str:
    return (
        f"{cpu_model()}, {os.cpu_count()} CPUs, {mem_gib()} RAM, {os_name()} "
        f"(kernel {platform.release()}), Python {platform.python_version()}"
    )


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


# -- the peer's venv ---------------------------------------------------------------------------


def peer_requirements() -> list[str]:
    reqs = [PEER_PACKAGE]
    for name in PEER_DRIVERS:
        try:
            reqs.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            if name != "psycopg-binary":
                reqs.append(name)
    return reqs


def ensure_peer_venv(path: Path) -> Path:
    """The peer's interpreter: ``path`` created and filled if missing or if the pins changed.
    Never our venv: a separate ``python -m venv``."""
    python = path / "bin" / "python"
    stamp = path / ".bench-requirements"
    reqs = peer_requirements()
    wanted = "\n".join(reqs) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        log(f"peer venv {path} is up to date ({PEER_PACKAGE})")
        return python
    if path.resolve() == Path(sys.prefix).resolve():
        raise BenchError(f"{path} is this process's own venv: the peer needs its own")
    log(f"creating the peer venv {path}: {' '.join(reqs)}")
    started = time.monotonic()
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(path)], check=True)
    stamp.unlink(missing_ok=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *reqs],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise BenchError(f"pip install into {path} failed:\n{tail}")
    stamp.write_text(wanted)
    log(f"peer venv ready in {time.monotonic() - started:.0f} s")
    return python


# -- workers -----------------------------------------------------------------------------------


class WorkerError(BenchError):
    """A worker answered with an error (its traceback is in the worker's log)."""


class WorkerSilent(BenchError):
    """A worker did not answer in time (it may be stuck in a call that never returns)."""


class Worker:
    """One worker subprocess and its JSON-lines protocol."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115
        self._log.write(f"--- {time.strftime('%H:%M:%S')} {' '.join(argv)}\n")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            bufsize=1,
            cwd=str(ROOT),
        )
        self.pid = self.proc.pid
        self.stderr_lines = 0
        self._tail: deque[str] = deque(maxlen=30)
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._id = 0
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.info: dict[str, Any] = self.call("info", timeout=120)

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines += 1
            self._tail.append(line.rstrip())
            self._log.write(line)
            self._log.flush()

    def tail(self) -> str:
        return "\n".join(self._tail)

    def call(self, cmd: str, timeout: float = 120.0, **args: Any) -> Any:
        self._id += 1
        rid = self._id
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"id": rid, "cmd": cmd, "args": args}) + "\n")
            self.proc.stdin.flush()
        except OSError as e:
            raise BenchError(f"worker {self.name} is gone ({e}); its log:\n{self.tail()}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise WorkerSilent(
                    f"worker {self.name} did not answer {cmd!r} within {timeout:.0f} s"
                ) from None
            if line is None:
                raise BenchError(
                    f"worker {self.name} exited ({self.proc.poll()}) during {cmd!r}; its log:\n"
                    + self.tail()
                )
            reply = json.loads(line)
            if reply.get("id") != rid:
                continue
            if reply.get("ok"):
                return reply.get("result")
            self._log.write(f"--- {cmd} failed:\n{reply.get('traceback', '')}\n")
            self._log.flush()
            raise WorkerError(f"{self.name} {cmd}: {reply.get('error')}")

    def kill(self) -> None:
        """End the worker at once (one that may be stuck: no ``quit``), after asking it for
        every thread's stack (into its log)."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.proc.pid, signal.SIGUSR1)
                time.sleep(0.5)
            self.proc.kill()
            self.proc.wait(10)
        self._log.write(f"--- {time.strftime('%H:%M:%S')} killed by the harness\n")
        self._log.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.call("quit", timeout=15)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class Workers:
    """The workers of one scenario: ``ours`` (raw + aws_wrapper), ``peer``."""

    def __init__(self, opts: Options, peer_python: Path | None, hosts_file: Path | None) -> None:
        self.opts = opts
        self.peer_python = peer_python
        self.hosts_file = hosts_file
        self.all: dict[str, Worker] = {}

    def env(self, peer: bool) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        if peer:  # nothing of ours on the peer's path
            env.pop("PYTHONPATH", None)
        env.pop(HOSTS_ENV, None)
        if self.hosts_file is not None:
            env[HOSTS_ENV] = str(self.hosts_file)
        return env

    def start(self, kind: str, tag: str = "") -> Worker:
        """A new worker (``ours`` or ``peer``); ``tag`` names its log file."""
        if kind == "peer":
            if self.peer_python is None:
                raise BenchError("the peer is not part of this run")
            argv = [str(self.peer_python), str(WORKERS / "peer_worker.py")]
        else:
            argv = [sys.executable, str(WORKERS / "ours_worker.py")]
        name = f"{kind}{'-' + tag if tag else ''}"
        worker = Worker(name, argv, self.env(kind == "peer"), self.opts.log_dir / f"{name}.log")
        self.all[f"{name}-{worker.pid}"] = worker
        return worker

    def close(self) -> None:
        for w in self.all.values():
            w.close()
        self.all.clear()


def worker_kind(variant: str) -> str:
    return "peer" if variant.startswith("peer") else "ours"


# -- CPU pinning -------------------------------------------------------------------------------


def threads_of(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def set_affinity(pids: Sequence[int], cpus: set[int]) -> None:
    """Every thread of every process in ``pids`` on ``cpus`` (threads that vanish meanwhile
    are skipped)."""
    for pid in pids:
        for tid in threads_of(pid):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, cpus)


class Pinner:
    """Puts the variant being timed (its worker's threads, its server backend, and the
    devcluster daemon with its proxies when there is one) on one CPU and every other worker on
    the other CPUs, so that an idle implementation's background threads cannot run on the
    timed CPU. A SELECT 1 whose two ends share a CPU is a steady hand-off instead of a
    cross-CPU wake-up whose cost swings by tens of microseconds (see bench/README.md)."""

    def __init__(self, enabled: bool) -> None:
        self.all = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        self.enabled = enabled and len(self.all) >= 1 and hasattr(os, "sched_setaffinity")
        self.timed_cpu = max(self.all) if self.all else 0
        self.parked = (self.all - {self.timed_cpu}) or self.all
        self.touched: set[int] = set()
        self.touched_tids: set[int] = set()

    def describe(self) -> str:
        if not self.enabled:
            return "not pinned"
        return (
            f"timed variant (worker threads, its server backend, devcluster daemon) on CPU "
            f"{self.timed_cpu}, other workers on CPU(s) {sorted(self.parked)}"
        )

    def timed(self, pids: Sequence[int], others: Sequence[int], tids: Sequence[int] = ()) -> None:
        """``pids`` (every thread of each) and the threads ``tids`` (alone: a MariaDB
        connection's thread, not its whole server) on the timed CPU, ``others`` parked."""
        if not self.enabled:
            return
        set_affinity(others, self.parked)
        set_affinity(pids, {self.timed_cpu})
        for tid in tids:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(tid, {self.timed_cpu})
        self.touched.update(pids)
        self.touched.update(others)
        self.touched_tids.update(tids)

    def restore(self) -> None:
        if self.enabled and self.touched:
            set_affinity(sorted(self.touched), self.all)
        if self.enabled:
            for tid in self.touched_tids:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(tid, self.all)
        self.touched.clear()
        self.touched_tids.clear()


# -- servers -----------------------------------------------------------------------------------


class BigPostgresServer(PostgresServer):
    """The devcluster's throw-away PostgreSQL with ``max_connections`` raised for scenario 6
    (PostgresServer configures 300 and takes no setting for it)."""

    def __init__(self, max_connections: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_connections = max_connections

    def _server_argv(self) -> list[str]:
        return [*super()._server_argv(), "-c", f"max_connections={self.max_connections}"]


class Servers:
    """Started on first use, stopped at the end: one plain PostgreSQL, one devcluster per
    engine (1 writer + 2 readers)."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._pg: BigPostgresServer | None = None
        self._mariadb: MariaDBServer | None = None
        self._clusters: dict[str, Cluster] = {}
        self.versions: dict[str, str] = {}

    def pg(self) -> BigPostgresServer:
        if self._pg is None:
            log(f"starting a local PostgreSQL (max_connections={self.max_connections})")
            server = BigPostgresServer(self.max_connections, log=lambda m: log(f"  [pg] {m}"))
            server.start()
            self._pg = server
            with psycopg.connect(**server.admin_params(), autocommit=True) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                self.versions["PostgreSQL"] = str(row[0]).split()[0] if row else "?"
        return self._pg

    def mariadb(self) -> MariaDBServer:
        """A plain local MariaDB without TLS (like the devcluster's relay, which hides the
        instances' TLS: every MySQL figure is over plain TCP)."""
        if self._mariadb is None:
            log("starting a local MariaDB (no TLS)")
            server = MariaDBServer(tls=False, log=lambda m: log(f"  [mariadb] {m}"))
            server.start()
            self._mariadb = server
            with contextlib.suppress(Exception):
                import pymysql

                conn = pymysql.connect(**server.admin_params())
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT VERSION()")
                        row = cur.fetchone()
                        self.versions["MariaDB"] = str(row[0]).split("-")[0] if row else "?"
                finally:
                    conn.close()
        return self._mariadb

    def cluster(self, engine: str) -> Cluster:
        if engine not in self._clusters:
            short = "pg" if engine == "postgresql" else "mysql"
            # short: a blue/green deployment's instance directories repeat the name, and a
            # PostgreSQL socket path in them may not be longer than 100 characters
            name = f"bc-{short[:2]}-{os.getpid()}"
            log(f"starting the {engine} devcluster {name} (1 writer + 2 readers)")
            cluster = Cluster.up(
                engine,
                readers=2,
                name=name,
                log=lambda m: log(f"  [{short}] {m}"),
                tie_to_this_process=True,
            )
            self._clusters[engine] = cluster
            with contextlib.suppress(Exception):
                self.versions[f"devcluster {engine}"] = server_version(cluster)
        return self._clusters[engine]

    def global_cluster(self, engine: str) -> Cluster:
        """A global database (scenario 8): GDB_REGIONS, the writer and a reader in the first,
        two read-only instances in the second, GDB_LATENCY_MS away."""
        key = f"global {engine}"
        if key not in self._clusters:
            short = "pg" if engine == "postgresql" else "mysql"
            name = f"bg-{short[:2]}-{os.getpid()}"
            log(
                f"starting the {engine} global devcluster {name} ({', '.join(GDB_REGIONS)}, "
                f"{GDB_LATENCY_MS} ms between them)"
            )
            self._clusters[key] = Cluster.up(
                engine,
                readers=1,
                name=name,
                regions=list(GDB_REGIONS),
                secondary_instances=2,
                cross_region_latency_ms=GDB_LATENCY_MS,
                log=lambda m: log(f"  [{short} global] {m}"),
                tie_to_this_process=True,
            )
        return self._clusters[key]

    def limitless_cluster(self) -> Cluster:
        """A PostgreSQL devcluster with a DB shard group (scenario 9)."""
        key = "limitless"
        if key not in self._clusters:
            name = f"bl-pg-{os.getpid()}"
            log(f"starting the limitless devcluster {name} ({len(LIMITLESS_LOADS)} routers)")
            self._clusters[key] = Cluster.up(
                "postgresql",
                readers=1,
                name=name,
                limitless=len(LIMITLESS_LOADS),
                log=lambda m: log(f"  [pg limitless] {m}"),
                tie_to_this_process=True,
            )
        return self._clusters[key]

    def stop(self) -> None:
        for engine, cluster in list(self._clusters.items()):
            stop(default_state_dir(cluster.name))
            log(f"stopped the {engine} devcluster {cluster.name}")
        self._clusters.clear()
        if self._pg is not None:
            self._pg.stop()
            self._pg = None
        if self._mariadb is not None:
            self._mariadb.stop()
            self._mariadb = None


def server_version(cluster: Cluster) -> str:
    params = cluster.direct_params(cluster.writer, admin=True)
    if cluster.engine.value == "postgresql":
        with psycopg.connect(**params, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return f"PostgreSQL {str(row[0]).split()[0] if row else '?'}"
    import pymysql

    mconn = pymysql.connect(**params)
    try:
        with mconn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            mrow = cur.fetchone()
            return f"MariaDB {str(mrow[0]).split('-')[0] if mrow else '?'}"
    finally:
        mconn.close()


def daemon_pid(cluster: Cluster) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int((cluster.state_dir / "daemon.pid").read_text().strip())
    return None


def server_target(server: PostgresServer | MariaDBServer) -> dict[str, Any]:
    p = server.conn_params()
    return {
        "engine": "postgresql" if isinstance(server, PostgresServer) else "mysql",
        "host": p["host"],
        "port": p["port"],
        "user": p["user"],
        "password": p["password"],
        "database": p.get("dbname", p.get("database")),
    }


def seen_values(values: set[int]) -> str:
    """The values a count took over a scenario's slices: each, or their range when many."""
    ordered = sorted(values)
    if len(ordered) > 3:
        return f"{ordered[0]}-{ordered[-1]}"
    return "/".join(str(v) for v in ordered)


def cluster_target(cluster: Cluster, endpoint: str = "cluster") -> dict[str, Any]:
    p = cluster.conn_params(endpoint)
    return {
        "engine": cluster.engine.value,
        "host": p["host"],
        "port": p["port"],
        "user": p["user"],
        "password": p["password"],
        "database": p.get("dbname", p.get("database")),
    }


def peer_props(cluster: Cluster | None) -> dict[str, Any]:
    """What aws-advanced-python-wrapper needs on a devcluster: the instance pattern with the
    cluster's port (its aio package otherwise builds topology hosts on port 5432)."""
    if cluster is None:
        return {}
    template = cluster.instance_template
    return {"cluster_instance_host_pattern": f"{template}:{cluster.port}"}


def gdb_patterns(variant: str, cluster: Cluster) -> str:
    """``global_cluster_instance_host_patterns`` for ``variant``: aws-advanced-python-wrapper's
    with the devcluster's port in each (``region:host:port``: its aio package otherwise builds
    hosts on the engine's default port), aws_wrapper's as the devcluster gives them (it takes
    the port of the connection)."""
    if not variant.startswith("peer"):
        return cluster.host_patterns
    return ",".join(f"{p}:{cluster.port}" for p in cluster.host_patterns.split(","))


def props_for(variant: str, props: dict[str, Any], cluster: Cluster | None) -> dict[str, Any]:
    if variant.startswith("raw"):
        return {}
    if variant.startswith("peer"):
        return {**props, **peer_props(cluster)}
    return dict(props)


# -- the run -----------------------------------------------------------------------------------


class Run:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.servers = Servers(max(SCALE_MAX_CONNECTIONS, 2 * opts.sizes.connections + 100))
        self.peer_python: Path | None = None
        self.tables: list[Table] = []
        self.versions: dict[str, str] = {}
        self.problems: list[str] = []
        self._bg_tables = 0

    def variants(self, candidates: Sequence[str]) -> list[str]:
        return [v for v in candidates if v in self.opts.variants]

    @contextlib.contextmanager
    def workers(self, hosts_file: Path | None, kinds: Sequence[str]) -> Iterator[dict[str, Worker]]:
        ws = Workers(self.opts, self.peer_python, hosts_file)
        try:
            out: dict[str, Worker] = {}
            for kind in kinds:
                if kind == "peer" and self.peer_python is None:
                    continue
                w = ws.start(kind)
                out[kind] = w
                self.record_versions(w)
            yield out
        finally:
            for w in ws.all.values():
                if w.stderr_lines:
                    log(f"  ({w.name} wrote {w.stderr_lines} lines to {w.log_path})")
            ws.close()

    def record_versions(self, w: Worker) -> None:
        info = w.info
        impl = str(info.get("implementation"))
        self.versions[impl] = str(info.get("version"))
        self.versions[f"psycopg ({impl} venv)"] = str(info.get("psycopg"))

    def kinds(self, variants: Sequence[str]) -> list[str]:
        return sorted({worker_kind(v) for v in variants}, key=["ours", "peer"].index)

    # -- 1. per-call overhead ------------------------------------------------------------------

    @staticmethod
    def _s1_columns() -> tuple[str, ...]:
        return (
            "server",
            "driver",
            "world",
            "pattern",
            "variant",
            "raw us/call",
            "us/call",
            "elapsed over raw us/call [q1, q3]",
            "own CPU us/call [q1, q3]",
            "vs raw [q1, q3]",
            f"cost <= {OWN_COST_TARGET_US:g} us",
        )

    def scenario_1(self) -> Table:
        sizes = self.opts.sizes
        table = Table(1, SCENARIOS[1], list(self._s1_columns()))
        pinner = Pinner(self.opts.pin)
        batch = (
            f"{sizes.calls} calls"
            if sizes.calls
            else f"as many calls as the raw driver makes in ~{sizes.batch_ms:g} ms"
        )
        interleave = (
            f"timed interleaved in {sizes.slices} slices (the one that goes first rotating "
            "from slice to slice and from round to round), so that both share the machine's "
            "slower swings; aws-advanced-python-wrapper, in a worker process of its own, "
            "back to back (which goes first alternates)"
            if sizes.slices > 1
            else "back to back (which goes first alternates)"
        )
        rows = (
            f"; *1,000 rows* (execute + fetchall on the reused cursor, plain servers only, "
            f"{max(4, sizes.pair_rounds // 2)} rounds)"
            if self.opts.rows
            else ""
        )
        table.setup = (
            "Paired rounds. Per cell (server, driver, world, pattern), "
            f"{sizes.pair_rounds} rounds; in each round, for each wrapper variant, a batch of "
            "the raw driver and a batch of the variant on connections already open, "
            f"{batch} each, garbage collector off, {interleave}. "
            "*elapsed over raw*: the median over the rounds of (variant - raw) per call in "
            "elapsed time, with its interquartile range over the rounds [q1, q3]; *own CPU*: "
            "the same in CPU time of the thread making the calls (the client side alone: the "
            "server's and the proxy's time and the waits for them are out of it, which is why "
            "its spread is a fraction of the elapsed one; background monitor threads are out "
            "of it too, monitor tasks of aws_wrapper.aio are in it); *vs raw*: the median of "
            "the per-round ratios variant / raw in elapsed time [q1, q3]; *raw us/call*, "
            "*us/call*: medians of the batches. Verdicts (aws_wrapper, default plugins) on the "
            "own CPU cost: *met* when q3 is within the target, *MISSED* when q1 is beyond it, "
            "*undecided* when [q1, q3] straddles it (the spread is wider than the margin); and "
            "*MISSED* whatever the CPU says when the elapsed q1 is beyond the target (a cost "
            "that is not the client's CPU: an added wait or round trip, or the server slowed "
            "down). Patterns: *reused cursor* (execute + "
            "fetchone on one cursor); *new cursor* (cursor(), execute, fetchone, close() per "
            f"call){rows}. Variants: aws_wrapper with the default plugins (no `plugins` "
            'given), aws_wrapper with `plugins=""`, aws-advanced-python-wrapper with its '
            f"default plugins. Pinning: {pinner.describe()}. *PostgreSQL*, *MariaDB*: plain "
            "local servers (no topology: aws_wrapper's failover_v2 takes itself off the call "
            "path); *devcluster*: the writer through the cluster endpoint and the devcluster's "
            "proxy (Aurora dialect and topology: failover_v2 watches every call, entered only "
            "by one that fails). MySQL Connector/Python blocking is pure Python "
            "(`use_pure=True`); MariaDB without TLS."
        )
        results: list[PairResult] = []
        self._per_call(
            table,
            pinner,
            "PostgreSQL",
            "postgresql",
            server_target(self.servers.pg()),
            None,
            results,
        )
        mariadb = self.servers.mariadb()
        self._per_call(table, pinner, "MariaDB", "mysql", server_target(mariadb), None, results)
        for engine in self.opts.engines_1:  # started only now: idle devclusters still use CPU
            c = self.servers.cluster(engine)
            name = "devcluster PostgreSQL" if engine == "postgresql" else "devcluster MariaDB"
            self._per_call(table, pinner, name, engine, cluster_target(c), c, results)
        self._per_call_verdicts(table, results)
        return table

    def _per_call(
        self,
        table: Table,
        pinner: Pinner,
        place: str,
        engine: str,
        target: dict[str, Any],
        cluster: Cluster | None,
        results: list[PairResult],
    ) -> None:
        """Every cell of one server: its drivers x worlds x patterns, paired rounds."""
        hosts = cluster.hosts_file if cluster is not None else None
        extra = [] if cluster is None else [p for p in [daemon_pid(cluster)] if p is not None]
        cells = S1_CELLS[engine]
        kinds = ["ours"]
        if self.peer_python is not None and any(v.startswith("peer") for v in self.opts.variants):
            kinds.append("peer")
        log(f"1. per-call overhead on the {place}: {len(cells)} drivers x worlds")
        with self.workers(hosts, kinds) as ws:
            for driver, world in cells:
                try:
                    self._per_call_cell(
                        table, pinner, place, target, cluster, driver, world, ws, extra, results
                    )
                except WorkerError as e:  # the raw driver failed: the cell has no baseline
                    log(f"  {place} {DRIVER_LABEL[driver]} {world}: FAILED: {e}")
                    self.note_once(
                        table, f"{place} {DRIVER_LABEL[driver]} {world}: failed: {str(e)[:300]}"
                    )
                finally:
                    pinner.restore()
                    for w in ws.values():
                        with contextlib.suppress(Exception):
                            w.call("close_all", timeout=60)

    def _per_call_cell(
        self,
        table: Table,
        pinner: Pinner,
        place: str,
        target: dict[str, Any],
        cluster: Cluster | None,
        driver: str,
        world: str,
        ws: dict[str, Worker],
        extra: list[int],
        results: list[PairResult],
        variants: dict[str, tuple[dict[str, Any], str]] | None = None,
    ) -> None:
        """One cell's paired rounds. ``variants``: instead of aws_wrapper with the default
        plugins, with none and the peer, these aws_wrapper variants (name -> (properties,
        label)), the reused and new cursor patterns only (scenario 10)."""
        sizes = self.opts.sizes
        raw_v, ours_v, peer_v = (
            ("raw-sync", "ours-sync", "peer-sync")
            if world == "sync"
            else ("raw-async", "ours-aio", "peer-aio")
        )
        who_variant: dict[str, tuple[str, dict[str, Any]]] = {"raw": (raw_v, {})}
        label = {
            "ours": LABEL[ours_v],
            "none": f'{LABEL[ours_v]} plugins=""',
            "peer": LABEL[peer_v],
        }
        if variants is not None:
            for who, (props, text) in variants.items():
                who_variant[who] = (ours_v, props)
                label[who] = f"{LABEL[ours_v]} {text}"
        else:
            if ours_v in self.opts.variants:
                who_variant["ours"] = (ours_v, {})
                who_variant["none"] = (ours_v, {"plugins": ""})
            if peer_v in self.opts.variants and "peer" in ws:
                who_variant["peer"] = (peer_v, props_for(peer_v, {}, cluster))
        rows = self.opts.rows and cluster is None and variants is None
        cell_target = {**target, "driver": driver}
        cell = f"{place} {DRIVER_LABEL[driver]} {world}"
        opened: dict[str, tuple[Worker, int]] = {}
        failed: dict[str, str] = {}
        # Each wrapper variant first opens and closes one connection of the cell's kind: the
        # first connection a wrapper opened in a process ran ~1 us per call slower than
        # later ones, in the driver's own calls (its driver cursor called directly, without
        # the wrapper, was as slow), and one opened after it was not; the timed sessions
        # measure the steady state.
        for who, (v, props) in who_variant.items():
            if who != "raw":
                with contextlib.suppress(WorkerError):
                    w = ws[worker_kind(v)]
                    w.call("open", key="prime", variant=v, target=cell_target, props=props)
                    w.call("close", key="prime")
        for who, (v, props) in who_variant.items():
            w = ws[worker_kind(v)]
            try:
                r = w.call("open", key=who, variant=v, target=cell_target, props=props, rows=rows)
            except WorkerError as e:
                failed[who] = str(e)
                log(f"  {cell}: {who} could not connect: {e}")
                continue
            opened[who] = (w, int(r["backend_pid"]))
            if r["first_query_failovers"]:
                self.note_once(
                    table,
                    f"{label.get(who, who)} on the {place}: the first query on a new "
                    "connection raised FailoverSuccessError although nothing failed (re-run "
                    "once, then steady).",
                )
            if who != "raw":
                log(f"  {cell} {who}: {r['plugins']}")
        patterns = ["reused", "new", *(["rows"] if rows else [])]
        if "raw" not in opened:
            self.note_once(table, f"{cell}: the raw driver could not connect: {failed['raw']}")
            for pattern in patterns:
                table.rows.append(
                    [place, DRIVER_LABEL[driver], world, PATTERN_LABEL[pattern], "raw"]
                    + ["failed"]
                    + [""] * 5
                )
            return
        for who, error in failed.items():
            if who == "peer":
                why = PEER_NA.get((driver, world), "it failed to connect")
                self.note_once(
                    table,
                    f"{label['peer']} with {DRIVER_LABEL[driver]}: n/a: {why} ({error[:200]})",
                )
            else:
                self.note_once(table, f"{cell} {label[who]}: could not connect: {error[:300]}")
        whos = [who for who in who_variant if who != "raw" and who in opened]
        all_workers = [w.pid for w in ws.values()]

        def timed(who: str, pattern: str, n: int) -> tuple[float, float]:
            """(elapsed, client CPU) per call, microseconds."""
            w, backend = opened[who]
            pinner.timed([w.pid, *extra], [p for p in all_workers if p != w.pid], [backend])
            query, pat = ("rows", "reused") if pattern == "rows" else ("select1", pattern)
            ns, cpu = w.call("time", key=who, query=query, n=n, pattern=pat, timeout=600)
            return float(ns) / n / 1000, float(cpu) / n / 1000

        def interleaved(
            who: str, pattern: str, n: int, first: int
        ) -> dict[str, tuple[float, float]]:
            """The raw driver and ``who`` timed interleaved in one worker (cmd_pair): about
            ``n`` calls each, in slices; (elapsed, client CPU) per call, microseconds."""
            (w, raw_backend), backend = opened["raw"], opened[who][1]
            pinner.timed(
                [w.pid, *extra], [p for p in all_workers if p != w.pid], [raw_backend, backend]
            )
            query, pat = ("rows", "reused") if pattern == "rows" else ("select1", pattern)
            slices = max(1, min(sizes.slices, n // 5))
            per = max(1, n // slices)
            got = w.call(
                "pair",
                keys=["raw", who],
                query=query,
                n=per,
                pattern=pat,
                slices=slices,
                first=first,
                timeout=600,
            )
            calls = per * slices
            return {
                x: (float(ns) / calls / 1000, float(cpu) / calls / 1000)
                for x, (ns, cpu) in zip(["raw", who], got, strict=True)
            }

        calls: dict[str, int] = {}
        broken: set[str] = set()
        for pattern in patterns:
            short = 10 if pattern == "rows" else 100
            for who in ["raw", *whos]:  # warm-up
                try:
                    timed(who, pattern, short)
                except WorkerError as e:
                    if who == "raw":
                        raise
                    broken.add(who)
                    self.note_once(table, f"{cell} {label[who]}: failed: {str(e)[:300]}")
            if sizes.calls:
                n = max(1, sizes.calls // 4) if pattern == "rows" else sizes.calls
            else:  # the raw driver's floor over 3 short batches: noise only makes it longer
                base = min(timed("raw", pattern, short)[0] for _ in range(3))
                n = max(5 if pattern == "rows" else 20, round(sizes.batch_ms * 1000 / base))
            calls[pattern] = n
        pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        cpu_pairs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        rounds = {p: sizes.pair_rounds for p in patterns}
        if rows:
            rounds["rows"] = max(4, sizes.pair_rounds // 2)
        log(
            f"  {cell}: {max(rounds.values())} paired rounds, calls per batch "
            + ", ".join(f"{PATTERN_LABEL[p]} {calls[p]}" for p in patterns)
        )
        started = time.monotonic()
        for r_ in range(max(rounds.values())):
            for pattern in patterns:
                if r_ >= rounds[pattern]:
                    continue
                n = calls[pattern]
                for who in rotated(whos, r_):
                    if who in broken:
                        continue
                    # which goes first alternates from round to round for each variant (by
                    # its fixed index: with the rotation's i, a variant's parity never moved)
                    first = (r_ + whos.index(who)) % 2
                    got: dict[str, tuple[float, float]] = {}
                    try:
                        if opened[who][0] is opened["raw"][0]:
                            got = interleaved(who, pattern, n, first)
                        else:  # (the peer has a worker of its own) back to back
                            for x in ["raw", who] if first == 0 else [who, "raw"]:
                                got[x] = timed(x, pattern, n)
                    except WorkerError as e:
                        timed("raw", pattern, 1)  # raises when the raw driver is what failed
                        broken.add(who)
                        self.note_once(table, f"{cell} {label[who]}: failed: {str(e)[:300]}")
                    if len(got) == 2:
                        pairs.setdefault((pattern, who), []).append((got["raw"][0], got[who][0]))
                        cpu_pairs.setdefault((pattern, who), []).append(
                            (got["raw"][1], got[who][1])
                        )
        summary = []
        for pattern in patterns:
            raw_all = [r for who in whos for r, _ in pairs.get((pattern, who), [])]
            raw_med = median(raw_all)
            parts = []
            for who in [*whos, *(["peer"] if "peer" in failed else [])]:
                row = [place, DRIVER_LABEL[driver], world, PATTERN_LABEL[pattern], label[who]]
                got_pairs = pairs.get((pattern, who), [])
                if not got_pairs:
                    why = "n/a" if who == "peer" and who in failed else "failed"
                    table.rows.append([*row, f"{raw_med:.1f}", why, why, why, why, ""])
                    continue
                diffs = [w - r for r, w in got_pairs]
                cpu_diffs = [w - r for r, w in cpu_pairs[(pattern, who)]]
                ratios = [w / r for r, w in got_pairs]
                result = PairResult(
                    place, driver, world, pattern, who, raw_med, diffs, ratios, cpu_diffs
                )
                verdicts = [""]
                if who == "ours" and pattern != "rows":
                    verdicts = [result.verdict("cost")]
                table.rows.append(
                    [
                        *row,
                        f"{raw_med:.1f}",
                        f"{median([w for _, w in got_pairs]):.1f}",
                        spread(diffs, "{:+.2f}"),
                        spread(cpu_diffs, "{:+.2f}"),
                        spread(ratios, "{:.3f}"),
                        *verdicts,
                    ]
                )
                results.append(result)
                parts.append(
                    f"{who} {median(diffs):+.2f} (cpu {median(cpu_diffs):+.2f}; "
                    f"{median(ratios):.3f})"
                )
            summary.append(f"{PATTERN_LABEL[pattern]}: raw {raw_med:.1f} us, " + ", ".join(parts))
        log(f"  {cell} ({time.monotonic() - started:.0f} s): " + "; ".join(summary))

    def _per_call_verdicts(self, table: Table, results: list[PairResult]) -> None:
        """One line for all cells, then one per server and world (aws_wrapper, default
        plugins, SELECT 1 patterns), naming the cells that are not met; the peer's own cost
        next to ours."""
        ours = [x for x in results if x.who == "ours" and x.pattern != "rows"]
        if not ours:
            return

        def tally(items: list[PairResult], what: str) -> str:
            counts: dict[str, int] = {}
            for x in items:
                counts[x.verdict(what)] = counts.get(x.verdict(what), 0) + 1
            return ", ".join(
                f"{counts[k]} {k}" for k in ("met", "undecided", "MISSED", "n/a") if k in counts
            )

        table.verdicts.append(
            f"aws_wrapper's own cost per call, default plugins (target <= "
            f"{OWN_COST_TARGET_US:g} us): {tally(ours, 'cost')} of {len(ours)} cells"
        )
        for place in dict.fromkeys(x.place for x in ours):
            for world in ("sync", "async"):
                items = [x for x in ours if x.place == place and x.world == world]
                if not items:
                    continue
                parts = []
                for what, target, fmt in (
                    ("cost", f"own cost <= {OWN_COST_TARGET_US:g} us", "{:+.2f}"),
                ):
                    odd = [
                        f"{DRIVER_LABEL[x.driver]} {PATTERN_LABEL[x.pattern]} {x.verdict(what)} "
                        + f"cpu {spread(x.cpu_diffs, fmt)}, elapsed {spread(x.diffs, fmt)}"
                        for x in items
                        if x.verdict(what) != "met"
                    ]
                    parts.append(
                        f"{target}: {tally(items, what)}" + (f" ({'; '.join(odd)})" if odd else "")
                    )
                table.verdicts.append(f"{place} {world}: " + "; ".join(parts))
        peer = [x for x in results if x.who == "peer" and x.pattern != "rows"]
        if peer:
            ours_by = {(x.place, x.driver, x.world, x.pattern): x for x in ours}
            pairs = [(ours_by[k], x) for x in peer if (k := x.key()) in ours_by]
            if pairs:
                o = [median(a.diffs) for a, _ in pairs]
                p = [median(b.diffs) for _, b in pairs]
                oc = [median(a.cpu_diffs) for a, _ in pairs]
                pc = [median(b.cpu_diffs) for _, b in pairs]
                table.notes.insert(
                    0,
                    f"Where aws-advanced-python-wrapper runs ({len(pairs)} cells), its own cost "
                    f"per call is {min(p):.1f}-{max(p):.1f} us elapsed ({min(pc):.1f}-"
                    f"{max(pc):.1f} us CPU) against aws_wrapper's {min(o):.2f}-{max(o):.2f} us "
                    f"({min(oc):.2f}-{max(oc):.2f} us CPU; default plugins, medians).",
                )

    def note_once(self, table: Table, note: str) -> None:
        if note not in table.notes:
            table.notes.append(note)

    # -- 2. connect overhead -------------------------------------------------------------------

    def scenario_2(self) -> Table:
        sizes = self.opts.sizes
        cluster = self.servers.cluster("postgresql")
        target = cluster_target(cluster)
        variants = self.variants((*SYNC, *ASYNC))
        table = Table(
            2,
            SCENARIOS[2],
            [
                "world",
                "variant",
                "median ms",
                "IQR %",
                "vs raw per round [q1, q3]",
                f"<= {CONNECT_TARGET:.2f} x raw",
                "ours / peer",
            ],
        )
        table.setup = (
            f"Open + close through the devcluster's cluster endpoint with the default plugins "
            f"(dialect detection, topology), {sizes.rounds} interleaved rounds x "
            f"{sizes.connects} connects per variant after 3 warm-up connects (so topology and "
            "monitors are in their steady state), median over every connect; not pinned. The "
            "raw driver is given the address (psycopg `hostaddr`). *vs raw*: per round, the "
            "variant's median connect over the raw driver's of the same round; the median of "
            "those ratios [q1, q3]. Verdict (aws_wrapper): *met* when q3 <= the target, "
            "*MISSED* when q1 > it, *undecided* when [q1, q3] straddles it."
        )
        log(f"2. connect overhead: {', '.join(variants)}")
        samples: dict[str, list[float]] = {v: [] for v in variants}
        per_round: dict[str, list[float]] = {v: [] for v in variants}
        with self.workers(cluster.hosts_file, self.kinds(variants)) as ws:
            for v in variants:
                ws[worker_kind(v)].call(
                    "connect_loop", variant=v, target=target, props=props_for(v, {}, cluster), n=3
                )
            for r_ in range(sizes.rounds):
                for v in rotated(variants, r_):
                    ns = ws[worker_kind(v)].call(
                        "connect_loop",
                        variant=v,
                        target=target,
                        props=props_for(v, {}, cluster),
                        n=sizes.connects,
                        timeout=300,
                    )
                    samples[v] += [x / 1e6 for x in ns]
                    per_round[v].append(median([x / 1e6 for x in ns]))
                log(
                    f"  round {r_ + 1}/{sizes.rounds} ms/connect: "
                    + ", ".join(
                        f"{v} {median(samples[v][-sizes.connects :]):.1f}" for v in variants
                    )
                )
        for world, names in (("sync", SYNC), ("async", ASYNC)):
            raw_v = names[0]
            for v in [x for x in names if x in variants]:
                m = median(samples[v])
                vs_peer = ""
                if v in PEER_OF and PEER_OF[v] in samples:
                    vs_peer = ratio(m, median(samples[PEER_OF[v]]))
                vs_raw, verdict = ("(base)", "")
                if v != raw_v and raw_v in per_round:
                    ratios = [a / b for a, b in zip(per_round[v], per_round[raw_v], strict=True)]
                    vs_raw = spread(ratios)
                    if v in PEER_OF:
                        verdict = judge(ratios, CONNECT_TARGET)
                        table.verdicts.append(
                            f"{world}: {LABEL[v]} connect = {vs_raw} x raw (target <= "
                            f"{CONNECT_TARGET:.2f}: {verdict})"
                        )
                elif v != raw_v:
                    vs_raw = "n/a"
                table.rows.append(
                    [
                        world,
                        LABEL[v],
                        f"{m:.2f}",
                        f"{iqr_pct(samples[v]):.0f}",
                        vs_raw,
                        verdict,
                        vs_peer,
                    ]
                )
        return table

    # -- 3. failover ---------------------------------------------------------------------------

    def scenario_3(self) -> Table:
        sizes = self.opts.sizes
        variants = self.variants(WRAPPERS)
        table = Table(
            3,
            SCENARIOS[3],
            [
                "engine",
                "world",
                "variant",
                "app-visible ms (median)",
                "min-max ms",
                "devcluster stop+promote ms",
                "ok runs",
                "peer / ours",
            ],
        )
        table.setup = (
            f'`plugins="failover_v2"`, `failover_timeout_sec={FAILOVER_TIMEOUT_SEC}`, other '
            "settings at each wrapper's defaults, autocommit. An application INSERTs every 5 ms; "
            "after 1 s of steady writes the devcluster kills the writer (`failover --crash`). "
            "App-visible: from the failover request to the first successful INSERT after the "
            "failover error (the application re-runs at once on a new cursor). "
            f"{sizes.runs} failovers per variant and engine, variants in rotating order, each "
            "with a fresh connection and the wrapper's resources released after it."
        )
        for engine in self.opts.engines:
            self._failover_engine(table, engine, variants)
        return table

    def _failover_engine(self, table: Table, engine: str, variants: list[str]) -> None:
        sizes = self.opts.sizes
        cluster = self.servers.cluster(engine)
        target = cluster_target(cluster)
        props = {"plugins": "failover_v2", "failover_timeout_sec": FAILOVER_TIMEOUT_SEC}
        log(f"3. failover on {engine}: {', '.join(variants)}, {sizes.runs} crashes each")
        app_ms: dict[str, list[float]] = {v: [] for v in variants}
        outage: dict[str, list[float]] = {v: [] for v in variants}
        failures: dict[str, list[str]] = {v: [] for v in variants}
        with self.workers(cluster.hosts_file, self.kinds(variants)) as ws:
            for r_ in range(sizes.runs):
                for v in rotated(variants, r_):
                    if len(failures[v]) >= 2 and not app_ms[v]:
                        continue  # gave up on this variant
                    w = ws[worker_kind(v)]
                    try:
                        ms, out, detail = self._one_failover(w, cluster, v, target, props, engine)
                    except WorkerError as e:
                        failures[v].append(str(e))
                        log(f"  {engine} {v} {r_ + 1}/{sizes.runs}: FAILED: {e}")
                        with contextlib.suppress(Exception):
                            w.call("fo_stop", timeout=60)
                        cluster.heal()
                        cluster.wait_rejoins()
                        continue
                    if ms is None:
                        failures[v].append(detail)
                        log(f"  {engine} {v} {r_ + 1}/{sizes.runs}: FAILED: {detail}")
                        continue
                    app_ms[v].append(ms)
                    outage[v].append(out)
                    log(f"  {engine} {v} {r_ + 1}/{sizes.runs}: app-visible {ms:.0f} ms, {detail}")
        for v in variants:
            s = app_ms[v]
            peer = app_ms.get(PEER_OF.get(v, ""), [])
            speed = ratio(median(peer), median(s)) if v in PEER_OF and peer and s else ""
            table.rows.append(
                [
                    engine,
                    WORLD[v],
                    LABEL[v],
                    f"{median(s):.0f}" if s else "-",
                    f"{min(s):.0f}-{max(s):.0f}" if s else "-",
                    f"{median(outage[v]):.0f}" if outage[v] else "-",
                    f"{len(s)}/{len(s) + len(failures[v])}",
                    speed,
                ]
            )
            for f in failures[v][:2]:
                self.note_once(table, f"{engine} {LABEL[v]} failed: {f[:400]}")
            if v in PEER_OF and s and peer:
                x = median(peer) / median(s)
                met = "met" if x >= FAILOVER_TARGET else "MISSED"
                how = f"{x:.1f}x faster" if x >= 1 else f"{1 / x:.1f}x slower"
                table.verdicts.append(
                    f"{engine} {WORLD[v]}: aws_wrapper {median(s):.0f} ms vs "
                    f"aws-advanced-python-wrapper {median(peer):.0f} ms: {how} "
                    f"(target >= {FAILOVER_TARGET:.0f}x faster: {met})"
                )
            elif v in PEER_OF and s and failures.get(PEER_OF[v]):
                table.verdicts.append(
                    f"{engine} {WORLD[v]}: aws_wrapper {median(s):.0f} ms; "
                    "aws-advanced-python-wrapper did not complete a failover (see the notes)"
                )

    def _one_failover(
        self,
        w: Worker,
        cluster: Cluster,
        v: str,
        target: dict[str, Any],
        props: dict[str, Any],
        engine: str,
    ) -> tuple[float | None, float, str]:
        table_name = f"bench_cmp_{v.replace('-', '_')}"
        w.call(
            "fo_start",
            variant=v,
            target=target,
            props=props_for(v, props, cluster),
            table=table_name,
            interval_s=0.005,
            settle_s=1.0,
            settle_writes=10,
            timeout_s=30.0,
            timeout=90,
        )
        w.call("fo_arm")
        t0 = time.monotonic()
        result = cluster.failover(crash=True)
        returned = time.monotonic()
        try:
            r = w.call("fo_wait", timeout_s=FAILOVER_TIMEOUT_SEC + 10, timeout=120)
        finally:
            with contextlib.suppress(Exception):
                w.call("fo_stop", timeout=90)
            cluster.wait_rejoins()
        outage_ms = (float(result["stop_s"]) + float(result["promote_s"])) * 1000
        moved = f"{result['old_writer']} -> {result['new_writer']}"
        if r["recovered_at"] is None:
            why = r["failure"] or (
                f"no successful write within {FAILOVER_TIMEOUT_SEC + 10} s"
                + (f" (it saw {r['error']})" if r["error"] else " (it saw no failover error)")
            )
            return None, outage_ms, f"{moved}: {why}"
        app = (float(r["recovered_at"]) - t0) * 1000
        err = (float(r["error_at"]) - t0) * 1000
        detail = (
            f"{moved}, stop+promote {outage_ms:.0f} ms (devcluster done "
            f"{float(result['total_s']) * 1000:.0f} ms, request back "
            f"{(returned - t0) * 1000:.0f}), "
            f"error at +{err:.0f} ms"
        )
        if r["failovers_seen"] != 1:
            detail += f", {r['failovers_seen']} failover errors"
        return app, outage_ms, detail

    # -- 4. dead-host detection ----------------------------------------------------------------

    def scenario_4(self) -> Table:
        sizes = self.opts.sizes
        variants = self.variants(WRAPPERS)
        bound = EFM["failure_detection_time_ms"] + (
            EFM["failure_detection_interval_ms"] * EFM["failure_detection_count"]
        )
        table = Table(
            4,
            SCENARIOS[4],
            [
                "engine",
                "world",
                "variant",
                "detection ms (median)",
                "min-max ms",
                "ok runs",
                "ours / peer",
            ],
        )
        table.setup = (
            '`plugins="host_monitoring_v2"`, `failure_detection_time_ms=1000`, '
            "`failure_detection_interval_ms=500`, `failure_detection_count=2` and "
            "`monitoring-connect_timeout=1` for both (aws-advanced-python-wrapper's docs require "
            "a monitoring connect timeout, 1 is its own performance test's value; without it its "
            "monitor's reconnect to a blackholed host hangs and no call is ever aborted); "
            f"configured bound {bound} ms after the call started. Connect to the writer's "
            "instance endpoint, `SELECT 1`, a 1.5 s sleep query (longer than the grace time: "
            "aws-advanced-python-wrapper opens its monitoring connection only then, so both "
            "monitors are connected, as in an application that has run for a while), 0.5 s, "
            "then a long query (`pg_sleep` / `SLEEP`); 0.3 s later the writer is blackholed "
            "(packets dropped: the query hangs). Detection: blackhole -> "
            f"the query raised. {sizes.runs} runs per variant and engine, rotating order; a run "
            f"with no abort within {EFM_WATCHDOG_S:.0f} s is reported as not detected."
        )
        for engine in self.opts.engines:
            self._efm_engine(table, engine, variants, bound)
        return table

    def _efm_engine(self, table: Table, engine: str, variants: list[str], bound: int) -> None:
        sizes = self.opts.sizes
        cluster = self.servers.cluster(engine)
        props = {"plugins": "host_monitoring_v2", **EFM, **EFM_CONNECT_TIMEOUT}
        watchdog_s = EFM_WATCHDOG_S
        sleep_s = int(watchdog_s) + 4
        sleep = "pg_sleep" if engine == "postgresql" else "SLEEP"
        sql = f"SELECT {sleep}({sleep_s})"
        warm_sql = f"SELECT {sleep}({EFM['failure_detection_time_ms'] / 1000 + 0.5})"
        log(f"4. dead-host detection on {engine}: {', '.join(variants)}, {sizes.runs} runs each")
        det: dict[str, list[float]] = {v: [] for v in variants}
        failures: dict[str, list[str]] = {v: [] for v in variants}
        with self.workers(cluster.hosts_file, self.kinds(variants)) as ws:
            for r_ in range(sizes.runs):
                for v in rotated(variants, r_):
                    if len(failures[v]) >= 2 and not det[v]:
                        continue
                    w = ws[worker_kind(v)]
                    try:
                        ms, detail = self._one_blackhole(
                            w,
                            cluster,
                            v,
                            props_for(v, props, cluster),
                            sql,
                            warm_sql,
                            watchdog_s,
                            sleep_s,
                        )
                    except WorkerError as e:
                        ms, detail = None, f"could not run: {e}"
                    finally:
                        cluster.heal()
                        with contextlib.suppress(Exception):
                            w.call("efm_stop", timeout=60)
                    if ms is None:
                        failures[v].append(detail)
                        what = "FAILED" if detail.startswith("could not") else "NOT DETECTED"
                        log(f"  {engine} {v} {r_ + 1}/{sizes.runs}: {what}: {detail}")
                    else:
                        det[v].append(ms)
                        log(
                            f"  {engine} {v} {r_ + 1}/{sizes.runs}: detected in {ms:.0f} ms "
                            + detail
                        )
        for v in variants:
            s = det[v]
            peer = det.get(PEER_OF.get(v, ""), [])
            vs = ratio(median(s), median(peer)) if v in PEER_OF and s and peer else ""
            table.rows.append(
                [
                    engine,
                    WORLD[v],
                    LABEL[v],
                    f"{median(s):.0f}" if s else "-",
                    f"{min(s):.0f}-{max(s):.0f}" if s else "-",
                    f"{len(s)}/{len(s) + len(failures[v])}",
                    vs,
                ]
            )
            for f in failures[v][:2]:
                self.note_once(table, f"{engine} {LABEL[v]}: {f[:400]}")
            if v in PEER_OF and s and peer:
                met = "met" if median(s) <= median(peer) else "MISSED"
                table.verdicts.append(
                    f"{engine} {WORLD[v]}: aws_wrapper {median(s):.0f} ms vs "
                    f"aws-advanced-python-wrapper {median(peer):.0f} ms (target: no worse: {met})"
                )

    def _one_blackhole(
        self,
        w: Worker,
        cluster: Cluster,
        v: str,
        props: dict[str, Any],
        sql: str,
        warm_sql: str,
        watchdog_s: float,
        sleep_s: int,
    ) -> tuple[float | None, str]:
        writer = cluster.writer
        w.call(
            "efm_start",
            variant=v,
            target=cluster_target(cluster, writer),
            props=props,
            warm_sql=warm_sql,
            settle_s=0.5,
            timeout=90,
        )
        sent = float(w.call("efm_query", sql=sql))
        time.sleep(max(0.0, sent + 0.3 - time.monotonic()))
        cluster.blackhole(writer)
        t_bh = time.monotonic()
        r = w.call("efm_wait", timeout_s=watchdog_s, timeout=watchdog_s + 30)
        if r is None:
            cluster.heal()
            late = w.call("efm_wait", timeout_s=sleep_s + 10, timeout=sleep_s + 40)
            what = (
                "the query then completed"
                if late and not late["error_type"]
                else (f"then {late['error_type']}" if late else "still running")
            )
            return None, f"no abort within {watchdog_s:.0f} s of the blackhole ({what})"
        if r["error_type"] is None:
            return None, "the query completed although its host was blackholed"
        ms = (float(r["ended_at"]) - t_bh) * 1000
        kind = "" if r["network_error"] else " (not a network error)"
        return ms, f"[{r['error_type']}{kind}; {writer}]"

    # -- 5. read/write splitting ---------------------------------------------------------------

    def scenario_5(self) -> Table:
        sizes = self.opts.sizes
        cluster = self.servers.cluster("postgresql")
        target = cluster_target(cluster)
        reader = cluster_target(cluster, "reader")
        variants = self.variants((*SYNC, *ASYNC))
        props = {"plugins": "read_write_splitting"}
        table = Table(
            5,
            SCENARIOS[5],
            ["world", "operation", "variant", "median us/op", "IQR %", "vs raw", "ours / peer"],
        )
        requests = max(1, sizes.rw_ops // 4)
        table.setup = (
            '`plugins="read_write_splitting"` with each wrapper\'s internal pools (aws_wrapper: '
            "`(Async)PooledConnectionProvider` per connection; aws-advanced-python-wrapper: "
            "`SqlAlchemyPooledConnectionProvider` / aio `AsyncPooledConnectionProvider` set with "
            "its provider manager), PostgreSQL devcluster. *toggle*: on one long-lived "
            "connection `read_only = True`, `SELECT 1`, `read_only = False`, `SELECT 1` (raw: "
            "`SELECT 1` on a reader connection, then on a writer connection: the floor). "
            "*request*: connect to the cluster endpoint, `read_only = True`, `SELECT 1`, close. "
            f"{sizes.rounds} interleaved rounds of {sizes.rw_ops} toggles / {requests} requests."
        )
        log(f"5. read/write splitting with pools: {', '.join(variants)}")
        samples: dict[tuple[str, str], list[float]] = {}
        with self.workers(cluster.hosts_file, self.kinds(variants)) as ws:
            usable = []
            for v in variants:
                try:
                    r = ws[worker_kind(v)].call(
                        "rw_open",
                        key=v,
                        variant=v,
                        target=target,
                        props=props_for(v, props, cluster),
                        reader_target=reader,
                        timeout=120,
                    )
                except WorkerError as e:
                    self.note_once(table, f"{LABEL[v]} {WORLD[v]}: could not be set up: {e}")
                    log(f"  {v}: FAILED to set up: {e}")
                    continue
                if not r["reader"]:
                    self.note_once(
                        table,
                        f"{LABEL[v]} {WORLD[v]}: read_only=True did not reach "
                        "a reader (pg_is_in_recovery() false)",
                    )
                log(f"  {v}: {r.get('plugins', 'two raw connections')}")
                usable.append(v)
            ops = [("toggle", sizes.rw_ops), ("request", requests)]
            broken: set[tuple[str, str]] = set()
            for v in usable:  # warm-up: fill the pools
                for op, _ in ops:
                    if op == "request" and v.startswith("raw"):
                        continue
                    try:
                        ws[worker_kind(v)].call(
                            "rw_time",
                            key=v,
                            op=op,
                            n=3,
                            target=target,
                            props=props_for(v, props, cluster),
                            timeout=120,
                        )
                    except WorkerError as e:
                        broken.add((v, op))
                        self.note_once(table, f"{LABEL[v]} {WORLD[v]} {op}: {e}")
                        log(f"  {v} {op}: FAILED: {e}")
            for r_ in range(sizes.rounds):
                for op, n in ops:
                    for v in rotated(usable, r_):
                        if (op == "request" and v.startswith("raw")) or (v, op) in broken:
                            continue
                        try:
                            ns = ws[worker_kind(v)].call(
                                "rw_time",
                                key=v,
                                op=op,
                                n=n,
                                target=target,
                                props=props_for(v, props, cluster),
                                timeout=300,
                            )
                        except WorkerError as e:
                            broken.add((v, op))
                            self.note_once(table, f"{LABEL[v]} {WORLD[v]} {op}: {e}")
                            log(f"  {v} {op}: FAILED: {e}")
                            continue
                        samples.setdefault((v, op), []).append(ns / n / 1000)
                log(
                    f"  round {r_ + 1}/{sizes.rounds} us/toggle: "
                    + ", ".join(
                        f"{v} {samples[(v, 'toggle')][-1]:.0f}"
                        for v in usable
                        if (v, "toggle") in samples
                    )
                )
            for w in ws.values():
                with contextlib.suppress(Exception):
                    w.call("close_all", timeout=60)
                with contextlib.suppress(Exception):
                    w.call("release", timeout=60)
        for world, names in (("sync", SYNC), ("async", ASYNC)):
            for op, _ in ops:
                base = median(samples.get((names[0], op), []))
                for v in [x for x in names if (x, op) in samples]:
                    s = samples[(v, op)]
                    vs_peer = ""
                    if v in PEER_OF and (PEER_OF[v], op) in samples:
                        vs_peer = ratio(median(s), median(samples[(PEER_OF[v], op)]))
                    table.rows.append(
                        [
                            world,
                            op,
                            LABEL[v] + (" (2 connections)" if v == names[0] else ""),
                            f"{median(s):.0f}",
                            f"{iqr_pct(s):.0f}",
                            "(base)" if v == names[0] else ratio(median(s), base),
                            vs_peer,
                        ]
                    )
        return table

    # -- 6. scale ------------------------------------------------------------------------------

    def scenario_6(self) -> Table:
        sizes = self.opts.sizes
        server = self.servers.pg()
        target = server_target(server)
        n = sizes.connections
        wrappers = self.variants(("ours-aio", "peer-aio"))
        peer_rounds = max(2, sizes.scale_rounds // 2)
        peer_slices = max(2, sizes.scale_slices // 3)
        table = Table(
            6,
            SCENARIOS[6] if n == 1000 else f"scale: {n:,} async connections",
            [
                "variant",
                "SELECT 1 per s (median)",
                "raw in the same phase",
                "vs raw per round [q1, q3]",
                f">= {SCALE_TARGET:.2f} x raw",
                "peak RSS KiB / connection",
                "monitor connections",
                "extra tasks",
                "extra threads",
                "CPU while idle %",
                "open s",
            ],
        )
        table.setup = (
            f"{n:,} connections on one asyncio event loop (plain `SelectorEventLoop`), each "
            "running `SELECT 1` (execute + fetchone) in a loop in its own task, against raw "
            "psycopg `AsyncConnection`, on a local PostgreSQL (direct, no proxy: the "
            f"devcluster's Python proxy would be the bottleneck; max_connections="
            f"{self.servers.max_connections}); default plugins. One phase per wrapper: the "
            "wrapper and raw psycopg each in a fresh worker process, both holding their "
            "connections (opened 50 at a time), each with a task that runs the loop while its "
            f"worker's gate is open; then {sizes.scale_rounds} rounds, in each of which the two "
            f"workers load in turn, {sizes.scale_slices} slices each, interleaved (A B B A ..., "
            "who goes first rotating), a slice counting the calls of "
            f"{sizes.scale_slice_s:g} s after {SCALE_SETTLE_S:g} s of settling and ending "
            "once every task has finished its call (one process loads while the other idles); "
            "throughput is the median over the rounds of the calls per second of a worker's "
            "slices; *vs raw*: per round, the wrapper's over the raw one's, the median of "
            "those ratios [q1, q3]; verdict: *met* when q1 >= the target, "
            "*MISSED* when q3 < it, *undecided* when [q1, q3] straddles it. Peak RSS per "
            "connection: the process's peak RSS "
            "(VmHWM, reset before opening) minus its RSS before opening, over the connections. "
            "Monitor connections: the server's client backends of the benchmark's user beyond "
            "the connections opened, counted during the wrapper's load. Extra tasks / threads: "
            "beyond one task per connection and the worker's own, during the load. CPU while "
            "idle: the process's CPU time while the other one loads (its connections open, no "
            "calls), in % of one core: what the wrapper's background work costs. "
            f"aws-advanced-python-wrapper's phase has {peer_rounds} rounds of {peer_slices} "
            "slices: no target depends on it, and its slices take ~4 x as long (its polling "
            "tasks)."
        )
        log(f"6. scale: {n} async connections: raw-async vs {', '.join(wrappers)}")
        for phase, v in enumerate(wrappers):
            rounds, slices = (
                (sizes.scale_rounds, sizes.scale_slices)
                if v == "ours-aio"
                else (peer_rounds, peer_slices)
            )
            try:
                res = self._scale_phase(server, target, ["raw-async", v], n, phase, rounds, slices)
            except BenchError as e:
                log(f"  {v}: FAILED: {e}")
                table.rows.append([LABEL[v], "failed", *[""] * 9])
                self.note_once(table, f"{LABEL[v]}: {str(e)[:500]}")
                continue
            raw, got = res["raw-async"], res[v]
            # one window each per round, back to back: the per-round ratios
            ratios = [a / b for a, b in zip(got["qps"], raw["qps"], strict=True)]
            verdict = judge(ratios, SCALE_TARGET, at_least=True)
            table.rows.append(
                [
                    LABEL[v],
                    f"{median(got['qps']):,.0f}",
                    f"{median(raw['qps']):,.0f}",
                    spread(ratios),
                    verdict if v == "ours-aio" else "",
                    f"{got['kib']:.1f}",
                    got["monitors"],
                    str(got["tasks"]),
                    str(got["threads"]),
                    f"{got['idle_cpu']:.1f}",
                    f"{got['open_s']:.1f}",
                ]
            )
            if phase == 0 or not any(r[0].startswith("raw") for r in table.rows):
                table.rows.insert(
                    len(table.rows) - 1,
                    [
                        "raw psycopg AsyncConnection",
                        f"{median(raw['qps']):,.0f}",
                        "",
                        "(base)",
                        "",
                        f"{raw['kib']:.1f}",
                        "-",
                        str(raw["tasks"]),
                        str(raw["threads"]),
                        f"{raw['idle_cpu']:.1f}",
                        f"{raw['open_s']:.1f}",
                    ],
                )
            self.note_once(table, f"{LABEL[v]} plugins: {got['plugins']}")
            if v == "ours-aio":
                mons = got["monitor_max"]
                table.verdicts.append(
                    f"aws_wrapper.aio throughput {spread(ratios)} x raw psycopg async (median of "
                    f"the per-round ratios [q1, q3]; target >= {SCALE_TARGET:.2f}: {verdict}); "
                    f"{mons} monitor connection(s) for 1 host "
                    f"(target O(hosts): {'met' if 0 <= mons <= 3 else 'MISSED'})"
                )
        return table

    def _scale_phase(
        self,
        server: PostgresServer,
        target: dict[str, Any],
        variants: list[str],
        n: int,
        phase: int,
        rounds: int,
        slices: int,
    ) -> dict[str, dict[str, Any]]:
        """Both variants' workers hold ``n`` connections; load slices alternate (``rounds``
        rounds of ``slices`` slices per worker)."""
        sizes = self.opts.sizes
        ws = Workers(self.opts, self.peer_python, None)
        out: dict[str, dict[str, Any]] = {}
        try:
            workers: dict[str, Worker] = {}
            opened: dict[str, dict[str, Any]] = {}
            held = 0
            for v in rotated(variants, phase):
                w = ws.start(worker_kind(v), tag=f"scale-{v}")
                self.record_versions(w)
                workers[v] = w
                r = w.call(
                    "scale_open",
                    variant=v,
                    target=target,
                    props={},
                    n=n,
                    parallel=50,
                    timeout=900,
                )
                if r["error_count"]:
                    raise BenchError(
                        f"{v}: {r['error_count']} of {n} connections failed to open, e.g. "
                        + "; ".join(r["errors"][:2])
                    )
                held += int(r["opened"])
                opened[v] = r
                log(
                    f"  {v}: opened {n} in {r['open_s']:.1f} s"
                    + (
                        f" ({r['first_query_failovers']} first queries raised FailoverSuccessError)"
                        if r["first_query_failovers"]
                        else ""
                    )
                )
            qps: dict[str, list[float]] = {v: [] for v in variants}
            peak: dict[str, int] = {v: 0 for v in variants}
            tasks: dict[str, set[int]] = {v: set() for v in variants}
            threads: dict[str, set[int]] = {v: set() for v in variants}
            monitors: dict[str, list[int]] = {v: [] for v in variants}
            idle_cpu: dict[str, list[float]] = {v: [] for v in variants}
            gc_ns: dict[str, int] = {v: 0 for v in variants}
            load_s: dict[str, float] = {v: 0.0 for v in variants}
            collections: dict[str, int] = {v: 0 for v in variants}
            objects: dict[str, int] = {}
            for w in workers.values():
                w.call("scale_start", timeout=120)
            for r_ in range(rounds):
                calls: dict[str, float] = {v: 0.0 for v in variants}
                secs: dict[str, float] = {v: 0.0 for v in variants}
                for k in range(slices):
                    for v in rotated(variants, r_ + phase + k):
                        idle = [x for x in variants if x != v]
                        cpu0 = {x: cpu_seconds(workers[x].pid) for x in idle}
                        wall0 = time.monotonic()
                        counted: list[int] = []

                        def count(counted: list[int] = counted) -> None:
                            with contextlib.suppress(Exception):
                                counted.append(client_backends(server) - held)

                        # the server's backends counted mid-slice, once per round
                        timer = (
                            threading.Timer(SCALE_SETTLE_S + sizes.scale_slice_s / 2, count)
                            if k == 0
                            else None
                        )
                        if timer is not None:
                            timer.start()
                        try:
                            run = workers[v].call(
                                "scale_slice",
                                settle_s=SCALE_SETTLE_S,
                                slice_s=sizes.scale_slice_s,
                                timeout=300,
                            )
                        finally:
                            if timer is not None:
                                timer.join()
                        wall = time.monotonic() - wall0
                        for x in idle:
                            idle_cpu[x].append(100 * (cpu_seconds(workers[x].pid) - cpu0[x]) / wall)
                        if run["load_error_count"]:
                            raise BenchError(
                                f"{v}: {run['load_error_count']} connections failed under load, "
                                "e.g. " + "; ".join(run["load_errors"][:2])
                            )
                        calls[v] += float(run["calls"])
                        secs[v] += float(run["elapsed"])
                        gc_ns[v] += int(run["gc_ns"])
                        collections[v] += int(run["gc_collections"])
                        objects[v] = int(run["objects"])
                        peak[v] = max(peak[v], int(run["peak_rss_kb"]))
                        tasks[v].add(int(run["extra_tasks"]))
                        threads[v].add(int(run["extra_threads"]))
                        monitors[v] += counted
                for v in variants:
                    qps[v].append(calls[v] / secs[v])
                    load_s[v] += secs[v]
                log(
                    f"  round {r_ + 1}/{rounds} SELECT 1/s: "
                    + ", ".join(f"{v} {qps[v][-1]:,.0f}" for v in variants)
                    + " (monitor connections during the load: "
                    + ", ".join(f"{v} {monitors[v][-1] if monitors[v] else '?'}" for v in variants)
                    + ")"
                )
            for w in workers.values():
                w.call("scale_stop", timeout=180)
            for v in variants:
                mons = sorted(set(monitors[v]))
                out[v] = {
                    "qps": qps[v],
                    "kib": (peak[v] - int(opened[v]["base_rss_kb"])) / n,
                    "monitors": "/".join(str(m) for m in mons) or "?",
                    "monitor_max": max(mons) if mons else -1,
                    "tasks": seen_values(tasks[v]),
                    "threads": seen_values(threads[v]),
                    "open_s": float(opened[v]["open_s"]),
                    "plugins": str(opened[v]["plugins"]),
                    "idle_cpu": median(idle_cpu[v]),
                    "gc_pct": 100 * gc_ns[v] / 1e9 / load_s[v] if load_s[v] else 0.0,
                    "objects": objects.get(v, 0),
                }
                log(
                    f"  {v}: median {median(qps[v]):,.0f} SELECT 1/s, peak "
                    f"{out[v]['kib']:.1f} KiB/connection, monitor connections "
                    f"{out[v]['monitors']}, extra tasks {out[v]['tasks']}, extra threads "
                    f"{out[v]['threads']}, CPU while idle {out[v]['idle_cpu']:.1f}% of a core, "
                    f"{out[v]['gc_pct']:.1f}% of the load's time in the garbage collector "
                    f"({collections[v]} collections; {out[v]['objects']:,} objects tracked)"
                )
            for w in workers.values():
                w.call("scale_close", timeout=600)
        finally:
            ws.close()
        return out

    # -- 7. blue/green switchover --------------------------------------------------------------

    def scenario_7(self) -> Table:
        sizes = self.opts.sizes
        cases = [c for c in S7_CASES if c[0] in self.opts.variants]
        table = Table(
            7,
            SCENARIOS[7],
            [
                "engine",
                "world",
                "variant",
                "plugins",
                "held s (median / worst)",
                "worst write ms (median / worst)",
                "errors per run (median / worst)",
                "error kinds (all runs)",
                "INSERTs on old blue (all runs)",
                "acked writes on green (all runs)",
                "steady after s (median / worst)",
                "runs",
            ],
        )
        table.setup = (
            f"Per run: a blue/green deployment is created (`bg_create`), then {BG_WRITERS} "
            "writers, each on its own connection, INSERT a new row every "
            f"{BG_INTERVAL_S * 1000:.0f} ms (autocommit: an acknowledged INSERT is a committed "
            "row); after the failover signal they go on with a new cursor, after any other "
            "error they close the connection and open a new one 50 ms later (as a pool "
            "would). Properties: "
            f"`failover_timeout_sec={BG_FAILOVER_TIMEOUT_SEC}` (a failover that finds no "
            "writer gives up within the run), the `bg` settings at each wrapper's defaults. "
            f"After {BG_SETTLE_S:g} s of steady writes (t0) the devcluster "
            "switches over with its default timings (`bg_switchover`, ~5-7 s: blue stops "
            "taking writes, green catches up and is promoted, names swapped, DNS 2.5 s late); "
            f"the writers go on {BG_AFTER_S:g} s after it has ended. *held*: the longest time "
            "a writer went without an acknowledged INSERT from t0 to the end; *worst write*: "
            "the longest single attempt (connect when needed + INSERT, failed ones too); "
            "*errors*: what the writers' calls raised (`(read-only)`: refused by a read-only "
            "server, i.e. old blue); *INSERTs on old blue*: the application user's INSERTs "
            "into the run's table that old blue received after it stopped taking writes, from "
            "its own statement log (`bg_statements`); *acked writes on green*: every "
            "acknowledged id looked up on green's writer afterwards; *steady after*: t0 -> "
            "the moment from which every writer committed without an error or a gap of more "
            f"than {BG_STEADY_GAP_S:g} s to the end. *hung*: a writer's call still running "
            f"for {BG_HUNG_S:g} s when the writers are told to stop (longer than any timeout "
            "configured; the worker is then killed). "
            f"{sizes.switchovers} switchovers per variant and engine, variants in rotating "
            "order, each in a fresh worker process; the deployment is deleted after each "
            "(blue gets its names back). Medians and worst over the runs."
        )
        for engine in self.opts.engines:
            self._switchover_engine(table, engine, cases)
        return table

    def _switchover_runs(
        self,
        engine: str,
        cluster: Cluster,
        cases: list[tuple[str, str]],
        one: Callable[[Workers, tuple[str, str], int], SwitchoverRun],
    ) -> tuple[dict[tuple[str, str], list[SwitchoverRun]], dict[tuple[str, str], list[str]]]:
        """Scenarios 7 and 8: ``sizes.switchovers`` rounds of ``one(workers, case, round)``
        per case, cases in rotating order; a case that failed twice without a run is given up.
        The runs and the failures per case."""
        sizes = self.opts.sizes
        runs: dict[tuple[str, str], list[SwitchoverRun]] = {c: [] for c in cases}
        failures: dict[tuple[str, str], list[str]] = {c: [] for c in cases}
        ws = Workers(self.opts, self.peer_python, cluster.hosts_file)
        try:
            for r_ in range(sizes.switchovers):
                for case in rotated(cases, r_):
                    if len(failures[case]) >= 2 and not runs[case]:
                        continue  # gave up on this variant
                    name = f"{engine} {case[0]} {case[1]} {r_ + 1}/{sizes.switchovers}"
                    try:
                        run = one(ws, case, r_)
                    except Exception as e:  # a variant that cannot run; the others go on
                        failures[case].append(f"{type(e).__name__}: {e}")
                        log(f"  {name}: FAILED: {type(e).__name__}: {e}")
                        continue
                    runs[case].append(run)
                    log(f"  {name}: {run.detail}")
        finally:
            ws.close()
        return runs, failures

    def _switchover_engine(self, table: Table, engine: str, cases: list[tuple[str, str]]) -> None:
        sizes = self.opts.sizes
        cluster = self.servers.cluster(engine)
        target = cluster_target(cluster)
        log(
            f"7. blue/green switchover on {engine}: "
            + ", ".join(f"{v} {p}" for v, p in cases)
            + f", {sizes.switchovers} switchovers each"
        )
        runs, failures = self._switchover_runs(
            engine,
            cluster,
            cases,
            lambda ws, case, r_: self._one_switchover(ws, cluster, case, target, r_),
        )
        for case in cases:
            self._switchover_row(table, engine, case, runs[case], failures[case])
            if any(r.hung for r in runs[case]):
                self.note_once(
                    table,
                    "*hung*: a writer's call had not returned after "
                    f"{BG_HUNG_S:g} s (the worker was killed; every thread's stack is in its log "
                    "under .bench/compare/). aws-advanced-python-wrapper 3.1.0's "
                    "BlueGreenPlugin.execute re-derives its routing from the status it read "
                    "before its loop, so a call suspended in IN_PROGRESS spins once the phase is "
                    "over (its aio package then never yields to the event loop).",
                )
        self._switchover_verdicts(table, engine, runs)

    def _one_switchover(
        self,
        ws: Workers,
        cluster: Cluster,
        case: tuple[str, str],
        target: dict[str, Any],
        round_: int,
    ) -> SwitchoverRun:
        v, plugins = case
        self._bg_tables += 1
        table_name = f"bench_bg_{self._bg_tables}"
        status = cluster.bg_create()
        try:
            green_writer = str(status["green"]["writer"])
            create = f"CREATE TABLE {table_name} (id BIGINT PRIMARY KEY, writer INT)"
            run_sql(cluster, cluster.writer, create)
            tag = f"s7-{cluster.engine.value}-{v}-{plugins.replace(',', '+')}-{round_ + 1}"
            w = ws.start(worker_kind(v), tag)
            self.record_versions(w)
            report: dict[str, Any] | None = None
            try:
                props = {"plugins": plugins, "failover_timeout_sec": BG_FAILOVER_TIMEOUT_SEC}
                w.call(
                    "bg_start",
                    variant=v,
                    target=target,
                    props=props_for(v, props, cluster),
                    table=table_name,
                    writers=BG_WRITERS,
                    interval_s=BG_INTERVAL_S,
                    settle_s=BG_SETTLE_S,
                    timeout_s=30.0,
                    timeout=60,
                )
                t0, t0_epoch = time.monotonic(), time.time()
                cluster.bg_switchover(wait=False)
                done = cluster.bg_wait(None, timeout=120)
                ended = time.monotonic()
                time.sleep(BG_AFTER_S)
                with contextlib.suppress(WorkerSilent):
                    report = w.call("bg_stop", hung_s=BG_HUNG_S, timeout=BG_HUNG_S + 30)
            finally:
                if report is None or report["hung"]:
                    w.kill()  # a writer stuck in a call (or a worker that does not answer)
                else:
                    w.close()
            switchover = done["switchover"]
            if switchover.get("outcome") != "completed":
                raise BenchError(f"the switchover did not complete: {switchover.get('error')}")
            user = str(target["user"])
            on_old_blue = [
                s
                for s in cluster.bg_statements()
                if s["user"] == user
                and table_name in s["statement"]
                and "insert" in s["statement"].lower()
            ]
            on_green = table_ids(cluster, green_writer, table_name)
        finally:
            cluster.bg_delete()
        run = SwitchoverRun.of(report, t0, ended, switchover, len(on_old_blue), on_green)
        if on_old_blue:
            at = [float(s["at"]) - t0_epoch for s in on_old_blue]
            where = ", ".join(sorted({str(s["instance"]) for s in on_old_blue}))
            run.detail += f"; INSERTs on old blue at +{min(at):.2f}..+{max(at):.2f} s ({where})"
        return run

    def _switchover_row(
        self,
        table: Table,
        engine: str,
        case: tuple[str, str],
        runs: list[SwitchoverRun],
        failures: list[str],
        old_blue: bool = True,
    ) -> None:
        """One row of scenario 7 (``old_blue``: with its INSERTs-on-old-blue column) or 8."""
        v, plugins = case
        row = [engine, WORLD[v], LABEL[v], plugins]
        total = len(runs) + len(failures)
        if not runs:
            why = "n/a" if v.startswith("peer") else "failed"
            table.rows.append([*row, *([why] * (7 if old_blue else 6)), f"0/{total}"])
        else:
            kinds: dict[str, int] = {}
            for r in runs:
                for kind, count in r.kinds().items():
                    kinds[kind] = kinds.get(kind, 0) + count
            acked = sum(r.acked for r in runs)
            missing = sum(r.missing for r in runs)
            hung = sum(1 for r in runs if r.hung)
            silent = sum(1 for r in runs if r.report_lost)
            table.rows.append(
                [
                    *row,
                    med_worst([r.held_s for r in runs], "{:.2f}"),
                    med_worst([r.worst_s * 1000 for r in runs], "{:.0f}"),
                    med_worst([float(len(r.errors)) for r in runs], "{:.0f}"),
                    ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
                    or "none",
                    *([str(sum(r.on_old_blue for r in runs))] if old_blue else []),
                    (f"all {acked:,}" if not missing else f"{missing:,} of {acked:,} missing")
                    + (f" ({silent} run(s) unknown)" if silent else ""),
                    med_worst([r.steady_s for r in runs], "{:.1f}", inf="never"),
                    f"{len(runs)}/{total}" + (f", {hung} hung" if hung else ""),
                ]
            )
        for f in failures[:2]:
            what = "n/a" if v.startswith("peer") and not runs else "failed"
            self.note_once(table, f"{engine} {LABEL[v]} {plugins}: {what}: {f[:400]}")

    def _switchover_verdicts(
        self, table: Table, engine: str, runs: dict[tuple[str, str], list[SwitchoverRun]]
    ) -> None:
        def brief(rs: list[SwitchoverRun]) -> str:
            hung = sum(1 for r in rs if r.hung)
            if hung == len(rs):
                return f"hung in {hung}/{len(rs)} runs"
            out = (
                f"held {med_worst([r.held_s for r in rs], '{:.2f}')} s, "
                f"{med_worst([float(len(r.errors)) for r in rs], '{:.0f}')} errors per run, "
                f"{sum(r.on_old_blue for r in rs)} INSERTs on old blue"
            )
            return out + (f", hung in {hung}/{len(rs)} runs" if hung else "")

        for ours, peer in (("ours-sync", "peer-sync"), ("ours-aio", "peer-aio")):
            if (ours, S7_PLUGINS) not in runs or (peer, S7_PLUGINS) not in runs:
                continue  # not both measured (--only)
            mine, theirs = runs[(ours, S7_PLUGINS)], runs[(peer, S7_PLUGINS)]
            table.verdicts.append(
                f"{engine} {WORLD[ours]} ({S7_PLUGINS}, held median / worst): aws_wrapper "
                f"{brief(mine) if mine else 'did not run (see the notes)'}; "
                "aws-advanced-python-wrapper "
                f"{brief(theirs) if theirs else 'did not run (see the notes)'}"
            )
        alone = runs.get(("ours-sync", "failover_v2"), [])
        with_bg = runs.get(("ours-sync", S7_PLUGINS), [])
        if alone and with_bg:
            table.verdicts.append(
                f"{engine} sync, what bg adds to failover_v2: {S7_PLUGINS} {brief(with_bg)}; "
                f"failover_v2 alone {brief(alone)}"
            )
        lost = [f"{v} {p}" for (v, p), rs in runs.items() if any(r.missing for r in rs)]
        unknown = [f"{v} {p}" for (v, p), rs in runs.items() if any(r.report_lost for r in rs)]
        table.verdicts.append(
            f"{engine}: every acknowledged write on green afterwards: "
            + (f"NO for {', '.join(lost)}" if lost else "yes, every variant and run")
            + (f" (unknown for {', '.join(unknown)}: the worker did not answer)" if unknown else "")
        )

    # -- scenario 8 ------------------------------------------------------------------------------

    def scenario_8(self) -> Table:
        sizes = self.opts.sizes
        cases = [c for c in S8_CASES if c[0] in self.opts.variants]
        table = Table(
            8,
            SCENARIOS[8],
            [
                "engine",
                "world",
                "variant",
                "plugins",
                "held s (median / worst)",
                "worst write ms (median / worst)",
                "errors per run (median / worst)",
                "error kinds (all runs)",
                "acked writes on the new writer (all runs)",
                "steady after s (median / worst)",
                "runs",
            ],
        )
        table.setup = (
            f"A global database on the devcluster: {GDB_REGIONS[0]} (home: the writer and a "
            f"reader) and {GDB_REGIONS[1]} (2 read-only instances), the instances outside "
            f"{GDB_REGIONS[0]} {GDB_LATENCY_MS} ms away (a latency fault on their proxies: the "
            f"application lives in {GDB_REGIONS[0]}). Per run, {BG_WRITERS} writers, each on its "
            "own connection to the global writer endpoint, INSERT a new row every "
            f"{BG_INTERVAL_S * 1000:.0f} ms (autocommit); after the failover signal they go on "
            "with a new cursor, after any other error they close the connection and open a new "
            "one 50 ms later. Properties: `global_cluster_instance_host_patterns` (the "
            "devcluster's), `failover_home_region` "
            f"{GDB_REGIONS[0]}, `failover_timeout_sec={BG_FAILOVER_TIMEOUT_SEC}`, the rest at "
            f"each wrapper's defaults. After {BG_SETTLE_S:g} s of steady writes (t0) the "
            "devcluster runs a managed cross-region switchover to the other region "
            "(`global_switchover`: the writer stops taking writes, every instance catches up, "
            "the other region's first instance is promoted, the regional endpoints follow at "
            "once, the global writer endpoint's DNS 2 s later); runs alternate the direction. "
            f"The writers go on {BG_AFTER_S:g} s after the DNS has moved. *held*, *worst "
            "write*, *errors*, *steady after*: as in scenario 7; *acked writes on the new "
            "writer*: every acknowledged id looked up on the new writer afterwards (a managed "
            f"switchover loses nothing). {sizes.switchovers} switchovers per variant and "
            "engine, variants in rotating order, each in a fresh worker process. Medians and "
            "worst over the runs."
        )
        for engine in self.opts.engines:
            self._global_engine(table, engine, cases)
        return table

    def _global_engine(self, table: Table, engine: str, cases: list[tuple[str, str]]) -> None:
        sizes = self.opts.sizes
        cluster = self.servers.global_cluster(engine)
        target = cluster_target(cluster, "global")
        log(
            f"8. cross-region switchover on {engine}: "
            + ", ".join(f"{v} {p}" for v, p in cases)
            + f", {sizes.switchovers} switchovers each"
        )
        runs, failures = self._switchover_runs(
            engine,
            cluster,
            cases,
            lambda ws, case, r_: self._one_global_switchover(ws, cluster, case, target, r_),
        )
        for case in cases:
            self._switchover_row(table, engine, case, runs[case], failures[case], old_blue=False)
        for ours, peer in (("ours-sync", "peer-sync"), ("ours-aio", "peer-aio")):
            mine, theirs = runs.get((ours, S8_PLUGINS)), runs.get((peer, S8_PLUGINS))
            if mine is None or theirs is None:
                continue

            def brief(rs: list[SwitchoverRun]) -> str:
                if not rs:
                    return "did not run (see the notes)"
                return (
                    f"held {med_worst([r.held_s for r in rs], '{:.2f}')} s, "
                    f"{med_worst([float(len(r.errors)) for r in rs], '{:.0f}')} errors per run"
                )

            table.verdicts.append(
                f"{engine} {WORLD[ours]} ({S8_PLUGINS}, held median / worst): aws_wrapper "
                f"{brief(mine)}; aws-advanced-python-wrapper {brief(theirs)}"
            )
        lost = [f"{v} {p}" for (v, p), rs in runs.items() if any(r.missing for r in rs)]
        table.verdicts.append(
            f"{engine}: every acknowledged write on the new writer afterwards: "
            + (f"NO for {', '.join(lost)}" if lost else "yes, every variant and run")
        )

    def _one_global_switchover(
        self,
        ws: Workers,
        cluster: Cluster,
        case: tuple[str, str],
        target: dict[str, Any],
        round_: int,
    ) -> SwitchoverRun:
        v, plugins = case
        self._bg_tables += 1
        table_name = f"bench_gdb_{self._bg_tables}"
        status = cluster.global_status() or {}
        old_region = str(status.get("primary_region", GDB_REGIONS[0]))
        new_region = next(r for r in cluster.regions if r != old_region)
        create = f"CREATE TABLE {table_name} (id BIGINT PRIMARY KEY, writer INT)"
        run_sql(cluster, cluster.writer, create)
        tag = f"s8-{cluster.engine.value}-{v}-{plugins.replace(',', '+')}-{round_ + 1}"
        w = ws.start(worker_kind(v), tag)
        self.record_versions(w)
        report: dict[str, Any] | None = None
        try:
            props = {
                "plugins": plugins,
                "failover_timeout_sec": BG_FAILOVER_TIMEOUT_SEC,
                "failover_home_region": GDB_REGIONS[0],
                "global_cluster_instance_host_patterns": gdb_patterns(v, cluster),
            }
            w.call(
                "bg_start",
                variant=v,
                target=target,
                props=props_for(v, props, cluster),
                table=table_name,
                writers=BG_WRITERS,
                interval_s=BG_INTERVAL_S,
                settle_s=BG_SETTLE_S,
                timeout_s=30.0,
                timeout=60,
            )
            t0 = time.monotonic()
            moved = cluster.global_switchover(new_region)
            dns_lag = float(moved.get("dns_lag_s") or 0.0)
            ended = time.monotonic()
            time.sleep(dns_lag + BG_AFTER_S)
            with contextlib.suppress(WorkerSilent):
                report = w.call("bg_stop", hung_s=BG_HUNG_S, timeout=BG_HUNG_S + 30)
        finally:
            if report is None or report["hung"]:
                w.kill()
            else:
                w.close()
        new_writer = str(moved["new_writer"])
        on_new = table_ids(cluster, new_writer, table_name)
        events = [
            {"event": str(s["event"]), "offset_s": float(s["offset_s"])}
            for s in moved.get("steps", [])
        ]
        run = SwitchoverRun.of(report, t0, ended, {"events": events}, 0, on_new)
        run.detail = f"{old_region} -> {new_region} ({moved.get('total_s', 0):.1f} s): " + (
            run.detail.replace(", 0 INSERTs on old blue", "")
            .replace("on green", "on the new writer")
            .replace(": )", ")")
        )
        return run

    # -- scenario 9 ------------------------------------------------------------------------------

    def scenario_9(self) -> Table:
        sizes = self.opts.sizes
        cases = [c for c in S9_CASES if c[0] in self.opts.variants]
        loads = ", ".join(f"{x:g}" for x in LIMITLESS_LOADS)
        table = Table(
            9,
            SCENARIOS[9],
            [
                "world",
                "variant",
                "plugins",
                "connect ms [q1, q3]",
                "vs raw",
                "connections per router",
                "distance from free capacity",
                "on the most loaded router",
                "rounds",
            ],
        )
        table.setup = (
            f"A PostgreSQL devcluster with a DB shard group of {len(LIMITLESS_LOADS)} "
            f"transaction routers reporting loads {loads} "
            "(`aurora_limitless_router_endpoints()`); the shard group endpoint resolves "
            "round-robin to the routers (as Route 53 answers it). Per round and variant, in a "
            f"worker process of its own, {sizes.limitless_connects} connections to the shard "
            "group endpoint opened one after another and held (then closed): *connect ms*: "
            "the open times, median [q1, q3] over all rounds; *vs raw*: that median over the "
            "raw driver's (round-robin DNS); *connections per router*: what the routers' "
            "proxies counted while they were held, summed over the rounds (a wrapper's "
            "router monitor holds one connection of its own, counted too); *distance from "
            "free capacity*: the total variation distance between those shares and the "
            "routers' shares of free capacity (1 - load), 0 = spread exactly by free "
            f"capacity (round robin over {len(LIMITLESS_LOADS)} routers with these loads "
            f"scores {tv_distance([1.0] * len(LIMITLESS_LOADS), free_shares()):.2f}); "
            "*on the most loaded router*: its share of the connections. "
            f"{sizes.limitless_rounds} rounds, variants in rotating order, limitless "
            "properties at each wrapper's defaults."
        )
        cluster = self.servers.limitless_cluster()
        target = cluster_target(cluster, "shardgrp")
        routers = cluster.router_ids()
        for router, load in zip(routers, LIMITLESS_LOADS, strict=True):
            cluster.limitless_load(router, load)
        log(
            f"9. limitless: {len(routers)} routers (loads {loads}), "
            f"{sizes.limitless_connects} connects per round, {sizes.limitless_rounds} rounds: "
            + ", ".join(f"{v} {p or 'none'}" for v, p in cases)
        )
        times: dict[tuple[str, str], list[float]] = {c: [] for c in cases}
        counts: dict[tuple[str, str], list[int]] = {c: [0] * len(routers) for c in cases}
        done: dict[tuple[str, str], int] = {c: 0 for c in cases}
        failures: dict[tuple[str, str], list[str]] = {c: [] for c in cases}
        ws = Workers(self.opts, self.peer_python, cluster.hosts_file)
        try:
            for r_ in range(sizes.limitless_rounds):
                for case in rotated(cases, r_):
                    if len(failures[case]) >= 2 and not done[case]:
                        continue
                    v, plugins = case
                    name = f"{v} {plugins or 'none'} {r_ + 1}/{sizes.limitless_rounds}"
                    w = ws.start(worker_kind(v), f"s9-{v}-{plugins or 'none'}-{r_ + 1}")
                    self.record_versions(w)
                    try:
                        props = props_for(v, {"plugins": plugins}, None)
                        ns = w.call(
                            "hold_open",
                            variant=v,
                            target=target,
                            props=props,
                            n=sizes.limitless_connects,
                            timeout=300,
                        )
                        status = cluster.limitless_status() or {"routers": []}
                        by_id = {str(r["id"]): int(r["connections"]) for r in status["routers"]}
                        got = [by_id.get(router, 0) for router in routers]
                        w.call("hold_close", timeout=120)
                    except Exception as e:
                        failures[case].append(f"{type(e).__name__}: {e}")
                        log(f"  {name}: FAILED: {type(e).__name__}: {e}")
                        continue
                    finally:
                        w.close()
                    ms = [x / 1e6 for x in ns]
                    times[case] += ms
                    counts[case] = [a + b for a, b in zip(counts[case], got, strict=True)]
                    done[case] += 1
                    log(f"  {name}: connect {spread(ms)} ms, per router {got}")
        finally:
            ws.close()
        raw = {
            WORLD[v]: median(times[(v, p)])
            for v, p in cases
            if v.startswith("raw") and times[(v, p)]
        }
        for case in cases:
            v, plugins = case
            row = [WORLD[v], LABEL[v], plugins or "(none)"]
            if not done[case]:
                why = "n/a" if v.startswith("peer") else "failed"
                table.rows.append([*row, *([why] * 5), f"0/{len(failures[case])}"])
            else:
                got = counts[case]
                base = raw.get(WORLD[v])
                table.rows.append(
                    [
                        *row,
                        spread(times[case]),
                        f"{median(times[case]) / base:.2f}" if base else "",
                        " / ".join(str(n) for n in got),
                        f"{tv_distance(got, free_shares()):.2f}",
                        f"{100 * got[-1] / max(1, sum(got)):.0f}%",
                        f"{done[case]}/{done[case] + len(failures[case])}",
                    ]
                )
            for f in failures[case][:2]:
                what = "n/a" if v.startswith("peer") and not done[case] else "failed"
                self.note_once(table, f"{LABEL[v]} {plugins or '(none)'}: {what}: {f[:400]}")
        for world in ("sync", "async"):
            parts = []
            for v, p in cases:
                if WORLD[v] == world and done[(v, p)]:
                    parts.append(
                        f"{LABEL[v]} {p or '(none)'} {median(times[(v, p)]):.1f} ms, distance "
                        f"{tv_distance(counts[(v, p)], free_shares()):.2f}"
                    )
            if parts:
                table.verdicts.append(f"{world}: " + "; ".join(parts))
        return table

    # -- scenario 10 -----------------------------------------------------------------------------

    def scenario_10(self) -> Table:
        sizes = self.opts.sizes
        table = Table(10, SCENARIOS[10], list(self._s1_columns()))
        table.setup = (
            "Paired rounds as in scenario 1 (the same columns and measures), psycopg on a plain "
            f"local PostgreSQL, {sizes.pair_rounds} rounds per cell, aws_wrapper with the "
            "default plugins: telemetry off (the default), and `enable_telemetry=true` with "
            "no OpenTelemetry SDK in the process (the API's no-op tracer: what an application "
            "that installed the extra but configured nothing pays), in one worker process; "
            "then, in a worker process whose OpenTelemetry SDK is set up (a TracerProvider "
            "with a BatchSpanProcessor whose exporter drops the spans, and a MeterProvider "
            "with an in-memory reader: production's span path without the network), telemetry "
            "off again and on. Each variant's figures are against the raw driver measured "
            "beside it (*own CPU* and *elapsed over raw*), so on - off is what telemetry adds."
        )
        server = self.servers.pg()
        target = server_target(server)
        pinner = Pinner(self.opts.pin)
        results: list[PairResult] = []
        phases: list[tuple[str, bool, dict[str, tuple[dict[str, Any], str]]]] = [
            (
                "no SDK",
                False,
                {
                    "off": ({}, "telemetry off"),
                    "on-api": ({"enable_telemetry": True}, "telemetry on, no SDK"),
                },
            ),
            (
                "SDK",
                True,
                {
                    "off-sdk": ({}, "telemetry off, SDK set up"),
                    "on-sdk": ({"enable_telemetry": True}, "telemetry on, SDK"),
                },
            ),
        ]
        log("10. telemetry cost per call, psycopg, plain PostgreSQL")
        for name, sdk, variants in phases:
            with self.workers(None, ["ours"]) as ws:
                if sdk:
                    got = ws["ours"].call("otel_sdk", timeout=60)
                    log(f"  OpenTelemetry SDK {got.get('sdk')} set up in the worker")
                for world in ("sync", "async"):
                    try:
                        self._per_call_cell(
                            table,
                            pinner,
                            f"PostgreSQL, {name}",
                            target,
                            None,
                            "psycopg",
                            world,
                            ws,
                            [],
                            results,
                            variants,
                        )
                    except WorkerError as e:
                        log(f"  psycopg {world} ({name}): FAILED: {e}")
                        self.note_once(table, f"psycopg {world} ({name}): failed: {str(e)[:300]}")
                    finally:
                        pinner.restore()
                        with contextlib.suppress(Exception):
                            ws["ours"].call("close_all", timeout=60)
        by = {(x.who, x.world, x.pattern): x for x in results}
        for world in ("sync", "async"):
            for pattern in ("reused", "new"):
                parts = []
                for off, on, what in (("off", "on-api", "no SDK"), ("off-sdk", "on-sdk", "SDK")):
                    a, b = by.get((off, world, pattern)), by.get((on, world, pattern))
                    if a is None or b is None:
                        continue
                    parts.append(
                        f"{what} +{median(b.cpu_diffs) - median(a.cpu_diffs):.1f} us CPU, "
                        f"+{median(b.diffs) - median(a.diffs):.1f} us elapsed"
                    )
                if parts:
                    table.verdicts.append(
                        f"telemetry on - off, psycopg {world}, {PATTERN_LABEL[pattern]}: "
                        + "; ".join(parts)
                    )
        return table

    # -- everything ----------------------------------------------------------------------------

    def run(self) -> int:
        runners: dict[int, Callable[[], Table]] = {
            1: self.scenario_1,
            2: self.scenario_2,
            3: self.scenario_3,
            4: self.scenario_4,
            5: self.scenario_5,
            6: self.scenario_6,
            7: self.scenario_7,
            8: self.scenario_8,
            9: self.scenario_9,
            10: self.scenario_10,
        }
        try:
            if any(worker_kind(v) == "peer" for v in self.opts.variants):
                self.peer_python = ensure_peer_venv(self.opts.peer_venv)
            for n in self.opts.scenarios:
                started = time.monotonic()
                table = runners[n]()
                self.tables.append(table)
                print()
                print(table.console())
                print()
                log(f"scenario {n} done in {time.monotonic() - started:.0f} s")
        finally:
            self.servers.stop()
        self.versions.update(self.servers.versions)
        return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def client_backends(server: PostgresServer) -> int:
    with psycopg.connect(**server.admin_params(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
            "AND backend_type = 'client backend'",
            (server.conn_params()["user"],),
        ).fetchone()
    return int(row[0]) if row else 0


# -- scenario 7 --------------------------------------------------------------------------------


def med_worst(values: Sequence[float], fmt: str, inf: str = "hung") -> str:
    """``median / worst`` of per-run figures (infinite: ``inf``, a hung or never steady run)."""
    if not values:
        return "-"

    def f(x: float) -> str:
        return inf if x == float("inf") else fmt.format(x)

    return f"{f(median(values))} / {f(max(values))}"


def longest_gap(times: Sequence[float], since: float, until: float) -> float:
    """The longest time without an acknowledged write in [since, until]."""
    marks = [since, *(t for t in times if since < t < until), until]
    return max(b - a for a, b in itertools.pairwise(marks))


def steady_from(
    times: Sequence[float], errors: Sequence[float], since: float, until: float
) -> float:
    """When one writer's steady state began: after ``since``, the acknowledgement that ended
    its last gap longer than BG_STEADY_GAP_S, or the first one after its last error
    (``since`` if neither; infinite if it did not write steadily up to ``until``)."""
    acks = [t for t in times if t >= since]
    if not acks or until - acks[-1] > BG_STEADY_GAP_S:
        return float("inf")
    start, prev = since, since
    for t in acks:
        if t - prev > BG_STEADY_GAP_S:
            start = t
        prev = t
    for e in errors:
        if e >= since:
            start = max(start, next((t for t in acks if t > e), float("inf")))
    return start


@dataclass
class SwitchoverRun:
    """What one writer workload saw across one switchover (scenario 7)."""

    held_s: float
    worst_s: float
    errors: list[tuple[str, str]]
    """(type name, first line) of every error from t0 on."""
    on_old_blue: int
    acked: int
    missing: int
    steady_s: float
    hung: int
    """Writers whose call never returned (the figures are then infinite)."""
    switchover_s: float
    detail: str
    report_lost: bool = False
    """The worker did not answer: nothing known from the client side."""

    @classmethod
    def of(
        cls,
        report: dict[str, Any] | None,
        t0: float,
        ended: float,
        switchover: dict[str, Any],
        on_old_blue: int,
        on_green: set[int],
    ) -> SwitchoverRun:
        """The figures of a run from the worker's report (None: the worker did not answer,
        every writer counts as hung) and the server-side evidence."""
        inf = float("inf")
        took = max((float(e["offset_s"]) for e in switchover.get("events", [])), default=0.0)
        if report is None:
            return cls(inf, inf, [], on_old_blue, 0, 0, inf, BG_WRITERS, took, "worker hung", True)
        stop = float(report["stopped_at"])
        ack_times: list[list[float]] = report["ack_times"]
        hung = len(report["hung"])
        errors = [(float(at), int(n), kind, text) for at, n, kind, text in report["errors"]]
        errors = [e for e in errors if e[0] >= t0]
        # a writer's last attempt may end after the stop (a failover giving up): its gap too
        ends = [
            max([stop, *times[-1:], *(e[0] for e in errors if e[1] == n)])
            for n, times in enumerate(ack_times)
        ]
        held = max(longest_gap(times, t0, ends[n]) for n, times in enumerate(ack_times))
        worst = max((e - s for s, e in report["slow"] if e >= t0), default=0.0)
        steady = max(
            steady_from(times, [e[0] for e in errors if e[1] == n], t0, stop) - t0
            for n, times in enumerate(ack_times)
        )
        if hung:
            held = worst = steady = inf
        acked = [int(x) for x in report["acked"]]
        missing = len(set(acked) - on_green)
        run = cls(
            held,
            worst,
            [(e[2], e[3]) for e in errors],
            on_old_blue,
            len(acked),
            missing,
            steady,
            hung,
            took,
            "",
        )
        kinds = ", ".join(f"{k} {n}" for k, n in run.kinds().items()) or "no errors"
        run.detail = (
            f"held {med_worst([held], '{:.2f}')} s, worst write "
            f"{med_worst([worst * 1000], '{:.0f}')} ms, {len(errors)} errors ({kinds}), "
            f"{on_old_blue} INSERTs on old blue, "
            + (f"all {len(acked):,} acked on green" if not missing else f"{missing} acked missing")
            + f", steady after {med_worst([steady], '{:.1f}', 'never')} s (switchover "
            f"{took:.1f} s, done at +{ended - t0:.1f} s: {phases(switchover)})"
            + (f", {hung} writer(s) HUNG" if hung else "")
        )
        if errors:
            run.detail += (
                f"; errors at +{errors[0][0] - t0:.2f}..+{errors[-1][0] - t0:.2f} s, last: "
                f"{errors[-1][2]}: {errors[-1][3][:120]}"
            )
        return run

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind, text in self.errors:
            key = f"{kind} (read-only)" if READ_ONLY.search(text) else kind
            out[key] = out.get(key, 0) + 1
        return out


def phases(switchover: dict[str, Any]) -> str:
    """The devcluster's statuses (and its DNS update) with their offsets, in brief."""
    short = {
        "SWITCHOVER_INITIATED": "INITIATED",
        "SWITCHOVER_IN_PROGRESS": "IN_PROGRESS",
        "SWITCHOVER_IN_POST_PROCESSING": "POST",
        "SWITCHOVER_COMPLETED": "COMPLETED",
        "DNS": "DNS",
    }
    out = []
    for e in switchover.get("events", []):
        first = str(e["event"]).split()[0].rstrip(":")
        if first in short:
            out.append(f"{short[first]} +{float(e['offset_s']):.1f}")
    return ", ".join(out)


def run_sql(cluster: Cluster, instance: str, sql: str) -> None:
    """``sql`` on ``instance``'s server directly (the app user), autocommit."""
    params = cluster.direct_params(instance)
    if cluster.engine.value == "postgresql":
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(sql)
        return
    import pymysql

    mconn = pymysql.connect(**params, autocommit=True)
    try:
        with mconn.cursor() as cur:
            cur.execute(sql)
    finally:
        mconn.close()


def table_ids(cluster: Cluster, instance: str, table: str) -> set[int]:
    """The ids in ``table`` on ``instance``'s server (directly)."""
    params = cluster.direct_params(instance)
    sql = f"SELECT id FROM {table}"
    if cluster.engine.value == "postgresql":
        with psycopg.connect(**params, autocommit=True) as conn:
            return {int(r[0]) for r in conn.execute(sql).fetchall()}
    import pymysql

    mconn = pymysql.connect(**params, autocommit=True)
    try:
        with mconn.cursor() as cur:
            cur.execute(sql)
            return {int(r[0]) for r in cur.fetchall()}
    finally:
        mconn.close()


# -- docs ----------------------------------------------------------------------------------------


def docs_block(run: Run, started_at: datetime.datetime, elapsed_s: float) -> dict[int, str]:
    mode = "quick (reduced sizes: noisy, for checking)" if run.opts.quick else "full"
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run.versions.items()))
    out = {}
    for t in run.tables:
        stamp = (
            f"*Measured {started_at:%Y-%m-%d %H:%M} UTC by `bench/compare.py` ({mode} run of "
            f"scenarios {','.join(str(s) for s in run.opts.scenarios)}, {elapsed_s / 60:.1f} "
            f"min, load average at the end {load_average()}) on {machine()}; {versions}.*"
        )
        out[t.scenario] = t.markdown() + "\n" + stamp + "\n"
    return out


def write_docs(path: Path, sections: dict[int, str]) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    old: dict[int, str] = {}
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        inner, tail = rest.split(END, 1)
        pattern = r"<!-- compare:s(\d):begin -->\n(.*?)<!-- compare:s\1:end -->"
        for m in re.finditer(pattern, inner, re.S):
            old[int(m.group(1))] = m.group(2)
    else:
        lines = text.split("\n")
        # after the title and its first paragraph
        idx = next((i for i, line in enumerate(lines) if line.startswith("## ")), len(lines))
        head = "\n".join(lines[:idx]).rstrip() + "\n\n"
        tail = "\n\n" + "\n".join(lines[idx:])
    merged = {**old, **sections}
    body = [
        BEGIN,
        "## aws_wrapper vs aws-advanced-python-wrapper 3.1.0 vs the raw drivers",
        "",
        "Generated by `make bench` (`bench/compare.py`; one scenario: `python bench/compare.py "
        "--scenario N`). Each table is from one run: the variants ran interleaved on the same "
        "servers, and the ratios compare figures of that run only. Scenario 1 pairs every "
        "wrapper batch with a raw-driver batch run just before or after it and reports the "
        "wrapper's own cost per call; in scenarios 1, 2 and 6 a target is *met* or *MISSED* "
        "only when the interquartile range of the per-round figures is all on one side of it, "
        "*undecided* otherwise. *ours / peer* below 1 means aws_wrapper is faster (scenario 3 "
        "shows *peer / ours*: how many times faster).",
        "",
    ]
    for n in sorted(merged):
        body += [
            f"<!-- compare:s{n}:begin -->",
            merged[n].rstrip() + "\n",
            f"<!-- compare:s{n}:end -->",
            "",
        ]
    body.append(END)
    path.write_text(head + "\n".join(body) + tail)


# -- command line ------------------------------------------------------------------------------


def parse_list(text: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [x.strip() for x in text.split(",") if x.strip()]
    for x in items:
        if x not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {x!r} (choose from {', '.join(allowed)})"
            )
    return items


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    scen = "; ".join(f"{k}: {v}" for k, v in SCENARIOS.items())
    parser = argparse.ArgumentParser(
        prog="compare.py",
        description=(
            "aws_wrapper vs aws-advanced-python-wrapper 3.1.0 (its own venv, installed on first "
            "use) vs the raw drivers, sync and async, on local servers and devclusters, "
            f"interleaved. Scenarios: {scen}. Prints progress and a table per scenario "
            "(medians, ratios), writes them to docs/benchmarks.md. Exits 0 whatever the "
            "figures; non-zero when something cannot run."
        ),
    )
    parser.add_argument(
        "--scenario",
        action="append",
        metavar="N[,N...]",
        help="run only these scenarios (repeatable; default 1-6: scenarios 7, the blue/green "
        "switchover, ~6 min, 8, the cross-region switchover, ~3 min, 9, limitless, ~1 min, "
        "and 10, telemetry, ~2 min, run only when named, e.g. --scenario 7,8,9,10)",
    )
    parser.add_argument(
        "--only",
        metavar="WHO[,WHO...]",
        help="only these implementations (raw, ours, peer) or variants (raw-sync, raw-async, "
        "ours-sync, ours-aio, peer-sync, peer-aio); the raw variants are the baselines of "
        "scenarios 1, 2, 5 and 6 (scenario 1 always runs them: its figures are paired with "
        "them)",
    )
    parser.add_argument(
        "--engine",
        choices=("postgresql", "mysql", "both"),
        help="devcluster engines for scenarios 1, 3, 4, 7 and 8 (default both; for 3, 4, 7, 8 "
        "postgresql with --quick); scenario 1 also runs on a plain PostgreSQL and a plain "
        "MariaDB whatever this says; 2, 5 and 6 are PostgreSQL only",
    )
    parser.add_argument("--quick", action="store_true", help="reduced sizes (a check, not figures)")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        help="rounds: scenario 1 paired rounds per cell (default 20, 8 with --quick); "
        "scenarios 2 and 5 interleaved rounds (default 15, 4 with --quick)",
    )
    parser.add_argument(
        "--calls",
        type=positive_int,
        help="calls per timed batch of scenario 1 (default: as many as the raw driver makes in "
        "~100 ms, ~5 ms with --quick)",
    )
    parser.add_argument(
        "--no-rows",
        dest="rows",
        action="store_false",
        help="scenario 1 without the 1,000-row fetch",
    )
    parser.add_argument(
        "--runs",
        type=positive_int,
        help="failovers / blackholes / switchovers per variant and engine (3, 4, 7; default 5, "
        "5, 2; with --quick 2, 2, 1)",
    )
    parser.add_argument("--connections", type=positive_int, help="connections of scenario 6")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no CPU pinning (1)")
    parser.add_argument(
        "--peer-venv",
        type=Path,
        default=DEFAULT_PEER_VENV,
        help=f"the peer's venv (default {DEFAULT_PEER_VENV.relative_to(ROOT)})",
    )
    docs = parser.add_mutually_exclusive_group()
    docs.add_argument(
        "--docs",
        type=Path,
        help=f"write the tables here (default {DEFAULT_DOCS.relative_to(ROOT)}; not with --quick "
        "unless given)",
    )
    docs.add_argument("--no-docs", action="store_true", help="do not write the tables")
    args = parser.parse_args(argv)
    return args


def options(args: argparse.Namespace) -> Options:
    scenarios = sorted(
        {
            int(x)
            for s in (args.scenario or [",".join(map(str, DEFAULT_SCENARIOS))])
            for x in s.split(",")
            if x.strip()
        }
    )
    for n in scenarios:
        if n not in SCENARIOS:
            raise SystemExit(f"compare.py: unknown scenario {n} (1-{max(SCENARIOS)})")
    all_variants = [*SYNC, *ASYNC]
    variants = all_variants
    if args.only:
        wanted = parse_list(args.only, [*IMPLS, *all_variants], "implementation")
        variants = [v for v in all_variants if v in wanted or v.split("-")[0] in wanted]
    engine = args.engine or ("postgresql" if args.quick else "both")
    engines = ["postgresql", "mysql"] if engine == "both" else [engine]
    engine_1 = args.engine or "both"
    engines_1 = ["postgresql", "mysql"] if engine_1 == "both" else [engine_1]
    base = QUICK if args.quick else FULL
    sizes = Sizes(
        calls=args.calls or base.calls,
        batch_ms=base.batch_ms,
        pair_rounds=args.rounds or base.pair_rounds,
        slices=base.slices,
        rounds=args.rounds or base.rounds,
        connects=base.connects,
        runs=args.runs or base.runs,
        rw_ops=base.rw_ops,
        connections=args.connections or base.connections,
        scale_rounds=base.scale_rounds,
        scale_slices=base.scale_slices,
        scale_slice_s=base.scale_slice_s,
        switchovers=args.runs or base.switchovers,
        limitless_connects=base.limitless_connects,
        limitless_rounds=args.rounds or base.limitless_rounds,
    )
    docs: Path | None = None
    if not args.no_docs:
        docs = args.docs or (None if args.quick else DEFAULT_DOCS)
    log_dir = LOG_ROOT / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    return Options(
        scenarios=scenarios,
        variants=variants,
        engines=engines,
        engines_1=engines_1,
        rows=args.rows,
        sizes=sizes,
        quick=args.quick,
        pin=args.pin,
        peer_venv=args.peer_venv.resolve(),
        docs=docs,
        log_dir=log_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    opts = options(parse_args(argv))
    started_at = datetime.datetime.now(datetime.UTC)
    log(
        f"scenarios {', '.join(str(s) for s in opts.scenarios)}; variants "
        f"{', '.join(opts.variants)}; devclusters for 1 {', '.join(opts.engines_1)}, for 3, 4, 7 "
        f"{', '.join(opts.engines)}; "
        f"{'quick' if opts.quick else 'full'} sizes {opts.sizes}; worker logs in {opts.log_dir}"
    )
    log(f"machine: {machine()}; load average {load_average()}")
    run = Run(opts)
    try:
        run.run()
    except KeyboardInterrupt:
        print("compare.py: interrupted", file=sys.stderr)
        return 130
    except BenchError as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"compare.py: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - _started
    if opts.docs is not None and run.tables:
        write_docs(opts.docs, docs_block(run, started_at, elapsed))
        log(f"wrote {len(run.tables)} table(s) to {opts.docs}")
    log(f"done in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
