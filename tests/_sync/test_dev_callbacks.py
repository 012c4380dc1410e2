# WARNING: generated file, DO NOT EDIT. Source: tests/_async/test_dev_callbacks.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The ``dev`` plugin through aws-advanced-python-wrapper's ``ExceptionSimulatorManager`` API:
one-shot errors on the next connect or named method, and callbacks that choose the error, on
the plain servers of every driver, both trees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aws_wrapper import sync as aw
from aws_wrapper._sync.plugins.dev import ExceptionSimulatorManager, simulator
from aws_wrapper.properties import Properties


@pytest.fixture(autouse=True)
def clean_simulator() -> Iterator[None]:
    simulator.clear()
    yield
    simulator.clear()


class ConnectCallback:
    """Records every connect; refuses the ``fail_at``-th one."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.calls: list[tuple[Any, ...]] = []

    def get_exception_to_raise(
        self,
        target_driver_func: Any,
        driver_dialect: Any,
        host_info: Any,
        props: Any,
        is_initial_connection: bool,
        connect_func: Any,
    ) -> Any:
        self.calls.append(
            (target_driver_func, driver_dialect, host_info, props, is_initial_connection)
        )
        assert callable(connect_func)
        if len(self.calls) == self.fail_at:
            return ConnectionRefusedError("refused by the callback")
        return None


class MethodCallback:
    """Records every call; raises on ``Connection.commit``."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str, tuple[Any, ...]]] = []

    def get_exception_to_raise(
        self, target: Any, method_name: str, execute_func: Any, *args: Any, **kwargs: Any
    ) -> Any:
        assert callable(execute_func)
        self.calls.append((target, method_name, args))
        if method_name == "Connection.commit":
            return RuntimeError("commit refused by the callback")
        return None


def test_raise_exception_on_next_connect(driver: str, db_params: dict[str, Any]) -> None:
    error = RuntimeError("simulated connect failure")
    ExceptionSimulatorManager.raise_exception_on_next_connect(error)
    with pytest.raises(aw.ConnectError, match="simulated connect failure") as info:
        aw.connect(driver=driver, plugins="dev", **db_params)
    assert info.value.__cause__ is error
    with aw.connect(driver=driver, plugins="dev", **db_params) as conn:  # one shot
        cur = conn.execute("SELECT 1")
        assert cur.fetchone() == (1,)


def test_raise_exception_on_a_named_method(driver: str, db_params: dict[str, Any]) -> None:
    with aw.connect(driver=driver, plugins="dev", **db_params) as conn:
        error = ValueError("simulated commit failure")
        ExceptionSimulatorManager.raise_exception_on_next_method(error, "Connection.commit")
        cur = conn.execute("SELECT 1")  # another method: not raised
        assert cur.fetchone() == (1,)
        with pytest.raises(ValueError, match="simulated commit failure"):
            conn.commit()
        conn.commit()  # one shot
        ExceptionSimulatorManager.raise_exception_on_next_method(RuntimeError("any"))
        with pytest.raises(RuntimeError, match="any"):
            conn.execute("SELECT 1")
    with pytest.raises(ValueError, match="method_name"):
        ExceptionSimulatorManager.raise_exception_on_next_method(error, "")


def test_connect_callback_gets_the_connect_and_chooses_the_error(
    driver: str, db_params: dict[str, Any]
) -> None:
    callback = ConnectCallback(fail_at=2)
    ExceptionSimulatorManager.set_connect_callback(callback)
    with aw.connect(driver=driver, plugins="dev", **db_params) as conn:
        cur = conn.execute("SELECT 1")
        assert cur.fetchone() == (1,)
        target, dialect, host, props, initial = callback.calls[0]
        assert dialect is conn.driver_dialect
        assert target == conn.driver_dialect.connect
        assert host.host == db_params["host"] and host.port == int(db_params["port"])
        assert isinstance(props, Properties) and props.driver["user"] == db_params["user"]
        assert initial is True
    with pytest.raises(aw.ConnectError, match="refused by the callback"):
        aw.connect(driver=driver, plugins="dev", **db_params)
    with aw.connect(driver=driver, plugins="dev", **db_params):
        pass  # the callback stays, and lets the third connect through
    assert len(callback.calls) == 3
    ExceptionSimulatorManager.set_connect_callback(None)
    with aw.connect(driver=driver, plugins="dev", **db_params):
        pass
    assert len(callback.calls) == 3


def test_method_callback_gets_the_call_and_chooses_the_error(
    driver: str, db_params: dict[str, Any]
) -> None:
    callback = MethodCallback()
    with aw.connect(driver=driver, plugins="dev", **db_params) as conn:
        ExceptionSimulatorManager.set_method_callback(callback)
        cur = conn.cursor()
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)
        executes = [c for c in callback.calls if c[1] == "Cursor.execute"]
        assert executes and executes[0][0] is cur and executes[0][2][0] == "SELECT 2"
        with pytest.raises(RuntimeError, match="commit refused by the callback"):
            conn.commit()
        assert callback.calls[-1][0] is conn and callback.calls[-1][1] == "Connection.commit"
        # a one-shot error for another method holds the callback back until it is raised
        ExceptionSimulatorManager.raise_exception_on_next_method(
            RuntimeError("rollback"), "Connection.rollback"
        )
        seen = len(callback.calls)
        cur.execute("SELECT 3")
        cur.fetchall()
        assert len(callback.calls) == seen
        with pytest.raises(RuntimeError, match="rollback"):
            conn.rollback()
        ExceptionSimulatorManager.set_method_callback(None)
        conn.commit()


def test_the_module_faces() -> None:
    from aws_wrapper import developer_plugin as face

    assert face.ExceptionSimulatorManager is ExceptionSimulatorManager
