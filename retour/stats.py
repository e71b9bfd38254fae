"""Summary tables behind the public figures, kept up to date incrementally.

(SQL is assembled from constants, never from input: hence the `noqa: S608` marks; every
value goes through bound parameters. The statements themselves live in `retour.stats_sql`.)

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
import logging
import math
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Date, bindparam, select, text, update
from sqlalchemy.engine import Connection, Engine

from retour.models import StatsState, UTCDateTime, utcnow
from retour.stats_rollup import (
    recompute_ministries,
    recompute_procedures,
)
from retour.stats_sql import ack_insert_sql, day_insert_sql, day_sql

log = logging.getLogger("retour.stats")

STATE_ROW: Final = 1
# How far back changed rows are looked for again: longer than any write transaction lasts.
UPDATED_OVERLAP: Final = dt.timedelta(seconds=15)
# Beyond this many new rows since the last run (a bulk load), rebuild everything at once.
FULL_REBUILD_ROWS: Final = 20_000
# With nothing changed, the watermark is still moved on this often (keeps scans short).
IDLE_WRITE_EVERY: Final = dt.timedelta(minutes=10)


state_table = StatsState.__table__  # type: ignore[attr-defined]


# --- The refresh ------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    full: bool
    groups: int
    procedures: int
    version: int


@contextmanager
def locked_state(
    engine: Engine, row: int, *, discard: bool = False
) -> Iterator[tuple[Connection, Any]]:
    """One transaction holding the write lock on a state row (serialises every process).

    `discard` closes the database connection afterwards instead of returning it to the pool:
    for background threads that may outlive the engine's owner (the pool may be disposed).
    """
    with connect(engine, discard=discard) as connection:
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


@contextmanager
def connect(engine: Engine, *, discard: bool = False) -> Iterator[Connection]:
    """A connection; with `discard`, closed afterwards (even on error) rather than pooled."""
    connection = engine.connect()
    try:
        yield connection
    finally:
        if discard:
            connection.invalidate()
        connection.close()


def refresh(
    engine: Engine,
    *,
    now: dt.datetime | None = None,
    full: bool = False,
    discard: bool = False,
) -> RefreshResult:
    """Bring the summary tables up to date; safe to call from several processes at once."""
    now = now or utcnow()
    today = now.date()
    with locked_state(engine, STATE_ROW, discard=discard) as (connection, state):
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
            by_procedure: dict[str, list[dt.date]] = {}
            for procedure_id, day in groups:
                by_procedure.setdefault(procedure_id, []).append(day)
            for procedure_id, days in sorted(by_procedure.items()):
                _recount_days(connection, dialect, procedure_id, days)
            procedures = {procedure_id for procedure_id, _ in groups}
            if state.window_day != today:
                procedures = None  # the window moved: every procedure's figures change
        changed = full or bool(groups) or procedures is None
        if procedures is None or procedures:
            recompute_procedures(connection, today, procedures)
            recompute_ministries(connection, procedures)
        version = state.version + (1 if changed else 0)
        last_write = state.last_updated_at
        if not changed and last_write is not None and now - last_write < IDLE_WRITE_EVERY:
            # Nothing to record: skip the write (and its fsync) that would only move the
            # watermark; the next scan's window stays short all the same.
            return RefreshResult(full=False, groups=0, procedures=0, version=version)
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
    day = day_sql(dialect)
    statement = text(
        f"SELECT f.procedure_id, {day} FROM feedback f WHERE f.id > :last "  # noqa: S608
        f"UNION SELECT f.procedure_id, {day} FROM feedback f WHERE f.updated_at >= :since"
    ).bindparams(bindparam("since", type_=UTCDateTime()))
    rows = connection.execute(statement, {"last": last_id, "since": since}).all()
    return {(procedure_id, _as_date(day_value)) for procedure_id, day_value in rows}


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


_DELETE_DAYS: Final = {
    table: f"DELETE FROM {table} WHERE procedure_id = :p AND day IN :days"  # noqa: S608
    for table in ("procedure_day", "procedure_day_ack")
}
DAYS_PER_STATEMENT: Final = 200
# Touched days this close together are recounted by one statement over the range between them.
RUN_GAP: Final = dt.timedelta(days=3)


def _runs(days: list[dt.date]) -> Iterator[list[dt.date]]:
    run: list[dt.date] = []
    for day in days:
        if run and (day - run[-1] > RUN_GAP or len(run) >= DAYS_PER_STATEMENT):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def _recount_days(
    connection: Connection, dialect: str, procedure_id: str, days: Sequence[dt.date]
) -> None:
    """Recount one procedure's day groups, one statement per run of nearby days: the index
    range stays short (a procedure's whole history is not scanned for two distant days)."""
    for chunk in _runs(sorted(days)):
        low = dt.datetime.combine(chunk[0], dt.time(), tzinfo=dt.UTC)
        high = dt.datetime.combine(chunk[-1], dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
        params = {"p": procedure_id, "days": chunk, "lo": low, "hi": high}
        binds = (
            bindparam("lo", type_=UTCDateTime()),
            bindparam("hi", type_=UTCDateTime()),
            bindparam("days", type_=Date(), expanding=True),
        )
        # The index range on (procedure_id, received_at) first, then only the days asked.
        where = (
            "f.procedure_id = :p AND f.received_at >= :lo AND f.received_at < :hi "
            f"AND {day_sql(dialect)} IN :days"
        )
        for table in ("procedure_day", "procedure_day_ack"):
            connection.execute(text(_DELETE_DAYS[table]).bindparams(binds[2]), params)
        connection.execute(text(day_insert_sql(dialect, where)).bindparams(*binds), params)
        connection.execute(text(ack_insert_sql(dialect, where)).bindparams(*binds), params)


def _rebuild_all(connection: Connection, dialect: str) -> None:
    for table in ("procedure_day", "procedure_day_ack"):
        connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    connection.execute(text(day_insert_sql(dialect, "1 = 1")))
    connection.execute(text(ack_insert_sql(dialect, "1 = 1")))


def current_version(connection: Connection) -> int:
    """The summary's version: changes whenever a refresh changed figures."""
    value = connection.execute(
        select(state_table.c.version).where(state_table.c.id == STATE_ROW)
    ).scalar()
    return int(value or 0)


def summary_stamp(connection: Connection) -> str:
    """Like `current_version`, with the time of the refresh that wrote it: a counter alone
    could repeat if the state row were recreated (emptied tables, a restored backup)."""
    row = connection.execute(
        select(state_table.c.version, state_table.c.refreshed_at).where(
            state_table.c.id == STATE_ROW
        )
    ).first()
    if row is None:
        return "0"
    stamp = row.refreshed_at.isoformat() if row.refreshed_at else ""
    return f"{row.version}@{stamp}"


# --- Refreshing on demand -----------------------------------------------------------------

REFRESH_EVERY: Final = 5.0  # seconds: how stale the figures a page shows may be


class _Throttle:
    """Per engine and process: when the freshness was last checked, and whether a refresh runs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = False
        self.checked = -math.inf


_throttles: weakref.WeakKeyDictionary[Engine, _Throttle] = weakref.WeakKeyDictionary()
_throttles_lock = threading.Lock()


def refresh_if_stale(
    engine: Engine, *, every: float = REFRESH_EVERY, discard: bool = False
) -> bool:
    """Refresh now if this process has not checked for `every` seconds and nobody refreshed.

    Public pages call it (in a worker thread) before reading: most requests return at once
    (checked recently, or another request of this process is refreshing — they serve the
    figures as they are); about one request every `every` seconds per process pays an
    incremental refresh, usually a few milliseconds. True if it refreshed.
    """
    with _throttles_lock:
        throttle = _throttles.setdefault(engine, _Throttle())
    with throttle.lock:
        now = time.monotonic()
        if throttle.running or now - throttle.checked < every:
            return False
        throttle.running, throttle.checked = True, now
    try:
        with connect(engine, discard=discard) as connection:
            last = connection.execute(
                select(state_table.c.refreshed_at).where(state_table.c.id == STATE_ROW)
            ).scalar()
        if last is not None and (utcnow() - last).total_seconds() < every:
            return False  # another process just did it
        refresh(engine, discard=discard)
        return True
    finally:
        with throttle.lock:
            throttle.running = False


def refresh_soon(engine: Engine, *, every: float = REFRESH_EVERY) -> None:
    """`refresh_if_stale` in a background thread, for callers that must not wait (the inbox).

    Throttled like it (at most one check per `every` seconds per process). The thread uses a
    connection of its own that it closes, so it never hands one back to a disposed pool.
    """
    with _throttles_lock:
        throttle = _throttles.setdefault(engine, _Throttle())
    with throttle.lock:
        if throttle.running or time.monotonic() - throttle.checked < every:
            return

    def run() -> None:
        try:
            refresh_if_stale(engine, every=every, discard=True)
        except Exception:  # logged; a later request tries again
            log.exception("background summary refresh failed")

    threading.Thread(target=run, name="retour-stats-refresh", daemon=True).start()


def fresh_connection(session: Any) -> Connection:
    """The session's connection, after `refresh_if_stale` on its engine: what a page reads
    from, in the same worker thread (one hop off the event loop, not two)."""
    refresh_if_stale(session.get_bind())
    connection: Connection = session.connection()
    return connection
