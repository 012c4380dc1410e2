"""``custom_endpoint``: its code. Its properties are declared beside the shared monitor and
member logic, in :mod:`aws_wrapper.custom_endpoint`.

The class: ``aws_wrapper._async.plugins.custom_endpoint`` (async code) and its generated twin
in ``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper import custom_endpoint as _custom_endpoint  # noqa: F401 - its properties
from aws_wrapper.plugin_registry import register_plugin

register_plugin(
    "custom_endpoint",
    aio="aws_wrapper._async.plugins.custom_endpoint:CustomEndpointPlugin",
    sync="aws_wrapper._sync.plugins.custom_endpoint:CustomEndpointPlugin",
    weight=380,
    doc=(
        "Aurora custom endpoints: learns the endpoint's members from RDS (one shared monitor per "
        "endpoint) so plugins that pick an instance stay among them."
    ),
)
