"""Weekly volume and satisfaction as accessible SVG charts, each with a data table.

Reusable by any page (the inbox, a procedure's console page, the public procedure page):

    points = weekly_points(session, ministry_ids=[3], procedure_id="demarche-1", weeks=26)
    volume = volume_svg(points, title="Retours par semaine", desc=describe_volume(points, _),
                        id_prefix="vol")
    satisfaction = satisfaction_svg(points, title="Satisfaction", desc=..., id_prefix="sat")

then `{% from "_chart.html" import chart %}{{ chart(volume, points, caption, _) }}` renders the
figure and its table. `weekly_points(..., ministry_ids=None)` covers every ministry. Honeypot
and spam are left out; weeks start on Monday (UTC days, as in the daily summary).

The SVGs carry `role="img"`, a `<title>` and a `<desc>` (aria-labelledby), and no `style`
attribute: the console's CSP forbids inline styles, so colours are presentation attributes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape
from sqlalchemy import func
from sqlmodel import Session, col, select

from retour.models import Procedure, ProcedureDay

WIDTH: Final = 640
HEIGHT: Final = 240
LEFT: Final = 60  # room for the y-axis labels (up to "10 000", larger on small screens)
BOTTOM: Final = 28  # room for the x-axis labels
TOP: Final = 12
BLUE: Final = "#000091"  # DSFR blue-france-sun-113
GRID: Final = "#929292"
TEXT: Final = "#3a3a3a"


@dataclass(frozen=True)
class WeekPoint:
    week: dt.date  # the Monday that starts the week
    bad: int = 0
    average: int = 0
    good: int = 0

    @property
    def count(self) -> int:
        return self.bad + self.average + self.good

    @property
    def score(self) -> float | None:
        """Out of 10, as on the open dashboard: (10 × good + 5 × average) / count."""
        if not self.count:
            return None
        return round((10 * self.good + 5 * self.average) / self.count, 1)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_points(
    session: Session,
    *,
    ministry_ids: Sequence[int] | None,
    procedure_id: str | None = None,
    weeks: int = 26,
    today: dt.date | None = None,
) -> list[WeekPoint]:
    """One point per week for the last `weeks` weeks (the current one included), oldest first.

    Read from the daily summary `procedure_day` (kept by `retour.stats.refresh`; pages call
    `refresh_if_stale` first), never from `feedback`: a ministry's half-year is a few
    thousand summary rows instead of tens of thousands of submissions.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    first = monday(today) - dt.timedelta(weeks=weeks - 1)
    day = col(ProcedureDay.day)
    statement = (
        select(
            day,
            func.sum(ProcedureDay.bad),
            func.sum(ProcedureDay.average),
            func.sum(ProcedureDay.good),
        )
        .where(day >= first)
        .group_by(day)
    )
    if procedure_id:
        statement = statement.where(ProcedureDay.procedure_id == procedure_id)
    if ministry_ids is not None:
        statement = statement.join(
            Procedure, col(Procedure.id) == col(ProcedureDay.procedure_id)
        ).where(col(Procedure.ministry_id).in_(list(ministry_ids)))
    buckets = {first + dt.timedelta(weeks=i): [0, 0, 0] for i in range(weeks)}
    for when, bad, average, good in session.exec(statement).all():
        bucket = buckets.get(monday(when))
        if bucket is not None:
            bucket[0] += int(bad or 0)
            bucket[1] += int(average or 0)
            bucket[2] += int(good or 0)
    return [WeekPoint(week, *counts) for week, counts in sorted(buckets.items())]


# --- Drawing -------------------------------------------------------------------------------


def _frame(title: str, desc: str, id_prefix: str) -> tuple[str, str]:
    id_prefix = str(escape(id_prefix))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
        f'class="retour-chart" focusable="false">'
        f'<title id="{id_prefix}-title">{escape(title)}</title>'
        f'<desc id="{id_prefix}-desc">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def _y_axis(ticks: Sequence[float], fmt: Callable[[float], str]) -> tuple[list[str], float]:
    """Horizontal grid lines with their labels; returns the parts and pixels per unit."""
    plot_height = HEIGHT - TOP - BOTTOM
    maximum = ticks[-1]
    scale = plot_height / maximum if maximum else 0.0
    parts = []
    for i, value in enumerate(ticks):
        y = HEIGHT - BOTTOM - value * scale
        dash = "" if i == 0 else ' stroke-dasharray="3 3"'
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 4}" y2="{y:.1f}" stroke="{GRID}" '
            f'stroke-width="0.5"{dash}/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{escape(fmt(value))}</text>'
        )
    return parts, scale


