"""Page-load performance as citizens experienced it (issue 18): the loader sends Navigation
Timing's load time (`loadEventEnd`, in ms) with its `view` beacon; the ingest counts it in a
histogram bucket per procedure and UTC day (`page_load_day`), with the impressions, never per
person. The indicator is the median over the last `WINDOW_DAYS` days.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from retour.models import PageLoadDay

PAGE_LOADS: Final = PageLoadDay.__table__  # type: ignore[attr-defined]
MAX_LOAD_MS: Final = 600_000  # longer is not a page load any more: refused
# Lower bounds of the buckets: 100 ms wide to 3 s, 500 ms to 10 s, then 10 s, 20 s, 30 s, 60 s.
BUCKETS: Final = (
    *range(0, 3000, 100),
    *range(3000, 10_000, 500),
    10_000,
    20_000,
    30_000,
    60_000,
)
WINDOW_DAYS: Final = 28


def bucket_of(load_ms: int) -> int:
    return BUCKETS[bisect.bisect_right(BUCKETS, load_ms) - 1]


@dataclass(frozen=True)
class PageLoadKey:
    procedure_id: str
    day: dt.date
    bucket: int


def count_page_loads(connection: Connection, counts: Mapping[PageLoadKey, int]) -> None:
    """Add counts per key to `page_load_day`: one upsert statement."""
    if not counts:
        return
    # The two dialects' INSERT constructs share on_conflict_do_update and excluded.
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[
        connection.dialect.name
    ]
    rows = [
        {"procedure_id": k.procedure_id, "day": k.day, "bucket": k.bucket, "count": n}
        for k, n in counts.items()
    ]
    for start in range(0, len(rows), 1000):
        statement = insert(PAGE_LOADS).values(rows[start : start + 1000])
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["procedure_id", "day", "bucket"],
                set_={"count": PAGE_LOADS.c.count + statement.excluded.count},
            )
        )


def median_loads(
    connection: Connection, today: dt.date, *, procedure_id: str | None = None
) -> dict[str, int]:
    """Median load time (ms, the middle bucket's lower bound) per procedure over the window."""
    query = (
        select(PAGE_LOADS.c.procedure_id, PAGE_LOADS.c.bucket, func.sum(PAGE_LOADS.c.count))
        .where(PAGE_LOADS.c.day > today - dt.timedelta(days=WINDOW_DAYS))
        .group_by(PAGE_LOADS.c.procedure_id, PAGE_LOADS.c.bucket)
        .order_by(PAGE_LOADS.c.procedure_id, PAGE_LOADS.c.bucket)
    )
    if procedure_id is not None:
        query = query.where(PAGE_LOADS.c.procedure_id == procedure_id)
    histograms: dict[str, list[tuple[int, int]]] = {}
    for procedure_id, bucket, count in connection.execute(query):
        histograms.setdefault(procedure_id, []).append((int(bucket), int(count or 0)))
    medians = {}
    for procedure_id, histogram in histograms.items():
        total = sum(n for _, n in histogram)
        seen = 0
        for bucket, n in histogram:
            seen += n
            if seen * 2 >= total:
                medians[procedure_id] = bucket
                break
    return medians
