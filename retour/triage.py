"""Triage: what staff do to a submission, each change recorded as an AuditEvent.

Pure functions over a session and the acting user, shared by the console and the tests.
They check the actor's right to act on the submission themselves (defence in depth: the
console checks first and answers 404), flush but never commit: the caller owns the
transaction, so a change and its audit record land together or not at all.
The answer's email (its text, and what is recorded once it went) is in `retour.answer_mail`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlmodel import Session, col, select

from retour.models import (
    STATUS_TRANSITIONS,
    STATUSES,
    AuditEvent,
    Feedback,
    FeedbackNote,
    FeedbackTag,
    PublicAnswer,
    StaffUser,
    utcnow,
)
from retour.redaction import mask

TRIAGE_ROLES: Final = ("admin", "ministry_admin", "agent")
NOTE_MAX_LENGTH: Final = 5000
ANSWER_MAX_LENGTH: Final = 5000
TAG_MAX_LENGTH: Final = 60
# Rejecting says why, in a few words the citizen reads on /suivi.
REASON_MAX_LENGTH: Final = 300
ENTITY: Final = "feedback"


class TriageError(Exception):
    """A change that cannot be made; `code` names it for messages and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotVisible(TriageError):
    """The submission does not exist for this actor (another ministry's, or none)."""

    def __init__(self) -> None:
        super().__init__("not_found", "submission not found")


# --- Who may act -------------------------------------------------------------------------


class Actor(Protocol):
    """The acting staff member: a StaffUser row or the console's signed-in CurrentUser."""

    @property
    def id(self) -> int | None: ...
    @property
    def role(self) -> str: ...
    @property
    def ministry_id(self) -> int | None: ...


def can_see(actor: Actor, feedback: Feedback) -> bool:
    # A deactivated StaffUser acts on nothing; the console's CurrentUser is active by construction.
    if not getattr(actor, "active", True):
        return False
    return actor.role == "admin" or (
        actor.ministry_id is not None and actor.ministry_id == feedback.ministry_id
    )


def _require_triage(actor: Actor, feedback: Feedback) -> None:
    if not can_see(actor, feedback):
        raise NotVisible()
    if actor.role not in TRIAGE_ROLES:
        raise TriageError("forbidden", "this account is read-only")


def _audit(
    session: Session, *, actor: Actor, feedback: Feedback, action: str, **detail: Any
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id,
        # Who acted besides the account, e.g. "API : Outil GRC" for an API key.
        actor_label=getattr(actor, "audit_label", ""),
        ministry_id=feedback.ministry_id,
        entity=ENTITY,
        entity_id=str(feedback.id),
        action=action,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
    )
    session.add(event)
    return event


def _touch(session: Session, feedback: Feedback) -> None:
    feedback.updated_at = utcnow()
    session.add(feedback)


# --- Status --------------------------------------------------------------------------------


def allowed_transitions(feedback: Feedback) -> tuple[str, ...]:
    return STATUS_TRANSITIONS.get(feedback.status, ())


def change_status(
    session: Session, *, feedback: Feedback, actor: Actor, to: str, reason: str = ""
) -> None:
    """Move `feedback` to status `to` if the workflow allows it. Rejecting needs `reason`, a
    short public reason (published on /suivi, so masked like an answer); leaving "rejected"
    takes it away from /suivi (the history keeps it)."""
    _require_triage(actor, feedback)
    if to not in STATUSES:
        raise TriageError("unknown_status", f"unknown status {to!r}")
    if to not in allowed_transitions(feedback):
        raise TriageError("transition_refused", f"{feedback.status} cannot become {to}")
    detail: dict[str, Any] = {"from": feedback.status, "to": to}
    if to == "rejected":
        reason = " ".join(reason.split())
        if not reason:
            raise TriageError("empty_reason", "rejecting needs a reason for the citizen")
        if len(reason) > REASON_MAX_LENGTH:
            raise TriageError("reason_too_long", f"at most {REASON_MAX_LENGTH} characters")
        feedback.rejection_reason = detail["reason"] = mask(reason).text
    else:
        feedback.rejection_reason = None
    before = feedback.status
    feedback.status = to
    if before == "new" and feedback.acknowledged_at is None:
        # Leaving "new" for the first time is what the response-rate figures count.
        feedback.acknowledged_at = utcnow()
    _touch(session, feedback)
    _audit(session, actor=actor, feedback=feedback, action="status", **detail)


