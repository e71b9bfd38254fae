"""The observatory's figures per procedure and per ministry: what the public pages, the open
data, the editions and DINUM's coverage page read (issue 18).

Declared indicators come from `procedure_indicator` (`retour.indicators_store`), measured
ones from the summary tables (`retour.figures`: satisfaction; `retour.coverage`: the
button), and accessibility reports from `procedure_day.accessibility` over the same
12 months as the satisfaction score. Never reads `feedback`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from retour import indicators as ind
from retour.collation import french_key
from retour.coverage import button_states
from retour.figures import day_t, procedure_figures
from retour.indicators_store import Declared, declared_for
from retour.models import utcnow
from retour.page_loads import median_loads
from retour.stats_rollup import window_start


@dataclass(frozen=True)
class ObservatoryRow:
    """One active procedure with every indicator and its level."""

    id: str
    title: str
    url: str
    ministry_slug: str
    ministry_name: str
    declared: dict[str, Declared]
    satisfaction_score: float | None
    button: str  # retour.coverage.BUTTON_STATES
    accessibility_reports: int
    # Median page load over 28 days, from the loader's view beacon (retour.page_loads).
    load_median_ms: int | None = None
    ratings: dict[str, ind.Rating] = field(default_factory=dict)

    @property
    def rgaa_rate(self) -> int | None:
        value = self.declared["accessibility"].value
        return int(value) if value else None


def accessibility_reports(
    session: Session, today: dt.date, *, procedure_id: str | None = None
) -> dict[str, int]:
    """« Un problème d'accessibilité » reports per procedure over the 12-month window."""
    query = (
        select(day_t.c.procedure_id, func.sum(day_t.c.accessibility))
        .where(day_t.c.day >= window_start(today))
        .group_by(day_t.c.procedure_id)
    )
    if procedure_id is not None:
        query = query.where(day_t.c.procedure_id == procedure_id)
    return {pid: int(total or 0) for pid, total in session.connection().execute(query)}


def observatory_rows(
    session: Session, *, min_count: int, now: dt.datetime | None = None
) -> list[ObservatoryRow]:
    """Every active procedure, by ministry then title (French order)."""
    now = now or utcnow()
    connection = session.connection()
    figures = procedure_figures(connection, min_count=min_count, now=now)
    ids = [f.id for f in figures]
    declared = declared_for(session, ids, now=now)
    states = button_states(connection, ids, now=now)
    reports = accessibility_reports(session, now.date())
    loads = median_loads(connection, now.date())
    rows = []
    for f in figures:
        ratings = {name: declared[f.id][name].rating for name in ind.DECLARED}
        ratings["satisfaction"] = ind.rate_satisfaction(f.satisfaction_score)
        ratings["button"] = ind.rate_button(states[f.id])
        ratings["performance"] = ind.rate_performance(loads.get(f.id))
        rows.append(
            ObservatoryRow(
                id=f.id,
                title=f.title,
                url=f.url,
                ministry_slug=f.ministry_slug,
                ministry_name=f.ministry_name,
                declared=declared[f.id],
                satisfaction_score=f.satisfaction_score,
                button=states[f.id],
                accessibility_reports=reports.get(f.id, 0),
                load_median_ms=loads.get(f.id),
                ratings=ratings,
            )
        )
    rows.sort(key=lambda r: (french_key(r.ministry_name), french_key(r.title), r.id))
    return rows


@dataclass(frozen=True)
class MinistryObservatory:
    """A ministry's accessibility beside its reports, and how complete and current its
    declarations are (DINUM's view)."""

    slug: str
    name: str
    procedures: int
    with_statement: int  # procedures with an accessibility statement address
    mean_rgaa: float | None  # over the procedures that declared a rate
    accessibility_reports: int
    declared: int  # declared indicators, over procedures × len(DECLARED)
    current: int  # declared indicators less than a year old

    @property
    def completeness(self) -> float | None:
        possible = self.procedures * len(ind.DECLARED)
        return self.declared / possible if possible else None

    @property
    def currency(self) -> float | None:
        return self.current / self.declared if self.declared else None


def by_ministry(rows: list[ObservatoryRow]) -> list[MinistryObservatory]:
    groups: dict[str, list[ObservatoryRow]] = {}
    for row in rows:
        groups.setdefault(row.ministry_slug, []).append(row)
    result = []
    for slug, members in groups.items():
        rates = [r.rgaa_rate for r in members if r.rgaa_rate is not None]
        statements = sum(
            1 for r in members if r.declared["accessibility"].detail not in ("", ind.NO_STATEMENT)
        )
        declared = [d for r in members for d in r.declared.values() if d.declared]
        result.append(
            MinistryObservatory(
                slug=slug,
                name=members[0].ministry_name,
                procedures=len(members),
                with_statement=statements,
                mean_rgaa=round(sum(rates) / len(rates), 1) if rates else None,
                accessibility_reports=sum(r.accessibility_reports for r in members),
                declared=len(declared),
                current=sum(1 for d in declared if not d.stale),
            )
        )
    result.sort(key=lambda m: french_key(m.name))
    return result


def procedure_observatory(
    session: Session, procedure_id: str, *, min_count: int, now: dt.datetime | None = None
) -> ObservatoryRow | None:
    """One active procedure's row (as `observatory_rows` makes it), or None."""
    now = now or utcnow()
    connection = session.connection()
    figures = procedure_figures(connection, min_count=min_count, now=now, procedure_id=procedure_id)
    if not figures:
        return None
    f = figures[0]
    declared = declared_for(session, [f.id], now=now)[f.id]
    state = button_states(connection, [f.id], now=now)[f.id]
    ratings = {name: declared[name].rating for name in ind.DECLARED}
    ratings["satisfaction"] = ind.rate_satisfaction(f.satisfaction_score)
    ratings["button"] = ind.rate_button(state)
    load = median_loads(connection, now.date(), procedure_id=f.id).get(f.id)
    ratings["performance"] = ind.rate_performance(load)
    reports = accessibility_reports(session, now.date(), procedure_id=f.id)
    return ObservatoryRow(
        id=f.id,
        title=f.title,
        url=f.url,
        ministry_slug=f.ministry_slug,
        ministry_name=f.ministry_name,
        declared=declared,
        satisfaction_score=f.satisfaction_score,
        button=state,
        accessibility_reports=reports.get(f.id, 0),
        load_median_ms=load,
        ratings=ratings,
    )
