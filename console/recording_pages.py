"""Feedback received elsewhere — at a counter, by phone, by post, through a France Services
adviser — typed in or imported by staff who may triage (`can_triage`).

Routes: `GET/POST /console/feedback/new` (name "feedback_record": one entry; the form
carries a client_id made when it is shown, so sending it twice stores one submission) and
`GET/POST /console/feedback/import` ("feedback_import": a CSV file, checked whole by
`retour.importer.feedback`, nothing stored if any line is wrong). Only the ministry's own
active procedures are offered or accepted. Storing is `retour.recording`'s: the ingest's
masking and idempotency, with the channel and who recorded it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Final

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import require_user
from console.database import run_db
from console.labels import CHANNEL_LABELS, LABELS
from console.scope import CurrentUser, can_triage, require, visible_ministry_ids
from console.templating import locale_of, render, translate_for
from console.uploads import uploaded_file
from retour.importer.feedback import (
    apply_feedback,
    check_procedures,
    parse_feedback,
    parse_received_at,
)
from retour.models import KINDS, RECORDED_CHANNELS, Procedure
from retour.recording import RecordedEntry, RecordingError, record_feedback

ERRORS: Final = {
    "bad_channel": "Choisissez par où le retour est arrivé.",
    "bad_satisfaction": "Indiquez comment s’est passée la démarche pour l’usager.",
    "bad_kind": "Choisissez un type de retour dans la liste.",
    "bad_date": "Indiquez la date de réception (jj/mm/aaaa).",
    "future_date": "La date de réception ne peut pas être dans le futur.",
    "comment_too_long": "Le commentaire dépasse 2 000 caractères.",
    "bad_email": "Cette adresse électronique n’est pas valide.",
    "unknown_procedure": "Choisissez une démarche de votre ministère.",
    "client_id_taken": "Ce formulaire a déjà servi : rechargez la page.",
    "bad_client_id": "Ce formulaire a déjà servi : rechargez la page.",
}


def _procedures(session: Session, user: CurrentUser) -> list[Procedure]:
    visible = visible_ministry_ids(user)
    query = select(Procedure).where(col(Procedure.active).is_(True))
    if visible is not None:
        query = query.where(col(Procedure.ministry_id).in_(sorted(visible)))
    return list(session.exec(query.order_by(col(Procedure.title))).all())


def _context(procedures: list[Procedure], values: dict[str, Any]) -> dict[str, Any]:
    return {
        **LABELS,
        "nav": "inbox",
        "procedures": procedures,
        "channels": [(c, CHANNEL_LABELS[c]) for c in RECORDED_CHANNELS],
        "kinds": KINDS,
        "values": values,
    }


async def record_page(request: Request) -> Response:
    user = require_user(request)
    require(can_triage, user)
    _ = translate_for(request)
    procedures = await run_db(request, _procedures, user)
    today = dt.date.today().isoformat()
    values: dict[str, Any] = {"client_id": str(uuid.uuid4()), "received_on": today}
    if request.method == "GET":
        return render(request, "feedback_record.html", _context(procedures, values))

    form = await request.form()
    values = {
        name: str(form.get(name) or "")[:3000]
        for name in (
            "procedure_id",
            "channel",
            "received_on",
            "satisfaction",
            "kind",
            "comment",
            "contact_email",
            "client_id",
        )
    }
    visible = visible_ministry_ids(user)
    received_at = parse_received_at(values["received_on"]) if values["received_on"] else None

    def store(session: Session) -> int:
        procedure = session.get(Procedure, values["procedure_id"][:64])
        if procedure is None or (visible is not None and procedure.ministry_id not in visible):
            raise RecordingError("unknown_procedure", "procedure_id")
        if received_at is None:
            raise RecordingError("bad_date", "received_at")
        entry = RecordedEntry(
            procedure_id=procedure.id,
            channel=values["channel"],
            satisfaction=int(values["satisfaction"]) if values["satisfaction"].isdigit() else 0,
            received_at=received_at,
            kind=values["kind"] or None,
            comment=values["comment"],
            contact_email=values["contact_email"] or None,
            client_id=values["client_id"] or None,
        )
        feedback, _created = record_feedback(
            session, entry=entry, recorded_by=user.id, actor_label=user.email
        )
        assert feedback.id is not None
        return feedback.id

    try:
        ident = await run_db(request, store)
    except RecordingError as exc:
        context = _context(procedures, values)
        context["errors"] = [_(ERRORS.get(exc.code, exc.code))]
        context["error_field"] = exc.field
        return render(request, "feedback_record.html", context, status_code=400)
    return RedirectResponse(f"/console/feedback/{ident}?fait=enregistre", status_code=303)


async def import_page(request: Request) -> Response:
    user = require_user(request)
    require(can_triage, user)
    _ = translate_for(request)
    context: dict[str, Any] = {"nav": "inbox", "errors": [], "summary": None}
    if request.method == "GET":
        return render(request, "feedback_import.html", context)
    content = await uploaded_file(request, "fichier")
    if content is None:
        context["errors"] = [_("Choisissez un fichier CSV à importer.")]
        return render(request, "feedback_import.html", context, status_code=400)
    result = parse_feedback(content)
    visible = visible_ministry_ids(user)

    def store(session: Session) -> tuple[int, int] | None:
        check_procedures(session, result, ministry_ids=visible)
        if not result.ok:
            return None
        return apply_feedback(session, result.rows, recorded_by=user.id, actor_label=user.email)

    # Procedures are checked even when other lines are wrong: every error is named at once.
    summary = await run_db(request, store)
    context["unknown_columns"] = result.unknown_columns
    if summary is None:
        locale = "en" if locale_of(request) == "en" else "fr"
        context["errors"] = [error.message(locale) for error in result.errors]
        return render(request, "feedback_import.html", context, status_code=400)
    context["summary"] = {"stored": summary[0], "repeated": summary[1]}
    return render(request, "feedback_import.html", context)


routes = [
    Route("/console/feedback/new", record_page, methods=["GET", "POST"], name="feedback_record"),
    Route("/console/feedback/import", import_page, methods=["GET", "POST"], name="feedback_import"),
]
