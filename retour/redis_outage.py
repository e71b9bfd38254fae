"""When Redis is unreachable, limits fall back to each process's memory, with one warning.

Redis only holds rate-limit and throttle counters (docs/operations.md). Losing it must not
lose a citizen's submission nor lock staff out, and must not let an attacker through
unlimited either: while it does not answer, every limit is counted in the process's own
memory (so with N processes the real limit is up to N times the configured one), Redis is
tried again every RETRY_INTERVAL, and the shared counters take over once it answers.
Each process logs one warning when Redis stops answering and one when it answers again.

    outage = RedisOutage("ingest rate limits")
    if outage.use_redis():
        try:
            count = await redis_storage.incr(...)
        except REDIS_ERRORS as exc:
            outage.failed(exc)       # warns once, then memory for RETRY_INTERVAL
        else:
            outage.answered()
    # ...else count in memory

`SharedLimiter` does this for the console's synchronous moving-window limiters.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Final

from limits import RateLimitItem
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger("retour.redis")

# Seconds a Redis call may take before it counts as a failure: a Redis that stopped
# answering (rather than refusing) must not hold requests (redis-py waits forever by default).
REDIS_TIMEOUT: Final = 1.0
REDIS_OPTIONS: Final = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
RETRY_INTERVAL: Final = 1.0  # seconds on memory before Redis is tried again
REDIS_ERRORS: Final = (RedisError, OSError)


class RedisOutage:
    """Whether Redis is taken as unreachable, and the one warning per outage."""

    def __init__(self, what: str, retry_interval: float = RETRY_INTERVAL) -> None:
        self._what = what
        self._retry_interval = retry_interval
        self._down = False
        self._retry_at = 0.0
        self._lock = threading.Lock()  # the console calls from several threads

    @property
    def down(self) -> bool:
        return self._down

    def use_redis(self) -> bool:
        return not self._down or time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + self._retry_interval
            if self._down:
                return
            self._down = True
        log.warning(
            "Redis unreachable (%s: %s): %s counted in this process's memory until it answers",
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "",
            self._what,
        )

    def answered(self) -> None:
        if self._down:
            with self._lock:
                if not self._down:
                    return
                self._down = False
            log.warning("Redis answers again: %s shared through it again", self._what)


class SharedLimiter:
    """`limits`' MovingWindowRateLimiter in Redis when configured, in memory while it is down.

    Counts made in memory during an outage are not carried over to Redis: a limit restarts
    its window when Redis comes back, as it does when Redis restarts empty."""

    def __init__(self, storage_uri: str, key_prefix: str, what: str) -> None:
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._redis: MovingWindowRateLimiter | None = None
        if storage_uri.startswith(("redis", "unix")):
            storage = storage_from_string(storage_uri, key_prefix=key_prefix, **REDIS_OPTIONS)
            self._redis = MovingWindowRateLimiter(storage)
        elif storage_uri != "memory://":
            self._memory = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.outage = RedisOutage(what)

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return bool(self._call("hit", item, *identifiers))

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return bool(self._call("test", item, *identifiers))

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> Any:
        return self._call("get_window_stats", item, *identifiers)

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._call("clear", item, *identifiers)

    def _call(self, method: str, *args: Any) -> Any:
        if self._redis is not None and self.outage.use_redis():
            try:
                result = getattr(self._redis, method)(*args)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.answered()
                return result
        return getattr(self._memory, method)(*args)
