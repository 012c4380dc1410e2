"""Blue/green deployments in the devcluster: ``bg create`` / ``bg status`` / ``bg delete``,
on real servers (both engines), reached by their RDS-shaped names through the hosts file."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

import aws_wrapper
from aws_wrapper import aurora_queries as q
from aws_wrapper.aws.sigv4 import generate_rds_auth_token
from aws_wrapper_devcluster import Cluster, DevclusterError, HostsFileResolver
from aws_wrapper_devcluster.bluegreen import ROLE_SOURCE, ROLE_TARGET
from aws_wrapper_devcluster.cluster import REGION
from aws_wrapper_devcluster.iam_verifier import ACCESS_KEY_ID, IAM_ROLE, SECRET_ACCESS_KEY


@pytest.fixture(params=["pg", "mysql"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    name = "devcluster_pg" if request.param == "pg" else "devcluster_mysql"
    c: Cluster = request.getfixturevalue(name)
    return c


def pg(cluster: Cluster) -> bool:
    return cluster.engine.value == "postgresql"


def bg_query(cluster: Cluster) -> str:
    return (q.PG_BLUE_GREEN if pg(cluster) else q.MYSQL_BLUE_GREEN).sql


def connect(cluster: Cluster, host: str, **extra: Any) -> Any:
    params = {**cluster.conn_params(), "host": host, **extra}
    driver = "psycopg" if pg(cluster) else "pymysql"
    return aws_wrapper.connect(driver=driver, plugins="", **params)


def fetch(cluster: Cluster, host: str, sql: str) -> list[tuple[Any, ...]]:
    with connect(cluster, host) as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
            rows = [tuple(r) for r in cur.fetchall()]
        conn.rollback()
        return rows


def eventually(cluster: Cluster, host: str, sql: str, want: set[tuple[Any, ...]]) -> None:
    """``sql`` on ``host`` answers the rows ``want`` within 10 s (MariaDB: the status rows
    arrive by replication)."""
    deadline = time.monotonic() + 10
    while True:
        rows = fetch(cluster, host, sql)
        if len(rows) == len(want) and set(rows) == want:
            return
        assert time.monotonic() < deadline, (host, rows)
        time.sleep(0.05)


def write_marker(cluster: Cluster) -> str:
    marker = f"m{time.monotonic_ns()}"
    with connect(cluster, cluster.cluster_host) as conn:
        conn.autocommit = True
        conn.execute("CREATE TABLE IF NOT EXISTS bg_marks (v VARCHAR(40))")
        conn.execute("INSERT INTO bg_marks VALUES (%s)", (marker,))
    return marker


def wait_for_marker(cluster: Cluster, host: str, marker: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    sql = f"SELECT v FROM bg_marks WHERE v = '{marker}'"
    while True:
        try:
            if fetch(cluster, host, sql):
                return
        except aws_wrapper.Error:  # the table itself may not have arrived yet
            pass
        assert time.monotonic() < deadline, f"{marker} never reached {host}"
        time.sleep(0.05)


def expected_rows(deployment: dict[str, Any], port: int) -> set[tuple[Any, ...]]:
    rows = set()
    for side, role in (("blue", ROLE_SOURCE), ("green", ROLE_TARGET)):
        names = deployment[side]
        hosts = [names["cluster_host"], names["reader_host"]]
        hosts += [i["host"] for i in names["instances"]]
        rows |= {("1.0", host, port, role, "AVAILABLE") for host in hosts}
    return rows


def refused(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1.0):
            return False
    except ConnectionRefusedError:
        return True


def test_create_status_delete(cluster: Cluster) -> None:
    host_id = (q.PG_HOST_ID if pg(cluster) else q.MYSQL_HOST_ID).sql
    topology = (q.PG_TOPOLOGY if pg(cluster) else q.MYSQL_TOPOLOGY).sql
    assert cluster.bg_status() is None
    before = write_marker(cluster)  # in the base backup
    deployment = cluster.bg_create()
    try:
        # names: -green-<6 lowercase alnum> on the first label of every green endpoint
        suffix = deployment["suffix"]
        assert re.fullmatch(r"-green-[a-z0-9]{6}", suffix)
        rds = f"{cluster.spec.rds_id}.{REGION}.rds.amazonaws.com"
        green = deployment["green"]
        assert green["cluster"] == f"{cluster.name}{suffix}"
        assert green["cluster_host"] == f"{cluster.name}{suffix}.cluster-{rds}"
        assert green["reader_host"] == f"{cluster.name}{suffix}.cluster-ro-{rds}"
        assert [i["id"] for i in green["instances"]] == [
            f"{i}{suffix}" for i in cluster.instance_ids
        ]
        assert [i["host"] for i in green["instances"]] == [
            f"{i}{suffix}.{rds}" for i in cluster.instance_ids
        ]
        assert green["writer"] == f"{cluster.writer}{suffix}"
        assert [i["source"] for i in green["instances"]] == cluster.instance_ids
        assert deployment["blue"]["cluster_host"] == cluster.cluster_host
        assert deployment["status"] == "AVAILABLE" and deployment["id"].startswith("bgd-")
        assert cluster.status()["blue_green"] == cluster.bg_status()

        # the hosts file sends green names to green's proxies (own addresses, shared port)
        resolver = HostsFileResolver([cluster.hosts_file])
        blue_addresses = {cluster.address_of(i) for i in cluster.instance_ids}
        by_id = {i["id"]: i for i in green["instances"]}
        for item in green["instances"]:
            assert resolver.addresses(item["host"]) == (item["address"],)
            assert item["address"] not in blue_addresses and item["port"] == cluster.port
        assert resolver.addresses(green["cluster_host"]) == (by_id[green["writer"]]["address"],)
        readers = {i["address"] for i in green["instances"] if i["role"] == "reader"}
        assert set(resolver.addresses(green["reader_host"])) == readers
        for item in green["instances"]:  # the name leads to that green instance
            assert fetch(cluster, item["host"], host_id) == [(item["id"],)]
        green_topology = fetch(cluster, green["cluster_host"], topology)
        assert sorted(r[0] for r in green_topology) == sorted(by_id)
        assert [r[0] for r in green_topology if r[1]] == [green["writer"]]

        # green replicates blue: what was there before, what is written after; read-only
        after = write_marker(cluster)
        for item in green["instances"]:
            wait_for_marker(cluster, item["host"], before)
            wait_for_marker(cluster, item["host"], after)
            with (
                connect(cluster, item["host"]) as conn,
                pytest.raises(aws_wrapper.Error, match=r"(?i)read.only|recovery"),
            ):
                conn.execute("INSERT INTO bg_marks VALUES ('nope')")
        check = cluster.status(check=True)["check"]
        for item in green["instances"]:
            assert check[item["id"]] == {"role": "reader", "replicating": True}

        # the status rows, as the app user, on every instance of both sides
        want = expected_rows(deployment, cluster.port)
        assert len(want) == 2 * (2 + len(cluster.instance_ids))
        assert {
            (r["version"], r["endpoint"], r["port"], r["role"], r["status"])
            for r in deployment["rows"]
        } == want
        hosts = [cluster.instance_host(i) for i in cluster.instance_ids]
        hosts += [i["host"] for i in green["instances"]]
        hosts += [cluster.cluster_host, green["cluster_host"], green["reader_host"]]
        for host in hosts:
            eventually(cluster, host, bg_query(cluster), want)

        # a second deployment is refused while this one exists
        with pytest.raises(DevclusterError, match="exists already"):
            cluster.bg_create()
    finally:
        deleted = cluster.bg_delete()
    assert deleted["deleted"] == deployment["id"]

    # delete: no deployment, no green names, no rows, green's proxies and servers gone
    assert cluster.bg_status() is None and cluster.status()["blue_green"] is None
    text = cluster.hosts_file.read_text()
    assert suffix not in text
    assert HostsFileResolver([cluster.hosts_file]).addresses(green["cluster_host"]) == ()
    for item in green["instances"]:
        assert refused(item["address"], cluster.port)
        assert refused("127.0.0.1", item["server_port"])
        assert not (cluster.state_dir / "instances" / item["id"]).exists()
    for instance in cluster.instance_ids:
        eventually(cluster, cluster.instance_host(instance), bg_query(cluster), set())
    assert set(cluster.status(check=True)["check"]) == set(cluster.instance_ids)
    assert cluster.bg_delete() == {"deleted": None}  # idempotent


def test_green_follows_blue_failover_and_reset_deletes_green(cluster: Cluster) -> None:
    deployment = cluster.bg_create(suffix="-green-t0f41l")
    green = deployment["green"]
    for crash in (False, True):
        cluster.failover(crash=crash)
        cluster.wait_rejoins()
        marker = write_marker(cluster)  # on blue's new writer
        for item in green["instances"]:
            wait_for_marker(cluster, item["host"], marker)
        check = cluster.status(check=True)["check"]
        assert all(check[i["id"]]["replicating"] for i in green["instances"]), check
    cluster.reset()
    assert cluster.bg_status() is None
    assert "-green-t0f41l" not in cluster.hosts_file.read_text()


def test_bad_suffix_is_refused(devcluster_pg: Cluster) -> None:
    for bad in ("-green-ABC123", "-blue-abc123", "abc12", "-green-abc1234"):
        with pytest.raises(DevclusterError, match="-green- and 6 lowercase"):
            devcluster_pg.bg_create(suffix=bad)
    assert devcluster_pg.bg_status() is None


def test_iam_tokens_for_green_names(devcluster_pg: Cluster) -> None:
    cluster = devcluster_pg
    user = "bg_iam_user"
    cluster.create_iam_user(user)
    deployment = cluster.bg_create()
    green = deployment["green"]
    item = green["instances"][-1]

    def token(host: str) -> str:
        return generate_rds_auth_token(
            host=host,
            port=cluster.port,
            user=user,
            region=REGION,
            access_key=ACCESS_KEY_ID,
            secret_key=SECRET_ACCESS_KEY,
        )

    def login(host: str, password: str) -> Any:
        return psycopg.connect(
            host=host,
            hostaddr=item["address"],
            port=cluster.port,
            user=user,
            password=password,
            dbname="app",
            connect_timeout=5,
        )

    for host in (item["host"], green["cluster_host"], green["reader_host"]):
        with login(host, token(host)) as conn:
            row = conn.execute("SELECT current_user, aurora_db_instance_identifier()").fetchone()
            assert row == (user, item["id"]), host
    with pytest.raises(psycopg.OperationalError, match="LDAP authentication failed"):
        login(cluster.cluster_host, token(cluster.cluster_host)).close()  # blue's name
    assert IAM_ROLE  # the user is a member of it (create_iam_user)


def test_cli_bg(devcluster_pg: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    """The bg commands: help in-process, the commands through ``main`` (the subprocess
    entry point is exercised by create and switchover)."""
    from aws_wrapper_devcluster.__main__ import build_parser, main

    def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aws_wrapper_devcluster", "--name", devcluster_pg.name, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--name", devcluster_pg.name, *args])
        out, err = capsys.readouterr()
        return code, out, err

    def usage(*args: str) -> str:
        with pytest.raises(SystemExit):
            build_parser().parse_args([*args, "--help"])
        return capsys.readouterr().out

    assert "bg" in usage()
    for action in ("create", "status", "switchover", "permissions", "statements", "delete"):
        assert action in usage("bg")
    assert "--suffix" in usage("bg", "create")
    assert all(opt in usage("bg", "switchover") for opt in ("--rollback", "--slow", "--dns-lag"))
    assert "no blue/green deployment" in run("bg", "status")[1]
    created = cli("bg", "create", "--suffix", "c11c11").stdout
    assert "created in" in created and ROLE_TARGET in created and ROLE_SOURCE in created
    assert f"{devcluster_pg.name}-green-c11c11.cluster-" in created
    status = json.loads(run("bg", "status", "--json")[1])
    assert status["suffix"] == "-green-c11c11" and len(status["rows"]) == 10
    assert "blue/green:" in run("status")[1]

    # bg switchover: each step printed with its time as it happens
    t0 = time.monotonic()
    out = cli("bg", "switchover", "--dns-lag", "0.5").stdout
    seconds = time.monotonic() - t0
    stamp = r"\d\d:\d\d:\d\d\.\d{3}  \+ *\d+\.\d\d s  "
    steps = [re.sub(stamp, "", line) for line in out.splitlines() if re.match(stamp, line)]
    phases = [step.split(":")[0] for step in steps]
    assert [p for p in phases if p.startswith("SWITCHOVER_")] == [
        INITIATED,
        IN_PROGRESS,
        POST,
        COMPLETED,
    ], out
    assert "renamed" in phases and "DNS updated" in phases
    assert "switchover completed" in out and f"{devcluster_pg.name}-old1.cluster-" in out
    assert seconds < 30, seconds  # default phases (DNS lag 0.5 s): about 4 s when idle
    assert "SWITCHOVER_COMPLETED" in run("bg", "status")[1]
    assert run("bg", "statements")[0] == 0
    assert "may not read" in run("bg", "permissions", "--deny")[1]
    assert "may read" in run("bg", "permissions", "--allow")[1]
    assert "deleted" in run("bg", "delete")[1]
    assert "no blue/green deployment" in run("bg", "delete")[1]
    code, _, err = run("bg", "switchover")
    assert code == 1 and "no blue/green deployment" in err
    assert devcluster_pg.bg_status() is None


# -- switchover ----------------------------------------------------------------------------

FAST = {"initiated_s": 0.3, "in_progress_s": 0.5, "dns_lag_s": 0.8, "post_s": 0.2}
"""Phase lengths for the tests (the defaults take about twice as long)."""

INITIATED, IN_PROGRESS = "SWITCHOVER_INITIATED", "SWITCHOVER_IN_PROGRESS"
POST, COMPLETED = "SWITCHOVER_IN_POST_PROCESSING", "SWITCHOVER_COMPLETED"


@pytest.fixture(params=["pg", "mysql"])
def bg_cluster(request: pytest.FixtureRequest) -> Cluster:
    """A cluster with a deployment (the plugin's ``devcluster_*_bg`` fixtures)."""
    name = "devcluster_pg_bg" if request.param == "pg" else "devcluster_mysql_bg"
    c: Cluster = request.getfixturevalue(name)
    return c


@pytest.fixture(params=["pg", "mysql"])
def switchover_cluster(request: pytest.FixtureRequest) -> Cluster:
    """The blue/green session cluster, reset, without a deployment: a switchover leaves
    history the shared cluster's other tests should not meet (see pytest_plugin)."""
    name = "devcluster_pg_bg_session" if request.param == "pg" else "devcluster_mysql_bg_session"
    c: Cluster = request.getfixturevalue(name)
    c.reset()
    return c


def direct_rows(cluster: Cluster, instance: str) -> set[tuple[Any, ...]]:
    """The status rows ``instance`` answers, read by the superuser on its real server (not
    through its proxy, which refuses connections to blue during the switchover). Blue's
    servers end every session when blue stops taking writes: this one is retried."""
    import pymysql

    params = cluster.direct_params(instance, admin=True)
    for attempt in range(5):
        try:
            if pg(cluster):
                with psycopg.connect(**params, connect_timeout=5, autocommit=True) as pconn:
                    return {tuple(r) for r in pconn.execute(bg_query(cluster)).fetchall()}
            mconn = pymysql.connect(**params, connect_timeout=5)
            try:
                with mconn.cursor() as cur:
                    cur.execute(bg_query(cluster))
                    return {tuple(r) for r in cur.fetchall()}
            finally:
                mconn.close()
        except (psycopg.OperationalError, pymysql.OperationalError):
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def side_state(rows: set[tuple[Any, ...]]) -> tuple[str | None, frozenset[str]]:
    """``(status, endpoints)`` of one side's rows (status None: no rows)."""
    statuses = {r[4] for r in rows}
    assert len(statuses) <= 1, rows  # a side publishes one status at a time
    return (statuses.pop() if statuses else None), frozenset(r[1] for r in rows)


def dedupe(items: list[Any]) -> list[Any]:
    return [x for i, x in enumerate(items) if i == 0 or items[i - 1] != x]


def names_of(deployment: dict[str, Any], side: str) -> set[str]:
    names = deployment[side]
    return {names["cluster_host"], names["reader_host"], *(i["host"] for i in names["instances"])}


def test_switchover(switchover_cluster: Cluster) -> None:
    """A full switchover observed by polling both sides while it runs (wait=False)."""
    cluster = switchover_cluster
    iam_user = "bg_so_iam"
    if pg(cluster):
        cluster.create_iam_user(iam_user)  # before green exists: green gets it by cloning
    before = cluster.bg_create(suffix="s0s0s0")
    blue_writer = cluster.writer
    green_writer = before["green"]["writer"]
    blue_names, green_names = names_of(before, "blue"), names_of(before, "green")
    address = {i: cluster.address_of(i) for i in cluster.instance_ids}
    address |= {i["id"]: i["address"] for i in before["green"]["instances"]}
    markers = [write_marker(cluster) for _ in range(3)]  # on blue, before the switchover
    early = connect(cluster, cluster.cluster_host)  # open on blue's writer throughout
    early.autocommit = True
    early.execute("SELECT 1")

    started = cluster.bg_switchover(wait=False, timings=FAST)
    assert started["switchover"]["running"] and started["switchover"]["timings"] == FAST
    with pytest.raises(DevclusterError, match="running already"):
        cluster.bg_switchover(wait=False)
    blue_seen: list[tuple[str | None, frozenset[str]]] = []
    green_seen: list[tuple[str | None, frozenset[str]]] = []
    dns_seen: list[tuple[bool, bool, tuple[str, ...], tuple[str, ...]]] = []
    refused_while_stopped = False
    while True:
        deployment = cluster.bg_status()
        assert deployment is not None
        blue_seen.append(side_state(direct_rows(cluster, blue_writer)))
        green_seen.append(side_state(direct_rows(cluster, green_writer)))
        dns = deployment["dns"]
        dns_seen.append(
            (
                deployment["switched"],
                deployment["dns_switched"],
                tuple(dns[cluster.cluster_host]),
                tuple(dns[before["green"]["cluster_host"]]),
            )
        )
        switchover = deployment["switchover"]
        if (
            not refused_while_stopped
            and switchover["writes_stopped_at"] is not None
            and not deployment["switched"]
        ):
            refused_while_stopped = refused(address[blue_writer], cluster.port)
            assert (cluster.bg_status() or {})["status"] == IN_PROGRESS  # still then
        if not switchover["running"]:
            break
        time.sleep(0.03)
    assert switchover["outcome"] == "completed" and switchover["error"] is None
    assert switchover["statuses"] == [INITIATED, IN_PROGRESS, POST, COMPLETED]
    assert refused_while_stopped  # blue refused connections while it took no writes

    # each side's rows, phase by phase: one status per side; renamed from POST on
    assert deployment["blue"]["cluster"] == f"{cluster.name}-old1"
    assert deployment["green"]["cluster"] == cluster.name
    new_names = names_of(deployment, "blue") | names_of(deployment, "green")
    assert names_of(deployment, "green") == blue_names  # green took blue's names
    assert all("-old1." in n for n in names_of(deployment, "blue"))
    for seen in (blue_seen, green_seen):
        for status, endpoints in seen:
            if status in ("AVAILABLE", INITIATED):
                assert endpoints == blue_names | green_names
            elif status in (POST, COMPLETED):
                assert endpoints == new_names
    assert dedupe([s for s, _ in blue_seen if s != "AVAILABLE"]) == [
        INITIATED,
        IN_PROGRESS,
        POST,
        None,  # old blue's table is empty once completed
    ]
    assert dedupe([s for s, _ in green_seen if s != "AVAILABLE"]) == [
        INITIATED,
        IN_PROGRESS,
        POST,
        COMPLETED,
    ]
    final_rows = {
        (r["version"], r["endpoint"], r["port"], r["role"], r["status"])
        for r in deployment["rows_by_side"]["green"]
    }
    assert final_rows == {
        *(("1.0", n, cluster.port, ROLE_SOURCE, COMPLETED) for n in names_of(deployment, "blue")),
        *(("1.0", n, cluster.port, ROLE_TARGET, COMPLETED) for n in blue_names),
    }
    assert deployment["rows_by_side"]["blue"] == [] and deployment["sides"]["blue"] is None

    # DNS: blue's names kept old blue's address after the renames, for dns_lag_s
    green_address = (address[green_writer],)
    assert (True, False, (address[blue_writer],), green_address) in dns_seen  # lagging
    for switched, dns_switched, blue_answer, green_answer in dns_seen:
        if not dns_switched:
            assert blue_answer == (address[blue_writer],) and green_answer == green_address
        else:
            assert switched and blue_answer == green_address and green_answer == ()
    events = {e["event"].split(":")[0]: e["offset_s"] for e in switchover["events"]}
    lag = events["DNS updated"] - events["renamed"]
    assert FAST["dns_lag_s"] <= lag < FAST["dns_lag_s"] + 1.0, switchover["events"]
    resolver = HostsFileResolver([cluster.hosts_file])
    assert resolver.addresses(cluster.cluster_host) == green_address
    for blue in cluster.instance_ids:
        green_id = f"{blue}-green-s0s0s0"
        assert resolver.addresses(cluster.instance_host(blue)) == (address[green_id],)
        assert resolver.addresses(cluster.instance_host(f"{blue}-old1")) == (address[blue],)
        assert resolver.addresses(cluster.instance_host(green_id)) == ()

    # server-side evidence: no app statement reached old blue once it stopped taking writes
    assert switchover["writes_stopped_position"]
    assert [s for s in cluster.bg_statements() if s["user"] == "app"] == []
    with pytest.raises(aws_wrapper.Error):  # the connection opened before was cut
        early.execute("SELECT 1")

    # green, under blue's names: writable, with everything written on blue, renamed
    host_id = (q.PG_HOST_ID if pg(cluster) else q.MYSQL_HOST_ID).sql
    topology = (q.PG_TOPOLOGY if pg(cluster) else q.MYSQL_TOPOLOGY).sql
    after = write_marker(cluster)  # through the cluster endpoint: green's writer now
    assert fetch(cluster, cluster.cluster_host, host_id) == [(blue_writer,)]
    rows = fetch(cluster, cluster.cluster_host, topology)
    assert sorted(r[0] for r in rows) == sorted(cluster.instance_ids)
    assert [r[0] for r in rows if r[1]] == [blue_writer]
    for marker in markers:
        wait_for_marker(cluster, cluster.cluster_host, marker, timeout=1.0)
    for blue in cluster.instance_ids:  # every green instance, by its new (blue) name
        assert fetch(cluster, cluster.instance_host(blue), host_id) == [(blue,)]
        wait_for_marker(cluster, cluster.instance_host(blue), after)
    check = cluster.status(check=True)["check"]
    assert check[green_writer]["role"] == "writer"
    for item in before["green"]["instances"]:
        if item["id"] != green_writer:
            assert check[item["id"]] == {"role": "reader", "replicating": True}

    # old blue: -old1 names, running, read-only, everything from before, nothing after
    old_cluster = deployment["blue"]["cluster_host"]
    assert fetch(cluster, old_cluster, host_id) == [(f"{blue_writer}-old1",)]
    assert fetch(cluster, old_cluster, bg_query(cluster)) == []
    evidence = f"evidence-{time.monotonic_ns()}"
    with connect(cluster, old_cluster) as conn:
        conn.autocommit = True
        with pytest.raises(aws_wrapper.Error, match=r"(?i)read.only"):
            conn.execute("INSERT INTO bg_marks VALUES ('old')")
        with conn.cursor() as cur:
            cur.execute(f"SELECT v FROM bg_marks WHERE v IN ('{markers[-1]}', '{after}')")
            assert [tuple(r) for r in cur.fetchall()] == [(markers[-1],)]
            cur.execute(f"SELECT '{evidence}'")
    logged = [s for s in cluster.bg_statements() if evidence in s["statement"]]
    assert [(s["instance"], s["user"]) for s in logged] == [(blue_writer, "app")]
    assert logged[0]["at"] > switchover["writes_stopped_at"]

    if pg(cluster):  # IAM: each instance accepts tokens for the names it has now
        iam_login_checks(cluster, iam_user, address, blue_writer, green_writer, deployment)

    with pytest.raises(DevclusterError, match="switched over already"):
        cluster.bg_switchover()
    with pytest.raises(DevclusterError, match="does not emulate failovers"):
        cluster.failover()
    cluster.bg_delete()  # blue gets its names back and takes writes again
    assert resolver.addresses(cluster.cluster_host) == (address[blue_writer],)
    write_marker(cluster)
    assert fetch(cluster, cluster.cluster_host, host_id) == [(blue_writer,)]


def iam_login_checks(
    cluster: Cluster,
    user: str,
    address: dict[str, str],
    blue_writer: str,
    green_writer: str,
    deployment: dict[str, Any],
) -> None:
    def login(instance: str, host: str) -> Any:
        token = generate_rds_auth_token(
            host=host,
            port=cluster.port,
            user=user,
            region=REGION,
            access_key=ACCESS_KEY_ID,
            secret_key=SECRET_ACCESS_KEY,
        )
        return psycopg.connect(
            host=host,
            hostaddr=address[instance],
            port=cluster.port,
            user=user,
            password=token,
            dbname="app",
            connect_timeout=5,
        )

    green_old = f"{cluster.name}-green-s0s0s0.cluster-{cluster.spec.rds_id}.{REGION}"
    cases = [
        (green_writer, cluster.cluster_host, blue_writer),
        (green_writer, cluster.instance_host(blue_writer), blue_writer),
        (blue_writer, deployment["blue"]["cluster_host"], f"{blue_writer}-old1"),
    ]
    for instance, host, name in cases:
        with login(instance, host) as conn:
            row = conn.execute("SELECT aurora_db_instance_identifier()").fetchone()
            assert row == (name,), host
    for instance, host in (
        (green_writer, f"{green_old}.rds.amazonaws.com"),  # green's old name
        (blue_writer, cluster.cluster_host),  # old blue under blue's name (stale DNS)
    ):
        with pytest.raises(psycopg.OperationalError, match="LDAP authentication failed"):
            login(instance, host).close()


def test_failover_after_switchover_and_delete(switchover_cluster: Cluster) -> None:
    """After a switchover and ``bg delete`` (blue back under its names, writable), the cluster
    fails over as before and its replicas follow: nothing the switchover did (statement
    logs on blue's instances, rows written per side) is left in blue's GTID stream or WAL."""
    cluster = switchover_cluster
    cluster.bg_create(suffix="d3l3t3")
    cluster.bg_switchover(timings=FAST)
    cluster.bg_delete()
    for crash in (False, True):
        cluster.failover(crash=crash)
        cluster.wait_rejoins()
        marker = write_marker(cluster)
        for instance in cluster.instance_ids:
            wait_for_marker(cluster, cluster.instance_host(instance), marker)
        check = cluster.status(check=True)["check"]
        readers = [i for i in cluster.instance_ids if i != cluster.writer]
        assert all(check[i]["replicating"] for i in readers), check


def test_rollback(bg_cluster: Cluster) -> None:
    cluster = bg_cluster
    before = cluster.bg_status()
    assert before is not None
    markers = [write_marker(cluster) for _ in range(3)]
    hosts = cluster.hosts_file.read_text()
    done = cluster.bg_switchover(rollback=True, timings={"initiated_s": 0.2, "in_progress_s": 0.5})
    switchover = done["switchover"]
    assert switchover["outcome"] == "rolled back" and switchover["rollback"]
    assert switchover["statuses"] == [INITIATED, IN_PROGRESS, "AVAILABLE"]
    assert [e["event"].split(":")[0] for e in switchover["events"]] == [
        INITIATED,
        IN_PROGRESS,
        "blue stopped taking writes",
        "green caught up with blue",
        "rolled back",
        "AVAILABLE (rolled back)",
    ]
    assert not done["switched"] and cluster.hosts_file.read_text() == hosts  # no renames
    want = expected_rows(before, cluster.port)
    for instance in [*cluster.instance_ids, *(i["id"] for i in before["green"]["instances"])]:
        assert direct_rows(cluster, instance) == want
    after = write_marker(cluster)  # blue takes writes again
    for marker in [*markers, after]:
        wait_for_marker(cluster, cluster.cluster_host, marker, timeout=1.0)
        for item in before["green"]["instances"]:  # green still replicates blue
            wait_for_marker(cluster, item["host"], marker)
    check = cluster.status(check=True)["check"]
    assert check[cluster.writer]["role"] == "writer"
    for item in before["green"]["instances"]:
        assert check[item["id"]] == {"role": "reader", "replicating": True}
    with pytest.raises(DevclusterError, match="ended \\(rolled back\\) without reaching"):
        cluster.bg_wait(COMPLETED, timeout=1)
    assert cluster.bg_wait(IN_PROGRESS, timeout=1)["status"] == "AVAILABLE"  # reached before


def test_slow_is_slow_and_delete_stops_it(devcluster_pg_bg: Cluster) -> None:
    from aws_wrapper_devcluster.__main__ import build_parser
    from aws_wrapper_devcluster.bluegreen import Timings

    slow = Timings.make(slow=True)
    assert min(slow.to_json().values()) >= 10 and sum(slow.to_json().values()) >= 40
    assert sum(Timings.make().to_json().values()) <= 6
    assert Timings.make(slow=True, overrides={"dns_lag_s": 3}).dns_lag_s == 3
    with pytest.raises(ValueError, match="unknown switchover timing"):
        Timings.make(overrides={"dns_lag": 1})
    with pytest.raises(ValueError, match=r"0\.\.600"):
        Timings.make(overrides={"post_s": -1})
    argv = ["bg", "switchover", "--slow", "--rollback", "--dns-lag", "4"]
    args = build_parser().parse_args(argv)
    assert (args.slow, args.rollback, args.dns_lag) == (True, True, 4)

    cluster = devcluster_pg_bg
    started = cluster.bg_switchover(slow=True, wait=False)
    assert started["switchover"]["timings"] == slow.to_json()
    assert cluster.bg_wait(INITIATED, timeout=5)["status"] == INITIATED
    with pytest.raises(DevclusterError, match="not reached within"):
        cluster.bg_wait(IN_PROGRESS, timeout=0.3)  # 10 s of SWITCHOVER_INITIATED
    t0 = time.monotonic()
    assert cluster.bg_delete()["deleted"] == started["id"]  # stops it: no waiting
    assert time.monotonic() - t0 < 5
    write_marker(cluster)  # blue was never cut off


def test_permissions(bg_cluster: Cluster) -> None:
    cluster = bg_cluster
    deployment = cluster.bg_status()
    assert deployment is not None
    want = expected_rows(deployment, cluster.port)
    hosts = [cluster.cluster_host, deployment["green"]["cluster_host"]]
    for host in hosts:
        assert set(fetch(cluster, host, bg_query(cluster))) == want
    exists = (
        "SELECT 'pg_catalog.get_blue_green_fast_switchover_metadata'::pg_catalog.regproc"
        if pg(cluster)
        else "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = 'mysql' AND table_name = 'rds_topology'"
    )
    assert cluster.bg_permissions(allow=False) == {"access_denied": True}
    assert (cluster.bg_status() or {})["access_denied"]
    for host in [*hosts, cluster.reader_host]:
        with pytest.raises(aws_wrapper.Error, match=r"(?i)denied"):
            fetch(cluster, host, bg_query(cluster))
        # PostgreSQL: the function is still there; MariaDB: the table is not visible
        assert len(fetch(cluster, host, exists)) == (1 if pg(cluster) else 0)
    assert cluster.bg_permissions(allow=True) == {"access_denied": False}
    for host in hosts:
        assert set(fetch(cluster, host, bg_query(cluster))) == want
    cluster.bg_permissions(allow=False)
    cluster.reset()  # grants it again (and deletes the deployment)
    assert set(fetch(cluster, cluster.cluster_host, bg_query(cluster))) == set()
