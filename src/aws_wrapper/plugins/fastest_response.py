"""``fastest_response_strategy``: its code and properties (it shares
``monitor_disposal_time_ms`` with host_monitoring_v2, which declares it).

The class: ``aws_wrapper._async.plugins.fastest_response`` (async code) and its generated
twin in ``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, Prop, register, register_prefix

RESPONSE_MEASUREMENT_INTERVAL_MS = register(
    Prop(
        "response_measurement_interval_ms",
        int,
        30000,
        "fastest_response_strategy: how often each host's monitor measures its response time "
        "(the median of a few pings on a connection of its own) for the fastest_response "
        "host selector.",
        minimum=1,
        maximum=DAY_MS,
    )
)
FRT_PREFIX = register_prefix(
    "frt-",
    "fastest_response_strategy: a driver parameter for the response-time monitors' "
    "connections only (e.g. frt-connect_timeout=2).",
)

register_plugin(
    "fastest_response_strategy",
    aio="aws_wrapper._async.plugins.fastest_response:FastestResponseStrategyPlugin",
    sync="aws_wrapper._sync.plugins.fastest_response:FastestResponseStrategyPlugin",
    weight=290,
    doc=(
        "Measures every host's response time (one shared monitor per host) so the "
        "fastest_response host selector picks the fastest reader."
    ),
)
