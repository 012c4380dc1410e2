"""Lines a type checker must reject through the wrapper, as it does with the raw driver: run
mypy (the project's checker) and pyright (which, unlike mypy, implements ``LiteralString``,
PEP 675) on small files and compare what they report, line by line, with what each line
expects. tests/typing/faces.py holds what must be accepted (checked by ``make typecheck``, and
by pyright below)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each line that ends in `# mypy: code` / `# pyright: error` must get that error from that
# checker, on that line; a line without the marker must get none from it.
CASES = """
from typing import Any

import psycopg
import psycopg.rows
import pymysql
from psycopg import sql

import aws_wrapper
import aws_wrapper.aio


def raw_psycopg(conn: psycopg.Connection[Any], table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {table}")  # pyright: error
    cur.execute("SELECT %s", 5)  # mypy: call-overload  # pyright: error
    cur.execute("SELECT %s", (5,))
    row = cur.fetchone()
    row[0]  # mypy: index  # pyright: error


def wrapped_psycopg(table: str) -> None:
    conn = aws_wrapper.connect("host=db")
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {table}")  # pyright: error
    cur.execute("SELECT * FROM " + table)  # pyright: error
    cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
    cur.execute("SELECT %s", 5)  # mypy: arg-type  # pyright: error
    cur.execute("SELECT %s", (5,))
    row = cur.fetchone()
    row[0]  # mypy: index  # pyright: error
    if row is not None:
        row["a"]  # mypy: call-overload  # pyright: error
    conn.autocommit = True


def wrapped_pymysql(table: str) -> None:
    conn = aws_wrapper.connect(driver="pymysql", host="db")
    conn.cursor().execute(f"SELECT * FROM {table}")
    conn.cursor().execute(sql.SQL("SELECT 1"))  # mypy: arg-type  # pyright: error


def raw_pymysql(conn: pymysql.Connection, table: str) -> None:
    conn.cursor().execute(f"SELECT * FROM {table}")
    conn.cursor().execute(sql.SQL("SELECT 1"))  # mypy: call-overload  # pyright: error


async def wrapped_aio(table: str) -> None:
    conn = await aws_wrapper.aio.connect("host=db")
    conn.read_only = True  # mypy: assignment  # pyright: error
    conn.autocommit = True  # mypy: assignment  # pyright: error
    await conn.set_read_only(True)
    conn.commit()  # mypy: unused-coroutine  # pyright: error
    cur = conn.execute("SELECT 1")
    cur.fetchone()  # mypy: attr-defined  # pyright: error
    acur = conn.cursor()
    await acur.execute(f"SELECT * FROM {table}")  # pyright: error
    dconn = await aws_wrapper.aio.connect(row_factory=psycopg.rows.dict_row)
    drow = await dconn.cursor().fetchone()
    if drow is not None:
        drow[0]  # mypy: index  # pyright: error
"""


def _expected(text: str, checker: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = re.search(rf"# {checker}: ([\w, -]+?)(?:\s+#|$)", line)
        if m:
            out[n] = {c.strip() for c in m.group(1).split(",")}
    return out


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("typing") / "cases.py"
    path.write_text(textwrap.dedent(CASES).lstrip())
    return path


def test_mypy_rejects_what_it_should(cases: Path) -> None:
    cache = ROOT / ".mypy_cache" / "typing-test"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.11",
            "--cache-dir",
            str(cache),
            "--config-file",
            "/dev/null",
            "--show-error-codes",
            "--no-pretty",
            str(cases),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"MYPYPATH": str(ROOT / "typings"), "PATH": ""},
        timeout=300,
    )
    found: dict[int, set[str]] = {}
    for m in re.finditer(r"^.*cases\.py:(\d+): error: .*\[([\w-]+)\]$", proc.stdout, re.M):
        found.setdefault(int(m.group(1)), set()).add(m.group(2))
    assert found == _expected(cases.read_text(), "mypy"), proc.stdout


def test_pyright_rejects_what_it_should(cases: Path) -> None:
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is None:
        pytest.fail("pyright is not installed: pip install -e '.[test]'")
    proc = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable, str(cases)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    found: dict[int, set[str]] = {}
    for d in report["generalDiagnostics"]:
        if d["severity"] == "error":
            found[d["range"]["start"]["line"] + 1] = {"error"}
    expected = _expected(cases.read_text(), "pyright")
    assert found == expected, [d["message"] for d in report["generalDiagnostics"]]


def test_pyright_accepts_the_typed_faces() -> None:
    """tests/typing/faces.py, which mypy checks in `make typecheck`, holds for pyright too."""
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    assert pyright is not None, "pyright is not installed: pip install -e '.[test]'"
    faces = ROOT / "tests" / "typing" / "faces.py"
    proc = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable, str(faces)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    errors = [
        f"{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert not errors, "\n".join(errors)
