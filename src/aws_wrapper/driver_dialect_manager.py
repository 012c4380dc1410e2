"""aws-advanced-python-wrapper's ``driver_dialect_manager`` module: install a custom driver
dialect with ``DriverDialectManager.set_custom_dialect(dialect)``; every connection whose
connect function it accepts then uses it (see :mod:`aws_wrapper.custom_dialects`)."""

from __future__ import annotations

from typing import Any

from aws_wrapper import custom_dialects


class DriverDialectManager:
    """The peer's registration of a custom driver dialect."""

    @staticmethod
    def set_custom_dialect(dialect: Any) -> None:
        """Use ``dialect`` (an aws_wrapper driver dialect of the world it serves, or a class
        taking the connect function) for connections whose connect function it accepts."""
        custom_dialects.set_driver_dialect(dialect)

    @staticmethod
    def get_custom_dialect() -> Any:
        return custom_dialects.get_driver_dialect()

    @staticmethod
    def reset_custom_dialect() -> None:
        custom_dialects.set_driver_dialect(None)


__all__ = ["DriverDialectManager"]
