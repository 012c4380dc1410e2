"""examples/peer/: aws-advanced-python-wrapper's documentation examples, in the peer's API form
with only the package name changed, run as a user runs them (``python examples/peer/<name>.py``
with the connection parameters in environment variables, see examples/peer/README.md) against
the session's devcluster -- and moto and the fake AD FS / Okta for the authentication ones.

Each example prints a ``RESULT <name>: key=value ...`` line last; the tests check it against
the cluster (which instance is the writer, which are readers). The failover examples run while
the test fails the writer over: the result must show the old writer, then the new one, and
the failover error the example caught and recovered from.
"""

from __future__ import annotations

import ast
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from psycopg import sql

from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.aws_stack import MotoServer
from aws_wrapper_devcluster.fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta, LocalCA

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "peer"
TIMEOUT = 60.0
ENGINES = {"pg": "devcluster_pg", "mysql": "devcluster_mysql"}
#: Examples per engine (``<engine>_<topic>.py``) besides the failover ones.
ENGINE_TOPICS = (
    "read_write_splitting",
    "fastest_response_strategy",
    "simple_read_write_splitting",
    "secrets_manager",
)
#: IAM authentication is emulated on PostgreSQL devclusters only.
AUTH_EXAMPLES = ("pg_iam_authentication", "pg_federated_authentication", "pg_okta_authentication")


