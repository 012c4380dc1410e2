"""``dev``: its code (the developer plugin: a chosen error on the next call or connect).

The class: ``aws_wrapper._async.plugins.dev`` (async code) and its generated twin in
``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin

register_plugin(
    "dev",
    aio="aws_wrapper._async.plugins.dev:DeveloperPlugin",
    sync="aws_wrapper._sync.plugins.dev:DeveloperPlugin",
    weight=10_000,
    doc=(
        "Developer plugin: raises a chosen error on the next call or connect (for testing an "
        "application's error handling)."
    ),
)
