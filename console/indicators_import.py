"""Declared indicators from a spreadsheet, uploaded through the browser (issue 18).

`GET/POST /console/indicators/import` ("indicators_import"), for `can_manage_procedures`,
and `GET /console/indicators/import/modele.csv` ("indicators_import_template"). The same
rules as the procedures import (`console.procedures_import`): the file is checked whole by
`retour.indicators_import`, a ministry admin may only declare for their own ministry's
procedures (another ministry's id is an error, by line number), any error imports nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.auth import require_user
from console.database import run_db
from console.scope import CurrentUser, can_manage_procedures, is_admin, require
from console.templating import locale_of, render, translate_for
from console.uploads import uploaded_file
from retour.indicators_import import (
    COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_EXAMPLE,
    IndicatorRow,
    LineError,
    apply_indicators,
    check_procedures,
    parse_indicators,
)

FIELD = "fichier"


def _import(
    session: Session, actor: CurrentUser, rows: list[IndicatorRow]
) -> tuple[list[LineError], int]:
    ministry_id = None if is_admin(actor) else actor.ministry_id
    errors = check_procedures(session, rows, ministry_id=ministry_id)
    if errors:
        return errors, 0
    return [], apply_indicators(session, rows, actor_id=actor.id, actor_label=actor.email)


async def import_template(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_procedures, user)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow(TEMPLATE_EXAMPLE)
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="indicateurs-modele.csv"'},
    )


async def indicators_import(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_procedures, user)
    _ = translate_for(request)
    context: dict[str, Any] = {
        "nav": "procedures",
        "errors": [],
        "changed": None,
        "errors_field": FIELD,
        "columns": COLUMNS,
    }
    if request.method == "GET":
        return render(request, "procedures/indicators_import.html", context)
    content = await uploaded_file(request, FIELD)
    if content is None:
        context["errors"] = [_("Choisissez un fichier CSV à importer.")]
        return render(request, "procedures/indicators_import.html", context, status_code=400)
    locale = "en" if locale_of(request) == "en" else "fr"
    result = parse_indicators(content)
    errors = result.errors
    changed = 0
    if not errors:
        errors, changed = await run_db(request, _import, user, result.rows)
    context["unknown_columns"] = result.unknown_columns
    if errors:
        context["errors"] = [error.message(locale) for error in errors]
        return render(request, "procedures/indicators_import.html", context, status_code=400)
    context["changed"] = changed
    context["rows"] = len(result.rows)
    return render(request, "procedures/indicators_import.html", context)


routes = [
    Route(
        "/console/indicators/import",
        indicators_import,
        methods=["GET", "POST"],
        name="indicators_import",
    ),
    Route(
        "/console/indicators/import/modele.csv",
        import_template,
        name="indicators_import_template",
    ),
]
