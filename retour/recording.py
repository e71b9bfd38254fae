"""Storing feedback that did not come through the button: typed in by staff (a counter, a
phone call, a letter, a France Services adviser), imported from a spreadsheet, sent by the
staff API, or given on the hosted form with an adviser (`?accompagne=1`).

    feedback, created = record_feedback(session, entry=RecordedEntry(...), recorded_by=user_id)

The same rules as the ingest's: the comment cleaned and masked (`retour.redaction`) before
it is stored, and one submission per `client_id` — sending the same one again stores
nothing and returns the first (`created` False). A `client_id` already used for another
procedure is refused (`RecordingError("client_id_taken")`).

It stays an ORM function beside `retour.intake` (the ingest's group insert): it runs in the
caller's session, with the caller's audit event, one entry at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from retour.models import (
    CHANNELS,
    COMMENT_MAX_LENGTH,
    KINDS,
    SATISFACTION_LEVELS,
    AuditEvent,
    Feedback,
    Procedure,
    utcnow,
)
from retour.receipts import new_receipt
from retour.redaction import clean_comment, mask

EMAIL_MAX_LENGTH: Final = 254
RECEIPT_ATTEMPTS: Final = 3


class RecordingError(ValueError):
    """What is wrong with an entry; `field` names the field."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class RecordedEntry:
    procedure_id: str
    channel: str
    satisfaction: int
    received_at: dt.datetime
    kind: str | None = None
    comment: str = ""
    contact_email: str | None = None
    client_id: str | None = None
    locale: str = "fr"


def check_entry(entry: RecordedEntry, *, now: dt.datetime | None = None) -> RecordedEntry:
    """The entry as it will be stored (comment cleaned, client_id canonical), or an error."""
    now = now or utcnow()
    if entry.channel not in CHANNELS or entry.channel == "online":
        raise RecordingError("bad_channel", "channel")
    if isinstance(entry.satisfaction, bool) or entry.satisfaction not in SATISFACTION_LEVELS:
        raise RecordingError("bad_satisfaction", "satisfaction")
    if entry.kind is not None and entry.kind not in KINDS:
        raise RecordingError("bad_kind", "kind")
    if entry.received_at.tzinfo is None:
        raise RecordingError("bad_date", "received_at")
    if entry.received_at > now + dt.timedelta(minutes=5):
        raise RecordingError("future_date", "received_at")
    comment = clean_comment(entry.comment).replace("\x00", "")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise RecordingError("comment_too_long", "comment")
    email = (entry.contact_email or "").strip() or None
    if email is not None and (len(email) > EMAIL_MAX_LENGTH or "@" not in email[1:-1]):
        raise RecordingError("bad_email", "contact_email")
    try:
        client_id = str(uuid.UUID(entry.client_id)) if entry.client_id else str(uuid.uuid4())
    except ValueError as exc:
        raise RecordingError("bad_client_id", "client_id") from exc
    return RecordedEntry(
        procedure_id=entry.procedure_id,
        channel=entry.channel,
        satisfaction=entry.satisfaction,
        received_at=entry.received_at,
        kind=entry.kind,
        comment=comment,
        contact_email=email,
        client_id=client_id,
        locale=entry.locale if entry.locale in ("fr", "en") else "fr",
    )


def record_feedback(
    session: Session,
    *,
    entry: RecordedEntry,
    recorded_by: int | None,
    actor_label: str = "",
) -> tuple[Feedback, bool]:
    """Check, mask and store one entry in the caller's transaction (flushed, not committed)."""
    entry = check_entry(entry)
    procedure = session.get(Procedure, entry.procedure_id)
    if procedure is None or not procedure.active:
        raise RecordingError("unknown_procedure", "procedure_id")
    existing = session.exec(select(Feedback).where(Feedback.client_id == entry.client_id)).first()
    if existing is not None:
        return _same(existing, entry), False
    masked = mask(entry.comment)
    now = utcnow()
    for attempt in range(RECEIPT_ATTEMPTS):
        feedback = Feedback(
            client_id=entry.client_id,  # type: ignore[arg-type]
            receipt=new_receipt(),
            procedure_id=procedure.id,
            ministry_id=procedure.ministry_id,
            received_at=entry.received_at,
            satisfaction=entry.satisfaction,
            kind=entry.kind,
            comment=masked.text,
            pii_categories=masked.categories_text,
            contact_email=entry.contact_email,
            locale=entry.locale,
            channel=entry.channel,
            recorded_by_id=recorded_by,
            # The refresh of public figures and the webhooks find new rows by this, and the
            # row is new now even when the letter came last week.
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(feedback)
        except IntegrityError:
            # The same client_id stored meanwhile by another request, or (rarely) a receipt
            # drawn twice: look again, then draw another receipt.
            existing = session.exec(
                select(Feedback).where(Feedback.client_id == entry.client_id)
            ).first()
            if existing is not None:
                return _same(existing, entry), False
            if attempt == RECEIPT_ATTEMPTS - 1:
                raise
            continue
        break
    session.add(
        AuditEvent(
            actor_id=recorded_by,
            actor_label=actor_label[:60],
            ministry_id=procedure.ministry_id,
            entity="feedback",
            entity_id=str(feedback.id),
            action="record",
            detail=json.dumps({"channel": entry.channel}),
        )
    )
    return feedback, True


def _same(existing: Feedback, entry: RecordedEntry) -> Feedback:
    if existing.procedure_id != entry.procedure_id:
        raise RecordingError("client_id_taken", "client_id")
    return existing
