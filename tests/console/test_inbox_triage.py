"""Working through the inbox: counts within the filters, select-all over a filter (in windows),
« Attribuer à » without a default, the list kept from row to row, sort and assignment filters,
and what a submission's page tells its reader (masked notes, email without SMTP)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session

from console import inbox_bulk
from retour.models import Feedback
from tests.factories import make_feedback, make_procedure, make_user

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def procedure(session: Session, ministry):
    return make_procedure(session, ministry_id=ministry.id, title="Carte grise")


def rows(session: Session, procedure, n: int, **values) -> list[Feedback]:
    start = values.pop("start", T0)
    return [
        make_feedback(
            session, procedure=procedure, received_at=start + dt.timedelta(minutes=i), **values
        )
        for i in range(n)
    ]


def row_ids(html: str) -> list[int]:
    return [
        int(n) for n in re.findall(r'<a href="/console/feedback/(\d+)(?:\?liste=[^"]*)?">', html)
    ]


def chip(html: str, label: str) -> int:
    match = re.search(re.escape(label) + r" \((\d+)\)</a>", html)
    assert match, label
    return int(match.group(1))


def test_status_chips_and_the_total_count_within_the_filters(
    client_for, session, procedure
) -> None:
    rows(session, procedure, 3, kind="complaint")
    rows(session, procedure, 2, kind="complaint", status="acknowledged")
    rows(session, procedure, 4, kind="praise")
    agent = client_for("agent")
    everything = agent.get("/console/").text
    assert chip(everything, "Tous") == 9 and chip(everything, "Nouveau") == 7
    assert "9 retours correspondent à ces critères." in everything
    complaints = agent.get("/console/?kind=complaint").text
    assert chip(complaints, "Tous") == 5 and chip(complaints, "Nouveau") == 3
    assert chip(complaints, "Pris en compte") == 2
    assert "5 retours correspondent à ces critères." in complaints
    one = agent.get("/console/?kind=complaint&status=acknowledged&q=Valider").text
    assert "2 retours correspondent à ces critères." in one
    assert "0 retour correspond à ces critères." in agent.get("/console/?kind=other").text


def test_assign_needs_a_colleague_and_unassigning_is_its_own_action(
    client_for, session, procedure, ministry
) -> None:
    colleague = make_user(session, role="agent", ministry=ministry)
    target = make_feedback(session, procedure=procedure, assignee_id=colleague.id)
    agent = client_for("agent")
    page = agent.get("/console/").text
    assert '<option value="" selected>— Choisir un collègue —</option>' in page
    refused = agent.submit(
        "/console/bulk", {"ids": [target.id], "action": "assign", "assignee": ""}
    )
    assert refused.headers["location"].endswith("erreur=collegue")
    assert "Choisissez le collègue" in agent.get(refused.headers["location"]).text
    session.rollback()
    assert session.get(Feedback, target.id).assignee_id == colleague.id
    agent.submit("/console/bulk", {"ids": [target.id], "action": "unassign"})
    session.rollback()
    assert session.get(Feedback, target.id).assignee_id is None


def test_every_result_of_a_filter_in_windows(client_for, session, procedure, monkeypatch) -> None:
    # Small windows, so that a handful of rows takes several (the real ones are 5,000).
    monkeypatch.setattr(inbox_bulk, "WINDOW", 3)
    monkeypatch.setattr(inbox_bulk, "ALL_MAX", 6)
    complaints = rows(session, procedure, 8, kind="complaint")
    others = rows(session, procedure, 2, kind="praise")
    agent = client_for("agent")
    form = {
        "tous": "1",
        "query": "kind=complaint",
        "action": "spam",
        "return_to": "/console/?kind=complaint",
    }
    first = agent.submit("/console/bulk", form)
    assert parse_qs(urlsplit(first.headers["location"]).query)["n"] == ["6"]
    assert "reste=1" in first.headers["location"]
    assert "appliquez de nouveau" in agent.get(first.headers["location"]).text
    second = agent.submit("/console/bulk", form)
    assert parse_qs(urlsplit(second.headers["location"]).query)["n"] == ["2"]
    assert "reste" not in second.headers["location"]
    session.rollback()
    assert {session.get(Feedback, f.id).status for f in complaints} == {"spam"}
    assert {session.get(Feedback, f.id).status for f in others} == {"new"}


def test_every_result_of_a_filter_stays_in_the_ministry(
    client_for, session, procedure, other_ministry
) -> None:
    mine = make_feedback(session, procedure=procedure)
    foreign = make_feedback(
        session, procedure=make_procedure(session, ministry_id=other_ministry.id)
    )
    agent = client_for("agent")
    agent.submit("/console/bulk", {"tous": "1", "query": "", "action": "acknowledge"})
    session.rollback()
    assert session.get(Feedback, mine.id).status == "acknowledged"
    assert session.get(Feedback, foreign.id).status == "new"


def test_sort_oldest_first_and_the_assignment_filters(client_for, session, procedure) -> None:
    agent = client_for("agent")
    made = rows(session, procedure, 3)
    session.get(Feedback, made[1].id).assignee_id = agent.user.id
    session.commit()
    assert row_ids(agent.get("/console/").text) == [made[2].id, made[1].id, made[0].id]
    assert row_ids(agent.get("/console/?tri=ancien").text) == [made[0].id, made[1].id, made[2].id]
    assert row_ids(agent.get("/console/?attribues=moi").text) == [made[1].id]
    assert row_ids(agent.get("/console/?attribues=aucun&tri=ancien").text) == [
        made[0].id,
        made[2].id,
    ]
    assert agent.get("/console/?attribues=tous").status_code == 200  # ignored and named


def test_oldest_first_pages_through_everything_once(client_for, session, procedure) -> None:
    made = rows(session, procedure, 60)
    agent = client_for("agent")
    first = agent.get("/console/?tri=ancien").text
    assert row_ids(first)[:2] == [made[0].id, made[1].id]
    older = re.search(r'href="([^"]+)">Plus anciens<', first)
    assert older
    second = agent.get(unescape(older.group(1))).text
    assert sorted(row_ids(first) + row_ids(second)) == sorted(f.id for f in made)


def test_an_item_keeps_the_list_it_came_from(client_for, session, procedure) -> None:
    made = rows(session, procedure, 3, kind="complaint")
    rows(session, procedure, 2, kind="praise", start=T0 + dt.timedelta(hours=1))
    agent = client_for("agent")
    inbox = agent.get("/console/?kind=complaint").text
    link = re.search(rf'href="(/console/feedback/{made[1].id}\?liste=[^"]+)"', inbox)
    assert link
    page = agent.get(unescape(link.group(1))).text
    # Breadcrumb and « Retour à la liste » go back to the same filters.
    assert page.count('href="/console/?kind=complaint"') == 2
    assert re.search(
        rf'rel="prev" href="/console/feedback/{made[2].id}\?liste=kind%3Dcomplaint"', page
    )
    assert re.search(
        rf'rel="next" href="/console/feedback/{made[0].id}\?liste=kind%3Dcomplaint"', page
    )
    # Its forms keep the list through their redirect.
    assert f'action="/console/feedback/{made[1].id}/notes?liste=kind%3Dcomplaint"' in page
    done = agent.submit(
        f"/console/feedback/{made[1].id}/notes?liste=kind%3Dcomplaint", {"body": "Vu."}
    )
    assert (
        done.headers["location"]
        == f"/console/feedback/{made[1].id}?fait=note&liste=kind%3Dcomplaint"
    )
    # The newest has no previous one; a forged list is read as filters, never echoed.
    newest = agent.get(f"/console/feedback/{made[2].id}?liste=kind%3Dcomplaint").text
    assert 'rel="prev"' not in newest and 'rel="next"' in newest
    forged = agent.get(f"/console/feedback/{made[2].id}?liste=%22%3E%3Cscript%3E").text
    assert "<script>" not in forged


def test_a_list_naming_another_ministry_answers_404(
    client_for, session, procedure, other_ministry
) -> None:
    target = make_feedback(session, procedure=procedure)
    foreign = make_procedure(session, ministry_id=other_ministry.id)
    agent = client_for("agent")
    assert (
        agent.get(f"/console/feedback/{target.id}?liste=procedure%3D{foreign.id}").status_code
        == 404
    )


def test_a_note_with_masked_personal_data_says_so(client_for, session, procedure) -> None:
    target = make_feedback(session, procedure=procedure)
    agent = client_for("agent")
    plain = agent.submit(f"/console/feedback/{target.id}/notes", {"body": "Rappelé ce matin."})
    assert plain.headers["location"].endswith("?fait=note")
    masked = agent.submit(
        f"/console/feedback/{target.id}/notes", {"body": "Rappeler au 06 12 34 56 78."}
    )
    assert masked.headers["location"].endswith("?fait=note-masquee")
    page = agent.get(masked.headers["location"]).text
    assert "Des données personnelles (adresse, téléphone, numéro…) y ont été masquées" in page
    assert "06 12 34 56 78" not in page


def test_no_email_button_without_an_smtp_server(client_for, session, procedure) -> None:
    target = make_feedback(session, procedure=procedure, contact_email="usager@example.org")
    agent = client_for("agent")
    agent.submit(f"/console/feedback/{target.id}/answer", {"body": "Corrigé."})
    page = agent.get(f"/console/feedback/{target.id}").text
    assert "Envoyer la réponse à l'usager par courriel" not in page
    assert "aucun serveur SMTP" in page


def test_the_search_field_has_a_visible_label(client_for) -> None:
    page = client_for("agent").get("/console/").text
    assert "fr-search-bar" not in page  # DSFR's search bar hides its label
    assert '<label class="fr-label" for="f-q">Rechercher dans les commentaires' in page


def test_the_new_words_have_their_english(client_for, session, procedure) -> None:
    rows(session, procedure, 2)
    page = client_for("agent").get("/console/?lang=en").text
    assert "2 feedback items match these criteria." in page
    assert "Back to the list" not in page and "— Choose a colleague —" in page
    assert "Remove the assignment" in page and "Newest first" in page
