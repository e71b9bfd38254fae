"""Reading and writing the indicators a ministry declared (console form, CSV import, demo).

Each change is one `procedure_indicator` row (value, detail, evidence, declared at and by)
and one `AuditEvent` ("procedure", action "indicator_declare"), in the caller's transaction.
Rating and vocabulary: `retour.indicators`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select as sa_select
from sqlmodel import Session

from retour import indicators as ind
from retour.models import AuditEvent, ProcedureIndicator, utcnow


@dataclass(frozen=True)
class Declared:
    """One declared indicator as pages show it (values normalised, level computed)."""

    indicator: str
    value: str
    detail: str
    evidence: str
    declared_at: dt.datetime | None
    declared_by: str
    rating: ind.Rating
    stale: bool

    @property
    def declared(self) -> bool:
        return bool(self.value or self.detail)


def declared_for(
    session: Session, procedure_ids: list[str], *, now: dt.datetime | None = None
) -> dict[str, dict[str, Declared]]:
    """Every declared indicator of these procedures, by procedure then indicator; indicators
    never declared are there too, with no data."""
    now = now or utcnow()
    table = ProcedureIndicator.__table__  # type: ignore[attr-defined]
    found: dict[str, dict[str, Declared]] = {pid: {} for pid in procedure_ids}
    # Core rows, not ORM objects: the public pages read every procedure's seven at once.
    for start in range(0, len(procedure_ids), 500):
        chunk = procedure_ids[start : start + 500]
        query = sa_select(
            table.c.procedure_id, table.c.indicator, table.c.value, table.c.detail,
            table.c.evidence, table.c.declared_at, table.c.declared_by,
        ).where(table.c.procedure_id.in_(chunk))  # fmt: skip
        for pid, name, value, detail, evidence, declared_at, declared_by in session.execute(query):
            if name in ind.DECLARED and (value or detail):
                found[pid][name] = Declared(
                    name, value, detail, evidence, declared_at, declared_by,
                    ind.rate_declared(name, value, detail), ind.is_stale(declared_at, now),
                )  # fmt: skip
    result: dict[str, dict[str, Declared]] = {}
    for pid, by_indicator in found.items():
        result[pid] = {
            name: by_indicator.get(name) or Declared(name, "", "", "", None, "", ind.NO_DATA, False)
            for name in ind.DECLARED
        }
    return result


def declare(
    session: Session,
    *,
    procedure_id: str,
    ministry_id: int,
    indicator: str,
    value: str,
    detail: str,
    evidence: str,
    actor_id: int | None,
    actor_label: str,
    source: str = "console",
    now: dt.datetime | None = None,
) -> bool:
    """Store one declaration (already normalised by `retour.indicators.normalise`); False when
    it changes nothing. Re-declaring the same value with new evidence renews its date: that
    is how a ministry says "still true" a year later."""
    now = now or utcnow()
    row = session.get(ProcedureIndicator, (procedure_id, indicator))
    before = (row.value, row.detail, row.evidence) if row is not None else ("", "", "")
    if (
        row is not None
        and before == (value, detail, evidence)
        and not ind.is_stale(row.declared_at, now)
    ):
        return False
    if row is None:
        row = ProcedureIndicator(procedure_id=procedure_id, indicator=indicator)
    row.value, row.detail, row.evidence = value, detail, evidence
    row.declared_at = now
    row.declared_by_id = actor_id
    row.declared_by = actor_label[:60]
    session.add(row)
    change = {
        "indicator": indicator,
        "from": {"value": before[0], "detail": before[1]},
        "to": {"value": value, "detail": detail},
        "evidence": evidence,
        "source": source,
    }
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor_id,
            actor_label=actor_label[:60],
            ministry_id=ministry_id,
            entity="procedure",
            entity_id=procedure_id,
            action="indicator_declare",
            detail=json.dumps(change, ensure_ascii=False, sort_keys=True),
        )
    )
    return True
