"""Quarterly editions of the observatory: every active procedure's indicators, kept as they
were (`indicator_edition`), so that pages show an indicator's history and the open data
keeps every edition (issue 18).

An edition is named after the quarter it is taken in ("2026-Q4"). `retour observatory
snapshot` takes (or retakes) the current quarter's; the console's background task takes it
by itself at the start of each quarter when it is missing (`ensure_current_edition`), safe
with several processes: the first insert wins, the others find it there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from retour import indicators as ind
from retour.models import IndicatorEdition, Ministry, Procedure, utcnow
from retour.observatory import ObservatoryRow, observatory_rows

edition_t = IndicatorEdition.__table__  # type: ignore[attr-defined]
procedure_t = Procedure.__table__  # type: ignore[attr-defined]
ministry_t = Ministry.__table__  # type: ignore[attr-defined]
REPORTS: Final = "accessibility_reports"  # stored beside the indicators, without a level
CURRENT: Final = "current"  # the open data's name for the live state, before any edition


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _edition_rows(
    rows: list[ObservatoryRow], edition: str, now: dt.datetime
) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for row in rows:
        for name in ind.DECLARED:
            d = row.declared[name]
            values.append(
                {"edition": edition, "procedure_id": row.id, "indicator": name,
                 "value": d.value, "detail": d.detail, "level": d.rating.level,
                 "goal_met": d.rating.goal_met, "declared_at": d.declared_at, "taken_at": now}
            )  # fmt: skip
        score = "" if row.satisfaction_score is None else f"{row.satisfaction_score:.1f}"
        load = "" if row.load_median_ms is None else str(row.load_median_ms)
        for name, value in (("satisfaction", score), ("button", row.button), ("performance", load)):
            rating = row.ratings[name]
            values.append(
                {"edition": edition, "procedure_id": row.id, "indicator": name, "value": value,
                 "detail": "", "level": rating.level, "goal_met": rating.goal_met,
                 "declared_at": None, "taken_at": now}
            )  # fmt: skip
        values.append(
            {"edition": edition, "procedure_id": row.id, "indicator": REPORTS,
             "value": str(row.accessibility_reports), "detail": "", "level": "no_data",
             "goal_met": None, "declared_at": None, "taken_at": now}
        )  # fmt: skip
    return values


def take_snapshot(
    session: Session, *, min_count: int, edition: str | None = None, now: dt.datetime | None = None
) -> int:
    """Record (or record again) an edition of every active procedure; the procedures counted.
    In the caller's transaction."""
    now = now or utcnow()
    edition = edition or quarter_of(now.date())
    rows = observatory_rows(session, min_count=min_count, now=now)
    session.execute(delete(edition_t).where(edition_t.c.edition == edition))
    values = _edition_rows(rows, edition, now)
    if values:
        session.execute(insert(edition_t), values)
    return len(rows)


def has_edition(session: Session, edition: str) -> bool:
    query = select(func.count()).select_from(edition_t).where(edition_t.c.edition == edition)
    return bool(session.execute(query).scalar_one())


def ensure_current_edition(
    engine: Engine, *, min_count: int, now: dt.datetime | None = None
) -> bool:
    """Take this quarter's edition if nobody has; True when this call took it."""
    now = now or utcnow()
    edition = quarter_of(now.date())
    with Session(engine) as session:
        if has_edition(session, edition):
            return False
        try:
            take_snapshot(session, min_count=min_count, edition=edition, now=now)
            session.commit()
        except IntegrityError:  # another process took it at the same moment
            session.rollback()
            return False
    return True


@dataclass(frozen=True)
class EditionLevels:
    """One edition of one procedure, as its page's history shows it."""

    edition: str
    values: dict[str, tuple[str, str, str]]  # indicator → (value, detail, level)


def history_of(session: Session, procedure_id: str) -> list[EditionLevels]:
    """Every edition of one procedure, the newest first."""
    query = (
        select(edition_t.c.edition, edition_t.c.indicator, edition_t.c.value,
               edition_t.c.detail, edition_t.c.level)
        .where(edition_t.c.procedure_id == procedure_id)
        .order_by(edition_t.c.edition.desc())
    )  # fmt: skip
    editions: dict[str, dict[str, tuple[str, str, str]]] = {}
    for edition, indicator, value, detail, level in session.execute(query):
        editions.setdefault(edition, {})[indicator] = (value, detail, level)
    return [EditionLevels(edition, values) for edition, values in editions.items()]
