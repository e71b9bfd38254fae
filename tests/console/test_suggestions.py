"""Suggestions on the submission and problem pages: ranked, with a reason, own ministry only."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from sqlmodel import Session

from retour import problems
from retour.models import Ministry, utcnow
from tests.factories import make_feedback, make_procedure

STEP_3 = [
    "Erreur à l'étape 3, le bouton Valider ne marche pas",
    "Étape 3 : une erreur quand je valide",
    "etape 3 erreur, impossible de valider",
]


def reports(session: Session, ministry: Ministry, comments: list[str]) -> list[Any]:
    procedure = make_procedure(session, ministry_id=ministry.id)
    at = utcnow() - dt.timedelta(minutes=1)
    return [
        make_feedback(session, procedure=procedure, comment=c, received_at=at) for c in comments
    ]


def test_the_submission_page_suggests_similar_reports_with_a_reason(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    agent = client_for("agent")
    mine = reports(session, ministry, [*STEP_3, "Le paiement est refusé"])
    theirs = reports(session, other_ministry, ["Erreur étape 3 bouton valider, rien ne marche"])
    page = html.unescape(agent.get(f"/console/feedback/{mine[0].id}").text)
    quoted = "«\u00a0étape 3\u00a0» et «\u00a0erreur\u00a0»"
    assert f"3 retours mentionnent {quoted} depuis le" in page
    assert f'href="/console/feedback/{mine[1].id}"' in page
    assert f'href="/console/feedback/{mine[3].id}"' not in page  # says something else
    assert f'href="/console/feedback/{theirs[0].id}"' not in page  # another ministry
    assert "Les plus proches (2 au total)" in page
    assert f"/console/problems/new?retour={mine[0].id}&retour=" in page


def test_a_problem_is_suggested_and_linked_from_the_submission_page(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    rows = reports(session, ministry, STEP_3)
    problem = problems.create_problem(
        session,
        actor=agent.user,
        ministry_id=ministry.id,
        title="Erreur à l'étape 3",
        procedure_ids=[rows[0].procedure_id],
    )
    problems.link_feedback(session, problem=problem, actor=agent.user, feedback_ids=[rows[0].id])
    session.commit()
    page = html.unescape(agent.get(f"/console/feedback/{rows[2].id}").text)
    assert "Problèmes qui ressemblent à ce retour" in page
    assert f'<a href="/console/problems/{problem.id}">Erreur à l\'étape 3</a>' in page
    candidates = html.unescape(agent.get(f"/console/problems/{problem.id}").text)
    assert "Retours qui ressemblent à ce problème" in candidates
    assert f'name="ids" value="{rows[2].id}"' in candidates
    linked = agent.submit(f"/console/problems/{problem.id}/link", {"ids": [rows[1].id, rows[2].id]})
    assert linked.headers["location"].endswith("fait=lies&n=2")
