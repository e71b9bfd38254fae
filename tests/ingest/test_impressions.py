"""POST /api/v1/impressions: counted per procedure, UTC day, origin and event; nothing personal."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ingest.impressions import ImpressionCounter
from ingest.writer import Writer
from retour.intake import ImpressionKey
from retour.models import ImpressionCount, Procedure, utcnow
from tests.ingest.conftest import ORIGIN


def beacon(client: httpx.Client, body: Any, content_type: str = "text/plain") -> httpx.Response:
    return client.post(
        "/api/v1/impressions", content=json.dumps(body), headers={"Content-Type": content_type}
    )


def counts(engine: Engine) -> dict[tuple[str, dt.date, str, str], int]:
    with engine.connect() as connection:
        rows = connection.execute(select(ImpressionCount.__table__))  # type: ignore[attr-defined]
        return {(r.procedure_id, r.day, r.origin, r.event): r.count for r in rows}


def counts_after_a_flush(
    engine: Engine, expected: dict[tuple[str, dt.date, str, str], int]
) -> dict[tuple[str, dt.date, str, str], int]:
    """The counts once flushed: about a second after the beacons (a few on a loaded machine)."""
    deadline = time.monotonic() + 10
    while (found := counts(engine)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_impressions_are_counted_per_day_origin_and_event(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    page = f"{ORIGIN}/demarche?dossier=42"
    bodies = (
        [{"procedure_id": procedure.id, "event": "view", "page_url": page}] * 30
        + [{"procedure_id": procedure.id, "event": "open", "page_url": page}] * 3
        + [{"procedure_id": procedure.id, "event": "view", "page_url": "https://copie.fr/x"}]
    )
    # Concurrent beacons, counted in memory and flushed about once a second.
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda body: beacon(client, body).status_code, bodies))
    assert statuses == [204] * len(bodies)
    today = dt.datetime.now(dt.UTC).date()
    expected = {
        (procedure.id, today, ORIGIN, "view"): 30,
        (procedure.id, today, ORIGIN, "open"): 3,
        (procedure.id, today, "https://copie.fr", "view"): 1,
    }
    assert counts_after_a_flush(engine, expected) == expected
    with engine.connect() as connection:
        row = connection.execute(select(ImpressionCount.__table__)).first()  # type: ignore[attr-defined]
    assert row is not None
    assert set(row._mapping) == {"procedure_id", "day", "origin", "event", "count", "last_seen_at"}


def test_impression_sets_no_cookie_and_allows_any_origin(
    client: httpx.Client, procedure: Procedure
) -> None:
    response = client.post(
        "/api/v1/impressions",
        content=json.dumps({"procedure_id": procedure.id, "event": "view", "page_url": ORIGIN}),
        headers={"Content-Type": "text/plain", "Origin": ORIGIN},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        pytest.param(
            {"procedure_id": None, "event": "view", "page_url": ORIGIN},
            422,
            "procedure_id",
            id="no-procedure",
        ),
        pytest.param({"event": "click", "page_url": ORIGIN}, 422, "event", id="bad-event"),
        pytest.param({"event": "view"}, 422, "page_url", id="no-page"),
        pytest.param({"event": "view", "page_url": "file:///etc"}, 422, "page_url", id="bad-page"),
        pytest.param(
            {"procedure_id": "inconnue", "event": "view", "page_url": ORIGIN},
            404,
            "procedure_id",
            id="unknown",
        ),
    ],
)
def test_refused_impressions(
    client: httpx.Client, procedure: Procedure, body: dict[str, Any], status: int, field: str
) -> None:
    merged = {"procedure_id": procedure.id, **body}
    response = beacon(client, {key: value for key, value in merged.items() if value is not None})
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


def test_impression_body_errors(client: httpx.Client) -> None:
    assert beacon(client, {}, "application/xml").status_code == 415
    assert beacon(client, "x" * 20_000).status_code == 413
    bad = client.post("/api/v1/impressions", content=b"{", headers={"Content-Type": "text/plain"})
    assert bad.status_code == 400


def test_flushes_add_up_and_a_refused_flush_is_counted_again(
    procedure: Procedure, engine: Engine
) -> None:
    today = utcnow().date()
    key = ImpressionKey(procedure_id=procedure.id, day=today, origin=ORIGIN, event="view")

    async def scenario() -> list[dict[tuple[str, dt.date, str, str], int]]:
        writer = Writer(engine)
        writer.start()
        counter = ImpressionCounter(writer)
        seen = []
        for _ in range(3):
            counter.add(key, utcnow())
        await counter.flush()
        seen.append(counts(engine))
        counter.add(key, utcnow())
        await counter.flush()
        seen.append(counts(engine))
        await writer.stop()
        # A writer that refuses (stopped, or the database down): the counts wait in memory.
        counter.add(key, utcnow())
        await counter.flush()
        seen.append(counts(engine))
        writer = Writer(engine)
        writer.start()
        counter._writer = writer
        await counter.flush()
        seen.append(counts(engine))
        await writer.stop()
        return seen

    stored = asyncio.run(scenario())
    row = (procedure.id, today, ORIGIN, "view")
    assert stored == [{row: 3}, {row: 4}, {row: 4}, {row: 5}]
