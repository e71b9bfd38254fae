"""Sign-in throttling: failed attempts counted per account and per address.

`LoginThrottle.from_settings(settings)` keeps its counters in memory, or in Redis when
`settings.redis_url` is set so that every console process shares them (in memory while Redis
does not answer: `retour.redis_outage`). The sign-in route
asks `retry_after(email, address)` before checking a password (429 with Retry-After when it
answers a number), calls `failed(...)` after a wrong password and `succeeded(email)` after a
right one.
"""

from __future__ import annotations

import math
import time
from typing import Final

from limits import RateLimitItemPerMinute

from retour.redis_outage import SharedLimiter
from retour.settings import Settings

PER_ACCOUNT: Final = RateLimitItemPerMinute(5, 15)  # 5 failures per account per 15 minutes
PER_ADDRESS: Final = RateLimitItemPerMinute(20, 15)  # 20 failures per address per 15 minutes


class LoginThrottle:
    def __init__(self, storage_uri: str = "memory://", key_prefix: str = "retour-login") -> None:
        self._limiter = SharedLimiter(storage_uri, key_prefix, "sign-in throttling")

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(settings.redis_url or "memory://")

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds to wait when this account or address failed too often, else None."""
        waits = []
        for item, key in (
            (PER_ACCOUNT, f"account:{email.lower()}"),
            (PER_ADDRESS, f"ip:{address}"),
        ):
            if not self._limiter.test(item, key):
                reset = self._limiter.get_window_stats(item, key).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def failed(self, email: str, address: str) -> None:
        self._limiter.hit(PER_ACCOUNT, f"account:{email.lower()}")
        self._limiter.hit(PER_ADDRESS, f"ip:{address}")

    def succeeded(self, email: str) -> None:
        self._limiter.clear(PER_ACCOUNT, f"account:{email.lower()}")
