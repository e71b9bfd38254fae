"""What the problems pages read: lists, one problem with its links, the form's choices.

Every function takes the signed-in user and narrows to what they may see: another ministry's
problem (or one merged away, for pages that are not redirects) answers 404.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException

from console.scope import CurrentUser, ensure_same_ministry, visible_ministry_ids
from retour import problems, triage
from retour.models import (
    PROBLEM_STATUSES,
    AuditEvent,
    Feedback,
    Incident,
    Ministry,
    Problem,
    ProblemLink,
    ProblemProcedure,
    Procedure,
    StaffUser,
)

MAX_ID: Final = 2**63 - 1
LINKS_PAGE: Final = 50
LIST_PAGE: Final = 100


def load_problem(session: Session, user: CurrentUser, ident: int) -> Problem:
    """The problem, or 404 when it does not exist or belongs to another ministry."""
    problem = session.get(Problem, ident) if ident <= MAX_ID else None
    if problem is None:
        raise HTTPException(404)
    ensure_same_ministry(user, problem.ministry_id)
    return problem


@dataclass
class ProblemRow:
    problem: Problem
    procedures: list[tuple[str, str]]
    owner_email: str | None


def _titles(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.exec(select(Procedure.id, Procedure.title).where(col(Procedure.id).in_(ids)))
    return dict(rows.all())


def _emails(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(StaffUser.id, StaffUser.email).where(col(StaffUser.id).in_(ids)))
    return {uid: email for uid, email in rows.all() if uid is not None}


def list_problems(
    session: Session, *, user: CurrentUser, status: str = "", procedure: str = ""
) -> list[ProblemRow]:
    """The ministry's problems (not merged away), open ones first, newest first."""
    statement = select(Problem).where(col(Problem.merged_into_id).is_(None))
    visible = visible_ministry_ids(user)
    if visible is not None:
        statement = statement.where(col(Problem.ministry_id).in_(sorted(visible)))
    if status in PROBLEM_STATUSES:
        statement = statement.where(Problem.status == status)
    if procedure:
        concerned = select(ProblemProcedure.problem_id).where(
            ProblemProcedure.procedure_id == procedure
        )
        statement = statement.where(col(Problem.id).in_(concerned))
    order = {s: i for i, s in enumerate(PROBLEM_STATUSES)}
    found = list(session.exec(statement.order_by(col(Problem.updated_at).desc())).all())
    found.sort(key=lambda p: order.get(p.status, 9))
    found = found[:LIST_PAGE]
    links = session.exec(
        select(ProblemProcedure).where(col(ProblemProcedure.problem_id).in_([p.id for p in found]))
    ).all()
    titles = _titles(session, {link.procedure_id for link in links})
    by_problem: dict[int, list[tuple[str, str]]] = {}
    for link in links:
        by_problem.setdefault(link.problem_id, []).append(
            (link.procedure_id, titles.get(link.procedure_id, link.procedure_id))
        )
    emails = _emails(session, {p.owner_id for p in found if p.owner_id is not None})
    return [
        ProblemRow(p, sorted(by_problem.get(p.id, []), key=lambda x: x[1]), emails.get(p.owner_id))  # type: ignore[arg-type]
        for p in found
    ]


def open_problems(session: Session, *, ministry_id: int) -> list[Problem]:
    """Problems a submission of `ministry_id` may be linked to (not closed first)."""
    statement = (
        select(Problem)
        .where(Problem.ministry_id == ministry_id, col(Problem.merged_into_id).is_(None))
        .order_by(col(Problem.updated_at).desc())
        .limit(LIST_PAGE)
    )
    rows = list(session.exec(statement).all())
    rows.sort(key=lambda p: p.status in ("fixed", "wont_fix"))
    return rows


@dataclass
class ProblemView:
    problem: Problem
    ministry_name: str
    procedures: list[tuple[str, str]]
    owner_email: str | None
    links: list[Feedback]
    titles: dict[str, str]
    page: int
    has_next: bool
    history: list[tuple[AuditEvent, str | None, dict[str, Any]]]
    others: list[Problem] = field(default_factory=list)
    colleagues: list[tuple[int, str]] = field(default_factory=list)
    emails_waiting: int = 0
    incidents: list[Incident] = field(default_factory=list)


