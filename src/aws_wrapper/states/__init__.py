"""Session state (aws-advanced-python-wrapper's ``states`` package): see
:mod:`aws_wrapper.states.session_state` and :mod:`aws_wrapper.states.session_state_service`.

``aws_wrapper.states.SessionStateTransferHandlers`` (the path the peer's documentation gives,
which fails on the peer) works here too: it is the handlers of blocking code.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "SessionStateTransferHandlers":
        from aws_wrapper.states.session_state_service import SessionStateTransferHandlers

        return SessionStateTransferHandlers
    raise AttributeError(f"module 'aws_wrapper.states' has no attribute {name!r}")