# --- Assignment ----------------------------------------------------------------------------


def assignable_users(session: Session, *, ministry_id: int) -> Sequence[StaffUser]:
    """Colleagues a submission of `ministry_id` may be assigned to (active, able to triage)."""
    statement = (
        select(StaffUser)
        .where(StaffUser.ministry_id == ministry_id, col(StaffUser.active).is_(True))
        .where(col(StaffUser.role).in_(("ministry_admin", "agent")))
        .order_by(StaffUser.email)
    )
    return session.exec(statement).all()


def assign(
    session: Session, *, feedback: Feedback, actor: Actor, assignee: StaffUser | None
) -> None:
    """Assign to a colleague of the submission's ministry, or unassign with None."""
    _require_triage(actor, feedback)
    if assignee is not None and (
        assignee.ministry_id != feedback.ministry_id
        or not assignee.active
        or assignee.role not in ("ministry_admin", "agent")
    ):
        raise TriageError("bad_assignee", "assignee must be an active colleague of the ministry")
    new_id = assignee.id if assignee else None
    if feedback.assignee_id == new_id:
        return
    before = feedback.assignee_id
    feedback.assignee_id = new_id
    _touch(session, feedback)
    _audit(
        session,
        actor=actor,
        feedback=feedback,
        action="assign",
        **{"from": before, "to": new_id, "to_email": assignee.email if assignee else None},
    )


# --- Notes and tags ------------------------------------------------------------------------


def add_note(session: Session, *, feedback: Feedback, actor: Actor, body: str) -> FeedbackNote:
    _require_triage(actor, feedback)
    body = body.strip()
    if not body:
        raise TriageError("empty_note", "a note cannot be empty")
    if len(body) > NOTE_MAX_LENGTH:
        raise TriageError("note_too_long", f"a note is at most {NOTE_MAX_LENGTH} characters")
    # Staff paste what the citizen told them (a phone number...): masked like a comment.
    body = mask(body).text
    assert actor.id is not None
    note = FeedbackNote(feedback_id=feedback.id, author_id=actor.id, body=body)  # type: ignore[arg-type]
    session.add(note)
    session.flush()
    _audit(session, actor=actor, feedback=feedback, action="note", note_id=note.id)
    return note


def normalize_tag(raw: str) -> str:
    return " ".join(raw.split()).lower()


def add_tag(session: Session, *, feedback: Feedback, actor: Actor, tag: str) -> str:
    _require_triage(actor, feedback)
    tag = normalize_tag(tag)
    if not tag:
        raise TriageError("empty_tag", "a tag cannot be empty")
    if len(tag) > TAG_MAX_LENGTH:
        raise TriageError("tag_too_long", f"a tag is at most {TAG_MAX_LENGTH} characters")
    if session.get(FeedbackTag, (feedback.id, tag)) is None:
        session.add(FeedbackTag(feedback_id=feedback.id, tag=tag))  # type: ignore[arg-type]
        _audit(session, actor=actor, feedback=feedback, action="tag_add", tag=tag)
        session.flush()
    return tag


def remove_tag(session: Session, *, feedback: Feedback, actor: Actor, tag: str) -> None:
    _require_triage(actor, feedback)
    existing = session.get(FeedbackTag, (feedback.id, normalize_tag(tag)))
    if existing is not None:
        session.delete(existing)
        _audit(session, actor=actor, feedback=feedback, action="tag_remove", tag=existing.tag)
        session.flush()


