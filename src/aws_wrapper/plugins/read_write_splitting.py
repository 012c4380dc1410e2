"""``read_write_splitting``: its code and properties (srw shares
``read_write_splitting_fallback_to_writer``).

The class: ``aws_wrapper._async.plugins.read_write_splitting`` (async code) and its generated
twin in ``aws_wrapper._sync``.
"""

from __future__ import annotations

from aws_wrapper.plugin_registry import register_plugin
from aws_wrapper.properties import Prop, register

READER_HOST_SELECTOR_STRATEGY = register(
    Prop(
        "reader_host_selector_strategy",
        str,
        "random",
        "read_write_splitting: host selector that picks the reader for read-only mode.",
    )
)
READ_WRITE_FALLBACK_TO_WRITER = register(
    Prop(
        "read_write_splitting_fallback_to_writer",
        bool,
        True,
        "read_write_splitting: when no reader can be reached, stay on the writer (false: "
        "raise ReadWriteSplittingError).",
    )
)

register_plugin(
    "read_write_splitting",
    aio="aws_wrapper._async.plugins.read_write_splitting:ReadWriteSplittingPlugin",
    sync="aws_wrapper._sync.plugins.read_write_splitting:ReadWriteSplittingPlugin",
    weight=300,
    doc=("read_only=True moves the connection to a reader, read_only=False back to the writer."),
)
