"""Summary tables behind the public figures, kept up to date incrementally.

(SQL here is assembled from this module's own constants, never from input: hence the
`noqa: S608` marks; every value goes through bound parameters.)

Public pages never scan `feedback`: they read `procedure_stats` (one row per procedure, the
last 12 months) and `procedure_day` / `procedure_day_ack` (one procedure, one UTC day).
`refresh(engine)` maintains them:

- it finds the (procedure, day) groups touched since its watermarks: new submissions
  (`feedback.id` above the last one seen) and changed ones (`feedback.updated_at` since the
  last run, minus an overlap that covers transactions still in flight when it last ran);
- it recounts each touched group from `feedback` (a recount, never a +1/-1, so running twice
  is harmless) and then the 12-month figures of the procedures concerned;
- when the day changes the window moves, so every procedure's figures are recomputed.

Runs are serialised by a write lock on the state row (`SELECT … FOR UPDATE` on PostgreSQL,
`BEGIN IMMEDIATE` on SQLite), so any number of processes may call it.

The median time to acknowledge comes from a histogram of delays: each bucket keeps its count
and the sum of its exact delays, and the median reports the mean of the bucket that holds the
middle value. It is exact when that bucket holds one distinct delay and otherwise off by less
than the bucket's width: 1 minute under an hour, 5 minutes under a day, 1 hour under 30 days,
1 day beyond.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Date, bindparam, select, text, update
from sqlalchemy.engine import Connection, Engine

from retour.models import KINDS, StatsState, UTCDateTime, utcnow

log = logging.getLogger("retour.stats")

STATE_ROW: Final = 1
WINDOW_DAYS: Final = 365  # "the last 12 months": today and the 364 days before
# How far back changed rows are looked for again: longer than any write transaction lasts.
UPDATED_OVERLAP: Final = dt.timedelta(seconds=60)
# Beyond this many new rows since the last run (a bulk load), rebuild everything at once.
FULL_REBUILD_ROWS: Final = 20_000
CHUNK: Final = 500

# (upper bound of the delay in seconds, bucket width in seconds), in order.
ACK_BUCKETS: Final = ((3600, 60), (86400, 300), (30 * 86400, 3600), (None, 86400))

state_table = StatsState.__table__  # type: ignore[attr-defined]


def window_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=WINDOW_DAYS - 1)


# --- SQL that differs between SQLite and PostgreSQL -------------------------------------


def _day_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return "date(f.received_at)"
    return "CAST((f.received_at AT TIME ZONE 'UTC') AS DATE)"


def _delay_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return (
            "max(0, CAST(ROUND((julianday(f.acknowledged_at) - julianday(f.received_at))"
            " * 86400) AS INTEGER))"
        )
    return (
        "GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM (f.acknowledged_at - f.received_at)))"
        " AS BIGINT))"
    )


def _bucket_sql(delay: str) -> str:
    cases = [
        f"WHEN {delay} < {upper} THEN {delay} - {delay} % {width}"
        for upper, width in ACK_BUCKETS
        if upper is not None
    ]
    last_width = ACK_BUCKETS[-1][1]
    return f"CASE {' '.join(cases)} ELSE {delay} - {delay} % {last_width} END"


def _public(condition: str) -> str:
    return f"SUM(CASE WHEN f.status <> 'spam' AND {condition} THEN 1 ELSE 0 END)"


def _day_insert_sql(dialect: str, where: str) -> str:
    day = _day_sql(dialect)
    kinds = ", ".join(_public(f"f.kind = '{kind}'") for kind in KINDS)
    return f"""
        INSERT INTO procedure_day (procedure_id, day, received, count, good, average, bad,
            {", ".join(KINDS)}, processed, acknowledged, answers, pii)
        SELECT f.procedure_id, {day}, COUNT(*), {_public("1 = 1")},
            {_public("f.satisfaction = 3")}, {_public("f.satisfaction = 2")},
            {_public("f.satisfaction = 1")}, {kinds},
            {_public("f.status <> 'new'")}, {_public("f.acknowledged_at IS NOT NULL")},
            {_public("a.id IS NOT NULL")},
            SUM(CASE WHEN f.pii_categories <> '' THEN 1 ELSE 0 END)
        FROM feedback f LEFT JOIN public_answer a ON a.feedback_id = f.id
        WHERE NOT f.honeypot AND {where}
        GROUP BY f.procedure_id, {day}
    """  # noqa: S608


def _ack_insert_sql(dialect: str, where: str) -> str:
    day, delay = _day_sql(dialect), _delay_sql(dialect)
    return f"""
        INSERT INTO procedure_day_ack (procedure_id, day, bucket, count, total_seconds)
        SELECT procedure_id, d, {_bucket_sql("delay")}, COUNT(*), SUM(delay)
        FROM (SELECT f.procedure_id AS procedure_id, {day} AS d, {delay} AS delay
              FROM feedback f
              WHERE NOT f.honeypot AND f.status <> 'spam' AND f.acknowledged_at IS NOT NULL
                AND {where}) AS acked
        GROUP BY procedure_id, d, {_bucket_sql("delay")}
    """  # noqa: S608


# --- The median from a histogram --------------------------------------------------------

Histogram = dict[int, tuple[int, int]]  # bucket -> (count, total seconds)


def median_of(histogram: Histogram) -> float | None:
    """The median delay in seconds (see the module docstring for its precision)."""
    n = sum(count for count, _ in histogram.values())
    if n == 0:
        return None
    wanted = sorted({(n - 1) // 2, n // 2})
    values: list[float] = []
    seen = 0
    for bucket in sorted(histogram):
        count, total = histogram[bucket]
        while wanted and wanted[0] < seen + count:
            values.append(total / count)
            wanted.pop(0)
        seen += count
    if len(values) == 1:
        return values[0]
    return (values[0] + values[1]) / 2


def merge_histograms(histograms: Iterable[Histogram]) -> Histogram:
    merged: dict[int, tuple[int, int]] = {}
    for histogram in histograms:
        for bucket, (count, total) in histogram.items():
            before = merged.get(bucket, (0, 0))
            merged[bucket] = (before[0] + count, before[1] + total)
    return merged


def histogram_from_json(raw: str | None) -> Histogram:
    data: dict[str, list[int]] = json.loads(raw or "{}")
    return {int(bucket): (pair[0], pair[1]) for bucket, pair in data.items()}


def histogram_to_json(histogram: Histogram) -> str:
    return json.dumps({str(b): list(histogram[b]) for b in sorted(histogram)})


# --- The refresh ------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    groups: int
    procedures: int
    version: int


@contextmanager
def locked_state(engine: Engine, row: int) -> Iterator[tuple[Connection, Any]]:
    """One transaction holding the write lock on a state row (serialises every process)."""
    with engine.connect() as connection:
        connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            connection.execute(
                text(
                    "INSERT INTO stats_state (id, last_feedback_id, version) "
                    "VALUES (:id, 0, 0) ON CONFLICT (id) DO NOTHING"
                ),
                {"id": row},
            )
            state = connection.execute(
                select(state_table).where(state_table.c.id == row).with_for_update()
            ).one()
            yield connection, state


def refresh(engine: Engine, *, now: dt.datetime | None = None, full: bool = False) -> RefreshResult:
    """Bring the summary tables up to date; safe to call from several processes at once."""
    now = now or utcnow()
    today = now.date()
    with locked_state(engine, STATE_ROW) as (connection, state):
        dialect = connection.dialect.name
        max_id = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM feedback")).scalar_one()
        new_rows = connection.execute(
            text("SELECT COUNT(*) FROM feedback WHERE id > :last"),
            {"last": state.last_feedback_id},
        ).scalar_one()
        full = full or state.window_day is None or new_rows > FULL_REBUILD_ROWS
        if full:
            _rebuild_all(connection, dialect)
            groups: set[tuple[str, dt.date]] = set()
            procedures: set[str] | None = None
        else:
            since = (state.last_updated_at or now) - UPDATED_OVERLAP
            groups = _touched_groups(connection, dialect, state.last_feedback_id, since)
            for procedure_id, day in sorted(groups):
                _recount_group(connection, dialect, procedure_id, day)
            procedures = {procedure_id for procedure_id, _ in groups}
            if state.window_day != today:
                procedures = None  # the window moved: every procedure's figures change
        changed = full or bool(groups) or procedures is None
        if procedures is None or procedures:
            recompute_procedures(connection, today, procedures)
        version = state.version + (1 if changed else 0)
        connection.execute(
            update(state_table)
            .where(state_table.c.id == STATE_ROW)
            .values(
                last_feedback_id=max(max_id, state.last_feedback_id),
                last_updated_at=now,
                window_day=today,
                version=version,
                refreshed_at=now,
            )
        )
    count = len(procedures) if procedures is not None else -1
    return RefreshResult(full=full, groups=len(groups), procedures=count, version=version)


def _touched_groups(
    connection: Connection, dialect: str, last_id: int, since: dt.datetime
) -> set[tuple[str, dt.date]]:
    day = _day_sql(dialect)
    statement = text(
        f"SELECT f.procedure_id, {day} FROM feedback f WHERE f.id > :last "  # noqa: S608
        f"UNION SELECT f.procedure_id, {day} FROM feedback f WHERE f.updated_at >= :since"
    ).bindparams(bindparam("since", type_=UTCDateTime()))
    rows = connection.execute(statement, {"last": last_id, "since": since}).all()
    return {(procedure_id, _as_date(day_value)) for procedure_id, day_value in rows}


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


_DELETE_GROUP: Final = {
    table: f"DELETE FROM {table} WHERE procedure_id = :p AND day = :day"  # noqa: S608
    for table in ("procedure_day", "procedure_day_ack")
}


def _recount_group(connection: Connection, dialect: str, procedure_id: str, day: dt.date) -> None:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    params = {"p": procedure_id, "day": day, "lo": start, "hi": start + dt.timedelta(days=1)}
    where = "f.procedure_id = :p AND f.received_at >= :lo AND f.received_at < :hi"
    types = (
        bindparam("lo", type_=UTCDateTime()),
        bindparam("hi", type_=UTCDateTime()),
    )
    day_param = bindparam("day", type_=Date())
    for table in ("procedure_day", "procedure_day_ack"):
        connection.execute(
            text(_DELETE_GROUP[table]).bindparams(day_param),
            {"p": procedure_id, "day": day},
        )
    connection.execute(text(_day_insert_sql(dialect, where)).bindparams(*types), params)
    connection.execute(text(_ack_insert_sql(dialect, where)).bindparams(*types), params)


def _rebuild_all(connection: Connection, dialect: str) -> None:
    for table in ("procedure_day", "procedure_day_ack"):
        connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    connection.execute(text(_day_insert_sql(dialect, "1 = 1")))
    connection.execute(text(_ack_insert_sql(dialect, "1 = 1")))


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


def current_version(connection: Connection) -> int:
    """The summary's version: changes whenever a refresh changed figures."""
    value = connection.execute(
        select(state_table.c.version).where(state_table.c.id == STATE_ROW)
    ).scalar()
    return int(value or 0)