def tags_of(session: Session, feedback_id: int) -> list[str]:
    statement = select(FeedbackTag.tag).where(FeedbackTag.feedback_id == feedback_id)
    return sorted(session.exec(statement).all())


# --- Public answer -------------------------------------------------------------------------


def save_answer(session: Session, *, feedback: Feedback, actor: Actor, body: str) -> PublicAnswer:
    """Publish the public answer, or replace its text; it shows on the public pages at once."""
    _require_triage(actor, feedback)
    body = body.strip()
    if not body:
        raise TriageError("empty_answer", "an answer cannot be empty")
    if len(body) > ANSWER_MAX_LENGTH:
        raise TriageError("answer_too_long", f"an answer is at most {ANSWER_MAX_LENGTH} characters")
    # The answer is published: personal data a staff member pasted in must never go out.
    body = mask(body).text
    assert actor.id is not None
    answer = answer_of(session, feedback.id)  # type: ignore[arg-type]
    if answer is None:
        answer = PublicAnswer(
            feedback_id=feedback.id,  # type: ignore[arg-type]
            procedure_id=feedback.procedure_id,
            ministry_id=feedback.ministry_id,
            body=body,
            author_id=actor.id,
        )
        action = "answer_publish"
    elif answer.body == body:
        return answer
    else:
        answer.body = body
        answer.author_id = actor.id
        answer.published_at = utcnow()
        action = "answer_edit"
    session.add(answer)
    _touch(session, feedback)
    session.flush()
    _audit(session, actor=actor, feedback=feedback, action=action, answer_id=answer.id)
    return answer


def answer_of(session: Session, feedback_id: int) -> PublicAnswer | None:
    return session.exec(select(PublicAnswer).where(PublicAnswer.feedback_id == feedback_id)).first()


# --- Bulk ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    changed: int
    skipped: int


def visible_feedback(session: Session, *, actor: Actor, ids: Iterable[int]) -> list[Feedback]:
    """Every submission of `ids`, or NotVisible if one is unknown or another ministry's."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = session.exec(select(Feedback).where(col(Feedback.id).in_(wanted))).all()
    if len(rows) != len(wanted) or not all(can_see(actor, row) for row in rows):
        raise NotVisible()
    return list(rows)


def bulk_status(session: Session, *, actor: Actor, ids: Iterable[int], to: str) -> BulkResult:
    """Move every submission that may go to `to`; the others are left and counted as skipped."""
    changed = skipped = 0
    for feedback in visible_feedback(session, actor=actor, ids=ids):
        if to in allowed_transitions(feedback):
            change_status(session, feedback=feedback, actor=actor, to=to)
            changed += 1
        else:
            _require_triage(actor, feedback)
            skipped += 1
    return BulkResult(changed=changed, skipped=skipped)


def bulk_assign(
    session: Session, *, actor: Actor, ids: Iterable[int], assignee: StaffUser | None
) -> BulkResult:
    changed = skipped = 0
    for feedback in visible_feedback(session, actor=actor, ids=ids):
        if feedback.assignee_id == (assignee.id if assignee else None):
            _require_triage(actor, feedback)
            skipped += 1
            continue
        assign(session, feedback=feedback, actor=actor, assignee=assignee)
        changed += 1
    return BulkResult(changed=changed, skipped=skipped)


# --- History ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    event: AuditEvent
    actor_email: str | None
    detail: dict[str, Any]


def history(session: Session, *, feedback_id: int) -> list[HistoryEntry]:
    """Every recorded change of one submission, oldest first."""
    statement = (
        select(AuditEvent, StaffUser.email)
        .join(StaffUser, col(StaffUser.id) == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.entity == ENTITY, AuditEvent.entity_id == str(feedback_id))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    entries = []
    for event, email in session.exec(statement).all():
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        entries.append(HistoryEntry(event=event, actor_email=email, detail=detail))
    return entries
