"""Contact emails are erased once the answer was emailed, or after the retention period."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from retour import retention
from retour.models import AuditEvent, Feedback, PublicAnswer
from retour.retention import privacy, purge_contact_emails, run_purge_periodically
from retour.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_feedback, make_procedure, make_user

NOW = dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)
RETENTION = dt.timedelta(days=183)


def answer(session: Session, feedback: Feedback, *, emailed_at: dt.datetime | None) -> None:
    author = make_user(session, ministry_id=feedback.ministry_id)
    session.add(
        PublicAnswer(
            feedback_id=feedback.id,  # type: ignore[arg-type]
            procedure_id=feedback.procedure_id,
            ministry_id=feedback.ministry_id,
            body="Merci, c'est corrigé.",
            author_id=author.id,  # type: ignore[arg-type]
            emailed_at=emailed_at,
        )
    )
    session.commit()


def contact_of(engine: Engine, feedback_id: int | None) -> str | None:
    with Session(engine) as session:
        feedback = session.get(Feedback, feedback_id)
        assert feedback is not None
        return feedback.contact_email


def purge_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == retention.ACTION)
        return list(session.exec(query).all())


def test_erases_exactly_what_is_due(session: Session, engine: Engine, settings: Settings) -> None:
    procedure = make_procedure(session)
    due = make_feedback(
        session, procedure=procedure, contact_email="due@exemple.fr", received_at=NOW - RETENTION
    )
    one_second_early = make_feedback(
        session,
        procedure=procedure,
        contact_email="kept@exemple.fr",
        received_at=NOW - RETENTION + dt.timedelta(seconds=1),
    )
    emailed = make_feedback(
        session, procedure=procedure, contact_email="answered@exemple.fr", received_at=NOW
    )
    answer(session, emailed, emailed_at=NOW - dt.timedelta(minutes=5))
    answered_not_emailed = make_feedback(
        session, procedure=procedure, contact_email="waiting@exemple.fr", received_at=NOW
    )
    answer(session, answered_not_emailed, emailed_at=None)
    old_without_email = make_feedback(session, procedure=procedure, received_at=NOW - 2 * RETENTION)

    assert purge_contact_emails(engine, settings=settings, now=NOW) == 2

    assert contact_of(engine, due.id) is None
    assert contact_of(engine, emailed.id) is None
    assert contact_of(engine, one_second_early.id) == "kept@exemple.fr"
    assert contact_of(engine, answered_not_emailed.id) == "waiting@exemple.fr"
    assert contact_of(engine, old_without_email.id) is None
    events = {event.entity_id: event for event in purge_events(engine)}
    assert set(events) == {str(due.id), str(emailed.id)}
    for event in events.values():
        assert (event.actor_label, event.actor_id, event.entity) == ("system", None, "feedback")
        assert event.ministry_id == procedure.ministry_id
        assert event.at == NOW
        assert "@" not in event.detail  # the address never reaches the audit trail
    assert json.loads(events[str(due.id)].detail) == {"reason": "retention_period"}
    assert json.loads(events[str(emailed.id)].detail) == {"reason": "answer_emailed"}


def test_a_second_run_changes_nothing(session: Session, engine: Engine, settings: Settings) -> None:
    make_feedback(session, contact_email="a@exemple.fr", received_at=NOW - RETENTION)
    assert purge_contact_emails(engine, settings=settings, now=NOW) == 1
    assert purge_contact_emails(engine, settings=settings, now=NOW) == 0
    assert len(purge_events(engine)) == 1


def test_retention_period_comes_from_settings(
    session: Session, engine: Engine, settings: Settings
) -> None:
    feedback = make_feedback(
        session, contact_email="a@exemple.fr", received_at=NOW - dt.timedelta(days=30)
    )
    assert purge_contact_emails(engine, settings=settings, now=NOW) == 0
    short = dataclasses.replace(settings, contact_retention_days=30)
    assert purge_contact_emails(engine, settings=short, now=NOW) == 1
    assert contact_of(engine, feedback.id) is None


def test_with_a_session_the_caller_commits(
    session: Session, engine: Engine, settings: Settings
) -> None:
    feedback = make_feedback(session, contact_email="a@exemple.fr", received_at=NOW - RETENTION)
    with Session(engine) as own:
        assert purge_contact_emails(own, settings=settings, now=NOW) == 1
        own.rollback()
    assert contact_of(engine, feedback.id) == "a@exemple.fr"
    with Session(engine) as own:
        assert purge_contact_emails(own, settings=settings, now=NOW) == 1
        own.commit()
    assert contact_of(engine, feedback.id) is None


def test_large_purges_go_in_batches(
    session: Session, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    procedure = make_procedure(session)
    ids = [
        make_feedback(
            session,
            procedure=procedure,
            contact_email=f"n{i}@exemple.fr",
            received_at=NOW - RETENTION,
        ).id
        for i in range(7)
    ]
    assert purge_contact_emails(engine, settings=settings, now=NOW) == 7
    assert all(contact_of(engine, feedback_id) is None for feedback_id in ids)


def test_cli_purge(
    session: Session,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    due = make_feedback(session, contact_email="a@exemple.fr", received_at=NOW - RETENTION)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": TEST_SECRET}
    runner = CliRunner()
    early = runner.invoke(privacy, ["purge", "--now", "2026-06-30T09:59:59"], env=env)
    assert early.exit_code == 0, early.output
    assert "0 contact email(s) erased." in early.output
    assert contact_of(engine, due.id) == "a@exemple.fr"
    result = runner.invoke(privacy, ["purge", "--now", "2026-06-30T10:00:00+00:00"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 contact email(s) erased." in result.output
    assert contact_of(engine, due.id) is None
    bad = runner.invoke(privacy, ["purge", "--now", "tomorrow"], env=env)
    assert bad.exit_code == 2 and "--now" in bad.output


def test_periodic_purge_runs_until_cancelled(
    session: Session, engine: Engine, settings: Settings
) -> None:
    # Received long ago (relative to the real clock): due at the first tick.
    feedback = make_feedback(
        session, contact_email="a@exemple.fr", received_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )

    async def scenario() -> None:
        task = asyncio.create_task(run_purge_periodically(engine, settings, interval=0.05))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if contact_of(engine, feedback.id) is None:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert contact_of(engine, feedback.id) is None
