"""SQLAlchemy's dialect compliance suite (``sqlalchemy.testing.suite``) against aws_wrapper's
SQLAlchemy dialects and, as the baseline, the stock dialects they subclass (``make sqla-suite``).

Starts a PostgreSQL and a MariaDB server (aws_wrapper_devcluster), creates what the suite
expects (schemas ``test_schema`` / ``test_schema_2``, PostgreSQL's hstore and citext), downloads
SQLAlchemy's own requirements class (``test/requirements.py`` of the installed version's sdist,
with pip), runs ``pytest --dburi URL`` with SQLAlchemy's pytest plugin (tests/sqla_suite/) once
per URL, and prints passed / failed / skipped / errors, stock next to ours, and the tests whose
outcome differs.

    .venv/bin/python tools/sqla_suite.py                     # all 5 pairs, ~20 min
    .venv/bin/python tools/sqla_suite.py --suite psycopg,aiomysql --only ours
    .venv/bin/python tools/sqla_suite.py --suite pymysql -- -k test_reflection

Exit status 1 when one of our URLs fails a test that its stock URL passes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pymysql
import sqlalchemy

from aws_wrapper_devcluster import DatabaseServer, MariaDBServer, PostgresServer

ROOT = Path(__file__).resolve().parents[1]
SUITE_DIR = ROOT / "tests" / "sqla_suite"
CACHE_DIR = ROOT / ".pytest_cache" / "d" / "sqla_suite"
OUT_DIR = ROOT / "tmp" / "sqla-suite"  # git-ignored: logs and JUnit reports of the last run


@dataclass(frozen=True)
class Pair:
    key: str
    engine: str  # "postgresql" | "mariadb"
    stock: str
    ours: str
    query: str = ""


PAIRS = [
    Pair("psycopg", "postgresql", "postgresql+psycopg", "postgresql+aws_wrapper_psycopg"),
    Pair(
        "psycopg_async",
        "postgresql",
        "postgresql+psycopg_async",
        "postgresql+aws_wrapper_psycopg_async",
    ),
    Pair("pymysql", "mariadb", "mariadb+pymysql", "mariadb+aws_wrapper_pymysql", "charset=utf8mb4"),
    Pair(
        "aiomysql", "mariadb", "mariadb+aiomysql", "mariadb+aws_wrapper_aiomysql", "charset=utf8mb4"
    ),
    # as SQLAlchemy's provisioning makes mysqlconnector URLs
    Pair(
        "mysqlconnector",
        "mariadb",
        "mariadb+mysqlconnector",
        "mariadb+aws_wrapper_mysqlconnector",
        "collation=utf8mb4_general_ci",
    ),
]


def log(message: str) -> None:
    print(f"[sqla-suite] {message}", flush=True)


# -- SQLAlchemy's requirements class ----------------------------------------------------------


def sqlalchemy_requirements() -> Path:
    """``test/requirements.py`` from the sdist of the installed SQLAlchemy (cached)."""
    version = sqlalchemy.__version__
    target = CACHE_DIR / f"requirements-{version}.py"
    if target.exists():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    log(f"downloading the SQLAlchemy {version} sdist for its test/requirements.py ...")
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                "sqlalchemy",
                f"sqlalchemy=={version}",
                "-d",
                tmp,
            ],
            check=True,
        )
        (sdist,) = Path(tmp).glob("*.tar.gz")
        with tarfile.open(sdist) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/test/requirements.py"))
            data = tar.extractfile(member)
            assert data is not None
            part = Path(tmp) / "requirements.py"
            part.write_bytes(data.read())
        part.replace(target)
    return target


# -- servers ----------------------------------------------------------------------------------


def prepare_postgres(server: PostgresServer) -> None:
    import psycopg

    params = server.admin_params() | {"dbname": server.conn_params()["dbname"]}
    app = server.conn_params()["user"]
    with psycopg.connect(autocommit=True, **params) as conn:
        for schema in ("test_schema", "test_schema_2"):
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {app}")
        for extension in ("hstore", "citext"):  # SQLAlchemy's provisioning would create them
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")


def prepare_mariadb(server: MariaDBServer) -> None:
    app = server.conn_params()["user"]
    with pymysql.connect(autocommit=True, **server.admin_params()) as conn, conn.cursor() as cur:
        for schema in ("test_schema", "test_schema_2"):
            cur.execute(f"DROP DATABASE IF EXISTS {schema}")
            cur.execute(f"CREATE DATABASE {schema} CHARACTER SET utf8mb4")
        # as SQLAlchemy's test user: the suite creates other databases (test_schema_cache:
        # foo_bar) and looks into missing ones (test_has_table_nonexistent_schema)
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO %s@'%%'", (app,))


def url_for(drivername: str, server: DatabaseServer, query: str) -> str:
    p = server.conn_params()
    database = p.get("dbname") or p.get("database")
    url = f"{drivername}://{p['user']}:{p['password']}@{p['host']}:{p['port']}/{database}"
    return f"{url}?{query}" if query else url


# -- one pytest run per URL -------------------------------------------------------------------


@dataclass
class Outcome:
    url: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    tests: dict[str, str] = field(default_factory=dict)  # test id -> passed|failed|...
    note: str = ""


def parse_junit(path: Path, outcome: Outcome) -> None:
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        # the class names end in the URL's backend, driver and server version
        # (ComponentReflectionTest_postgresql+psycopg_15_20): cut, to compare stock and ours
        classname = re.sub(r"_(postgresql|mysql|mariadb)\+\S*$", "", case.get("classname", ""))
        test_id = f"{classname}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if "error" in kinds:
            state = "error"
        elif "failure" in kinds:
            state = "failed"
        elif "skipped" in kinds:
            state = "skipped"
        else:
            state = "passed"
        outcome.tests[test_id] = state
    counts = {s: 0 for s in ("passed", "failed", "skipped", "error")}
    for state in outcome.tests.values():
        counts[state] += 1
    outcome.passed, outcome.failed = counts["passed"], counts["failed"]
    outcome.skipped, outcome.errors = counts["skipped"], counts["error"]


def run_suite(
    name: str, url: str, requirements: str, pytest_args: list[str], plugins: str | None
) -> Outcome:
    if plugins is not None and "+aws_wrapper_" in url:
        url += ("&" if "?" in url else "?") + f"wrapper_plugins={plugins}"
    outcome = Outcome(url=url)
    junit = OUT_DIR / f"{name}.xml"
    log_path = OUT_DIR / f"{name}.log"
    junit.unlink(missing_ok=True)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(SUITE_DIR / "pytest.ini"),
        "--rootdir",
        str(SUITE_DIR),
        str(SUITE_DIR),
        "--dburi",
        url,
        "-q",
        "-rN",
        f"--junitxml={junit}",
        *pytest_args,
    ]
    env = os.environ | {"SQLA_SUITE_REQUIREMENTS": requirements}
    started = time.monotonic()
    with open(log_path, "w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        last = started
        while proc.poll() is None:
            time.sleep(1)
            if time.monotonic() - last >= 30:
                last = time.monotonic()
                log(f"  {name}: {progress(log_path)} after {last - started:.0f} s")
    outcome.seconds = time.monotonic() - started
    if junit.exists():
        parse_junit(junit, outcome)
    if proc.returncode not in (0, 1):  # 1: tests failed; anything else: the run itself
        outcome.note = f"pytest exit {proc.returncode}, see {log_path.relative_to(ROOT)}"
    return outcome


def progress(log_path: Path) -> str:
    """The last ``[ NN%]`` of pytest's -q output."""
    text = log_path.read_text(errors="replace")[-2000:]
    marks = [part.split("]")[0].strip() for part in text.split("[")[1:] if "%]" in part]
    return marks[-1] if marks else "collecting"


