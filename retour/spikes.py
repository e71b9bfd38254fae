"""Spikes become incidents: malfunction reports (or « Mal » ratings) on a procedure rising well
above their usual rate, detected every minute and emailed once to the ministry's staff.

The rule (docs/console.md says the same): for each procedure and each signal, `observed` is
the count of the last 60 minutes (spam and honeypot excluded) and `expected` the mean count
of the same 60 minutes of the day over each of the previous 28 days, floored at
`MIN_EXPECTED` (a procedure that is usually silent is not alarmed by two reports). The
procedure is in incident when `observed >= MIN_REPORTS` and the Poisson probability of seeing
at least `observed` reports at rate `expected` is below `ALPHA` (scipy's `poisson.sf`). The
incident ends after `QUIET` without the rule firing.

One query reads the last hour (index on received_at); only procedures with `MIN_REPORTS` or
more then read their own 28 days (index on procedure_id, received_at).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final

from scipy.stats import poisson
from sqlalchemy import bindparam, text, update
from sqlalchemy.engine import Connection, Engine

from retour.models import Incident, UTCDateTime, utcnow
from retour.similar_text import terms
from retour.stats import locked_state

SPIKE_ROW: Final = 3  # its row in stats_state (1: summary refresh, 2: alert dispatcher)
WINDOW: Final = dt.timedelta(hours=1)
BASELINE_DAYS: Final = 28
MIN_REPORTS: Final = 10
MIN_EXPECTED: Final = 0.5
ALPHA: Final = 0.001
QUIET: Final = dt.timedelta(hours=1)
# A word is quoted in the alert only when this many of the reports use it: never one
# citizen's words, only what many said.
WORD_MIN_REPORTS: Final = 3
WORDS_SHOWN: Final = 5

incident_t = Incident.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Spike:
    procedure_id: str
    ministry_id: int
    signal: str
    observed: int
    expected: float
    p_value: float
    words: list[str]


def _when(name: str, value: dt.datetime) -> Any:
    return bindparam(name, value, type_=UTCDateTime())


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _signals(kind: str | None, satisfaction: int) -> list[str]:
    found = ["malfunction"] if kind == "malfunction" else []
    return [*found, "bad"] if satisfaction == 1 else found


def is_spike(observed: int, expected: float) -> tuple[bool, float]:
    """The rule itself: (fires, Poisson probability of at least `observed`)."""
    rate = max(expected, MIN_EXPECTED)
    p_value = float(poisson.sf(observed - 1, rate))
    return observed >= MIN_REPORTS and p_value < ALPHA, p_value


def common_words(comments: list[str]) -> list[str]:
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    for comment in comments:
        found = terms(comment)
        counts.update(found.keys())
        for term, word in found.items():
            written.setdefault(term, word)
    ranked = [t for t, n in counts.most_common() if n >= WORD_MIN_REPORTS]
    ranked.sort(key=lambda t: (-counts[t], -len(t.split())))
    kept: list[str] = []
    for term in ranked:
        if not any(term in other.split() or other in term.split() for other in kept):
            kept.append(term)
    return [written[t] for t in kept[:WORDS_SHOWN]]


def detect(connection: Connection, now: dt.datetime) -> list[Spike]:
    """Every (procedure, signal) whose last hour is a spike by the rule above."""
    recent = connection.execute(
        text(
            "SELECT procedure_id, ministry_id, kind, satisfaction, comment FROM feedback "
            "WHERE received_at >= :since AND received_at < :now AND NOT honeypot "
            "AND status <> 'spam'"
        ).bindparams(_when("since", now - WINDOW), _when("now", now))
    ).all()
    current: dict[tuple[str, str], list[Any]] = {}
    for row in recent:
        for signal in _signals(row.kind, row.satisfaction):
            current.setdefault((row.procedure_id, signal), []).append(row)
    spikes = []
    for (procedure_id, signal), rows in sorted(current.items()):
        if len(rows) < MIN_REPORTS:
            continue
        expected = _baseline(connection, procedure_id, signal, now)
        fires, p_value = is_spike(len(rows), expected)
        if fires:
            words = common_words([r.comment for r in rows if r.comment])
            spikes.append(
                Spike(
                    procedure_id, rows[0].ministry_id, signal, len(rows), expected, p_value, words
                )
            )
    return spikes


def _baseline(connection: Connection, procedure_id: str, signal: str, now: dt.datetime) -> float:
    """Mean count of the same hour of the day over the previous 28 days."""
    start = now - dt.timedelta(days=BASELINE_DAYS) - WINDOW
    rows = connection.execute(
        text(
            "SELECT received_at, kind, satisfaction FROM feedback WHERE procedure_id = :p "
            "AND received_at >= :start AND received_at < :end AND NOT honeypot "
            "AND status <> 'spam'"
        ).bindparams(_when("start", start), _when("end", now - dt.timedelta(days=1))),
        {"p": procedure_id},
    ).all()
    day, window = 86400, WINDOW.total_seconds()
    total = 0
    for row in rows:
        if signal not in _signals(row.kind, row.satisfaction):
            continue
        delta = (now - _utc(row.received_at)).total_seconds()
        days, offset = divmod(delta, day)
        if 1 <= days <= BASELINE_DAYS and offset < window:
            total += 1
    return total / BASELINE_DAYS


def record(engine: Engine, *, now: dt.datetime | None = None) -> list[int]:
    """Detect, open or extend incidents, end quiet ones; return the ids not alerted yet."""
    now = now or utcnow()
    with engine.connect() as connection:
        spikes = detect(connection, now)
        ongoing = connection.execute(
            text("SELECT 1 FROM incident WHERE ended_at IS NULL LIMIT 1")
        ).first()
    if not spikes and ongoing is None:
        return []  # the usual minute: nothing written at all
    # Under the lock of its own state row: two processes never open the same incident twice.
    with locked_state(engine, SPIKE_ROW) as (connection, _state):
        open_rows = {
            (row.procedure_id, row.signal): row
            for row in connection.execute(
                incident_t.select().where(incident_t.c.ended_at.is_(None))
            ).all()
        }
        for spike in spikes:
            values = {
                "observed": spike.observed,
                "expected": spike.expected,
                "p_value": spike.p_value,
                "words": json.dumps(spike.words, ensure_ascii=False),
                "last_seen_at": now,
            }
            existing = open_rows.pop((spike.procedure_id, spike.signal), None)
            if existing is not None:
                connection.execute(
                    update(incident_t).where(incident_t.c.id == existing.id).values(**values)
                )
            else:
                connection.execute(
                    incident_t.insert().values(
                        procedure_id=spike.procedure_id,
                        ministry_id=spike.ministry_id,
                        signal=spike.signal,
                        started_at=now,
                        **values,
                    )
                )
        for row in open_rows.values():
            if now - _utc(row.last_seen_at) >= QUIET:
                connection.execute(
                    update(incident_t).where(incident_t.c.id == row.id).values(ended_at=now)
                )
        pending = connection.execute(
            text("SELECT id FROM incident WHERE alerted_at IS NULL AND ended_at IS NULL")
        ).scalars()
        return [int(i) for i in pending]


def claim(engine: Engine, incident_id: int, now: dt.datetime) -> bool:
    """True for exactly one process: the one that will send this incident's alert."""
    with engine.begin() as connection:
        result = connection.execute(
            update(incident_t)
            .where(incident_t.c.id == incident_id, incident_t.c.alerted_at.is_(None))
            .values(alerted_at=now)
        )
        return bool(result.rowcount)
