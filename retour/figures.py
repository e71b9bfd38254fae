"""The public figures, read from the summary tables kept by `retour.stats`.

Definitions (docs/open-data.md says the same to the public):

- over the last 12 months (today and the 364 days before, UTC), honeypot and spam excluded;
- `satisfaction_score` = (10 × good + 5 × average) / count, published only when count reaches
  `settings.public_min_count`, None below;
- `processed_share` = share of those submissions no longer `new`;
- `median_ack_seconds` = median of `acknowledged_at − received_at`;
- `answers` = public answers published, over all time;
- `button_live` = a `view` impression on one of the procedure's registered origins in the
  last 7 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, exists, select
from sqlalchemy.engine import Connection

from retour.models import (
    CHANNELS,
    KINDS,
    ImpressionCount,
    Ministry,
    MinistryStats,
    Procedure,
    ProcedureDay,
    ProcedureOrigin,
    ProcedureStats,
    utcnow,
)
from retour.stats_rollup import window_start

LIVE_WINDOW: Final = dt.timedelta(days=7)

procedure_t = Procedure.__table__  # type: ignore[attr-defined]
ministry_t = Ministry.__table__  # type: ignore[attr-defined]
stats_t = ProcedureStats.__table__  # type: ignore[attr-defined]
day_t = ProcedureDay.__table__  # type: ignore[attr-defined]
impression_t = ImpressionCount.__table__  # type: ignore[attr-defined]
origin_t = ProcedureOrigin.__table__  # type: ignore[attr-defined]
ministry_stats_t = MinistryStats.__table__  # type: ignore[attr-defined]


def satisfaction_score(good: int, average: int, count: int, min_count: int) -> float | None:
    if count < max(min_count, 1):
        return None
    return round((10 * good + 5 * average) / count, 1)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


@dataclass(frozen=True)
class ProcedureFigures:
    """One procedure as the dashboard and the open data show it."""

    id: str
    title: str
    url: str
    online: bool
    ministry_id: int
    ministry_slug: str
    ministry_name: str
    button_live: bool
    count: int
    good: int
    average: int
    bad: int
    processed: int
    answers: int
    median_ack_seconds: float | None
    satisfaction_score: float | None

    @property
    def processed_share(self) -> float | None:
        return share(self.processed, self.count)

    @property
    def median_ack_hours(self) -> float | None:
        return hours(self.median_ack_seconds)


def live_clause(now: dt.datetime) -> Any:
    """True for a procedure seen on one of its registered origins in the last 7 days."""
    return exists(
        select(1)
        .select_from(
            impression_t.join(
                origin_t,
                and_(
                    origin_t.c.procedure_id == impression_t.c.procedure_id,
                    origin_t.c.origin == impression_t.c.origin,
                ),
            )
        )
        .where(
            impression_t.c.procedure_id == procedure_t.c.id,
            impression_t.c.event == "view",
            impression_t.c.day >= (now - LIVE_WINDOW).date(),
            impression_t.c.last_seen_at >= now - LIVE_WINDOW,
        )
    )


def procedure_figures(
    connection: Connection,
    *,
    min_count: int,
    now: dt.datetime | None = None,
    procedure_id: str | None = None,
) -> list[ProcedureFigures]:
    """Every active procedure (or one), ordered by ministry then title."""
    now = now or utcnow()
    statement = (
        select(
            procedure_t.c.id,
            procedure_t.c.title,
            procedure_t.c.url,
            procedure_t.c.online,
            ministry_t.c.id.label("ministry_id"),
            ministry_t.c.slug,
            ministry_t.c.name,
            live_clause(now).label("live"),
            stats_t.c.count.label("n"),
            stats_t.c.good,
            stats_t.c.average,
            stats_t.c.bad,
            stats_t.c.processed,
            stats_t.c.answers,
            stats_t.c.median_ack_seconds,
        )
        .select_from(
            procedure_t.join(ministry_t, ministry_t.c.id == procedure_t.c.ministry_id).outerjoin(
                stats_t, stats_t.c.procedure_id == procedure_t.c.id
            )
        )
        .where(procedure_t.c.active.is_(True))
        .order_by(ministry_t.c.name, procedure_t.c.title)
    )
    if procedure_id is not None:
        statement = statement.where(procedure_t.c.id == procedure_id)
    figures = []
    for row in connection.execute(statement):
        count = row.n or 0
        figures.append(
            ProcedureFigures(
                id=row.id,
                title=row.title,
                url=row.url,
                online=bool(row.online),
                ministry_id=row.ministry_id,
                ministry_slug=row.slug,
                ministry_name=row.name,
                button_live=bool(row.live),
                count=count,
                good=row.good or 0,
                average=row.average or 0,
                bad=row.bad or 0,
                processed=row.processed or 0,
                answers=row.answers or 0,
                median_ack_seconds=row.median_ack_seconds,
                satisfaction_score=satisfaction_score(
                    row.good or 0, row.average or 0, count, min_count
                ),
            )
        )
    return figures


@dataclass(frozen=True)
class GroupFigures:
    """The loop measured for a group of procedures (a ministry, or all of them)."""

    key: str
    name: str
    procedures: int
    live: int
    count: int
    processed: int
    answers: int
    median_ack_seconds: float | None

    @property
    def live_share(self) -> float | None:
        return share(self.live, self.procedures)

    @property
    def processed_share(self) -> float | None:
        return share(self.processed, self.count)

    @property
    def median_ack_hours(self) -> float | None:
        return hours(self.median_ack_seconds)


def ministry_medians(connection: Connection) -> dict[int, float | None]:
    """Median time to acknowledge per ministry id (0: all ministries), kept by the refresh."""
    rows = connection.execute(
        select(ministry_stats_t.c.ministry_id, ministry_stats_t.c.median_ack_seconds)
    )
    return {int(ministry_id): median for ministry_id, median in rows}


def group_figures(
    key: str, name: str, figures: Sequence[ProcedureFigures], median: float | None
) -> GroupFigures:
    return GroupFigures(
        key=key,
        name=name,
        procedures=len(figures),
        live=sum(1 for f in figures if f.button_live),
        count=sum(f.count for f in figures),
        processed=sum(f.processed for f in figures),
        answers=sum(f.answers for f in figures),
        median_ack_seconds=median,
    )


def by_ministry(
    figures: Sequence[ProcedureFigures], medians: dict[int, float | None]
) -> list[GroupFigures]:
    groups: dict[int, list[ProcedureFigures]] = {}
    for figure in figures:
        groups.setdefault(figure.ministry_id, []).append(figure)
    return sorted(
        (
            group_figures(items[0].ministry_slug, items[0].ministry_name, items, medians.get(m))
            for m, items in groups.items()
        ),
        key=lambda g: g.name,
    )


# --- One procedure over time ------------------------------------------------------------


@dataclass(frozen=True)
class MonthFigures:
    month: dt.date  # first day of the month
    count: int
    good: int
    average: int
    bad: int
    score: float | None


@dataclass(frozen=True)
class WeekCounts:
    week: dt.date  # the Monday that starts it
    count: int
    good: int
    average: int
    bad: int


@dataclass(frozen=True)
class ProcedureHistory:
    months: list[MonthFigures]
    weeks: list[WeekCounts]
    kinds: dict[str, int]
    unspecified_kind: int
    # Public submissions by channel (CHANNELS) over the window.
    channels: dict[str, int]


WEEKS: Final = 52


def procedure_history(
    connection: Connection, procedure_id: str, *, min_count: int, today: dt.date
) -> ProcedureHistory:
    """Month by month over the 12-month window, and the kinds of problem reported."""
    start = window_start(today)
    rows = connection.execute(
        select(day_t).where(day_t.c.procedure_id == procedure_id, day_t.c.day >= start)
    ).all()
    months: dict[dt.date, list[int]] = {}
    first = start.replace(day=1)
    cursor = first
    while cursor <= today:
        months[cursor] = [0, 0, 0, 0]
        cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    first_week = today - dt.timedelta(days=today.weekday(), weeks=WEEKS - 1)
    weeks = {first_week + dt.timedelta(weeks=i): [0, 0, 0, 0] for i in range(WEEKS)}
    kinds = dict.fromkeys(KINDS, 0)
    channels = dict.fromkeys(CHANNELS, 0)
    total = 0
    for row in rows:
        bucket = months[row.day.replace(day=1)]
        week = weeks.get(row.day - dt.timedelta(days=row.day.weekday()))
        values = row._mapping
        for i, column in enumerate(("count", "good", "average", "bad")):
            bucket[i] += values[column]
            if week is not None:
                week[i] += values[column]
        for kind in KINDS:
            kinds[kind] += values[kind]
        for channel in CHANNELS:
            channels[channel] += values[f"channel_{channel}"]
        total += values["count"]
    return ProcedureHistory(
        months=[
            MonthFigures(
                month=month,
                count=c,
                good=g,
                average=a,
                bad=b,
                score=satisfaction_score(g, a, c, min_count),
            )
            for month, (c, g, a, b) in months.items()
        ],
        weeks=[WeekCounts(week, *counts) for week, counts in weeks.items()],
        kinds=kinds,
        unspecified_kind=total - sum(kinds.values()),
        channels=channels,
    )
