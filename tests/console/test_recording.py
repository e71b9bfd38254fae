"""Feedback from other channels: typed in, imported, sent by the API, split in the figures."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any

import pytest
from sqlmodel import Session, select

from retour.models import AuditEvent, Feedback, Ministry
from retour.stats import refresh
from tests.console.test_staff_api import auth, new_key
from tests.factories import make_feedback, make_procedure

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def procedure(session: Session, ministry: Ministry) -> Any:
    return make_procedure(session, id="carte-grise", ministry_id=ministry.id)


def form(procedure: Any, **overrides: str) -> dict[str, str]:
    values = {
        "procedure_id": procedure.id,
        "channel": "phone",
        "received_on": "2026-03-14",
        "satisfaction": "1",
        "kind": "complaint",
        "comment": "Personne ne répond. Rappeler au 06 12 34 56 78.",
        "contact_email": "",
        "client_id": str(uuid.uuid4()),
    }
    return {**values, **overrides}


def test_an_agent_records_a_phone_call_masked_and_once(
    client_for: Any, session: Session, procedure: Any
) -> None:
    agent = client_for("agent")
    values = form(procedure)
    response = agent.submit("/console/feedback/new", values)
    assert response.status_code == 303
    assert agent.submit("/console/feedback/new", values).status_code == 303  # sent twice
    feedback = session.exec(select(Feedback)).one()
    assert (feedback.channel, feedback.recorded_by_id, feedback.ministry_id) == (
        "phone",
        agent.user.id,
        procedure.ministry_id,
    )
    assert "06 12" not in feedback.comment and feedback.pii_categories == "phone"
    assert feedback.received_at.date() == dt.date(2026, 3, 14)
    page = agent.get(response.headers["location"])
    assert "Par téléphone" in page.text and agent.user.email in page.text
    assert session.exec(select(AuditEvent.action).where(AuditEvent.entity == "feedback")).all() == [
        "record"
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"channel": "online"}, "par où", id="online-is-not-recorded"),
        pytest.param({"satisfaction": ""}, "comment s’est passée", id="no-rating"),
        pytest.param({"received_on": "2999-01-01"}, "futur", id="future"),
        pytest.param({"received_on": "hier"}, "date de réception", id="bad-date"),
        pytest.param({"comment": "x" * 2001}, "2 000", id="long"),
    ],
)
def test_a_wrong_entry_is_refused_and_kept_in_the_form(
    overrides: dict[str, str], message: str, client_for: Any, session: Session, procedure: Any
) -> None:
    response = client_for("agent").submit("/console/feedback/new", form(procedure, **overrides))
    assert response.status_code == 400
    assert message in response.text.lower() or message in response.text
    assert session.exec(select(Feedback)).first() is None


def test_another_ministrys_procedure_and_viewers_are_refused(
    client_for: Any, session: Session, procedure: Any, other_ministry: Ministry
) -> None:
    theirs = make_procedure(session, ministry_id=other_ministry.id)
    response = client_for("agent").submit("/console/feedback/new", form(theirs))
    assert response.status_code == 400
    assert theirs.title not in client_for("agent").get("/console/feedback/new").text
    assert client_for("viewer").submit("/console/feedback/new", form(procedure)).status_code == 403
    assert session.exec(select(Feedback)).first() is None


CSV = (
    "\ufeffprocedure_id;channel;received_at;satisfaction;kind;comment\r\n"
    'carte-grise;guichet;14/03/2026;mal;complaint;"File d\'attente, 2 h"\r\n'
    "carte-grise;Courrier;2026-03-10;3;;Merci pour votre aide\r\n"
    "carte-grise;France Services;2026-03-11;moyennement;omission;\r\n"
)


def upload(client: Any, content: str) -> Any:
    return client.post(
        "/console/feedback/import",
        data={"csrf_token": client.csrf_token},
        files={"fichier": ("retours.csv", content.encode(), "text/csv")},
    )


def test_a_spreadsheet_is_imported_once(client_for: Any, session: Session, procedure: Any) -> None:
    agent = client_for("agent")
    response = upload(agent, CSV)
    assert response.status_code == 200, response.text
    assert "3 retours enregistrés, 0 déjà présents" in response.text
    rows = session.exec(select(Feedback).order_by(Feedback.id)).all()
    assert [(r.channel, r.satisfaction, r.kind) for r in rows] == [
        ("counter", 1, "complaint"),
        ("post", 3, None),
        ("france_services", 2, "omission"),
    ]
    assert all(r.recorded_by_id == agent.user.id for r in rows)
    again = upload(agent, CSV)
    assert "0 retours enregistrés, 3 déjà présents" in again.text
    assert len(session.exec(select(Feedback)).all()) == 3


def test_a_file_with_errors_imports_nothing_and_names_the_lines(
    client_for: Any, session: Session, procedure: Any, other_ministry: Ministry
) -> None:
    theirs = make_procedure(session, id="impots", ministry_id=other_ministry.id)
    bad = CSV + (
        "carte-grise;pigeon;2026-03-12;2;;\r\n"
        "carte-grise;courrier;12 mars;2;;\r\n"
        f"{theirs.id};courrier;2026-03-12;2;;\r\n"
        "carte-grise;courrier;2026-03-12;5;;\r\n"
    )
    response = upload(client_for("agent"), bad)
    assert response.status_code == 400
    text = response.text
    assert "ligne 5" in text and "pigeon" in text
    assert "ligne 6" in text and "12 mars" in text
    assert "ligne 7" in text and "impots" in text
    assert "ligne 8" in text and "satisfaction" in text
    assert session.exec(select(Feedback)).first() is None
    missing = upload(client_for("agent"), "procedure_id;channel\ncarte-grise;guichet\n")
    assert missing.status_code == 400 and "received_at, satisfaction" in missing.text


def test_api_clients_record_feedback_with_a_write_key(
    console_app: Any,
    session: Session,
    ministry: Ministry,
    procedure: Any,
    other_ministry: Ministry,
) -> None:
    theirs = make_procedure(session, ministry_id=other_ministry.id)
    write, read = new_key(session, ministry), new_key(session, ministry, can_write=False)
    body = {
        "procedure_id": procedure.id,
        "channel": "post",
        "satisfaction": 2,
        "received_at": "2026-03-01T09:00:00+01:00",
        "comment": "Lettre reçue.",
        "client_id": str(uuid.uuid4()),
    }
    with TestClient(console_app, base_url="http://testserver") as api:
        first = api.post("/api/v1/staff/feedback", json=body, headers=auth(write))
        assert first.status_code == 201, first.text
        assert first.json()["channel"] == "post"
        again = api.post("/api/v1/staff/feedback", json=body, headers=auth(write))
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert api.post("/api/v1/staff/feedback", json=body, headers=auth(read)).status_code == 403
        other = {**body, "procedure_id": theirs.id, "client_id": str(uuid.uuid4())}
        assert (
            api.post("/api/v1/staff/feedback", json=other, headers=auth(write)).status_code == 404
        )
        bad = {**body, "channel": "pigeon", "client_id": str(uuid.uuid4())}
        refused = api.post("/api/v1/staff/feedback", json=bad, headers=auth(write))
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "channel"
    stored = session.exec(select(Feedback)).one()
    assert stored.received_at == dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "record")).one()
    assert event.actor_label == "API : GRC"


def test_the_public_figures_are_split_by_channel(
    client_for: Any, session: Session, engine: Any, procedure: Any
) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for channel, count in (("online", 3), ("phone", 2), ("assisted", 1)):
        for _ in range(count):
            make_feedback(
                session, procedure=procedure, channel=channel, received_at=now, updated_at=now
            )
    make_feedback(session, procedure=procedure, channel="post", status="spam", received_at=now)
    refresh(engine, full=True)
    page = client_for(None).get(f"/procedures/{procedure.id}")
    assert page.status_code == 200
    section = page.text.split('id="canaux"')[1].split("</table>")[0]
    cells = {
        label: section.split(label)[1].split("<td>")[1].split("</td>")[0]
        for label in (
            "En ligne</th>",
            "Par téléphone",
            "En ligne, avec un conseiller",
            "Par courrier",
        )
    }
    assert cells == {
        "En ligne</th>": "3",
        "Par téléphone": "2",
        "En ligne, avec un conseiller": "1",
        "Par courrier": "0",  # spam is never published
    }
