"""``python -m aws_wrapper_devcluster``: the commands a user types, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

NAME = f"cli{os.getpid()}"


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", "--name", NAME, *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def running() -> Iterator[str]:
    up = cli("up", "--engine", "mysql", "--readers", "1")
    try:
        yield up.stdout
    finally:
        cli("down")


def test_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in (
        "up",
        "down",
        "status",
        "failover",
        "switchover",
        "topology",
        "dns",
        "blackhole",
        "reject",
        "latency",
        "heal",
        "env",
    ):
        assert command in result.stdout
    sub = subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", "failover", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--crash" in sub.stdout and "--no-dns" in sub.stdout


def test_up_prints_progress_and_a_status_table(running: str) -> None:
    assert "ready in" in running and "up in" in running
    assert f"{NAME}-1" in running and "writer" in running
    assert "export DEVCLUSTER_HOSTS_FILE=" in running
    again = cli("up", "--engine", "mysql")
    assert "already running" in again.stdout


def test_up_and_status_print_login_ports_and_the_hosts_line(running: str) -> None:
    status = json.loads(cli("status", "--json").stdout)
    for out in (running, cli("status").stdout):
        assert "user app  password app-secret  database app" in out
        assert "admin / admin-secret" in out
        assert f"ports:            {status['port']} on every endpoint" in out
        for instance in status["instances"]:
            assert f"{instance['id']} 127.0.0.1:{instance['server_port']}" in out
        hosts_file = status["dns"]["hosts_file"]
        assert f'hosts line:       export DEVCLUSTER_HOSTS_FILE="{hosts_file}"' in out


def test_name_goes_before_or_after_the_command(running: str) -> None:
    base = [sys.executable, "-m", "aws_wrapper_devcluster"]
    for argv in (
        ["status", "--name", NAME, "--json"],
        ["--name", "other", "status", "--name", NAME],
    ):
        result = subprocess.run([*base, *argv], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert f"{NAME}-1" in result.stdout
    missing = subprocess.run(
        [*base, "status", "--name", "nothing-here"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "'nothing-here'" in missing.stderr


def test_up_fails_at_once_without_a_driver() -> None:
    """Not after the servers' start timeout: before any process is started."""
    code = (
        "import sys; sys.modules['pymysql'] = None; "  # as if PyMySQL were not installed
        "from aws_wrapper_devcluster.__main__ import main; "
        "sys.exit(main(['--name', 'nodriver', 'up', '--engine', 'mysql']))"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 5
    assert result.returncode == 1
    assert "pip install 'PyMySQL'" in result.stderr and "Traceback" not in result.stderr


def test_status_env_and_operations(running: str) -> None:
    status = json.loads(cli("status", "--json").stdout)
    assert status["writer"] == f"{NAME}-1"
    env = cli("env").stdout
    assert env.startswith("export DEVCLUSTER_HOSTS_FILE=")
    reader = f"{NAME}-2"
    assert "blackhole" in cli("blackhole", reader).stdout
    assert "latency 50 ms" in cli("latency", reader, "50").stdout
    cli("heal")
    assert "age_s" in cli("topology", "--instance", reader, "--age", "400").stdout
    cli("topology", "--clear")
    assert "DNS frozen" in cli("dns", "--freeze").stdout
    cli("dns", "--follow")
    out = cli("failover", "--crash").stdout
    assert f"{NAME}-1 -> {NAME}-2" in out
    checked = cli("status", "--check").stdout
    assert "server-role" in checked
    back = cli("switchover", "--target", f"{NAME}-1").stdout
    assert f"{NAME}-2 -> {NAME}-1" in back


def test_clear_errors(running: str) -> None:
    bad = cli("blackhole", "no-such-instance", check=False)
    assert bad.returncode == 1
    assert "no instance 'no-such-instance'" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", "--name", "nothing-here", "status"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "no running devcluster" in missing.stderr
    usage = cli("latency", f"{NAME}-2", "soon", check=False)
    assert usage.returncode == 2 and "invalid int value" in usage.stderr


def test_down_is_idempotent() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aws_wrapper_devcluster", "--name", "never-started", "down"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "was not running" in result.stdout
