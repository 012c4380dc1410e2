"""Global databases in the devcluster (``up --regions``): per-region names, the global writer
endpoint, the global status metadata on every instance, global switchover and failover,
region faults, cross-region latency; on real servers (both engines), reached by their
RDS-shaped names through the hosts file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import aws_wrapper
from aws_wrapper import aurora_queries as q
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.client import DevclusterError
from aws_wrapper_devcluster.globaldb import check_regions

REGIONS = ("us-east-1", "us-west-2")


@pytest.fixture(params=["pg", "mysql"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    name = "devcluster_pg_global" if request.param == "pg" else "devcluster_mysql_global"
    c: Cluster = request.getfixturevalue(name)
    return c


def pg(cluster: Cluster) -> bool:
    return cluster.engine.value == "postgresql"


def connect(cluster: Cluster, host: str, **extra: Any) -> Any:
    params = {**cluster.conn_params(), "host": host, **extra}
    driver = "psycopg" if pg(cluster) else "pymysql"
    return aws_wrapper.connect(driver=driver, plugins="", **params)


def fetch(cluster: Cluster, host: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(cluster, host, connect_timeout=5) as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = [tuple(r) for r in cur.fetchall()]
        conn.rollback()
        return rows


def hosts(cluster: Cluster) -> dict[str, set[str]]:
    """Name -> the addresses the hosts file answers now."""
    table: dict[str, set[str]] = {}
    for line in cluster.hosts_file.read_text().splitlines():
        if line and not line.startswith("#"):
            address, name = line.split()
            table.setdefault(name, set()).add(address)
    return table


def ihost(cluster: Cluster, instance: str) -> str:
    return cluster.instance_host(instance)


def write_marker(cluster: Cluster, writer: str) -> str:
    marker = f"m{time.monotonic_ns()}"
    with connect(cluster, ihost(cluster, writer)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS g_marks (v VARCHAR(40))")
            cur.execute("INSERT INTO g_marks VALUES (%s)", (marker,))
    return marker


def wait_for_marker(cluster: Cluster, instance: str, marker: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    sql = f"SELECT v FROM g_marks WHERE v = '{marker}'"
    while True:
        try:
            if fetch(cluster, ihost(cluster, instance), sql):
                return
        except aws_wrapper.Error:
            pass  # the table has not arrived yet
        assert time.monotonic() < deadline, f"{marker} never reached {instance}"
        time.sleep(0.05)


def global_rows(cluster: Cluster, instance: str) -> set[tuple[str, bool, str, bool]]:
    """``aurora_global_db_instance_status`` on ``instance``: (server id, global writer,
    region, has a lag), with the query the peer's global dialects send."""
    if pg(cluster):
        sql = (
            "SELECT SERVER_ID, CASE WHEN SESSION_ID OPERATOR(pg_catalog.=) 'MASTER_SESSION_ID' "
            "THEN TRUE ELSE FALSE END, VISIBILITY_LAG_IN_MSEC, AWS_REGION "
            "FROM pg_catalog.aurora_global_db_instance_status()"
        )
    else:
        sql = (
            "SELECT SERVER_ID, CASE WHEN SESSION_ID = 'MASTER_SESSION_ID' THEN TRUE ELSE FALSE "
            "END, VISIBILITY_LAG_IN_MSEC, AWS_REGION "
            "FROM information_schema.aurora_global_db_instance_status "
        )
    return {
        (str(r[0]), bool(r[1]), str(r[3]), r[2] is not None)
        for r in fetch(cluster, ihost(cluster, instance), sql)
    }


def region_rows(cluster: Cluster, instance: str) -> dict[str, tuple[float, float]]:
    """``aurora_global_db_status``: region -> (durability lag, seconds since the lag was
    calculated)."""
    if pg(cluster):
        sql = (
            "SELECT aws_region, durability_lag_in_msec, "
            "EXTRACT(EPOCH FROM now() - last_lag_calculation_time) "
            "FROM pg_catalog.aurora_global_db_status()"
        )
    else:
        sql = (
            "SELECT AWS_REGION, DURABILITY_LAG_IN_MILLISECONDS, "
            "TIMESTAMPDIFF(MICROSECOND, LAST_LAG_CALCULATION_TIME, NOW(6)) / 1e6 "
            "FROM information_schema.aurora_global_db_status"
        )
    rows = fetch(cluster, ihost(cluster, instance), sql)
    assert len(rows) == len(REGIONS), rows
    return {str(r[0]): (float(r[1]), float(r[2])) for r in rows}


