"""Limits while Redis does not answer: counted in memory, one warning, Redis again after."""

from __future__ import annotations

import logging

import pytest
from limits import RateLimitItemPerMinute

from retour.redis_outage import SharedLimiter
from tests.live import free_port

ITEM = RateLimitItemPerMinute(3)


def test_an_unreachable_redis_limits_in_memory_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = SharedLimiter(f"redis://127.0.0.1:{free_port()}/0", "test", "sign-in throttling")
    with caplog.at_level(logging.WARNING, logger="retour.redis"):
        answers = [limiter.hit(ITEM, "account:a") for _ in range(5)]
    assert answers == [True, True, True, False, False]  # still limited, in this process
    assert limiter.outage.down
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "Redis unreachable" in warnings[0]
    assert "sign-in throttling counted in this process's memory" in warnings[0]


def test_shared_again_once_redis_answers(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    limiter = SharedLimiter(redis_url, f"test-{free_port()}", "staff API limits")
    limiter.outage.failed(ConnectionError("refused"))
    limiter.outage._retry_at = 0.0  # the retry interval has passed
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retour.redis"):
        assert limiter.hit(ITEM, "key:1")
    assert not limiter.outage.down
    assert [r.getMessage() for r in caplog.records] == [
        "Redis answers again: staff API limits shared through it again"
    ]
