"""``failover_v2`` (alias ``failover``): its code and properties.

The class: ``aws_wrapper._async.plugins.failover`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_S, MAX_COUNT, Prop, register

FAILOVER_MODE: Prop[str | None] = register(
    Prop(
        "failover_mode",
        cast(type[str | None], str),
        None,
        "Where failover goes: strict_writer, strict_reader or reader_or_writer. Unset: "
        "reader_or_writer for a reader cluster endpoint, else strict_writer.",
        choices=("strict_writer", "strict_reader", "reader_or_writer"),
    )
)
FAILOVER_TIMEOUT_SEC = register(
    Prop(
        "failover_timeout_sec",
        float,
        300.0,
        "How long failover may look for a new host before raising FailoverFailedError.",
        minimum=0,
        maximum=DAY_S,
    )
)
ENABLE_CONNECT_FAILOVER = register(
    Prop(
        "enable_connect_failover",
        bool,
        False,
        "Also fail over when opening the connection fails with a network error.",
    )
)
FAILOVER_READER_STRATEGY = register(
    Prop(
        "failover_reader_host_selector_strategy",
        str,
        "random",
        "Host selector used to pick a reader during reader failover.",
    )
)
CONNECTION_RETRY_MAX_ATTEMPTS = register(
    Prop(
        "connection_retry_max_attempts",
        int,
        3,
        "Attempts to open a connection to a new host after a failover when it is rejected "
        "transiently (refused or reset while the instance finishes promotion).",
        minimum=1,
        maximum=MAX_COUNT,
    )
)
CONNECTION_RETRY_MAX_BACKOFF_S = register(
    Prop(
        "connection_retry_max_backoff_s",
        float,
        1.0,
        "Longest wait between those attempts (the backoff doubles from 50 ms).",
        minimum=0,
        maximum=DAY_S,
    )
)

register_plugin(
    "failover_v2",
    aio="aws_wrapper._async.plugins.failover:FailoverPlugin",
    sync="aws_wrapper._sync.plugins.failover:FailoverPlugin",
    weight=400,
    doc=(
        "Failover: on a network error, move the connection to the new writer (or a reader) and "
        "raise FailoverSuccessError / TransactionResolutionUnknownError."
    ),
    aliases=("failover",),
)
