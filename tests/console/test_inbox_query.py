"""The inbox query: scope, each filter, keyset pagination, counts per status."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from console.inbox_query import Cursor, InboxFilters, fetch_page, status_counts
from tests.factories import make_feedback, make_ministry, make_procedure

T0 = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def ids(session: Session, ministry_ids, **filters) -> list[int]:
    page = fetch_page(session, ministry_ids=ministry_ids, filters=InboxFilters(**filters), size=500)
    return [f.id for f in page.rows]


@pytest.fixture
def rows(session: Session) -> dict:
    ministry = make_ministry(session)
    other = make_ministry(session)
    p1 = make_procedure(session, ministry_id=ministry.id)
    p2 = make_procedure(session, ministry_id=ministry.id)
    foreign = make_procedure(session, ministry_id=other.id)
    at = lambda hours: T0 + dt.timedelta(hours=hours)  # noqa: E731
    made = {
        "plain": make_feedback(session, procedure=p1, received_at=at(0)),
        "p2_good": make_feedback(
            session, procedure=p2, satisfaction=3, kind="praise", received_at=at(1)
        ),
        "empty": make_feedback(session, procedure=p1, comment="", kind=None, received_at=at(2)),
        "unregistered": make_feedback(
            session, procedure=p1, origin_registered=False, received_at=at(3)
        ),
        "pii": make_feedback(
            session,
            procedure=p1,
            pii_categories="email phone",
            comment="Écrivez à [courriel masqué]",
            received_at=at(4),
        ),
        "spam": make_feedback(session, procedure=p1, status="spam", received_at=at(5)),
        "honeypot": make_feedback(session, procedure=p1, honeypot=True, received_at=at(6)),
        "resolved": make_feedback(session, procedure=p1, status="resolved", received_at=at(7)),
        "old": make_feedback(session, procedure=p1, received_at=at(-24 * 40)),
        "foreign": make_feedback(session, procedure=foreign, received_at=at(8)),
    }
    return {"ministry": ministry, "other": other, "p1": p1, "p2": p2, **made}


def test_scope_newest_first_without_spam(session, rows) -> None:
    mine = [rows["ministry"].id]
    expected = ["resolved", "pii", "unregistered", "empty", "p2_good", "plain", "old"]
    assert ids(session, mine) == [rows[name].id for name in expected]
    # DINUM (None) sees every ministry; the ministry filter narrows.
    assert rows["foreign"].id in ids(session, None)
    assert ids(session, None, ministry=rows["other"].id) == [rows["foreign"].id]
    # A ministry filter can never widen a ministry member's scope.
    assert ids(session, mine, ministry=rows["other"].id) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"kind": "praise"}, ["p2_good"], id="kind"),
        pytest.param({"rating": 3}, ["p2_good"], id="rating"),
        pytest.param({"status": "resolved"}, ["resolved"], id="status"),
        pytest.param({"status": "spam"}, ["spam"], id="status-spam"),
        pytest.param({"spam": True}, ["honeypot", "spam"], id="spam"),
        pytest.param({"comment": "without"}, ["empty"], id="without-comment"),
        pytest.param({"unregistered": True}, ["unregistered"], id="unregistered"),
        pytest.param({"pii": "any"}, ["pii"], id="pii-any"),
        pytest.param({"pii": "phone"}, ["pii"], id="pii-phone"),
        pytest.param({"pii": "iban"}, [], id="pii-iban"),
        pytest.param({"date_to": dt.date(2026, 2, 1)}, ["old"], id="to"),
        pytest.param(
            {"date_from": dt.date(2026, 3, 10), "date_to": dt.date(2026, 3, 10), "kind": "praise"},
            ["p2_good"],
            id="period-and-kind",
        ),
        pytest.param({"q": "courriel"}, ["pii"], id="search"),
    ],
)
def test_filters(session, rows, filters, expected) -> None:
    assert ids(session, [rows["ministry"].id], **filters) == [rows[name].id for name in expected]


def test_procedure_filter(session, rows) -> None:
    assert ids(session, [rows["ministry"].id], procedure=rows["p2"].id) == [rows["p2_good"].id]


def test_with_comment_excludes_empty(session, rows) -> None:
    assert rows["empty"].id not in ids(session, [rows["ministry"].id], comment="with")


def test_from_query_parses_and_names_bad_values() -> None:
    filters, errors = InboxFilters.from_query(
        {
            "status": "nope",
            "rating": "9",
            "from": "2026-13-01",
            "to": "2026-03-01",
            "kind": "praise",
            "spam": "1",
            "q": " a\x00b ",
            "ministry": "x",
            "procedure": "p-1",
        }
    )
    assert sorted(errors) == ["from", "ministry", "rating", "status"]
    assert filters == InboxFilters(
        kind="praise", spam=True, q="a b", date_to=dt.date(2026, 3, 1), procedure="p-1"
    )
    assert filters.to_query() == {
        "procedure": "p-1",
        "kind": "praise",
        "to": "2026-03-01",
        "spam": "1",
        "q": "a b",
    }
    again, errors = InboxFilters.from_query(filters.to_query())
    assert again == filters and errors == []


def test_cursor_round_trip_and_garbage() -> None:
    cursor = Cursor(T0.replace(microsecond=123), 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for garbage in ("", "x", "2026_", "20260310T120000.000000_x", "_1", "9" * 100):
        assert Cursor.decode(garbage) is None


def test_pages_cover_everything_once_with_equal_timestamps(session) -> None:
    procedure = make_procedure(session)
    # 23 rows sharing 3 timestamps: page edges fall inside runs of equal received_at.
    made = [
        make_feedback(session, procedure=procedure, received_at=T0 + dt.timedelta(seconds=i % 3))
        for i in range(23)
    ]
    scope, filters = [procedure.ministry_id], InboxFilters()
    seen: list[int] = []
    pages = []
    page = fetch_page(session, ministry_ids=scope, filters=filters, size=5)
    assert page.previous is None
    while True:
        pages.append(page)
        seen.extend(f.id for f in page.rows)
        if page.next is None:
            break
        page = fetch_page(session, ministry_ids=scope, filters=filters, after=page.next, size=5)
    assert len(seen) == len(set(seen)) == len(made)
    expected = sorted(made, key=lambda f: (f.received_at, f.id), reverse=True)
    assert seen == [f.id for f in expected]
    assert [len(p.rows) for p in pages] == [5, 5, 5, 5, 3]
    # Walking back with "previous" gives the same pages.
    back = pages[-1]
    for expected_page in reversed(pages[:-1]):
        assert back.previous is not None
        back = fetch_page(
            session, ministry_ids=scope, filters=filters, before=back.previous, size=5
        )
        assert [f.id for f in back.rows] == [f.id for f in expected_page.rows]
    assert back.previous is None


def test_status_counts_exclude_honeypot_and_follow_scope(session, rows) -> None:
    counts = status_counts(session, ministry_ids=[rows["ministry"].id], filters=InboxFilters())
    assert counts == {
        "new": 6,
        "acknowledged": 0,
        "in_progress": 0,
        "resolved": 1,
        "rejected": 0,
        "spam": 1,
    }
    by_procedure = status_counts(
        session, ministry_ids=[rows["ministry"].id], filters=InboxFilters(procedure=rows["p2"].id)
    )
    assert by_procedure["new"] == 1
    everyone = status_counts(session, ministry_ids=None, filters=InboxFilters())
    assert everyone["new"] == 7


def test_status_counters_follow_every_change(session, engine) -> None:
    """The trigger-kept counters agree with a real count after inserts, updates, deletes."""
    import random

    from sqlalchemy import delete, func, select, update

    from retour.models import Feedback, FeedbackStatusCount

    rng = random.Random(7)
    procedures = [make_procedure(session) for _ in range(3)]
    for _ in range(40):
        make_feedback(
            session,
            procedure=rng.choice(procedures),
            status=rng.choice(("new", "acknowledged", "spam")),
            honeypot=rng.random() < 0.2,
        )
    with engine.begin() as connection:
        # One statement touching many rows, one leaving the counted columns alone, moves of
        # single rows in and out of the honeypot, and deletes.
        connection.execute(update(Feedback).where(Feedback.id % 3 == 0).values(status="resolved"))
        connection.execute(update(Feedback).values(comment="purged"))
        connection.execute(
            update(Feedback).where(Feedback.id % 5 == 0).values(honeypot=~Feedback.honeypot)
        )
        connection.execute(delete(Feedback).where(Feedback.id % 7 == 0))
    with engine.connect() as connection:
        real = connection.execute(
            select(Feedback.procedure_id, Feedback.status, func.count())
            .where(Feedback.honeypot.is_(False))
            .group_by(Feedback.procedure_id, Feedback.status)
        ).all()
        kept = connection.execute(
            select(
                FeedbackStatusCount.procedure_id,
                FeedbackStatusCount.status,
                FeedbackStatusCount.count,
            ).where(FeedbackStatusCount.count != 0)
        ).all()
    assert sorted(map(tuple, kept)) == sorted(map(tuple, real))
