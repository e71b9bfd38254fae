"""Reading and checking a procedures file: every error named by its line, nothing written."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from retour.importer.messages import MESSAGES
from retour.models import PROCEDURE_ID_RE
from retour.slug import slugify
from retour.typography import NARROW_NBSP, french_spacing

REQUIRED_COLUMNS: Final = ("id", "title", "ministry", "url")
OPTIONAL_COLUMNS: Final = ("origins", "description")
# Column sizes of the Procedure and Ministry tables.
MAX_TITLE: Final = 300
MAX_MINISTRY_NAME: Final = 200
MAX_SLUG: Final = 120
MAX_URL: Final = 2000
MAX_ORIGIN: Final = 300
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_SPACE: Final = re.compile(r"\s")
_SEP_LINE: Final = re.compile(r"^sep=([,;\t])\r?(?:\n|$)", re.IGNORECASE)


@dataclass(frozen=True)
class RowError:
    """What is wrong on one line of the file (line 1 is the header)."""

    line: int  # physical line where the record starts, as a text editor counts
    row: int  # the spreadsheet's row number; differs from `line` after multi-line cells
    code: str
    values: dict[str, object] = field(default_factory=dict)

    def message(self, locale: str = "en") -> str:
        french, english = MESSAGES[self.code]
        if locale == "en":
            text, line, row = english, "line", "row"
        else:  # French typography (retour.typography): our words, not the values
            text, line, row = french_spacing(french), "ligne", "rangée"
        where = f"{line} {self.line}" + (f" ({row} {self.row})" if self.row != self.line else "")
        colon = ": " if locale == "en" else f"{NARROW_NBSP}: "
        return where + colon + text.format(**self.values)

    def __str__(self) -> str:
        return self.message("en")


@dataclass(frozen=True)
class ProcedureRow:
    """One checked line of the file."""

    line: int
    id: str
    title: str
    ministry: str  # the name as people write it
    url: str
    origins: tuple[str, ...]
    description: str

    @property
    def ministry_slug(self) -> str:
        return slugify(self.ministry)


@dataclass
class ImportResult:
    rows: list[ProcedureRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Header names we do not know; reported, then ignored.
    unknown_columns: list[str] = field(default_factory=list)
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_procedures(data: bytes) -> ImportResult:
    """Read and check a whole procedures file; nothing may be imported if `errors` is not empty."""
    result = ImportResult()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        result.errors.append(RowError(line, line, "not_utf8"))
        return result
    if not text.strip():
        result.errors.append(RowError(1, 1, "empty_file"))
        return result
    # Excel may open the file with a "sep=;" line naming the separator; it hides that line.
    declared = _SEP_LINE.match(text)
    result.delimiter = declared.group(1) if declared else _sniff_delimiter(text)
    # newline="" keeps line breaks inside quoted cells as they are, as the csv module asks.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=result.delimiter, strict=True)
    header_line = 2 if declared else 1
    try:
        if declared:
            next(reader)
        header = next(reader)
    except csv.Error as exc:
        result.errors.append(RowError(header_line, 1, "bad_csv", {"detail": str(exc)}))
        return result
    except StopIteration:
        result.errors.append(RowError(header_line, 1, "empty_file"))
        return result
    columns = _read_header(header, result, header_line)
    if columns is None:
        return result

    first_line_of: dict[str, int] = {}
    row_number = 1
    line = reader.line_num + 1
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
            _check_record(record, columns, line, row_number, first_line_of, result)
        line = reader.line_num + 1
    return result


def _sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    # Whichever separator the header uses most; a header has no commas of its own.
    return max((";", ",", "\t"), key=header.count) if any(c in header for c in ";,\t") else ","


def _read_header(header: list[str], result: ImportResult, line: int) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower()
        if not name:
            continue
        if name in columns:
            result.errors.append(RowError(line, 1, "duplicate_column", {"column": name}))
            continue
        columns[name] = index
        if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            result.unknown_columns.append(raw.strip())
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        result.errors.append(RowError(line, 1, "missing_columns", {"columns": ", ".join(missing)}))
    return None if result.errors else columns


def _check_record(
    record: list[str],
    columns: dict[str, int],
    line: int,
    row: int,
    first_line_of: dict[str, int],
    result: ImportResult,
) -> None:
    errors: list[RowError] = []

    def fail(code: str, **values: object) -> None:
        errors.append(RowError(line, row, code, values))

    width = max(columns.values()) + 1
    if len(record) > width and any(cell.strip() for cell in record[width:]):
        fail("too_many_fields", count=len(record), expected=width)

    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    values = {name: cell(name) for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            fail("empty", column=name)
    # PostgreSQL stores no text holding a NUL: say so here rather than fail on writing.
    for name, value in values.items():
        if "\x00" in value:
            fail("nul", column=name)

    procedure_id = values["id"]
    if procedure_id:
        if not PROCEDURE_ID_RE.match(procedure_id):
            fail("bad_id", value=procedure_id)
        elif procedure_id in first_line_of:
            fail("duplicate_id", value=procedure_id, first=first_line_of[procedure_id])
        else:
            first_line_of[procedure_id] = line
    if len(values["title"]) > MAX_TITLE:
        fail("too_long", column="title", limit=MAX_TITLE)
    ministry = " ".join(values["ministry"].split())
    if ministry:
        if len(ministry) > MAX_MINISTRY_NAME:
            fail("too_long", column="ministry", limit=MAX_MINISTRY_NAME)
        elif not slugify(ministry):
            fail("bad_ministry", value=ministry)
        elif len(slugify(ministry)) > MAX_SLUG:
            fail("too_long", column="ministry", limit=MAX_SLUG)
    url = values["url"]
    url_origin = None
    if url:
        url_origin = origin_of(url)
        if url_origin is None or len(url) > MAX_URL:
            fail("bad_url", value=url)

    origins: list[str] = []
    for raw in values["origins"].split():
        origin = normalise_origin(raw)
        if origin is None:
            fail("bad_origin", value=raw)
        elif origin not in origins:
            origins.append(origin)
    if not origins and url_origin is not None:
        origins.append(url_origin)

    if errors:
        result.errors.extend(errors)
        return
    result.rows.append(
        ProcedureRow(
            line=line,
            id=procedure_id,
            title=" ".join(values["title"].split()),
            ministry=ministry,
            url=url,
            origins=tuple(origins),
            description=values["description"],
        )
    )


def origin_of(url: str) -> str | None:
    """The origin (scheme://host[:port]) of an http(s) URL, or None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or _SPACE.search(url):
        return None
    host = parts.hostname.lower()
    if not host.isascii():
        # Browsers report international names in their ASCII (punycode) form.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalise_origin(value: str) -> str | None:
    """`https://Www.Caf.fr/` → `https://www.caf.fr`; None unless it is scheme://host[:port]."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    if "@" in parts.netloc or len(value) > MAX_ORIGIN:
        return None
    return origin_of(value)
