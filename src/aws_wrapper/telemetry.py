"""Telemetry: OpenTelemetry traces and metrics (``enable_telemetry``; see docs/telemetry.md).

Only the OpenTelemetry *API* is used (the ``telemetry`` extra: ``opentelemetry-api``): spans
and instruments go to whatever tracer and meter providers the application configured (the
SDK with an OTLP exporter, the AWS Distro for OpenTelemetry, ...); the library never sets up
a provider or an exporter itself. Without a configured provider the API's no-op one drops
everything.

Both worlds share this module: a span is a context manager that works the same around
``await`` (the context lives in the task's contextvars) and in blocking code.

Nothing here runs on a connection's per-call path unless telemetry is on for it: the
connection then gets the ``telemetry`` plugin as its outermost chain link
(``aws_wrapper._async.plugins.telemetry``); with it off, no plugin, no chain, no check.
Rare events (failover, EFM abort, read/write switch, token fetch, topology, blue/green)
read ``service.telemetry`` (None when off) where they happen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from aws_wrapper.errors import PropertyError
from aws_wrapper.peer_properties import (
    ENABLE_TELEMETRY,
    TELEMETRY_FAILOVER_ADDITIONAL_TOP_TRACE,
    TELEMETRY_METRICS_BACKEND,
    TELEMETRY_PLUGIN_SPANS,
    TELEMETRY_QUERY_TEXT,
    TELEMETRY_SUBMIT_TOPLEVEL,
    TELEMETRY_TRACES_BACKEND,
)
from aws_wrapper.properties import Properties

if TYPE_CHECKING:
    from aws_wrapper.hostinfo import HostInfo

logger = logging.getLogger("aws_wrapper")

INSTRUMENTATION_NAME = "aws_wrapper"

# attribute names (OpenTelemetry semantic conventions, and ours under aws_wrapper.)
DB_SYSTEM = "db.system.name"
DB_NAMESPACE = "db.namespace"
DB_OPERATION = "db.operation.name"
DB_QUERY_TEXT = "db.query.text"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
METHOD = "aws_wrapper.method"
PLUGIN = "aws_wrapper.plugin"
CLUSTER_ID = "aws_wrapper.cluster_id"

INSTALL_HINT = "pip install aws-wrapper[telemetry]"

# span names
CONNECT_SPAN = "connect"
FAILOVER_SPAN = "aws_wrapper.failover"
EFM_ABORT_SPAN = "aws_wrapper.efm.abort"
TOPOLOGY_REFRESH_SPAN = "aws_wrapper.topology.refresh"
TOPOLOGY_PANIC_SPAN = "aws_wrapper.topology.panic"
RW_SWITCH_SPAN = "aws_wrapper.read_write.switch"
TOKEN_FETCH_SPAN = "aws_wrapper.auth.fetch"
BLUE_GREEN_PHASE_SPAN = "aws_wrapper.blue_green.phase"
COPY_PREFIX = "copy: "


class _NullSpan:
    """What a span is when telemetry is off: attributes set on it go nowhere."""

    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        return None

    def get_span_context(self) -> Any:
        return None


NULL_SPAN = _NullSpan()
_NULL: AbstractContextManager[Any] = nullcontext(NULL_SPAN)


def _otel() -> Any:
    """The OpenTelemetry API modules, or a clear error naming the extra to install."""
    try:
        from opentelemetry import context, metrics, trace
    except ImportError as e:
        raise PropertyError(
            "property 'enable_telemetry': telemetry needs the OpenTelemetry API, which is not "
            "installed: " + INSTALL_HINT,
            "enable_telemetry",
        ) from e
    return trace, metrics, context


def _backend(props: Properties, prop: Any, allowed: tuple[str, ...]) -> str:
    value = props.get(prop)
    if value is None:
        return "OTLP"
    upper = str(value).strip().upper()
    if upper not in allowed:
        raise PropertyError(
            f"property '{prop.name}': {value!r} is not one of " + ", ".join(allowed), prop.name
        )
    return upper


class Instruments:
    """The process's counters and histograms (made once, on the global meter provider)."""

    def __init__(self, meter: Any) -> None:
        self.failover_attempts = meter.create_counter(
            "aws_wrapper.failover.attempts", unit="{failover}", description="Failovers started"
        )
        self.failover_successes = meter.create_counter(
            "aws_wrapper.failover.successes",
            unit="{failover}",
            description="Failovers that reached a new connection",
        )
        self.failover_failures = meter.create_counter(
            "aws_wrapper.failover.failures",
            unit="{failover}",
            description="Failovers that found no host in time",
        )
        self.efm_aborts = meter.create_counter(
            "aws_wrapper.efm.aborts",
            unit="{call}",
            description="Calls aborted by host_monitoring_v2 (the host stopped answering)",
        )
        self.connect_time = meter.create_histogram(
            "db.client.connection.create_time",
            unit="s",
            description="The time it took to open a connection (through the plugins)",
        )
        self.pool_wait = meter.create_histogram(
            "db.client.connection.wait_time",
            unit="s",
            description="The time it took to obtain a connection from a pool",
        )
        self.operation_duration = meter.create_histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of database client operations",
        )


