"""examples/authentication.py runs as documented: every method logs in as its database user,
blocking and asyncio (each run starts and stops its own devcluster, moto and fake IdPs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "authentication.py"
EXPECTED = {"iam": "iam_app", "secrets": "secret_app", "adfs": "adfs_app", "okta": "okta_app"}


@pytest.mark.timeout(200)  # the subprocess' own limit (180 s) comes first
@pytest.mark.parametrize("world", ["sync", "async"])
def test_authentication_example(world: str) -> None:
    argv = [sys.executable, str(EXAMPLE), "all"] + (["--async"] if world == "async" else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0 and "BinaryNotFoundError" in output and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not installed")  # as the devcluster fixtures do
    assert done.returncode == 0, output
    for method, user in EXPECTED.items():
        line = rf"^\[auth\] {method} \({world}\): SELECT current_user -> {user}  ok$"
        assert re.search(line, done.stdout, re.MULTILINE), f"no line for {method}:\n{output}"
    assert done.stdout.rstrip().endswith("[auth] done"), output
