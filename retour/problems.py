"""Problems: what many citizens report, grouped, tracked to a fix, answered once.

One function per change (create, edit, status, link, unlink, merge), each recorded as an
AuditEvent on the problem (and on every submission it touches): hooks for later events
(`problem.*` webhooks) belong here. Same rules as `retour.triage`: the actor's right is
checked here too (another ministry's problem or submission is `NotVisible`, a read-only
account is refused), and functions flush but never commit.

A submission belongs to at most one problem (`problem_link.feedback_id` is its key); linking
it elsewhere moves it. While a problem is `fixed` or `wont_fix` its public answer is the
answer of every linked submission: `/suivi`, the answer email (`retour.problem_mail`) and the
public figures (`retour.stats_sql`) read it through the link.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from retour.models import (
    PROBLEM_CLOSED,
    PROBLEM_STATUSES,
    PROBLEM_TRANSITIONS,
    AuditEvent,
    Feedback,
    Incident,
    Problem,
    ProblemLink,
    ProblemProcedure,
    Procedure,
    StaffUser,
    utcnow,
)
from retour.redaction import mask
from retour.triage import (
    REASON_MAX_LENGTH,
    TRIAGE_ROLES,
    Actor,
    NotVisible,
    TriageError,
    allowed_transitions,
    can_see,
    change_status,
)

ENTITY: Final = "problem"
TITLE_MAX_LENGTH: Final = 200
TEXT_MAX_LENGTH: Final = 5000
# What closing a problem does to its linked submissions' own status, where the workflow allows.
FEEDBACK_STATUS_ON_CLOSE: Final = {"fixed": "resolved", "wont_fix": "rejected"}
CHUNK: Final = 500


class ProblemNotVisible(NotVisible):
    """The problem does not exist for this actor (another ministry's, merged away, or none)."""


def can_see_problem(actor: Actor, problem: Problem) -> bool:
    if not getattr(actor, "active", True):
        return False
    return actor.role == "admin" or (
        actor.ministry_id is not None and actor.ministry_id == problem.ministry_id
    )


def _require_change(actor: Actor, problem: Problem) -> None:
    if not can_see_problem(actor, problem):
        raise ProblemNotVisible()
    if actor.role not in TRIAGE_ROLES:
        raise TriageError("forbidden", "this account is read-only")


def _audit(
    session: Session, *, actor: Actor, entity: str, entity_id: int, ministry_id: int, **detail: Any
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            ministry_id=ministry_id,
            entity=entity,
            entity_id=str(entity_id),
            action=detail.pop("action"),
            detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
        )
    )


def _audit_problem(session: Session, actor: Actor, problem: Problem, **detail: Any) -> None:
    assert problem.id is not None
    _audit(
        session,
        actor=actor,
        entity=ENTITY,
        entity_id=problem.id,
        ministry_id=problem.ministry_id,
        **detail,
    )


