"""The aws_wrapper failover demo, on a local Aurora-like cluster.

    make demo          # or: .venv/bin/python examples/demo.py [--crash] [--engine mysql]

It starts a devcluster (1 writer + 2 readers, real streaming replication), runs two small
applications against the cluster endpoint through the wrapper with ``failover_v2`` — one
blocking, one asyncio — each committing a write every 20 ms, fails the writer over, and reports
how long each application could not write and where it ended up. Everything it starts is
stopped at the end.

``--trace FILE``: the apps run with ``enable_telemetry``; every span goes to FILE (one JSON
object a line, the OpenTelemetry SDK's format) and the failover of each app is printed as a
tree (needs ``pip install aws-wrapper[telemetry] opentelemetry-sdk``; see docs/telemetry.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import Cluster

WRITE_EVERY_S = 0.02


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


@dataclass
class Report:
    name: str
    writes: int = 0
    errors: list[str] = field(default_factory=list)
    last_ok: float = 0.0
    gap_start: float | None = None
    """When the last write before the failure completed: the outage runs from there."""
    recovered: float | None = None
    instance: str = "?"

    def failed(self, error: BaseException) -> None:
        if self.gap_start is None:
            self.gap_start = self.last_ok
            say(f"{self.name}: write failed: {type(error).__name__}: {error}")
        self.errors.append(type(error).__name__)

    def succeeded(self) -> None:
        self.writes += 1
        now = time.monotonic()
        if self.gap_start is not None and self.recovered is None:
            self.recovered = now
            say(f"{self.name}: writing again, {self.outage_ms:.0f} ms after its last write")
        self.last_ok = now

    @property
    def outage_ms(self) -> float:
        """Longest time without a successful write, around the failover (less the 20 ms
        pause between writes)."""
        if self.gap_start is None or self.recovered is None:
            return 0.0
        return max(0.0, 1000 * (self.recovered - self.gap_start - WRITE_EVERY_S))


def instance_sql(engine: str) -> str:
    if engine == "postgresql":
        return "SELECT pg_catalog.aurora_db_instance_identifier()"
    return "SELECT @@aurora_server_id"


def sync_app(
    params: dict[str, Any], driver: str, engine: str, stop: threading.Event, report: Report
) -> None:
    with aws_wrapper.connect(driver=driver, plugins="failover_v2", **params) as conn:
        conn.autocommit = True
        while not stop.is_set():
            try:
                conn.execute("INSERT INTO demo_writes (app) VALUES ('sync')")
                report.succeeded()
            except aws_wrapper.FailoverSuccessError as e:
                report.failed(e)  # already on the new writer: just run it again
                continue
            except aws_wrapper.Error as e:
                report.failed(e)  # any other error: the next call recovers (docs/errors.md)
            time.sleep(WRITE_EVERY_S)
        row = conn.execute(instance_sql(engine)).fetchone()
        assert row is not None
        report.instance = str(row[0])
    aws_wrapper.release_resources()


async def async_app(
    params: dict[str, Any], driver: str, engine: str, stop: threading.Event, report: Report
) -> None:
    conn = await aws_wrapper.aio.connect(driver=driver, plugins="failover_v2", **params)
    async with conn:
        await conn.set_autocommit(True)
        while not stop.is_set():
            try:
                await conn.execute("INSERT INTO demo_writes (app) VALUES ('async')")
                report.succeeded()
            except aws_wrapper.aio.FailoverSuccessError as e:
                report.failed(e)  # already on the new writer: just run it again
                continue
            except aws_wrapper.aio.Error as e:
                report.failed(e)  # any other error: the next call recovers (docs/errors.md)
            await asyncio.sleep(WRITE_EVERY_S)
        row = await (await conn.execute(instance_sql(engine))).fetchone()
        assert row is not None
        report.instance = str(row[0])
    await aws_wrapper.aio.release_resources()


def summary(reports: list[Report], new_writer: str) -> list[str]:
    """What happened, read off the reports (not a fixed sentence)."""
    lines = []
    for r in reports:
        name = r.name.strip()
        if r.instance == new_writer:
            place = f"now on the new writer {new_writer}"
        else:
            place = f"now on {r.instance}, not on the new writer {new_writer}"
        if r.recovered is None and r.errors:
            lines.append(f"{name} never wrote again after its error: see the log above")
        elif not r.errors:
            lines.append(f"{name} saw no error at all; {place}")
        else:
            kinds = ", ".join(f"{r.errors.count(k)} x {k}" for k in sorted(set(r.errors)))
            lines.append(
                f"{name} saw {kinds}, wrote again {r.outage_ms:.0f} ms after its last write "
                f"before the failover; {place}"
            )
    return lines


def start_tracing(path: str) -> Any:
    """An SDK tracer provider writing every span to ``path`` (JSON lines) and keeping them in
    memory for :func:`print_failovers`; None when the SDK is not installed."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter,
        )
    except ImportError:
        say("--trace needs OpenTelemetry: pip install 'aws-wrapper[telemetry]' opentelemetry-sdk")
        return None
    out = open(path, "w")  # noqa: SIM115 - open for the whole run
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(
            ConsoleSpanExporter(out=out, formatter=lambda s: s.to_json(indent=None) + "\n")
        )
    )
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    return memory


