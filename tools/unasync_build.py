"""Generate the sync twin of the async source tree.

    python tools/unasync_build.py            # write src/aws_wrapper/_sync and tests/_sync
    python tools/unasync_build.py --check    # fail if they are stale, hand-edited or orphaned

Each async source file goes through four stages; the output is committed:

1. **Branches and helpers** (AST): ``if AIO:`` branches are dropped (the ``else`` block is kept,
   dedented), ``if not AIO:`` keeps its body, ``X if AIO else Y`` becomes ``Y``; the async-only
   helpers of ``UNWRAP`` are unwrapped (``await arun_blocking(f, x)`` -> ``f(x)``).
2. **Names** (AST): the identifiers of ``NAMES``, the modules of ``MODULES`` and the string
   literals of ``STRINGS`` are renamed where the AST has them (names, attributes, imports,
   definitions, arguments), never by spelling alone: ``self.aio`` and ``aio_count`` stay as
   they are. Docstrings and comments are fixed by ``DOC_RULES``.
3. **Keywords** (tokens): the ``unasync`` package drops ``async``/``await``. Its name table is
   empty here: every renamed identifier comes from the maps below.
4. **Format**: unused imports are removed and the file is formatted with the repository's ruff
   (pinned in pyproject.toml).

The AST stages only *locate* spans and edit the source text by them, so comments and layout
survive, and the output does not depend on how a Python version tokenizes f-strings.

Every output is checked: it must parse; it must hold no ``await``/``async`` construct, no
async-only or mapped-away name (``asyncio``, ``AIO``, ``arun_blocking``, ``Async*``, ...),
no import of an async module, and no ``await``/``asyncio``/``aio.`` outside comments; every
identifier that changed must be one a map names; every map entry must be used. ``--check``
also reports changed, missing and orphan files.

The maps are the seams a reader must learn: keep them short.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import difflib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import unasync

ROOT = Path(__file__).resolve().parent.parent

# (async source dir, generated sync dir), relative to the repository root
TREES: list[tuple[str, str]] = [
    ("src/aws_wrapper/_async", "src/aws_wrapper/_sync"),
    ("tests/_async", "tests/_sync"),
]

# =============================================================================================
# The maps: every entry is a seam
# =============================================================================================

NAMES: dict[str, str] = {
    # our classes (the sync twin drops the Async prefix)
    "AsyncAwsWrapperConnection": "AwsWrapperConnection",
    "AsyncAwsWrapperCursor": "AwsWrapperCursor",
    "AsyncPooledConnectionProvider": "PooledConnectionProvider",
    "AsyncConnectionProviderManager": "ConnectionProviderManager",  # the peer's names
    "AsyncSimplePool": "SimplePool",
    "AsyncConnectFunctions": "ConnectFunctions",  # tests/drivers.py
    # the twin primitives of aws_wrapper._compat
    "AThreadLock": "ThreadLock",
    "AResult": "Result",
    "AAssignedBool": "AssignedBool",  # what a sync-settable property accepts
    "AMySQLConnectorConnection": "MySQLConnectorConnection",  # types only
    "asleep": "sleep",
    "aspawn": "spawn",
    "agather": "gather",
    "AEvent": "Event",
    "ALock": "Lock",
    "AWorker": "Worker",
    "amonitor_scope": "monitor_scope",
    # drivers: the async dialect factory and its blocking twin, the dialects (_async/drivers)
    "adriver_dialect_for": "driver_dialect_for",
    "AsyncPsycopgDialect": "PsycopgDialect",
    "AsyncPsycopgPool": "PsycopgPool",
    "AiomysqlDialect": "PyMySQLDialect",
    "MysqlConnectorAioDialect": "MysqlConnectorDialect",
    # libraries
    "AsyncClient": "Client",  # httpx
    "AsyncConnection": "Connection",  # psycopg
    "AsyncConnectionPool": "ConnectionPool",  # psycopg_pool
    "AsyncIterator": "Iterator",
    "asynccontextmanager": "contextmanager",
    "StopAsyncIteration": "StopIteration",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "async_factory": "sync_factory",  # aws_wrapper.plugin_registry.PluginSpec
}
"""Identifiers, renamed wherever the AST has them: names, attributes, imported names,
definitions, parameters, keyword arguments, and string literals that are exactly the name
(``__all__``)."""

MODULES: dict[str, str] = {
    "aws_wrapper._async": "aws_wrapper._sync",
    "aws_wrapper.aio": "aws_wrapper.sync",
    "aiomysql": "pymysql",  # the driver (_async/drivers/pymysql.py)
}
"""Modules and their submodules, in imports (``from aws_wrapper import aio``,
``from aws_wrapper._async.x import y``) and dotted attribute chains. A module maps to one of
the same depth."""

STRINGS: dict[str, str] = {
    "aiomysql": "pymysql",  # driver names (test parameters, dialect codes)
    "mysql-connector-aio": "mysql-connector",  # dialect code
}
"""String literals, replaced when the whole literal is the key."""

BRANCH_FLAG = "AIO"
"""``aws_wrapper._compat.AIO`` (True): ``if AIO:`` marks an async-only block, dropped from
the sync output (its ``else`` block is kept); ``if not AIO:`` a sync-only one; ``X if AIO else
Y`` becomes ``Y``. Use it only as the whole condition."""


def _unwrap_run_blocking(src: _Source, call: ast.Call) -> str:
    """``await arun_blocking(f, x)`` -> ``f(x)``; ``await arun_blocking(partial(f, x, k=v))`` ->
    ``f(x, k=v)``."""
    if call.keywords or not call.args:
        raise _Unsupported("arun_blocking takes a callable and positional arguments")
    func = call.args[0]
    if (
        len(call.args) == 1
        and isinstance(func, ast.Call)
        and isinstance(func.func, ast.Name)
        and func.func.id == "partial"
        and func.args
    ):
        return _call_text(src, func.args[0], [*func.args[1:], *func.keywords], func)
    return _call_text(src, func, call.args[1:], call)


def _unwrap_await_event(src: _Source, call: ast.Call) -> str:
    """``await await_event(event, timeout)`` -> ``event.wait(timeout)``."""
    if call.keywords or len(call.args) != 2:
        raise _Unsupported("await_event takes an event and a timeout")
    return f"{_primary(src, call.args[0])}.wait({src.segment(call.args[1])})"


UNWRAP: dict[str, Callable[[_Source, ast.Call], str]] = {
    "arun_blocking": _unwrap_run_blocking,
    "await_event": _unwrap_await_event,
}
"""Async-only helpers of ``aws_wrapper._compat``, unwrapped where awaited (anywhere else they
survive and fail the check)."""

DOC_RULES: list[tuple[str, str]] = [
    # the public entry points
    (r"\bawait aws_wrapper\.aio\.", "aws_wrapper."),
    (r"\baws_wrapper\.aio\b", "aws_wrapper"),
    (r"\baws_wrapper\._async\b", "aws_wrapper._sync"),
    # driver connect functions
    (r"\baiomysql\.connect\b", "pymysql.connect"),
    (r"\bmysql\.connector\.aio\.", "mysql.connector."),
    # code in examples: ``await call()``, ``async with conn``
    (r"\bawait\s+(?=[\w.]+\()", ""),
    (r"\basync (with|for|def)\b", r"\1"),
]
"""Regular expressions applied to docstrings and comments, in order (after ``NAMES``, which
applies to whole words there too)."""

HEADER = (
    "# WARNING: generated file, DO NOT EDIT. Source: {src}\n"
    "# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.\n"
)

# Names that must never appear in the sync tree (as Python NAME tokens), beyond the keys of
# the maps (a key that survives is a spot the generator could not rewrite).
FORBIDDEN = re.compile(
    r"^(_async|asyncio|aiomysql|aiobotocore|aiohttp|create_task|pytest_asyncio|AIO_TWIN"
    r"|Async[A-Z]\w*|Sync[A-Z]\w*)$"
)
# Text that must not appear in the sync tree outside comments (docstrings included).
LEFTOVER = re.compile(r"\bawait\b|\basyncio\b|\baio\.|\bAIO_TWIN\b")


# =============================================================================================
# Editing source text by AST spans
# =============================================================================================


class _Unsupported(Exception):
    """A construct the generator cannot rewrite (reported with its place)."""


class _Source:
    """Source text with conversions from AST positions (line, UTF-8 column) to text offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1] if lineno <= len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))

    def span(self, node: Any) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )

    def segment(self, node: Any) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def indent(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip(" \t"))]


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    # identifier renames this edit makes: (line, old, new), for the rename check
    renames: list[tuple[int, str, str]] = field(default_factory=list)


