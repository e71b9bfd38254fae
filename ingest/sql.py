"""The writer's SQL, written by hand for the DBAPI connection (sqlite3 or psycopg).

Going through SQLAlchemy cost the writer ~105 µs of CPU per row (statement compilation or
cache lookup, bind processors, result rows), when it was a thread sharing the event loop's
GIL. Here a batch is one multi-row `INSERT ... RETURNING` whose text is built once per
batch size, with values converted the way SQLAlchemy stores them (so the console, which
reads through SQLAlchemy, sees the same rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

# The order of a row's values; `ingest.submissions.store` builds rows with these keys.
FEEDBACK_COLUMNS: Final = (
    "client_id",
    "receipt",
    "procedure_id",
    "ministry_id",
    "received_at",
    "satisfaction",
    "kind",
    "comment",
    "pii_categories",
    "contact_email",
    "page_url",
    "page_origin",
    "origin_registered",
    "honeypot",
    "locale",
    "status",
    "assignee_id",
    "acknowledged_at",
    "updated_at",
)
_DATETIME_COLUMNS: Final = frozenset({"received_at", "acknowledged_at", "updated_at"})
# SQLite allows 32,766 bound variables per statement, PostgreSQL 65,535.
MAX_VARIABLES: Final = 32_000
ROWS_PER_STATEMENT: Final = MAX_VARIABLES // len(FEEDBACK_COLUMNS)
# Written with SQLite's placeholder; the same text works on both backends.
_UPSERT_IMPRESSION: Final = (
    "INSERT INTO impression_count (procedure_id, day, origin, event, count, last_seen_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (procedure_id, day, origin, event) DO UPDATE SET"
    " count = impression_count.count + excluded.count, last_seen_at = excluded.last_seen_at"
)


class Dialect:
    """SQL text and value conversion for one backend."""

    def __init__(self, name: str) -> None:
        self.sqlite = name == "sqlite"
        self._mark = "?" if self.sqlite else "%s"
        # SQLite's OR IGNORE is ON CONFLICT DO NOTHING for every unique constraint; both skip
        # a repeated client_id and (astronomically rarely) a repeated receipt, told apart
        # by the writer. Neither ignores a foreign-key failure.
        self._insert = "INSERT OR IGNORE INTO" if self.sqlite else "INSERT INTO"
        self._conflict = "" if self.sqlite else " ON CONFLICT DO NOTHING"
        self._datetime_at = tuple(
            i for i, column in enumerate(FEEDBACK_COLUMNS) if column in _DATETIME_COLUMNS
        )
        self.begin = "BEGIN IMMEDIATE" if self.sqlite else None
        self.upsert_impression = _UPSERT_IMPRESSION.replace("?", self._mark)

    @lru_cache(maxsize=64)  # noqa: B019  # one Dialect per writer, kept for its lifetime
    def insert_feedback(self, rows: int) -> str:
        values = "(" + ",".join([self._mark] * len(FEEDBACK_COLUMNS)) + ")"
        return (
            f"{self._insert} feedback ({','.join(FEEDBACK_COLUMNS)}) VALUES "
            + ",".join([values] * rows)
            + f"{self._conflict} RETURNING id, client_id, receipt"
        )

    def feedback_values(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The flat parameter list of `insert_feedback(len(rows))`."""
        flat: list[Any] = []
        # received_at and updated_at are one value: converted once (9 -> 4 us a row).
        converted: dict[dt.datetime | None, Any] = {}
        for row in rows:
            values = [row[column] for column in FEEDBACK_COLUMNS]
            for i in self._datetime_at:
                value = values[i]
                if value not in converted:
                    converted[value] = self.datetime(value)
                values[i] = converted[value]
            flat.extend(values)
        return flat

    @lru_cache(maxsize=64)  # noqa: B019
    def select_feedback(self, client_ids: int) -> str:
        marks = ",".join([self._mark] * client_ids)
        # Only placeholders are put in the text, never a value.
        return f"SELECT id, client_id, receipt FROM feedback WHERE client_id IN ({marks})"  # noqa: S608

    def datetime(self, value: dt.datetime | None) -> Any:
        """As `retour.models.UTCDateTime` binds it: UTC; on SQLite, SQLAlchemy's text form."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        if not self.sqlite:
            return value
        # The text of strftime("%Y-%m-%d %H:%M:%S.%f") (microseconds always written), faster.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def date(self, value: dt.date) -> Any:
        return value.isoformat() if self.sqlite else value
