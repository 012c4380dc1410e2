"""``_compat.await_event`` (the async half): a wait with a deadline that keeps the deadline off
the loop's timer heap (one alarm thread per process), so a monitor waiting between its checks
adds nothing to what every other timer of the loop costs (issue 16).

What it must do: return True once the event is set, False at the deadline (not much later),
pass a cancellation through, leave no timer in the loop while waiting, work with many waits
on several loops, and in a forked child.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from aws_wrapper import _compat
from aws_wrapper._compat import await_event


def live_timers(loop: asyncio.AbstractEventLoop) -> list[asyncio.TimerHandle]:
    """The timers the loop will run (asyncio keeps them in ``_scheduled``)."""
    return [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]


async def test_set_before_the_deadline() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, event.set)
    started = time.monotonic()
    assert await await_event(event, 5.0) is True
    assert time.monotonic() - started < 1.0


async def test_the_deadline() -> None:
    event = asyncio.Event()
    started = time.monotonic()
    assert await await_event(event, 0.2) is False
    took = time.monotonic() - started
    assert 0.19 <= took < 1.0, took
    assert await await_event(event, 0) is False
    assert await await_event(event, -1) is False
    # a zero timeout still lets the loop run (a monitor's loop must not spin it)
    asyncio.get_running_loop().call_soon(event.set)
    assert await await_event(event, 0) is True
    event.clear()
    event.set()
    assert await await_event(event, 0) is True  # set: no wait at all
    assert await await_event(event, None) is True


async def test_no_timer_in_the_loop_while_waiting() -> None:
    loop = asyncio.get_running_loop()
    event = asyncio.Event()
    waiting = asyncio.create_task(await_event(event, 30.0))
    await asyncio.sleep(0.05)
    assert live_timers(loop) == []
    event.set()
    assert await waiting is True
    # an asyncio.timeout() wait, for comparison, is a timer in the loop all along
    other = asyncio.Event()

    async def with_a_loop_timer() -> None:
        async with asyncio.timeout(30.0):
            await other.wait()

    task = asyncio.create_task(with_a_loop_timer())
    await asyncio.sleep(0.05)
    assert len(live_timers(loop)) == 1
    other.set()
    await task


async def test_cancelled_while_waiting() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(await_event(event, 0.2))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # its alarm goes off after it ended: nothing happens to this task or the loop
    survivor = asyncio.Event()
    assert await await_event(survivor, 0.4) is False
    assert not asyncio.current_task().cancelling()  # type: ignore[union-attr]


async def test_ended_before_its_alarm_goes_off() -> None:
    """A wait that ended (set) leaves an alarm that must not end a later wait of the task."""
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, event.set)
    assert await await_event(event, 0.1) is True
    later = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, later.set)
    assert await await_event(later, 5.0) is True  # not cut short at 0.1 s


def test_many_waits_on_several_loops() -> None:
    """300 waits on each of three loops (threads): half set in time, half timing out."""
    failures: list[str] = []

    async def one(i: int) -> None:
        event = asyncio.Event()
        if i % 2 == 0:
            asyncio.get_running_loop().call_later(0.01 + (i % 7) / 100, event.set)
            expected = True
        else:
            expected = False
        started = time.monotonic()
        got = await await_event(event, 0.15 + (i % 5) / 100)
        took = time.monotonic() - started
        if got is not expected or took > 2.0:
            failures.append(f"wait {i}: {got} after {took:.2f} s")

    async def many() -> None:
        await asyncio.gather(*(one(i) for i in range(300)))

    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []


def test_in_a_forked_child() -> None:
    """A pre-fork server forks after the alarm thread started: the child gets its own."""
    assert asyncio.run(await_event(asyncio.Event(), 0.05)) is False  # the thread exists
    assert _compat._ALARMS._thread is not None
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a wait times out, in time
        try:
            started = time.monotonic()
            ok = asyncio.run(asyncio.wait_for(await_event(asyncio.Event(), 0.1), 5)) is False
            ok = ok and time.monotonic() - started < 2.0
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


async def test_release_resources_ends_the_thread_unless_a_wait_needs_it() -> None:
    import aws_wrapper.aio as aw

    assert await await_event(asyncio.Event(), 0.01) is False  # the thread runs
    waiting = asyncio.create_task(await_event(asyncio.Event(), 5.0))
    await asyncio.sleep(0.02)
    await aw.release_resources()  # a wait still has its alarm: the thread stays
    thread = _compat._ALARMS._thread
    assert thread is not None and thread.is_alive()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await aw.release_resources()
    assert not thread.is_alive() and _compat._ALARMS._thread is None
    assert await await_event(asyncio.Event(), 0.05) is False  # and starts again on demand
