"""The 12-month roll-ups of the summary: per procedure (`procedure_stats`) from its day rows,
and per ministry (`ministry_stats`, the merged delay histograms behind the median).

Called by `retour.stats.refresh` inside its locked transaction; SQL assembled from constants
only (hence the `noqa: S608` marks), every value bound.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Final

from sqlalchemy import Date, bindparam, text
from sqlalchemy.engine import Connection

from retour.histogram import (
    Histogram,
    histogram_from_json,
    histogram_to_json,
    median_of,
    merge_histograms,
)

WINDOW_DAYS: Final = 365  # "the last 12 months": today and the 364 days before
CHUNK: Final = 500


def window_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=WINDOW_DAYS - 1)


def recompute_procedures(
    connection: Connection, today: dt.date, procedures: set[str] | None
) -> None:
    """Rebuild `procedure_stats` for these procedures (None: all) from the day rows."""
    start = window_start(today)
    if procedures is None:
        connection.execute(text("DELETE FROM procedure_stats"))
        _insert_stats(connection, start, None)
        return
    for chunk in _chunks(sorted(procedures)):
        connection.execute(
            text("DELETE FROM procedure_stats WHERE procedure_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        )
        _insert_stats(connection, start, chunk)


def recompute_ministries(connection: Connection, procedures: set[str] | None) -> None:
    """Merge the histograms of the ministries of these procedures (None: all), and of all."""
    rows = connection.execute(
        text(
            "SELECT p.ministry_id, s.ack_histogram FROM procedure_stats s "
            "JOIN procedure p ON p.id = s.procedure_id WHERE p.active"
        )
    ).all()
    wanted: set[int] | None = None
    if procedures is not None:
        wanted = {ministry for ministry, _ in _ministries_of(connection, procedures)}
    per_ministry: dict[int, list[Histogram]] = {}
    for ministry_id, raw in rows:
        if wanted is None or ministry_id in wanted:
            per_ministry.setdefault(ministry_id, []).append(histogram_from_json(raw))
    merged = {m: merge_histograms(h) for m, h in per_ministry.items()}
    for ministry_id in wanted if wanted is not None else set(merged):
        _save_ministry(connection, ministry_id, merged.get(ministry_id, {}))
    # Every ministry together: merged from the stored per-ministry histograms (few rows).
    stored = connection.execute(
        text("SELECT ack_histogram FROM ministry_stats WHERE ministry_id <> 0")
    ).scalars()
    _save_ministry(connection, 0, merge_histograms(histogram_from_json(raw) for raw in stored))


def _ministries_of(connection: Connection, procedures: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for chunk in _chunks(sorted(procedures)):
        found += connection.execute(  # type: ignore[arg-type]
            text("SELECT ministry_id, id FROM procedure WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": chunk},
        ).all()
    return found


def _save_ministry(connection: Connection, ministry_id: int, histogram: Histogram) -> None:
    connection.execute(
        text("DELETE FROM ministry_stats WHERE ministry_id = :m"), {"m": ministry_id}
    )
    connection.execute(
        text(
            "INSERT INTO ministry_stats (ministry_id, median_ack_seconds, ack_histogram) "
            "VALUES (:m, :median, :h)"
        ),
        {"m": ministry_id, "median": median_of(histogram), "h": histogram_to_json(histogram)},
    )


def _insert_stats(connection: Connection, start: dt.date, ids: Sequence[str] | None) -> None:
    only = "WHERE procedure_id IN :ids" if ids is not None else ""
    in_window = "CASE WHEN day >= :start THEN {} ELSE 0 END"
    sums = ", ".join(
        f"SUM({in_window.format(column)})"
        for column in ("count", "good", "average", "bad", "processed", "acknowledged")
    )
    statement = text(
        f"""INSERT INTO procedure_stats (procedure_id, count, good, average, bad, processed,
                acknowledged, answers, median_ack_seconds, ack_histogram, window_start)
            SELECT procedure_id, {sums}, SUM(answers), NULL, '{{}}', :start
            FROM procedure_day {only} GROUP BY procedure_id"""  # noqa: S608
    )
    binds = [bindparam("start", type_=Date())]
    params: dict[str, Any] = {"start": start}
    if ids is not None:
        binds.append(bindparam("ids", expanding=True))
        params["ids"] = list(ids)
    connection.execute(statement.bindparams(*binds), params)

    rows = connection.execute(
        text(
            f"""SELECT procedure_id, bucket, SUM(count), SUM(total_seconds)
                FROM procedure_day_ack WHERE day >= :start
                {"AND procedure_id IN :ids" if ids is not None else ""}
                GROUP BY procedure_id, bucket"""  # noqa: S608
        ).bindparams(*binds),
        params,
    ).all()
    histograms: dict[str, Histogram] = {}
    for procedure_id, bucket, count, total in rows:
        histograms.setdefault(procedure_id, {})[int(bucket)] = (int(count), int(total))
    updates = [
        {"p": procedure_id, "m": median_of(histogram), "h": histogram_to_json(histogram)}
        for procedure_id, histogram in histograms.items()
    ]
    if updates:
        connection.execute(
            text(
                "UPDATE procedure_stats SET median_ack_seconds = :m, ack_histogram = :h "
                "WHERE procedure_id = :p"
            ),
            updates,
        )


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), CHUNK):
        yield list(items[i : i + CHUNK])
