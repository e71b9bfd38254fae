"""How long the citizen's contact email is kept: until the answer was emailed to them, and
never longer than RETOUR_CONTACT_RETENTION_DAYS (default 183) after they wrote.

The address was given on purpose, to receive an answer (consent for that one purpose);
once the answer has gone, or the period is over, it is erased. The comment itself was
masked before storage and is kept (docs/privacy.md).

Scheduling: `retour privacy purge` (cron, or by hand), and `run_purge_periodically` in the
console's lifespan, so a single `retour serve` needs nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Final

import click
from sqlalchemy import exists, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from retour.models import AuditEvent, Feedback, PublicAnswer, utcnow
from retour.settings import Settings
from retour.threads import run_to_completion

log = logging.getLogger("retour.retention")

ACTOR: Final = "system"
ACTION: Final = "contact_email_purged"
# Rows per transaction: a first purge of a large table never holds a long write lock.
BATCH: Final = 500
PURGE_INTERVAL_SECONDS: Final = 3600


def purge_contact_emails(
    session_or_engine: Session | Engine, *, settings: Settings, now: dt.datetime | None = None
) -> int:
    """Erase contact emails whose answer was emailed or whose retention period is over.

    Returns how many were erased; each gets an audit event (actor "system", the reason,
    never the address). Given an engine it commits; given a session the caller commits.
    """
    now = now or utcnow()
    # Kept for exactly `contact_retention_days`: written at 10:00 on day 0, erased from
    # 10:00 on day N.
    cutoff = now - dt.timedelta(days=settings.contact_retention_days)
    if isinstance(session_or_engine, Session):
        return _purge(session_or_engine, cutoff=cutoff, now=now)
    total = 0
    while True:
        with Session(session_or_engine) as session:
            count = _purge(session, cutoff=cutoff, now=now, limit=BATCH)
            session.commit()
        total += count
        if count < BATCH:
            return total


def _purge(
    session: Session, *, cutoff: dt.datetime, now: dt.datetime, limit: int | None = None
) -> int:
    emailed = exists().where(
        col(PublicAnswer.feedback_id) == col(Feedback.id),
        col(PublicAnswer.emailed_at).is_not(None),
    )
    query = (
        select(col(Feedback.id), col(Feedback.ministry_id), emailed.label("emailed"))
        .where(
            col(Feedback.contact_email).is_not(None),
            or_(col(Feedback.received_at) <= cutoff, emailed),
        )
        .order_by(col(Feedback.id))
        .limit(limit)
    )
    rows = session.execute(query).all()
    if not rows:
        return 0
    # Only rows this statement really changed are audited: when two processes purge at
    # once, the second finds the addresses already gone (RETURNING, on both backends).
    erased = set(
        session.execute(
            update(Feedback)
            .where(
                col(Feedback.id).in_([row.id for row in rows]),
                col(Feedback.contact_email).is_not(None),
            )
            .values(contact_email=None)
            .returning(col(Feedback.id))
        ).scalars()
    )
    rows = [row for row in rows if row.id in erased]
    session.add_all(
        AuditEvent(
            at=now,
            actor_label=ACTOR,
            ministry_id=row.ministry_id,
            entity="feedback",
            entity_id=str(row.id),
            action=ACTION,
            detail=json.dumps({"reason": "answer_emailed" if row.emailed else "retention_period"}),
        )
        for row in rows
    )
    session.flush()
    return len(rows)


async def run_purge_periodically(
    engine: Engine, settings: Settings, *, interval: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Purge now and then every `interval` seconds, until cancelled (a lifespan task).

    A failed purge is logged and retried at the next tick: it must never stop the console.
    """
    while True:
        try:
            count = await run_to_completion(purge_contact_emails, engine, settings=settings)
            if count:
                log.info("erased %d contact email(s) past their retention", count)
        except Exception:
            log.exception("contact email purge failed; retrying in %s s", interval)
        await asyncio.sleep(interval)


# --- Command line (registered by retour.cli: `main.add_command(privacy)`) ---------------


@click.group()
def privacy() -> None:
    """Personal data: retention of contact emails."""


@privacy.command("purge")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="ISO-DATETIME",
    help="Act as if it were this UTC time (for tests and catch-up runs).",
)
def purge(now_text: str | None) -> None:
    """Erase contact emails once answered, or after RETOUR_CONTACT_RETENTION_DAYS."""
    from retour.cli import load_settings
    from retour.db import make_engine

    now = _parse_now(now_text)
    settings = load_settings()
    engine = make_engine(settings)
    try:
        count = purge_contact_emails(engine, settings=settings, now=now)
    finally:
        engine.dispose()
    click.echo(f"{count} contact email(s) erased.", err=True)


def _parse_now(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date-time: {value!r}", param_hint="--now") from exc
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
