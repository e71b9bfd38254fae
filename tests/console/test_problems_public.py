"""One answer reaches everyone, and the public record: /suivi, email, figures, open data."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from retour import problems
from retour.alerts import dispatch
from retour.models import Feedback, Ministry
from retour.receipts import new_receipt
from retour.stats import refresh
from tests.factories import make_feedback, make_procedure, make_user
from tests.mail import body

COMMENT = "Le bouton Valider ne fait rien à l'étape 3, je suis furieux"
ANSWER = "Le bouton Valider fonctionne de nouveau depuis le 3 mars. Merci de l'avoir signalé."


def fixed_problem(session: Session, ministry: Ministry) -> tuple[Any, list[Feedback], Any]:
    procedure = make_procedure(session, ministry_id=ministry.id)
    asked = make_feedback(
        session,
        procedure=procedure,
        comment=COMMENT,
        contact_email="usager@example.fr",
        receipt=new_receipt(),
    )
    quiet = make_feedback(session, procedure=procedure, comment=COMMENT, receipt=new_receipt())
    agent = make_user(session, role="agent", ministry=ministry)
    problem = problems.create_problem(
        session,
        actor=agent,
        ministry_id=ministry.id,
        title="Le bouton Valider ne répond pas",
        description="Note interne : voir le ticket 4521",
        procedure_ids=[procedure.id],
    )
    problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=[asked.id, quiet.id])
    problems.change_problem_status(
        session, problem=problem, actor=agent, to="fixed", public_answer=ANSWER
    )
    session.commit()
    return problem, [asked, quiet], procedure


def test_every_linked_receipt_shows_the_answer(client_for, session, ministry) -> None:
    _problem, rows, _ = fixed_problem(session, ministry)
    citizen = client_for(None)
    for row in rows:
        page = html.unescape(citizen.get(f"/suivi/{row.receipt}").text)
        assert ANSWER in page
        assert "signalé par 2 usagers" in page
        assert COMMENT not in page


def test_the_answer_is_emailed_once_then_the_address_erased(
    engine, session, ministry, mail_settings, smtp
) -> None:
    inbox, _ = smtp
    _problem, rows, _ = fixed_problem(session, ministry)
    result = dispatch(engine, mail_settings)
    assert result.problem_answers == 1
    [message] = inbox.to("usager@example.fr")
    assert ANSWER in body(message) and f"/suivi/{rows[0].receipt}" in body(message)
    dispatch(engine, mail_settings)
    assert len(inbox.to("usager@example.fr")) == 1
    session.rollback()
    session.expire_all()
    assert session.get(Feedback, rows[0].id).contact_email is None
    with engine.connect() as connection:
        actions = connection.execute(
            text("SELECT action FROM audit_event WHERE entity_id = :id ORDER BY id"),
            {"id": str(rows[0].id)},
        ).scalars()
        assert list(actions)[-2:] == ["problem_answer_email", "contact_email_purged"]


def test_linked_reports_count_as_answered_in_public_figures(engine, session, ministry) -> None:
    _problem, _rows, procedure = fixed_problem(session, ministry)
    refresh(engine, full=True)
    with engine.connect() as connection:
        answers = connection.execute(
            text("SELECT answers, processed FROM procedure_stats WHERE procedure_id = :p"),
            {"p": procedure.id},
        ).one()
    assert tuple(answers) == (2, 2)


def test_the_public_record_shows_problems_but_no_citizen_text(
    client_for, session, ministry
) -> None:
    problem, _rows, procedure = fixed_problem(session, ministry)
    public = client_for(None)
    page = html.unescape(public.get(f"/procedures/{procedure.id}").text)
    assert "Le bouton Valider ne répond pas" in page and ANSWER in page
    assert "2 retours d’usagers" in page and "Corrigé" in page
    assert COMMENT not in page and "ticket 4521" not in page
    dashboard = html.unescape(public.get("/").text)
    assert "Vous avez dit, nous avons corrigé" in dashboard
    assert "Le bouton Valider ne répond pas" in dashboard

    data = public.get("/open-data/problems.json").json()
    [record] = data["problems"]
    assert data["license"] == "etalab-2.0"
    assert record["id"] == problem.id and record["procedure_ids"] == [procedure.id]
    assert (record["status"], record["reports"], record["public_answer"]) == ("fixed", 2, ANSWER)
    assert record["fixed_at"].endswith("Z") and record["opened_at"].endswith("Z")
    assert record["ministry"] == ministry.name
    raw = public.get("/open-data/problems.csv").text
    assert COMMENT not in raw and "ticket 4521" not in raw
    [row] = list(csv.DictReader(io.StringIO(raw)))
    assert set(row) >= {
        "id",
        "ministry",
        "procedure_ids",
        "title",
        "status",
        "reports",
        "opened_at",
        "fixed_at",
        "public_answer",
    }
    assert row["procedure_ids"] == procedure.id and row["reports"] == "2"


def test_an_open_problem_publishes_no_answer_yet(client_for, session, ministry) -> None:
    procedure = make_procedure(session, ministry_id=ministry.id)
    agent = make_user(session, role="agent", ministry=ministry)
    problem = problems.create_problem(
        session,
        actor=agent,
        ministry_id=ministry.id,
        title="À l'étude",
        procedure_ids=[procedure.id],
    )
    problem.public_answer = "Brouillon de réponse"
    session.add(problem)
    session.commit()
    [record] = client_for(None).get("/open-data/problems.json").json()["problems"]
    assert record["status"] == "open" and record["public_answer"] == ""
    assert "Brouillon" not in client_for(None).get(f"/procedures/{procedure.id}").text
