"""Problems in the inbox: filters, row suggestions, bulk linking (ticked rows, every result)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from sqlmodel import Session, select

from retour import problems
from retour.models import Ministry, Problem, ProblemLink, utcnow
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


def test_filters_by_problem_and_by_similarity(
    client_for, session, ministry, other_ministry
) -> None:
    agent = client_for("agent")
    rows = reports(session, ministry, [*STEP_3, "Le paiement par carte est refusé"])
    problem = problems.create_problem(
        session,
        actor=agent.user,
        ministry_id=ministry.id,
        title="Étape 3",
        procedure_ids=[rows[0].procedure_id],
    )
    problems.link_feedback(session, problem=problem, actor=agent.user, feedback_ids=[rows[0].id])
    session.commit()
    linked = agent.get(f"/console/?probleme={problem.id}").text
    assert f'id="sel-{rows[0].id}"' in linked and f'id="sel-{rows[1].id}"' not in linked
    loose = agent.get("/console/?probleme=aucun").text
    assert f'id="sel-{rows[0].id}"' not in loose and f'id="sel-{rows[3].id}"' in loose
    alike = agent.get(f"/console/?semblables={rows[0].id}").text
    assert {f'id="sel-{r.id}"' in alike for r in rows} == {True, False}
    assert f'id="sel-{rows[3].id}"' not in alike
    # Rows say their problem, or the one they resemble.
    page = html.unescape(agent.get("/console/").text)
    assert "Problème\u202f: <a" in page and "Ressemble au problème\u202f:" in page
    # Another ministry's problem or submission: 404.
    stranger = client_for("agent", ministry=other_ministry)
    assert stranger.get(f"/console/?probleme={problem.id}").status_code == 404
    assert stranger.get(f"/console/?semblables={rows[0].id}").status_code == 404
    assert agent.get("/console/?probleme=x%27").status_code == 200  # named, ignored


def test_bulk_link_ticked_rows_and_start_a_problem(client_for, session, ministry) -> None:
    agent = client_for("agent")
    rows = reports(session, ministry, STEP_3)
    problem = problems.create_problem(
        session,
        actor=agent.user,
        ministry_id=ministry.id,
        title="Étape 3",
        procedure_ids=[rows[0].procedure_id],
    )
    session.commit()
    page = agent.get("/console/").text
    assert 'formaction="/console/problems/link"' in page
    done = agent.submit(
        "/console/problems/link",
        {"problem": problem.id, "ids": [rows[0].id, rows[1].id], "return_to": "/console/"},
    )
    assert done.headers["location"] == "/console/?fait=lies&n=2"
    assert "2 retours liés au problème." in agent.get(done.headers["location"]).text
    form = agent.submit("/console/problems/new", {"start": "1", "ids": [rows[2].id]})
    assert form.status_code == 200 and f'name="retour" value="{rows[2].id}"' in form.text


def test_link_every_result_of_a_filter(client_for, session, ministry, other_ministry) -> None:
    agent = client_for("agent")
    rows = reports(session, ministry, [*STEP_3, "Le paiement est refusé"])
    foreign = reports(session, other_ministry, STEP_3)
    problem = problems.create_problem(
        session,
        actor=agent.user,
        ministry_id=ministry.id,
        title="Étape 3",
        procedure_ids=[rows[0].procedure_id],
    )
    session.commit()
    assert "Lier tous les résultats au problème" in agent.get("/console/?q=etape").text
    done = agent.submit("/console/problems/link-all", {"problem": problem.id, "query": "q=etape"})
    assert done.status_code == 303 and "fait=lies&n=3" in done.headers["location"]
    session.expire_all()
    linked = set(
        session.exec(select(ProblemLink.feedback_id).where(ProblemLink.problem_id == problem.id))
    )
    assert linked == {r.id for r in rows[:3]}
    assert not linked & {r.id for r in foreign}
    assert session.get(Problem, problem.id).reports == 3
    stranger = client_for("agent", ministry=other_ministry)
    refused = stranger.submit("/console/problems/link-all", {"problem": problem.id, "query": ""})
    assert refused.status_code == 404
