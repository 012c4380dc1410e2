"""The session state of a wrapper connection: what the application set through the wrapper
(autocommit, read-only, isolation level, schema), and the values its connections are opened
with (the *pristine* autocommit and read-only), with aws-advanced-python-wrapper's names
(``SessionState.auto_commit.value``, ``.readonly.pristine_value``).

The wrapper replays the state on every new connection it switches to (failover, read/write
switch) unless ``transfer_session_state_on_switch`` is false, and restores the pristine values
on a connection going back to a pool unless ``reset_session_state_on_close`` is false; see
:mod:`aws_wrapper.states.session_state_service` for the properties and the callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_wrapper.properties import Prop, register

T = TypeVar("T")

TRANSFER_SESSION_STATE_ON_SWITCH = register(
    Prop(
        "transfer_session_state_on_switch",
        bool,
        True,
        "Replay the session state (autocommit, read-only, isolation level, schema set through "
        "the wrapper) on the new connection of a failover or read/write switch.",
    )
)
RESET_SESSION_STATE_ON_CLOSE = register(
    Prop(
        "reset_session_state_on_close",
        bool,
        True,
        "Restore the connection's original autocommit and read-only (and call the reset "
        "callback) before a connection goes back to a pool when closed or switched away from.",
    )
)
ROLLBACK_ON_SWITCH = register(
    Prop(
        "rollback_on_switch",
        bool,
        True,
        "Roll back a transaction left open on the connection a switch moves away from.",
    )
)


@dataclass(frozen=True, slots=True)
class SessionStateField(Generic[T]):
    """One setting: ``value`` set by the application (None: never set) and
    ``pristine_value``, what connections are opened with (None: not known)."""

    value: T | None
    pristine_value: T | None

    def can_restore_pristine(self) -> bool:
        """True when the setting was changed and its original value is known."""
        return (
            self.value is not None
            and self.pristine_value is not None
            and self.value != self.pristine_value
        )


class SessionState:
    """The session settings of one wrapper connection (see the module doc)."""

    __slots__ = (
        "autocommit",
        "isolation_level",
        "pristine_autocommit",
        "pristine_read_only",
        "read_only",
        "schema",
    )

    def __init__(self) -> None:
        self.autocommit: bool | None = None
        self.read_only: bool | None = None
        self.isolation_level: str | None = None
        self.schema: str | None = None
        self.pristine_autocommit: bool | None = None
        self.pristine_read_only: bool | None = None

    @property
    def auto_commit(self) -> SessionStateField[bool]:
        """aws-advanced-python-wrapper's name: autocommit and its pristine value."""
        return SessionStateField(self.autocommit, self.pristine_autocommit)

    @property
    def readonly(self) -> SessionStateField[bool]:
        """aws-advanced-python-wrapper's name: read-only and its pristine value."""
        return SessionStateField(self.read_only, self.pristine_read_only)

    def is_set(self) -> bool:
        """True when the application changed any setting through the wrapper."""
        return not (
            self.autocommit is None
            and self.read_only is None
            and self.isolation_level is None
            and self.schema is None
        )

    def copy(self) -> SessionState:
        new = SessionState()
        for name in SessionState.__slots__:
            setattr(new, name, getattr(self, name))
        return new

    def __repr__(self) -> str:
        values: dict[str, Any] = {n: getattr(self, n) for n in SessionState.__slots__}
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)
        return f"SessionState({shown})"
