"""Shared helpers of the modules that mirror aws-advanced-python-wrapper's public modules
(``aws_wrapper.psycopg``, ``aws_wrapper.connection_provider``, ...): a user of that package
moves over by replacing ``aws_advanced_python_wrapper`` with ``aws_wrapper`` in imports.

These modules are faces: each name maps onto aws_wrapper's own implementation.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from aws_wrapper import dbapi, errors

PEER_PACKAGE = "aws_advanced_python_wrapper"

PEP249_NAMES: tuple[str, ...] = (
    *errors.PEP249_ERROR_NAMES,
    "Date",
    "Time",
    "Timestamp",
    "DateFromTicks",
    "TimeFromTicks",
    "TimestampFromTicks",
    "Binary",
    "STRING",
    "BINARY",
    "NUMBER",
    "DATETIME",
    "ROWID",
    "apilevel",
    "threadsafety",
    "paramstyle",
)
"""The PEP 249 module surface, in the peer's order (its ``__all__`` then adds ``connect``)."""


def pep249_surface() -> dict[str, Any]:
    """The PEP 249 module globals: aws_wrapper's exception classes, type objects,
    constructors and module constants."""
    here: dict[str, Any] = {}
    for name in PEP249_NAMES:
        source = errors if name in errors.PEP249_ERROR_NAMES else dbapi
        here[name] = getattr(source, name)
    return here


def driver_forwarder(module: str, driver_module: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) forwarding names the module does not define to the
    driver's DB-API module, as the peer's driver-bound modules do: SQLAlchemy's dialects read
    driver state from the module (``psycopg.adapters``, ``pq``, ``__version__``, ...)."""

    def __getattr__(name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        driver = importlib.import_module(driver_module)
        try:
            return getattr(driver, name)
        except AttributeError:
            raise AttributeError(f"module {module!r} has no attribute {name!r}") from None

    return __getattr__


def logger_name(name: str) -> str:
    """The aws_wrapper logger for a peer logger name (``aws_advanced_python_wrapper.x``
    -> ``aws_wrapper``: aws_wrapper logs under one logger); other names as given."""
    if name == PEER_PACKAGE or name.startswith(PEER_PACKAGE + "."):
        return "aws_wrapper"
    return name


def set_logger(
    name: str = "aws_wrapper", level: int = logging.DEBUG, format_string: str | None = None
) -> None:
    """Log ``name`` (default: aws_wrapper's logger) at ``level`` to standard output, as the
    peer's ``set_logger`` does: a stream handler with ``format_string`` (default: time,
    logger, function, level, thread and message) is added unless the logger has a stream
    handler already. Peer logger names (``aws_advanced_python_wrapper...``) name aws_wrapper's
    logger."""
    logger = logging.getLogger(logger_name(name))
    if any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        return
    if format_string is None:
        format_string = (
            "%(asctime)s.%(msecs)03d %(name)-12s:%(funcName)s [%(levelname)-8s] - "
            "%(threadName)s - %(message)s"
        )
    handler = logging.StreamHandler(stream=sys.stdout)
    handler.setFormatter(logging.Formatter(format_string))
    handler.setLevel(level)
    logger.setLevel(level)
    logger.addHandler(handler)


def props_view(props: Any) -> dict[str, Any]:
    """The peer's view of connection properties (one flat dict of driver parameters and
    wrapper properties) for callbacks written for the peer (pool configurator, pool mapping,
    accept-url function). ``props`` is aws_wrapper's :class:`~aws_wrapper.properties.Properties`
    (or already a mapping)."""
    driver = getattr(props, "driver", None)
    wrapper = getattr(props, "wrapper", None)
    if isinstance(driver, dict) and isinstance(wrapper, dict):
        return {**driver, **wrapper}
    return dict(props)


def conninfo_kwargs(conninfo: str) -> dict[str, str]:
    """``"host=h database=db user=u"`` (libpq's ``key=value`` form: values may be
    single-quoted, with ``\\'`` and ``\\\\`` escapes) as keyword arguments, for drivers that take
    keywords only: the peer's MySQL modules accept a conninfo string."""
    out: dict[str, str] = {}
    i, n = 0, len(conninfo)
    while i < n:
        while i < n and conninfo[i].isspace():
            i += 1
        if i >= n:
            break
        eq = conninfo.find("=", i)
        if eq < 0:
            raise errors.ConfigurationError(
                f"conninfo: expected key=value at {conninfo[i : i + 20]!r}"
            )
        key = conninfo[i:eq].strip()
        i = eq + 1
        while i < n and conninfo[i] in " \t":
            i += 1
        value: list[str] = []
        if i < n and conninfo[i] == "'":
            i += 1
            while i < n and conninfo[i] != "'":
                if conninfo[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(conninfo[i])
                i += 1
            if i >= n:
                raise errors.ConfigurationError(f"conninfo: unterminated quote in {key!r}")
            i += 1
        else:
            while i < n and not conninfo[i].isspace():
                value.append(conninfo[i])
                i += 1
        if not key or any(c.isspace() for c in key):
            raise errors.ConfigurationError(f"conninfo: bad key {key!r}")
        out[key] = "".join(value)
    return out
