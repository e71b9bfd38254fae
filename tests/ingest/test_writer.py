"""Group commit: concurrent submissions share transactions; every wait is bounded; a database
error answers 503 and the writer carries on; one bad row never fails its group."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.errors import Unavailable
from ingest.writer import Writer
from retour.models import Feedback, Procedure, utcnow
from tests.factories import make_row
from tests.ingest.conftest import stored_feedback


@contextmanager
def writes_blocked(engine: Engine) -> Iterator[None]:
    """Another connection holds the database's write lock, as a stuck process would."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        connection.begin()
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("LOCK TABLE feedback IN EXCLUSIVE MODE")
        yield
        connection.rollback()


async def add_retrying(writer: Writer, row: dict[str, Any]) -> tuple[int, str]:
    """As the widget does: after a 503, the same submission again (same client_id)."""
    for _ in range(50):
        try:
            return await writer.add_feedback(row)
        except Unavailable:
            await asyncio.sleep(0.1)
    raise AssertionError("still answered 503 after 50 tries")


def test_concurrent_submissions_share_transactions_and_dedupe_in_a_group(
    procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[list[tuple[int, str]], int]:
        writer = Writer(engine)
        writer.start()
        repeated = make_row(procedure)
        rows = [dict(repeated) for _ in range(10)] + [make_row(procedure) for _ in range(90)]
        results = await asyncio.gather(*(writer.add_feedback(row) for row in rows))
        await writer.stop()
        return list(results), writer.groups

    results, groups = asyncio.run(scenario())
    # A hundred concurrent submissions: a handful of transactions, not a hundred.
    assert groups <= 10, groups
    assert len(set(results[:10])) == 1  # same client_id, same answer
    assert len({feedback_id for feedback_id, _ in results}) == 91
    rows = stored_feedback(engine)
    assert len(rows) == 91
    assert {(row.id, row.receipt) for row in rows} == set(results)


def test_one_bad_row_does_not_fail_its_group(procedure: Procedure, engine: Engine) -> None:
    async def scenario() -> list[Any]:
        writer = Writer(engine)
        writer.start()
        rows = [make_row(procedure) for _ in range(5)]
        # Its procedure does not exist (deleted a second ago, say): the foreign key refuses it.
        rows.insert(2, make_row(procedure, procedure_id="supprimee"))
        results = await asyncio.gather(
            *(writer.add_feedback(row) for row in rows), return_exceptions=True
        )
        await writer.stop()
        return list(results)

    results = asyncio.run(scenario())
    assert isinstance(results[2], Unavailable)
    assert all(isinstance(result, tuple) for i, result in enumerate(results) if i != 2)
    assert len(stored_feedback(engine)) == 5


def test_a_submission_kept_waiting_is_answered_503_and_its_retry_stored_once(
    procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[float, tuple[int, str], tuple[int, str]]:
        writer = Writer(engine, answer_timeout=0.5)
        writer.start()
        row = make_row(procedure)
        with writes_blocked(engine):
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await writer.add_feedback(row)
            waited = time.monotonic() - started
        # The lock is gone: the late commit and the retry make one row.
        retried = await add_retrying(writer, row)
        repeated = await add_retrying(writer, row)
        await writer.stop()
        return waited, retried, repeated

    waited, retried, repeated = asyncio.run(scenario())
    assert 0.5 <= waited < 5  # not the 10 s of SQLite's busy timeout, nor forever
    assert retried == repeated
    assert [(row.id, row.receipt) for row in stored_feedback(engine)] == [retried]


def test_a_full_queue_answers_503_at_once(procedure: Procedure, engine: Engine) -> None:
    async def scenario() -> tuple[float, int]:
        writer = Writer(engine, max_queued=2, answer_timeout=30)
        writer.start()
        with writes_blocked(engine):
            # The first is taken by the writer (blocked on the lock), two more fill the queue.
            waiting = [asyncio.create_task(writer.add_feedback(make_row(procedure)))]
            await asyncio.sleep(0.3)
            waiting += [asyncio.create_task(writer.add_feedback(make_row(procedure)))]
            waiting += [asyncio.create_task(writer.add_feedback(make_row(procedure)))]
            await asyncio.sleep(0.1)
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await writer.add_feedback(make_row(procedure))
            refused_in = time.monotonic() - started
        stored = await asyncio.gather(*waiting)
        await writer.stop()
        return refused_in, len(stored)

    refused_in, stored = asyncio.run(scenario())
    assert refused_in < 0.5
    assert stored == 3 == len(stored_feedback(engine))


def test_stop_commits_what_is_queued(procedure: Procedure, engine: Engine) -> None:
    async def scenario() -> list[asyncio.Task[tuple[int, str]]]:
        writer = Writer(engine)
        writer.start()
        tasks = [asyncio.create_task(writer.add_feedback(make_row(procedure))) for _ in range(50)]
        await asyncio.sleep(0)  # all queued
        await writer.stop()
        await asyncio.gather(*tasks)
        with pytest.raises(Unavailable):  # closed: refused, never lost in a queue
            await writer.add_feedback(make_row(procedure))
        return tasks

    tasks = asyncio.run(scenario())
    assert len(stored_feedback(engine)) == len(tasks) == 50


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

    # The writer carried on by itself.
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


def test_rows_read_back_through_the_orm(
    client: httpx.Client, submission: Any, engine: Engine
) -> None:
    """The group insert (SQLAlchemy Core) stores what the console reads through the ORM."""
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
    assert stored.channel == "online"
    assert (stored.honeypot, stored.origin_registered, stored.status) == (True, True, "spam")


def test_client_ids_are_unique_per_row(procedure: Procedure, engine: Engine) -> None:
    client_id = str(uuid.uuid4())

    async def scenario() -> set[tuple[int, str]]:
        writer = Writer(engine)
        writer.start()
        first = await writer.add_feedback(make_row(procedure, client_id=client_id))
        # Another comment with the same client_id: the first submission's answer.
        second = await writer.add_feedback(make_row(procedure, "Autre", client_id=client_id))
        await writer.stop()
        return {first, second}

    assert len(asyncio.run(scenario())) == 1
    assert [row.comment for row in stored_feedback(engine)] == ["Rien ne marche."]
