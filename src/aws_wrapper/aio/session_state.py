"""aws-advanced-python-wrapper's ``aio.session_state``: the session state callbacks of async
code (:mod:`aws_wrapper.aio`). ``AsyncSessionStateTransferHandlers`` has the methods of
:mod:`aws_wrapper.states.session_state_service`'s ``SessionStateTransferHandlers`` (see there
for what the callbacks get and when they are called); a callback may be a plain function or a
coroutine function.
"""

from __future__ import annotations

from aws_wrapper._async.session_state import SessionStateTransferHandlers
from aws_wrapper.states.session_state import SessionState, SessionStateField

AsyncSessionStateTransferHandlers = SessionStateTransferHandlers

__all__ = ["AsyncSessionStateTransferHandlers", "SessionState", "SessionStateField"]