def local_rows(cluster: Cluster, instance: str) -> set[tuple[str, bool]]:
    """The region's own topology (``aurora_replica_status`` / ``replica_host_status``)."""
    if pg(cluster):
        sql = "SELECT server_id, session_id FROM pg_catalog.aurora_replica_status()"
    else:
        sql = "SELECT SERVER_ID, SESSION_ID FROM information_schema.replica_host_status"
    rows = fetch(cluster, ihost(cluster, instance), sql)
    return {(str(r[0]), r[1] == "MASTER_SESSION_ID") for r in rows}


def instance_id(cluster: Cluster, instance: str) -> str:
    sql = (
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if pg(cluster)
        else "SELECT @@aurora_server_id"
    )
    return str(fetch(cluster, ihost(cluster, instance), sql)[0][0])


def expected_global(cluster: Cluster, writer: str) -> set[tuple[str, bool, str, bool]]:
    return {(i, i == writer, cluster.region_of(i), i != writer) for i in cluster.instance_ids}


def check_metadata(cluster: Cluster, writer: str, instances: list[str]) -> None:
    """Every listed instance answers the global status (every running instance of every
    region, the global writer marked), one row per region (the writer's region primary),
    its region's own topology, and its own id."""
    primary = cluster.region_of(writer)
    for instance in instances:
        region = cluster.region_of(instance)
        assert instance_id(cluster, instance) == instance
        assert global_rows(cluster, instance) == expected_global(cluster, writer), instance
        lags = region_rows(cluster, instance)
        assert lags[primary][0] == -1.0 and lags[primary][1] > 10**8, lags  # 1970
        assert all(lag >= 0 and 0 <= age < 5 for r, (lag, age) in lags.items() if r != primary)
        local = {(i, i == writer) for i in cluster.region_instance_ids(region)}
        assert local_rows(cluster, instance) == local, instance


def detection_queries(cluster: Cluster) -> list[tuple[str, int]]:
    """The queries clients detect a global database with (the peer's global dialects, then
    ours) and the number each must answer."""
    if pg(cluster):
        return [
            ("SELECT 'pg_catalog.aurora_global_db_status'::pg_catalog.regproc IS NOT NULL", 1),
            (
                "SELECT 'pg_catalog.aurora_global_db_instance_status'::pg_catalog.regproc "
                "IS NOT NULL",
                1,
            ),
            ("SELECT pg_catalog.count(1) FROM pg_catalog.aurora_global_db_status()", 2),
            ("SELECT COUNT(DISTINCT aws_region) FROM aurora_global_db_instance_status()", 2),
        ]
    exists = (
        "SELECT 1 AS tmp FROM information_schema.tables WHERE"
        " upper(table_schema) = 'INFORMATION_SCHEMA' AND upper(table_name) = '{}'"
    )
    return [
        (exists.format("AURORA_GLOBAL_DB_STATUS"), 1),
        (exists.format("AURORA_GLOBAL_DB_INSTANCE_STATUS"), 1),
        ("SELECT count(1) FROM information_schema.aurora_global_db_status", 2),
        (
            "SELECT COUNT(DISTINCT AWS_REGION) "
            "FROM information_schema.aurora_global_db_instance_status",
            2,
        ),
    ]


def check_read_only(cluster: Cluster, instance: str) -> None:
    with connect(cluster, ihost(cluster, instance)) as conn:
        conn.autocommit = True
        with pytest.raises(aws_wrapper.Error), conn.cursor() as cur:
            cur.execute("INSERT INTO g_marks VALUES ('refused')")


