"""Deadline: a timeout that does not count the event loop's own lateness."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.limiter.deadline import Deadline


async def test_expires_on_time_when_the_loop_is_idle() -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with Deadline(0.05, 0.2):
            await asyncio.sleep(5)
    assert time.perf_counter() - started < 0.5


async def test_a_result_that_arrived_while_the_loop_was_busy_is_returned() -> None:
    """The loop blocks past the deadline; the answer arrives during the block."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def busy_loop() -> None:
        time.sleep(0.15)  # another request hogging the loop
        loop.call_soon(answer.set_result, "ok")  # the reply was read meanwhile

    loop.call_later(0.01, busy_loop)
    async with Deadline(0.05, 1.0) as deadline:
        assert await answer == "ok"
    assert deadline.extended >= 1


async def test_the_limit_bounds_the_wait_even_when_the_loop_stays_late() -> None:
    loop = asyncio.get_running_loop()
    stop = time.perf_counter() + 2.0

    def hog() -> None:
        time.sleep(0.06)
        if time.perf_counter() < stop:
            loop.call_soon(hog)

    loop.call_soon(hog)
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        async with Deadline(0.05, 0.3):
            await asyncio.sleep(5)
    assert time.perf_counter() - started < 0.3 + 0.5
    stop = 0.0  # end the hog


async def test_an_outer_cancellation_stays_a_cancellation() -> None:
    async def body() -> None:
        async with Deadline(5.0):
            await asyncio.sleep(5)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_no_timeout_no_trace() -> None:
    async with Deadline(1.0) as deadline:
        await asyncio.sleep(0)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    assert deadline.extended == 0
