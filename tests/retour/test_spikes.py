"""Spikes become incidents: a synthetic spike fires, a synthetic normal week never does."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from retour import spikes
from retour.models import Feedback, Incident
from tests.factories import make_procedure

NOW = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.UTC)


def add(engine: Engine, procedure, times, *, kind="malfunction", comment="", satisfaction=2):
    rows = [
        {
            "client_id": str(uuid.uuid4()),
            "receipt": uuid.uuid4().hex[:12].upper(),
            "procedure_id": procedure.id,
            "ministry_id": procedure.ministry_id,
            "received_at": at,
            "updated_at": at,
            "satisfaction": satisfaction,
            "kind": kind,
            "comment": comment,
        }
        for i, at in enumerate(times)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Feedback.__table__), rows)


def detect(engine: Engine, now: dt.datetime) -> list[spikes.Spike]:
    with engine.connect() as connection:
        return spikes.detect(connection, now)


def usual_month(engine: Engine, procedure, per_hour: int, seed: int = 1) -> None:
    """Four weeks of reports at about `per_hour` an hour, every hour of every day."""
    rng = random.Random(seed)
    times = []
    for hours in range(1, 29 * 24):
        start = NOW - dt.timedelta(hours=hours + 1)
        for _ in range(rng.choice([per_hour - 1, per_hour, per_hour + 1])):
            times.append(start + dt.timedelta(seconds=rng.randrange(3600)))
    add(engine, procedure, times)


def test_the_rule() -> None:
    assert spikes.is_spike(15, 2.0)[0]
    assert not spikes.is_spike(9, 0.0)[0]  # too few to alarm anyone
    assert not spikes.is_spike(14, 8.0)[0]  # within a usual hour's variation
    assert spikes.is_spike(10, 0.1)[0]  # a usually silent procedure: the floor applies


def test_a_synthetic_spike_opens_one_incident_with_the_common_words(
    engine: Engine, session: Session
) -> None:
    procedure = make_procedure(session)
    usual_month(engine, procedure, per_hour=1)
    burst = [NOW - dt.timedelta(minutes=m) for m in range(1, 15)]
    add(engine, procedure, burst, comment="Erreur à l'étape 3, le paiement ne passe pas")
    pending = spikes.record(engine, now=NOW)
    session.rollback()  # a fresh snapshot: SQLite WAL readers see their own
    incident = session.exec(select(Incident)).one()
    assert pending == [incident.id]
    assert (incident.procedure_id, incident.signal, incident.observed) == (
        procedure.id,
        "malfunction",
        14,
    )
    assert 0.5 <= incident.expected <= 1.5 and incident.p_value < spikes.ALPHA
    assert "étape 3" in incident.words and "paiement" in incident.words
    # A minute later: the same incident, not a second one; alerted once only.
    assert spikes.claim(engine, incident.id, NOW)
    assert not spikes.claim(engine, incident.id, NOW)
    assert spikes.record(engine, now=NOW + dt.timedelta(minutes=1)) == []
    session.rollback()
    assert len(session.exec(select(Incident)).all()) == 1
    # Once quiet for an hour it ends.
    spikes.record(engine, now=NOW + dt.timedelta(hours=2, minutes=30))
    session.rollback()
    assert session.exec(select(Incident)).one().ended_at is not None


def test_a_synthetic_normal_week_never_fires(engine: Engine, session: Session) -> None:
    procedure = make_procedure(session)
    usual_month(engine, procedure, per_hour=6, seed=7)
    # Checked every other hour of the last week, each with its usual hour's reports.
    for hours in range(0, 7 * 24, 2):
        assert detect(engine, NOW - dt.timedelta(hours=hours)) == [], hours


def test_bad_ratings_are_a_signal_too_and_spam_is_not(engine: Engine, session: Session) -> None:
    procedure = make_procedure(session)
    burst = [NOW - dt.timedelta(minutes=m) for m in range(1, 13)]
    add(engine, procedure, burst, kind="praise", satisfaction=1)
    found = detect(engine, NOW)
    assert [(s.signal, s.observed) for s in found] == [("bad", 12)]
    session.rollback()  # the engine wrote: leave the old snapshot before writing
    other = make_procedure(session)
    add(engine, other, burst)
    with engine.begin() as connection:
        connection.execute(
            Feedback.__table__.update()
            .where(Feedback.__table__.c.procedure_id == other.id)
            .values(status="spam")
        )
    assert {s.procedure_id for s in detect(engine, NOW)} == {procedure.id}
