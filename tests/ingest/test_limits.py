"""Rate limits: per client address and per procedure, X-Forwarded-For only from trusted proxies,
and one limit shared by several processes through Redis."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from ingest.app import create_app
from ingest.limits import RateLimits
from retour.models import Procedure
from retour.settings import Settings
from retour.signing import FormTokens
from tests.factories import make_procedure
from tests.ingest.conftest import ORIGIN, stored_feedback
from tests.live import serve_in_process, serve_in_thread


def limited_client(settings: Settings, **limits: Any) -> Iterator[httpx.Client]:
    with (
        # As `retour serve` does: the limiter, not uvicorn, decides whom to believe.
        serve_in_thread(
            create_app(dataclasses.replace(settings, **limits)), proxy_headers=False
        ) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        yield http


def body_for(procedure: Procedure, settings: Settings) -> dict[str, Any]:
    return {
        "procedure_id": procedure.id,
        "token": FormTokens(settings.secret_key).issue(procedure.id),
        "client_id": str(uuid.uuid4()),
        "satisfaction": 3,
        "page_url": f"{ORIGIN}/fin",
    }


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 3600
    error = response.json()["error"]
    assert error["code"] == "rate_limited" and error["message"]


def test_per_address_limit(settings: Settings, procedure: Procedure, engine: Any) -> None:
    for client in limited_client(settings, rate_limit="3/minute"):
        answers = [
            client.post("/api/v1/feedback", json=body_for(procedure, settings)) for _ in range(5)
        ]
        assert [answer.status_code for answer in answers[:3]] == [202] * 3
        for answer in answers[3:]:
            assert_limited(answer)
        assert int(answers[3].headers["retry-after"]) <= 60
    assert len(stored_feedback(engine)) == 3


def test_per_procedure_limit(settings: Settings, session: Session) -> None:
    flooded = make_procedure(session)
    other = make_procedure(session)
    for client in limited_client(settings, procedure_rate_limit="2/hour"):
        answers = [
            client.post("/api/v1/feedback", json=body_for(flooded, settings)) for _ in range(3)
        ]
        assert [answer.status_code for answer in answers[:2]] == [202, 202]
        assert_limited(answers[2])
        assert client.post("/api/v1/feedback", json=body_for(other, settings)).status_code == 202


def test_impressions_are_limited_per_address_too(settings: Settings, procedure: Procedure) -> None:
    beacon = {"procedure_id": procedure.id, "event": "view", "page_url": ORIGIN}
    for client in limited_client(settings, rate_limit="1/hour"):
        # Page views come more often than submissions: ten times the submission limit.
        answers = [client.post("/api/v1/impressions", json=beacon) for _ in range(11)]
        assert [answer.status_code for answer in answers[:10]] == [204] * 10
        assert_limited(answers[10])


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    settings: Settings, procedure: Procedure
) -> None:
    def send(client: httpx.Client, forwarded: str) -> int:
        body = body_for(procedure, settings)
        headers = {"X-Forwarded-For": forwarded}
        return client.post("/api/v1/feedback", json=body, headers=headers).status_code

    # Behind a trusted proxy, each citizen has their own budget.
    for client in limited_client(settings, rate_limit="1/hour", trusted_proxies=("127.0.0.0/8",)):
        assert send(client, "203.0.113.5") == 202
        assert send(client, "203.0.113.6") == 202
        # A spoofed left-most hop changes nothing: the proxy appended the real address.
        assert send(client, "198.51.100.1, 203.0.113.5") == 429
    # Not from a trusted proxy: the header is anyone's to write, so it is ignored.
    for client in limited_client(settings, rate_limit="1/hour"):
        assert send(client, "203.0.113.5") == 202
        assert send(client, "203.0.113.6") == 429


def scope_from(peer: str, forwarded: str | None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 1)}


@pytest.mark.parametrize(
    ("peer", "forwarded", "address"),
    [
        pytest.param("10.0.0.2", "203.0.113.5", "203.0.113.5", id="one-proxy"),
        pytest.param("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.7", "203.0.113.5", id="two-proxies"),
        pytest.param("10.0.0.2", None, "10.0.0.2", id="no-header"),
        pytest.param("10.0.0.2", "10.0.0.9", "10.0.0.9", id="all-trusted"),
        pytest.param("192.0.2.1", "203.0.113.5", "192.0.2.1", id="untrusted-peer"),
        pytest.param("10.0.0.2", "2001:db8::1", "2001:db8::1", id="ipv6"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, address: str) -> None:
    limits = RateLimits(Settings(secret_key="x" * 32, trusted_proxies=("10.0.0.0/8",)))
    assert limits.client_address(scope_from(peer, forwarded)) == address


@pytest.mark.slow
def test_two_processes_sharing_redis_enforce_one_limit(
    settings: Settings, procedure: Procedure, redis_url: str, engine: Any
) -> None:
    env = {
        "RETOUR_DATABASE_URL": settings.database_url,
        "RETOUR_SECRET_KEY": settings.secret_key,
        "RETOUR_REDIS_URL": redis_url,
        "RETOUR_REDIS_PREFIX": f"test-{uuid.uuid4().hex}",
        "RETOUR_RATE_LIMIT": "5/hour",
    }
    with serve_in_process(env) as (first, _), serve_in_process(env) as (second, _):
        statuses = []
        for n in range(8):
            server = (first, second)[n % 2]
            response = httpx.post(
                f"{server.url}/api/v1/feedback", json=body_for(procedure, settings)
            )
            statuses.append(response.status_code)
    assert statuses == [202] * 5 + [429] * 3
    assert len(stored_feedback(engine)) == 5
