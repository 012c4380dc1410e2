"""Fork safety: what a child process must not take over from its parent.

A child made by ``os.fork()`` (gunicorn and other pre-fork servers, multiprocessing's ``fork``
start method) starts with copies of the parent's shared monitors, pools and caches. Their
sockets are the parent's (one connection, now used by two processes), their threads do not
exist in the child, and their locks may be held by a thread that does not exist either. Every
module with such state registers a reset with :func:`at_fork_in_child`: the child forgets the
state and builds its own on first use, as a new process would.

Forget, never close: closing a driver connection sends the server a goodbye (PostgreSQL's
Terminate, MySQL's COM_QUIT) or shuts the socket down, and the socket is the parent's too, so
the parent's session would end. What the child forgets is kept in a graveyard that is never
freed (not even at interpreter exit), so no finalizer runs on it in the child either
(mysql.connector shuts its socket down when it is collected). The parent is not affected: its
objects and their sockets are untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[[], None])

_graveyard: list[object] = []


def _never_free(obj: object) -> None:
    """One reference that nothing drops: module teardown at exit does not free ``obj``."""
    try:
        import ctypes

        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    except Exception:  # not CPython: the module-level reference is all there is
        pass


_never_free(_graveyard)


def bury(*things: object) -> None:
    """Keep ``things`` (inherited from the parent) alive and untouched for good."""
    _graveyard.append(things)


def buried() -> int:
    """How many batches were buried in this process (tests, diagnostics)."""
    return len(_graveyard)


def at_fork_in_child(reset: F) -> F:
    """Run ``reset`` in every child process right after ``os.fork()`` (a decorator)."""
    os.register_at_fork(after_in_child=reset)
    return reset
