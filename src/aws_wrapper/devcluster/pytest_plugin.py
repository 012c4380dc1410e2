"""pytest fixtures for testing an application against a local devcluster.

Enable in a ``conftest.py``::

    pytest_plugins = ["aws_wrapper.devcluster.pytest_plugin"]

Fixtures:

``devcluster_log``
    Progress lines on stderr, shown even while pytest captures output.

``devcluster_pg`` / ``devcluster_mysql``
    A running cluster (1 writer + 2 readers), reset to healthy before each test (faults
    healed, topology edits and DNS lag cleared, stopped instances back as readers). The
    cluster itself is started once per test session and stopped at its end; its names resolve
    for the wrapper (``AWS_WRAPPER_HOSTS_FILE`` is set for the session).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from aws_wrapper.hostsfile import ENV_VAR

from .client import Cluster


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


def _session_cluster(config: pytest.Config, engine: str, short: str) -> Iterator[Cluster]:
    cluster = Cluster.up(
        engine,
        readers=2,
        name=f"t{os.getpid()}{short}",
        log=progress_logger(config),
        tie_to_this_process=True,
    )
    previous = os.environ.get(ENV_VAR)
    files = [p for p in (previous or "").split(os.pathsep) if p]
    os.environ[ENV_VAR] = os.pathsep.join([*files, str(cluster.hosts_file)])
    try:
        yield cluster
    finally:
        cluster.down()
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


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
