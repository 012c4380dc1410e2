"""Small helpers shared by the async tests and their generated sync twins."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def live_workers(prefix: str = "aws-wrapper") -> list[str]:
    """Names of the wrapper's background workers still alive: tasks of the running event loop
    (asyncio) and threads (blocking code). Not the alarm thread of ``_compat.await_event``:
    no monitor's, it holds the deadlines of every loop's waits, and the module's
    ``release_resources()`` ends it when none is left (tests/test_await_event.py)."""
    names = [
        t.name
        for t in threading.enumerate()
        if t.name.startswith(prefix) and t.name != "aws-wrapper-alarms"
    ]
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # no running loop: the blocking world
        tasks = set()
    names += [t.get_name() for t in tasks if t.get_name().startswith(prefix) and not t.done()]
    return names


def run_in_child(main: Callable[[], Any], timeout: float = 30.0) -> tuple[int, str]:
    """Fork; in the child run ``main()`` and exit at once (``os._exit``, as multiprocessing's
    fork start method does: no interpreter teardown, no pytest). A coroutine function runs on
    a fresh event loop in a new thread: the parent's loop is unusable after a fork. The parent
    waits: (the child's exit code, its traceback if ``main`` raised)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_fd)
            result = main()
            if inspect.iscoroutine(result):
                failures: list[str] = []

                def run(coro: Any = result) -> None:
                    try:
                        asyncio.run(coro)
                    except BaseException:
                        failures.append(traceback.format_exc())

                thread = threading.Thread(target=run)
                thread.start()
                thread.join()
                if failures:
                    raise RuntimeError(failures[0])
            code = 0
        except BaseException:
            os.write(write_fd, traceback.format_exc().encode()[-8000:])
        finally:
            os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            return -1, f"the child did not end within {timeout} s"
        time.sleep(0.02)
    with os.fdopen(read_fd, "rb") as report:
        return os.waitstatus_to_exitcode(status), report.read().decode(errors="replace")


def first(row: Sequence[T] | None) -> T:
    """The first column of a row that must be there (``fetchone()`` is typed ``Row | None``)."""
    assert row is not None, "no row"
    return row[0]


def run_coroutine(func: Callable[[], Any]) -> Any:
    """``func()``'s coroutine run to its end on a new event loop of this thread (a test that
    needs a second loop: call it from another thread)."""
    return asyncio.run(func())
