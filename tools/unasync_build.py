"""Generate the sync twin of the async source tree.

    python tools/unasync_build.py            # write src/aws_wrapper/_sync and tests/_sync
    python tools/unasync_build.py --check    # fail if they are stale, hand-edited or orphaned

The token rewrite is the ``unasync`` package's (``async``/``await`` dropped, ``__aenter__`` ->
``__enter__``, ...) with our replacement table below. Beyond what unasync does, this script:

* strips the ``Async`` prefix of class names (``AsyncAwsWrapperConnection`` ->
  ``AwsWrapperConnection``) instead of unasync's ``SyncXxx``;
* parses every output file, and rejects async-only names that survive in the sync tree;
* fails when a table entry is never used (a dead seam);
* formats the output with the repository's ruff configuration;
* in ``--check`` mode, reports changed, missing and orphan files.

Every table entry is a seam a reader must learn: keep it short. Dotted names cannot be
replaced by unasync (it rewrites single tokens), so route such calls through ``_compat``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from pathlib import Path
from typing import Any

import unasync

ROOT = Path(__file__).resolve().parent.parent

# (async source dir, generated sync dir), relative to the repository root
TREES: list[tuple[str, str]] = [
    ("src/aws_wrapper/_async", "src/aws_wrapper/_sync"),
    ("tests/_async", "tests/_sync"),
]

REPLACEMENTS: dict[str, str] = {
    # package layout
    "_async": "_sync",
    # the twin primitives of aws_wrapper._compat (add the others as shared code needs them)
    "AIO": "AIO_TWIN",
    "AThreadLock": "ThreadLock",
    "AResult": "Result",
    "asleep": "sleep",
    "aspawn": "spawn",
    "agather": "gather",
    "AEvent": "Event",
    "ALock": "Lock",
    "AWorker": "Worker",
    "await_event": "wait_event",
    "amonitor_scope": "monitor_scope",
    "arun_blocking": "run_blocking",
    # drivers: the async dialect factory and its blocking twin
    "adriver_dialect_for": "driver_dialect_for",
    "aiomysql": "pymysql",
    # the public entry points: aws_wrapper.aio <-> aws_wrapper.sync
    "aio": "sync",
}

HEADER = (
    "# WARNING: generated file, DO NOT EDIT. Source: {src}\n"
    "# Change the async source (or the table in tools/unasync_build.py), then `make generate`.\n"
)

# Names that must never appear in the sync tree (as Python NAME tokens).
FORBIDDEN = re.compile(
    r"^(_async|asyncio|aiomysql|aiobotocore|aiohttp|create_task|pytest_asyncio|AsyncConnection"
    r"|AsyncCursor|Sync[A-Z]\w*)$"
)


class _Rule(unasync.Rule):  # type: ignore[misc]
    """unasync's rule with our naming: strip ``Async`` rather than turning it into ``Sync``."""

    used: set[str]

    def __init__(self, fromdir: str, todir: str) -> None:
        super().__init__(fromdir, todir, additional_replacements=REPLACEMENTS)
        self.used = set()

    def _unasync_name(self, name: str) -> str:
        if name in self.token_replacements:
            if name in REPLACEMENTS:
                self.used.add(name)
            return str(self.token_replacements[name])
        if len(name) > 5 and name.startswith("Async") and name[5].isupper():
            return name[5:]
        return name


def _convert_text(rule: _Rule, text: str) -> str:
    import tokenize_rt

    tokens = tokenize_rt.src_to_tokens(text)
    out: list[Any] = list(rule._unasync_tokens(tokens))
    return str(tokenize_rt.tokens_to_src(out))


def _check_names(path: Path, text: str) -> list[str]:
    problems = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and FORBIDDEN.match(tok.string):
            problems.append(f"{path}:{tok.start[0]}: async-only name {tok.string!r} in sync output")
        if tok.type == tokenize.NAME and tok.string in ("async", "await"):
            problems.append(f"{path}:{tok.start[0]}: '{tok.string}' survived the rewrite")
    return problems


def generate(out_root: Path, root: Path = ROOT) -> list[str]:
    """Write the sync trees below ``out_root``; return problems found (empty when fine)."""
    problems: list[str] = []
    used: set[str] = set()
    written: list[Path] = []
    for src_dir, dst_dir in TREES:
        rule = _Rule(src_dir, dst_dir)
        for src in sorted((root / src_dir).rglob("*.py")):
            rel = src.relative_to(root / src_dir)
            dst = out_root / dst_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            body = _convert_text(rule, src.read_text(encoding="utf-8"))
            text = HEADER.format(src=f"{src_dir}/{rel.as_posix()}") + body
            try:
                ast.parse(text, filename=str(dst))
            except SyntaxError as e:
                problems.append(f"{dst_dir}/{rel}: generated code does not parse: {e}")
                continue
            problems += _check_names(Path(dst_dir) / rel, text)
            dst.write_text(text, encoding="utf-8")
            written.append(dst)
        used |= rule.used
    unused = sorted(set(REPLACEMENTS) - used)
    if unused:
        problems.append(f"replacement table entries never used (remove them): {unused}")
    if written:
        _ruff(root, ["check", "--fix-only", "--select", "I,F401", "--quiet"], written)
        _ruff(root, ["format", "--quiet"], written)
    return problems


def _ruff(root: Path, args: list[str], files: list[Path]) -> None:
    cmd = [sys.executable, "-m", "ruff", *args, "--config", str(root / "pyproject.toml")]
    subprocess.run([*cmd, *map(str, files)], check=True, cwd=root)


def _files(root: Path, rel_dir: str) -> dict[str, Path]:
    base = root / rel_dir
    return {p.relative_to(base).as_posix(): p for p in base.rglob("*.py")} if base.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate src/aws_wrapper/_sync and tests/_sync from the async sources."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the generated trees are stale, hand-edited or orphaned",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="repository root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    with tempfile.TemporaryDirectory(prefix="unasync-") as tmp:
        out = Path(tmp)
        problems = generate(out, root)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        changed: list[str] = []
        for _, dst_dir in TREES:
            new = _files(out, dst_dir)
            old = _files(root, dst_dir)
            for rel in sorted(set(new) | set(old)):
                name = f"{dst_dir}/{rel}"
                if rel not in old:
                    changed.append(f"missing: {name}")
                elif rel not in new:
                    changed.append(f"orphan (no async source): {name}")
                elif new[rel].read_text(encoding="utf-8") != old[rel].read_text(encoding="utf-8"):
                    changed.append(f"stale or hand-edited: {name}")
                    if args.check:
                        diff = difflib.unified_diff(
                            new[rel].read_text(encoding="utf-8").splitlines(),
                            old[rel].read_text(encoding="utf-8").splitlines(),
                            "expected",
                            "found",
                            lineterm="",
                            n=1,
                        )
                        changed.extend("    " + line for line in list(diff)[:20])
        if args.check:
            if changed:
                print("generated sync code is out of date; run `make generate`:", file=sys.stderr)
                print("\n".join(changed), file=sys.stderr)
                return 1
            print("generated sync code is up to date")
            return 0
        for _, dst_dir in TREES:
            target = root / dst_dir
            if target.exists():
                shutil.rmtree(target)
            if (out / dst_dir).exists():
                shutil.copytree(out / dst_dir, target)
        total = sum(len(_files(root, d)) for _, d in TREES)
        print(f"generated {total} files ({len(changed)} changed)")
        return 0


if __name__ == "__main__":
    sys.exit(main())
