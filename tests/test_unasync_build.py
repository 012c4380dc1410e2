"""The generator of the sync tree: its output, its checks, and check mode."""

from __future__ import annotations

import ast
import io
import re
import shutil
import textwrap
import tokenize
from pathlib import Path

import pytest

from tools import unasync_build as ub

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the parts of this repository the generator reads and writes."""
    for src, dst in ub.TREES:
        shutil.copytree(REPO / src, tmp_path / src)
        shutil.copytree(REPO / dst, tmp_path / dst)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def sync(code: str) -> str:
    """The sync twin of an async snippet (before formatting)."""
    return ub.convert(textwrap.dedent(code))


def same_code(a: str, b: str) -> bool:
    return ast.dump(ast.parse(textwrap.dedent(a))) == ast.dump(ast.parse(textwrap.dedent(b)))


# -- the committed trees ------------------------------------------------------------------------


def test_committed_sync_tree_is_current(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ub.main(["--check", "--root", str(repo)]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("tree", [dst for _, dst in ub.TREES])
def test_sync_tree_has_no_async_leftovers(tree: str) -> None:
    """No ``await``, ``asyncio``, ``aio.`` or ``AIO_TWIN`` in the generated code or its
    docstrings; comments (which may explain a seam) are the only exception."""
    leftovers = re.compile(r"\bawait\b|\basyncio\b|\baio\.|\bAIO_TWIN\b")
    found = []
    files = sorted((REPO / tree).rglob("*.py"))
    assert files
    for path in files:
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type != tokenize.COMMENT and (m := leftovers.search(tok.string)):
                found.append(f"{path.relative_to(REPO)}:{tok.start[0]}: {m.group()}")
    assert not found, "\n".join(found)


def test_output_is_sync_and_marked(repo: Path) -> None:
    text = (repo / "src/aws_wrapper/_sync/connection.py").read_text()
    assert text.startswith("# WARNING: generated file, DO NOT EDIT.")
    assert "src/aws_wrapper/_async/connection.py" in text.splitlines()[0]
    assert "class AwsWrapperConnection(Generic[Row, Query, Params]):" in text
    assert "async def" not in text
    assert not ub._check_names(Path("connection.py"), text)
    # the async-only branch of the property setters is gone
    assert "read-only on async connections" not in text
    assert "conn = aws_wrapper.connect(" in text


# -- check mode -----------------------------------------------------------------------------------


def test_check_finds_hand_edits_orphans_and_missing_files(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = repo / "src/aws_wrapper/_sync/cursor.py"
    edited.write_text(edited.read_text() + "\n# a hand edit\n")
    (repo / "src/aws_wrapper/_sync/orphan.py").write_text("x = 1\n")
    (repo / "tests/_sync/test_plugin_pipeline.py").unlink()
    assert ub.main(["--check", "--root", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "stale or hand-edited: src/aws_wrapper/_sync/cursor.py" in err
    assert "orphan (no async source): src/aws_wrapper/_sync/orphan.py" in err
    assert "missing: tests/_sync/test_plugin_pipeline.py" in err
    # write mode repairs all three
    assert ub.main(["--root", str(repo)]) == 0
    assert ub.main(["--check", "--root", str(repo)]) == 0
    assert not (repo / "src/aws_wrapper/_sync/orphan.py").exists()


def test_async_only_names_are_rejected(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = repo / "src/aws_wrapper/_async/leak.py"
    bad.write_text("import asyncio\n\n\nasync def f() -> None:\n    await asyncio.sleep(1)\n")
    assert ub.main(["--check", "--root", str(repo)]) == 1
    assert "async-only name 'asyncio'" in capsys.readouterr().err


def test_unparsable_output_is_rejected(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # unasync eats the parenthesis of `await(x)`: the output does not parse
    (repo / "tests/_async/test_bad.py").write_text(
        "async def f(x: object) -> object:\n    return await(x)  # type: ignore\n"
    )
    assert ub.main(["--root", str(repo)]) == 1
    assert "does not parse" in capsys.readouterr().err


def test_unused_map_entries_fail(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(ub.NAMES, "a_seam_nobody_uses", "x")
    assert ub.main(["--check", "--root", str(repo)]) == 1
    assert "a_seam_nobody_uses" in capsys.readouterr().err


def test_a_rename_no_map_names_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token rule that renames on its own (unasync's blanket table did `aio` -> `sync`)."""
    monkeypatch.setattr(ub._Rule, "_unasync_name", lambda self, name: NAME_RULE.get(name, name))
    with pytest.raises(ub._Unsupported, match="'aio' renamed to 'sync', which no map names"):
        sync("class C:\n    def f(self) -> None:\n        self.aio = 1\n")


