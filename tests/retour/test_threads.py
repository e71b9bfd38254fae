"""A cancelled caller of `run_to_completion` waits for its thread (lifespans rely on it)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from retour.threads import run_to_completion


def test_result_comes_back() -> None:
    assert asyncio.run(run_to_completion(pow, 2, exp=10)) == 1024


def test_cancellation_waits_for_the_thread_to_finish() -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        release.wait(5)
        finished.set()

    async def scenario() -> None:
        task = asyncio.create_task(run_to_completion(work))
        while not started.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the thread
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished.is_set()

    asyncio.run(scenario())


def test_errors_of_the_function_reach_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no")

    with pytest.raises(LookupError):
        asyncio.run(run_to_completion(fail))
