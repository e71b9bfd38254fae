"""Deployment coverage, for DINUM: where the button is really live, measured from impressions.

Reads `impression_count` (per procedure, day, origin, event: small), `procedure_day` (the
summary kept by `retour.stats`) and the register; never `feedback`.

`button_states` says, per procedure, which of four things is true of its button — what the
register's badges show, so that a procedure created a minute ago is not "not seen for 7 days".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Date, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause

from retour.figures import (
    LIVE_WINDOW,
    GroupFigures,
    ProcedureFigures,
    by_ministry,
    group_figures,
    ministry_medians,
    share,
)
from retour.models import UTCDateTime

TREND_WEEKS: Final = 12
FUNNEL_DAYS: Final = 30

# What can be said of a procedure's button, from the impressions (a `view` each time a page
# shows it), over the same 7 days as `button_live`:
#   live          seen on one of its registered origins
#   unregistered  seen, but only on origins it does not list (a copied snippet, a new site)
#   stale         seen before, not in the last 7 days
#   never         never seen anywhere: not pasted yet, or the page has no traffic
BUTTON_STATES: Final = ("live", "unregistered", "stale", "never")
# Their badges (French, translated by the console), and the DSFR colour of each.
BUTTON_STATE_LABELS: Final = {
    "live": "bouton en service",
    "unregistered": "bouton vu seulement sur une origine non enregistrée",
    "stale": "bouton non vu depuis 7 jours",
    "never": "bouton jamais vu",
}
BUTTON_STATE_BADGES: Final = {
    "live": "fr-badge--success",
    "unregistered": "fr-badge--warning",
    "stale": "fr-badge--warning",
    "never": "fr-badge--info",
}
_CHUNK: Final = 500  # ids per IN (...)


@dataclass(frozen=True)
class WeekCoverage:
    week: dt.date  # Monday
    live: int
    procedures: int

    @property
    def share(self) -> float | None:
        return share(self.live, self.procedures)


@dataclass(frozen=True)
class UnregisteredOrigin:
    procedure_id: str
    procedure_title: str
    origin: str
    views: int
    last_seen: dt.date


@dataclass(frozen=True)
class Funnel:
    procedure_id: str
    title: str
    ministry: str
    views: int
    opens: int
    submissions: int
    masked: int  # submissions whose comment had personal data masked
    masked_year: int

    @property
    def open_rate(self) -> float | None:
        return share(self.opens, self.views)

    @property
    def submit_rate(self) -> float | None:
        return share(self.submissions, self.opens)


@dataclass(frozen=True)
class Coverage:
    overall: GroupFigures
    ministries: list[GroupFigures]
    trend: list[WeekCoverage]
    not_live: list[ProcedureFigures]
    last_seen: dict[str, dt.date]  # procedure -> last day seen on a registered origin
    unregistered: list[UnregisteredOrigin]
    funnel: list[Funnel]


def _sql(statement: str, *dates: str) -> TextClause:
    return text(statement).bindparams(*(bindparam(name, type_=Date()) for name in dates))


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def button_states(
    connection: Connection, procedure_ids: list[str], *, now: dt.datetime
) -> dict[str, str]:
    """The state (`BUTTON_STATES`) of each procedure's button.

    Two small queries a chunk of ids: the last 7 days' views by origin (index seeks on the
    primary key's procedure and day), and whether any impression exists at all (one row each).
    """
    since = now - LIVE_WINDOW
    states = dict.fromkeys(procedure_ids, "never")
    for start in range(0, len(procedure_ids), _CHUNK):
        chunk = procedure_ids[start : start + _CHUNK]
        recent = connection.execute(
            text(
                "SELECT i.procedure_id, MAX(CASE WHEN o.origin IS NULL THEN 0 ELSE 1 END)"
                " FROM impression_count i LEFT JOIN procedure_origin o"
                " ON o.procedure_id = i.procedure_id AND o.origin = i.origin"
                " WHERE i.procedure_id IN :ids AND i.event = 'view' AND i.day >= :day"
                " AND i.last_seen_at >= :since GROUP BY i.procedure_id"
            ).bindparams(
                bindparam("ids", expanding=True),
                bindparam("day", type_=Date()),
                bindparam("since", type_=UTCDateTime()),
            ),
            {"ids": chunk, "day": since.date(), "since": since},
        )
        for procedure_id, registered in recent:
            states[procedure_id] = "live" if registered else "unregistered"
        quiet = [pid for pid in chunk if states[pid] == "never"]
        if quiet:
            ever = connection.execute(
                text(
                    "SELECT p.id FROM procedure p WHERE p.id IN :ids AND EXISTS"
                    " (SELECT 1 FROM impression_count i WHERE i.procedure_id = p.id)"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": quiet},
            )
            for (procedure_id,) in ever:
                states[procedure_id] = "stale"
    return states


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def coverage(
    connection: Connection, figures: list[ProcedureFigures], *, today: dt.date
) -> Coverage:
    medians = ministry_medians(connection)
    active = {f.id: f for f in figures}
    first_week = monday(today) - dt.timedelta(weeks=TREND_WEEKS - 1)
    seen = connection.execute(
        _sql(
            "SELECT DISTINCT i.procedure_id, i.day FROM impression_count i "
            "JOIN procedure_origin o ON o.procedure_id = i.procedure_id AND o.origin = i.origin "
            "WHERE i.event = 'view' AND i.day >= :start",
            "start",
        ),
        {"start": first_week},
    ).all()
    live_weeks: dict[dt.date, set[str]] = defaultdict(set)
    last_seen: dict[str, dt.date] = {}
    for procedure_id, raw_day in seen:
        day = _date(raw_day)
        if procedure_id in active:
            live_weeks[monday(day)].add(procedure_id)
            last_seen[procedure_id] = max(day, last_seen.get(procedure_id, day))
    trend = [
        WeekCoverage(
            week=week,
            live=len(live_weeks.get(week, ())),
            procedures=len(active),
        )
        for week in (first_week + dt.timedelta(weeks=i) for i in range(TREND_WEEKS))
    ]
    since = today - dt.timedelta(days=FUNNEL_DAYS - 1)
    unregistered = [
        UnregisteredOrigin(
            procedure_id=row[0],
            procedure_title=active[row[0]].title,
            origin=row[1],
            views=int(row[2]),
            last_seen=_date(row[3]),
        )
        for row in connection.execute(
            _sql(
                "SELECT i.procedure_id, i.origin, SUM(i.count), MAX(i.day) FROM impression_count i "
                "LEFT JOIN procedure_origin o "
                "ON o.procedure_id = i.procedure_id AND o.origin = i.origin "
                "WHERE o.origin IS NULL AND i.day >= :since "
                "GROUP BY i.procedure_id, i.origin ORDER BY SUM(i.count) DESC",
                "since",
            ),
            {"since": since},
        )
        if row[0] in active
    ]
    return Coverage(
        overall=group_figures("all", "", figures, medians.get(0)),
        ministries=by_ministry(figures, medians),
        trend=trend,
        not_live=[f for f in figures if not f.button_live],
        last_seen=last_seen,
        unregistered=unregistered,
        funnel=_funnel(connection, active, today=today, since=since),
    )


def _funnel(
    connection: Connection, active: dict[str, ProcedureFigures], *, today: dt.date, since: dt.date
) -> list[Funnel]:
    events: dict[str, dict[str, int]] = defaultdict(lambda: {"view": 0, "open": 0})
    for procedure_id, event, count in connection.execute(
        _sql(
            "SELECT procedure_id, event, SUM(count) FROM impression_count "
            "WHERE day >= :since GROUP BY procedure_id, event",
            "since",
        ),
        {"since": since},
    ):
        events[procedure_id][event] = int(count)
    year_start = today - dt.timedelta(days=364)
    submitted: dict[str, tuple[int, int, int]] = {}
    for procedure_id, received, masked, masked_year in connection.execute(
        _sql(
            "SELECT procedure_id, "
            "SUM(CASE WHEN day >= :since THEN received ELSE 0 END), "
            "SUM(CASE WHEN day >= :since THEN pii ELSE 0 END), SUM(pii) "
            "FROM procedure_day WHERE day >= :year GROUP BY procedure_id",
            "since",
            "year",
        ),
        {"since": since, "year": year_start},
    ):
        submitted[procedure_id] = (int(received), int(masked), int(masked_year))
    rows = []
    for procedure_id, figure in active.items():
        counts = events.get(procedure_id, {"view": 0, "open": 0})
        received, masked, masked_year = submitted.get(procedure_id, (0, 0, 0))
        rows.append(
            Funnel(
                procedure_id=procedure_id,
                title=figure.title,
                ministry=figure.ministry_name,
                views=counts["view"],
                opens=counts["open"],
                submissions=received,
                masked=masked,
                masked_year=masked_year,
            )
        )
    return sorted(rows, key=lambda r: (-r.views, -r.submissions, r.title.casefold()))
