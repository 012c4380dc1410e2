"""The built-in plugins, as both worlds share them: one module per plugin module of
``aws_wrapper._async.plugins`` (whose sync twin is generated), registering its codes, weights,
documentation and classes (named by import path, so a plugin's class and dependencies are
imported only when a connection uses it) with :mod:`aws_wrapper.plugin_registry`, and
declaring its connection properties, which the plugin classes of both worlds import from here.

Importing :mod:`aws_wrapper.plugin_registry` imports this package.
"""

from __future__ import annotations

from . import (  # noqa: F401 - each registers its plugins and declares their properties
    aurora,
    auth,
    blue_green,
    custom_endpoint,
    dev,
    failover,
    fastest_response,
    federated,
    gdb_failover,
    gdb_rw,
    host_monitoring,
    limitless,
    read_write_splitting,
    simple_read_write_splitting,
    timing,
)
