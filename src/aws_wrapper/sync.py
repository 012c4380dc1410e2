"""aws_wrapper for blocking code (PEP 249). The same as the top-level ``aws_wrapper``."""

from __future__ import annotations

from aws_wrapper._sync.api import *  # noqa: F403
from aws_wrapper._sync.api import __all__ as __all__
