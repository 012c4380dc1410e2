"""Helpers of the suite run: our dialects are judged as the stock dialects they subclass.

SQLAlchemy's suite names drivers in two places, which a third-party dialect's driver name
(``aws_wrapper_psycopg``, ...) does not match:

- the requirements (``skip_if("+pymysql")``, ``fails_on("mariadb+mysqlconnector")``, ...):
  :func:`patch_spec_predicate` evaluates them with the stock driver's name, so our dialects get
  the same skips and expected failures as the driver they subclass;
- ``ServerSideCursorsTest._is_server_side``, which tells a server-side cursor by the driver's
  name and the driver's cursor class: :func:`patch_is_server_side` runs the stock driver's check
  on the driver's cursor under aws_wrapper's (``driver_cursor``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def stock_driver(dialect: Any) -> str | None:
    """The driver name of the SQLAlchemy dialect ours subclasses (``psycopg``, ``pymysql``,
    ``aiomysql``, ``mysqlconnector``), or None for a stock dialect."""
    if not str(getattr(dialect, "driver", "")).startswith("aws_wrapper_"):
        return None
    for cls in type(dialect).__mro__:
        if cls.__module__.startswith("sqlalchemy.dialects.") and "driver" in vars(cls):
            return str(vars(cls)["driver"])
    return None


class AsStock:
    """A view of an object with some attributes replaced."""

    def __init__(self, target: Any, **overrides: Any) -> None:
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def patch_spec_predicate() -> None:
    from sqlalchemy.testing import exclusions

    original: Callable[..., Any] = exclusions.SpecPredicate.__call__

    def __call__(self: exclusions.SpecPredicate, config: Any) -> Any:
        engine = getattr(config, "db", None)
        stock = stock_driver(engine.dialect) if engine is not None else None
        if stock is None:
            return original(self, config)
        return original(self, AsStock(config, db=AsStock(engine, driver=stock)))

    exclusions.SpecPredicate.__call__ = __call__  # type: ignore[method-assign]


def patch_is_server_side(test_class: Any) -> None:
    """``test_class``: ``ServerSideCursorsTest`` (imported by the test module, at collection:
    SQLAlchemy's suite must not be imported before its plugin is configured)."""
    original: Callable[..., Any] = test_class._is_server_side

    def _is_server_side(self: Any, cursor: Any) -> Any:
        stock = stock_driver(self.engine.dialect)
        if stock is None:
            return original(self, cursor)
        dialect = AsStock(self.engine.dialect, driver=stock)
        as_stock = AsStock(self, engine=AsStock(self.engine, dialect=dialect))
        return original(as_stock, getattr(cursor, "driver_cursor", cursor))

    test_class._is_server_side = _is_server_side