def test_up_names_hosts_metadata_replication(cluster: Cluster) -> None:
    g = cluster.global_status()
    assert g is not None and cluster.regions == REGIONS
    writer, primary = g["writer"], g["primary_region"]
    assert cluster.region_of(writer) == primary
    table = hosts(cluster)
    address = cluster.address_of
    ids = set()
    for region in g["regions"]:
        r = region["region"]
        members = cluster.region_instance_ids(r)
        assert region["instances"] == members and members
        rds_id = region["rds_id"]
        ids.add(rds_id)
        cl = re.escape(region["cluster"])
        assert re.fullmatch(
            rf"{cl}\.cluster-{rds_id}\.{r}\.rds\.amazonaws\.com", region["cluster_host"]
        )
        assert re.fullmatch(
            rf"{cl}\.cluster-ro-{rds_id}\.{r}\.rds\.amazonaws\.com", region["reader_host"]
        )
        assert region["instance_template"] == f"?.{rds_id}.{r}.rds.amazonaws.com"
        for i in members:
            assert table[ihost(cluster, i)] == {address(i)}
            assert ihost(cluster, i) == f"{i}.{rds_id}.{r}.rds.amazonaws.com"
        readers = {address(i) for i in members if i != writer}
        assert table[region["reader_host"]] == readers
        if r == primary:  # the writer; a secondary region has none: one of its instances
            assert table[region["cluster_host"]] == {address(writer)}
        else:
            assert len(table[region["cluster_host"]]) == 1
            assert table[region["cluster_host"]] <= readers
        assert f"{r}:{region['instance_template']}" in g["host_patterns"].split(",")
    assert len(ids) == len(REGIONS)  # each region its own cluster id
    assert re.fullmatch(
        rf"{cluster.name}\.global-[0-9a-f]{{12}}\.global\.rds\.amazonaws\.com", g["global_host"]
    )
    assert table[g["global_host"]] == {address(writer)}
    assert cluster.conn_params("global")["host"] == g["global_host"]
    assert cluster.conn_params(f"reader@{REGIONS[1]}")["host"] == g["regions"][1]["reader_host"]

    # replication from the writer to every instance of every region; only the writer writes
    marker = write_marker(cluster, writer)
    for i in cluster.instance_ids:
        wait_for_marker(cluster, i, marker)
    check_metadata(cluster, writer, cluster.instance_ids)
    contract = q.AURORA_PG_QUERIES if pg(cluster) else q.AURORA_MYSQL_QUERIES
    for i in cluster.instance_ids:
        for sql, want in detection_queries(cluster):
            assert fetch(cluster, ihost(cluster, i), sql) == [(want,)], (i, sql)
        for query in contract:  # every contract query answers, with its columns
            rows = fetch(cluster, ihost(cluster, i), query.sql)
            assert query.columns <= 0 or all(len(r) == query.columns for r in rows), query.name
            if query.name in (q.PG_GLOBAL_INSTANCES.name, q.MYSQL_GLOBAL_INSTANCES.name):
                assert len(rows) == len(cluster.instance_ids), rows
        if i != writer:
            check_read_only(cluster, i)
    check = cluster.status(check=True)["check"]
    assert {i for i, c in check.items() if c["role"] == "writer"} == {writer}
    assert all(c["replicating"] for i, c in check.items() if i != writer), check
    # the global endpoint reaches the writer (by name, through the resolver)
    with connect(cluster, g["global_host"]) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("INSERT INTO g_marks VALUES ('through the global endpoint')")