NAME_RULE = {"aio": "sync"}


def test_async_names_that_survive_are_reported() -> None:
    problems = ub._check_names(Path("x.py"), "from x import AsyncThing, AIO\n\nAsyncThing(AIO)\n")
    assert "x.py:1: async-only name 'AsyncThing' in sync output" in problems
    assert "x.py:3: async-only name 'AIO' in sync output" in problems


def test_unsupported_constructs_are_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "src/aws_wrapper/_async/bad.py").write_text(
        "from aws_wrapper._compat import AIO, arun_blocking\n\n\n"
        "async def f() -> None:\n"
        "    await arun_blocking(print, end='')\n"
    )
    assert ub.main(["--check", "--root", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "src/aws_wrapper/_async/bad.py: line 5: arun_blocking takes a callable" in err


# -- f-strings: the same output on every Python ---------------------------------------------------


def test_f_string_names_are_left_alone() -> None:
    # on 3.11 an f-string is one token: unasync's blanket `aio` -> `sync` renamed the parameter
    # and not its use in the f-string (a NameError)
    out = sync('def f(aio: bool): return f"aiomysql-{aio}"\n')
    assert same_code(out, 'def f(aio: bool): return f"aiomysql-{aio}"\n')
    namespace: dict[str, object] = {}
    exec(out, namespace)
    assert namespace["f"](True) == "aiomysql-True"  # type: ignore[operator]


def test_f_string_names_are_mapped_like_any_name() -> None:
    out = sync(
        """
        async def f(conn: AsyncAwsWrapperConnection) -> str:
            return f"{AsyncAwsWrapperConnection.__name__}: {await conn.x()!r:>{aio}}"
        """
    )
    assert same_code(
        out,
        """
        def f(conn: AwsWrapperConnection) -> str:
            return f"{AwsWrapperConnection.__name__}: {conn.x()!r:>{aio}}"
        """,
    )


# -- names, modules, strings -------------------------------------------------------------------


def test_names_are_renamed_by_the_ast_not_by_spelling() -> None:
    out = sync(
        """
        import aws_wrapper._async.plugins as p
        from aws_wrapper import aio as aw
        from aws_wrapper._async.x import AsyncSimplePool, aio_count
        from aws_wrapper.aio import AsyncAwsWrapperConnection


        class AsyncAwsWrapperCursor:
            aio = True

            async def __aenter__(self, aio: int = 0) -> AsyncAwsWrapperCursor:
                self.aio = aio_count + self.aio
                conn = await aws_wrapper.aio.connect(aio=aio)
                return AsyncSimplePool(pool=self, asleep=asleep)

        __all__ = ["AsyncAwsWrapperCursor", "aio"]
        DRIVERS = ["psycopg", "aiomysql", "aiomysql-x"]
        Dict = aiomysql.cursors.DictCursor
        aiomysql_cursor = self.aiomysql
        """
    )
    assert same_code(
        out,
        """
        import aws_wrapper._sync.plugins as p
        from aws_wrapper import sync as aw
        from aws_wrapper._sync.x import SimplePool, aio_count
        from aws_wrapper.sync import AwsWrapperConnection


        class AwsWrapperCursor:
            aio = True

            def __enter__(self, aio: int = 0) -> AwsWrapperCursor:
                self.aio = aio_count + self.aio
                conn = aws_wrapper.sync.connect(aio=aio)
                return SimplePool(pool=self, sleep=sleep)

        __all__ = ["AwsWrapperCursor", "aio"]
        DRIVERS = ["psycopg", "pymysql", "aiomysql-x"]
        Dict = pymysql.cursors.DictCursor
        aiomysql_cursor = self.aiomysql
        """,
    )


def test_the_maps_carry_no_blanket_token_names() -> None:
    # the ambiguous spellings are modules only: an identifier so spelled is someone else's
    for name in ("aio", "_async", "AIO"):
        assert name not in ub.NAMES
    assert ub._map_module("aws_wrapper._async.plugins.auth") == "aws_wrapper._sync.plugins.auth"
    assert ub._map_module("aws_wrapper.aio") == "aws_wrapper.sync"
    assert ub._map_module("aws_wrapper.aiox") is None


# -- branches and helpers ----------------------------------------------------------------------


def test_aio_branches_keep_the_sync_side() -> None:
    out = sync(
        """
        from aws_wrapper._compat import AIO


        class C:
            def setter(self, value: bool) -> None:
                if AIO:  # async: read-only
                    raise AttributeError("use 'await conn.set_x(value)'")
                self.set_x(value)

            async def close(self, workers: list[Any]) -> None:
                if AIO:
                    for w in workers:
                        await w.join(1.0)
                else:
                    # threads end on their own
                    for w in workers:
                        w.forget()
                if not AIO:
                    self.sync_only()
                else:
                    self.async_only()
                if AIO:
                    one()
                elif self.closed:
                    two()
                else:
                    three()

            def only(self) -> None:
                if AIO:
                    pass

        WORKERS = 50 if AIO else 8
        SYNC = 1 if not AIO else 2
        """
    )
    assert same_code(
        out,
        """
        from aws_wrapper._compat import AIO


        class C:
            def setter(self, value: bool) -> None:
                self.set_x(value)

            def close(self, workers: list[Any]) -> None:
                for w in workers:
                    w.forget()
                self.sync_only()
                if self.closed:
                    two()
                else:
                    three()

            def only(self) -> None:
                pass

        WORKERS = 8
        SYNC = 1
        """,
    )
    assert "    # threads end on their own\n" in out  # comments survive, dedented
    assert "await conn.set_x" not in out


def test_async_only_helpers_are_unwrapped() -> None:
    out = sync(
        """
        async def f(cluster: Any, ev: AEvent) -> None:
            await arun_blocking(cluster.heal)
            x = await arun_blocking(clients.get, a, b)  # a comment
            await arun_blocking(partial(cluster.failover, reader, crash=True))
            await arun_blocking(lambda: 1)
            if not await await_event(ev, 1.5):
                await await_event(self.events[0], timeout)
        """
    )
    assert same_code(
        out,
        """
        def f(cluster: Any, ev: Event) -> None:
            cluster.heal()
            x = clients.get(a, b)
            cluster.failover(reader, crash=True)
            (lambda: 1)()
            if not ev.wait(1.5):
                self.events[0].wait(timeout)
        """,
    )
    assert "# a comment" in out


# -- docstrings and comments -------------------------------------------------------------------


def test_docstrings_and_comments_are_fixed_by_rule() -> None:
    out = sync(
        '''
        async def connect() -> AsyncAwsWrapperConnection:
            """Open a connection::

                conn = await aws_wrapper.aio.connect("host=...")
                async with conn.cursor() as cur:
                    await cur.execute("SELECT 1")

            See :class:`AsyncAwsWrapperConnection` and :mod:`aws_wrapper._async.auth`; the
            driver's connect function is ``psycopg.AsyncConnection.connect`` or
            ``mysql.connector.aio.connect``.
            """
            # `await call()` opens it, as in aws_wrapper.aio
            return await call()
        '''
    )
    doc = ast.get_docstring(ast.parse(out).body[0])  # type: ignore[arg-type]
    assert doc is not None
    assert 'conn = aws_wrapper.connect("host=...")' in doc
    assert "    with conn.cursor() as cur:" in doc
    assert '        cur.execute("SELECT 1")' in doc
    assert ":class:`AwsWrapperConnection`" in doc
    assert ":mod:`aws_wrapper._sync.auth`" in doc
    assert "``psycopg.Connection.connect``" in doc
    assert "``mysql.connector.connect``" in doc
    assert "# `call()` opens it, as in aws_wrapper\n" in out