def example_env(cluster: Cluster, **extra: str) -> dict[str, str]:
    """The environment of an example run: the cluster's endpoints, login and hosts file."""
    params = cluster.conn_params()
    env = {
        **os.environ,
        **cluster.env(),  # DEVCLUSTER_HOSTS_FILE: the example's test-harness block reads it
        "DB_HOST": cluster.cluster_host,
        "DB_READER_HOST": cluster.reader_host,
        "DB_PORT": str(cluster.port),
        "DB_USER": params["user"],
        "DB_PASSWORD": params["password"],
        "DB_NAME": params.get("dbname") or params["database"],
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


def result_of(name: str, output: str) -> dict[str, str]:
    """The ``RESULT <name>: k=v ...`` line of ``output`` (it must be the last line)."""
    lines = output.rstrip().splitlines()
    assert lines, f"{name} printed nothing"
    match = re.fullmatch(rf"RESULT {name}: (.*)", lines[-1])
    assert match, f"{name}: no RESULT line last:\n{output}"
    return dict(item.split("=", 1) for item in match.group(1).split())


def run_example(name: str, env: dict[str, str]) -> dict[str, str]:
    argv = [sys.executable, str(EXAMPLES / f"{name}.py")]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, (
        f"{name} exited with {done.returncode}:\n{done.stdout}{done.stderr}"
    )
    return result_of(name, done.stdout)


def readers_of(cluster: Cluster) -> list[str]:
    writer = cluster.writer
    return sorted(i for i in cluster.instance_ids if i != writer)


# -- the peer's form: only names the peer's documentation imports, at the peer's paths ---------

#: What aws-advanced-python-wrapper 3.1.0's documentation examples import from
#: ``aws_advanced_python_wrapper`` (its docs/examples), with the package renamed.
PEER_DOCUMENTED_IMPORTS = {
    "aws_wrapper": {"AwsWrapperConnection", "release_resources"},
    "aws_wrapper.errors": {
        "FailoverFailedError",
        "FailoverSuccessError",
        "TransactionResolutionUnknownError",
    },
    "aws_wrapper.pep249": {"Connection"},
    "aws_wrapper.hostinfo": {"HostInfo"},
    "aws_wrapper.connection_provider": {"ConnectionProviderManager"},
    "aws_wrapper.sql_alchemy_connection_provider": {"SqlAlchemyPooledConnectionProvider"},
    "aws_wrapper.psycopg": {"connect"},
    "aws_wrapper.mysql_connector": {"connect"},
}
HARNESS_START = "# --- test harness (not part of the example)"
HARNESS_END = "# --- end of test harness"


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.py"))


def test_every_example_is_run_by_a_test() -> None:
    run = {*FAILOVER_EXAMPLES, *AUTH_EXAMPLES}
    run |= {f"{engine}_{topic}" for engine in ENGINES for topic in ENGINE_TOPICS}
    assert {p.stem for p in example_files()} == run


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_uses_only_the_peers_documented_names(path: Path) -> None:
    """Outside its marked test-harness block an example imports from aws_wrapper only what the
    peer's documentation examples import from aws_advanced_python_wrapper, at the same
    module paths, and never ``import aws_wrapper`` as a module to reach other names."""
    source = path.read_text()
    start, end = source.index(HARNESS_START), source.index(HARNESS_END)
    assert start < end
    user_code = source[:start] + source[end:]
    assert "aws_wrapper_devcluster" not in user_code
    assert "aws_wrapper_devcluster" in source[start:end]
    imported: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(user_code)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            assert not [m for m in modules if m.split(".")[0] == "aws_wrapper"], modules
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_wrapper"):
            imported.setdefault(node.module or "", set()).update(a.name for a in node.names)
    assert imported, "the example imports nothing from aws_wrapper"
    for module, names in imported.items():
        assert names <= PEER_DOCUMENTED_IMPORTS.get(module, set()), (module, names)


# -- failover: the test fails the writer over while the example runs ---------------------------

FAILOVER_EXAMPLES = {
    "pg_failover": "devcluster_pg",
    "mysql_failover": "devcluster_mysql",
    "pg_sqlalchemy_failover": "devcluster_pg",
    "mysql_sqlalchemy_failover": "devcluster_mysql",
}
ITERATIONS = 12


def run_with_failover(name: str, cluster: Cluster) -> tuple[dict[str, str], list[str], str, str]:
    """Run ``name``; after its third iteration fail the writer over. Returns the result, the
    lines printed, the old and the new writer."""
    env = example_env(cluster, ITERATIONS=str(ITERATIONS), PAUSE_SEC="0.25")
    old_writer = cluster.writer
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        failed_over = False
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                break
            seen.append(line)
            if not failed_over and line.startswith("iter 2:"):
                cluster.failover()
                seen.append("--- the test failed the writer over here ---")
                failed_over = True
        assert proc.wait(timeout=max(1.0, deadline - time.monotonic())) == 0, "\n".join(seen)
        assert failed_over, "\n".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    new_writer = cluster.writer
    assert new_writer != old_writer
    return result_of(name, "\n".join(seen)), seen, old_writer, new_writer


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", list(FAILOVER_EXAMPLES))
def test_failover_example_recovers(request: pytest.FixtureRequest, name: str) -> None:
    cluster: Cluster = request.getfixturevalue(FAILOVER_EXAMPLES[name])
    result, seen, old_writer, new_writer = run_with_failover(name, cluster)
    output = "\n".join(seen)
    # The example was on the old writer, caught FailoverSuccessError once, and carried on on
    # the new writer.
    writers_key = "writers" if "writers" in result else "instances"
    assert result[writers_key] == f"{old_writer}->{new_writer}", output
    assert result.get("failovers", result.get("retried")) == "FailoverSuccessError", output
    mark = seen.index("--- the test failed the writer over here ---")
    after = seen[mark + 1 :]
    caught = [i for i, line in enumerate(after) if "FailoverSuccessError" in line]
    assert caught, output
    later = [line for line in after[caught[0] + 1 :] if line.startswith("iter ")]
    assert later and all(line.endswith(new_writer) for line in later), output
    if "rows" in result:  # every idempotent insert reached the table, none twice
        assert result["rows"] == str(ITERATIONS), output
        assert result["total"] == str(200 * ITERATIONS), output


# -- read/write splitting, fastest response, srw --------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("engine", list(ENGINES))
def test_read_write_splitting_with_internal_pools(
    request: pytest.FixtureRequest, engine: str
) -> None:
    cluster: Cluster = request.getfixturevalue(ENGINES[engine])
    result = run_example(f"{engine}_read_write_splitting", example_env(cluster))
    # least_connections over the pools: ties go to the first reader by name, and the second
    # connection gets the first one's pooled reader connection back.
    assert result == {
        "writer": cluster.writer,
        "reader": readers_of(cluster)[0],
        "rows_read": "4",
        "reader_connection_reused": "yes",
    }


@pytest.mark.timeout(60)
@pytest.mark.parametrize("engine", list(ENGINES))
def test_fastest_response_strategy_picks_the_fast_reader(
    request: pytest.FixtureRequest, engine: str
) -> None:
    cluster: Cluster = request.getfixturevalue(ENGINES[engine])
    slow, fast = readers_of(cluster)
    cluster.latency(slow, 100)
    try:
        result = run_example(f"{engine}_fastest_response_strategy", example_env(cluster))
    finally:
        cluster.heal()
    assert result == {"writer": cluster.writer, "readers": f"{fast}->{fast}"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("engine", list(ENGINES))
def test_simple_read_write_splitting(request: pytest.FixtureRequest, engine: str) -> None:
    cluster: Cluster = request.getfixturevalue(ENGINES[engine])
    result = run_example(f"{engine}_simple_read_write_splitting", example_env(cluster))
    assert result["writer"] == cluster.writer
    assert result["reader"] in readers_of(cluster)  # where the reader endpoint leads
    assert result["rows_read"] == "2"


# -- authentication: moto (Secrets Manager, STS) and the fake identity providers ----------------


def create_login(cluster: Cluster, user: str, password: str) -> None:
    """A login ``user`` with ``password`` (created, or given the new password), on the writer's
    real server; replication takes it to the readers."""
    admin = cluster.direct_params(cluster.writer, admin=True)
    if cluster.engine.value == "postgresql":
        with psycopg.connect(**admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)
                )
            )
        return
    database = cluster.conn_params()["database"]
    with pymysql.connect(**admin, autocommit=True) as my_conn, my_conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@'%%'", (user,))


