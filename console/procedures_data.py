"""The register's data: what the procedure pages read and write (sessions from `run_db`).

Every function takes the acting `CurrentUser` and applies per-ministry isolation itself:
another ministry's procedure raises `HTTPException(404)`. Writes record an `AuditEvent`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException

from console.audit import record
from console.scope import CurrentUser, ensure_same_ministry, scoped
from retour.collation import french_key
from retour.coverage import button_states
from retour.models import ImpressionCount, Ministry, Procedure, ProcedureOrigin, utcnow

LIVE_DAYS = 7  # the button is "live" when seen on a registered origin this recently


@dataclass(frozen=True)
class ProcedureRow:
    id: str
    title: str
    ministry_name: str
    active: bool
    online: bool
    last_seen_at: dt.datetime | None
    button: str = "never"  # retour.coverage.BUTTON_STATES


@dataclass(frozen=True)
class OriginSeen:
    origin: str
    registered: bool
    views: int
    opens: int
    last_seen_at: dt.datetime | None


@dataclass
class ProcedureDetail:
    procedure: Procedure
    ministry_name: str
    origins: list[str]
    seen: list[OriginSeen] = field(default_factory=list)
    button: str = "never"  # retour.coverage.BUTTON_STATES

    @property
    def live(self) -> bool:
        return self.button == "live"

    @property
    def seen_recently(self) -> list[OriginSeen]:
        """Origins the button was shown on in the last 7 days (archiving them asks first)."""
        since = utcnow() - dt.timedelta(days=LIVE_DAYS)
        return [s for s in self.seen if s.views and s.last_seen_at and s.last_seen_at >= since]


def list_procedures(
    session: Session,
    actor: CurrentUser,
    *,
    ministry_id: int | None = None,
    archived: bool = False,
) -> list[ProcedureRow]:
    # The latest day first (primary-key prefix: an index seek), then that day's few rows:
    # a page of 250 procedures never scans months of impression counts.
    day_of = aliased(ImpressionCount)
    latest_day = (
        sa_select(func.max(col(day_of.day)))
        .where(col(day_of.procedure_id) == col(Procedure.id))
        .correlate(Procedure)
        .scalar_subquery()
    )
    last_seen = (
        sa_select(func.max(col(ImpressionCount.last_seen_at)))
        .where(
            col(ImpressionCount.procedure_id) == col(Procedure.id),
            col(ImpressionCount.day) == latest_day,
        )
        .correlate(Procedure)
        .scalar_subquery()
    )
    query = (
        sa_select(
            col(Procedure.id),
            col(Procedure.title),
            col(Ministry.name),
            col(Procedure.active),
            col(Procedure.online),
            last_seen.label("last_seen_at"),
        )
        .join(Ministry, col(Ministry.id) == col(Procedure.ministry_id))
        .where(col(Procedure.active) == (not archived))
    )
    query = scoped(query, col(Procedure.ministry_id), actor)
    if ministry_id is not None:
        query = query.where(col(Procedure.ministry_id) == ministry_id)
    rows = []
    for pid, title, ministry_name, active, online, seen_at in session.execute(query).all():
        if isinstance(seen_at, str):
            seen_at = dt.datetime.fromisoformat(seen_at)  # SQLite gives aggregates back as text
        if isinstance(seen_at, dt.datetime) and seen_at.tzinfo is None:
            seen_at = seen_at.replace(tzinfo=dt.UTC)
        rows.append(ProcedureRow(pid, title, ministry_name, active, online, seen_at))
    states = button_states(session.connection(), [r.id for r in rows], now=utcnow())
    rows = [dataclasses.replace(r, button=states[r.id]) for r in rows]
    # French order (É among the E), which neither backend's default collation gives.
    rows.sort(key=lambda r: (french_key(r.ministry_name), french_key(r.title), r.id))
    return rows


def ministries_for(session: Session, actor: CurrentUser) -> list[Ministry]:
    query = scoped(select(Ministry), col(Ministry.id), actor)
    return sorted(session.exec(query).all(), key=lambda m: french_key(m.name))


def visible_procedure(session: Session, actor: CurrentUser, procedure_id: str) -> Procedure:
    procedure = session.get(Procedure, procedure_id)
    if procedure is None:
        raise HTTPException(404)
    ensure_same_ministry(actor, procedure.ministry_id)
    return procedure


def origins_of(session: Session, procedure_id: str) -> list[str]:
    query = select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == procedure_id)
    return sorted(session.exec(query).all())


def procedure_detail(session: Session, actor: CurrentUser, procedure_id: str) -> ProcedureDetail:
    procedure = visible_procedure(session, actor, procedure_id)
    ministry = session.get(Ministry, procedure.ministry_id)
    origins = origins_of(session, procedure_id)
    counts: dict[str, dict[str, Any]] = {}
    query = (
        select(
            ImpressionCount.origin,
            ImpressionCount.event,
            func.sum(ImpressionCount.count),
            func.max(ImpressionCount.last_seen_at),
        )
        .where(ImpressionCount.procedure_id == procedure_id)
        .group_by(col(ImpressionCount.origin), col(ImpressionCount.event))
    )
    for origin, event, total, last in session.exec(query).all():
        if isinstance(last, dt.datetime) and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        entry = counts.setdefault(origin, {"view": 0, "open": 0, "last": None})
        entry[event] = int(total or 0)
        if last is not None and (entry["last"] is None or last > entry["last"]):
            entry["last"] = last
    seen = [
        OriginSeen(origin, origin in origins, c["view"], c["open"], c["last"])
        for origin, c in counts.items()
    ]
    seen += [OriginSeen(o, True, 0, 0, None) for o in origins if o not in counts]
    # Unregistered origins first: they are what the ministry has to act on.
    seen.sort(key=lambda s: (s.registered, -(s.last_seen_at or utcnow()).timestamp(), s.origin))
    button = button_states(session.connection(), [procedure_id], now=utcnow())[procedure_id]
    return ProcedureDetail(procedure, ministry.name if ministry else "", origins, seen, button)


def create_procedure(
    session: Session, actor: CurrentUser, data: dict[str, Any], origins: list[str]
) -> Procedure:
    ensure_same_ministry(actor, data["ministry_id"])
    if session.get(Ministry, data["ministry_id"]) is None:
        raise UnknownMinistry(data["ministry_id"])
    if session.get(Procedure, data["id"]) is not None:
        raise DuplicateId(data["id"])
    procedure = Procedure(**data)
    session.add(procedure)
    session.flush()
    session.add_all(ProcedureOrigin(procedure_id=procedure.id, origin=o) for o in origins)
    record(
        session,
        actor,
        entity="procedure",
        entity_id=procedure.id,
        action="create",
        ministry_id=procedure.ministry_id,
        detail={**{k: v for k, v in data.items() if k != "ministry_id"}, "origins": origins},
    )
    return procedure


class DuplicateId(Exception):
    def __init__(self, procedure_id: str) -> None:
        super().__init__(procedure_id)
        self.procedure_id = procedure_id


class UnknownMinistry(Exception):
    """The ministry chosen in the form does not exist (DINUM chooses it; a field error)."""


EDITABLE = ("title", "url", "description", "online", "button_label")


def update_procedure(
    session: Session,
    actor: CurrentUser,
    procedure_id: str,
    data: dict[str, Any],
    origins: list[str],
) -> dict[str, Any]:
    procedure = visible_procedure(session, actor, procedure_id)
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        if name in data and getattr(procedure, name) != data[name]:
            changes[name] = {"from": getattr(procedure, name), "to": data[name]}
            setattr(procedure, name, data[name])
    current = set(origins_of(session, procedure_id))
    wanted = set(origins)
    if current != wanted:
        changes["origins"] = {"from": sorted(current), "to": sorted(wanted)}
        for gone in current - wanted:
            link = session.get(ProcedureOrigin, (procedure_id, gone))
            if link is not None:
                session.delete(link)
        session.add_all(
            ProcedureOrigin(procedure_id=procedure_id, origin=o) for o in wanted - current
        )
    if changes:
        procedure.updated_at = utcnow()
        session.add(procedure)
        record(
            session,
            actor,
            entity="procedure",
            entity_id=procedure_id,
            action="update",
            ministry_id=procedure.ministry_id,
            detail=changes,
        )
    return changes


def add_origin(session: Session, actor: CurrentUser, procedure_id: str, origin: str) -> bool:
    """Register `origin` (already normalised) for the procedure; False if it already was."""
    procedure = visible_procedure(session, actor, procedure_id)
    if session.get(ProcedureOrigin, (procedure_id, origin)) is not None:
        return False
    session.add(ProcedureOrigin(procedure_id=procedure_id, origin=origin))
    procedure.updated_at = utcnow()
    session.add(procedure)
    record(
        session,
        actor,
        entity="procedure",
        entity_id=procedure_id,
        action="origin_add",
        ministry_id=procedure.ministry_id,
        detail={"origin": origin},
    )
    return True


def set_archived(session: Session, actor: CurrentUser, procedure_id: str, archived: bool) -> None:
    procedure = visible_procedure(session, actor, procedure_id)
    if procedure.active == (not archived):
        return
    procedure.active = not archived
    procedure.updated_at = utcnow()
    session.add(procedure)
    record(
        session,
        actor,
        entity="procedure",
        entity_id=procedure_id,
        action="archive" if archived else "unarchive",
        ministry_id=procedure.ministry_id,
    )
