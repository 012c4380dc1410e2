"""Bad connect input fails before any connection is attempted, and never shows a secret.

Every driver (the ``driver`` fixture of conftest.py), both trees (tests/_sync/ is generated):
no password in an error's text, repr, args or exception chain, nor in the log at DEBUG; NaN,
infinite and absurd numeric properties are refused by the property registry, before the
driver is called.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aws_wrapper import aio as aw
from tests.drivers import ENGINES

SECRET = "S3cr3tPw9"


def chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or any(e is f for f in found):
            continue
        found.append(e)
        todo += [e.__cause__, e.__context__]
    return found


def assert_no_secret(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    for e in chain(error):
        for text in (str(e), repr(e), repr(e.args)):
            assert SECRET not in text, f"{type(e).__name__} shows the secret: {text}"
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.getMessage()
        assert SECRET not in repr(record.args), record.args
    assert SECRET not in caplog.text


def bad_inputs(driver: str) -> list[tuple[str, dict[str, Any]]]:
    """(conninfo, keyword arguments) that must fail without showing SECRET."""
    cases: list[tuple[str, dict[str, Any]]] = [
        ("", {"host": "db.example.com", "port": f"5432password={SECRET}"}),
        ("", {"host": "db.example.com", "idp_password": SECRET.encode()}),
    ]
    if ENGINES[driver] == "postgresql":
        cases += [
            (f"postgresql://app:{SECRET}@db.example.com:54x2/app", {}),
            (f"postgresql://app:{SECRET}/x@db.example.com/app", {}),  # unescaped '/'
            (f"postgres://app:{SECRET}@[db.example.com/app", {}),  # unclosed IPv6 bracket
            (f"mysql://app:{SECRET}@db.example.com/app", {}),  # no key=value pairs
            (f"host=db.example.com password {SECRET}", {}),  # '=' missing
            (f"host=db.example.com password{SECRET}=x", {}),  # run into the key
            (f"host=db.example.com password{SECRET}='x", {}),  # ... and unterminated
            (f"host=db.example.com port=5432password={SECRET}", {}),  # a space missing
        ]
    else:
        cases += [(f"mysql://app:{SECRET}@db.example.com/app", {})]  # no conninfo for MySQL
    return cases


async def test_bad_input_never_shows_a_secret(
    driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for conninfo, kwargs in bad_inputs(driver):
        with pytest.raises(aw.Error) as info:
            await aw.connect(conninfo, driver=driver, plugins="failover_v2", **kwargs)
        assert isinstance(info.value, aw.InterfaceError), repr(info.value)
        assert_no_secret(info.value, caplog)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("failover_timeout_sec", float("nan")),
        ("failover_timeout_sec", "nan"),
        ("failover_timeout_sec", float("inf")),
        ("failover_timeout_sec", "-Infinity"),
        ("topology_refresh_ms", 10**30),
        ("topology_refresh_ms", "1000000000000000000000000000000"),
        ("topology_refresh_ms", float("nan")),
    ],
)
async def test_non_finite_and_absurd_numbers_are_refused_before_connecting(
    driver: str, name: str, value: object
) -> None:
    calls: list[dict[str, Any]] = []
    props: dict[str, Any] = {name: value}

    async def connect_function(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        raise ConnectionRefusedError("the test's connect function")

    with pytest.raises(aw.PropertyError) as info:
        await aw.connect(
            driver=connect_function,
            wrapper_driver_dialect=driver,
            host="127.0.0.1",
            port=5432,
            user="app",
            password="x",
            plugins="failover_v2",
            **props,
        )
    assert info.value.prop == name
    assert name in str(info.value) and " to " in str(info.value)  # names the accepted range
    assert calls == [], "the driver was called before the properties were checked"