def print_failovers(memory: Any) -> None:
    """Each failover span with the call it ran in and what it did, as a tree."""
    spans = list(memory.get_finished_spans())
    children: dict[int, list[Any]] = {}
    for s in spans:
        if s.parent is not None:
            children.setdefault(s.parent.span_id, []).append(s)
    by_id = {s.context.span_id: s for s in spans}

    def show(span: Any, depth: int) -> None:
        attrs = dict(span.attributes or {})
        ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        keys = (
            "server.address",
            "aws_wrapper.failover.mode",
            "aws_wrapper.failover.outcome",
            "aws_wrapper.failover.from",
            "aws_wrapper.failover.to",
            "error.type",
        )
        detail = "  ".join(f"{k.rsplit('.', 1)[-1]}={attrs[k]}" for k in keys if k in attrs)
        say(f"  {'  ' * depth}{span.name}  {ms:.1f} ms  {detail}")
        for child in sorted(children.get(span.context.span_id, []), key=lambda c: c.start_time):
            show(child, depth + 1)

    failovers = [s for s in spans if s.name == "aws_wrapper.failover"]
    if not failovers:
        say("trace: no failover span (no app met the failover)")
    for failover in failovers:
        call = by_id.get(failover.parent.span_id) if failover.parent is not None else None
        say(f"trace {format(failover.context.trace_id, '032x')}:")
        show(call or failover, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["postgresql", "mysql"], default="postgresql")
    parser.add_argument("--crash", action="store_true", help="kill the writer (default: stop)")
    parser.add_argument(
        "--trace",
        metavar="FILE",
        help="telemetry on: write every span to FILE (JSON lines) and print the failovers",
    )
    args = parser.parse_args(argv)
    memory = None
    if args.trace:
        memory = start_tracing(args.trace)
        if memory is None:
            return 2
    engine = args.engine
    sync_driver, async_driver = (
        ("psycopg", "psycopg")
        if engine == "postgresql"
        else (
            "pymysql",
            "aiomysql",
        )
    )
    started = time.monotonic()
    say(f"starting a local {engine} devcluster ...")
    cluster = Cluster.up(
        engine, readers=2, name="demo", log=lambda m: say(f"  {m}"), tie_to_this_process=True
    )
    say(f"cluster ready in {time.monotonic() - started:.1f} s: {cluster.cluster_host}")
    # Cluster.up installed its name resolver: the RDS-shaped names resolve for the wrapper
    try:
        params = cluster.conn_params()
        with aws_wrapper.connect(driver=sync_driver, **params) as conn:
            conn.autocommit = True
            conn.execute(
                "CREATE TABLE IF NOT EXISTS demo_writes (id SERIAL PRIMARY KEY, app TEXT)"
                if engine == "postgresql"
                else "CREATE TABLE IF NOT EXISTS demo_writes "
                "(id INT AUTO_INCREMENT PRIMARY KEY, app VARCHAR(10))"
            )
        if memory is not None:
            params = {**params, "enable_telemetry": True}
        stop = threading.Event()
        reports = [Report("sync app "), Report("async app")]
        threads = [
            threading.Thread(target=sync_app, args=(params, sync_driver, engine, stop, reports[0])),
            threading.Thread(
                target=lambda: asyncio.run(
                    async_app(params, async_driver, engine, stop, reports[1])
                )
            ),
        ]
        for t in threads:
            t.start()
        say("two apps are writing through the cluster endpoint (every 20 ms) ...")
        time.sleep(2.0)
        say(f"failing over the writer ({'crash' if args.crash else 'clean stop'}) ...")
        result = cluster.failover(crash=args.crash)
        say(
            f"devcluster: {result['old_writer']} -> {result['new_writer']} in "
            f"{result['total_s']:.2f} s (promotion {result['promote_s']:.2f} s)"
        )
        time.sleep(3.0)
        stop.set()
        for t in threads:
            t.join(30)
        say("results:")
        for r in reports:
            say(
                f"  {r.name}: {r.writes} writes, {len(r.errors)} failed "
                f"({', '.join(sorted(set(r.errors))) or 'none'}), interrupted for "
                f"{r.outage_ms:.0f} ms, now on {r.instance}"
            )
        for line in summary(reports, result["new_writer"]):
            say(line)
        if memory is not None:
            print_failovers(memory)
            say(f"every span: {args.trace} (one JSON object a line)")
    finally:
        say("stopping the devcluster")
        cluster.down()
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