def test_global_switchover(cluster: Cluster) -> None:
    g = cluster.global_status()
    assert g is not None
    old, old_region = g["writer"], g["primary_region"]
    new_region = next(r for r in REGIONS if r != old_region)
    write_marker(cluster, old)  # the table exists everywhere
    # a writer keeps inserting through the old writer's name until it is refused
    acked: list[int] = []
    stop = threading.Event()

    def writes() -> None:
        try:
            with connect(cluster, ihost(cluster, old)) as conn:
                conn.autocommit = True
                with conn.cursor() as cur:
                    n = 0
                    while not stop.is_set():
                        n += 1
                        cur.execute("INSERT INTO g_marks VALUES (%s)", (f"w{n}",))
                        acked.append(n)
        except aws_wrapper.Error:
            return  # writes stopped: the connection was cut

    writer_thread = threading.Thread(target=writes)
    writer_thread.start()
    time.sleep(0.3)
    result = cluster.global_switchover(new_region, dns_lag=1.5)
    stop.set()
    writer_thread.join(10)
    returned = time.monotonic()
    new = result["new_writer"]
    assert result["old_region"] == old_region and result["new_region"] == new_region
    assert result["old_writer"] == old and cluster.region_of(new) == new_region
    assert len(result["steps"]) >= 5
    assert acked, "the writer did not write before the switchover"

    # names: the regions' endpoints follow at once, the global one after its DNS lag
    g2 = cluster.global_status()
    assert g2 is not None and g2["primary_region"] == new_region and g2["writer"] == new
    by_region = {r["region"]: r for r in g2["regions"]}
    table = hosts(cluster)
    assert table[by_region[new_region]["cluster_host"]] == {cluster.address_of(new)}
    assert table[by_region[old_region]["cluster_host"]] <= {
        cluster.address_of(i) for i in cluster.region_instance_ids(old_region)
    }
    assert table[g2["global_host"]] == {cluster.address_of(old)}, "no DNS lag"
    assert g2["global_dns"] == {"writer": old, "lagging": True}
    while hosts(cluster)[g2["global_host"]] != {cluster.address_of(new)}:
        assert time.monotonic() - returned < 4.0, "the global endpoint never followed"
        time.sleep(0.05)
    assert time.monotonic() - returned > 1.0  # it lagged

    # nothing lost; the old primary region replicates from the new writer
    with connect(cluster, ihost(cluster, new)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT v FROM g_marks WHERE v LIKE 'w%%'")
            have = {str(r[0]) for r in cur.fetchall()}
    assert {f"w{n}" for n in acked} <= have
    marker = write_marker(cluster, new)
    for i in cluster.instance_ids:
        wait_for_marker(cluster, i, marker)
    check_read_only(cluster, old)
    check_metadata(cluster, new, cluster.instance_ids)
    check = cluster.status(check=True)["check"]
    assert check[new]["role"] == "writer" and check[old] == {"role": "reader", "replicating": True}
    with pytest.raises(DevclusterError, match="already the primary region"):
        cluster.global_switchover(new_region)


def test_global_failover_and_region_fault(cluster: Cluster) -> None:
    g = cluster.global_status()
    assert g is not None
    old, old_region = g["writer"], g["primary_region"]
    new_region = next(r for r in REGIONS if r != old_region)
    marker = write_marker(cluster, old)
    for i in cluster.region_instance_ids(new_region):
        wait_for_marker(cluster, i, marker)  # replicated before the outage
    result = cluster.global_failover(new_region, dns_lag=0)
    new = result["new_writer"]
    assert result["kind"] == "failover" and cluster.region_of(new) == new_region
    status = cluster.status()
    faults = {i["id"]: i["fault"] for i in status["instances"]}
    lost = cluster.region_instance_ids(old_region)
    assert all(faults[i] == "blackhole" for i in lost), faults
    # the old primary region is cut off: connects hang
    started = time.monotonic()
    with pytest.raises(aws_wrapper.Error):
        connect(cluster, ihost(cluster, old), connect_timeout=1).close()
    assert time.monotonic() - started >= 0.9
    # the new writer has what was replicated before the cut, takes writes, and says so
    wait_for_marker(cluster, new, marker, timeout=1)
    marker2 = write_marker(cluster, new)
    g2 = cluster.global_status()
    assert g2 is not None and g2["primary_region"] == new_region
    assert hosts(cluster)[g2["global_host"]] == {cluster.address_of(new)}
    survivors = cluster.region_instance_ids(new_region)
    cluster.wait_rejoins()  # the old primary region's instances rejoined as replicas
    check_metadata(cluster, new, survivors)
    # healed, the old region is back: replicating from the new writer, read-only
    cluster.region_fault(old_region, "heal")
    for i in lost:
        wait_for_marker(cluster, i, marker2)
        check_read_only(cluster, i)
    check_metadata(cluster, new, cluster.instance_ids)

    # region faults: reject refuses the whole region at once; the other region works
    cluster.region_fault(new_region, "reject")
    started = time.monotonic()
    with pytest.raises(aws_wrapper.Error):
        connect(cluster, ihost(cluster, survivors[-1]), connect_timeout=3).close()
    assert time.monotonic() - started < 2.0  # refused, not timed out
    assert instance_id(cluster, lost[0]) == lost[0]
    cluster.region_fault(new_region, "heal")
    assert instance_id(cluster, survivors[-1]) == survivors[-1]
    with pytest.raises(DevclusterError, match="no region"):
        cluster.region_fault("eu-west-1", "blackhole")


def test_in_region_failover(cluster: Cluster) -> None:
    """A failover inside the primary region: a reader there takes over, the secondary
    region follows the new writer, the global endpoint with it."""
    g = cluster.global_status()
    assert g is not None
    old, primary = g["writer"], g["primary_region"]
    result = cluster.failover(crash=True)
    new = result["new_writer"]
    assert cluster.region_of(new) == primary and new != old
    cluster.wait_rejoins()
    g2 = cluster.global_status()
    assert g2 is not None and g2["primary_region"] == primary
    assert hosts(cluster)[g2["global_host"]] == {cluster.address_of(new)}
    marker = write_marker(cluster, new)
    for i in cluster.instance_ids:
        wait_for_marker(cluster, i, marker)
    check_metadata(cluster, new, cluster.instance_ids)


def test_check_regions() -> None:
    assert check_regions(["us-east-1", " us-west-2"]) == ("us-east-1", "us-west-2")
    for bad, message in (
        (["us-east-1"], "at least two"),
        (["us-east-1", "us-east-1"], "each region once"),
        (["us-east-1", "nowhere"], "not a region name"),
    ):
        with pytest.raises(ValueError, match=message):
            check_regions(bad)
    with pytest.raises(ValueError, match="at least two"):
        Cluster.up("postgresql", name="g19never", regions="us-east-1")


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_cli_global_and_cross_region_latency(request: pytest.FixtureRequest) -> None:
    name = f"g{int(time.time() * 1000) % 10**8}"
    common = ["--name", name]
    assert "--regions" in cli("up", "--help").stdout
    out = cli("global", "failover", "--help").stdout
    assert "--dns-lag" in out and "unplanned" in out
    assert "--region" in cli("fault", "--help").stdout
    up = cli(
        "up",
        *common,
        "--regions",
        "us-east-1,us-west-2",
        "--readers",
        "0",
        "--cross-region-latency-ms",
        "40",
    )
    try:
        assert up.returncode == 0, up.stderr
        assert "global writer endpoint" in up.stdout and "latency 40 ms" in up.stdout
        status = json.loads(cli("status", "--json", *common).stdout)
        faults = {i["region"]: i["fault"] for i in status["instances"]}
        assert faults == {"us-east-1": "none", "us-west-2": "latency 40 ms"}
        cluster = Cluster.attach(name)
        request.addfinalizer(cluster.uninstall_resolver)

        def round_trip(instance: str) -> float:
            started = time.monotonic()
            instance_id(cluster, instance)
            return time.monotonic() - started

        west = cluster.region_instance_ids("us-west-2")[0]
        assert round_trip(west) >= 0.16  # 40 ms each way, several round trips
        # heal leaves the cross-region latency in place
        cli("fault", "--region", "us-west-2", "heal", *common)
        assert json.loads(cli("status", "--json", *common).stdout)["instances"][1]["fault"] == (
            "latency 40 ms"
        )
        moved = cli("global", "switchover", "us-west-2", "--dns-lag", "0", *common)
        assert moved.returncode == 0, moved.stderr
        lines = moved.stdout.splitlines()
        progress = [line for line in lines if "global switchover: +" in line]
        assert len(progress) >= 4, moved.stdout  # each step as it happened
        assert any("global switchover: us-east-1" in line for line in lines)
        assert json.loads(cli("global", "status", "--json", *common).stdout)["primary_region"] == (
            "us-west-2"
        )
        again = cli("global", "switchover", "us-west-2", *common)
        assert again.returncode == 1 and "already the primary region" in again.stderr
        nowhere = cli("global", "failover", "eu-west-1", *common)
        assert nowhere.returncode == 1 and "no region 'eu-west-1'" in nowhere.stderr
    finally:
        cli("down", *common)


def test_relay_lists_aurora_tables_only_for_existence_checks() -> None:
    from aws_wrapper_devcluster.model import InstanceMetadata
    from aws_wrapper_devcluster.mysql_relay import rewrite_query

    meta = InstanceMetadata("i-1", ())
    plain = b"SELECT table_name, table_rows FROM information_schema.tables WHERE table_schema='x'"
    assert rewrite_query(plain, meta) is None  # untouched: other columns keep working
    check = (
        b"SELECT 1 FROM information_schema.tables t WHERE upper(t.table_name) = "
        b"'AURORA_GLOBAL_DB_STATUS'"
    )
    out = rewrite_query(check, meta)
    assert out is not None and b"'AURORA_GLOBAL_DB_STATUS', 'SYSTEM VIEW'" in out
    assert out.endswith(b") t WHERE upper(t.table_name) = 'AURORA_GLOBAL_DB_STATUS'")
    status = rewrite_query(b"SELECT count(1) FROM information_schema.aurora_global_db_status", meta)
    assert status is not None and status.endswith(b") AS aurora_global_db_status")
    assert b"'us-east-1'" in status  # a single-region instance: its own region, primary