def _apply(text: str, edits: list[_Edit]) -> str:
    out: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            raise _Unsupported(f"overlapping rewrites at offset {edit.start}")
        out += [text[pos : edit.start], edit.text]
        pos = edit.end
    return "".join(out) + text[pos:]


def _primary(src: _Source, node: ast.expr) -> str:
    """The node's text, parenthesised unless it is a primary expression already."""
    text = src.segment(node)
    primary = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)
    return text if isinstance(node, primary) else f"({text})"


def _call_text(src: _Source, func: ast.expr, args: list[Any], call: ast.Call) -> str:
    """``func(args...)`` with the arguments' text as written (up to the call's closing
    parenthesis, so comments and a trailing comma survive)."""
    if not args:
        return f"{_primary(src, func)}()"
    start = min(src.span(a)[0] for a in args)
    end = src.span(call)[1] - 1  # the closing parenthesis
    return f"{_primary(src, func)}({src.text[start:end]})"


def _string_lines(text: str) -> set[int]:
    """Lines that continue a multi-line string (their text is the string's, not code)."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            lines.update(range(tok.start[0] + 1, tok.end[0] + 1))
    return lines


# ---------------------------------------------------------------------------------------------
# stage 1: branches on AIO, async-only helpers
# ---------------------------------------------------------------------------------------------


def _flag_test(test: ast.expr) -> bool | None:
    """True for ``AIO``, False for ``not AIO``, None for anything else."""
    if isinstance(test, ast.Name) and test.id == BRANCH_FLAG:
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _flag_test(test.operand)
        return None if inner is None else not inner
    return None


class _Structure(ast.NodeVisitor):
    """Collects the outermost branch and helper rewrites of one pass."""

    def __init__(self, src: _Source, used: set[str]) -> None:
        self.src = src
        self.used = used
        self.edits: list[_Edit] = []
        self.string_lines = _string_lines(src.text)
        self.in_fstring = False

    def generic_visit(self, node: ast.AST) -> None:
        # an `if AIO:` that is alone in its block leaves `pass` behind
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and len(block) == 1 and isinstance(block[0], ast.If):
                block[0].alone = True  # type: ignore[attr-defined]
        super().generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        flag = _flag_test(node.test)
        if flag is None:
            self.generic_visit(node)
            return
        self.used.add(BRANCH_FLAG)
        src = self.src
        indent = src.indent(node.lineno)
        if src.offset(node.lineno, node.col_offset) != src.starts[node.lineno - 1] + len(indent):
            raise _Unsupported(f"line {node.lineno}: `if {BRANCH_FLAG}:` must start its line")
        if node.body[0].lineno == node.lineno:
            raise _Unsupported(f"line {node.lineno}: write `if {BRANCH_FLAG}:` as a block")
        start = src.starts[node.lineno - 1]
        end = src.starts[node.end_lineno]  # type: ignore[index]
        keep = node.orelse if flag else node.body
        if flag and len(keep) == 1 and isinstance(keep[0], ast.If):
            elif_at = src.offset(keep[0].lineno, keep[0].col_offset)
            if src.text.startswith("elif", elif_at):  # `if AIO: ... elif x: ...` -> `if x: ...`
                text = indent + src.text[elif_at + 2 : end]
                self.edits.append(_Edit(start, end, text))
                return
        if not keep:
            alone = getattr(node, "alone", False)
            self.edits.append(_Edit(start, end, f"{indent}pass\n" if alone else ""))
            return
        if flag:  # the block after `else:`
            first = self._else_line(node) + 1
            last = node.end_lineno
        else:  # the block after `if not AIO:`, up to `else:`
            first = node.lineno + 1
            last = self._else_line(node) - 1 if node.orelse else node.end_lineno
        assert last is not None
        cut = len(src.indent(keep[0].lineno)) - len(indent)
        lines = []
        for lineno in range(first, last + 1):
            line = src.lines[lineno - 1]
            if lineno not in self.string_lines and line[:cut].strip() == "":
                line = line[cut:] if line.strip() else line.lstrip(" \t")
            lines.append(line)
        self.edits.append(_Edit(start, end, "".join(lines)))

    def _else_line(self, node: ast.If) -> int:
        indent = self.src.indent(node.lineno)
        for lineno in range(node.body[-1].end_lineno or 0, node.orelse[0].lineno):
            line = self.src.lines[lineno - 1]
            if line.startswith(indent + "else") and line[len(indent) + 4 :].lstrip().startswith(
                ":"
            ):
                return lineno
        raise _Unsupported(f"line {node.lineno}: no `else:` found for `if {BRANCH_FLAG}:`")

    def visit_IfExp(self, node: ast.IfExp) -> None:
        flag = _flag_test(node.test)
        if flag is None:
            self.generic_visit(node)
            return
        self.used.add(BRANCH_FLAG)
        start, end = self.src.span(node)
        self.edits.append(_Edit(start, end, self.src.segment(node.orelse if flag else node.body)))

    def visit_Await(self, node: ast.Await) -> None:
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in UNWRAP
        ):
            try:
                text = UNWRAP[call.func.id](self.src, call)
            except _Unsupported as e:
                raise _Unsupported(f"line {node.lineno}: {e}") from None
            self.used.add(call.func.id)
            start, end = self.src.span(node)
            self.edits.append(_Edit(start, end, text))
            return
        if self.in_fstring:  # out of unasync's reach where an f-string is one token (3.11)
            start, end = self.src.span(node)
            self.edits.append(_Edit(start, end, self.src.segment(node.value)))
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        outer, self.in_fstring = self.in_fstring, True
        self.generic_visit(node)
        self.in_fstring = outer


def _rewrite_structure(text: str, used: set[str]) -> str:
    """Stage 1, repeated until nothing is left to rewrite (a branch inside a branch, a helper
    inside a helper's arguments)."""
    for _ in range(20):
        src = _Source(text)
        visitor = _Structure(src, used)
        visitor.visit(ast.parse(text))
        if not visitor.edits:
            return text
        text = _apply(text, visitor.edits)
    raise _Unsupported("branches and helpers nested too deep")


# ---------------------------------------------------------------------------------------------
# stage 2: names, modules, strings, docstrings, comments
# ---------------------------------------------------------------------------------------------


def _map_module(module: str) -> str | None:
    for old, new in MODULES.items():
        if module == old or module.startswith(old + "."):
            return new + module[len(old) :]
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


_DOC_RULES = [(re.compile(p), r) for p, r in DOC_RULES]
_NAMES_IN_DOCS = re.compile(
    r"\b(" + "|".join(map(re.escape, sorted(NAMES, key=len)[::-1])) + r")\b"
)


class _Names(ast.NodeVisitor):
    """Collects the renames of stage 2."""

    def __init__(self, src: _Source, used: set[str]) -> None:
        self.src = src
        self.used = used
        self.edits: list[_Edit] = []

    # -- helpers -------------------------------------------------------------------------------

    def _rename_at(self, start: int, old: str, new: str, key: str) -> None:
        """Replace the identifier/dotted name ``old`` written at ``start``."""
        if self.src.text[start : start + len(old)] != old:
            line = self.src.line_of(start)
            raise _Unsupported(
                f"line {line}: cannot locate {old!r} to rename it (write it plainly)"
            )
        self.used.add(key)
        line = self.src.line_of(start)
        pairs = [
            (line, a, b) for a, b in zip(old.split("."), new.split("."), strict=True) if a != b
        ]
        self.edits.append(_Edit(start, start + len(old), new, pairs))

    def _name(self, start: int, name: str) -> None:
        if name in NAMES:
            self._rename_at(start, name, NAMES[name], name)

    def _module(self, start: int, module: str) -> None:
        new = _map_module(module)
        if new is not None:
            key = next(k for k in MODULES if module == k or module.startswith(k + "."))
            self._rename_at(start, module, new, key)

    # -- nodes ---------------------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in MODULES:  # a module's name (``aiomysql.cursors.DictCursor``)
            self._rename_at(self.src.span(node)[0], node.id, MODULES[node.id], node.id)
            return
        self._name(self.src.span(node)[0], node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node)
        if dotted is not None and dotted in MODULES:
            self._rename_at(self.src.span(node)[0], dotted, MODULES[dotted], dotted)
            return
        if node.attr in NAMES:
            self._name(self.src.span(node)[1] - len(node.attr), node.attr)
        self.visit(node.value)

    def visit_arg(self, node: ast.arg) -> None:
        self._name(self.src.span(node)[0], node.arg)
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg is not None:
            self._name(self.src.span(node)[0], node.arg)
        self.generic_visit(node)

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if node.name in NAMES:
            start = self.src.span(node)[0]
            m = re.compile(r"(?:async\s+)?(?:def|class)\s+").match(self.src.text, start)
            assert m is not None
            self._name(m.end(), node.name)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(self.src.span(alias)[0], alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0:
            m = re.compile(r"from\s+").match(self.src.text, self.src.span(node)[0])
            assert m is not None
            self._module(m.end(), module)
        for alias in node.names:
            start = self.src.span(alias)[0]
            full = f"{module}.{alias.name}"
            if node.level == 0 and full in MODULES:
                parent, _, new = MODULES[full].rpartition(".")
                if _map_module(module) or module != parent:
                    raise _Unsupported(f"line {node.lineno}: import {MODULES[full]} directly")
                self._rename_at(start, alias.name, new, full)
            else:
                self._name(start, alias.name)

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            self._docstring_node(node.value)  # a docstring, or an attribute's docstring
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        for value in node.values:  # the literal parts are not whole strings
            if isinstance(value, ast.FormattedValue):
                self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str):
            return
        new = STRINGS.get(node.value) or NAMES.get(node.value)
        if new is None:
            return
        text = self.src.segment(node)
        if text[1:-1] != node.value or text[0] != text[-1] or text[0] not in "'\"":
            raise _Unsupported(f"line {node.lineno}: write {node.value!r} as a plain literal")
        self.used.add(node.value)
        start, end = self.src.span(node)
        self.edits.append(_Edit(start, end, text[0] + new + text[0]))

    # -- docstrings and comments ---------------------------------------------------------------

    def _docstring_node(self, node: ast.Constant) -> None:
        start, end = self.src.span(node)
        text = self._fix_doc(self.src.text[start:end])
        if text != self.src.text[start:end]:
            self.edits.append(_Edit(start, end, text))

    def _fix_doc(self, text: str) -> str:
        def name(m: re.Match[str]) -> str:
            self.used.add(m.group(1))
            return NAMES[m.group(1)]

        text = _NAMES_IN_DOCS.sub(name, text)
        for pattern, repl in _DOC_RULES:
            text = pattern.sub(repl, text)
        return text

    def comments(self) -> None:
        for tok in tokenize.generate_tokens(io.StringIO(self.src.text).readline):
            if tok.type == tokenize.COMMENT:
                new = self._fix_doc(tok.string)
                if new != tok.string:
                    start = self.src.offset(tok.start[0], 0) + tok.start[1]
                    self.edits.append(_Edit(start, start + len(tok.string), new))


def _rename(text: str, used: set[str]) -> tuple[str, list[_Edit]]:
    src = _Source(text)
    visitor = _Names(src, used)
    visitor.visit(ast.parse(text))
    visitor.comments()
    return _apply(text, visitor.edits), visitor.edits


# ---------------------------------------------------------------------------------------------
# stage 3: async/await, by unasync's token rewrite
# ---------------------------------------------------------------------------------------------


class _Rule(unasync.Rule):  # type: ignore[misc]
    """unasync's rule without its name table: it drops ``async``/``await``; every name is the
    maps' business (stage 2)."""

    def __init__(self) -> None:
        super().__init__("_async", "_sync")
        self.token_replacements: dict[str, str] = {}

    def _unasync_name(self, name: str) -> str:
        return name


def _drop_async(text: str) -> str:
    import tokenize_rt

    tokens = tokenize_rt.src_to_tokens(text)
    return str(tokenize_rt.tokens_to_src(list(_Rule()._unasync_tokens(tokens))))


# =============================================================================================
# The pipeline and its checks
# =============================================================================================


def convert(text: str, used: set[str] | None = None) -> str:
    """The sync twin of one async source file (before formatting). Raises ``_Unsupported``
    for what the generator cannot rewrite, ``SyntaxError`` when the output does not parse."""
    used = set() if used is None else used
    before = _rewrite_structure(text, used)
    renamed, edits = _rename(before, used)
    out = _drop_async(renamed)
    tree = ast.parse(out)
    problems = _unnamed_renames(before, out, edits)
    if problems:
        raise _Unsupported("; ".join(problems))
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension) and node.is_async:
            node = node.target
        elif not isinstance(node, ast.Await | ast.AsyncFunctionDef | ast.AsyncWith | ast.AsyncFor):
            continue
        raise _Unsupported(f"line {node.lineno}: an async construct survived the rewrite")
    return out