_instruments: Instruments | None = None
_lock = threading.Lock()


class Telemetry:
    """Telemetry settings of connections opened with the same properties, and the tracer and
    instruments they use. Made by :func:`from_properties` (None when telemetry is off)."""

    __slots__ = (
        "_context",
        "_trace",
        "failover_top",
        "instruments",
        "plugin_spans",
        "query_text",
        "toplevel",
        "tracer",
        "traces",
    )

    def __init__(
        self,
        traces: str,
        metrics: str,
        *,
        toplevel: bool = False,
        failover_top: bool = False,
        plugin_spans: bool = False,
        query_text: bool = False,
    ) -> None:
        global _instruments
        trace, metrics_api, context = _otel()
        self._trace = trace
        self._context = context
        self.traces = traces != "NONE"
        self.toplevel = toplevel
        self.failover_top = failover_top
        self.plugin_spans = plugin_spans and self.traces
        self.query_text = query_text
        from aws_wrapper._version import __version__

        # the proxies the API hands out follow a provider set later (set_tracer_provider)
        self.tracer: Any = (
            trace.get_tracer(INSTRUMENTATION_NAME, __version__)
            if self.traces
            else trace.NoOpTracer()
        )
        self.instruments: Instruments | None = None
        if metrics != "NONE":
            with _lock:
                if _instruments is None:
                    _instruments = Instruments(
                        metrics_api.get_meter(INSTRUMENTATION_NAME, __version__)
                    )
            self.instruments = _instruments
        if traces == "XRAY":
            _check_xray(trace)

    @property
    def in_use(self) -> bool:
        return self.traces or self.instruments is not None

    # -- spans ---------------------------------------------------------------------------

    def current_span(self) -> Any:
        return self._trace.get_current_span()

    def context_of(self, span: Any) -> Any:
        """A context whose current span is ``span`` (a parent for spans of other tasks or
        threads)."""
        return self._trace.set_span_in_context(span)

    @contextmanager
    def span(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        *,
        client: bool = False,
        top: bool = False,
        root: bool = False,
        parent: Any = None,
        links: Any = None,
        ok: tuple[type[BaseException], ...] = (),
    ) -> Iterator[Any]:
        """A span around the block, current inside it.

        ``top``: a top-level span (a new trace, linked to the current span) when
        ``telemetry_submit_toplevel`` is on, else nested. ``root``: always a new trace (monitor
        work). ``parent``: a span to nest under instead of the current one (a call in flight,
        seen from a monitor). An exception leaving the block marks the span an error with
        ``error.type`` (its class; never its text, which may carry values), unless it is one
        of ``ok`` (an outcome, such as FailoverSuccessError)."""
        trace = self._trace
        context = None
        if parent is not None:
            context = trace.set_span_in_context(parent)
        elif root or (top and self.toplevel):
            current = trace.get_current_span().get_span_context()
            if current.is_valid:
                links = [*(links or ()), trace.Link(current)]
            context = self._context.Context()
        kind = trace.SpanKind.CLIENT if client else trace.SpanKind.INTERNAL
        with self.tracer.start_as_current_span(
            name,
            context=context,
            kind=kind,
            attributes=attributes,
            links=links,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as e:
                if not isinstance(e, ok):
                    mark_error(span, e)
                raise

    def start_root(self, name: str, attributes: Mapping[str, Any], links: Any = None) -> Any:
        """A span (not made current) that starts a trace of its own: monitor work that lasts
        across rounds (panic mode); the caller ends it."""
        return self.tracer.start_span(
            name, context=self._context.Context(), attributes=attributes, links=links
        )

    def link_to_current(self) -> Any:
        """A link to the current span (None: there is none)."""
        current = self._trace.get_current_span().get_span_context()
        return self._trace.Link(current) if current.is_valid else None

    def copy_as_top(self, name: str, span: Any, attributes: Mapping[str, Any], start: int) -> None:
        """``telemetry_failover_additional_top_trace``: a copy of ``span`` (ended) as the root
        of a trace of its own, linked to the original, with the same attributes and times."""
        trace = self._trace
        copy = self.tracer.start_span(
            COPY_PREFIX + name,
            context=self._context.Context(),
            attributes={**attributes, "aws_wrapper.source_trace_id": _trace_id(span)},
            links=[trace.Link(span.get_span_context())],
            start_time=start,
        )
        copy.end()


def mark_error(span: Any, error: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    kind = type(error)
    span.set_attribute(ERROR_TYPE, f"{kind.__module__}.{kind.__qualname__}")
    span.set_status(Status(StatusCode.ERROR, kind.__name__))


def _trace_id(span: Any) -> str:
    return format(span.get_span_context().trace_id, "032x")


_xray_checked = False


def _check_xray(trace: Any) -> None:
    """XRAY traces need X-Ray trace ids (the AWS id generator on the SDK's tracer provider)
    and the X-Ray propagator: both are the application's to configure (see
    docs/telemetry.md); say once when they are not."""
    global _xray_checked
    if _xray_checked:
        return
    _xray_checked = True
    provider = trace.get_tracer_provider()
    generator = getattr(provider, "id_generator", None)
    name = type(generator).__name__ if generator is not None else None
    if name != "AwsXRayIdGenerator":
        logger.warning(
            "telemetry_traces_backend=XRAY: the tracer provider does not use the AWS X-Ray id "
            "generator (%s); configure TracerProvider(id_generator=AwsXRayIdGenerator()) from "
            "opentelemetry-sdk-extension-aws (see docs/telemetry.md)",
            name or type(provider).__name__,
        )


# -- settings per connection ------------------------------------------------------------------

_settings: dict[tuple[Any, ...], Telemetry] = {}
_monitor_telemetry: Telemetry | None = None


def from_properties(props: Properties) -> Telemetry | None:
    """The telemetry of a connection opened with ``props`` (None: off, or both backends
    NONE). Raises ConfigurationError when the OpenTelemetry API is missing."""
    global _monitor_telemetry
    if not props.get(ENABLE_TELEMETRY):
        return None
    traces = _backend(props, TELEMETRY_TRACES_BACKEND, ("OTLP", "XRAY", "NONE"))
    metrics = _backend(props, TELEMETRY_METRICS_BACKEND, ("OTLP", "XRAY", "NONE"))
    key = (
        traces,
        metrics,
        props.get(TELEMETRY_SUBMIT_TOPLEVEL),
        props.get(TELEMETRY_FAILOVER_ADDITIONAL_TOP_TRACE),
        props.get(TELEMETRY_PLUGIN_SPANS),
        props.get(TELEMETRY_QUERY_TEXT),
    )
    found = _settings.get(key)
    if found is None:
        found = Telemetry(
            traces,
            metrics,
            toplevel=key[2],
            failover_top=key[3],
            plugin_spans=key[4],
            query_text=key[5],
        )
        with _lock:
            found = _settings.setdefault(key, found)
    if not found.in_use:
        return None
    _monitor_telemetry = found
    return found


def for_monitors() -> Telemetry | None:
    """The telemetry of the process's shared monitors (topology, blue/green, pools): that of
    the last connection opened with telemetry on (None: none was)."""
    return _monitor_telemetry


def reset() -> None:
    """Forget the settings made so far (tests)."""
    global _monitor_telemetry, _instruments, _xray_checked
    _settings.clear()
    _xray_checked = False
    _monitor_telemetry = None
    _instruments = None


def record_pool_wait(pool: str, seconds: float, *, timed_out: bool = False) -> None:
    """A wait for a pooled connection (``db.client.connection.wait_time``)."""
    tel = _monitor_telemetry
    if tel is None or tel.instruments is None:
        return
    attrs = {"db.client.connection.pool.name": pool}
    if timed_out:
        attrs[ERROR_TYPE] = "aws_wrapper.errors.PoolTimeoutError"
    tel.instruments.pool_wait.record(seconds, attrs)


def monitor_span(name: str, attributes: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """A root span of monitor work (a no-op context when no connection enabled telemetry)."""
    tel = _monitor_telemetry
    if tel is None:
        return _NULL
    return tel.span(name, attributes, root=kwargs.pop("root", True), **kwargs)


# -- a connection's telemetry -----------------------------------------------------------------


def system_name(engine: str, dialect_code: str) -> str:
    """``db.system.name`` for a driver engine and a dialect code."""
    if "maria" in dialect_code:
        return "mariadb"
    return "postgresql" if engine == "postgresql" else "mysql"


class ConnectionTelemetry:
    """One connection's telemetry: the settings, and the attributes of its spans (the
    database system, namespace and the current host's address). ``service.telemetry``."""

    __slots__ = ("_attrs", "_dialect", "_host", "call_span", "namespace", "service", "tel")

    def __init__(self, tel: Telemetry, service: Any) -> None:
        self.tel = tel
        self.service = service
        driver = service.props.driver
        namespace = driver.get("dbname") or driver.get("database") or driver.get("db")
        self.namespace = str(namespace) if namespace else None
        self._host: Any = None
        self._dialect: Any = None
        self._attrs: dict[str, Any] = {}
        self.call_span: Any = None
        """The span of the call in flight (the parent of an EFM abort seen by a monitor)."""

    def attributes(self, host: HostInfo | None = None) -> dict[str, Any]:
        """The database attributes, for ``host`` (default: the current host)."""
        service = self.service
        if host is None:
            host = service.current_host or service.initial_host
        dialect = service.dialect
        if host is self._host and dialect is self._dialect:
            return self._attrs
        attrs: dict[str, Any] = {
            DB_SYSTEM: system_name(service.driver_dialect.engine, dialect.code),
            SERVER_ADDRESS: host.host,
            SERVER_PORT: host.port,
        }
        if self.namespace:
            attrs[DB_NAMESPACE] = self.namespace
        self._host = host
        self._dialect = dialect
        self._attrs = attrs
        return attrs

    def span(
        self, name: str, extra: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> AbstractContextManager[Any]:
        attrs = self.attributes()
        if extra:
            attrs = {**attrs, **extra}
        return self.tel.span(name, attrs, **kwargs)


def span_of(
    telemetry: ConnectionTelemetry | None,
    name: str,
    extra: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> AbstractContextManager[Any]:
    """``telemetry.span(...)``, or a no-op context when telemetry is off (``None``)."""
    if telemetry is None:
        return _NULL
    return telemetry.span(name, extra, **kwargs)


def now_ns() -> int:
    return time.time_ns()


def operation_name(query: Any) -> str | None:
    """``db.operation.name`` of a statement: its first keyword (``SELECT``), upper-cased."""
    if isinstance(query, bytes):
        query = query.decode("utf-8", "replace")
    if not isinstance(query, str):
        return None  # psycopg's sql.Composed, ...: not without rendering it
    word = query.lstrip(" \t\r\n(").split(None, 1)
    if not word:
        return None
    head = word[0]
    end = 0
    while end < len(head) and (head[end].isalpha() or head[end] == "_"):
        end += 1
    return head[:end].upper() or None
