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
    mark_error,
    operation_name,
)

try:  # the telemetry link is only made when the API is installed (aws_wrapper.telemetry)
    from opentelemetry.context import attach as _attach
    from opentelemetry.context import detach as _detach
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace import set_span_in_context as _set_span_in_context
except ImportError:  # pragma: no cover - the module is imported only with the API
    SpanKind = None  # type: ignore[assignment,misc]

from ..plugin import BasePlugin
from ..protocols import CONNECT, Call, ConnectCall, DriverConnection, PluginService

_FIXED_OPERATIONS = {
    "Connection.commit": "COMMIT",
    "Connection.rollback": "ROLLBACK",
    "Cursor.callproc": "CALL",
}
_STATEMENTS = frozenset({"Cursor.execute", "Cursor.executemany"})
_MAX_SETS = 256  # attribute sets kept per connection (by statement text)
_CLIENT = SpanKind.CLIENT if SpanKind is not None else None


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
        self._attrs: dict[str, Any] | None = None
        self._sets: dict[tuple[str, Any], tuple[str, dict[str, Any], dict[str, Any]]] = {}

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
        if attrs is not self._attrs:  # a new host (or dialect): new attribute sets
            self._attrs = attrs
            self._sets = {}
        query = args[0] if method in _STATEMENTS and args else None
        # kept by statement text (a str, or none); other queries (bytes, psycopg's
        # sql.Composed) are looked at anew each time
        found = self._sets.get((method, query)) if query is None or type(query) is str else None
        if found is None:
            found = self._attribute_sets(method, query, attrs)
        name, span_attrs, metric = found
        instruments = tel.instruments
        if tel.toplevel:  # a trace of its own, linked to the caller's span: the general way
            scope: Any = tel.span(name, span_attrs, client=True, top=True)
            span = scope.__enter__()
            token = None
        else:  # nested (the common case): the span made current by hand, cheaper
            scope = None
            span = tel.tracer.start_span(name, kind=_CLIENT, attributes=span_attrs)
            token = _attach(_set_span_in_context(span))
        previous = telemetry.call_span
        telemetry.call_span = span
        begin = time.perf_counter()
        try:
            return await call()
        except BaseException as e:
            if instruments is not None:
                kind = type(e)
                metric = {**metric, ERROR_TYPE: f"{kind.__module__}.{kind.__qualname__}"}
            if scope is not None:
                scope.__exit__(type(e), e, e.__traceback__)
                scope = None
            else:
                mark_error(span, e)
            raise
        finally:
            if instruments is not None:
                instruments.operation_duration.record(time.perf_counter() - begin, metric)
            telemetry.call_span = previous
            if scope is not None:
                scope.__exit__(None, None, None)
            elif token is not None:
                _detach(token)
                span.end()

    def _attribute_sets(
        self, method: str, query: Any, attrs: dict[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The span name, span attributes and metric attributes of a call (kept for the
        connection's host: an application runs few distinct statements, as a rule)."""
        if method in _STATEMENTS:
            operation = operation_name(query)
        else:
            operation = _FIXED_OPERATIONS.get(method)
        extra: dict[str, Any] = {METHOD: method}
        if operation is not None:
            extra[DB_OPERATION] = operation
        if self.tel.query_text and isinstance(query, str):
            extra[DB_QUERY_TEXT] = query
        metric = {**attrs, DB_OPERATION: operation} if operation is not None else attrs
        found = (operation or attrs[DB_SYSTEM], {**attrs, **extra}, metric)
        if type(query) is str or query is None:
            if len(self._sets) >= _MAX_SETS:
                self._sets.clear()
            self._sets[(method, query)] = found
        return found
