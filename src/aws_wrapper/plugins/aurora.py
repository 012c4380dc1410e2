"""``aurora_connection_tracker``, ``initial_connection`` and ``stale_dns``: their codes and
the properties of ``initial_connection``.

The classes: ``aws_wrapper._async.plugins.aurora`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, Prop, register

OPEN_CONNECTION_RETRY_TIMEOUT_MS = register(
    Prop(
        "open_connection_retry_timeout_ms",
        int,
        30000,
        "initial_connection: how long to keep trying to open a connection of the right role "
        "through a cluster endpoint.",
        minimum=0,
        maximum=DAY_MS,
    )
)
OPEN_CONNECTION_RETRY_INTERVAL_MS = register(
    Prop(
        "open_connection_retry_interval_ms",
        int,
        1000,
        "initial_connection: wait between those attempts.",
        minimum=0,
        maximum=DAY_MS,
    )
)
READER_INITIAL_STRATEGY = register(
    Prop(
        "reader_initial_connection_host_selector_strategy",
        str,
        "random",
        "initial_connection: host selector that picks the reader behind a reader endpoint.",
    )
)

register_plugin(
    "aurora_connection_tracker",
    aio="aws_wrapper._async.plugins.aurora:AuroraConnectionTrackerPlugin",
    sync="aws_wrapper._sync.plugins.aurora:AuroraConnectionTrackerPlugin",
    weight=100,
    doc=("Aborts connections still open to the old writer as soon as the writer moves."),
)

register_plugin(
    "initial_connection",
    aio="aws_wrapper._async.plugins.aurora:InitialConnectionPlugin",
    sync="aws_wrapper._sync.plugins.aurora:InitialConnectionPlugin",
    weight=150,
    doc=(
        "Aurora initial connection strategy: through a cluster endpoint, connect to an instance "
        "of the right role (retrying), picking readers from the topology."
    ),
)

register_plugin(
    "stale_dns",
    aio="aws_wrapper._async.plugins.aurora:StaleDnsPlugin",
    sync="aws_wrapper._sync.plugins.aurora:StaleDnsPlugin",
    weight=200,
    doc=(
        "Replaces a connection that the writer endpoint's stale DNS sent to a reader with one to "
        "the real writer."
    ),
)
