"""`/open-data/procedures-excel.csv`: the register with its indicators, ready for French Excel.

The same records as `/open-data/procedures.csv` (`console.open_data.procedure_records`), for
people rather than programs: `;` between fields, a UTF-8 byte order mark, French column
headers, « oui » / « non », decimals with a comma (Excel in French reads "7,5" as a number),
and text cells a spreadsheet would run as a formula defused with `'`. The machine files keep
their format; docs/open-data.md documents both.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import run_db, settings_of
from console.open_data import HEADERS, procedure_records

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
# (field of the record, its French header), in the machine file's order.
COLUMNS: Final = (
    ("id", "Identifiant"),
    ("title", "Démarche"),
    ("ministry", "Ministère"),
    ("ministry_slug", "Identifiant du ministère"),
    ("url", "Adresse"),
    ("online", "En ligne"),
    ("button_live", "Bouton actif"),
    ("feedback_count", "Retours sur 12 mois"),
    ("satisfaction_score", "Satisfaction sur 10"),
    ("processed_share", "Part des retours traités"),
    ("median_ack_hours", "Délai médian de prise en compte (heures)"),
    ("public_answers", "Réponses publiques"),
)


def excel_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return str(value).replace(".", ",")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_excel_csv(records: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([header for _field, header in COLUMNS])
    for record in records:
        writer.writerow([excel_value(record[field]) for field, _header in COLUMNS])
    return buffer.getvalue().encode("utf-8")


async def procedures_excel_csv(request: Request) -> Response:
    min_count = settings_of(request).public_min_count
    records = await run_db(request, procedure_records, min_count=min_count)
    headers = {**HEADERS, "Content-Disposition": 'attachment; filename="demarches-excel.csv"'}
    return Response(to_excel_csv(records), media_type="text/csv; charset=utf-8", headers=headers)


routes = [
    Route(
        "/open-data/procedures-excel.csv",
        procedures_excel_csv,
        name="open_data_procedures_excel_csv",
    ),
]