def problem_view(session: Session, *, user: CurrentUser, ident: int, page: int) -> ProblemView:
    problem = load_problem(session, user, ident)
    assert problem.id is not None
    ids = problems.linked_ids(
        session, problem.id, limit=LINKS_PAGE + 1, offset=(page - 1) * LINKS_PAGE
    )
    rows = session.exec(select(Feedback).where(col(Feedback.id).in_(ids[:LINKS_PAGE]))).all()
    position = {fid: i for i, fid in enumerate(ids)}
    links = sorted(rows, key=lambda f: position[f.id])  # type: ignore[index]
    procedure_ids = problems.procedures_of(session, problem.id)
    titles = _titles(session, set(procedure_ids) | {f.procedure_id for f in links})
    ministry = session.get(Ministry, problem.ministry_id)
    emails = _emails(session, {problem.owner_id} if problem.owner_id else set())
    others = [p for p in open_problems(session, ministry_id=problem.ministry_id) if p.id != ident]
    colleagues = [
        (u.id, u.email)
        for u in triage.assignable_users(session, ministry_id=problem.ministry_id)
        if u.id is not None
    ]
    incidents = list(
        session.exec(
            select(Incident)
            .where(Incident.problem_id == problem.id)
            .order_by(col(Incident.started_at).desc())
        ).all()
    )
    return ProblemView(
        problem=problem,
        ministry_name=ministry.name if ministry else "",
        procedures=sorted(((p, titles.get(p, p)) for p in procedure_ids), key=lambda x: x[1]),
        owner_email=emails.get(problem.owner_id) if problem.owner_id else None,
        links=links,
        titles=titles,
        page=page,
        has_next=len(ids) > LINKS_PAGE,
        history=history(session, problem.id),
        others=others,
        colleagues=colleagues,
        emails_waiting=emails_waiting(session, problem.id),
        incidents=incidents,
    )


def emails_waiting(session: Session, problem_id: int) -> int:
    """Linked citizens who asked for an answer and have not been emailed yet."""
    statement = (
        select(func.count())
        .select_from(ProblemLink)
        .join(Feedback, col(Feedback.id) == ProblemLink.feedback_id)
        .where(
            ProblemLink.problem_id == problem_id,
            col(ProblemLink.emailed_at).is_(None),
            col(Feedback.contact_email).is_not(None),
        )
    )
    return int(session.exec(statement).one())


def history(
    session: Session, problem_id: int
) -> list[tuple[AuditEvent, str | None, dict[str, Any]]]:
    statement = (
        select(AuditEvent, StaffUser.email)
        .join(StaffUser, col(StaffUser.id) == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.entity == problems.ENTITY, AuditEvent.entity_id == str(problem_id))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    out: list[tuple[AuditEvent, str | None, dict[str, Any]]] = []
    for event, email in session.exec(statement).all():
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        out.append((event, email, detail))
    return out


@dataclass
class FormChoices:
    ministry_id: int | None
    procedures: list[tuple[str, str]]
    colleagues: list[tuple[int, str]]
    feedback: list[Feedback]


def form_choices(
    session: Session,
    *,
    user: CurrentUser,
    ministry_id: int | None,
    feedback_ids: list[int] | None = None,
) -> FormChoices:
    """What the create/edit form offers: the ministry's procedures and colleagues, and the
    submissions to link at creation (each must be visible: 404 otherwise)."""
    feedback: list[Feedback] = []
    if feedback_ids:
        try:
            feedback = triage.visible_feedback(session, actor=user, ids=feedback_ids)
        except triage.NotVisible as error:
            raise HTTPException(404) from error
        ministries = {f.ministry_id for f in feedback}
        if len(ministries) != 1 or (ministry_id is not None and ministries != {ministry_id}):
            raise HTTPException(404)
        ministry_id = ministries.pop()
    if ministry_id is None and user.ministry_id is not None:
        ministry_id = user.ministry_id
    if ministry_id is not None:
        ensure_same_ministry(user, ministry_id)
    statement = select(Procedure.id, Procedure.title).where(col(Procedure.active).is_(True))
    if ministry_id is not None:
        statement = statement.where(Procedure.ministry_id == ministry_id)
    procedures = sorted(session.exec(statement).all(), key=lambda x: x[1])
    colleagues: list[tuple[int, str]] = []
    if ministry_id is not None:
        colleagues = [
            (u.id, u.email)
            for u in triage.assignable_users(session, ministry_id=ministry_id)
            if u.id is not None
        ]
    return FormChoices(ministry_id, [(p, t) for p, t in procedures], colleagues, feedback)