def auth_env(cluster: Cluster, **extra: str) -> dict[str, str]:
    """No password: the plugin supplies it. The fake AWS environment (moto_server) is in
    os.environ and so reaches the example."""
    env = example_env(cluster, **extra)
    del env["DB_PASSWORD"]
    return env


@pytest.mark.timeout(60)
def test_iam_authentication(devcluster_pg: Cluster, moto_server: MotoServer) -> None:
    devcluster_pg.create_iam_user("peer_iam_app")
    env = auth_env(devcluster_pg, DB_USER="peer_iam_app")
    result = run_example("pg_iam_authentication", env)
    assert result == {"user": "peer_iam_app", "instance": devcluster_pg.writer, "rows": "2"}
    assert any("peer_iam_app" in line and "accept" in line for line in devcluster_pg.iam_log())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("engine", list(ENGINES))
def test_secrets_manager(
    request: pytest.FixtureRequest, engine: str, moto_server: MotoServer
) -> None:
    cluster: Cluster = request.getfixturevalue(ENGINES[engine])
    password = os.urandom(12).hex()
    create_login(cluster, "peer_secret_app", password)
    arn = moto_server.create_secret(f"peer/{engine}-db", "peer_secret_app", password)
    env = auth_env(cluster, SECRET_ID=arn, SECRET_REGION="us-east-1")
    env.pop("DB_USER")
    assert run_example(f"{engine}_secrets_manager", env) == {"user": "peer_secret_app"}


def federated_env(cluster: Cluster, moto: MotoServer, ca: LocalCA, user: str, **extra: Any) -> Any:
    cluster.create_iam_user(user)
    cluster.set_iam_sts_lookup(moto.sts_lookup_url)  # accept tokens of moto's STS credentials
    # The example does not name a CA bundle (as the peer's does not): the default trust store
    # is read from SSL_CERT_FILE, here the fake IdPs' CA.
    return auth_env(
        cluster, DB_USER=user, IAM_REGION="us-east-1", SSL_CERT_FILE=str(ca.ca_file), **extra
    )


@pytest.mark.timeout(60)
def test_federated_authentication_adfs(
    devcluster_pg: Cluster, moto_server: MotoServer, fake_adfs: FakeAdfs, local_ca: LocalCA
) -> None:
    env = federated_env(
        devcluster_pg,
        moto_server,
        local_ca,
        "peer_adfs_app",
        IDP_ENDPOINT=fake_adfs.host,
        IDP_PORT=str(fake_adfs.port),
        IDP_USERNAME=ADFS_USER.username,
        IDP_PASSWORD=ADFS_USER.password,
        IAM_ROLE_ARN=ADFS_USER.role_arn,
        IAM_IDP_ARN=fake_adfs.idp_arn,
    )
    result = run_example("pg_federated_authentication", env)
    assert result == {"user": "peer_adfs_app", "select_1": "1"}
    assert fake_adfs.requests, "the example did not sign in at the fake AD FS"


@pytest.mark.timeout(60)
def test_okta_authentication(
    devcluster_pg: Cluster, moto_server: MotoServer, fake_okta: FakeOkta, local_ca: LocalCA
) -> None:
    env = federated_env(
        devcluster_pg,
        moto_server,
        local_ca,
        "peer_okta_app",
        IDP_ENDPOINT=fake_okta.endpoint,
        APP_ID=fake_okta.app_id,
        IDP_USERNAME=OKTA_USER.username,
        IDP_PASSWORD=OKTA_USER.password,
        IAM_ROLE_ARN=OKTA_USER.role_arn,
        IAM_IDP_ARN=fake_okta.idp_arn,
    )
    result = run_example("pg_okta_authentication", env)
    assert result == {"user": "peer_okta_app", "instance": devcluster_pg.writer}
    assert fake_okta.requests, "the example did not sign in at the fake Okta"
