"""Writing checked rows of a procedures file: create or update by id, in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

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


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ministries_created: list[str] = field(default_factory=list)  # their slugs


def apply_import(
    session: Session,
    rows: Sequence[ProcedureRow],
    *,
    actor_id: int | None = None,
    actor_label: str = "cli",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Create or update every row; the caller commits (or rolls back) the whole import."""
    summary = ImportSummary()
    ministries = {m.slug: m for m in session.exec(select(Ministry)).all()}
    existing: dict[str, Procedure] = {}
    origins: dict[str, set[str]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for found in session.exec(select(Procedure).where(col(Procedure.id).in_(chunk))):
            existing[found.id] = found
        for link in session.exec(
            select(ProcedureOrigin).where(col(ProcedureOrigin.procedure_id).in_(chunk))
        ):
            origins.setdefault(link.procedure_id, set()).add(link.origin)

    def audit(
        entity: str, entity_id: str, action: str, ministry_id: int | None, detail: dict[str, Any]
    ) -> None:
        session.add(
            AuditEvent(
                actor_id=actor_id,
                actor_label=actor_label,
                ministry_id=ministry_id,
                entity=entity,
                entity_id=entity_id,
                action=action,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
            )
        )

    # Added after the new procedures are flushed: their foreign key needs them first.
    new_origins: list[ProcedureOrigin] = []
    for row in rows:
        ministry = ministries.get(row.ministry_slug)
        if ministry is None:
            ministry = Ministry(slug=row.ministry_slug, name=row.ministry)
            session.add(ministry)
            session.flush()  # its id is needed by the procedures that follow
            assert ministry.id is not None
            ministries[ministry.slug] = ministry
            summary.ministries_created.append(ministry.slug)
            audit(
                "ministry",
                str(ministry.id),
                "create",
                ministry.id,
                {"slug": ministry.slug, "name": ministry.name, "source": "import"},
            )
        assert ministry.id is not None

        procedure = existing.get(row.id)
        if procedure is None:
            procedure = Procedure(
                id=row.id,
                title=row.title,
                ministry_id=ministry.id,
                url=row.url,
                description=row.description,
            )
            session.add(procedure)
            new_origins.extend(ProcedureOrigin(procedure_id=row.id, origin=o) for o in row.origins)
            existing[row.id] = procedure
            origins[row.id] = set(row.origins)
            summary.created += 1
            audit(
                "procedure",
                row.id,
                "create",
                ministry.id,
                {
                    "title": row.title,
                    "ministry": ministry.slug,
                    "url": row.url,
                    "origins": list(row.origins),
                    "source": "import",
                },
            )
        else:
            changes = _update(session, procedure, row, ministry, origins.setdefault(row.id, set()))
            if changes:
                summary.updated += 1
                audit("procedure", row.id, "update", ministry.id, {**changes, "source": "import"})
            else:
                summary.unchanged += 1
        if progress is not None:
            progress(1)
    session.flush()
    session.add_all(new_origins)
    session.flush()
    return summary


def _update(
    session: Session,
    procedure: Procedure,
    row: ProcedureRow,
    ministry: Ministry,
    current_origins: set[str],
) -> dict[str, Any]:
    """Bring one procedure in line with its row; returns what changed, {"field": {from, to}}."""
    changes: dict[str, Any] = {}
    for name, value in (("title", row.title), ("url", row.url), ("description", row.description)):
        if getattr(procedure, name) != value:
            changes[name] = {"from": getattr(procedure, name), "to": value}
            setattr(procedure, name, value)
    assert ministry.id is not None
    if procedure.ministry_id != ministry.id:
        changes["ministry_id"] = {"from": procedure.ministry_id, "to": ministry.id}
        procedure.ministry_id = ministry.id
        # Feedback carries its ministry for isolation: the new ministry takes over the
        # procedure's submissions and answers, the old one no longer sees them.
        for table in (Feedback, PublicAnswer):
            session.execute(
                update(table)
                .where(col(table.procedure_id) == procedure.id)
                .values(ministry_id=ministry.id)
            )
    wanted = set(row.origins)
    if wanted != current_origins:
        changes["origins"] = {"from": sorted(current_origins), "to": sorted(wanted)}
        removed = current_origins - wanted
        if removed:
            session.execute(
                delete(ProcedureOrigin).where(
                    col(ProcedureOrigin.procedure_id) == procedure.id,
                    col(ProcedureOrigin.origin).in_(removed),
                )
            )
        session.add_all(
            ProcedureOrigin(procedure_id=procedure.id, origin=o) for o in wanted - current_origins
        )
        current_origins.clear()
        current_origins.update(wanted)
    if changes:
        procedure.updated_at = utcnow()
        session.add(procedure)
    return changes
