"""The ``telemetry`` chain link: spans and metrics of connects and calls.

Not a plugin code of ``plugins=``: the wrapper connection installs it, outermost, when
``enable_telemetry`` is on (read once, at connect), and only then; with telemetry off a
connection has no such link and its calls do not run a single instruction of telemetry
(see :mod:`aws_wrapper.telemetry`).
"""

from __future__ import annotations

import time
from typing import Any

from aws_wrapper.hostinfo import HostInfo
from aws_wrapper.properties import Properties
from aws_wrapper.telemetry import (
    CONNECT_SPAN,
    DB_OPERATION,
    DB_QUERY_TEXT,
    DB_SYSTEM,
    ERROR_TYPE,
    METHOD,
    ConnectionTelemetry,
    Telemetry,
    operation_name,
)

from ..plugin import BasePlugin
from ..protocols import CONNECT, Call, ConnectCall, DriverConnection, PluginService

_FIXED_OPERATIONS = {
    "Connection.commit": "COMMIT",
    "Connection.rollback": "ROLLBACK",
    "Cursor.callproc": "CALL",
}
_STATEMENTS = frozenset({"Cursor.execute", "Cursor.executemany"})


def _is_mariadb(conn: DriverConnection) -> bool:
    """Whether a MySQL-protocol connection is to MariaDB (its version string says so)."""
    try:
        info = conn.get_server_info()
    except Exception:
        return False
    return isinstance(info, str) and "mariadb" in info.lower()


class TelemetryPlugin(BasePlugin):
    """Spans of connects and statement calls, connect time and operation duration."""

    is_telemetry = True

    subscribed_methods = frozenset(
        {
            CONNECT,
            "Cursor.execute",
            "Cursor.executemany",
            "Cursor.callproc",
            "Connection.commit",
            "Connection.rollback",
        }
    )

    def __init__(self, service: PluginService, props: Properties, tel: Telemetry) -> None:
        super().__init__(service, props)
        self.tel = tel
        self.telemetry = ConnectionTelemetry(tel, service)
        service.telemetry = self.telemetry

    async def connect(
        self, host: HostInfo, props: Properties, is_initial: bool, call: ConnectCall
    ) -> DriverConnection:
        telemetry = self.telemetry
        attrs = telemetry.attributes(host)
        instruments = self.tel.instruments
        start = time.perf_counter()
        error: str | None = None
        try:
            with self.tel.span(
                CONNECT_SPAN,
                {**attrs, "aws_wrapper.connect.initial": is_initial},
                client=True,
                top=is_initial,
            ) as span:
                conn = await call()
                if attrs[DB_SYSTEM] == "mysql" and _is_mariadb(conn):
                    # the dialect is told apart after the first connect: say it now
                    span.set_attribute(DB_SYSTEM, "mariadb")
                return conn
        except BaseException as e:
            error = f"{type(e).__module__}.{type(e).__qualname__}"
            raise
        finally:
            if instruments is not None:
                metric = attrs if error is None else {**attrs, ERROR_TYPE: error}
                instruments.connect_time.record(time.perf_counter() - start, metric)

    async def execute(self, method: str, target: object, args: tuple[Any, ...], call: Call) -> Any:
        telemetry = self.telemetry
        tel = self.tel
        attrs = telemetry.attributes()
        if method in _STATEMENTS:
            query = args[0] if args else None
            operation = operation_name(query)
            extra: dict[str, Any] = {METHOD: method}
            if operation is not None:
                extra[DB_OPERATION] = operation
            if tel.query_text and isinstance(query, str):
                extra[DB_QUERY_TEXT] = query
        else:
            operation = _FIXED_OPERATIONS.get(method)
            extra = {METHOD: method, DB_OPERATION: operation} if operation else {METHOD: method}
        instruments = tel.instruments
        start = time.perf_counter()
        error: str | None = None
        try:
            with tel.span(
                operation or attrs["db.system.name"], {**attrs, **extra}, client=True, top=True
            ) as span:
                previous = telemetry.call_span
                telemetry.call_span = span
                try:
                    return await call()
                finally:
                    telemetry.call_span = previous
        except BaseException as e:
            error = f"{type(e).__module__}.{type(e).__qualname__}"
            raise
        finally:
            if instruments is not None:
                metric = {**attrs}
                if operation is not None:
                    metric[DB_OPERATION] = operation
                if error is not None:
                    metric[ERROR_TYPE] = error
                instruments.operation_duration.record(time.perf_counter() - start, metric)
