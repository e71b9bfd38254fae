"""The procedures spreadsheet, uploaded through the browser (same checks as the command line).

`GET/POST /console/procedures/import` ("procedures_import"), for `can_manage_procedures`, and
`GET /console/procedures/import/modele.csv` ("procedures_import_template"): a file to fill in
(the columns, one example row, `;` and a byte order mark, as Excel in French reads it).
The file is checked whole by `retour.importer.parse_procedures`; a ministry admin may only
import into their own ministry, so rows naming another ministry, or ids that belong to
another ministry's procedure, are errors too, by line number. Any error: nothing imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.auth import require_user
from console.database import run_db
from console.scope import CurrentUser, can_manage_procedures, is_admin, require
from console.templating import locale_of, render, translate_for
from console.uploads import uploaded_file
from retour.i18n import Translate
from retour.importer import ImportSummary, ProcedureRow, apply_import, parse_procedures
from retour.models import Ministry, Procedure

FIELD = "fichier"
TEMPLATE_COLUMNS = ("id", "title", "ministry", "url", "origins", "description")
EXAMPLE_MINISTRY = "Ministère de l'Intérieur"


@dataclass
class Outcome:
    errors: list[str] = field(default_factory=list)
    summary: ImportSummary | None = None


def _where(line: int, _: Translate) -> str:
    return _("ligne {line}", line=line)


def _import(
    session: Session, actor: CurrentUser, rows: list[ProcedureRow], _: Translate
) -> Outcome:
    outcome = Outcome()
    if not is_admin(actor):
        own = session.get(Ministry, actor.ministry_id) if actor.ministry_id else None
        own_slug = own.slug if own else None
        owners = dict(
            session.exec(
                select(Procedure.id, Procedure.ministry_id).where(
                    col(Procedure.id).in_([row.id for row in rows])
                )
            ).all()
        )
        for row in rows:
            if row.ministry_slug != own_slug:
                outcome.errors.append(
                    _(
                        "{where} : le ministère « {name} » n’est pas le vôtre ; vous ne pouvez "
                        "importer que des démarches de « {own} »",
                        where=_where(row.line, _),
                        name=row.ministry,
                        own=own.name if own else "",
                    )
                )
            elif row.id in owners and owners[row.id] != actor.ministry_id:
                outcome.errors.append(
                    _(
                        "{where} : l’identifiant « {id} » est déjà celui d’une démarche d’un "
                        "autre ministère",
                        where=_where(row.line, _),
                        id=row.id,
                    )
                )
        if outcome.errors:
            return outcome
    outcome.summary = apply_import(session, rows, actor_id=actor.id, actor_label=actor.email[:60])
    return outcome


def _own_ministry(session: Session, actor: CurrentUser) -> str | None:
    ministry = session.get(Ministry, actor.ministry_id) if actor.ministry_id else None
    return ministry.name if ministry else None


async def import_template(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_procedures, user)
    ministry = await run_db(request, _own_ministry, user) if not is_admin(user) else None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow(
        (
            "carte-grise-duplicata",
            "Demander un duplicata de carte grise",
            ministry or EXAMPLE_MINISTRY,
            "https://www.exemple.gouv.fr/carte-grise/duplicata",
            "https://www.exemple.gouv.fr",
            "En cas de perte, de vol ou de détérioration.",
        )
    )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="demarches-modele.csv"'},
    )


async def procedures_import(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_procedures, user)
    _ = translate_for(request)
    own = await run_db(request, _own_ministry, user) if not is_admin(user) else None
    context: dict[str, Any] = {
        "nav": "procedures",
        "errors": [],
        "summary": None,
        "own_ministry": own,
        "errors_field": FIELD,
    }
    if request.method == "GET":
        return render(request, "procedures/import.html", context)

    content = await uploaded_file(request, FIELD)
    if content is None:
        context["errors"] = [_("Choisissez un fichier CSV à importer.")]
        return render(request, "procedures/import.html", context, status_code=400)
    result = parse_procedures(content)
    locale = "en" if locale_of(request) == "en" else "fr"
    errors = [error.message(locale) for error in result.errors]
    outcome = Outcome(errors=errors)
    if not errors:
        outcome = await run_db(request, _import, user, result.rows, _)
    context["unknown_columns"] = result.unknown_columns
    if outcome.errors:
        context["errors"] = outcome.errors
        return render(request, "procedures/import.html", context, status_code=400)
    context["summary"] = outcome.summary
    context["titles"] = {row.id: row.title for row in result.rows}
    return render(request, "procedures/import.html", context)


routes = [
    Route(
        "/console/procedures/import",
        procedures_import,
        methods=["GET", "POST"],
        name="procedures_import",
    ),
    Route(
        "/console/procedures/import/modele.csv",
        import_template,
        name="procedures_import_template",
    ),
]
