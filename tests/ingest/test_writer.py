"""Group commit: concurrent submissions share transactions; failures answer 503, never lose rows."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.app import create_app
from ingest.committer import connect
from ingest.state import IngestState
from ingest.submissions import Accepted, accept, parse_submission
from ingest.writer import HAND_OVER_AFTER, database_target
from retour.models import Feedback, Procedure, utcnow
from retour.settings import Settings
from tests.factories import make_incoming
from tests.ingest.conftest import ORIGIN, stored_feedback


def body_for(procedure: Procedure, token: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "procedure_id": procedure.id,
        "token": token,
        "client_id": client_id or str(uuid.uuid4()),
        "satisfaction": 2,
        "comment": "Trop long à remplir.",
        "page_url": f"{ORIGIN}/demarche",
    }


def test_concurrent_submissions_share_transactions_and_dedupe_in_a_batch(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[list[Accepted], int]:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            ingest: IngestState = state["ingest"]  # type: ignore[index]
            token = ingest.tokens.issue(procedure.id)
            repeated = str(uuid.uuid4())
            bodies = [body_for(procedure, token, repeated) for _ in range(10)]
            bodies += [body_for(procedure, token) for _ in range(90)]
            results = await asyncio.gather(
                *(accept(ingest, parse_submission(body)) for body in bodies)
            )
            return list(results), ingest.writer.batches

    results, batches = asyncio.run(scenario())
    # A hundred concurrent submissions: a handful of transactions, not a hundred. (How many
    # depends on time: what waited over HAND_OVER_AFTER leaves before the loop's turn ends.)
    assert batches <= 10, batches
    assert len({result for result in results[:10]}) == 1  # same client_id, same answer
    assert len({result.id for result in results}) == 91
    rows = stored_feedback(engine)
    assert len(rows) == 91
    assert {(row.id, row.receipt) for row in rows} == {(r.id, r.receipt) for r in results}


def test_database_failure_answers_503_and_a_retry_stores_once(
    client: httpx.Client, submission: Any, engine: Engine
) -> None:
    body = submission()
    # A real failure: the table is gone for a moment.
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE feedback RENAME TO feedback_away"))
    try:
        refused = client.post("/api/v1/feedback", json=body)
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE feedback_away RENAME TO feedback"))
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "unavailable"
    assert stored_feedback(engine) == []

    retried = client.post("/api/v1/feedback", json=body)
    assert retried.status_code == 202
    again = client.post("/api/v1/feedback", json=body)
    assert again.json() == retried.json()
    assert len(stored_feedback(engine)) == 1


def test_concurrent_repeats_over_http_store_one_row(
    client: httpx.Client, submission: Any, engine: Engine
) -> None:
    body = json.dumps(submission())
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda _: client.post(
                    "/api/v1/feedback", content=body, headers={"Content-Type": "text/plain"}
                ),
                range(32),
            )
        )
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.text for answer in answers}) == 1
    assert len(stored_feedback(engine)) == 1


def test_rows_written_by_hand_read_back_as_sqlalchemy_writes_them(
    client: httpx.Client, submission: Any, engine: Engine, backend: str
) -> None:
    """The writer's hand-written SQL stores values in SQLAlchemy's own forms (the console
    reads them through SQLAlchemy, and on SQLite compares datetimes as text)."""
    before = utcnow()
    answer = client.post("/api/v1/feedback", json=submission(website="robot"))
    assert answer.status_code == 202
    with Session(engine) as session:
        stored = session.get(Feedback, answer.json()["id"])
    assert stored is not None
    assert before <= stored.received_at <= utcnow()
    assert stored.received_at.tzinfo is not None
    assert stored.updated_at == stored.received_at
    assert stored.acknowledged_at is None
    assert (stored.honeypot, stored.origin_registered, stored.status) == (True, True, "spam")
    if backend == "sqlite":
        with engine.connect() as connection:
            raw = connection.execute(
                text("SELECT received_at FROM feedback WHERE id = :id"), {"id": stored.id}
            ).scalar_one()
        # SQLAlchemy's SQLite DATETIME text: always six digits of microseconds.
        assert raw == stored.received_at.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_the_wal_is_checkpointed_by_its_own_thread(
    settings: Settings, procedure: Procedure, engine: Engine, backend: str, session: Session
) -> None:
    """The writer's commits never checkpoint (that stalled a batch for 100-360 ms); the
    checkpointer thread copies the WAL into the database file instead."""
    if backend != "sqlite":
        pytest.skip("a SQLite WAL matter")
    database = Path(str(engine.url.database))
    session.close()  # a reader's open snapshot would hold any checkpoint back

    async def scenario() -> int:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            ingest: IngestState = state["ingest"]  # type: ignore[index]
            token = ingest.tokens.issue(procedure.id)
            before = database.stat().st_size
            for _ in range(3):
                bodies = [
                    {**body_for(procedure, token), "comment": f"{uuid.uuid4()} " * 40}
                    for _ in range(100)
                ]
                await asyncio.gather(*(accept(ingest, parse_submission(b)) for b in bodies))
            # 300 comments of 1.5 kB (and their full-text index) are written back into the
            # file: within three checkpoint intervals, or a few more on a loaded machine.
            for _ in range(100):
                await asyncio.sleep(0.1)
                if database.stat().st_size - before > 300 * 1_500:
                    break
            return database.stat().st_size - before

    assert asyncio.run(scenario()) > 300 * 1_500
    assert len(stored_feedback(engine)) == 300


def test_the_writers_statement_journal_stays_in_memory(engine: Engine, backend: str) -> None:
    """Its multi-row INSERT fires the full-text trigger, so SQLite keeps a statement journal:
    on disk, a temporary file created, written and deleted by every commit."""
    if backend != "sqlite":
        pytest.skip("a SQLite setting")
    connection = connect(database_target(engine.url))
    try:
        assert connection.execute("PRAGMA temp_store").fetchone() == (2,)  # MEMORY
        assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL, still
    finally:
        connection.close()


def test_a_long_loop_turn_hands_submissions_over_as_it_goes(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    """Under load one turn of the loop validates dozens of submissions. Those queued for
    HAND_OVER_AFTER already go to the writer process before the turn ends, so that it
    commits while the loop goes on; younger ones wait for the end of the turn."""

    async def scenario() -> tuple[list[int], bool]:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            ingest: IngestState = state["ingest"]  # type: ignore[index]
            writer = ingest.writer
            await writer.add_feedback(make_incoming(procedure, "démarre le processus"))
            frames = [writer.frames_sent]
            # One stretch of the loop's work, with no await: one turn.
            first = writer.add_feedback(make_incoming(procedure, "premier"))
            time.sleep(2 * HAND_OVER_AFTER)
            # The first waited long enough: it leaves with this one.
            second = writer.add_feedback(make_incoming(procedure, "deuxième"))
            frames.append(writer.frames_sent)
            handed_over_at = time.monotonic()
            # Young: it waits for the end of the turn.
            third = writer.add_feedback(make_incoming(procedure, "troisième"))
            # Unless a loaded machine stalled this thread for the whole delay meanwhile.
            quick = time.monotonic() - handed_over_at < HAND_OVER_AFTER
            frames.append(writer.frames_sent)
            await asyncio.gather(first, second, third)
            frames.append(writer.frames_sent)
            return frames, quick

    (started, mid_turn, young, ended), quick = asyncio.run(scenario())
    assert mid_turn == started + 1
    if quick:
        assert (young, ended) == (started + 1, started + 2)
    assert {row.comment for row in stored_feedback(engine)} >= {"premier", "deuxième", "troisième"}
