"""aws-advanced-python-wrapper's ``states.session_state_service``: the callbacks that replace
or extend how the wrapper transfers the session state to a new connection and resets it on a
connection it gives back, for blocking code (:mod:`aws_wrapper`; the async twin is
``aws_wrapper._async.session_state.SessionStateTransferHandlers``, whose callbacks may also be
coroutine functions).

- ``set_transfer_session_state_on_switch_func(func)``: ``func(session_state, new_connection)
  -> bool`` is called when a failover or a read/write switch makes ``new_connection`` (a driver
  connection) current, before the wrapper replays the state; True means handled: the wrapper
  then does not replay it. Not called when ``transfer_session_state_on_switch`` is false.
- ``set_reset_session_state_on_close_func(func)``: ``func(session_state, connection) -> bool``
  is called when the wrapper gives back a connection that was current (``close()``, or one a
  switch moved away from), before the wrapper restores the pristine autocommit and read-only
  on a connection going back to a pool; True means handled. Not called when
  ``reset_session_state_on_close`` is false. (The peer stores this callback but never calls
  it.)
- ``clear_reset_session_state_on_close_func()``, ``reset_transfer_session_state_on_switch_func()``
  (and ``clear_transfer_session_state_on_switch_func()``, the async peer's name) remove them;
  ``get_...`` return them.

``session_state`` is a :class:`~aws_wrapper.states.session_state.SessionState`: ``autocommit``,
``read_only``, ``isolation_level``, ``schema`` (None: not set) and, with the peer's names,
``auto_commit.value`` / ``.pristine_value`` and ``readonly.value`` / ``.pristine_value``.
The handlers are shared by every connection of the process.
"""

from __future__ import annotations

from aws_wrapper._sync.session_state import SessionStateTransferHandlers
from aws_wrapper.states.session_state import (
    RESET_SESSION_STATE_ON_CLOSE,
    ROLLBACK_ON_SWITCH,
    TRANSFER_SESSION_STATE_ON_SWITCH,
    SessionState,
    SessionStateField,
)

__all__ = [
    "RESET_SESSION_STATE_ON_CLOSE",
    "ROLLBACK_ON_SWITCH",
    "TRANSFER_SESSION_STATE_ON_SWITCH",
    "SessionState",
    "SessionStateField",
    "SessionStateTransferHandlers",
]
