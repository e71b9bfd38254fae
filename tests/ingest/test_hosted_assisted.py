"""`/r/{id}?accompagne=1`: the hosted form filled in with an adviser, counted as assisted."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select

from retour.models import Feedback, Procedure
from tests.ingest.test_hosted_form import hidden_fields


def test_the_assisted_form_stores_its_submissions_as_assisted(
    client: httpx.Client, procedure: Procedure, session: Session
) -> None:
    page = client.get(f"/r/{procedure.id}", params={"accompagne": "1"})
    assert page.status_code == 200
    assert "un conseiller aide l’usager" in page.text
    assert f'action="/r/{procedure.id}?accompagne=1"' in page.text
    fields = hidden_fields(page.text)
    form = {**fields, "satisfaction": "1", "comment": "Appelez le 06 12 34 56 78."}
    url = f"/r/{procedure.id}?accompagne=1"
    # Personal data is pointed out before anything is sent, in this mode as in the other.
    notice = client.post(url, data=form)
    assert notice.status_code == 200 and f'action="{url}"' in notice.text
    form = {**form, "pii_seen": hidden_fields(notice.text)["pii_seen"]}
    first = client.post(url, data=form)
    assert first.status_code == 303
    assert "accompagne=1" in first.headers["location"]
    again = client.post(url, data=form)  # sent twice: one submission, the same receipt
    assert again.headers["location"] == first.headers["location"]
    thanks = client.get(first.headers["location"])
    assert "Aider un autre usager" in thanks.text

    session.rollback()  # the server wrote through its own connections
    rows = session.exec(select(Feedback)).all()
    assert [(r.channel, r.satisfaction, r.recorded_by_id) for r in rows] == [("assisted", 1, None)]
    assert "06 12" not in rows[0].comment and "[téléphone masqué]" in rows[0].comment
    assert rows[0].client_id == fields["client_id"]


def test_without_the_parameter_submissions_are_online(
    client: httpx.Client, procedure: Procedure, session: Session
) -> None:
    page = client.get(f"/r/{procedure.id}")
    assert "un conseiller aide" not in page.text
    client.post(f"/r/{procedure.id}", data={**hidden_fields(page.text), "satisfaction": "3"})
    session.rollback()
    assert session.exec(select(Feedback.channel)).all() == ["online"]


def test_an_assisted_form_with_a_forged_token_stores_nothing(
    client: httpx.Client, procedure: Procedure, session: Session
) -> None:
    fields = hidden_fields(client.get(f"/r/{procedure.id}?accompagne=1").text)
    response = client.post(
        f"/r/{procedure.id}?accompagne=1",
        data={**fields, "token": "forged", "satisfaction": "2"},
    )
    assert response.status_code == 200  # the form again, with a fresh token
    session.rollback()
    assert session.exec(select(Feedback)).first() is None