def _names(text: str) -> Iterator[tokenize.TokenInfo]:
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME:
            yield tok


def _unnamed_renames(before: str, after: str, edits: list[_Edit]) -> list[str]:
    """Every identifier the pipeline changed must be one of the maps' renames: a token rule
    (or a tokenizer's f-string quirk) must not rename anything on its own."""
    allowed = {r for e in edits for r in e.renames}
    old = [t for t in _names(before) if t.string not in ("async", "await")]
    new = list(_names(after))
    if len(old) != len(new):
        return [f"the identifiers changed in number ({len(old)} -> {len(new)})"]
    return [
        f"line {a.start[0]}: {a.string!r} renamed to {b.string!r}, which no map names"
        for a, b in zip(old, new, strict=True)
        if a.string != b.string and (a.start[0], a.string, b.string) not in allowed
    ]


def _check_names(path: Path, text: str) -> list[str]:
    """Problems of a generated (formatted) file: async-only names and text that survived."""
    problems = []
    survivors = {*NAMES, *UNWRAP, BRANCH_FLAG}
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        where = f"{path}:{tok.start[0]}"
        if tok.type == tokenize.NAME:
            if FORBIDDEN.match(tok.string) or tok.string in survivors:
                problems.append(f"{where}: async-only name {tok.string!r} in sync output")
            elif tok.string in ("async", "await"):
                problems.append(f"{where}: '{tok.string}' survived the rewrite")
        elif tok.type != tokenize.COMMENT and (m := LEFTOVER.search(tok.string)):
            problems.append(f"{where}: {m.group()!r} outside a comment in sync output")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        problems += [
            f"{path}:{node.lineno}: imports async module {m}" for m in modules if _map_module(m)
        ]
    return problems


