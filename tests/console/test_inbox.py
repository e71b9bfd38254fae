"""The inbox page over HTTP: scope, counts, filters in the URL, pagination links, bulk actions."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from sqlmodel import Session, select

from retour import stats
from retour.models import AuditEvent, Feedback
from tests.factories import make_feedback, make_ministry, make_procedure, make_user

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/console/feedback/(\d+)(?:\?liste=[^"]*)?"', html)]


def link(html: str, label: str) -> str | None:
    match = re.search(r'href="([^"]+)"[^>]*>' + re.escape(label) + "<", html)
    return unescape(match.group(1)) if match else None


@pytest.fixture
def procedure(session: Session, ministry):
    return make_procedure(session, ministry_id=ministry.id, title="Carte d'identité")


def test_anonymous_is_sent_to_sign_in(client_for) -> None:
    response = client_for(None).get("/console/?status=new")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=")


def test_inbox_shows_own_ministry_newest_first_and_counts(
    client_for, session, procedure, other_ministry
) -> None:
    older = make_feedback(session, procedure=procedure, received_at=T0)
    newer = make_feedback(session, procedure=procedure, received_at=T0 + dt.timedelta(hours=1))
    make_feedback(session, procedure=procedure, status="spam", received_at=T0)
    make_feedback(session, procedure=procedure, honeypot=True, received_at=T0)
    elsewhere = make_procedure(session, ministry_id=other_ministry.id)
    foreign = make_feedback(session, procedure=elsewhere)
    response = client_for("viewer").get("/console/")
    assert response.status_code == 200
    assert row_ids(response.text) == [newer.id, older.id]
    assert foreign.id not in row_ids(response.text)
    assert "Nouveau (2)" in response.text and "Indésirable (1)" in response.text
    # The viewer reads only: no bulk form.
    assert 'action="/console/bulk"' not in response.text


def test_admin_sees_every_ministry_and_filters_by_one(
    client_for, session, procedure, other_ministry
) -> None:
    mine = make_feedback(session, procedure=procedure)
    elsewhere = make_procedure(session, ministry_id=other_ministry.id)
    foreign = make_feedback(session, procedure=elsewhere)
    admin = client_for("admin")
    assert set(row_ids(admin.get("/console/").text)) == {mine.id, foreign.id}
    response = admin.get(f"/console/?ministry={other_ministry.id}")
    assert row_ids(response.text) == [foreign.id]
    assert "Ministère Voisin" in response.text


def test_admin_ministry_filter_is_in_french_order(client_for, session) -> None:
    make_ministry(session, slug="interieur", name="Ministère de l'Intérieur")
    make_ministry(session, slug="economie", name="Ministère de l'Économie")
    page = client_for("admin").get("/console/").text
    select_html = page[page.index('name="ministry"') :]
    assert select_html.index("Économie") < select_html.index("Intérieur")


def test_filters_search_and_bad_values(client_for, session, procedure) -> None:
    match = make_feedback(
        session,
        procedure=procedure,
        satisfaction=1,
        kind="complaint",
        comment="Le paiement échoue",
        received_at=T0,
    )
    make_feedback(
        session,
        procedure=procedure,
        satisfaction=3,
        kind="praise",
        comment="Parfait",
        received_at=T0,
    )
    agent = client_for("agent")
    response = agent.get("/console/", params={"rating": "1", "kind": "complaint", "q": "paiement"})
    assert row_ids(response.text) == [match.id]
    assert 'value="paiement"' in response.text
    response = agent.get("/console/", params={"q": "echoue"})
    assert row_ids(response.text) == [match.id]  # accents ignored on both backends
    response = agent.get(
        "/console/", params={"status": "bogus", "rating": "x", "from": "hier", "q": 'NEAR("'}
    )
    assert response.status_code == 200
    assert "ont été ignorés" in response.text


def test_pagination_links_keep_filters(client_for, session, procedure) -> None:
    rows = [
        make_feedback(
            session,
            procedure=procedure,
            kind="complaint",
            received_at=T0 + dt.timedelta(seconds=i % 4),
        )
        for i in range(55)
    ]
    make_feedback(session, procedure=procedure, kind="praise", received_at=T0)
    agent = client_for("agent")
    first = agent.get("/console/?kind=complaint")
    next_url = link(first.text, "Plus anciens")
    assert next_url and "kind=complaint" in next_url and "after=" in next_url
    assert link(first.text, "Plus récents") is None
    second = agent.get(next_url)
    seen = row_ids(first.text) + row_ids(second.text)
    assert sorted(seen) == sorted(f.id for f in rows)
    assert link(second.text, "Plus anciens") is None
    back = agent.get(link(second.text, "Plus récents"))
    assert row_ids(back.text) == row_ids(first.text)
    # A forged cursor is ignored rather than failing.
    assert agent.get("/console/?after=garbage&before=20261301T000000.000000_1").status_code == 200


def test_bulk_acknowledge_spam_and_assign(client_for, session, procedure, ministry) -> None:
    new = [make_feedback(session, procedure=procedure) for _ in range(3)]
    resolved = make_feedback(session, procedure=procedure, status="resolved")
    agent = client_for("agent")
    colleague = make_user(session, role="agent", ministry=ministry)
    ids = [f.id for f in new] + [resolved.id]
    response = agent.submit(
        "/console/bulk",
        {"ids": ids, "action": "acknowledge", "return_to": "/console/?kind=malfunction"},
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/?kind=malfunction&fait=lot&n=3")
    page = agent.get(response.headers["location"])
    assert "3 retours modifiés." in page.text and "1 ignoré\u202f: le circuit" in page.text
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert [session.get(Feedback, f.id).status for f in new] == ["acknowledged"] * 3
    assert session.get(Feedback, resolved.id).status == "resolved"
    agent.submit(
        "/console/bulk", {"ids": [new[0].id], "action": "assign", "assignee": colleague.id}
    )
    agent.submit("/console/bulk", {"ids": [new[1].id], "action": "spam"})
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert session.get(Feedback, new[0].id).assignee_id == colleague.id
    assert session.get(Feedback, new[1].id).status == "spam"
    events = session.exec(select(AuditEvent).where(AuditEvent.entity == "feedback")).all()
    assert len(events) == 5 and {e.actor_id for e in events} == {agent.user.id}


def test_bulk_refuses_foreign_ids_viewers_and_bad_input(
    client_for, session, procedure, other_ministry
) -> None:
    mine = make_feedback(session, procedure=procedure)
    elsewhere = make_procedure(session, ministry_id=other_ministry.id)
    foreign = make_feedback(session, procedure=elsewhere)
    stranger = make_user(session, role="agent", ministry=other_ministry)
    agent = client_for("agent")
    for data in (
        {"ids": [mine.id, foreign.id], "action": "acknowledge"},
        {"ids": [mine.id, foreign.id], "action": "spam"},
        {"ids": [mine.id], "action": "assign", "assignee": stranger.id},
        {"ids": ["1 OR 1=1"], "action": "spam"},
        {"ids": [str(2**70)], "action": "spam"},
    ):
        assert agent.submit("/console/bulk", data).status_code == 404, data
    assert agent.submit("/console/bulk", {"ids": [mine.id], "action": "delete"}).status_code == 400
    no_selection = agent.submit("/console/bulk", {"action": "spam"})
    assert no_selection.headers["location"].endswith("erreur=selection")
    # Without the CSRF token the request never reaches the handler.
    assert agent.post("/console/bulk", data={"ids": [mine.id], "action": "spam"}).status_code == 403
    viewer = client_for("viewer")
    assert viewer.submit("/console/bulk", {"ids": [mine.id], "action": "spam"}).status_code == 403
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert session.get(Feedback, mine.id).status == "new"
    assert session.get(Feedback, foreign.id).status == "new"


def test_filters_naming_another_ministry_answer_404(
    client_for, session, procedure, other_ministry
) -> None:
    foreign_procedure = make_procedure(session, ministry_id=other_ministry.id)
    agent = client_for("agent")
    assert agent.get(f"/console/?ministry={other_ministry.id}").status_code == 404
    assert agent.get(f"/console/?procedure={foreign_procedure.id}").status_code == 404
    assert agent.get("/console/?procedure=does-not-exist").status_code == 404
    assert agent.get(f"/console/?procedure={procedure.id}").status_code == 200


def test_charts_on_the_inbox_are_accessible(client_for, session, engine, procedure) -> None:
    make_feedback(session, procedure=procedure, satisfaction=3)
    stats.refresh(engine)
    session.rollback()  # end the read snapshot taken before the refresh wrote
    html = client_for("agent").get("/console/").text
    assert html.count('role="img"') == 2
    assert '<title id="volume-title">' in html and '<desc id="volume-desc">' in html
    assert "1 retours en 26 semaines" in html
    assert "<table>" in html and "Semaine du" in html
    svg = html[html.index("<svg") : html.rindex("</svg>")]
    assert "style=" not in svg


def test_counts_follow_changes_made_here(client_for, session, procedure) -> None:
    feedback = make_feedback(session, procedure=procedure)
    agent = client_for("agent")
    assert "Nouveau (1)" in agent.get("/console/").text
    agent.submit(f"/console/feedback/{feedback.id}/status", {"to": "in_progress"})
    html = agent.get("/console/").text
    assert "Nouveau (0)" in html and "En cours (1)" in html
    agent.submit("/console/bulk", {"ids": [feedback.id], "action": "spam"})
    assert "Indésirable (1)" in agent.get("/console/").text


def test_table_markup_is_readable_at_every_width(client_for, session, procedure) -> None:
    make_feedback(session, procedure=procedure, satisfaction=1, kind="complaint")
    html = unescape(client_for("agent").get("/console/").text)
    # QA #1: a fixed layout without widths cut words in the middle; the layout is automatic,
    # cells wrap between words, and the scrolling container is focusable and named.
    assert "fr-table--layout-fixed" not in html
    assert '<div class="fr-table fr-table--multiline fr-table--no-caption retour-inbox">' in html
    assert (
        '<div class="fr-table__container" tabindex="0" role="region" '
        'aria-labelledby="liste-legende">'
    ) in html
    assert '<caption id="liste-legende">' in html
    # Each cell carries its column name, shown above it when rows become cards (< 48em).
    for label in ("Reçu le", "Démarche", "Note et type", "Commentaire", "Statut", "Attribué à"):
        assert f'data-label="{label}"' in html, label
    assert 'class="retour-col-comment">Commentaire</th>' in html
    assert 'Mal<br><span class="fr-text--sm">Réclamation</span>' in html
