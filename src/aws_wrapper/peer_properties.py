"""The connection properties of aws-advanced-python-wrapper 3.1.0 that aws_wrapper has no
property of its own for, accepted so that a migrated configuration runs (docs/migration.md
lists every one of the peer's properties with what it does here).

Three kinds:

* **translated** per driver (``socket_timeout``, ``tcp_keepalive*``): the driver dialects read
  them and pass each driver its own parameters (libpq ``keepalives*``, PyMySQL and
  mysql-connector ``read_timeout``/``write_timeout``, socket options on the MySQL drivers'
  sockets); where a driver has nothing that applies, one INFO line says so;
* **mapped** onto a property of ours in other units (``failover_cluster_topology_refresh_rate_sec``
  sets ``cluster_topology_high_refresh_rate_ms``) or under another name
  (``initial_connection_host_selector_strategy``);
* **accepted with a notice**: the peer's features aws_wrapper does not have (two global
  database properties, the host availability strategy, failover v1's tuning), checked for
  their type and otherwise ignored, with one INFO line per process and property saying what
  applies instead.

Imported by :mod:`aws_wrapper.properties`, so these names are known wherever properties are.
"""

from __future__ import annotations

from typing import Any, cast

from .properties import DAY_MS, DAY_S, MAX_COUNT, Prop, register

_OptStr = cast(type[str | None], str)
_OptInt = cast(type[int | None], int)
_OptFloat = cast(type[float | None], float)
_OptBool = cast(type[bool | None], bool)

PEER = "aws-advanced-python-wrapper"

# ---------------------------------------------------------------------------------------------
# translated per driver (read by aws_wrapper.drivers)
# ---------------------------------------------------------------------------------------------

SOCKET_TIMEOUT: Prop[float | None] = register(
    Prop(
        "socket_timeout",
        _OptFloat,
        None,
        "Seconds a call may wait for the server (0 or unset: no limit), as in "
        f"{PEER}. Per driver: PyMySQL and mysql-connector: read_timeout and write_timeout "
        "(mysql-connector: whole seconds, rounded up); psycopg: the server's statement_timeout "
        "(libpq has no socket read timeout); aiomysql: not applied (it has no read timeout). "
        "A host that stops answering is detected by host_monitoring_v2 on every driver.",
        minimum=0,
        maximum=DAY_S,
    )
)
TCP_KEEPALIVE: Prop[bool | None] = register(
    Prop(
        "tcp_keepalive",
        _OptBool,
        None,
        "TCP keepalive on the connection's socket (unset: the driver's default). psycopg: "
        "libpq 'keepalives'; the MySQL drivers: SO_KEEPALIVE set on the socket once connected.",
    )
)
TCP_KEEPALIVE_TIME: Prop[int | None] = register(
    Prop(
        "tcp_keepalive_time",
        _OptInt,
        None,
        "Idle seconds before the first keepalive probe. psycopg: libpq 'keepalives_idle'; the "
        "MySQL drivers: TCP_KEEPIDLE on the socket.",
        minimum=1,
        maximum=DAY_S,
    )
)
TCP_KEEPALIVE_INTERVAL: Prop[int | None] = register(
    Prop(
        "tcp_keepalive_interval",
        _OptInt,
        None,
        "Seconds between keepalive probes. psycopg: libpq 'keepalives_interval'; the MySQL "
        "drivers: TCP_KEEPINTVL on the socket.",
        minimum=1,
        maximum=DAY_S,
    )
)
TCP_KEEPALIVE_PROBES: Prop[int | None] = register(
    Prop(
        "tcp_keepalive_probes",
        _OptInt,
        None,
        "Unanswered keepalive probes before the connection is dropped. psycopg: libpq "
        "'keepalives_count'; the MySQL drivers: TCP_KEEPCNT on the socket.",
        minimum=1,
        maximum=127,
    )
)

# ---------------------------------------------------------------------------------------------
# mapped onto ours
# ---------------------------------------------------------------------------------------------


def _seconds_to_ms(value: Any) -> int:
    return max(1, round(float(value) * 1000))


FAILOVER_CLUSTER_TOPOLOGY_REFRESH_RATE_SEC = register(
    Prop(
        "failover_cluster_topology_refresh_rate_sec",
        float,
        2.0,
        f"{PEER}'s failover (v1): topology refresh rate during a failover, in seconds. Sets "
        "cluster_topology_high_refresh_rate_ms (x1000) unless that is given: how often the "
        "topology monitor probes while the writer is unknown.",
        minimum=0.001,
        maximum=DAY_S,
        maps_to="cluster_topology_high_refresh_rate_ms",
        convert=_seconds_to_ms,
    )
)
INITIAL_CONNECTION_HOST_SELECTOR_STRATEGY = register(
    Prop(
        "initial_connection_host_selector_strategy",
        str,
        "random",
        f"{PEER}'s name for reader_initial_connection_host_selector_strategy, which it sets "
        "unless that is given (initial_connection: the host selector that picks the reader "
        "behind a reader cluster endpoint).",
        maps_to="reader_initial_connection_host_selector_strategy",
    )
)

