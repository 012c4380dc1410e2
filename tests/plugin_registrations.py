"""Test plugins registered once for both worlds (the class is written once, in
``tests/_async/counting_plugin.py``; its sync twin is generated)."""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin

ASYNC_COUNTING = "tests._async.counting_plugin:CountingPlugin"
SYNC_COUNTING = "tests._sync.counting_plugin:CountingPlugin"

register_plugin("test_counting", aio=ASYNC_COUNTING, sync=SYNC_COUNTING, weight=550, doc="test")
register_plugin("test_counting_aio_only", aio=ASYNC_COUNTING, weight=550, doc="test")
register_plugin("test_counting_sync_only", sync=SYNC_COUNTING, weight=550, doc="test")
