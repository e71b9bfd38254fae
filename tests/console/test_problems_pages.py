"""The problems pages: list, create (with submissions), status, merge, link, unlink; roles."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import Session, select

from retour import problems
from retour.models import Feedback, Ministry, Problem, ProblemLink
from tests.factories import make_feedback, make_procedure, make_user


def setup_problem(
    session: Session, ministry: Ministry, n: int = 2
) -> tuple[Problem, list[Feedback]]:
    procedure = make_procedure(session, ministry_id=ministry.id)
    rows = [make_feedback(session, procedure=procedure) for _ in range(n)]
    owner = make_user(session, role="agent", ministry=ministry)
    problem = problems.create_problem(
        session,
        actor=owner,
        ministry_id=ministry.id,
        title="Étape 3 bloquée",
        procedure_ids=[procedure.id],
    )
    problems.link_feedback(session, problem=problem, actor=owner, feedback_ids=[r.id for r in rows])
    session.commit()
    return problem, rows


def test_an_agent_creates_a_problem_from_selected_submissions(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    procedure = make_procedure(session, ministry_id=ministry.id)
    rows = [make_feedback(session, procedure=procedure) for _ in range(3)]
    query = "&".join(f"retour={r.id}" for r in rows)
    form = agent.get(f"/console/problems/new?{query}")
    assert form.status_code == 200
    assert "3 retours seront liés" in form.text
    assert f'value="{procedure.id}" checked' in form.text
    response = agent.submit(
        "/console/problems/new",
        {
            "title": "Le bouton Valider ne fait rien",
            "procedures": [procedure.id],
            "retour": [str(r.id) for r in rows],
        },
    )
    assert response.status_code == 303, response.text
    problem = session.exec(select(Problem)).one()
    assert response.headers["location"] == f"/console/problems/{problem.id}?fait=cree"
    assert problem.reports == 3
    page = agent.get(f"/console/problems/{problem.id}")
    assert "Le bouton Valider ne fait rien" in page.text and "Retours liés (3)" in page.text
    assert "Le problème est créé." in agent.get(response.headers["location"]).text
    listing = agent.get("/console/problems")
    assert "Le bouton Valider ne fait rien" in listing.text


def test_a_form_error_is_said_not_a_500(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    response = agent.submit("/console/problems/new", {"title": "", "procedures": []})
    assert response.status_code == 400
    assert "Le titre est obligatoire." in response.text
    assert agent.get("/console/problems/new?retour=abc").status_code == 404
    assert agent.get("/console/problems/99999999999999999999").status_code == 404


def test_closing_a_problem_answers_every_linked_submission(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    problem, rows = setup_problem(session, ministry)
    url = f"/console/problems/{problem.id}/status"
    refused = agent.submit(url, {"to": "fixed", "public_answer": ""})
    assert refused.headers["location"].endswith("erreur=empty_answer")
    done = agent.submit(url, {"to": "fixed", "public_answer": "Corrigé le 3 mars, merci."})
    assert done.headers["location"] == f"/console/problems/{problem.id}?fait=statut&n=2"
    session.expire_all()
    assert session.get(Problem, problem.id).status == "fixed"
    assert {session.get(Feedback, r.id).status for r in rows} == {"resolved"}
    bogus = agent.submit(url, {"to": "nonsense"})
    assert bogus.headers["location"].endswith("erreur=unknown_status")


def test_viewers_read_but_cannot_change(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    viewer = client_for("viewer")
    problem, _ = setup_problem(session, ministry)
    page = viewer.get(f"/console/problems/{problem.id}")
    assert page.status_code == 200 and "Marquer corrigé" not in page.text
    assert viewer.get("/console/problems/new").status_code == 403
    status = viewer.submit(f"/console/problems/{problem.id}/status", {"to": "planned"})
    assert status.status_code == 403


def test_another_ministry_gets_404_everywhere(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    stranger = client_for("agent", ministry=other_ministry)
    problem, rows = setup_problem(session, ministry)
    assert stranger.get(f"/console/problems/{problem.id}").status_code == 404
    assert stranger.get(f"/console/problems/{problem.id}/edit").status_code == 404
    for action in ("status", "unlink", "link", "merge"):
        response = stranger.submit(
            f"/console/problems/{problem.id}/{action}", {"to": "planned", "ids": [rows[0].id]}
        )
        assert response.status_code == 404, action
    assert "Étape 3 bloquée" not in stranger.get("/console/problems").text
    # Their own problem cannot take our submission either.
    own = make_procedure(session, ministry_id=other_ministry.id)
    mine = problems.create_problem(
        session,
        actor=stranger.user,
        ministry_id=other_ministry.id,
        title="À eux",
        procedure_ids=[own.id],
    )
    session.commit()
    response = stranger.submit(f"/console/problems/{mine.id}/link", {"ids": [rows[0].id]})
    assert response.status_code == 404
    assert stranger.get(f"/console/problems/new?retour={rows[0].id}").status_code == 404


def test_forms_need_the_csrf_token(client_for: Any, session: Session, ministry: Ministry) -> None:
    agent = client_for("agent")
    problem, _ = setup_problem(session, ministry)
    response = agent.post(f"/console/problems/{problem.id}/status", data={"to": "planned"})
    assert response.status_code == 403


def test_link_from_the_submission_page_unlink_and_merge(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    problem, rows = setup_problem(session, ministry)
    other, _ = setup_problem(session, ministry, n=1)
    loose = make_feedback(session, procedure=make_procedure(session, ministry_id=ministry.id))
    page = html.unescape(agent.get(f"/console/feedback/{loose.id}").text)
    assert "Ce retour n'est lié à aucun problème." in page
    assert "Créer un problème à partir de ce retour" in page
    linked = agent.submit(
        "/console/problems/link",
        {"problem": problem.id, "ids": [loose.id], "return_to": f"/console/feedback/{loose.id}"},
    )
    assert linked.headers["location"] == f"/console/feedback/{loose.id}?fait=lies&n=1"
    assert "Lié au problème" in agent.get(f"/console/feedback/{loose.id}").text
    unlinked = agent.submit(f"/console/problems/{problem.id}/unlink", {"ids": [rows[0].id]})
    assert unlinked.headers["location"].endswith("fait=retires&n=1")
    merged = agent.submit(f"/console/problems/{problem.id}/merge", {"target": other.id})
    assert merged.headers["location"] == f"/console/problems/{other.id}?fait=fusion"
    assert agent.get(f"/console/problems/{problem.id}").headers["location"] == (
        f"/console/problems/{other.id}"
    )
    session.expire_all()
    links = session.exec(select(ProblemLink).where(ProblemLink.problem_id == other.id)).all()
    assert len(links) == 3  # its own one, and the two left in the merged problem
    assert "Étape 3 bloquée" in agent.get("/console/problems").text
    empty = agent.submit(f"/console/problems/{other.id}/unlink", {})
    assert empty.headers["location"].endswith("erreur=selection")


def test_the_edit_form_changes_title_and_answer(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    agent = client_for("agent")
    problem, _ = setup_problem(session, ministry)
    procedure_ids = problems.procedures_of(session, problem.id)
    assert agent.get(f"/console/problems/{problem.id}/edit").status_code == 200
    response = agent.submit(
        f"/console/problems/{problem.id}/edit",
        {
            "title": "Nouveau titre",
            "description": "",
            "procedures": procedure_ids,
            "public_answer": "Nous corrigeons.",
        },
    )
    assert response.status_code == 303
    session.expire_all()
    saved = session.get(Problem, problem.id)
    assert saved.title == "Nouveau titre" and saved.public_answer == "Nous corrigeons."
