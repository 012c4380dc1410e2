"""The table of drivers (``aws_wrapper.drivers.DRIVERS``): it agrees with the dialects and with
pyproject.toml's extras, and a missing driver package raises an error naming its extra."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

import aws_wrapper as aw
from aws_wrapper.drivers import (
    DRIVERS,
    Driver,
    adriver_dialect_for,
    connect_function,
    dbapi_module,
    driver_dialect_for,
)

ROOT = Path(__file__).resolve().parent.parent
FACES = [(d, aio) for d in DRIVERS for aio in (True, False) if d.face(aio) is not None]


def _id(case: tuple[Driver, bool]) -> str:
    return f"{case[0].name}-{'aio' if case[1] else 'sync'}"


def test_extras_are_pyprojects() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for driver in DRIVERS:
        assert driver.extra in extras, driver.name


@pytest.mark.parametrize("case", FACES, ids=_id)
def test_dialects_match_the_table(case: tuple[Driver, bool]) -> None:
    driver, aio = case
    face = driver.face(aio)
    assert face is not None
    find = adriver_dialect_for if aio else driver_dialect_for
    dialect = find(driver.name)
    assert dialect.engine == driver.engine
    assert type(dialect).__name__ == face.dialect.rpartition(":")[2]
    assert type(dialect).__module__.startswith(
        "aws_wrapper._async." if aio else "aws_wrapper._sync."
    )
    func = connect_function(driver.name, aio)
    # the default connect function is recognised as the same driver's
    assert type(find(func)) is type(dialect)
    assert dbapi_module(driver.name, aio).__name__ == face.module


def _hide(monkeypatch: pytest.MonkeyPatch, driver: Driver, aio: bool) -> None:
    """Make the driver's packages look uninstalled (an import of them fails), and forget the
    dialect module that imported them."""
    face = driver.face(aio)
    assert face is not None
    for module in (*driver.requires, face.module):
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, face.dialect.partition(":")[0], raising=False)


@pytest.mark.parametrize("case", FACES, ids=_id)
def test_missing_driver_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, case: tuple[Driver, bool]
) -> None:
    driver, aio = case
    _hide(monkeypatch, driver, aio)
    find = adriver_dialect_for if aio else driver_dialect_for
    with pytest.raises(aw.UnsupportedDriverError) as caught:
        find(driver.name)
    assert isinstance(caught.value, aw.ConfigurationError)
    message = str(caught.value)
    assert f"pip install 'aws-wrapper[{driver.extra}]'" in message
    assert driver.name in message
    with pytest.raises(aw.UnsupportedDriverError, match=rf"aws-wrapper\[{driver.extra}\]"):
        dbapi_module(driver.name, aio)


def test_missing_aiomysql_names_aiomysql(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiomysql's extra, not PyMySQL's (the blocking twin of its dialect)."""
    monkeypatch.setitem(sys.modules, "aiomysql", None)
    monkeypatch.delitem(sys.modules, "aws_wrapper._async.drivers.pymysql", raising=False)
    with pytest.raises(aw.UnsupportedDriverError) as caught:
        adriver_dialect_for("aiomysql")
    assert str(caught.value) == (
        "the aiomysql driver is not installed (no module named 'aiomysql'); "
        "install it with: pip install 'aws-wrapper[aiomysql]'"
    )


def test_other_import_errors_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """An import error of anything but the driver's own packages is not reported as a missing
    driver (it is a bug to see)."""
    driver = next(d for d in DRIVERS if d.name == "psycopg")
    with pytest.raises(ModuleNotFoundError):
        driver.load("aws_wrapper_no_such_module:x")
