"""Satisfaction over time on a procedure's public page: a rolling 3-month (13-week) score.

One week holds too few ratings for most procedures to say anything; each point here sums the
13 weeks that end with it, so that a small procedure has a figure too. A point is drawn only
when its window holds `ROLLING_MIN_COUNT` ratings or more (a gap in the line otherwise), so a
handful of ratings never reads as a trend. The chart reuses `console.charts` and, like every
chart, comes with its data table (the window's counts) and a text summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from console.charts import WeekPoint

ROLLING_WEEKS: Final = 13
ROLLING_MIN_COUNT: Final = 10


def rolling_points(
    points: Sequence[WeekPoint], *, weeks: int = ROLLING_WEEKS, min_count: int = ROLLING_MIN_COUNT
) -> list[WeekPoint]:
    """Each week with the sums of the `weeks` weeks ending with it (empty below `min_count`)."""
    out: list[WeekPoint] = []
    bad = average = good = 0
    for i, point in enumerate(points):
        bad, average, good = bad + point.bad, average + point.average, good + point.good
        if i >= weeks:
            gone = points[i - weeks]
            bad, average, good = bad - gone.bad, average - gone.average, good - gone.good
        if bad + average + good >= min_count:
            out.append(WeekPoint(point.week, bad=bad, average=average, good=good))
        else:
            out.append(WeekPoint(point.week))
    return out


def describe_rolling(points: Sequence[WeekPoint], _: Callable[..., str]) -> str:
    scored = [p for p in points if p.score is not None]
    if not scored:
        return _(
            "Pas encore assez d’avis pour une note : il en faut {n} sur trois mois.",
            n=ROLLING_MIN_COUNT,
        )
    scores = [p.score for p in scored if p.score is not None]
    return _(
        "Note de satisfaction sur 10, sur les trois mois précédant chaque semaine : {first} "
        "la semaine du {start}, {last} la semaine du {end} ; minimum {low}, maximum {high}.",
        first=scores[0],
        start=scored[0].week.strftime("%d/%m/%Y"),
        last=scores[-1],
        end=scored[-1].week.strftime("%d/%m/%Y"),
        low=min(scores),
        high=max(scores),
    )
