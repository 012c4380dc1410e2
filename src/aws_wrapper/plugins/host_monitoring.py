"""``host_monitoring_v2`` (alias ``host_monitoring``, enhanced failure monitoring): its code
and properties.

The class: ``aws_wrapper._async.plugins.host_monitoring`` (async code) and its generated twin
in ``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, MAX_COUNT, Prop, register, register_prefix

FAILURE_DETECTION_ENABLED = register(
    Prop(
        "failure_detection_enabled",
        bool,
        True,
        "host_monitoring_v2: monitor the host while calls are in flight.",
    )
)
FAILURE_DETECTION_TIME_MS = register(
    Prop(
        "failure_detection_time_ms",
        int,
        30000,
        "host_monitoring_v2: how long a call may run before its host is probed.",
        minimum=0,
        maximum=DAY_MS,
    )
)
FAILURE_DETECTION_INTERVAL_MS = register(
    Prop(
        "failure_detection_interval_ms",
        int,
        5000,
        "host_monitoring_v2: probing interval; a probe unanswered for an interval is a failure.",
        minimum=1,
        maximum=DAY_MS,
    )
)
FAILURE_DETECTION_COUNT = register(
    Prop(
        "failure_detection_count",
        int,
        3,
        "host_monitoring_v2: failed probes in a row after which the host is taken as dead and "
        "the calls in flight on it are aborted.",
        minimum=1,
        maximum=MAX_COUNT,
    )
)
MONITOR_DISPOSAL_TIME_MS = register(
    Prop(
        "monitor_disposal_time_ms",
        int,
        60000,
        "host_monitoring_v2 and fastest_response_strategy: a host monitor with nothing to "
        "watch for this long stops.",
        minimum=0,
        maximum=DAY_MS,
    )
)
MONITORING_PREFIX = register_prefix(
    "monitoring-",
    "host_monitoring_v2: a driver parameter for the monitoring connections only "
    "(e.g. monitoring-connect_timeout=2).",
)

register_plugin(
    "host_monitoring_v2",
    aio="aws_wrapper._async.plugins.host_monitoring:HostMonitoringPlugin",
    sync="aws_wrapper._sync.plugins.host_monitoring:HostMonitoringPlugin",
    weight=500,
    doc=(
        "Enhanced failure monitoring: probes the host of a long-running call and aborts the call "
        "when the host stops answering."
    ),
    aliases=("host_monitoring",),
)
