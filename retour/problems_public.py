"""Problems as the public sees them (« Vous avez dit, nous avons fait »): on the procedure's
page, the latest fixes on `/`, and `/open-data/problems.csv|json` (docs/open-data.md).

Only the administration's words and counts: title, status, dates, the number of linked
reports, the public answer once the problem is closed (and why, when it will not be fixed).
Never a citizen's comment, never the internal description. Merged problems are left out
(their reports are counted in the problem they were merged into).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Connection

from retour.models import Ministry, Problem, ProblemProcedure

FIELDS: Final = (
    "id",
    "ministry",
    "ministry_slug",
    "procedure_ids",
    "title",
    "status",
    "reports",
    "opened_at",
    "planned_at",
    "fixed_at",
    "closed_at",
    "public_answer",
    "reason",
)
problem_t = Problem.__table__  # type: ignore[attr-defined]
link_t = ProblemProcedure.__table__  # type: ignore[attr-defined]
ministry_t = Ministry.__table__  # type: ignore[attr-defined]


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def public_problems(
    connection: Connection,
    *,
    procedure_id: str | None = None,
    fixed_only: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Records with `FIELDS` (dates as aware datetimes), newest change first."""
    statement = (
        select(problem_t, ministry_t.c.name.label("ministry_name"), ministry_t.c.slug)
        .select_from(problem_t.join(ministry_t, ministry_t.c.id == problem_t.c.ministry_id))
        .where(problem_t.c.merged_into_id.is_(None))
        .order_by(problem_t.c.updated_at.desc(), problem_t.c.id.desc())
    )
    if procedure_id is not None:
        concerned = select(link_t.c.problem_id).where(link_t.c.procedure_id == procedure_id)
        statement = statement.where(problem_t.c.id.in_(concerned))
    if fixed_only:
        statement = (
            statement.where(problem_t.c.status == "fixed")
            .order_by(None)
            .order_by(problem_t.c.closed_at.desc(), problem_t.c.id.desc())
        )
    if limit is not None:
        statement = statement.limit(limit)
    rows = connection.execute(statement).all()
    procedures: dict[int, list[str]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 500):
        for problem_id, pid in connection.execute(
            select(link_t.c.problem_id, link_t.c.procedure_id).where(
                link_t.c.problem_id.in_(ids[start : start + 500])
            )
        ):
            procedures.setdefault(problem_id, []).append(pid)
    records = []
    for row in rows:
        answered = row.answered_at is not None
        records.append(
            {
                "id": row.id,
                "ministry": row.ministry_name,
                "ministry_slug": row.slug,
                "procedure_ids": sorted(procedures.get(row.id, [])),
                "title": row.title,
                "status": row.status,
                "reports": row.reports,
                "opened_at": _utc(row.created_at),
                "planned_at": _utc(row.planned_at),
                "fixed_at": _utc(row.closed_at) if row.status == "fixed" else None,
                "closed_at": _utc(row.closed_at),
                "public_answer": row.public_answer if answered else "",
                "reason": row.reason if row.status == "wont_fix" else "",
            }
        )
    return records
