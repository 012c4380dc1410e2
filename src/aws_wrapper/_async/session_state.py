"""Session state transfer and reset (see :mod:`aws_wrapper.states.session_state_service`):
the user callbacks of this world, and what the plugin service does with the session state
when it switches connections and gives them back."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from aws_wrapper._compat import AIO
from aws_wrapper.properties import Properties
from aws_wrapper.states.session_state import (
    RESET_SESSION_STATE_ON_CLOSE,
    TRANSFER_SESSION_STATE_ON_SWITCH,
    SessionState,
)

from .protocols import DriverConnection, DriverDialect

logger = logging.getLogger("aws_wrapper")

SessionCallback = Callable[[SessionState, DriverConnection], Any]
"""``func(session_state, connection) -> bool`` (True: handled); in async code it may be a
coroutine function."""


class SessionStateTransferHandlers:
    """The session state callbacks of this world (see
    :mod:`aws_wrapper.states.session_state_service`), shared by every connection."""

    reset_session_state_on_close_callable: ClassVar[SessionCallback | None] = None
    transfer_session_state_on_switch_callable: ClassVar[SessionCallback | None] = None

    @staticmethod
    def set_reset_session_state_on_close_func(func: SessionCallback) -> None:
        SessionStateTransferHandlers.reset_session_state_on_close_callable = _callable(func)

    @staticmethod
    def clear_reset_session_state_on_close_func() -> None:
        SessionStateTransferHandlers.reset_session_state_on_close_callable = None

    @staticmethod
    def get_reset_session_state_on_close_func() -> SessionCallback | None:
        return SessionStateTransferHandlers.reset_session_state_on_close_callable

    @staticmethod
    def set_transfer_session_state_on_switch_func(func: SessionCallback) -> None:
        SessionStateTransferHandlers.transfer_session_state_on_switch_callable = _callable(func)

    @staticmethod
    def reset_transfer_session_state_on_switch_func() -> None:
        SessionStateTransferHandlers.transfer_session_state_on_switch_callable = None

    @staticmethod
    def clear_transfer_session_state_on_switch_func() -> None:
        """The async peer's name of :meth:`reset_transfer_session_state_on_switch_func`."""
        SessionStateTransferHandlers.transfer_session_state_on_switch_callable = None

    @staticmethod
    def get_transfer_session_state_on_switch_func() -> SessionCallback | None:
        return SessionStateTransferHandlers.transfer_session_state_on_switch_callable


def _callable(func: SessionCallback) -> SessionCallback:
    if not callable(func):
        raise TypeError(f"a session state callback must be callable, got {type(func).__name__}")
    return func


async def _handled(func: SessionCallback, session: SessionState, conn: DriverConnection) -> bool:
    answer = func(session, conn)
    if AIO:
        answer = await answer if inspect.isawaitable(answer) else answer
    return bool(answer)


def capture_pristine(session: SessionState, driver: DriverDialect, conn: DriverConnection) -> None:
    """Remember what ``conn``, the first connection of a wrapper connection, was opened with
    (no I/O: the driver knows)."""
    if session.pristine_autocommit is None:
        session.pristine_autocommit = driver.get_autocommit(conn)
    if session.pristine_read_only is None:
        session.pristine_read_only = driver.get_read_only(conn)


async def transfer(
    session: SessionState, props: Properties, driver: DriverDialect, conn: DriverConnection
) -> None:
    """Replay ``session`` on ``conn``, the new current connection of a switch: the user's
    transfer callback first (True: done), then the settings that differ."""
    if not props.get(TRANSFER_SESSION_STATE_ON_SWITCH):
        return
    func = SessionStateTransferHandlers.transfer_session_state_on_switch_callable
    if func is not None and await _handled(func, session, conn):
        return
    if session.autocommit is not None and driver.get_autocommit(conn) != session.autocommit:
        await driver.set_autocommit(conn, session.autocommit)
    if session.read_only is not None and driver.get_read_only(conn) != session.read_only:
        await driver.set_read_only(conn, session.read_only)
    if session.isolation_level is not None:
        await driver.set_isolation_level(conn, session.isolation_level)
    if session.schema is not None:
        await driver.set_schema(conn, session.schema)


async def reset(
    session: SessionState,
    props: Properties,
    driver: DriverDialect,
    conn: DriverConnection,
    *,
    pooled: bool,
) -> bool:
    """Before ``conn`` (a connection that was current) is given back: the user's reset
    callback (True: done), then, for a connection that stays open in a pool (``pooled``), the
    pristine autocommit and read-only. False when it cannot be reused (a setting a pool does
    not reset, or the reset failed)."""
    # a pool resets autocommit, read-only and the transaction, not these: a connection with
    # either set is never reused, whatever the property or a callback say (the next user of
    # the pooled connection would get them)
    clean = session.isolation_level is None and session.schema is None
    if not props.get(RESET_SESSION_STATE_ON_CLOSE):
        return clean
    func = SessionStateTransferHandlers.reset_session_state_on_close_callable
    if func is not None:
        try:
            if await _handled(func, session, conn):
                return clean
        except Exception as e:
            logger.warning("the reset_session_state_on_close callback failed: %r", e)
            return False
    if not pooled or driver.is_closed(conn):
        return clean
    try:
        if driver.in_transaction(conn):
            await driver.rollback(conn)
        pristine = session.pristine_read_only
        if pristine is not None and driver.get_read_only(conn) != pristine:
            await driver.set_read_only(conn, pristine)
        pristine = session.pristine_autocommit
        if pristine is not None and driver.get_autocommit(conn) != pristine:
            await driver.set_autocommit(conn, pristine)
    except Exception as e:
        logger.debug("could not restore the session state of a pooled connection: %r", e)
        return False
    return clean
