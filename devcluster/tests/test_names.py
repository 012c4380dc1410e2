"""The devcluster's name resolver: hosts files plugged into the wrapper's hook."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import aws_wrapper
from aws_wrapper_devcluster import (
    HostsFileResolver,
    install_resolver,
    install_resolver_from_env,
    names,
    uninstall_resolver,
)


@pytest.fixture(autouse=True)
def no_resolver() -> Iterator[None]:
    """Each test starts and ends with the resolver the session had (the session clusters')."""
    before = aws_wrapper.set_name_resolver(None)
    saved = names._installed
    names._installed = None
    try:
        yield
    finally:
        aws_wrapper.set_name_resolver(before)
        names._installed = saved


def test_parse() -> None:
    text = "# c\n127.0.5.1 a.example  A2.example # x\n\n127.0.5.2 a.example"
    assert names.parse(text) == {
        "a.example": ("127.0.5.1", "127.0.5.2"),
        "a2.example": ("127.0.5.1",),
    }


def test_resolver_reads_files_again_when_they_change(tmp_path: Path) -> None:
    first, second = tmp_path / "h1", tmp_path / "h2"
    first.write_text("127.0.9.1 one.example\n")
    second.write_text("127.0.9.2 two.example\n127.0.9.3 one.example\n")
    resolver = HostsFileResolver([first, second, tmp_path / "missing"])
    assert resolver.addresses("ONE.example") == ("127.0.9.1", "127.0.9.3")
    assert resolver("two.example") == "127.0.9.2"
    assert resolver("three.example") is None
    second.write_text("127.0.9.22 two.example\n")  # a failover rewrites the file
    os.utime(second, ns=(0, 10**9))
    assert resolver("two.example") == "127.0.9.22"


def test_install_adds_files_keeps_the_application_resolver_as_fallback(tmp_path: Path) -> None:
    first, second = tmp_path / "h1", tmp_path / "h2"
    first.write_text("127.0.9.1 one.example\n")
    second.write_text("127.0.9.2 two.example\n")

    def mine(host: str) -> str | None:
        return "10.1.1.1" if host == "app.example" else None

    aws_wrapper.set_name_resolver(mine)
    resolver = install_resolver(first)
    assert install_resolver(second) is resolver
    assert aws_wrapper.get_name_resolver() is resolver
    assert resolver("one.example") == "127.0.9.1" and resolver("two.example") == "127.0.9.2"
    assert resolver("app.example") == "10.1.1.1"  # the application's, as a fallback
    uninstall_resolver(first)
    assert resolver("one.example") is None and resolver("two.example") == "127.0.9.2"
    uninstall_resolver(second)
    assert aws_wrapper.get_name_resolver() is mine  # put back


def test_install_from_env_is_explicit_and_strict(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.9.1 one.example\n")
    assert install_resolver_from_env({}) == []
    assert aws_wrapper.get_name_resolver() is None
    with pytest.raises(FileNotFoundError, match="do not exist"):
        install_resolver_from_env({names.ENV_VAR: str(tmp_path / "typo")})
    assert install_resolver_from_env({names.ENV_VAR: str(hosts)}) == [str(hosts)]
    resolver = aws_wrapper.get_name_resolver()
    assert resolver is not None and resolver("one.example") == "127.0.9.1"


def test_importing_the_wrapper_installs_nothing(tmp_path: Path) -> None:
    """The variable alone does nothing: only install_resolver_from_env() reads it."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.9.1 one.example\n")
    code = (
        "import aws_wrapper, aws_wrapper.aio, aws_wrapper_devcluster; "
        "print(aws_wrapper.get_name_resolver())"
    )
    env = {**os.environ, names.ENV_VAR: str(hosts), "AWS_WRAPPER_HOSTS_FILE": str(hosts)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None"
