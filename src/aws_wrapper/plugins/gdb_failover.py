"""``gdb_failover``: failover of an Aurora Global Database, by home region: its code and
properties.

The class: ``aws_wrapper._async.plugins.gdb_failover`` (async code) and its generated twin
in ``aws_wrapper._sync``. See docs/global-database.md.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import Prop, register

GDB_FAILOVER_MODES = (
    "strict-writer",
    "strict-home-reader",
    "strict-out-of-home-reader",
    "strict-any-reader",
    "home-reader-or-writer",
    "out-of-home-reader-or-writer",
    "any-reader-or-writer",
)
"""The modes of aws-advanced-python-wrapper's gdb_failover ('_' accepted for '-')."""

_OptStr = cast(type[str | None], str)

FAILOVER_HOME_REGION: Prop[str | None] = register(
    Prop(
        "failover_home_region",
        _OptStr,
        None,
        "gdb_failover: the application's home region (e.g. 'us-east-1'). Unset: the region "
        "the endpoint names; required when it names none (the global writer endpoint, an IP "
        "address, a custom DNS name).",
    )
)
ACTIVE_HOME_FAILOVER_MODE: Prop[str | None] = register(
    Prop(
        "active_home_failover_mode",
        _OptStr,
        None,
        "gdb_failover: where failover goes while the home region holds the writer: "
        + ", ".join(GDB_FAILOVER_MODES)
        + ". Unset: strict-writer for a cluster or global writer endpoint, else "
        "home-reader-or-writer.",
    )
)
INACTIVE_HOME_FAILOVER_MODE: Prop[str | None] = register(
    Prop(
        "inactive_home_failover_mode",
        _OptStr,
        None,
        "gdb_failover: where failover goes while another region holds the writer (same modes "
        "and default as active_home_failover_mode).",
    )
)

register_plugin(
    "gdb_failover",
    aio="aws_wrapper._async.plugins.gdb_failover:GdbFailoverPlugin",
    sync="aws_wrapper._sync.plugins.gdb_failover:GdbFailoverPlugin",
    weight=420,
    doc=(
        "Global Database failover: failover_v2 whose target depends on whether the home "
        "region holds the writer (active_home_failover_mode / inactive_home_failover_mode)."
    ),
)
