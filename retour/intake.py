"""Storing what the ingest accepted: submissions in groups, impression counts in one upsert.

    stored = store_feedback(connection, rows)        # {client_id: (id, receipt)}
    count_impressions(connection, counts)            # adds counts to impression_count

SQLAlchemy Core rather than ORM sessions: one multi-row INSERT for a whole group of
submissions is what makes a commit per group cheap. The statements are built the same way
for SQLite and PostgreSQL (`on_conflict_do_nothing`, `returning`); only the dialect's
`insert` is picked by name. Both functions run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from retour.models import Feedback, ImpressionCount
from retour.receipts import new_receipt
from retour.redaction import mask

FEEDBACK: Final[Table] = Feedback.__table__  # type: ignore[attr-defined]
IMPRESSIONS: Final[Table] = ImpressionCount.__table__  # type: ignore[attr-defined]
RECEIPT_ATTEMPTS: Final = 3
# Bound values per statement stay well under SQLite's limit (32,766) and PostgreSQL's.
ROWS_PER_STATEMENT: Final = 1_000


@dataclass(frozen=True)
class ImpressionKey:
    procedure_id: str
    day: dt.date
    origin: str
    event: str


def feedback_row(
    *, client_id: str, comment: str, honeypot: bool, received_at: dt.datetime, **fields: Any
) -> dict[str, Any]:
    """The row to insert for a validated submission: the comment masked, a receipt drawn."""
    masked = mask(comment)
    return {
        **fields,
        "client_id": client_id,
        "received_at": received_at,
        "updated_at": received_at,
        "receipt": new_receipt(),
        "comment": masked.text,
        "pii_categories": masked.categories_text,
        "honeypot": honeypot,
        "status": "spam" if honeypot else "new",
    }


def store_feedback(
    connection: Connection, rows: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[int, str]]:
    """Insert the rows; (id, receipt) by client_id, those of the first row for a repeated one.

    A client_id already stored is skipped by ON CONFLICT DO NOTHING and read back; a receipt
    that collided (rare) is skipped the same way, and its row is tried again with another."""
    # Executed with many parameter sets: SQLAlchemy sends it as multi-row INSERTs
    # ("insertmanyvalues") and compiles it once; `.values(rows)` was compiled anew each time.
    insert = (
        _insert(connection)(FEEDBACK)
        .on_conflict_do_nothing()
        .returning(FEEDBACK.c.id, FEEDBACK.c.client_id, FEEDBACK.c.receipt)
    )
    # One row per client_id: the first one sent wins, as it would in separate commits.
    todo = list({row["client_id"]: row for row in reversed(rows)}.values())
    stored: dict[str, tuple[int, str]] = {}
    for _attempt in range(RECEIPT_ATTEMPTS):
        inserted = connection.execute(insert, todo)
        stored.update({row.client_id: (row.id, row.receipt) for row in inserted})
        missing = [row["client_id"] for row in todo if row["client_id"] not in stored]
        for chunk in _chunks(missing):
            found = select(FEEDBACK.c.id, FEEDBACK.c.client_id, FEEDBACK.c.receipt).where(
                FEEDBACK.c.client_id.in_(chunk)
            )
            stored.update(
                {row.client_id: (row.id, row.receipt) for row in connection.execute(found)}
            )
        todo = [{**row, "receipt": new_receipt()} for row in todo if row["client_id"] not in stored]
        if not todo:
            break
    return stored


def count_impressions(
    connection: Connection, counts: Mapping[ImpressionKey, tuple[int, dt.datetime]]
) -> None:
    """Add counts (count, last seen at) per key to `impression_count`: one upsert statement."""
    insert = _insert(connection)
    rows = [
        {
            "procedure_id": key.procedure_id,
            "day": key.day,
            "origin": key.origin,
            "event": key.event,
            "count": count,
            "last_seen_at": last_seen_at,
        }
        for key, (count, last_seen_at) in counts.items()
    ]
    for chunk in _chunks(rows):
        statement = insert(IMPRESSIONS).values(list(chunk))
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[c.name for c in IMPRESSIONS.primary_key.columns],
                set_={
                    "count": IMPRESSIONS.c.count + statement.excluded.count,
                    "last_seen_at": statement.excluded.last_seen_at,
                },
            )
        )


def _insert(connection: Connection) -> Callable[[Table], Any]:
    # The two dialects' INSERT constructs share on_conflict_do_nothing/do_update and excluded.
    name = connection.dialect.name
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[name]


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + ROWS_PER_STATEMENT] for i in range(0, len(items), ROWS_PER_STATEMENT)]
