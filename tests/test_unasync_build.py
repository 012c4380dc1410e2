"""The generator of the sync tree: its output, its checks, and check mode."""

from __future__ import annotations

import shutil
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


def test_committed_sync_tree_is_current(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ub.main(["--check", "--root", str(repo)]) == 0
    assert "up to date" in capsys.readouterr().out


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


def test_output_is_sync_and_marked(repo: Path) -> None:
    text = (repo / "src/aws_wrapper/_sync/connection.py").read_text()
    assert text.startswith("# WARNING: generated file, DO NOT EDIT.")
    assert "src/aws_wrapper/_async/connection.py" in text.splitlines()[0]
    assert "class AwsWrapperConnection:" in text
    assert "async def" not in text
    assert not ub._check_names(Path("connection.py"), text)  # no async/await tokens left
    assert "AIO_TWIN" in text


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


def test_unused_table_entries_fail(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(ub.REPLACEMENTS, "a_seam_nobody_uses", "x")
    assert ub.main(["--check", "--root", str(repo)]) == 1
    assert "a_seam_nobody_uses" in capsys.readouterr().err


def test_async_prefix_is_stripped_not_renamed() -> None:
    rule = ub._Rule("a", "b")
    assert rule._unasync_name("AsyncAwsWrapperConnection") == "AwsWrapperConnection"
    assert rule._unasync_name("Asynchronous") == "Asynchronous"
    assert rule._unasync_name("asleep") == "sleep"
