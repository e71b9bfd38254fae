"""The writer process: started on demand, restarted after it dies, never outliving its parent."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url

from ingest.app import create_app
from ingest.errors import Unavailable
from ingest.frames import encode_frame, encode_items, read_frame
from ingest.rows import IncomingFeedback
from ingest.state import IngestState
from ingest.submissions import Accepted, Submission, accept, parse_submission
from ingest.writer import RESTART_DELAY, Writer, database_target
from retour.models import Procedure
from retour.settings import Settings
from tests.factories import make_incoming
from tests.ingest.conftest import ORIGIN, stored_feedback

ROOT = Path(__file__).resolve().parents[2]


def body(procedure: Procedure, token: str, client_id: str) -> dict[str, object]:
    return {
        "procedure_id": procedure.id,
        "token": token,
        "client_id": client_id,
        "satisfaction": 3,
        "comment": "Écrivez-moi au 06 12 34 56 78.",
        "page_url": f"{ORIGIN}/demarche",
    }


def test_a_killed_writer_process_answers_503_and_is_restarted(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[Accepted, list[int | None], str, Accepted, Accepted]:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            ingest: IngestState = state["ingest"]  # type: ignore[index]
            token = ingest.tokens.issue(procedure.id)
            pids = [ingest.writer.process_id]  # none before the first submission
            new = body(procedure, token, str(uuid.uuid4()))
            first = await accept(ingest, parse_submission(new))
            pids.append(ingest.writer.process_id)
            assert pids[-1] is not None
            os.kill(pids[-1], signal.SIGKILL)
            retried = str(uuid.uuid4())
            # Dead, and not restarted at once: a 503, and the client keeps its client_id.
            refused = "stored"
            for _ in range(50):
                try:
                    await accept(ingest, parse_submission(body(procedure, token, retried)))
                except Unavailable:
                    refused = "unavailable"
                    break
                await asyncio.sleep(0.02)  # the death not noticed yet: that one was stored
            await asyncio.sleep(RESTART_DELAY + 0.1)
            again = await accept(ingest, parse_submission(body(procedure, token, retried)))
            pids.append(ingest.writer.process_id)
            repeat = await accept(ingest, parse_submission(body(procedure, token, retried)))
            return first, pids, refused, again, repeat

    first, pids, refused, again, repeat = asyncio.run(scenario())
    assert pids[0] is None and pids[2] not in (None, pids[1])
    assert refused == "unavailable"
    assert repeat == again
    rows = stored_feedback(engine)
    assert [row.id for row in rows] == [first.id, again.id]
    assert all(row.comment == "Écrivez-moi au [téléphone masqué]." for row in rows)
    assert all(row.pii_categories == "phone" for row in rows)


@contextmanager
def writes_blocked(engine: Engine) -> Iterator[None]:
    """Another connection holds the database's write lock, as a stuck process would."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
        connection.begin()
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("LOCK TABLE feedback IN EXCLUSIVE MODE")
        yield
        connection.rollback()


async def accept_retrying(ingest: IngestState, submission: Submission) -> Accepted:
    """Submit as the widget does: after a 503, again with the same client_id."""
    for _ in range(20):
        try:
            return await accept(ingest, submission)
        except Unavailable:
            await asyncio.sleep(0.1)
    raise AssertionError("still answered 503 after 20 tries")


def test_a_submission_kept_waiting_is_answered_503_and_its_retry_stored_once(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[float, Accepted, Accepted]:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            ingest = dataclasses.replace(
                state["ingest"],  # type: ignore[index]
                writer=Writer(engine, answer_timeout=0.5),
            )
            token = ingest.tokens.issue(procedure.id)
            submission = parse_submission(body(procedure, token, str(uuid.uuid4())))
            with writes_blocked(engine):
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await accept(ingest, submission)
                waited = time.monotonic() - started
            # The lock is gone: the late commit and the retry make one row. A loaded machine
            # may keep the retry waiting past 0.5 s as well (the busy handler's sleeps, the
            # late commit first): the client then retries again, as a real one does.
            retried = await accept_retrying(ingest, submission)
            repeated = await accept_retrying(ingest, submission)
            await ingest.writer.stop()
            return waited, retried, repeated

    waited, retried, repeated = asyncio.run(scenario())
    assert 0.5 <= waited < 5  # not the 10 s SQLite's busy timeout would take, nor forever
    assert retried == repeated
    assert [row.id for row in stored_feedback(engine)] == [retried.id]


def test_stop_kills_a_writer_process_that_does_not_finish(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    async def scenario() -> tuple[bool, float, int | None]:
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            writer = Writer(engine, stop_timeout=0.5)
            ingest = dataclasses.replace(state["ingest"], writer=writer)  # type: ignore[index]
            token = ingest.tokens.issue(procedure.id)
            submission = parse_submission(body(procedure, token, str(uuid.uuid4())))
            with writes_blocked(engine):
                waiting = asyncio.create_task(accept(ingest, submission))
                while writer.process_id is None:
                    await asyncio.sleep(0.05)
                pid = writer.process_id
                await asyncio.sleep(0.5)  # the submission reaches the process, which waits
                started = time.monotonic()
                await writer.stop()
                stopped_in = time.monotonic() - started
                outcome = await asyncio.gather(waiting, return_exceptions=True)
            return isinstance(outcome[0], Unavailable), stopped_in, pid

    answered_503, stopped_in, pid = asyncio.run(scenario())
    assert answered_503
    assert stopped_in < 5
    assert pid is not None and not Path(f"/proc/{pid}").exists()


def incoming(procedure: Procedure) -> IncomingFeedback:
    return make_incoming(procedure, "Mon IBAN : FR76 3000 6000 0112 3456 7890 189.")


def test_the_process_commits_what_it_read_and_ends_with_its_input(
    settings: Settings, procedure: Procedure, engine: Engine
) -> None:
    """A parent that stops, or dies (SIGKILL closes its pipes too), ends its writer process;
    what the process had read is committed first. SIGTERM and SIGINT, which reach a whole
    process group, do not stop it half-way."""
    with subprocess.Popen(
        [sys.executable, "-m", "ingest.writer_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(encode_frame(database_target(engine.url)))
            child.stdin.write(encode_items([(7, incoming(procedure))]))
            child.stdin.flush()
            [(request, (feedback_id, receipt))] = read_frame(child.stdout)
            assert request == 7 and isinstance(feedback_id, int) and len(receipt) == 11
            child.send_signal(signal.SIGTERM)
            child.send_signal(signal.SIGINT)
            time.sleep(0.2)
            assert child.poll() is None
            last = incoming(procedure)
            child.stdin.write(encode_items([(8, last)]))
            child.stdin.close()  # at once: the process has not read it yet
            assert child.wait(timeout=10) == 0
        finally:
            child.kill()
    rows = stored_feedback(engine)
    assert [row.client_id for row in rows][-1] == last.client_id
    assert rows[-1].comment == "Mon IBAN : [IBAN masqué]."


def test_database_targets_come_from_the_engine_url() -> None:
    sqlite = database_target(make_url("sqlite:////var/lib/retour/retour.db"))
    assert sqlite == ("sqlite", "/var/lib/retour/retour.db")
    postgresql = database_target(make_url("postgresql+psycopg://retour:s3cret@db:5433/retour"))
    assert postgresql == ("postgresql", "postgresql://retour:s3cret@db:5433/retour")
    with pytest.raises(ValueError, match="SQLite file"):
        database_target(make_url("sqlite://"))