def _x_labels(points: Sequence[WeekPoint], slot: float) -> list[str]:
    # About six dates along the axis, so labels never overlap.
    every = max(1, len(points) // 6)
    parts = []
    for i, point in enumerate(points):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" '
            f'fill="{TEXT}">{point.week.strftime("%d/%m")}</text>'
        )
    return parts


def nice_ticks(value: int, *, at_most: int = 5) -> list[int]:
    """Round tick values from 0 to at least `value`: a step of 1, 2 or 5 × 10^n, and at most
    `at_most` steps (47 → 0, 10, 20, 30, 40, 50; never 12.5, 25, 37.5)."""
    value = max(value, 4)  # an empty chart still gets a readable 0-4 scale
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            if step * at_most >= value:
                top = -(-value // step) * step  # the first multiple of `step` at or above
                return list(range(0, top + 1, step))
        magnitude *= 10


def volume_svg(points: Sequence[WeekPoint], *, title: str, desc: str, id_prefix: str) -> Markup:
    """Bars: submissions per week."""
    head, tail = _frame(title, desc, id_prefix)
    ticks = nice_ticks(max((p.count for p in points), default=0))
    parts, scale = _y_axis(ticks, lambda v: f"{v:,.0f}".replace(",", "\u202f"))
    slot = (WIDTH - LEFT - 4) / max(1, len(points))
    for i, point in enumerate(points):
        height = point.count * scale
        x = LEFT + slot * i + slot * 0.15
        y = HEIGHT - BOTTOM - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'fill="{BLUE}"/>'
        )
    parts.extend(_x_labels(points, slot))
    # Every text in `parts` went through escape(); the rest is numbers we formatted.
    return Markup(head + "".join(parts) + tail)  # noqa: S704


def satisfaction_svg(
    points: Sequence[WeekPoint], *, title: str, desc: str, id_prefix: str
) -> Markup:
    """A line of the weekly score out of 10; weeks without submissions break the line."""
    head, tail = _frame(title, desc, id_prefix)
    parts, scale = _y_axis([0, 2, 4, 6, 8, 10], lambda v: f"{v:.0f}")
    slot = (WIDTH - LEFT - 4) / max(1, len(points))
    run: list[str] = []
    runs: list[list[str]] = [run]
    for i, point in enumerate(points):
        if point.score is None:
            run = []
            runs.append(run)
            continue
        x = LEFT + slot * (i + 0.5)
        y = HEIGHT - BOTTOM - point.score * scale
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{BLUE}"/>')
    for line in runs:
        if len(line) > 1:
            parts.append(
                f'<polyline points="{" ".join(line)}" fill="none" stroke="{BLUE}" '
                f'stroke-width="2"/>'
            )
    parts.extend(_x_labels(points, slot))
    # Every text in `parts` went through escape(); the rest is numbers we formatted.
    return Markup(head + "".join(parts) + tail)  # noqa: S704


# --- Text alternatives -----------------------------------------------------------------------


def describe_volume(points: Sequence[WeekPoint], _: Callable[..., str]) -> str:
    total = sum(p.count for p in points)
    if not points or not total:
        return _("Aucun retour sur la période.")
    busiest = max(points, key=lambda p: p.count)
    return _(
        "{total} retours en {weeks} semaines, du {start} au {end} ; "
        "semaine la plus chargée : celle du {busiest} ({count} retours).",
        total=total,
        weeks=len(points),
        start=points[0].week.strftime("%d/%m/%Y"),
        end=(points[-1].week + dt.timedelta(days=6)).strftime("%d/%m/%Y"),
        busiest=busiest.week.strftime("%d/%m/%Y"),
        count=busiest.count,
    )


def describe_satisfaction(points: Sequence[WeekPoint], _: Callable[..., str]) -> str:
    scored = [p for p in points if p.score is not None]
    if not scored:
        return _("Aucune note sur la période.")
    return _(
        "Note de satisfaction sur 10 par semaine : {first} la semaine du {start}, "
        "{last} la semaine du {end} ; minimum {low}, maximum {high}.",
        first=scored[0].score,
        start=scored[0].week.strftime("%d/%m/%Y"),
        last=scored[-1].score,
        end=scored[-1].week.strftime("%d/%m/%Y"),
        low=min(p.score for p in scored if p.score is not None),
        high=max(p.score for p in scored if p.score is not None),
    )