# -- report -----------------------------------------------------------------------------------


def table(rows: list[tuple[str, Outcome | None, Outcome | None]]) -> str:
    head = "| URL | passed | failed | skipped | errors | time |"
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for _, stock, ours in rows:
        for outcome in (stock, ours):
            if outcome is None:
                continue
            url = outcome.url.split("://")[0]
            note = f" ({outcome.note})" if outcome.note else ""
            lines.append(
                f"| `{url}`{note} | {outcome.passed} | {outcome.failed} | {outcome.skipped}"
                f" | {outcome.errors} | {outcome.seconds / 60:.1f} min |"
            )
    return "\n".join(lines)


def differences(stock: Outcome, ours: Outcome) -> Iterator[str]:
    for test_id in sorted(set(stock.tests) | set(ours.tests)):
        a, b = stock.tests.get(test_id, "absent"), ours.tests.get(test_id, "absent")
        if a != b:
            yield f"    {test_id}: stock {a}, ours {b}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite",
        default=os.environ.get("SUITE", ""),
        help="comma-separated keys of the pairs to run (default: all): "
        + ", ".join(p.key for p in PAIRS),
    )
    parser.add_argument("--only", choices=("both", "ours", "stock"), default="both")
    parser.add_argument(
        "--requirements",
        choices=("sqlalchemy", "suite"),
        default="sqlalchemy",
        help="SQLAlchemy's own requirements class (downloaded; default) or the suite's base",
    )
    parser.add_argument(
        "--plugins",
        default=None,
        help="wrapper_plugins of our URLs (default: the wrapper's default plugins)",
    )
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args()

    keys = [k.strip() for k in args.suite.split(",") if k.strip()]
    unknown = set(keys) - {p.key for p in PAIRS}
    if unknown:
        parser.error(f"unknown --suite key(s) {sorted(unknown)}; known: {[p.key for p in PAIRS]}")
    pairs = [p for p in PAIRS if not keys or p.key in keys]
    requirements = sqlalchemy_requirements() if args.requirements == "sqlalchemy" else None
    req_env = str(requirements) if requirements is not None else "suite"
    if requirements is not None:
        digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
        log(f"requirements: SQLAlchemy {sqlalchemy.__version__} test/requirements.py ({digest})")
    else:
        log("requirements: sqlalchemy.testing.requirements.SuiteRequirements")
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    rows: list[tuple[str, Outcome | None, Outcome | None]] = []
    with ExitStack() as stack:
        servers: dict[str, DatabaseServer] = {}

        def server_log(line: str) -> None:
            log(f"  {line}")

        for engine in sorted({p.engine for p in pairs}):
            if engine == "postgresql":
                pg = stack.enter_context(PostgresServer(log=server_log))
                prepare_postgres(pg)
                servers[engine] = pg
            else:
                maria = stack.enter_context(MariaDBServer(log=server_log))
                prepare_mariadb(maria)
                servers[engine] = maria
        total = len(pairs) * (1 if args.only != "both" else 2)
        done = 0
        for pair in pairs:
            server = servers[pair.engine]
            results: dict[str, Outcome | None] = {"stock": None, "ours": None}
            for side in ("stock", "ours"):
                if args.only not in ("both", side):
                    continue
                drivername = pair.stock if side == "stock" else pair.ours
                url = url_for(drivername, server, pair.query)
                done += 1
                log(f"[{done}/{total}] {drivername} ...")
                outcome = run_suite(
                    f"{pair.key}-{side}", url, req_env, args.pytest_args, args.plugins
                )
                results[side] = outcome
                log(
                    f"[{done}/{total}] {drivername}: {outcome.passed} passed, {outcome.failed}"
                    f" failed, {outcome.skipped} skipped, {outcome.errors} errors"
                    f" in {outcome.seconds / 60:.1f} min {outcome.note}"
                )
            rows.append((pair.key, results["stock"], results["ours"]))

    print()
    print(table(rows))
    regressions = 0
    for key, stock, ours in rows:
        if stock is None or ours is None:
            continue
        diff = list(differences(stock, ours))
        print(f"\n{key}: {len(diff)} test(s) with another outcome than stock")
        for line in diff:
            print(line)
        regressions += sum(
            1
            for t, state in ours.tests.items()
            if state in ("failed", "error") and stock.tests.get(t) == "passed"
        )
    bad_runs = [o for _, s, o in rows for o in (s, o) if o is not None and o.note]
    print(f"\nlogs and JUnit reports: {OUT_DIR.relative_to(ROOT)}/")
    return 1 if regressions or bad_runs else 0


if __name__ == "__main__":
    sys.exit(main())