# ---------------------------------------------------------------------------------------------
# accepted with a notice
# ---------------------------------------------------------------------------------------------

_NOT_HERE = "accepted for compatibility with " + PEER + " and ignored: "


def _ignored(
    name: str,
    kind: type[Any],
    default: Any,
    doc: str,
    why: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> Prop[Any]:
    return register(
        Prop(
            name,
            kind,
            default,
            f"{doc} Here: {_NOT_HERE}{why}",
            minimum=minimum,
            maximum=maximum,
            notice=_NOT_HERE + why,
        )
    )


_FAILOVER_V1 = (
    "aws_wrapper's failover (failover_v2, also under the code 'failover') has no such step: "
)
FAILOVER_WRITER_RECONNECT_INTERVAL_SEC = _ignored(
    "failover_writer_reconnect_interval_sec",
    float,
    2.0,
    "failover (v1): wait between attempts to reconnect to the failed writer.",
    _FAILOVER_V1 + "it does not reconnect to the old writer in a loop but follows the topology "
    "monitor, which probes every instance every cluster_topology_high_refresh_rate_ms until a "
    "writer is found; the whole failover is bounded by failover_timeout_sec.",
    minimum=0,
    maximum=DAY_S,
)
FAILOVER_READER_CONNECT_TIMEOUT_SEC = _ignored(
    "failover_reader_connect_timeout_sec",
    float,
    30.0,
    "failover (v1): timeout of one reader connection attempt during reader failover.",
    _FAILOVER_V1 + "a connection attempt during failover is bounded by the driver's connect "
    "timeout (connect_timeout) and the whole failover by failover_timeout_sec.",
    minimum=0,
    maximum=DAY_S,
)
AUXILIARY_QUERY_TIMEOUT_SEC = _ignored(
    "auxiliary_query_timeout_sec",
    float,
    5.0,
    "Network timeout of the wrapper's own queries (dialect detection, topology).",
    "the topology monitor bounds its connections with a connect timeout of its own, and "
    "host_monitoring_v2 detects a host that stops answering; there is no separate timeout "
    "for the wrapper's queries.",
    minimum=0,
    maximum=DAY_S,
)

_GLOBAL = (
    "aws_wrapper's Global Database support (the global topology, gdb_failover, gdb_rw; see "
    "docs/global-database.md) has no such setting."
)
# global_cluster_instance_host_patterns: aws_wrapper.properties; failover_home_region,
# active_home_failover_mode, inactive_home_failover_mode: aws_wrapper.plugins.gdb_failover
# gdb_rw_home_region, gdb_rw_restrict_writer_to_home_region,
# gdb_rw_restrict_reader_to_home_region, gdb_enable_global_write_forwarding:
# aws_wrapper.plugins.gdb_rw
GDB_ACCESSIBLE_REGIONS = _ignored(
    "gdb_accessible_regions",
    _OptStr,
    None,
    "Global database: the regions the application can reach.",
    _GLOBAL + " Every region is taken as reachable: an unreachable instance fails its "
    "connect and is passed over.",
)
GDB_MONITORING_CONNECTION_PRIORITY = _ignored(
    "gdb_monitoring_connection_priority",
    str,
    "strict-writer-primary",
    "Global database: region-aware priority of the topology monitor's connection.",
    _GLOBAL + " The topology monitor's connection is on the writer, in whatever region.",
)
MONITORING_CONNECTION_PRIORITY = _ignored(
    "monitoring_connection_priority",
    str,
    "strict-writer",
    "Which instance the topology monitor's connection goes to.",
    "the topology monitor keeps its connection on the writer (strict-writer, the peer's "
    "default) and probes every instance while the writer is unknown; this is not configurable.",
)

_INITIAL = (
    "aws_wrapper's initial_connection replaces a writer cluster endpoint with the writer "
    "instance and a reader cluster endpoint with a reader of the topology, verifies the role "
    "of the connection it opens and retries for open_connection_retry_timeout_ms; it does not "
    "wait for a topology before connecting. This is not configurable."
)
ENDPOINT_SUBSTITUTION_ROLE = _ignored(
    "endpoint_substitution_role",
    _OptStr,
    None,
    "initial_connection: which role of instance replaces the endpoint connected to.",
    _INITIAL,
)
INACTIVE_CLUSTER_WRITER_ENDPOINT_SUBSTITUTION_ROLE = _ignored(
    "inactive_cluster_writer_endpoint_substitution_role",
    str,
    "writer",
    "initial_connection: replacement of an inactive global cluster's writer endpoint.",
    _INITIAL,
)
VERIFY_OPENED_CONNECTION_TYPE = _ignored(
    "verify_opened_connection_type",
    _OptStr,
    None,
    "initial_connection: verify the role of an opened connection.",
    _INITIAL,
)
VERIFY_INACTIVE_CLUSTER_WRITER_ENDPOINT_CONNECTION_TYPE = _ignored(
    "verify_inactive_cluster_writer_endpoint_connection_type",
    str,
    "writer",
    "initial_connection: verify the role of an inactive global cluster's writer connection.",
    _INITIAL,
)
WAIT_FOR_INITIAL_TOPOLOGY_MS = _ignored(
    "wait_for_initial_topology_ms",
    int,
    0,
    "initial_connection: wait for the topology before connecting.",
    _INITIAL,
    minimum=0,
    maximum=DAY_MS,
)

_AVAILABILITY = (
    "aws_wrapper has no host availability strategy: a host that fails is marked unavailable "
    "until the topology monitor or a later connection sees it answer again."
)
DEFAULT_HOST_AVAILABILITY_STRATEGY = _ignored(
    "default_host_availability_strategy",
    str,
    "",
    "Host availability strategy ('' or 'exponential_backoff').",
    _AVAILABILITY,
)
HOST_AVAILABILITY_STRATEGY_MAX_RETRIES = _ignored(
    "host_availability_strategy_max_retries",
    int,
    5,
    "Host availability strategy: retries.",
    _AVAILABILITY,
    minimum=0,
    maximum=MAX_COUNT,
)
HOST_AVAILABILITY_STRATEGY_INITIAL_BACKOFF_TIME = _ignored(
    "host_availability_strategy_initial_backoff_time",
    int,
    30,
    "Host availability strategy: first backoff, in seconds.",
    _AVAILABILITY,
    minimum=0,
    maximum=DAY_S,
)

# telemetry (docs/telemetry.md; read by aws_wrapper.telemetry): the peer's names and meanings
_BACKENDS = "OTLP (OpenTelemetry), XRAY (OpenTelemetry with AWS X-Ray trace ids), NONE"
ENABLE_TELEMETRY: Prop[bool] = register(
    Prop(
        "enable_telemetry",
        bool,
        False,
        "OpenTelemetry traces and metrics of connects, calls, failovers, EFM aborts, "
        "read/write switches, token fetches, topology and blue/green events (needs "
        "'pip install aws-wrapper[telemetry]'; spans go to the application's tracer provider).",
    )
)
TELEMETRY_SUBMIT_TOPLEVEL: Prop[bool] = register(
    Prop(
        "telemetry_submit_toplevel",
        bool,
        False,
        "Telemetry: connect and call spans start traces of their own (linked to the "
        "application's current span) instead of nesting under it.",
    )
)
TELEMETRY_TRACES_BACKEND: Prop[str | None] = register(
    Prop(
        "telemetry_traces_backend",
        _OptStr,
        None,
        f"Telemetry: where traces go: {_BACKENDS} (unset: OTLP).",
    )
)
TELEMETRY_METRICS_BACKEND: Prop[str | None] = register(
    Prop(
        "telemetry_metrics_backend",
        _OptStr,
        None,
        "Telemetry: where metrics go: OTLP or XRAY (both: the OpenTelemetry metrics API; X-Ray "
        "has no metrics of its own), NONE (unset: OTLP).",
    )
)
TELEMETRY_FAILOVER_ADDITIONAL_TOP_TRACE: Prop[bool] = register(
    Prop(
        "telemetry_failover_additional_top_trace",
        bool,
        False,
        "Telemetry: each failover span is also sent as the root of a trace of its own "
        "('copy: aws_wrapper.failover', linked to the original).",
    )
)
# aws_wrapper's own telemetry settings
TELEMETRY_PLUGIN_SPANS: Prop[bool] = register(
    Prop(
        "telemetry_plugin_spans",
        bool,
        False,
        "Telemetry: a nested span per plugin around each call (the peer always makes them; "
        "here only when asked: they cost per call).",
    )
)
TELEMETRY_QUERY_TEXT: Prop[bool] = register(
    Prop(
        "telemetry_query_text",
        bool,
        False,
        "Telemetry: call spans carry the statement text (db.query.text; its parameters never).",
    )
)
TELEMETRY_PROPERTIES = (
    ENABLE_TELEMETRY,
    TELEMETRY_SUBMIT_TOPLEVEL,
    TELEMETRY_TRACES_BACKEND,
    TELEMETRY_METRICS_BACKEND,
    TELEMETRY_FAILOVER_ADDITIONAL_TOP_TRACE,
)
