"""Importing feedback received through other channels from a spreadsheet (CSV), with the
procedures import's rules: UTF-8 with or without BOM, comma, semicolon or tab, quoted cells,
columns by header name in any order, every error named by its line, and nothing imported
from a file with any error.

Columns: `procedure_id`, `channel`, `received_at`, `satisfaction` required; `kind`,
`comment`, `client_id` optional. `channel`: `counter`/`guichet`, `phone`/`téléphone`,
`post`/`courrier`, `france_services`/`France Services`. `received_at`: `2026-03-14`,
`14/03/2026` (a day, taken as noon in Paris) or an ISO time. `satisfaction`: 1–3 or
`mal`/`moyennement`/`bien`. Without `client_id`, one is derived from the line's values, so
that importing the same file twice stores its feedback once.

    result = parse_feedback(data)             # FeedbackImport(rows, errors)
    stored = apply_feedback(session, result.rows, recorded_by=user.id, actor_label=…)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from retour.importer.parse import _SEP_LINE, RowError, _sniff_delimiter
from retour.models import COMMENT_MAX_LENGTH, KINDS, Procedure
from retour.recording import RecordedEntry, RecordingError, check_entry, record_feedback

REQUIRED: Final = ("procedure_id", "channel", "received_at", "satisfaction")
OPTIONAL: Final = ("kind", "comment", "client_id")
PARIS: Final = ZoneInfo("Europe/Paris")
# A namespace of our own: the same line of the same procedure always gives the same client_id.
IMPORT_NAMESPACE: Final = uuid.UUID("6f1d8a52-3c1e-4b8e-9a59-2f0c1b7d4e21")
CHANNEL_NAMES: Final = {
    "counter": "counter",
    "guichet": "counter",
    "accueil": "counter",
    "phone": "phone",
    "telephone": "phone",
    "téléphone": "phone",
    "post": "post",
    "courrier": "post",
    "france_services": "france_services",
    "france services": "france_services",
}
SATISFACTION_NAMES: Final = {
    "1": 1,
    "mal": 1,
    "bad": 1,
    "2": 2,
    "moyennement": 2,
    "average": 2,
    "3": 3,
    "bien": 3,
    "good": 3,
}
MAX_ROWS: Final = 10_000


@dataclass
class FeedbackImport:
    rows: list[tuple[int, RecordedEntry]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_received_at(value: str) -> dt.datetime | None:
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return dt.datetime.combine(day, dt.time(12), tzinfo=PARIS).astimezone(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=PARIS)).astimezone(dt.UTC)


def parse_feedback(data: bytes, *, now: dt.datetime | None = None) -> FeedbackImport:
    result = FeedbackImport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.errors.append(RowError(line, line, "not_utf8"))
        return result
    if not text.strip():
        result.errors.append(RowError(1, 1, "empty_file"))
        return result
    declared = _SEP_LINE.match(text)
    delimiter = declared.group(1) if declared else _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header_line = 2 if declared else 1
    try:
        if declared:
            next(reader)
        header = next(reader)
    except (csv.Error, StopIteration):
        result.errors.append(RowError(header_line, 1, "empty_file"))
        return result
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if name in columns:
            result.errors.append(RowError(header_line, 1, "duplicate_column", {"column": name}))
        elif name:
            columns[name] = index
            if name not in REQUIRED + OPTIONAL:
                result.unknown_columns.append(raw.strip())
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        result.errors.append(
            RowError(header_line, 1, "missing_columns", {"columns": ", ".join(missing)})
        )
    if result.errors:
        return result
    row_number, line = 1, reader.line_num + 1
    while True:
        row_number += 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(line, row_number, "bad_csv", {"detail": str(exc)}))
            break
        if any(cell.strip() for cell in record):
            if len(result.rows) + len(result.errors) >= MAX_ROWS:
                result.errors.append(
                    RowError(line, row_number, "too_many_rows", {"limit": MAX_ROWS})
                )
                break
            _check(record, columns, len(header), (line, row_number), result, now)
        line = reader.line_num + 1
    return result


def _check(
    record: list[str],
    columns: dict[str, int],
    width: int,
    where: tuple[int, int],
    result: FeedbackImport,
    now: dt.datetime | None,
) -> None:
    line, row = where
    if len(record) > width and any(value.strip() for value in record[width:]):
        result.errors.append(
            RowError(line, row, "too_many_fields", {"count": len(record), "expected": width})
        )
        return

    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    def fail(code: str, **values: object) -> None:
        result.errors.append(RowError(line, row, code, dict(values)))

    for name in REQUIRED:
        if not cell(name):
            fail("empty", column=name)
            return
    channel = CHANNEL_NAMES.get(cell("channel").lower().replace("-", " ").replace("_", " "))
    channel = channel or CHANNEL_NAMES.get(cell("channel").lower())
    if channel is None:
        fail("bad_channel", value=cell("channel"))
        return
    satisfaction = SATISFACTION_NAMES.get(cell("satisfaction").lower())
    if satisfaction is None:
        fail("bad_satisfaction", value=cell("satisfaction"))
        return
    received_at = parse_received_at(cell("received_at"))
    if received_at is None:
        fail("bad_date", value=cell("received_at"))
        return
    kind = cell("kind") or None
    if kind is not None and kind not in KINDS:
        fail("bad_kind", value=kind)
        return
    comment = cell("comment") if "comment" in columns else ""
    client_id = cell("client_id") or str(
        uuid.uuid5(
            IMPORT_NAMESPACE,
            "\x1f".join(
                (
                    cell("procedure_id"),
                    channel,
                    received_at.isoformat(),
                    str(satisfaction),
                    kind or "",
                    comment,
                )
            ),
        )
    )
    entry = RecordedEntry(
        procedure_id=cell("procedure_id"),
        channel=channel,
        satisfaction=satisfaction,
        received_at=received_at,
        kind=kind,
        comment=comment,
        client_id=client_id,
    )
    try:
        result.rows.append((line, check_entry(entry, now=now)))
    except RecordingError as exc:
        values: dict[str, object] = {"value": cell(exc.field or "")[:60]}
        if exc.code == "comment_too_long":
            values = {"column": "comment", "limit": COMMENT_MAX_LENGTH}
        fail("too_long" if exc.code == "comment_too_long" else exc.code, **values)


def apply_feedback(
    session: Session,
    rows: list[tuple[int, RecordedEntry]],
    *,
    recorded_by: int | None,
    actor_label: str,
) -> tuple[int, int]:
    """Store the checked rows in the caller's transaction: (stored, already there)."""
    stored = repeated = 0
    for _line, entry in rows:
        _feedback, created = record_feedback(
            session, entry=entry, recorded_by=recorded_by, actor_label=actor_label
        )
        stored += created
        repeated += not created
    return stored, repeated


def check_procedures(
    session: Session, result: FeedbackImport, *, ministry_ids: set[int] | None
) -> None:
    """Name, by line, every row whose procedure is unknown, archived or not the importer's
    ministry's (None: any ministry), before anything is written."""
    wanted = sorted({entry.procedure_id for _line, entry in result.rows})
    found = {
        procedure.id: procedure
        for procedure in session.exec(select(Procedure).where(col(Procedure.id).in_(wanted)))
    }
    for line, entry in result.rows:
        procedure = found.get(entry.procedure_id)
        if (
            procedure is None
            or not procedure.active
            or (ministry_ids is not None and procedure.ministry_id not in ministry_ids)
        ):
            result.errors.append(
                RowError(line, line, "unknown_procedure", {"value": entry.procedure_id[:64]})
            )
    result.errors.sort(key=lambda error: error.line)
