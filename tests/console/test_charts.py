"""Weekly points from the database, and the SVG charts' accessibility contract."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from sqlmodel import Session

from console.charts import (
    WeekPoint,
    describe_satisfaction,
    describe_volume,
    nice_ticks,
    satisfaction_svg,
    volume_svg,
    weekly_points,
)
from console.public_trends import rolling_points
from retour import stats
from tests.factories import make_feedback, make_procedure

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2026, 5, 13)  # a Wednesday


def french(text: str, **values: object) -> str:
    return text.format(**values)


def test_weekly_points_count_per_week_and_score(session: Session, engine) -> None:
    procedure = make_procedure(session)
    other = make_procedure(session, ministry_id=procedure.ministry_id)
    at = lambda day, hour=12: dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)  # noqa: E731
    monday = dt.date(2026, 5, 11)
    make_feedback(session, procedure=procedure, satisfaction=3, received_at=at(monday, 0))
    make_feedback(session, procedure=procedure, satisfaction=2, received_at=at(TODAY))
    make_feedback(
        session,
        procedure=procedure,
        satisfaction=1,
        received_at=at(monday - dt.timedelta(days=1), 23),
    )  # Sunday: previous week
    make_feedback(session, procedure=other, satisfaction=3, received_at=at(TODAY))
    for hidden in ({"honeypot": True}, {"status": "spam"}):
        make_feedback(session, procedure=procedure, satisfaction=3, received_at=at(TODAY), **hidden)
    make_feedback(
        session,
        procedure=procedure,
        satisfaction=3,
        received_at=at(monday - dt.timedelta(weeks=30)),
    )  # before the window
    stats.refresh(engine, now=at(TODAY, 23))  # the daily summary the charts read
    session.rollback()  # a fresh snapshot, after the refresh
    points = weekly_points(
        session,
        ministry_ids=[procedure.ministry_id],
        procedure_id=procedure.id,
        weeks=4,
        today=TODAY,
    )
    assert [p.week for p in points] == [monday - dt.timedelta(weeks=n) for n in (3, 2, 1, 0)]
    assert [(p.good, p.average, p.bad) for p in points] == [
        (0, 0, 0),
        (0, 0, 0),
        (0, 0, 1),
        (1, 1, 0),
    ]
    assert points[-1].score == 7.5 and points[0].score is None
    whole = weekly_points(session, ministry_ids=None, weeks=4, today=TODAY)
    assert whole[-1].count == 3


def test_svgs_are_accessible_images_without_inline_style() -> None:
    points = [
        WeekPoint(dt.date(2026, 1, 5) + dt.timedelta(weeks=i), bad=i % 2, good=i) for i in range(10)
    ]
    points[4] = WeekPoint(points[4].week)  # an empty week breaks the satisfaction line
    for svg, prefix in (
        (volume_svg(points, title="Retours <par> semaine", desc="d & e", id_prefix="v"), "v"),
        (satisfaction_svg(points, title="Satisfaction", desc="desc", id_prefix="s"), "s"),
    ):
        root = ET.fromstring(str(svg))  # well-formed XML, so escaping held
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{prefix}-title {prefix}-desc"
        assert root.find(f"{SVG}title").get("id") == f"{prefix}-title"
        assert root.find(f"{SVG}desc").get("id") == f"{prefix}-desc"
        assert all("style" not in element.attrib for element in root.iter())
        # Scales with its column (the viewBox keeps the proportions).
        assert root.get("width") == "100%" and root.get("viewBox") == "0 0 640 240"
    volume = ET.fromstring(str(volume_svg(points, title="t", desc="d", id_prefix="v")))
    assert len(volume.findall(f"{SVG}rect")) == 10
    satisfaction = ET.fromstring(str(satisfaction_svg(points, title="t", desc="d", id_prefix="s")))
    assert len(satisfaction.findall(f"{SVG}polyline")) == 2
    assert len(satisfaction.findall(f"{SVG}circle")) == 8  # weeks 0 and 4 are empty


def test_text_alternatives() -> None:
    points = [WeekPoint(dt.date(2026, 1, 5), good=2), WeekPoint(dt.date(2026, 1, 12), bad=1)]
    assert describe_volume(points, french).startswith("3 retours en 2 semaines, du 05/01/2026")
    assert "10.0 la semaine du 05/01/2026" in describe_satisfaction(points, french)
    empty = [WeekPoint(dt.date(2026, 1, 5))]
    assert describe_volume(empty, french) == "Aucun retour sur la période."
    assert describe_satisfaction(empty, french) == "Aucune note sur la période."


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (0, [0, 1, 2, 3, 4]),
        (7, [0, 2, 4, 6, 8]),
        (47, [0, 10, 20, 30, 40, 50]),
        (50, [0, 10, 20, 30, 40, 50]),
        (51, [0, 20, 40, 60]),
        (238, [0, 50, 100, 150, 200, 250]),
        (9999, [0, 2000, 4000, 6000, 8000, 10000]),
    ],
)
def test_y_ticks_are_round_numbers(highest, ticks) -> None:
    assert nice_ticks(highest) == ticks


def test_volume_axis_labels_are_round() -> None:
    points = [WeekPoint(dt.date(2026, 1, 5) + dt.timedelta(weeks=i), good=i * 5) for i in range(11)]
    root = ET.fromstring(str(volume_svg(points, title="t", desc="d", id_prefix="v")))
    labels = [t.text for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert labels == ["0", "10", "20", "30", "40", "50"]


def test_rolling_points_sum_thirteen_weeks_and_hide_thin_windows() -> None:
    start = dt.date(2026, 1, 5)
    weeks = [
        WeekPoint(start + dt.timedelta(weeks=i), bad=1, good=1 if i % 2 else 0) for i in range(20)
    ]
    rolling = rolling_points(weeks, weeks=13, min_count=10)
    # Week 0 holds one rating: too few; week 12 holds 13 bad and 6 good.
    assert rolling[0].score is None
    assert (rolling[12].bad, rolling[12].good) == (13, 6)
    # Later windows drop their oldest week: still 13 weeks summed.
    assert rolling[19].bad == 13 and rolling[19].good == 7
    assert [p.week for p in rolling] == [p.week for p in weeks]
