"""aws_wrapper for blocking code (PEP 249). The same as the top-level ``aws_wrapper``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_wrapper._peer import set_logger
from aws_wrapper._sync.api import *  # noqa: F403
from aws_wrapper._sync.api import __all__ as __all__

if not TYPE_CHECKING:
    __all__ = list(__all__)  # a copy: the api module's own list stays as it is
__all__ += ["set_logger"]
