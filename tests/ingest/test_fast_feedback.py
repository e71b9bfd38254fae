"""POST /api/v1/feedback answers the same through the fast path as through Starlette's stack."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ingest.app import create_app
from retour.models import Procedure
from retour.settings import Settings
from tests.ingest.conftest import ORIGIN, stored_feedback
from tests.live import serve_in_thread

URL = "/api/v1/feedback"


@pytest.fixture
def both(settings: Settings, procedure: Procedure) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The app with the fast path, and without it, serving the same database."""
    # Two submissions per address and per procedure pass; the third of each is refused.
    limited = dataclasses.replace(
        settings, rate_limit="2/minute", procedure_rate_limit="1000/minute"
    )
    with (
        serve_in_thread(create_app(limited)) as fast_server,
        serve_in_thread(create_app(limited, fast_feedback=False)) as slow_server,
        httpx.Client(base_url=fast_server.url) as fast,
        httpx.Client(base_url=slow_server.url) as slow,
    ):
        yield fast, slow


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in ("date", "server")]
    try:
        body: Any = response.json()
    except ValueError:
        body = response.content
    if response.status_code == 202:
        # The two apps store two different rows: compare the shape, not the values.
        body = {key: type(value).__name__ for key, value in body.items()}
    return response.status_code, headers, body


CASES: list[tuple[str, dict[str, str], Callable[[dict[str, Any]], bytes]]] = [
    ("valid", {"Content-Type": "text/plain;charset=UTF-8"}, lambda b: json.dumps(b).encode()),
    ("valid, cross-origin", {"Content-Type": "application/json", "Origin": ORIGIN},
     lambda b: json.dumps(b).encode()),
    ("malformed", {"Content-Type": "text/plain", "Origin": ORIGIN}, lambda b: b"{not json"),
    ("not an object", {"Content-Type": "application/json"}, lambda b: b"[1, 2]"),
    ("content type", {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN},
     lambda b: b"a=b"),
    ("too large", {"Content-Type": "application/json"}, lambda b: b" " * (17 * 1024)),
    ("invalid field", {"Content-Type": "application/json", "Origin": ORIGIN},
     lambda b: json.dumps({**b, "satisfaction": 7}).encode()),
    ("unknown procedure", {"Content-Type": "application/json"},
     lambda b: json.dumps({**b, "procedure_id": "nulle-part"}).encode()),
    ("forged token", {"Content-Type": "application/json", "Origin": ORIGIN},
     lambda b: json.dumps({**b, "token": b["token"][:-4] + "AAAA"}).encode()),
]  # fmt: skip


@pytest.mark.parametrize(("name", "headers", "body"), CASES, ids=[case[0] for case in CASES])
def test_same_answer_as_through_starlette(
    both: tuple[httpx.Client, httpx.Client],
    submission: Callable[..., dict[str, Any]],
    name: str,
    headers: dict[str, str],
    body: Callable[[dict[str, Any]], bytes],
) -> None:
    fast, slow = both
    answers = [
        answer(client.post(URL, content=body(submission()), headers=headers))
        for client in (fast, slow)
    ]
    assert answers[0] == answers[1]


def test_repeats_and_rate_limits_answer_alike(
    both: tuple[httpx.Client, httpx.Client],
    submission: Callable[..., dict[str, Any]],
    engine: Any,
) -> None:
    fast, slow = both
    for client in (fast, slow):
        # Each app has its own limiter: two submissions pass, the second a repeat.
        body = submission(client_id=str(uuid.uuid4()))
        first = client.post(URL, json=body)
        repeat = client.post(URL, json=body)
        assert first.status_code == repeat.status_code == 202
        assert repeat.json() == first.json()
    third = [answer(client.post(URL, json=submission())) for client in (fast, slow)]
    # Each app's window began at its own first submission (the first also starts its writer
    # process): their Retry-After may be a second apart, all else is the same.
    waits = [int(dict(headers)["retry-after"]) for _, headers, _ in third]
    assert third[0][0] == 429 and abs(waits[0] - waits[1]) <= 1
    same_wait = [
        (status, [(name, "N" if name == "retry-after" else value) for name, value in headers], body)
        for status, headers, body in third
    ]
    assert same_wait[0] == same_wait[1]
    assert len(stored_feedback(engine)) == 2


def test_a_bug_answers_500_alike_and_is_raised(settings: Settings) -> None:
    # Without the lifespan there is no ingest state: a bug of ours, not the client's.
    async def post(app: Any) -> tuple[int, list[tuple[str, str]], Any]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(URL, json={}, headers={"Origin": ORIGIN})
            return answer(response)

    fast = asyncio.run(post(create_app(settings)))
    slow = asyncio.run(post(create_app(settings, fast_feedback=False)))
    assert fast == slow
    assert fast[0] == 500 and fast[2]["error"]["code"] == "internal"


def test_a_client_gone_before_its_body_gets_no_answer_and_no_error_logged(
    settings: Settings, engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"200")],
        "client": ("192.0.2.7", 40000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def scenario() -> None:
        async with app.router.lifespan_context(app) as state:
            await app({**scope, "state": dict(state)}, receive, send)  # type: ignore[call-overload]

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert sent == []
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert stored_feedback(engine) == []
