"""The drivers of each world, for the behavioural test matrix: read from the table of drivers
(``aws_wrapper.drivers.DRIVERS``), so a driver added there is tested in both worlds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_wrapper.drivers import DRIVERS, connect_function

# async driver name -> its connect function, and the blocking twins
AsyncConnectFunctions: dict[str, Callable[..., Any]] = {
    d.name: connect_function(d.name, aio=True) for d in DRIVERS if d.aio is not None
}
ConnectFunctions: dict[str, Callable[..., Any]] = {
    d.name: connect_function(d.name, aio=False) for d in DRIVERS if d.sync is not None
}
ENGINES = {d.name: d.engine for d in DRIVERS}
