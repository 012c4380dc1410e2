"""aws_wrapper for blocking code (PEP 249). The same as the top-level ``aws_wrapper``."""

from __future__ import annotations

from aws_wrapper._sync.connection import (
    AwsWrapperConnection,
    connect,
)
from aws_wrapper._sync.cursor import AwsWrapperCursor
from aws_wrapper._sync.plugin import BasePlugin
from aws_wrapper._sync.plugin_manager import register_plugin
from aws_wrapper._sync.plugins.dev import simulator as error_simulator
from aws_wrapper._sync.resources import release_resources
from aws_wrapper.dbapi import *  # noqa: F403
from aws_wrapper.dbapi import __all__ as _dbapi_all
from aws_wrapper.errors import *  # noqa: F403
from aws_wrapper.errors import __all__ as _errors_all

__all__ = [
    "AwsWrapperConnection",
    "AwsWrapperCursor",
    "BasePlugin",
    "connect",
    "error_simulator",
    "register_plugin",
    "release_resources",
    *_dbapi_all,
    *_errors_all,
]
