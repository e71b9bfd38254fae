"""Writing checked rows of a procedures file: create or update by id, in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlmodel import Session

from retour.importer.parse import ProcedureRow
from retour.models import (
    AuditEvent,
    Feedback,
    Ministry,
    Procedure,
    ProcedureOrigin,
    PublicAnswer,
    utcnow,
)

_CHUNK = 500  # ids per IN (...) when loading what already exists
_COMPARED = ("id", "title", "url", "description", "ministry_id")


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_MINISTRY = _table(Ministry)
_PROCEDURE = _table(Procedure)
_ORIGIN = _table(ProcedureOrigin)
_AUDIT = _table(AuditEvent)
_FEEDBACK = _table(Feedback)
_ANSWER = _table(PublicAnswer)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ministries_created: list[str] = field(default_factory=list)  # their slugs
    # Which procedures, in the file's order (the console lists them).
    created_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)


def apply_import(
    session: Session,
    rows: Sequence[ProcedureRow],
    *,
    actor_id: int | None = None,
    actor_label: str = "cli",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Create or update every row; the caller commits (or rolls back) the whole import.

    Rows go through SQLAlchemy Core in batches: a register of thousands of procedures
    would spend most of its time building ORM objects. ORM objects the caller already
    holds in `session` are not refreshed.
    """
    summary = ImportSummary()
    now = utcnow()
    ministries: dict[str, int] = {
        slug: id_ for slug, id_ in session.execute(select(_MINISTRY.c.slug, _MINISTRY.c.id))
    }
    existing: dict[str, dict[str, Any]] = {}
    origins: dict[str, set[str]] = {}
    ids = [row.id for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError("apply_import needs each procedure id once (parse_procedures checks it)")
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(*(_PROCEDURE.c[name] for name in _COMPARED)).where(
            _PROCEDURE.c.id.in_(chunk)
        )
        for found in session.execute(query).mappings():
            existing[found["id"]] = dict(found)
        query = select(_ORIGIN.c.procedure_id, _ORIGIN.c.origin).where(
            _ORIGIN.c.procedure_id.in_(chunk)
        )
        for procedure_id, origin in session.execute(query):
            origins.setdefault(procedure_id, set()).add(origin)

    audits: list[dict[str, Any]] = []

    def audit(entity: str, entity_id: str, action: str, ministry_id: int, detail: Any) -> None:
        audits.append(
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "ministry_id": ministry_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "detail": json.dumps({**detail, "source": "import"}, ensure_ascii=False),
            }
        )

    new_procedures: list[dict[str, Any]] = []
    new_origins: list[dict[str, Any]] = []
    for row in rows:
        ministry_id = ministries.get(row.ministry_slug)
        if ministry_id is None:
            ministry_id = session.execute(
                insert(_MINISTRY)
                .values(slug=row.ministry_slug, name=row.ministry, created_at=now)
                .returning(_MINISTRY.c.id)
            ).scalar_one()
            ministries[row.ministry_slug] = ministry_id
            summary.ministries_created.append(row.ministry_slug)
            audit("ministry", str(ministry_id), "create", ministry_id,
                  {"slug": row.ministry_slug, "name": row.ministry})  # fmt: skip

        current = existing.get(row.id)
        if current is None:
            new_procedures.append(
                {"id": row.id, "title": row.title, "ministry_id": ministry_id, "url": row.url,
                 "description": row.description, "online": True, "active": True,
                 "button_label": None, "created_at": now, "updated_at": now}
            )  # fmt: skip
            new_origins.extend({"procedure_id": row.id, "origin": o} for o in row.origins)
            summary.created += 1
            summary.created_ids.append(row.id)
            audit("procedure", row.id, "create", ministry_id,
                  {"title": row.title, "ministry": row.ministry_slug, "url": row.url,
                   "origins": list(row.origins)})  # fmt: skip
        else:
            changes = _update(session, current, row, ministry_id, origins.get(row.id, set()), now)
            if changes:
                summary.updated += 1
                summary.updated_ids.append(row.id)
                audit("procedure", row.id, "update", ministry_id, changes)
            else:
                summary.unchanged += 1
        if progress is not None:
            progress(1)
    # Procedures before their origins: the foreign key needs them first.
    for table, values in ((_PROCEDURE, new_procedures), (_ORIGIN, new_origins), (_AUDIT, audits)):
        if values:
            session.execute(insert(table), values)
    return summary


def _update(
    session: Session,
    current: dict[str, Any],
    row: ProcedureRow,
    ministry_id: int,
    current_origins: set[str],
    now: dt.datetime,
) -> dict[str, Any]:
    """Bring one procedure in line with its row; returns what changed, {"field": {from, to}}."""
    wanted = {"title": row.title, "url": row.url, "description": row.description,
              "ministry_id": ministry_id}  # fmt: skip
    changes = {
        name: {"from": current[name], "to": value}
        for name, value in wanted.items()
        if current[name] != value
    }
    procedure_id = row.id
    if "ministry_id" in changes:
        # Feedback carries its ministry for isolation: the new ministry takes over the
        # procedure's submissions and answers, the old one no longer sees them.
        for table in (_FEEDBACK, _ANSWER):
            session.execute(
                update(table)
                .where(table.c.procedure_id == procedure_id)
                .values(ministry_id=ministry_id)
            )
    new_origins = set(row.origins)
    if new_origins != current_origins:
        changes["origins"] = {"from": sorted(current_origins), "to": sorted(new_origins)}
        removed = current_origins - new_origins
        if removed:
            session.execute(
                delete(_ORIGIN).where(
                    _ORIGIN.c.procedure_id == procedure_id, _ORIGIN.c.origin.in_(removed)
                )
            )
        added = [{"procedure_id": procedure_id, "origin": o} for o in new_origins - current_origins]
        if added:
            session.execute(insert(_ORIGIN), added)
    if changes:
        session.execute(
            update(_PROCEDURE)
            .where(_PROCEDURE.c.id == procedure_id)
            .values(**{name: wanted[name] for name in changes if name in wanted}, updated_at=now)
        )
    return changes