def _clean(value: str, *, code: str, limit: int, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise TriageError(f"empty_{code}", f"the {code} cannot be empty")
    if len(value) > limit:
        raise TriageError(f"{code}_too_long", f"the {code} is at most {limit} characters")
    # Titles, answers and reasons are published: personal data pasted in never goes out.
    return mask(value).text


def _procedures(session: Session, ministry_id: int, procedure_ids: Iterable[str]) -> list[str]:
    wanted = sorted(set(procedure_ids))
    if not wanted:
        raise TriageError("no_procedure", "a problem concerns at least one procedure")
    rows = session.exec(select(Procedure).where(col(Procedure.id).in_(wanted))).all()
    if len(rows) != len(wanted) or any(p.ministry_id != ministry_id for p in rows):
        raise TriageError("bad_procedure", "procedures must be of the problem's ministry")
    return wanted


def _owner(session: Session, ministry_id: int, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    owner = session.get(StaffUser, owner_id)
    if (
        owner is None
        or not owner.active
        or owner.ministry_id != ministry_id
        or owner.role not in ("ministry_admin", "agent")
    ):
        raise TriageError("bad_owner", "the owner must be an active colleague of the ministry")
    return owner_id


def procedures_of(session: Session, problem_id: int) -> list[str]:
    statement = select(ProblemProcedure.procedure_id).where(
        ProblemProcedure.problem_id == problem_id
    )
    return sorted(session.exec(statement).all())


def _set_procedures(session: Session, problem: Problem, procedure_ids: Sequence[str]) -> None:
    assert problem.id is not None
    current = set(procedures_of(session, problem.id))
    for procedure_id in sorted(set(procedure_ids) - current):
        session.add(ProblemProcedure(problem_id=problem.id, procedure_id=procedure_id))
    for procedure_id in current - set(procedure_ids):
        session.delete(session.get(ProblemProcedure, (problem.id, procedure_id)))


# --- Create and edit -----------------------------------------------------------------------


def create_problem(
    session: Session,
    *,
    actor: Actor,
    ministry_id: int,
    title: str,
    procedure_ids: Iterable[str],
    description: str = "",
    owner_id: int | None = None,
) -> Problem:
    _require_change(actor, Problem(ministry_id=ministry_id, title=""))
    title = _clean(title, code="title", limit=TITLE_MAX_LENGTH, required=True)
    procedures = _procedures(session, ministry_id, procedure_ids)
    problem = Problem(
        ministry_id=ministry_id,
        title=title,
        description=_clean(description, code="description", limit=TEXT_MAX_LENGTH),
        owner_id=_owner(session, ministry_id, owner_id),
        created_by_id=actor.id,
    )
    session.add(problem)
    session.flush()
    _set_procedures(session, problem, procedures)
    _audit_problem(
        session, actor, problem, action="create", title=problem.title, procedures=procedures
    )
    session.flush()
    return problem


def update_problem(
    session: Session,
    *,
    problem: Problem,
    actor: Actor,
    title: str,
    description: str,
    procedure_ids: Iterable[str],
    owner_id: int | None,
    public_answer: str,
) -> None:
    """Edit what staff wrote; a changed answer of a closed problem reaches /suivi at once."""
    _require_change(actor, problem)
    assert problem.id is not None
    values = {
        "title": _clean(title, code="title", limit=TITLE_MAX_LENGTH, required=True),
        "description": _clean(description, code="description", limit=TEXT_MAX_LENGTH),
        "owner_id": _owner(session, problem.ministry_id, owner_id),
        "public_answer": _clean(public_answer, code="answer", limit=TEXT_MAX_LENGTH),
    }
    if problem.status in PROBLEM_CLOSED and not values["public_answer"]:
        raise TriageError("empty_answer", "a closed problem keeps its public answer")
    procedures = _procedures(session, problem.ministry_id, procedure_ids)
    changed = [name for name, value in values.items() if getattr(problem, name) != value]
    before = procedures_of(session, problem.id)
    if not changed and before == procedures:
        return
    for name in changed:
        setattr(problem, name, values[name])
    _set_procedures(session, problem, procedures)
    problem.updated_at = utcnow()
    session.add(problem)
    detail: dict[str, Any] = {"fields": changed}
    if before != procedures:
        detail.update({"procedures_from": before, "procedures_to": procedures})
    _audit_problem(session, actor, problem, action="edit", **detail)
    session.flush()


# --- Status --------------------------------------------------------------------------------


def problem_transitions(problem: Problem) -> tuple[str, ...]:
    return PROBLEM_TRANSITIONS.get(problem.status, ())


def change_problem_status(
    session: Session,
    *,
    problem: Problem,
    actor: Actor,
    to: str,
    public_answer: str | None = None,
    reason: str | None = None,
) -> int:
    """Move the problem to `to`. Closing it (fixed, wont_fix) needs a public answer, and
    `wont_fix` a reason; the linked submissions are then answered and resolved (or
    rejected) where their workflow allows. Returns how many submissions changed status."""
    _require_change(actor, problem)
    if to not in PROBLEM_STATUSES:
        raise TriageError("unknown_status", f"unknown status {to!r}")
    if to not in problem_transitions(problem):
        raise TriageError("transition_refused", f"{problem.status} cannot become {to}")
    if public_answer is not None:
        problem.public_answer = _clean(public_answer, code="answer", limit=TEXT_MAX_LENGTH)
    if reason is not None:
        problem.reason = _clean(reason, code="reason", limit=TEXT_MAX_LENGTH)
    if to in PROBLEM_CLOSED and not problem.public_answer:
        raise TriageError("empty_answer", "closing a problem needs its public answer")
    if to == "wont_fix" and not problem.reason:
        raise TriageError("empty_reason", "say why the problem will not be fixed")
    before, now = problem.status, utcnow()
    problem.status = to
    problem.updated_at = now
    if to == "planned":
        problem.planned_at = problem.planned_at or now
    problem.closed_at = now if to in PROBLEM_CLOSED else None
    problem.answered_at = now if to in PROBLEM_CLOSED else None
    session.add(problem)
    _audit_problem(session, actor, problem, action="status", **{"from": before, "to": to})
    changed = 0
    if to in PROBLEM_CLOSED:
        changed = _close_linked(session, actor, problem, _linked_ids(session, problem))
    _touch_linked(session, problem)
    session.flush()
    return changed


def _linked_ids(session: Session, problem: Problem) -> list[int]:
    statement = select(ProblemLink.feedback_id).where(ProblemLink.problem_id == problem.id)
    return sorted(session.exec(statement).all())


def _close_linked(session: Session, actor: Actor, problem: Problem, ids: Sequence[int]) -> int:
    """Resolve (or reject) the given linked submissions, where their workflow allows."""
    target = FEEDBACK_STATUS_ON_CLOSE.get(problem.status)
    if target is None:
        return 0
    # A rejected submission tells its citizen why: the problem's reason, cut to what /suivi shows.
    reason = textwrap.shorten(problem.reason or "", REASON_MAX_LENGTH, placeholder=" …")
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        for feedback in session.exec(select(Feedback).where(col(Feedback.id).in_(chunk))).all():
            if feedback.status != "spam" and target in allowed_transitions(feedback):
                change_status(session, feedback=feedback, actor=actor, to=target, reason=reason)
                changed += 1
    return changed


def _touch_linked(session: Session, problem: Problem, ids: Sequence[int] | None = None) -> None:
    """Mark linked submissions changed, so that the public figures recount their days."""
    linked = select(ProblemLink.feedback_id).where(ProblemLink.problem_id == problem.id)
    where = col(Feedback.id).in_(list(ids)) if ids is not None else col(Feedback.id).in_(linked)
    session.execute(update(Feedback).where(where).values(updated_at=utcnow()))


# --- Links ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    linked: int  # newly linked (moved from another problem included)
    moved: int  # of which came from another problem
    already: int  # were linked to this problem already
    resolved: int = 0  # changed status because the problem is closed


def _visible_feedback(session: Session, actor: Actor, problem: Problem, ids: Sequence[int]) -> Any:
    rows: list[Feedback] = []
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        rows += session.exec(select(Feedback).where(col(Feedback.id).in_(chunk))).all()
    if len(rows) != len(ids) or not all(
        can_see(actor, row) and row.ministry_id == problem.ministry_id for row in rows
    ):
        raise NotVisible()
    return rows


def recount(session: Session, problem: Problem) -> None:
    statement = select(func.count()).where(ProblemLink.problem_id == problem.id)
    problem.reports = int(session.exec(statement).one())
    session.add(problem)


def link_feedback(
    session: Session, *, problem: Problem, actor: Actor, feedback_ids: Iterable[int]
) -> LinkResult:
    """Link submissions of the problem's ministry to it; their procedures join the problem's."""
    _require_change(actor, problem)
    if problem.merged_into_id is not None:
        raise ProblemNotVisible()
    ids = sorted(set(feedback_ids))
    rows = _visible_feedback(session, actor, problem, ids)
    existing = {
        link.feedback_id: link
        for start in range(0, len(ids), CHUNK)
        for link in session.exec(
            select(ProblemLink).where(col(ProblemLink.feedback_id).in_(ids[start : start + CHUNK]))
        ).all()
    }
    now, new, moved, already = utcnow(), [], 0, 0
    others: dict[int, Problem] = {}
    for row in rows:
        link = existing.get(row.id)
        if link is not None and link.problem_id == problem.id:
            already += 1
            continue
        if link is not None:
            moved += 1
            other = others.get(link.problem_id) or session.get(Problem, link.problem_id)
            if other is not None:
                others[link.problem_id] = other
            _audit_link(session, actor, row, "problem_unlink", link.problem_id)
            session.delete(link)
        new.append(row)
    session.flush()
    assert problem.id is not None
    for row in new:
        link = ProblemLink(
            feedback_id=row.id, problem_id=problem.id, linked_at=now, linked_by_id=actor.id
        )
        session.add(link)
        _audit_link(session, actor, row, "problem_link", problem.id)
    session.flush()
    procedures = set(procedures_of(session, problem.id)) | {row.procedure_id for row in new}
    _set_procedures(session, problem, sorted(procedures))
    for other in others.values():
        recount(session, other)
    recount(session, problem)
    problem.updated_at = now
    new_ids = [row.id for row in new]
    if new:
        _audit_problem(session, actor, problem, action="link", count=len(new), moved=moved)
    resolved = _close_linked(session, actor, problem, new_ids) if problem.answered_at else 0
    _touch_linked(session, problem, new_ids)
    session.flush()
    return LinkResult(linked=len(new), moved=moved, already=already, resolved=resolved)


def _audit_link(session: Session, actor: Actor, row: Feedback, action: str, pid: int) -> None:
    assert row.id is not None
    _audit(
        session,
        actor=actor,
        entity="feedback",
        entity_id=row.id,
        ministry_id=row.ministry_id,
        action=action,
        problem_id=pid,
    )


def unlink_feedback(
    session: Session, *, problem: Problem, actor: Actor, feedback_ids: Iterable[int]
) -> int:
    """Take submissions out of the problem; they keep their own status. Returns how many."""
    _require_change(actor, problem)
    ids = sorted(set(feedback_ids))
    rows = {row.id: row for row in _visible_feedback(session, actor, problem, ids)}
    links = session.exec(
        select(ProblemLink).where(
            ProblemLink.problem_id == problem.id, col(ProblemLink.feedback_id).in_(ids)
        )
    ).all()
    for link in links:
        _audit_link(session, actor, rows[link.feedback_id], "problem_unlink", problem.id)  # type: ignore[arg-type]
        session.delete(link)
    session.flush()
    if links:
        recount(session, problem)
        problem.updated_at = utcnow()
        _audit_problem(session, actor, problem, action="unlink", count=len(links))
        _touch_linked(session, problem, [link.feedback_id for link in links])
    session.flush()
    return len(links)


def merge_problems(session: Session, *, source: Problem, target: Problem, actor: Actor) -> int:
    """Move every link and procedure of `source` to `target`; `source` is then merged away
    (no longer listed, its page leads to `target`). Returns how many links moved."""
    _require_change(actor, source)
    _require_change(actor, target)
    if source.id == target.id or source.ministry_id != target.ministry_id:
        raise TriageError("bad_merge", "merge two different problems of one ministry")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ProblemNotVisible()
    assert source.id is not None and target.id is not None
    ids = _linked_ids(session, source)
    session.execute(
        update(ProblemLink)
        .where(col(ProblemLink.problem_id) == source.id)
        .values(problem_id=target.id)
    )
    procedures = set(procedures_of(session, source.id)) | set(procedures_of(session, target.id))
    session.execute(delete(ProblemProcedure).where(col(ProblemProcedure.problem_id) == source.id))
    _set_procedures(session, target, sorted(procedures))
    source.merged_into_id = target.id
    source.reports = 0
    now = utcnow()
    source.updated_at = target.updated_at = now
    session.add(source)
    recount(session, target)
    _audit_problem(session, actor, source, action="merge_into", target=target.id, count=len(ids))
    _audit_problem(session, actor, target, action="merge_from", source=source.id, count=len(ids))
    if target.answered_at:
        _close_linked(session, actor, target, ids)
    _touch_linked(session, target, ids)
    session.flush()
    return len(ids)


def attach_incident(session: Session, *, problem: Problem, actor: Actor, incident_id: int) -> None:
    """Record that this problem is what an incident was about (same ministry only)."""
    _require_change(actor, problem)
    incident = session.get(Incident, incident_id)
    if incident is None or incident.ministry_id != problem.ministry_id:
        raise ProblemNotVisible()
    incident.problem_id = problem.id
    session.add(incident)
    _audit_problem(session, actor, problem, action="incident", incident=incident_id)
    session.flush()


# --- Reading -------------------------------------------------------------------------------


def problem_of(session: Session, feedback_id: int) -> Problem | None:
    """The problem a submission is linked to, if any."""
    statement = (
        select(Problem)
        .join(ProblemLink, col(ProblemLink.problem_id) == Problem.id)
        .where(ProblemLink.feedback_id == feedback_id)
    )
    return session.exec(statement).first()


def linked_ids(session: Session, problem_id: int, *, limit: int, offset: int = 0) -> list[int]:
    statement = (
        select(ProblemLink.feedback_id)
        .where(ProblemLink.problem_id == problem_id)
        .order_by(col(ProblemLink.linked_at).desc(), col(ProblemLink.feedback_id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.exec(statement).all())
