# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_telemetry.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""Telemetry (``enable_telemetry``) seen through the OpenTelemetry SDK's in-memory exporters:
spans and metrics of connects, calls, failovers (clean and crash), EFM aborts, read/write
switches and IAM token fetches, with their attributes and parent/child links; no credential
in any attribute; nothing at all when telemetry is off. Real servers and the devcluster.

Written once as async code: tests/_sync/test_telemetry.py is generated from it. The SDK
providers are set once per process (tests/otel.py) and emptied per test.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper import telemetry
from aws_wrapper._compat import sleep, spawn
from aws_wrapper.aws.iam import TOKENS
from aws_wrapper.blue_green import Phase
from aws_wrapper.sync import PooledConnectionProvider, PoolSettings
from aws_wrapper_devcluster import Cluster
from tests.otel import Otel, every_value, fresh

from .cluster import ENGINE_OF, instance_of

TEL: dict[str, Any] = {"enable_telemetry": True}
EFM: dict[str, Any] = {
    "failure_detection_time_ms": 1000,
    "failure_detection_interval_ms": 500,
    "failure_detection_count": 2,
}


@pytest.fixture
def ot() -> Iterator[Otel]:
    yield from fresh()


def namespace_of(params: dict[str, Any]) -> Any:
    return params.get("dbname") or params.get("database") or params.get("db")


def system_of(driver: str, *, aurora: bool = False) -> str:
    """``db.system.name`` on the plain servers (MariaDB for MySQL drivers), or on the
    devcluster (Aurora PostgreSQL, Aurora MySQL)."""
    if ENGINE_OF[driver] == "pg":
        return "postgresql"
    return "mysql" if aurora else "mariadb"


def one(spans: list[Any]) -> Any:
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def parent_of(span: Any) -> int | None:
    return span.parent.span_id if span.parent is not None else None


# -- a plain server -----------------------------------------------------------------------------


def test_connect_and_call_spans(driver: str, db_params: dict[str, Any], ot: Otel) -> None:
    with ot.tracer.start_as_current_span("app") as app:
        conn = aw.connect(driver=driver, plugins="", **TEL, **db_params)
        try:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            conn.commit()
            host = conn.current_host
        finally:
            conn.close()
    assert host is not None
    app_id = app.get_span_context().span_id
    connect = one(ot.spans("connect"))
    select = one(ot.spans("SELECT"))
    commit = one(ot.spans("COMMIT"))
    for span in (connect, select, commit):
        assert parent_of(span) == app_id  # nested under the application's span
        assert span.context.trace_id == app.get_span_context().trace_id
        attrs = dict(span.attributes or {})
        assert attrs["db.system.name"] == system_of(driver)
        assert attrs["server.address"] == host.host
        assert attrs["server.port"] == host.port
        assert attrs["db.namespace"] == namespace_of(db_params)
        assert span.kind.name == "CLIENT"
        assert "error.type" not in attrs
    assert select.attributes["db.operation.name"] == "SELECT"
    assert "db.query.text" not in select.attributes  # no statement text unless asked
    assert commit.attributes["db.operation.name"] == "COMMIT"
    assert connect.attributes["aws_wrapper.connect.initial"] is True
    collected = ot.metrics()
    assert ot.total(collected, "db.client.connection.create_time") == 1
    assert ot.total(collected, "db.client.operation.duration") == 2  # SELECT, COMMIT
    ops = {a.get("db.operation.name") for a, _ in collected["db.client.operation.duration"]}
    assert ops == {"SELECT", "COMMIT"}


def test_statement_text_only_when_asked_and_never_its_parameters(
    driver: str, db_params: dict[str, Any], ot: Otel
) -> None:
    secret = "s3cr3t-parameter-value"
    with aw.connect(
        driver=driver, plugins="", telemetry_query_text=True, **TEL, **db_params
    ) as conn:
        cur = conn.cursor()
        cur.execute("SELECT %s", (secret,))
        cur.fetchall()
    select = one(ot.spans("SELECT"))
    assert select.attributes["db.query.text"] == "SELECT %s"
    assert not any(secret in v for s in ot.spans() for v in every_value(s))


