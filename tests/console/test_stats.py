"""The summary tables: exact figures on known data, and agreement with a full recount."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import threading
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlmodel import Session

from retour.figures import procedure_figures, procedure_history
from retour.histogram import median_of
from retour.models import (
    KINDS,
    Feedback,
    ImpressionCount,
    MinistryStats,
    ProcedureDay,
    ProcedureDayAck,
    ProcedureStats,
    PublicAnswer,
    utcnow,
)
from retour.stats import refresh
from retour.stats_rollup import window_start
from retour.stats_sql import ACK_BUCKETS
from tests.factories import make_feedback, make_procedure, make_user

NOW = utcnow()


def figures_of(engine, procedure_id: str, min_count: int = 3):
    with engine.connect() as connection:
        (figure,) = procedure_figures(connection, min_count=min_count, procedure_id=procedure_id)
    return figure


def test_score_formula_threshold_and_exclusions(engine, session: Session) -> None:
    procedure = make_procedure(session)
    for satisfaction in (3, 3, 3, 2, 1):
        make_feedback(session, procedure=procedure, satisfaction=satisfaction)
    # Never counted: a honeypot, spam, and a submission older than 12 months.
    make_feedback(session, procedure=procedure, satisfaction=1, honeypot=True)
    make_feedback(session, procedure=procedure, satisfaction=1, status="spam")
    make_feedback(
        session, procedure=procedure, satisfaction=1, received_at=NOW - dt.timedelta(days=400)
    )
    refresh(engine)

    figure = figures_of(engine, procedure.id)
    assert (figure.count, figure.good, figure.average, figure.bad) == (5, 3, 1, 1)
    assert figure.satisfaction_score == 7.0  # (10 × 3 + 5 × 1) / 5
    assert figures_of(engine, procedure.id, min_count=5).satisfaction_score == 7.0
    assert figures_of(engine, procedure.id, min_count=6).satisfaction_score is None


def test_processed_share_median_and_answers(engine, session: Session) -> None:
    procedure = make_procedure(session)
    author = make_user(session, role="agent")
    received = NOW - dt.timedelta(days=3)
    for delay_hours, status in ((1, "acknowledged"), (2, "resolved"), (5, "in_progress")):
        make_feedback(
            session,
            procedure=procedure,
            received_at=received,
            status=status,
            acknowledged_at=received + dt.timedelta(hours=delay_hours),
        )
    answered = make_feedback(session, procedure=procedure, status="new")
    session.add(
        PublicAnswer(
            feedback_id=answered.id,
            procedure_id=procedure.id,
            ministry_id=procedure.ministry_id,
            body="Nous avons corrigé le formulaire.",
            author_id=author.id,
        )
    )
    session.commit()
    refresh(engine)

    figure = figures_of(engine, procedure.id)
    assert figure.count == 4
    assert figure.processed_share == 0.75
    assert figure.median_ack_seconds == 2 * 3600
    assert figure.median_ack_hours == 2.0
    assert figure.answers == 1


def test_median_of_even_count_and_buckets() -> None:
    assert median_of({}) is None
    assert median_of({3600: (1, 3600), 10800: (1, 10800)}) == 7200
    # Two different delays in one bucket: the bucket's mean is reported.
    assert median_of({60: (2, 150)}) == 75


def test_button_live_needs_a_recent_view_on_a_registered_origin(engine, session: Session) -> None:
    today = NOW.date()
    cases = {
        "recent view, registered": ("https://www.example.gouv.fr", "view", 6, True),
        "old view, registered": ("https://www.example.gouv.fr", "view", 8, False),
        "recent view, unregistered": ("https://copie.example.com", "view", 0, False),
        "recent open only": ("https://www.example.gouv.fr", "open", 0, False),
    }
    procedures = {}
    for name, (origin, event, days_ago, _) in cases.items():
        procedure = make_procedure(session)
        procedures[name] = procedure
        seen = NOW - dt.timedelta(days=days_ago)
        session.add(
            ImpressionCount(
                procedure_id=procedure.id,
                day=seen.date(),
                origin=origin,
                event=event,
                count=3,
                last_seen_at=seen,
            )
        )
    session.commit()
    assert today  # the window is measured from now
    for name, (_, _, _, live) in cases.items():
        assert figures_of(engine, procedures[name].id).button_live is live, name


def test_history_by_month_and_kinds(engine, session: Session) -> None:
    procedure = make_procedure(session)
    for kind in ("malfunction", "malfunction", "complaint", None):
        make_feedback(session, procedure=procedure, kind=kind, satisfaction=3)
    refresh(engine)
    with engine.connect() as connection:
        history = procedure_history(connection, procedure.id, min_count=3, today=NOW.date())
    assert history.kinds["malfunction"] == 2 and history.kinds["complaint"] == 1
    assert history.unspecified_kind == 1
    this_month = history.months[-1]
    assert this_month.month == NOW.date().replace(day=1)
    assert (this_month.count, this_month.good, this_month.score) == (4, 4, 10.0)
    assert len(history.months) in (12, 13)


# --- The summary agrees with a full recount ---------------------------------------------


def _bucket_width(delay: int) -> int:
    for upper, width in ACK_BUCKETS:
        if upper is None or delay < upper:
            return width
    raise AssertionError


def _recount(session: Session) -> tuple[dict, dict]:
    """The day rows and the ack delays, computed in Python straight from `feedback`."""
    answered = set(session.exec(select(PublicAnswer.feedback_id)).scalars())
    days: dict[tuple[str, dt.date], Counter] = defaultdict(Counter)
    delays: dict[str, list[int]] = defaultdict(list)
    start = window_start(NOW.date())
    for f in session.exec(select(Feedback)).scalars():
        if f.honeypot:
            continue
        row = days[(f.procedure_id, f.received_at.date())]
        row["received"] += 1
        row["pii"] += 1 if f.pii_categories else 0
        if f.status == "spam":
            continue
        row["count"] += 1
        row[{3: "good", 2: "average", 1: "bad"}[f.satisfaction]] += 1
        if f.kind:
            row[f.kind] += 1
        row["processed"] += f.status != "new"
        row["answers"] += f.id in answered
        if f.acknowledged_at is not None:
            row["acknowledged"] += 1
            if f.received_at.date() >= start:
                delays[f.procedure_id].append(
                    max(0, round((f.acknowledged_at - f.received_at).total_seconds()))
                )
    return days, delays


def _assert_agrees(engine) -> None:
    with Session(engine) as session:
        expected, delays = _recount(session)
        stored = {(r.procedure_id, r.day): r for r in session.exec(select(ProcedureDay)).scalars()}
        assert set(stored) == set(expected)
        columns = (
            "received",
            "count",
            "good",
            "average",
            "bad",
            *KINDS,
            "processed",
            "acknowledged",
            "answers",
            "pii",
        )
        for key, row in stored.items():
            assert {c: getattr(row, c) for c in columns} == {
                c: expected[key][c] for c in columns
            }, key
        acks = session.exec(select(ProcedureDayAck)).scalars().all()
        assert sum(a.count for a in acks) == sum(r["acknowledged"] for r in expected.values())
        everyone = [d for values in delays.values() for d in values]
        overall = session.get(MinistryStats, 0)
        if everyone:
            true_overall = statistics.median(everyone)
            assert overall is not None and overall.median_ack_seconds is not None
            assert abs(overall.median_ack_seconds - true_overall) <= _bucket_width(
                int(true_overall)
            )
        for stats in session.exec(select(ProcedureStats)).scalars():
            exact = delays.get(stats.procedure_id)
            if not exact:
                assert stats.median_ack_seconds is None
                continue
            true_median = statistics.median(exact)
            assert abs(stats.median_ack_seconds - true_median) <= _bucket_width(int(true_median)), (
                stats.procedure_id
            )


def test_incremental_refresh_agrees_with_full_recount(engine, session: Session) -> None:
    rng = random.Random(5)
    procedures = [make_procedure(session) for _ in range(4)]
    author = make_user(session, role="agent")
    session.commit()  # end the factories' read transaction before another connection writes
    refresh(engine)
    for round_ in range(6):
        for _ in range(25):
            received = NOW - dt.timedelta(
                days=rng.choice((0, 0, 1, 3, 40, 200, 380)), seconds=rng.randrange(86400)
            )
            make_feedback(
                session,
                procedure=rng.choice(procedures),
                received_at=received,
                satisfaction=rng.choice((1, 2, 3)),
                kind=rng.choice((*KINDS, None)),
                honeypot=rng.random() < 0.05,
                pii_categories=rng.choice(("", "", "email", "phone nir")),
            )
        # Staff work on some older submissions: status changes, acknowledgement, answers.
        rows = session.exec(select(Feedback)).scalars().all()
        for feedback in rng.sample(rows, k=min(15, len(rows))):
            feedback.status = rng.choice(("acknowledged", "in_progress", "resolved", "spam", "new"))
            if feedback.status != "new" and feedback.acknowledged_at is None:
                feedback.acknowledged_at = feedback.received_at + dt.timedelta(
                    seconds=rng.choice((45, 1800, 7200, 90000, 3 * 86400 + 17))
                )
            feedback.updated_at = utcnow()
            session.add(feedback)
            if rng.random() < 0.2 and feedback.id not in set(
                session.exec(select(PublicAnswer.feedback_id)).scalars()
            ):
                session.add(
                    PublicAnswer(
                        feedback_id=feedback.id,
                        procedure_id=feedback.procedure_id,
                        ministry_id=feedback.ministry_id,
                        body="Corrigé.",
                        author_id=author.id,
                    )
                )
        session.commit()
        result = refresh(engine)
        assert not result.full or round_ == 0
        _assert_agrees(engine)
    # A full rebuild gives exactly the same rows as the incremental path.
    with Session(engine) as check:
        before = sorted(
            (r.procedure_id, r.day, r.count, r.processed, r.answers)
            for r in check.exec(select(ProcedureDay)).scalars()
        )
    refresh(engine, full=True)
    with Session(engine) as check:
        after = sorted(
            (r.procedure_id, r.day, r.count, r.processed, r.answers)
            for r in check.exec(select(ProcedureDay)).scalars()
        )
    assert before == after


def test_concurrent_refreshes_are_serialised(engine, session: Session) -> None:
    procedure = make_procedure(session)
    session.commit()
    refresh(engine)
    for _ in range(20):
        make_feedback(session, procedure=procedure, satisfaction=3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            refresh(engine)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert figures_of(engine, procedure.id).count == 20
    _assert_agrees(engine)


@pytest.mark.parametrize("days_ago,counted", [(364, True), (366, False)])
def test_twelve_month_window(engine, session: Session, days_ago: int, counted: bool) -> None:
    procedure = make_procedure(session)
    make_feedback(session, procedure=procedure, received_at=NOW - dt.timedelta(days=days_ago))
    refresh(engine)
    assert figures_of(engine, procedure.id).count == (1 if counted else 0)
