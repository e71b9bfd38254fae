"""Blocking work in a worker thread that a cancelled caller still waits for."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_to_completion(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in the default executor. If the caller is cancelled (a
    lifespan ending), the cancellation goes through only once the thread has finished.

    A thread cannot be stopped, and `asyncio.to_thread` or anyio's `run_sync` let a
    cancelled caller go at once: the lifespan then disposes of the database engine while
    the thread still holds one of its connections, which is later dropped still open.
    """
    future = asyncio.get_running_loop().run_in_executor(
        None, functools.partial(function, *args, **kwargs)
    )
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await future
        raise