def test_submit_toplevel_starts_traces_linked_to_the_app(
    driver: str, db_params: dict[str, Any], ot: Otel
) -> None:
    with ot.tracer.start_as_current_span("app") as app:
        with aw.connect(
            driver=driver, plugins="", telemetry_submit_toplevel=True, **TEL, **db_params
        ) as conn:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
    app_context = app.get_span_context()
    for span in (one(ot.spans("connect")), one(ot.spans("SELECT"))):
        assert span.parent is None
        assert span.context.trace_id != app_context.trace_id
        assert [link.context.span_id for link in span.links] == [app_context.span_id]


def test_per_plugin_spans_only_when_asked(driver: str, db_params: dict[str, Any], ot: Otel) -> None:
    for asked in (False, True):
        with aw.connect(
            driver=driver,
            plugins="execute_time",
            telemetry_plugin_spans=asked,
            **TEL,
            **db_params,
        ) as conn:
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
        nested = ot.spans("aws_wrapper.plugin.ExecuteTimePlugin")
        if not asked:
            assert nested == []
            ot.exporter.clear()
            continue
        select = one(ot.spans("SELECT"))
        spans = [s for s in nested if s.attributes["aws_wrapper.method"] == "Cursor.execute"]
        assert parent_of(one(spans)) == select.context.span_id


def test_nothing_is_emitted_when_off(driver: str, db_params: dict[str, Any], ot: Otel) -> None:
    """Off (the default), or on with both backends NONE: no span, no metric, and no
    telemetry link on the connection's call paths."""
    for props in (
        {},
        {"enable_telemetry": False},
        {**TEL, "telemetry_traces_backend": "NONE", "telemetry_metrics_backend": "none"},
    ):
        with aw.connect(driver=driver, plugins="", **props, **db_params) as conn:
            assert conn._service.telemetry is None
            assert conn._manager.chain("Cursor.execute") is None  # the driver, called directly
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.fetchall()
            conn.commit()
    assert ot.spans() == []
    assert not any(name.startswith(("db.", "aws_wrapper.")) for name in ot.metrics())


def test_metrics_only_and_traces_only(driver: str, db_params: dict[str, Any], ot: Otel) -> None:
    with aw.connect(
        driver=driver, plugins="", telemetry_traces_backend="NONE", **TEL, **db_params
    ) as conn:
        (conn.execute("SELECT 1")).fetchall()
    assert ot.spans() == []
    points = ot.metrics()["db.client.operation.duration"]
    assert [
        a.get("db.operation.name") for a, _ in points if a.get("db.operation.name") == "SELECT"
    ] == ["SELECT"]
    with aw.connect(
        driver=driver, plugins="", telemetry_metrics_backend="NONE", **TEL, **db_params
    ) as conn:
        (conn.execute("SELECT 1")).fetchall()
    assert len(ot.spans("SELECT")) == 1
    assert ot.total(ot.metrics(), "db.client.operation.duration") == 0


@pytest.mark.parametrize("driver", ["psycopg"])
def test_a_failed_login_carries_no_password(db_params: dict[str, Any], ot: Otel) -> None:
    wrong = "Wr0ng-Pa55word-for-telemetry"
    with pytest.raises(aw.LoginError):
        aw.connect(plugins="", **TEL, **{**db_params, "password": wrong})
    connect = one(ot.spans("connect"))
    assert connect.status.status_code.name == "ERROR"
    assert connect.attributes["error.type"].endswith("OperationalError")
    values = [v for s in ot.spans() for v in every_value(s)]
    assert not any(wrong in v for v in values)
    assert not any(str(db_params["password"]) in v for v in values)


