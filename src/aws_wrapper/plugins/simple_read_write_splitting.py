"""``srw`` (simple read/write splitting: two configured endpoints, no topology): its code and
properties.

The class: ``aws_wrapper._async.plugins.simple_read_write_splitting`` (async code) and its
generated twin in ``aws_wrapper._sync``.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import DAY_MS, Prop, register

SRW_READ_ENDPOINT: Prop[str | None] = register(
    Prop(
        "srw_read_endpoint",
        cast(type[str | None], str),
        None,
        "srw (required): the endpoint read-only mode connects to, 'host' or 'host:port' "
        "(port: the initial connection's), e.g. the cluster's reader (cluster-ro) endpoint.",
    )
)
SRW_WRITE_ENDPOINT: Prop[str | None] = register(
    Prop(
        "srw_write_endpoint",
        cast(type[str | None], str),
        None,
        "srw (required): the endpoint read-write mode connects to, 'host' or 'host:port' "
        "(port: the initial connection's), e.g. the cluster (writer) endpoint.",
    )
)
SRW_VERIFY_NEW_CONNECTIONS = register(
    Prop(
        "srw_verify_new_connections",
        bool,
        True,
        "srw: ask each new connection (and a cached one before reusing it) whether it is on a "
        "reader or the writer; one of the wrong role is closed and opened again.",
    )
)
SRW_CONNECT_RETRY_TIMEOUT_MS = register(
    Prop(
        "srw_connect_retry_timeout_ms",
        int,
        60000,
        "srw: how long to keep trying to open a connection of the right role through an "
        "endpoint (with srw_verify_new_connections).",
        minimum=1,
        maximum=DAY_MS,
    )
)
SRW_CONNECT_RETRY_INTERVAL_MS = register(
    Prop(
        "srw_connect_retry_interval_ms",
        int,
        1000,
        "srw: wait between those attempts.",
        minimum=1,
        maximum=DAY_MS,
    )
)
SRW_VERIFY_INITIAL_CONNECTION_TYPE: Prop[str | None] = register(
    Prop(
        "srw_verify_initial_connection_type",
        cast(type[str | None], str),
        None,
        "srw: the role the initial connection must have (writer or reader), retried until "
        "srw_connect_retry_timeout_ms. Unset: writer through a cluster endpoint, reader "
        "through a reader (cluster-ro) endpoint, else not checked.",
        choices=("writer", "reader"),
    )
)

register_plugin(
    "srw",
    aio="aws_wrapper._async.plugins.simple_read_write_splitting:SimpleReadWriteSplittingPlugin",
    sync="aws_wrapper._sync.plugins.simple_read_write_splitting:SimpleReadWriteSplittingPlugin",
    weight=300,
    doc=(
        "read_only=True moves the connection to srw_read_endpoint, read_only=False to "
        "srw_write_endpoint (no topology)."
    ),
)
