"""Turning what happened into webhook deliveries, without touching the ingest's write path.

`enqueue(engine, now=...) -> int` runs in the console's background task (every few seconds;
safe with several processes): under the write lock of its watermark row (`stats_state`
id 3) it reads

- submissions above `last_feedback_id` → `feedback.created` (honeypot and spam never);
- audit events above `last_audit_id` on submissions: `status` → `feedback.status_changed`,
  `answer_publish` / `answer_edit` → `answer.published`; and on problems
  (`retour.problems`): `create` → `problem.created`, `status` → `problem.status_changed`,
  edits, links, unlinks and merges → `problem.updated`;

queues one `webhook_delivery` per active endpoint of the submission's ministry subscribed to
the event, moves both watermarks, and commits: the queue is in the database, so nothing is
lost across a restart. As for the alerts (`retour.alerts`), rows younger than `SETTLE` wait
for the next run, so that one whose transaction commits after a higher id's (PostgreSQL
sequences) is not skipped. The first run starts from now: the past sends nothing.

A body carries the submission's (or problem's) facts; its comment (masked, as stored) or the
problem's internal description only for endpoints that may receive comments, and the
citizen's email address never.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from typing import Any, Final

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.engine import Connection, Engine

from retour.models import WebhookDelivery, utcnow
from retour.stats import locked_state, state_table
from retour.webhook_bodies import Data, feedback_data, iso, parse_stamp, problem_data

WEBHOOK_ROW: Final = 3
SETTLE: Final = dt.timedelta(seconds=10)
RETRY_FOR: Final = dt.timedelta(days=1)
BATCH: Final = 5000
AUDIT_EVENTS: Final = {
    "status": "feedback.status_changed",
    "answer_publish": "answer.published",
    "answer_edit": "answer.published",
}
PROBLEM_EVENTS: Final = {
    "create": "problem.created",
    "status": "problem.status_changed",
    "edit": "problem.updated",
    "link": "problem.updated",
    "unlink": "problem.updated",
    "merge_into": "problem.updated",
    "merge_from": "problem.updated",
}
delivery_table = WebhookDelivery.__table__  # type: ignore[attr-defined]


def _endpoints(connection: Connection) -> dict[int, list[Any]]:
    rows = connection.execute(
        text(
            "SELECT id, ministry_id, events, include_comments, created_at FROM webhook_endpoint "
            "WHERE active ORDER BY id"
        )
    ).all()
    by_ministry: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_ministry[row.ministry_id].append(row)
    return by_ministry


FEEDBACK_COLUMNS: Final = (
    "f.id, f.procedure_id, f.ministry_id, f.received_at, f.satisfaction, f.kind, f.comment, "
    "f.pii_categories, f.status, f.honeypot, f.channel, f.updated_at, p.title"
)


def has_endpoints(engine: Engine) -> bool:
    """Whether any endpoint listens: without one the background task writes nothing."""
    with engine.connect() as connection:
        found = connection.execute(text("SELECT 1 FROM webhook_endpoint WHERE active LIMIT 1"))
        return found.first() is not None


def _anything_new(engine: Engine, cutoff: dt.datetime) -> bool:
    """A read first: the write lock is taken only when there is work (or no watermark yet),
    so that a quiet SQLite database sees no write from this task every few seconds."""
    stamp = bindparam("cutoff", type_=state_table.c.refreshed_at.type)
    with engine.connect() as connection:
        state = connection.execute(
            text("SELECT last_feedback_id, last_audit_id FROM stats_state WHERE id = :id"),
            {"id": WEBHOOK_ROW},
        ).first()
        if state is None:
            return True
        found = connection.execute(
            text(
                "SELECT 1 FROM feedback WHERE id > :feedback AND received_at <= :cutoff "
                "UNION ALL SELECT 1 FROM audit_event WHERE id > :audit AND at <= :cutoff"
            ).bindparams(stamp),
            {"feedback": state.last_feedback_id, "audit": state.last_audit_id, "cutoff": cutoff},
        ).first()
        return found is not None


def enqueue(engine: Engine, *, public_url: str, now: dt.datetime | None = None) -> int:
    """Queue the deliveries of what happened since the last run; how many were queued."""
    now = now or utcnow()
    cutoff = now - SETTLE
    if not _anything_new(engine, cutoff):
        return 0
    with locked_state(engine, WEBHOOK_ROW) as (connection, state):
        if state.refreshed_at is None:
            first_feedback = connection.execute(text("SELECT MAX(id) FROM feedback")).scalar()
            first_audit = connection.execute(text("SELECT MAX(id) FROM audit_event")).scalar()
            _save(connection, first_feedback or 0, first_audit or 0, now)
            return 0
        endpoints = _endpoints(connection)
        stamp = bindparam("cutoff", type_=state_table.c.refreshed_at.type)
        created = connection.execute(
            text(
                f"SELECT {FEEDBACK_COLUMNS} FROM feedback f JOIN procedure p "  # noqa: S608
                "ON p.id = f.procedure_id WHERE f.id > :last AND f.id <= (SELECT MAX(id) FROM "
                "feedback WHERE id > :last AND received_at <= :cutoff) ORDER BY f.id LIMIT :n"
            ).bindparams(stamp),
            {"last": state.last_feedback_id, "cutoff": cutoff, "n": BATCH},
        ).all()
        changes = connection.execute(
            text(
                f"SELECT a.id AS audit_id, a.action, a.detail, a.at, {FEEDBACK_COLUMNS} "  # noqa: S608
                "FROM audit_event a JOIN feedback f ON a.entity = 'feedback' "
                "AND f.id = CAST(a.entity_id AS BIGINT) JOIN procedure p ON p.id = f.procedure_id "
                "WHERE a.id > :last AND a.at <= :cutoff AND a.action IN "
                "('status', 'answer_publish', 'answer_edit') ORDER BY a.id LIMIT :n"
            ).bindparams(stamp),
            {"last": state.last_audit_id, "cutoff": cutoff, "n": BATCH},
        ).all()
        # Audit events of other kinds below the cutoff are passed over too.
        top_audit = connection.execute(
            text("SELECT MAX(id) FROM audit_event WHERE id > :last AND at <= :cutoff").bindparams(
                stamp
            ),
            {"last": state.last_audit_id, "cutoff": cutoff},
        ).scalar()
        problem_changes = _problem_changes(connection, state.last_audit_id, cutoff)
        # A full batch stops the audit watermark at its last row, and the other batch's rows
        # beyond it wait for the next run, so that neither skips the other's events.
        full = [b[-1].audit_id for b in (changes, problem_changes) if len(b) == BATCH]
        last_audit = min(full) if full else max(state.last_audit_id, top_audit or 0)
        changes = [row for row in changes if row.audit_id <= last_audit]
        problem_changes = [row for row in problem_changes if row.audit_id <= last_audit]
        rows: list[dict[str, Any]] = []
        for row in created:
            if row.honeypot or row.status == "spam":
                continue
            rows += _deliveries(
                endpoints.get(row.ministry_id, []),
                feedback_data(row, public_url, {}),
                "feedback.created",
                f"feedback:{row.id}",
                now,
                happened=row.updated_at,
            )
        answers = _answers(connection, [row.id for row in changes if row.action != "status"])
        for row in changes:
            if row.honeypot:
                continue
            event = AUDIT_EVENTS[row.action]
            extra: dict[str, Any]
            if event == "feedback.status_changed":
                detail = json.loads(row.detail or "{}")
                extra = {"from": detail.get("from"), "to": detail.get("to"), "at": iso(row.at)}
            else:
                extra = {"answer": answers.get(row.id), "at": iso(row.at)}
            rows += _deliveries(
                endpoints.get(row.ministry_id, []),
                feedback_data(row, public_url, extra),
                event,
                f"audit:{row.audit_id}",
                now,
                happened=row.at,
            )
        procedures = _problem_procedures(connection, [row.id for row in problem_changes])
        for row in problem_changes:
            rows += _deliveries(
                endpoints.get(row.ministry_id, []),
                problem_data(row, procedures.get(row.id, []), public_url),
                PROBLEM_EVENTS[row.action],
                f"audit:{row.audit_id}",
                now,
                happened=row.at,
            )
        if rows:
            connection.execute(insert(delivery_table), rows)
        last_feedback = created[-1].id if created else state.last_feedback_id
        _save(connection, last_feedback, last_audit, now)
    return len(rows)


def _answers(connection: Connection, feedback_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not feedback_ids:
        return {}
    statement = text(
        "SELECT feedback_id, body, published_at FROM public_answer WHERE feedback_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    return {
        row.feedback_id: {"body": row.body, "published_at": iso(row.published_at)}
        for row in connection.execute(statement, {"ids": sorted(set(feedback_ids))})
    }


def _problem_changes(connection: Connection, last_audit: int, cutoff: dt.datetime) -> list[Any]:
    stamp = bindparam("cutoff", type_=state_table.c.refreshed_at.type)
    return list(
        connection.execute(
            text(
                "SELECT a.id AS audit_id, a.action, a.detail, a.at, pr.id, pr.ministry_id, "
                "pr.title, pr.description, pr.status, pr.reason, pr.public_answer, pr.reports, "
                "pr.created_at, pr.closed_at, pr.merged_into_id FROM audit_event a "
                "JOIN problem pr ON a.entity = 'problem' AND pr.id = CAST(a.entity_id AS INTEGER) "
                "WHERE a.id > :last AND a.at <= :cutoff AND a.action IN :actions "
                "ORDER BY a.id LIMIT :n"
            ).bindparams(stamp, bindparam("actions", expanding=True)),
            {"last": last_audit, "cutoff": cutoff, "actions": sorted(PROBLEM_EVENTS), "n": BATCH},
        ).all()
    )


def _problem_procedures(connection: Connection, problem_ids: list[int]) -> dict[int, list[str]]:
    if not problem_ids:
        return {}
    statement = text(
        "SELECT problem_id, procedure_id FROM problem_procedure WHERE problem_id IN :ids "
        "ORDER BY procedure_id"
    ).bindparams(bindparam("ids", expanding=True))
    found: dict[int, list[str]] = defaultdict(list)
    for row in connection.execute(statement, {"ids": sorted(set(problem_ids))}):
        found[row.problem_id].append(row.procedure_id)
    return found


def _deliveries(
    endpoints: list[Any],
    data: Data,
    event: str,
    key: str,
    now: dt.datetime,
    *,
    happened: Any,
) -> list[dict[str, Any]]:
    out = []
    for endpoint in endpoints:
        if event not in endpoint.events.split():
            continue
        # An endpoint hears of what happens once it exists, not of the past.
        if parse_stamp(happened) < parse_stamp(endpoint.created_at):
            continue
        body = {
            "id": str(uuid.uuid4()),
            "type": event,
            "created_at": iso(now),
            "data": data(endpoint.include_comments),
        }
        out.append(
            {
                "endpoint_id": endpoint.id,
                "event": event,
                "event_key": key,
                "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "give_up_at": now + RETRY_FOR,
                "last_error": "",
            }
        )
    return out


def _save(connection: Connection, last_feedback: int, last_audit: int, now: dt.datetime) -> None:
    connection.execute(
        update(state_table)
        .where(state_table.c.id == WEBHOOK_ROW)
        .values(last_feedback_id=last_feedback, last_audit_id=last_audit, refreshed_at=now)
    )
