"""Declared indicators from what a spreadsheet exports, with the procedures import's rules.

Same file rules as `retour.importer` (comma, semicolon or tab; UTF-8 with or without BOM;
a "sep=;" line; quoted cells), columns by header name in any order: `id` required, then any
of `COLUMNS`. An empty cell leaves that indicator as it is. The whole file is checked first,
every error named by its line; a file with any error imports nothing. The caller says which
procedures the importer may touch (a ministry admin: their ministry's only).

    result = parse_indicators(data)
    errors = result.errors or check_procedures(session, result.rows, ministry_id=…)
    if not errors:
        count = apply_indicators(session, result.rows, actor_id=…, actor_label=…)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Final

from sqlmodel import Session, col, select

from retour import indicators as ind
from retour.importer.messages import MESSAGES as FILE_MESSAGES
from retour.indicators_store import declare
from retour.models import PROCEDURE_ID_RE, Procedure, ProcedureIndicator
from retour.typography import NARROW_NBSP, french_spacing

# Column → (indicator, which half: the value or its detail).
COLUMNS: Final = {
    "online": ("online", "value"),
    "rgaa_rate": ("accessibility", "value"),
    "accessibility_statement": ("accessibility", "detail"),
    "franceconnect": ("franceconnect", "value"),
    "dlnuf": ("dlnuf", "value"),
    "help_channels": ("help", "value"),
    "help_where": ("help", "detail"),
    "online_share": ("online_share", "value"),
    "yearly_volume": ("yearly_volume", "value"),
}
EVIDENCE_COLUMN: Final = "evidence"
TEMPLATE_COLUMNS: Final = ("id", *COLUMNS, EVIDENCE_COLUMN)
TEMPLATE_EXAMPLE: Final = (
    "carte-grise-duplicata",
    "full",
    "75",
    "https://www.exemple.gouv.fr/accessibilite",
    "yes",
    "2",
    "phone email",
    "https://www.exemple.gouv.fr/contact",
    "82",
    "1200000",
    "Audit RGAA du 12/03/2026 ; statistiques 2025 du service",
)
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    **FILE_MESSAGES,
    **{
        f"bad_{code}": (f"« {{column}} » : {fr}", f"'{{column}}': {en}")
        for code, (fr, en) in ind.MESSAGES.items()
    },
    "missing_id": ("colonne « id » absente de l'en-tête", "column 'id' missing from the header"),
    "no_indicator": (
        "aucune colonne d'indicateur dans l'en-tête (attendu : {columns})",
        "no indicator column in the header (expected: {columns})",
    ),
    "empty_id": ("« id » est vide", "'id' is empty"),
    "duplicate_id": (
        "la démarche « {value} » est déjà à la ligne {first}",
        "procedure '{value}' is already on line {first}",
    ),
    "unknown_procedure": (
        "aucune démarche « {value} » dans le registre",
        "no procedure '{value}' in the register",
    ),
    "not_yours": (
        "la démarche « {value} » est celle d'un autre ministère",
        "procedure '{value}' belongs to another ministry",
    ),
}


@dataclass(frozen=True)
class LineError:
    line: int
    code: str
    values: dict[str, object] = field(default_factory=dict)

    def message(self, locale: str = "en") -> str:
        french, english = MESSAGES[self.code]
        if locale == "en":
            return f"line {self.line}: " + english.format(**self.values)
        return f"ligne {self.line}{NARROW_NBSP}: " + french_spacing(french).format(**self.values)

    def __str__(self) -> str:
        return self.message("en")


@dataclass(frozen=True)
class IndicatorRow:
    line: int
    procedure_id: str
    # indicator → (value, detail), normalised; only the indicators the row declares.
    values: dict[str, tuple[str, str]]
    evidence: str
    # indicator → the halves the row fills ("value", "detail"): an empty cell keeps the other.
    given: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class IndicatorsFile:
    rows: list[IndicatorRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)


def parse_indicators(data: bytes) -> IndicatorsFile:
    result = IndicatorsFile()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.errors.append(LineError(data[: exc.start].count(b"\n") + 1, "not_utf8"))
        return result
    if not text.strip():
        result.errors.append(LineError(1, "empty_file"))
        return result
    first = text.split("\n", 1)[0].strip().lower()
    declared = first.startswith("sep=") and len(first) == 5
    header_text = text.split("\n", 2)[1] if declared and "\n" in text else first
    delimiter = first[4] if declared else max((";", ",", "\t"), key=header_text.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        if declared:
            next(reader)
        header = [cell.strip().lower() for cell in next(reader)]
    except (csv.Error, StopIteration):
        result.errors.append(LineError(1, "bad_csv", {"detail": "header"}))
        return result
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        if name in columns:
            result.errors.append(LineError(1, "duplicate_column", {"column": name}))
        columns[name] = index
        if name != "id" and name != EVIDENCE_COLUMN and name not in COLUMNS:
            result.unknown_columns.append(name)
    if "id" not in columns:
        result.errors.append(LineError(1, "missing_id"))
    if not any(name in COLUMNS for name in columns):
        result.errors.append(LineError(1, "no_indicator", {"columns": ", ".join(COLUMNS)}))
    if result.errors:
        return result
    first_line: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(LineError(line, "bad_csv", {"detail": str(exc)}))
            break
        if any(cell.strip() for cell in record):
            _check(record, columns, line, first_line, result)
        line = reader.line_num + 1
    return result


def _check(
    record: list[str],
    columns: dict[str, int],
    line: int,
    first_line: dict[str, int],
    result: IndicatorsFile,
) -> None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    errors: list[LineError] = []
    procedure_id = cell("id")
    if not procedure_id:
        errors.append(LineError(line, "empty_id"))
    elif not PROCEDURE_ID_RE.match(procedure_id):
        errors.append(LineError(line, "unknown_procedure", {"value": procedure_id[:64]}))
    elif procedure_id in first_line:
        errors.append(
            LineError(
                line, "duplicate_id", {"value": procedure_id, "first": first_line[procedure_id]}
            )
        )
    else:
        first_line[procedure_id] = line
    raw: dict[str, dict[str, str]] = {}
    for name, (indicator, part) in COLUMNS.items():
        if cell(name):
            raw.setdefault(indicator, {"value": "", "detail": ""})[part] = cell(name)
    values: dict[str, tuple[str, str]] = {}
    for indicator, parts in raw.items():
        try:
            values[indicator] = ind.normalise(indicator, parts["value"], parts["detail"])
        except ind.InvalidValue as exc:
            column = next(
                name for name, target in COLUMNS.items() if target == (indicator, exc.field)
            )
            errors.append(LineError(line, f"bad_{exc.code}", {"column": column}))
    evidence = cell(EVIDENCE_COLUMN)
    if len(evidence) > ind.MAX_EVIDENCE or "\x00" in "".join(record):
        errors.append(LineError(line, "bad_too_long", {"column": EVIDENCE_COLUMN}))
    if errors:
        result.errors.extend(errors)
    else:
        given = {
            indicator: frozenset(k for k, v in parts.items() if v)
            for indicator, parts in raw.items()
        }
        result.rows.append(IndicatorRow(line, procedure_id, values, evidence, given))


def check_procedures(
    session: Session, rows: list[IndicatorRow], *, ministry_id: int | None
) -> list[LineError]:
    """Unknown procedures, and (for `ministry_id`) other ministries' ones, by line."""
    owners: dict[str, int] = {}
    ids = [row.procedure_id for row in rows]
    for start in range(0, len(ids), 500):
        query = select(Procedure.id, Procedure.ministry_id).where(
            col(Procedure.id).in_(ids[start : start + 500])
        )
        owners.update(dict(session.exec(query).all()))
    errors = []
    for row in rows:
        owner = owners.get(row.procedure_id)
        if owner is None:
            errors.append(LineError(row.line, "unknown_procedure", {"value": row.procedure_id}))
        elif ministry_id is not None and owner != ministry_id:
            errors.append(LineError(row.line, "not_yours", {"value": row.procedure_id}))
    return errors


def apply_indicators(
    session: Session, rows: list[IndicatorRow], *, actor_id: int | None, actor_label: str
) -> int:
    """Write the checked rows (after `check_procedures`); the number of declarations changed."""
    owners = dict(
        session.exec(
            select(Procedure.id, Procedure.ministry_id).where(
                col(Procedure.id).in_([row.procedure_id for row in rows])
            )
        ).all()
    )
    changed = 0
    for row in rows:
        for indicator, (value, detail) in row.values.items():
            current = session.get(ProcedureIndicator, (row.procedure_id, indicator))
            if current is not None:
                parts = row.given.get(indicator, frozenset(("value", "detail")))
                value = value if "value" in parts else current.value
                detail = detail if "detail" in parts else current.detail
            changed += declare(
                session,
                procedure_id=row.procedure_id,
                ministry_id=owners[row.procedure_id],
                indicator=indicator,
                value=value,
                detail=detail,
                evidence=row.evidence,
                actor_id=actor_id,
                actor_label=actor_label,
                source="import",
            )
    return changed
