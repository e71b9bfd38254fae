"""Problems: creation, roles, status workflow, links, merge, and the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from retour import problems
from retour.models import AuditEvent, Feedback, Ministry, Problem, ProblemLink, StaffUser
from retour.triage import NotVisible, TriageError
from tests.factories import make_feedback, make_ministry, make_procedure, make_user


@pytest.fixture
def ministry(session: Session) -> Ministry:
    return make_ministry(session)


@pytest.fixture
def agent(session: Session, ministry: Ministry) -> StaffUser:
    return make_user(session, role="agent", ministry=ministry)


def new_problem(session: Session, agent: StaffUser, ministry: Ministry, **kw: object) -> Problem:
    procedure = kw.pop("procedure", None) or make_procedure(session, ministry_id=ministry.id)
    problem = problems.create_problem(
        session,
        actor=agent,
        ministry_id=ministry.id,
        title=str(kw.pop("title", "Le bouton Valider ne répond pas à l'étape 3")),
        procedure_ids=[procedure.id],
        **kw,
    )
    session.commit()
    return problem


def events(session: Session, entity: str, entity_id: int) -> list[tuple[str, dict[str, object]]]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.id)
    ).all()
    return [(row.action, json.loads(row.detail)) for row in rows]


def test_an_agent_creates_a_problem_recorded_in_the_audit_trail(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    problem = new_problem(session, agent, ministry, description="Vu par 40 usagers")
    assert problem.status == "open" and problem.reports == 0
    assert problems.procedures_of(session, problem.id)
    assert events(session, "problem", problem.id)[0][0] == "create"


def test_published_words_are_masked(session: Session, agent: StaffUser, ministry: Ministry) -> None:
    problem = new_problem(session, agent, ministry, title="Rappeler le 06 12 34 56 78")
    assert "06 12 34 56 78" not in problem.title


@pytest.mark.parametrize(
    ("title", "code"),
    [
        pytest.param("  ", "empty_title", id="empty"),
        pytest.param("x" * 201, "title_too_long", id="too-long"),
    ],
)
def test_a_bad_title_is_refused(
    session: Session, agent: StaffUser, ministry: Ministry, title: str, code: str
) -> None:
    with pytest.raises(TriageError) as error:
        new_problem(session, agent, ministry, title=title)
    assert error.value.code == code


def test_viewers_read_only_and_other_ministries_do_not_see(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    viewer = make_user(session, role="viewer", ministry=ministry)
    with pytest.raises(TriageError) as error:
        new_problem(session, viewer, ministry)
    assert error.value.code == "forbidden"
    problem = new_problem(session, agent, ministry)
    stranger = make_user(session, role="agent", ministry=make_ministry(session))
    with pytest.raises(NotVisible):
        problems.change_problem_status(session, problem=problem, actor=stranger, to="planned")
    with pytest.raises(NotVisible):
        new_problem(session, stranger, ministry)


def test_procedures_must_be_of_the_ministry(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    foreign = make_procedure(session, ministry_id=make_ministry(session).id)
    with pytest.raises(TriageError) as error:
        new_problem(session, agent, ministry, procedure=foreign)
    assert error.value.code == "bad_procedure"


def test_closing_needs_an_answer_and_wont_fix_a_reason(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    problem = new_problem(session, agent, ministry)
    with pytest.raises(TriageError) as error:
        problems.change_problem_status(session, problem=problem, actor=agent, to="fixed")
    assert error.value.code == "empty_answer"
    session.rollback()
    with pytest.raises(TriageError) as error:
        problems.change_problem_status(
            session, problem=problem, actor=agent, to="wont_fix", public_answer="Non."
        )
    assert error.value.code == "empty_reason"


def test_the_workflow_open_planned_fixed_and_reopen(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    problem = new_problem(session, agent, ministry)
    problems.change_problem_status(session, problem=problem, actor=agent, to="planned")
    assert problem.planned_at is not None
    problems.change_problem_status(
        session, problem=problem, actor=agent, to="fixed", public_answer="Corrigé le 3 mars."
    )
    assert problem.closed_at is not None and problem.answered_at is not None
    with pytest.raises(TriageError) as error:
        problems.change_problem_status(session, problem=problem, actor=agent, to="planned")
    assert error.value.code == "transition_refused"
    problems.change_problem_status(session, problem=problem, actor=agent, to="open")
    assert problem.answered_at is None and problem.closed_at is None
    actions = [
        detail["to"]
        for action, detail in events(session, "problem", problem.id)
        if action == "status"
    ]
    assert actions == ["planned", "fixed", "open"]


def test_fixing_resolves_the_linked_submissions_where_allowed(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    procedure = make_procedure(session, ministry_id=ministry.id)
    fresh = make_feedback(session, procedure=procedure)
    spam = make_feedback(session, procedure=procedure, status="spam")
    problem = new_problem(session, agent, ministry, procedure=procedure)
    problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=[fresh.id, spam.id])
    changed = problems.change_problem_status(
        session, problem=problem, actor=agent, to="fixed", public_answer="Corrigé."
    )
    session.commit()
    assert changed == 1
    assert session.get(Feedback, fresh.id).status == "resolved"
    assert session.get(Feedback, fresh.id).acknowledged_at is not None
    assert session.get(Feedback, spam.id).status == "spam"
    # A report linked after the fix is answered (and resolved) at once.
    late = make_feedback(session, procedure=procedure)
    result = problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=[late.id])
    assert result.resolved == 1


def test_linking_counts_moves_and_adds_the_procedure(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    first = new_problem(session, agent, ministry)
    second = new_problem(session, agent, ministry)
    other_procedure = make_procedure(session, ministry_id=ministry.id)
    feedback = make_feedback(session, procedure=other_procedure)
    result = problems.link_feedback(session, problem=first, actor=agent, feedback_ids=[feedback.id])
    assert (result.linked, result.moved, result.already) == (1, 0, 0)
    assert other_procedure.id in problems.procedures_of(session, first.id)
    again = problems.link_feedback(session, problem=first, actor=agent, feedback_ids=[feedback.id])
    assert again.already == 1 and first.reports == 1
    moved = problems.link_feedback(session, problem=second, actor=agent, feedback_ids=[feedback.id])
    session.commit()
    assert moved.moved == 1 and second.reports == 1 and first.reports == 0
    assert problems.problem_of(session, feedback.id).id == second.id
    history = [action for action, _ in events(session, "feedback", feedback.id)]
    assert history == ["problem_link", "problem_unlink", "problem_link"]


def test_another_ministrys_submission_cannot_be_linked(
    session: Session, agent: StaffUser, ministry: Ministry
) -> None:
    problem = new_problem(session, agent, ministry)
    foreign = make_feedback(session)  # a procedure of a new ministry
    with pytest.raises(NotVisible):
        problems.link_feedback(session, problem=problem, actor=agent, feedback_ids=[foreign.id])


def test_unlink_and_merge(session: Session, agent: StaffUser, ministry: Ministry) -> None:
    procedure = make_procedure(session, ministry_id=ministry.id)
    source = new_problem(session, agent, ministry, procedure=procedure)
    target = new_problem(session, agent, ministry)
    rows = [make_feedback(session, procedure=procedure) for _ in range(3)]
    problems.link_feedback(session, problem=source, actor=agent, feedback_ids=[r.id for r in rows])
    assert (
        problems.unlink_feedback(session, problem=source, actor=agent, feedback_ids=[rows[0].id])
        == 1
    )
    assert source.reports == 2
    moved = problems.merge_problems(session, source=source, target=target, actor=agent)
    session.commit()
    assert moved == 2 and target.reports == 2 and source.merged_into_id == target.id
    assert procedure.id in problems.procedures_of(session, target.id)
    links = session.exec(select(ProblemLink).where(ProblemLink.problem_id == target.id)).all()
    assert len(links) == 2
    with pytest.raises(TriageError):
        problems.merge_problems(session, source=target, target=target, actor=agent)
    with pytest.raises(NotVisible):
        problems.link_feedback(session, problem=source, actor=agent, feedback_ids=[rows[0].id])