@pytest.mark.parametrize("driver", ["psycopg"])
def test_bad_settings_are_clear_errors(
    db_params: dict[str, Any], ot: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(aw.PropertyError, match="telemetry_traces_backend"):
        aw.connect(plugins="", telemetry_traces_backend="ZIPKIN", **TEL, **db_params)
    telemetry.reset()
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # not installed
    try:
        with pytest.raises(aw.PropertyError, match=r"pip install aws-wrapper\[telemetry\]"):
            aw.connect(plugins="", **TEL, **db_params)
    finally:
        telemetry.reset()


@pytest.mark.parametrize("driver", ["psycopg"])
def test_xray_backend_checks_the_id_generator(
    db_params: dict[str, Any],
    ot: Otel,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """XRAY: spans through OpenTelemetry all the same; a warning once when the application's
    tracer provider does not make X-Ray trace ids, none when it does."""
    from opentelemetry import trace
    from opentelemetry.sdk.extension.aws.trace import AwsXRayIdGenerator
    from opentelemetry.sdk.trace import TracerProvider

    telemetry.reset()
    with caplog.at_level("WARNING", logger="aws_wrapper"):
        with aw.connect(plugins="", telemetry_traces_backend="XRAY", **TEL, **db_params) as conn:
            (conn.execute("SELECT 1")).fetchall()
    assert len(ot.spans("SELECT")) == 1
    warned = [r.getMessage() for r in caplog.records if "AwsXRayIdGenerator" in r.getMessage()]
    assert len(warned) == 1
    caplog.clear()
    telemetry.reset()
    xray = TracerProvider(id_generator=AwsXRayIdGenerator())
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: xray)
    with caplog.at_level("WARNING", logger="aws_wrapper"):
        with aw.connect(plugins="", telemetry_traces_backend="xray", **TEL, **db_params):
            pass
    assert not [r for r in caplog.records if "AwsXRayIdGenerator" in r.getMessage()]
    telemetry.reset()


# -- the devcluster -----------------------------------------------------------------------------


def wait_for_spans(ot: Otel, name: str, timeout: float = 10.0) -> list[Any]:
    """The finished spans of ``name`` (monitor work ends on its own time)."""
    deadline = time.monotonic() + timeout
    while not ot.spans(name) and time.monotonic() < deadline:
        sleep(0.05)
    return ot.spans(name)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
@pytest.mark.parametrize("crash", [False, True], ids=["clean", "crash"])
def test_failover_trace(cluster: Cluster, driver: str, crash: bool, ot: Otel) -> None:
    conn = aw.connect(
        driver=driver,
        plugins="failover_v2",
        failover_timeout_sec=30,
        telemetry_failover_additional_top_trace=True,
        **TEL,
        **cluster.conn_params(),
    )
    try:
        conn.set_autocommit(True)
        old = instance_of(conn, rollback=False)
        old_host = conn.current_host
        assert old_host is not None
        result = cluster.failover(crash=crash)
        ot.exporter.clear()
        ot.metrics()
        with (
            ot.tracer.start_as_current_span("app") as app,
            pytest.raises(aw.FailoverSuccessError),
        ):
            conn.execute("SELECT 1")
        new_host = conn.current_host
    finally:
        conn.close()
    assert new_host is not None and new_host.host_id == result["new_writer"] != old
    select = one(ot.spans("SELECT"))
    failover = one(ot.spans("aws_wrapper.failover"))
    assert parent_of(select) == app.get_span_context().span_id
    assert select.attributes["error.type"] == "aws_wrapper.errors.FailoverSuccessError"
    # the failover runs inside the call that met the lost connection
    assert parent_of(failover) == select.context.span_id
    attrs = failover.attributes
    assert attrs["aws_wrapper.failover.mode"] == "strict_writer"
    assert attrs["aws_wrapper.failover.outcome"] == "success"
    assert attrs["aws_wrapper.failover.from"] == old_host.url
    assert attrs["aws_wrapper.failover.to"] == new_host.url
    assert attrs["aws_wrapper.failover.to_role"] == "writer"
    assert 0 < attrs["aws_wrapper.failover.duration_s"] < 30
    assert attrs["db.system.name"] == system_of(driver, aurora=True)
    assert failover.status.status_code.name != "ERROR"
    # the new connection was opened under the failover span
    connects = [s for s in ot.spans("connect") if parent_of(s) == failover.context.span_id]
    assert connects and all(s.attributes["aws_wrapper.connect.initial"] is False for s in connects)
    assert any(s.attributes["server.address"] == new_host.host for s in connects)
    # telemetry_failover_additional_top_trace: a copy as a trace of its own, linked
    copy = one(ot.spans("copy: aws_wrapper.failover"))
    assert copy.parent is None and copy.context.trace_id != failover.context.trace_id
    assert [link.context.span_id for link in copy.links] == [failover.context.span_id]
    assert copy.attributes["aws_wrapper.failover.outcome"] == "success"
    collected = ot.metrics()
    assert ot.total(collected, "aws_wrapper.failover.attempts") == 1
    assert ot.total(collected, "aws_wrapper.failover.successes") == 1
    assert ot.total(collected, "aws_wrapper.failover.failures") == 0
    # the topology monitor confirmed the new writer in panic mode: a root span of its own
    panic = wait_for_spans(ot, "aws_wrapper.topology.panic")
    assert panic and all(s.parent is None for s in panic)
    assert any(s.attributes.get("aws_wrapper.topology.writer") == new_host.url for s in panic)


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_efm_abort_span_is_a_child_of_the_aborted_call(
    cluster: Cluster, driver: str, ot: Otel
) -> None:
    conn = aw.connect(
        driver=driver, plugins="host_monitoring_v2", **EFM, **TEL, **cluster.conn_params()
    )
    try:
        conn.set_autocommit(True)
        writer = cluster.writer
        host = conn.current_host
        assert host is not None

        def blackhole_soon() -> None:
            sleep(0.3)
            cluster.blackhole(writer)

        worker = spawn(blackhole_soon, name="blackhole")
        sql = "SELECT pg_sleep(30)" if ENGINE_OF[driver] == "pg" else "SELECT SLEEP(30)"
        with pytest.raises(aw.Error):
            conn.execute(sql)
        worker.join(5)
    finally:
        cluster.heal()
        conn.close()
    select = one(ot.spans("SELECT"))
    abort = one(ot.spans("aws_wrapper.efm.abort"))
    # made by the monitor (another task or thread), under the call it aborted
    assert parent_of(abort) == select.context.span_id
    assert abort.context.trace_id == select.context.trace_id
    assert abort.attributes["server.address"] == host.host
    assert abort.attributes["aws_wrapper.efm.in_flight_s"] > 0.3
    assert select.status.status_code.name == "ERROR"
    assert ot.total(ot.metrics(), "aws_wrapper.efm.aborts") == 1


@pytest.mark.parametrize("driver", ["pymysql"])
def test_pool_wait_time(cluster: Cluster, driver: str, ot: Otel) -> None:
    """The wrapper's own pools (MySQL) record how long a checkout waited."""
    provider = PooledConnectionProvider(PoolSettings(max_size=1, timeout=0.3))
    try:
        params = {
            **cluster.conn_params(cluster.writer),  # instance endpoints are pooled
            **TEL,
            "plugins": "",
            "connection_provider": provider,
        }
        first = aw.connect(driver=driver, **params)
        with pytest.raises(aw.PoolTimeoutError):
            aw.connect(driver=driver, **params)
        first.close()
    finally:
        provider.release_resources()
    ((attrs, (count, total)),) = ot.metrics()["db.client.connection.wait_time"]
    assert count == 1 and 0.25 < total < 5
    assert attrs["error.type"] == "aws_wrapper.errors.PoolTimeoutError"
    assert cluster.instance_host(cluster.writer) in attrs["db.client.connection.pool.name"]


@pytest.mark.parametrize("driver", ["psycopg", "pymysql"])
def test_read_write_switch_spans(cluster: Cluster, driver: str, ot: Otel) -> None:
    with ot.tracer.start_as_current_span("app") as app:
        with aw.connect(
            driver=driver,
            plugins="read_write_splitting,failover_v2",
            topology_refresh_ms=200,
            **TEL,
            **cluster.conn_params(),
        ) as conn:
            writer = conn.current_host
            conn.set_read_only(True)
            reader = conn.current_host
            conn.set_read_only(False)
            # the topology monitor's rounds (monitor work: roots of their own)
            refreshes = wait_for_spans(ot, "aws_wrapper.topology.refresh", 5.0)
    assert refreshes and all(s.parent is None for s in refreshes)
    clusters = {s.attributes["aws_wrapper.cluster_id"] for s in refreshes}
    assert len(clusters) == 1 and all(clusters)
    assert writer is not None and reader is not None and reader.url != writer.url
    to_reader, to_writer = sorted(
        ot.spans("aws_wrapper.read_write.switch"), key=lambda s: s.start_time or 0
    )
    for span in (to_reader, to_writer):
        assert parent_of(span) == app.get_span_context().span_id
    assert to_reader.attributes["aws_wrapper.read_only"] is True
    assert to_reader.attributes["aws_wrapper.switch.from"] == writer.url
    assert to_reader.attributes["aws_wrapper.switch.to"] == reader.url
    assert to_reader.attributes["aws_wrapper.switch.to_role"] == "reader"
    assert to_reader.attributes["server.address"] == reader.host
    assert to_writer.attributes["aws_wrapper.read_only"] is False
    assert to_writer.attributes["aws_wrapper.switch.to"] == writer.url
    # the reader connection was opened inside the switch
    opened = [s for s in ot.spans("connect") if parent_of(s) == to_reader.context.span_id]
    assert [s.attributes["server.address"] for s in opened] == [reader.host]


def test_iam_token_fetch_span_without_the_token(
    devcluster_pg: Cluster, fake_aws_env: dict[str, str], ot: Otel
) -> None:
    cluster = devcluster_pg
    cluster.create_iam_user("iam_app")
    TOKENS.clear()
    params = dict(cluster.conn_params())
    params.pop("password", None)
    params["user"] = "iam_app"
    with ot.tracer.start_as_current_span("app"):
        with aw.connect(**params, plugins="iam", **TEL) as conn:
            (conn.execute("SELECT 1")).fetchall()
            target = TOKENS.signed
    assert target >= 1
    connect = one(ot.spans("connect"))
    fetch = one(ot.spans("aws_wrapper.auth.fetch"))
    assert parent_of(fetch) == connect.context.span_id
    assert fetch.attributes["aws_wrapper.auth.kind"] == "iam_token"
    assert fetch.attributes["aws_wrapper.auth.region"] == "us-east-1"
    assert fetch.attributes["aws_wrapper.auth.target"] == f"{cluster.cluster_host}:{cluster.port}"
    values = [v for s in ot.spans() for v in every_value(s)]
    for secret in ("X-Amz-Signature", "X-Amz-Credential", fake_aws_env["AWS_SECRET_ACCESS_KEY"]):
        assert not any(secret in v for v in values), secret


@pytest.mark.parametrize("driver", ["psycopg"])
def test_blue_green_phase_spans(cluster: Cluster, driver: str, ot: Otel) -> None:
    """Each phase change the bg provider sees is a point span of its own (monitor work)."""
    from .test_blue_green import fed, feed

    _, conn, provider = fed(cluster, driver, **TEL)
    try:
        for phase in (Phase.PREPARATION, Phase.IN_PROGRESS, Phase.POST):
            feed(provider, phase)
    finally:
        conn.close()
    spans = sorted(ot.spans("aws_wrapper.blue_green.phase"), key=lambda s: s.start_time or 0)
    seen = [
        (
            s.attributes["aws_wrapper.blue_green.previous_phase"],
            s.attributes["aws_wrapper.blue_green.phase"],
        )
        for s in spans
    ]
    assert seen[-3:] == [
        ("CREATED", "PREPARATION"),
        ("PREPARATION", "IN_PROGRESS"),
        ("IN_PROGRESS", "POST"),
    ]
    assert all(s.parent is None for s in spans)
    assert {s.attributes["aws_wrapper.blue_green.id"] for s in spans} == {provider.bg_id}
