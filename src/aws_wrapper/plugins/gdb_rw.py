"""``gdb_rw``: read/write splitting of an Aurora Global Database, kept to a home region: its
code and properties.

The class: ``aws_wrapper._async.plugins.gdb_rw`` (async code) and its generated twin in
``aws_wrapper._sync``. See docs/global-database.md.
"""

from __future__ import annotations

from typing import cast

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import Prop, register

GDB_RW_HOME_REGION: Prop[str | None] = register(
    Prop(
        "gdb_rw_home_region",
        cast(type[str | None], str),
        None,
        "gdb_rw: the home region of read/write splitting (e.g. 'us-east-1'). Unset: the "
        "region the endpoint names; required when it names none (the global writer "
        "endpoint, an IP address, a custom DNS name).",
    )
)
GDB_RW_RESTRICT_WRITER_TO_HOME_REGION = register(
    Prop(
        "gdb_rw_restrict_writer_to_home_region",
        bool,
        True,
        "gdb_rw: leaving read-only mode is refused (ReadWriteSplittingError) while the "
        "writer is outside the home region; false: the connection follows the writer there.",
    )
)
GDB_RW_RESTRICT_READER_TO_HOME_REGION = register(
    Prop(
        "gdb_rw_restrict_reader_to_home_region",
        bool,
        True,
        "gdb_rw: read-only mode picks a reader of the home region only (no host there: "
        "ReadWriteSplittingError); false: a reader of any region.",
    )
)
GDB_ENABLE_GLOBAL_WRITE_FORWARDING = register(
    Prop(
        "gdb_enable_global_write_forwarding",
        bool,
        False,
        "gdb_rw: while the writer is outside the home region and writers are restricted to "
        "it, leaving read-only mode keeps the current (home-region reader) connection instead "
        "of failing, so that Aurora's global write forwarding (enabled on the cluster and the "
        "session) sends its writes to the primary region.",
    )
)

register_plugin(
    "gdb_rw",
    aio="aws_wrapper._async.plugins.gdb_rw:GdbReadWriteSplittingPlugin",
    sync="aws_wrapper._sync.plugins.gdb_rw:GdbReadWriteSplittingPlugin",
    weight=320,
    doc=(
        "Global Database read/write splitting: read_write_splitting whose readers (and, "
        "unless allowed, writer) are in the home region."
    ),
)
