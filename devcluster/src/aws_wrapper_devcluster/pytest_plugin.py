"""pytest fixtures for testing an application against a local devcluster.

Installed with ``aws-wrapper-devcluster``, pytest loads it by itself (the ``pytest11`` entry
point ``aws_wrapper_devcluster``); with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` set, enable it with
``-p aws_wrapper_devcluster.pytest_plugin``. Its fixtures start nothing until a test asks for
them.

Fixtures:

``devcluster_log``
    Progress lines on stderr, shown even while pytest captures output.

``devcluster_pg`` / ``devcluster_mysql``
    A running cluster (1 writer + 2 readers), reset to healthy before each test (faults
    healed, topology edits and DNS lag cleared, stopped instances back as readers, no
    blue/green deployment, no IAM STS lookup). The
    cluster itself is started once per test session and stopped at its end; its names resolve
    for the wrapper in the test process (its resolver is installed with
    :func:`aws_wrapper.set_name_resolver` for the session). A subprocess gets
    ``cluster.env()`` and calls :func:`aws_wrapper_devcluster.install_resolver_from_env`.

``devcluster_pg_bg`` / ``devcluster_mysql_bg``
    A cluster of their own (started once per session: a switchover leaves history the other
    tests' failovers should not meet), reset, with a blue/green deployment created for the test
    (:meth:`~.client.Cluster.bg_create`: a green cluster replicating from it, status rows
    ``AVAILABLE``); ``cluster.bg_status()`` has its names. The next test's reset deletes it
    (stopping a switchover still running).

``devcluster_pg_limitless``
    A PostgreSQL cluster with a DB shard group (:data:`LIMITLESS_ROUTERS` transaction
    routers; ``cluster.shard_group_host``, ``cluster.conn_params("shardgrp")``), started
    once per session, reset before each test (routers back to the first N, load 0, healed).

``devcluster_pg_global`` / ``devcluster_mysql_global``
    A global database (:data:`GLOBAL_REGIONS`: ``us-east-1`` with a writer and a reader,
    ``us-west-2`` with two read-only instances), started once per session, reset before
    each test like the others (faults healed, including region faults; the global writer
    endpoint follows the writer). A test's global switchover or failover stands: the
    primary region is wherever the last test left it (``cluster.global_status()``).

The local AWS stack (:mod:`.aws_stack`, :mod:`.fake_idp`); nothing reaches the internet:

``fake_aws_env``
    Session: the environment of :func:`~.aws_stack.fake_aws_environ` for the rest of the
    session (restored at its end): fixed fake credentials (the devcluster's IAM verifier
    accepts them), ``us-east-1``, no ``~/.aws`` files, no other ``AWS_*`` variable,
    ``AWS_ENDPOINT_URL`` = moto. A dict of what was set.

``moto_server``
    moto's server in the test process (:class:`~.aws_stack.MotoServer`), started once per
    session (``moto_server_session``) and reset (empty) before each test; requests
    ``fake_aws_env``.

``local_ca``
    Session: the throwaway CA (:class:`~.fake_idp.LocalCA`) of the fake identity providers;
    clients trust ``local_ca.ca_file``.

``fake_adfs`` / ``fake_okta``
    HTTPS AD FS and Okta look-alikes (:class:`~.fake_idp.FakeAdfs`,
    :class:`~.fake_idp.FakeOkta`), started once per session (``fake_adfs_session``,
    ``fake_okta_session``) and reset before each test: back to one user each,
    :data:`~.fake_idp.ADFS_USER` / :data:`~.fake_idp.OKTA_USER`, no recorded requests, no
    sessions (and ``fake_adfs.redirect_after_login`` off).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from .aws_stack import MotoServer, fake_aws_environment
from .client import Cluster
from .fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta, LocalCA


def progress_logger(config: pytest.Config) -> Callable[[str], None]:
    """Print progress lines on stderr even while pytest captures output."""
    capman = config.pluginmanager.getplugin("capturemanager")

    def log(message: str) -> None:
        if capman is None:
            print(f"[devcluster] {message}", file=sys.stderr, flush=True)
            return
        with capman.global_and_fixture_disabled():
            sys.stderr.write(f"\n[devcluster] {message}")
            sys.stderr.flush()

    return log


GLOBAL_REGIONS = ("us-east-1", "us-west-2")
LIMITLESS_ROUTERS = 3


def _session_cluster(
    config: pytest.Config,
    engine: str,
    short: str,
    *,
    regions: tuple[str, ...] = (),
    readers: int | None = None,
    limitless: int = 0,
) -> Iterator[Cluster]:
    cluster = Cluster.up(
        engine,
        readers=readers if readers is not None else (1 if regions else 2),
        name=f"t{os.getpid()}{short}",
        log=progress_logger(config),
        tie_to_this_process=True,
        regions=regions or None,
        secondary_instances=2,
        limitless=limitless,
    )
    try:
        yield cluster  # Cluster.up installed its name resolver; down removes it
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def devcluster_log(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """A progress logger that writes to stderr even while pytest captures output."""
    return progress_logger(pytestconfig)


@pytest.fixture(scope="session")
def devcluster_pg_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "postgresql", "pg")


@pytest.fixture(scope="session")
def devcluster_mysql_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "mysql", "my")


@pytest.fixture
def devcluster_pg(devcluster_pg_session: Cluster) -> Cluster:
    devcluster_pg_session.reset()
    return devcluster_pg_session


@pytest.fixture
def devcluster_mysql(devcluster_mysql_session: Cluster) -> Cluster:
    devcluster_mysql_session.reset()
    return devcluster_mysql_session


@pytest.fixture(scope="session")
def devcluster_pg_limitless_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(
        pytestconfig, "postgresql", "pgl", readers=1, limitless=LIMITLESS_ROUTERS
    )


@pytest.fixture
def devcluster_pg_limitless(devcluster_pg_limitless_session: Cluster) -> Cluster:
    devcluster_pg_limitless_session.reset()
    return devcluster_pg_limitless_session


@pytest.fixture(scope="session")
def devcluster_pg_global_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "postgresql", "pgg", regions=GLOBAL_REGIONS)


@pytest.fixture(scope="session")
def devcluster_mysql_global_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "mysql", "myg", regions=GLOBAL_REGIONS)


@pytest.fixture
def devcluster_pg_global(devcluster_pg_global_session: Cluster) -> Cluster:
    devcluster_pg_global_session.reset()
    return devcluster_pg_global_session


@pytest.fixture
def devcluster_mysql_global(devcluster_mysql_global_session: Cluster) -> Cluster:
    devcluster_mysql_global_session.reset()
    return devcluster_mysql_global_session


# Blue/green deployments get session clusters of their own: after a switchover, blue is
# made writable again under its own names when the deployment is deleted, but its history
# has moved on without green's writes (MariaDB: GTIDs of green's server ids in old blue's
# readers), which a later failover on the same cluster would trip over.


@pytest.fixture(scope="session")
def devcluster_pg_bg_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "postgresql", "pgb")


@pytest.fixture(scope="session")
def devcluster_mysql_bg_session(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    yield from _session_cluster(pytestconfig, "mysql", "myb")


@pytest.fixture
def devcluster_pg_bg(devcluster_pg_bg_session: Cluster) -> Cluster:
    devcluster_pg_bg_session.reset()
    devcluster_pg_bg_session.bg_create()
    return devcluster_pg_bg_session


@pytest.fixture
def devcluster_mysql_bg(devcluster_mysql_bg_session: Cluster) -> Cluster:
    devcluster_mysql_bg_session.reset()
    devcluster_mysql_bg_session.bg_create()
    return devcluster_mysql_bg_session


# --------------------------------------------------------------------------- local AWS stack


@pytest.fixture(scope="session")
def moto_server_session() -> Iterator[MotoServer]:
    with MotoServer() as moto:
        yield moto


@pytest.fixture(scope="session")
def fake_aws_env(moto_server_session: MotoServer) -> Iterator[dict[str, str]]:
    """Fake AWS credentials and settings for the rest of the session (see the module)."""
    with fake_aws_environment(moto_server_session.endpoint) as env:
        yield env


@pytest.fixture
def moto_server(moto_server_session: MotoServer, fake_aws_env: dict[str, str]) -> MotoServer:
    """The session's moto server, empty; boto3's default session forgotten, so a client made
    without one (``boto3.client("sts")``) reads the fake environment, whatever an earlier test
    left cached in it."""
    moto_server_session.reset()
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        setattr(boto3, "DEFAULT_SESSION", None)  # noqa: B010 - a module found at run time
    return moto_server_session


@pytest.fixture(scope="session")
def local_ca() -> Iterator[LocalCA]:
    ca = LocalCA()
    try:
        yield ca
    finally:
        ca.cleanup()


@pytest.fixture(scope="session")
def fake_adfs_session(local_ca: LocalCA) -> Iterator[FakeAdfs]:
    with FakeAdfs([ADFS_USER], ca=local_ca) as adfs:
        yield adfs


@pytest.fixture(scope="session")
def fake_okta_session(local_ca: LocalCA) -> Iterator[FakeOkta]:
    with FakeOkta([OKTA_USER], ca=local_ca) as okta:
        yield okta


@pytest.fixture
def fake_adfs(fake_adfs_session: FakeAdfs) -> FakeAdfs:
    """The session's fake AD FS, reset: user :data:`ADFS_USER`, no requests, forms login
    answered directly (``redirect_after_login`` off)."""
    fake_adfs_session.reset()
    fake_adfs_session.redirect_after_login = False
    return fake_adfs_session


@pytest.fixture
def fake_okta(fake_okta_session: FakeOkta) -> FakeOkta:
    """The session's fake Okta, reset: user :data:`OKTA_USER`, no requests or sessions."""
    fake_okta_session.reset()
    return fake_okta_session
