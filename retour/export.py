"""Exporting stored submissions as CSV or JSON lines, streamed row by row."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, Final, TextIO

from sqlalchemy import select
from sqlalchemy.engine import Connection, CursorResult, Engine

from retour.models import Feedback

COLUMNS: Final = (
    "id",
    "procedure_id",
    "client_id",
    "received_at",
    "satisfaction",
    "kind",
    "comment",
    "status",
)
FORMATS: Final = ("csv", "jsonl")
# Rows fetched per round trip; PostgreSQL keeps the rest behind a server-side cursor.
BATCH: Final = 1000
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def iso_utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def iter_feedback(engine: Engine, *, ministry_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every stored submission, oldest id first, never holding more than a batch in memory.

    The query runs before this returns, so a database error comes before any output.
    """
    table = Feedback.__table__  # type: ignore[attr-defined]
    query = select(*(table.c[name] for name in COLUMNS)).order_by(table.c.id)
    if ministry_id is not None:
        query = query.where(table.c.ministry_id == ministry_id)
    connection = engine.connect()
    try:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    except BaseException:
        connection.close()
        raise
    return _records(connection, result)


def _records(connection: Connection, result: CursorResult[Any]) -> Iterator[dict[str, Any]]:
    with connection:
        for row in result:
            record = dict(row._mapping)
            record["received_at"] = iso_utc(record["received_at"])
            yield record


def write_csv(
    rows: Iterator[dict[str, Any]], out: TextIO, *, spreadsheet_safe: bool = False
) -> int:
    """RFC 4180: CRLF line ends, fields quoted when they hold a separator, quote or line break."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        values = ["" if row[name] is None else row[name] for name in COLUMNS]
        if spreadsheet_safe:
            values = [_defuse(value) for value in values]
        writer.writerow(values)
        count += 1
    return count


def write_jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _defuse(value: object) -> object:
    # A comment starting with "=" would run as a formula in a spreadsheet; a leading
    # apostrophe makes it plain text there (OWASP's advice for CSV injection).
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
