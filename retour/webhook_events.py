"""Turning what happened into webhook deliveries, without touching the ingest's write path.

`enqueue(engine, now=...) -> int` runs in the console's background task (every few seconds;
safe with several processes): under the write lock of its watermark row (`stats_state`
id 3) it reads

- submissions above `last_feedback_id` → `feedback.created` (honeypot and spam never);
- audit events above `last_audit_id` on submissions: `status` → `feedback.status_changed`,
  `answer_publish` / `answer_edit` → `answer.published`;

queues one `webhook_delivery` per active endpoint of the submission's ministry subscribed to
the event, moves both watermarks, and commits: the queue is in the database, so nothing is
lost across a restart. As for the alerts (`retour.alerts`), rows younger than `SETTLE` wait
for the next run, so that one whose transaction commits after a higher id's (PostgreSQL
sequences) is not skipped. The first run starts from now: the past sends nothing.

A body carries the submission's facts; its comment (masked, as stored) only for endpoints
that may receive comments, and the citizen's email address never.
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

WEBHOOK_ROW: Final = 3
SETTLE: Final = dt.timedelta(seconds=10)
RETRY_FOR: Final = dt.timedelta(days=1)
BATCH: Final = 5000
AUDIT_EVENTS: Final = {
    "status": "feedback.status_changed",
    "answer_publish": "answer.published",
    "answer_edit": "answer.published",
}
delivery_table = WebhookDelivery.__table__  # type: ignore[attr-defined]


def _parse(value: Any) -> dt.datetime:
    """A timestamp as raw SQL gives it: text on SQLite, naive or aware datetimes."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _iso(value: Any) -> str:
    return _parse(value).isoformat().replace("+00:00", "Z")


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


def _feedback_json(row: Any, public_url: str, with_comment: bool) -> dict[str, Any]:
    data = {
        "id": row.id,
        "procedure_id": row.procedure_id,
        "procedure_title": row.title,
        "received_at": _iso(row.received_at),
        "channel": row.channel,
        "satisfaction": row.satisfaction,
        "kind": row.kind,
        "status": row.status,
        "console_url": f"{public_url}/console/feedback/{row.id}",
    }
    if with_comment:
        data["comment"] = row.comment
        data["pii_categories"] = row.pii_categories.split()
    return data


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
        rows: list[dict[str, Any]] = []
        for row in created:
            if row.honeypot or row.status == "spam":
                continue
            rows += _deliveries(
                endpoints,
                row,
                "feedback.created",
                f"feedback:{row.id}",
                {},
                public_url,
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
                extra = {"from": detail.get("from"), "to": detail.get("to"), "at": _iso(row.at)}
            else:
                extra = {"answer": answers.get(row.id), "at": _iso(row.at)}
            rows += _deliveries(
                endpoints,
                row,
                event,
                f"audit:{row.audit_id}",
                extra,
                public_url,
                now,
                happened=row.at,
            )
        if rows:
            connection.execute(insert(delivery_table), rows)
        last_feedback = created[-1].id if created else state.last_feedback_id
        last_audit = max(
            [state.last_audit_id, *(row.audit_id for row in changes)]
            + ([] if len(changes) == BATCH else [top_audit or 0])
        )
        _save(connection, last_feedback, last_audit, now)
    return len(rows)


def _answers(connection: Connection, feedback_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not feedback_ids:
        return {}
    statement = text(
        "SELECT feedback_id, body, published_at FROM public_answer WHERE feedback_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    return {
        row.feedback_id: {"body": row.body, "published_at": _iso(row.published_at)}
        for row in connection.execute(statement, {"ids": sorted(set(feedback_ids))})
    }


def _deliveries(
    endpoints: dict[int, list[Any]],
    row: Any,
    event: str,
    key: str,
    extra: dict[str, Any],
    public_url: str,
    now: dt.datetime,
    *,
    happened: Any,
) -> list[dict[str, Any]]:
    out = []
    for endpoint in endpoints.get(row.ministry_id, []):
        if event not in endpoint.events.split():
            continue
        # An endpoint hears of what happens once it exists, not of the past.
        if _parse(happened) < _parse(endpoint.created_at):
            continue
        body = {
            "id": str(uuid.uuid4()),
            "type": event,
            "created_at": _iso(now),
            "data": {
                "feedback": _feedback_json(row, public_url, endpoint.include_comments),
                **extra,
            },
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
