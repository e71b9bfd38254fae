"""A problem's answer by email, to each linked citizen who asked for an answer; then their
address is erased at once, as for a submission's own answer (`retour.answer_mail`).

`send_problem_answers(engine, settings)` runs with the other alerts (`retour.alerts.dispatch`,
every minute when SMTP is configured, or `retour alerts send`). Safe with several processes:
each email is first claimed (`problem_link.email_claimed_at`, one UPDATE that only one process
wins), then sent, then recorded. A claim left by a process that died is taken again after
`STALE_CLAIM`; an email the server refused is released for the next run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine

from retour import retention
from retour.answer_mail import _EMAIL_TEXT
from retour.mailer import send_mail
from retour.models import PROBLEM_CLOSED, AuditEvent, Feedback, Problem, ProblemLink, Procedure
from retour.models import utcnow as _now
from retour.settings import Settings

log = logging.getLogger("retour.problem_mail")

BATCH: Final = 200
STALE_CLAIM: Final = dt.timedelta(minutes=15)

link_t = ProblemLink.__table__  # type: ignore[attr-defined]
feedback_t = Feedback.__table__  # type: ignore[attr-defined]
problem_t = Problem.__table__  # type: ignore[attr-defined]
procedure_t = Procedure.__table__  # type: ignore[attr-defined]
audit_t = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sent:
    sent: int = 0
    failed: int = 0


def _due(now: dt.datetime) -> Any:
    return and_(
        link_t.c.emailed_at.is_(None),
        feedback_t.c.contact_email.is_not(None),
        problem_t.c.answered_at.is_not(None),
        problem_t.c.status.in_(PROBLEM_CLOSED),
        (link_t.c.email_claimed_at.is_(None)) | (link_t.c.email_claimed_at < now - STALE_CLAIM),
    )


def send_problem_answers(
    engine: Engine, settings: Settings, *, now: dt.datetime | None = None
) -> Sent:
    now = now or _now()
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                link_t.c.feedback_id,
                feedback_t.c.contact_email,
                feedback_t.c.receipt,
                feedback_t.c.locale,
                feedback_t.c.ministry_id,
                problem_t.c.id.label("problem_id"),
                problem_t.c.public_answer,
                procedure_t.c.title,
            )
            .select_from(
                link_t.join(feedback_t, feedback_t.c.id == link_t.c.feedback_id)
                .join(problem_t, problem_t.c.id == link_t.c.problem_id)
                .join(procedure_t, procedure_t.c.id == feedback_t.c.procedure_id)
            )
            .where(_due(now))
            .limit(BATCH)
        ).all()
    sent = failed = 0
    for row in rows:
        if not _claim(engine, row.feedback_id, now):
            continue  # another process took it
        subject, body = _EMAIL_TEXT.get(row.locale, _EMAIL_TEXT["fr"])
        url = f"{settings.public_url.rstrip('/')}/suivi/{row.receipt}"
        try:
            send_mail(
                settings,
                to=row.contact_email,
                subject=subject.format(title=row.title),
                body=body.format(title=row.title, answer=row.public_answer, url=url),
            )
        except Exception:  # one bad address or an SMTP hiccup must not stop the others
            log.exception("problem answer email for submission %s failed", row.feedback_id)
            _release(engine, row.feedback_id)
            failed += 1
            continue
        _record(engine, row, _now())
        sent += 1
    return Sent(sent, failed)


def _claim(engine: Engine, feedback_id: int, now: dt.datetime) -> bool:
    with engine.begin() as connection:
        claimed_before = link_t.c.email_claimed_at
        result = connection.execute(
            update(link_t)
            .where(
                link_t.c.feedback_id == feedback_id,
                link_t.c.emailed_at.is_(None),
                claimed_before.is_(None) | (claimed_before < now - STALE_CLAIM),
            )
            .values(email_claimed_at=now)
        )
        return bool(result.rowcount)


def _release(engine: Engine, feedback_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(link_t).where(link_t.c.feedback_id == feedback_id).values(email_claimed_at=None)
        )


def _record(engine: Engine, row: Any, now: dt.datetime) -> None:
    """Sent: note it, and erase the address (docs/privacy.md), with the same history entries
    as a submission's own answer."""
    with engine.begin() as connection:
        connection.execute(
            update(link_t).where(link_t.c.feedback_id == row.feedback_id).values(emailed_at=now)
        )
        connection.execute(
            update(feedback_t)
            .where(feedback_t.c.id == row.feedback_id)
            .values(contact_email=None, updated_at=now)
        )
        common = {
            "at": now,
            "actor_label": retention.ACTOR,
            "ministry_id": row.ministry_id,
            "entity": "feedback",
            "entity_id": str(row.feedback_id),
        }
        connection.execute(
            audit_t.insert(),
            [
                {
                    **common,
                    "action": "problem_answer_email",
                    "detail": json.dumps({"problem_id": row.problem_id}),
                },
                {
                    **common,
                    "action": retention.ACTION,
                    "detail": json.dumps({"reason": "answer_emailed"}),
                },
            ],
        )
