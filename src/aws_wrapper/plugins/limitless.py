"""``limitless``: Aurora PostgreSQL Limitless Database. Its code and properties (the names and
defaults of aws-advanced-python-wrapper's).

The class: ``aws_wrapper._async.plugins.limitless`` (async code) and its generated twin in
``aws_wrapper._sync``; the pick (weights from load), shared by both worlds:
:mod:`aws_wrapper.limitless`.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, MAX_COUNT, Prop, register, register_prefix

LIMITLESS_MONITOR_INTERVAL_MS = register(
    Prop(
        "limitless_transaction_router_monitor_interval_ms",
        int,
        7500,
        "limitless: how often the shard group's router monitor reads the transaction routers "
        "and their load (aurora_limitless_router_endpoints()).",
        minimum=1,
        maximum=DAY_MS,
    )
)
LIMITLESS_MONITOR_DISPOSAL_TIME_MS = register(
    Prop(
        "limitless_transaction_router_monitor_disposal_time_ms",
        int,
        600000,
        "limitless: a router monitor no connect has used for this long stops (and closes its "
        "connection); the next connect starts it again.",
        minimum=0,
        maximum=DAY_MS,
    )
)
LIMITLESS_WAIT_FOR_ROUTER_INFO = register(
    Prop(
        "limitless_wait_for_transaction_router_info",
        bool,
        True,
        "limitless: when no router is known yet (the first connect), read the routers before "
        "connecting (true), or connect to the shard group endpoint as given (false).",
    )
)
LIMITLESS_GET_ROUTER_RETRY_INTERVAL_MS = register(
    Prop(
        "limitless_get_transaction_router_retry_interval_ms",
        int,
        300,
        "limitless: the wait between two attempts to read the routers when waiting for them.",
        minimum=0,
        maximum=DAY_MS,
    )
)
LIMITLESS_GET_ROUTER_MAX_RETRIES = register(
    Prop(
        "limitless_get_transaction_router_max_retries",
        int,
        5,
        "limitless: retries of a failed router read when waiting for them, and connect "
        "attempts on other routers after a failed one (least loaded first).",
        minimum=0,
        maximum=MAX_COUNT,
    )
)
LIMITLESS_MAX_RETRIES_MS = register(
    Prop(
        "limitless_max_retries_ms",
        int,
        7500,
        "limitless: the time budget of those retries, from the start of the connect: no new "
        "attempt starts after it.",
        minimum=0,
        maximum=DAY_MS,
    )
)
LIMITLESS_MONITOR_PREFIX = register_prefix(
    "limitless-router-monitor-",
    "limitless: a driver parameter for the router monitor's own connection only (e.g. "
    "limitless-router-monitor-connect_timeout=3).",
)

register_plugin(
    "limitless",
    aio="aws_wrapper._async.plugins.limitless:LimitlessPlugin",
    sync="aws_wrapper._sync.plugins.limitless:LimitlessPlugin",
    weight=570,
    doc=(
        "Aurora PostgreSQL Limitless Database: connects to a lightly loaded transaction router "
        "of the DB shard group (weighted random by load, one shared router monitor per shard "
        "group), retrying others when one fails."
    ),
)
