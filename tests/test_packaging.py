"""The two distributions of this repository, built as wheels: the library ships no devcluster,
and the devcluster (``aws-wrapper-devcluster``) ships its package, its pytest plugin and its
command line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def build_wheel(source: Path, out: Path) -> zipfile.ZipFile:
    """Build ``source``'s wheel into ``out`` with pip (an isolated build: setuptools comes
    from the package index)."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        message = f"pip wheel {source.name} failed: {done.stderr.strip()[-800:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)  # e.g. no package index reachable on this machine
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def test_library_wheel_has_no_devcluster(tmp_path: Path) -> None:
    names = build_wheel(ROOT, tmp_path).namelist()
    assert "aws_wrapper/__init__.py" in names
    assert "aws_wrapper/py.typed" in names
    assert "aws_wrapper/_sync/connection.py" in names  # the generated twin ships
    assert "aws_wrapper/resolver.py" in names
    assert "aws_wrapper/aio/__init__.py" in names  # a package (with the peer's aio modules)
    assert "aws_wrapper/aio/psycopg.py" in names
    assert not [n for n in names if "devcluster" in n.lower()]
    assert not [n for n in names if n.startswith("tests/")]


def test_devcluster_wheel(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT / "devcluster", tmp_path)
    names = wheel.namelist()
    assert "aws_wrapper_devcluster/__init__.py" in names
    assert "aws_wrapper_devcluster/py.typed" in names
    assert not [n for n in names if n.startswith("aws_wrapper/")]  # not the library again
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[pytest11]" in text and "aws_wrapper_devcluster.pytest_plugin" in text
    assert "[console_scripts]" in text and "aws-wrapper-devcluster" in text
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    assert "Requires-Dist: aws-wrapper" in wheel.read(metadata).decode()
