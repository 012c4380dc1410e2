"""``connect_time`` and ``execute_time``: how long connects and wrapped calls take.

The classes: ``aws_wrapper._async.plugins.timing`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin

register_plugin(
    "connect_time",
    aio="aws_wrapper._async.plugins.timing:ConnectTimePlugin",
    sync="aws_wrapper._sync.plugins.timing:ConnectTimePlugin",
    weight=0,
    doc=("Measures the time spent opening connections."),
)

register_plugin(
    "execute_time",
    aio="aws_wrapper._async.plugins.timing:ExecuteTimePlugin",
    sync="aws_wrapper._sync.plugins.timing:ExecuteTimePlugin",
    weight=0,
    doc=("Measures the time spent in every wrapped call."),
)