def generate(out_root: Path, root: Path = ROOT) -> list[str]:
    """Write the sync trees below ``out_root``; return problems found (empty when fine)."""
    problems: list[str] = []
    used: set[str] = set()
    written: dict[Path, Path] = {}
    for src_dir, dst_dir in TREES:
        for src in sorted((root / src_dir).rglob("*.py")):
            rel = src.relative_to(root / src_dir)
            dst = out_root / dst_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                body = convert(src.read_text(encoding="utf-8"), used)
            except _Unsupported as e:
                problems.append(f"{src_dir}/{rel}: {e}")
                continue
            except SyntaxError as e:
                problems.append(f"{dst_dir}/{rel}: generated code does not parse: {e}")
                continue
            dst.write_text(HEADER.format(src=f"{src_dir}/{rel.as_posix()}") + body, "utf-8")
            written[dst] = Path(dst_dir) / rel
    unused = [k for k in [*NAMES, *MODULES, *STRINGS, *UNWRAP, BRANCH_FLAG] if k not in used]
    if unused:
        problems.append(f"map entries never used (remove them): {unused}")
    if written:
        _ruff(root, ["check", "--fix-only", "--select", "I,F401", "--quiet"], list(written))
        _ruff(root, ["format", "--quiet"], list(written))
        for dst, rel in written.items():
            problems += _check_names(rel, dst.read_text(encoding="utf-8"))
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
