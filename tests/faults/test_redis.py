"""Redis unreachable under load: limits fall back to each process's memory, nothing refused.

The documented choice (docs/operations.md): submissions are still accepted while Redis does
not answer, each worker then enforces the limits on its own (so at most `workers` times the
configured limit gets through), one warning per process says so, and the shared limits
return by themselves once Redis answers. Console sign-in throttling keeps working the same
way. Never a 500, never a 503 because of Redis.
"""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from retour.signing import FormTokens
from tests.conftest import TEST_SECRET
from tests.factories import make_user
from tests.faults.conftest import WORKERS, Stack
from tests.faults.load import Load
from tests.faults.proxy import TcpProxy
from tests.ingest.conftest import ORIGIN

pytestmark = pytest.mark.slow

LIMIT = 10  # submissions a minute per address
PASSWORD = "correct horse battery staple"  # tests.factories.make_user's
ACCOUNT_FAILURES = 5  # console.throttle.PER_ACCOUNT


def test_redis_outage_under_load(
    production: Stack, fault_engine: Engine, fault_procedures: list[str]
) -> None:
    with Session(fault_engine) as session:
        during, after = make_user(session).email, make_user(session).email
    with (
        TcpProxy(*production.redis_address) as proxy,
        production.serve(
            RETOUR_REDIS_URL=proxy.url_for(production.redis_url or ""),
            RETOUR_RATE_LIMIT=f"{LIMIT}/minute",
            RETOUR_TRUSTED_PROXIES="127.0.0.1",
        ) as (server, _),
    ):
        burst = _Burst(server.url, fault_procedures[2])
        load = Load(server.url, fault_procedures[:2], clients=4, forwarded_for=True)
        with load.running():
            load.wait_for_acknowledgements(20)
            shared_before = burst.accepted(f"192.0.2.{_n()}", LIMIT + 5)

            proxy.cut()
            time.sleep(0.5)
            alone = burst.accepted(f"192.0.2.{_n()}", WORKERS * LIMIT + 10)
            throttled_after = _failures_until_throttled(server.url, during)
            acknowledged_during = len(load.acknowledged)
            time.sleep(1)
            acknowledged_during = len(load.acknowledged) - acknowledged_during

            proxy.restore()
            time.sleep(2)  # past the interval after which each process tries Redis again
            shared_after = burst.accepted(f"192.0.2.{_n()}", LIMIT + 5)
            with httpx.Client(base_url=server.url) as client:
                sign_in_after = _sign_in(client, after, "wrong password")
            time.sleep(1)
    log = production.log()

    load.check(fault_engine)
    assert load.unavailable() == [], "a 503 because of Redis"
    assert acknowledged_during > 0, "submissions stopped while Redis was down"
    assert burst.statuses <= {202, 429}, burst.statuses
    assert shared_before == LIMIT
    # While Redis is down each worker counts on its own: limited, at worst WORKERS times over.
    assert LIMIT <= alone <= WORKERS * LIMIT
    assert throttled_after is not None, "sign-in throttling stopped while Redis was down"
    assert throttled_after <= WORKERS * ACCOUNT_FAILURES
    assert sign_in_after == 400  # a wrong password, told so: not throttled, not a 500
    assert shared_after == LIMIT, "the limit is not shared again after Redis came back"
    # One warning per process and limiter when Redis stops answering, one when it answers.
    unreachable = re.findall(r"Redis unreachable .*: (.+) counted", log)
    assert 1 <= unreachable.count("ingest rate limits") <= WORKERS
    assert 1 <= unreachable.count("sign-in throttling") <= WORKERS
    assert "Redis answers again: ingest rate limits" in log
    assert "Traceback" not in log


class _Burst:
    """Submissions from one address, each on a new connection (so spread over the workers)."""

    def __init__(self, url: str, procedure_id: str) -> None:
        self.url = url
        self.procedure_id = procedure_id
        self.token = FormTokens(TEST_SECRET).issue(procedure_id)
        self.statuses: set[int] = set()

    def accepted(self, address: str, count: int) -> int:
        accepted = 0
        for _ in range(count):
            body = {
                "procedure_id": self.procedure_id,
                "token": self.token,
                "client_id": str(uuid.uuid4()),
                "satisfaction": 2,
                "page_url": f"{ORIGIN}/etape",
            }
            response = httpx.post(
                f"{self.url}/api/v1/feedback",
                json=body,
                headers={"X-Forwarded-For": address},
                timeout=20,
            )
            self.statuses.add(response.status_code)
            accepted += response.status_code == 202
        return accepted


_addresses = iter(range(1, 250))


def _n() -> int:
    return next(_addresses)


def _sign_in(client: httpx.Client, email: str, password: str) -> int:
    page = client.get("/console/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:200]
    response = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": match.group(1)},
    )
    return response.status_code


def _failures_until_throttled(url: str, email: str) -> int | None:
    """Wrong passwords until the sign-in answers 429; how many it took (None: never)."""
    with httpx.Client(base_url=url, timeout=20) as client:
        for attempt in range(WORKERS * ACCOUNT_FAILURES + 1):
            status = _sign_in(client, email, "wrong password")
            assert status in (400, 429), status
            if status == 429:
                assert _sign_in(client, email, PASSWORD) == 429  # even the right password
                return attempt
    return None
