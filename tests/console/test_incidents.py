"""Incidents in the console: one alert email per incident, the banner, the problem made of it."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import Session, select

from retour.alerts import dispatch
from retour.models import AlertSubscription, Incident, Problem, utcnow
from tests.factories import make_feedback, make_procedure, make_user
from tests.mail import body


def burst(session: Session, procedure: Any, n: int = 12) -> None:
    for _ in range(n):
        make_feedback(session, procedure=procedure, comment="Erreur à l'étape 3, rien ne marche")


def test_a_spike_emails_its_followers_once_and_shows_a_banner(
    engine, session: Session, mail_settings, smtp, client_for, ministry, other_ministry
) -> None:
    inbox, _ = smtp
    procedure = make_procedure(session, ministry_id=ministry.id)
    follower = make_user(session, role="agent", ministry=ministry)
    stranger = make_user(session, role="agent", ministry=other_ministry)
    for person, kind in ((follower, "incident"), (stranger, "incident")):
        session.add(AlertSubscription(user_id=person.id, kind=kind))
    session.commit()
    dispatch(engine, mail_settings)  # the first run sets the watermarks
    session.rollback()
    burst(session, procedure)
    result = dispatch(engine, mail_settings, now=utcnow())
    assert result.incidents == 1
    [message] = inbox.to(follower.email)
    assert "Incident : 12 signalements de dysfonctionnement" in message["Subject"]
    text = body(message)
    assert "« étape 3 »" in text and "/console/problems/new?procedure=" in text
    assert "rien ne marche" not in text  # common words only, never a comment
    assert inbox.to(stranger.email) == []
    dispatch(engine, mail_settings, now=utcnow())
    assert len(inbox.to(follower.email)) == 1  # once per incident
    session.rollback()  # the dispatcher wrote: leave the old snapshot before writing

    agent = client_for("agent")
    page = html.unescape(agent.get(f"/console/procedures/{procedure.id}").text)
    assert f"Incident en cours sur «\u202f{procedure.title}\u202f»" in page
    assert "12 signalements de dysfonctionnement dans la dernière heure" in page
    other = client_for("agent", ministry=other_ministry)
    assert "Incident en cours" not in other.get("/console/procedures").text

    incident = session.exec(select(Incident)).one()
    created = agent.submit(
        "/console/problems/new",
        {"title": "Étape 3 en panne", "procedures": [procedure.id], "incident": incident.id},
    )
    assert created.status_code == 303
    session.rollback()
    problem = session.exec(select(Problem)).one()
    assert session.get(Incident, incident.id).problem_id == problem.id
    assert "Voir le problème" in agent.get(f"/console/procedures/{procedure.id}").text


def test_subscribing_to_incidents(client_for, session: Session) -> None:
    agent = client_for("agent")
    saved = agent.submit("/console/alerts", {"new_scope": "none", "incident": "1"})
    assert saved.status_code == 303
    kinds = session.exec(
        select(AlertSubscription.kind).where(AlertSubscription.user_id == agent.user.id)
    ).all()
    assert kinds == ["incident"]
    assert 'id="incident" name="incident" value="1" checked' in agent.get("/console/alerts").text
