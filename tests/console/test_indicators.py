"""Declared indicators in the console: the form, the audit trail, the import, the year-old flag."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from retour.models import AuditEvent, ProcedureIndicator
from tests.factories import make_procedure

FORM = {
    "online-value": "full",
    "online-evidence": "Ouverte partout depuis 2024",
    "accessibility-value": "75",
    "accessibility-detail": "https://www.example.gouv.fr/accessibilite",
    "franceconnect-value": "yes",
    "help-value": ["phone", "email"],
    "help-detail": "https://www.example.gouv.fr/contact",
}


def test_ministry_admin_declares_indicators_audited(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    url = f"/console/procedures/{procedure.id}/indicators"
    response = manager.submit(url, FORM)
    assert response.status_code == 303, response.text
    rows = {
        row.indicator: row
        for row in session.exec(
            select(ProcedureIndicator).where(ProcedureIndicator.procedure_id == procedure.id)
        )
    }
    assert set(rows) == {"online", "accessibility", "franceconnect", "help"}
    assert rows["accessibility"].value == "75"
    assert rows["help"].value == "phone email"
    assert rows["online"].evidence == "Ouverte partout depuis 2024"
    assert rows["online"].declared_by == manager.user.email
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "indicator_declare")).all()
    assert {json.loads(e.detail)["indicator"] for e in events} == set(rows)
    assert all(e.actor_id == manager.user.id for e in events)

    page = manager.get(url)
    assert "À améliorer" in page.text  # RGAA 75 %: between 50 and 99
    assert "Ouverte partout depuis 2024" in page.text
    # Saving again unchanged records nothing more.
    manager.submit(url, FORM)
    again = session.exec(select(AuditEvent).where(AuditEvent.action == "indicator_declare")).all()
    assert len(again) == len(events)


def test_bad_values_are_field_errors_and_nothing_is_saved(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    response = manager.submit(
        f"/console/procedures/{procedure.id}/indicators",
        {**FORM, "accessibility-value": "140", "accessibility-detail": "javascript:alert(1)"},
    )
    assert response.status_code == 400
    assert 'id="accessibility-value-error"' in response.text
    assert "de 0 à 100" in response.text
    assert session.exec(select(ProcedureIndicator)).all() == []


def test_hostile_evidence_is_escaped(client_for, session, ministry):
    procedure = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    url = f"/console/procedures/{procedure.id}/indicators"
    manager.submit(url, {"online-value": "partial", "online-evidence": "<script>alert(1)</script>"})
    page = manager.get(url)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_another_ministry_answers_404_and_readers_cannot_write(
    client_for, session, ministry, other_ministry
):
    theirs = make_procedure(session, ministry_id=other_ministry.id)
    ours = make_procedure(session, ministry_id=ministry.id)
    manager = client_for("ministry_admin")
    assert manager.get(f"/console/procedures/{theirs.id}/indicators").status_code == 404
    assert manager.submit(f"/console/procedures/{theirs.id}/indicators", FORM).status_code == 404
    viewer = client_for("viewer")
    assert viewer.get(f"/console/procedures/{ours.id}/indicators").status_code == 200
    assert viewer.submit(f"/console/procedures/{ours.id}/indicators", FORM).status_code == 403
    assert session.exec(select(ProcedureIndicator)).all() == []


def test_declarations_over_a_year_old_are_flagged_first(client_for, session, ministry):
    old = make_procedure(session, ministry_id=ministry.id, title="Ancienne déclaration")
    make_procedure(session, ministry_id=ministry.id, title="Aaa sans rien")
    session.add(
        ProcedureIndicator(
            procedure_id=old.id,
            indicator="online",
            value="full",
            declared_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=400),
            declared_by="cli",
        )
    )
    session.commit()
    agent = client_for("agent")
    page = agent.get("/console/indicators")
    assert page.status_code == 200
    assert page.text.index("Ancienne déclaration") < page.text.index("Aaa sans rien")
    assert "plus d’un an" in page.text
    # Renewing the same value clears the flag.
    manager = client_for("ministry_admin")
    manager.submit(f"/console/procedures/{old.id}/indicators", {"online-value": "full"})
    session.expire_all()
    renewed = session.get(ProcedureIndicator, (old.id, "online"))
    assert dt.datetime.now(dt.UTC) - renewed.declared_at < dt.timedelta(minutes=5)


def upload(client, content: bytes):
    return client.post(
        "/console/indicators/import",
        data={"csrf_token": client.csrf_token},
        files={"fichier": ("indicateurs.csv", content, "text/csv")},
    )


def test_import_declares_for_own_procedures(client_for, session, ministry):
    make_procedure(session, id="carte-1", ministry_id=ministry.id)
    make_procedure(session, id="carte-2", ministry_id=ministry.id)
    content = (
        "id;online;rgaa_rate;accessibility_statement;help_channels;evidence\r\n"
        "carte-1;full;100;https://www.example.gouv.fr/a11y;phone chat;Audit 2026\r\n"
        "carte-2;partial;;none;;\r\n"
    ).encode("utf-8-sig")
    response = upload(client_for("ministry_admin"), content)
    assert response.status_code == 200, response.text
    stored = session.get(ProcedureIndicator, ("carte-1", "accessibility"))
    assert (stored.value, stored.detail, stored.evidence) == (
        "100",
        "https://www.example.gouv.fr/a11y",
        "Audit 2026",
    )
    assert session.get(ProcedureIndicator, ("carte-2", "accessibility")).detail == "none"
    assert session.get(ProcedureIndicator, ("carte-2", "help")) is None


def test_import_errors_by_line_and_nothing_imported(client_for, session, ministry, other_ministry):
    make_procedure(session, id="carte-1", ministry_id=ministry.id)
    make_procedure(session, id="voisin-1", ministry_id=other_ministry.id)
    content = (
        b"id,online,franceconnect\n"
        b"carte-1,full,yes\n"
        b"voisin-1,full,yes\n"
        b"inconnue,full,yes\n"
        b"carte-1,peut-etre,yes\n"
    )
    response = upload(client_for("ministry_admin"), content)
    assert response.status_code == 400
    assert "ligne 5" in response.text  # bad value and duplicate, before the register is read
    assert session.exec(select(ProcedureIndicator)).all() == []
    content = b"id,online\ncarte-1,full\nvoisin-1,full\ninconnue,full\n"
    response = upload(client_for("ministry_admin"), content)
    assert response.status_code == 400
    assert "ligne 3" in response.text and "autre ministère" in response.text
    assert "ligne 4" in response.text and "inconnue" in response.text
    assert session.exec(select(ProcedureIndicator)).all() == []
