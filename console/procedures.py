"""The register of procedures: list, create, edit, archive, and per procedure its snippet and
where its button was seen.

Routes (reading: every role, own ministry only — DINUM sees all; writing:
`can_manage_procedures`; another ministry's procedure answers 404):
`GET /console/procedures` ("procedures"; `?ministere=<id>` for admins, `?archivees=1`),
`GET/POST /console/procedures/new` ("procedure_new"), `GET/POST /console/procedures/import`
("procedures_import", in `console.procedures_import`), `GET /console/procedures/{id}`
("procedure"), `GET/POST /console/procedures/{id}/edit` ("procedure_edit"),
`POST /console/procedures/{id}/archive` (a button seen in the last 7 days: a confirmation
page first, then `confirmer=1`) and `/unarchive`, `POST /console/procedures/{id}/origins`
("procedure_add_origin": `origin`, an origin where the button was seen, joins the procedure's).
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import procedures_data as data
from console import procedures_import
from console.auth import require_user
from console.database import run_db, settings_of
from console.incidents import IncidentView, open_incidents
from console.params import parse_id
from console.scope import can_manage_procedures, is_admin, require
from console.templating import render, translate_for
from retour.coverage import BUTTON_STATE_BADGES, BUTTON_STATE_LABELS
from retour.i18n import Translate
from retour.importer import normalise_origin, origin_of
from retour.models import PROCEDURE_ID_RE
from retour.slug import slugify

DEFAULT_LABEL = "Je fais un retour"
MAX_TITLE, MAX_URL, MAX_LABEL, MAX_DESCRIPTION = 300, 2000, 80, 10_000


def snippet(public_url: str, procedure_id: str, label: str | None, *, css_class: str = "") -> str:
    """The HTML a ministry pastes, exactly as docs/embedding describes it; `css_class` gives
    the button a look (the button takes the link's class: "fr-btn" on a DSFR site)."""
    pid = escape(procedure_id)
    attribute = f' class="{escape(css_class)}"' if css_class else ""
    return (
        f'<a href="{public_url}/r/{pid}" data-retour="{pid}"{attribute}>'
        f"{escape(label or DEFAULT_LABEL)}</a>\n"
        f'<script src="{public_url}/widget.js" defer></script>'
    )


def suggest_id(title: str) -> str | None:
    """An identifier made from the title ("Carte grise : duplicata" → "carte-grise-duplicata")."""
    candidate = slugify(title)[:64].strip("-")
    return candidate if PROCEDURE_ID_RE.match(candidate) else None


def read_form(
    form: FormData, _: Translate, *, creating: bool
) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The procedure's fields, its origins, and what is wrong with each field (by the id of
    its input, in the form's order), in the reader's language."""
    values: dict[str, Any] = {
        "title": " ".join(str(form.get("title") or "").split()),
        "url": str(form.get("url") or "").strip(),
        "description": str(form.get("description") or "").strip(),
        "online": form.get("online") == "1",
        "button_label": " ".join(str(form.get("button_label") or "").split()) or None,
    }
    errors: dict[str, str] = {}
    if creating:
        values["id"] = str(form.get("id") or "").strip()
        if not PROCEDURE_ID_RE.match(values["id"]):
            errors["id"] = _(
                "Identifiant invalide : lettres, chiffres, « . », « _ » et « - », "
                "64 caractères au plus."
            )
            suggestion = suggest_id(values["title"])
            if suggestion:
                errors["id"] += " " + _("Par exemple : « {id} ».", id=suggestion)
    if not values["title"]:
        errors["title"] = _("Le titre est obligatoire.")
    elif len(values["title"]) > MAX_TITLE:
        errors["title"] = _("Le titre dépasse {n} caractères.", n=MAX_TITLE)
    url_origin = origin_of(values["url"]) if values["url"] else None
    if url_origin is None or len(values["url"]) > MAX_URL:
        errors["url"] = _("L’adresse de la démarche doit commencer par http:// ou https://.")
    origins: list[str] = []
    raw_origins = str(form.get("origins") or "")
    wrong: list[str] = []
    for raw in raw_origins.split():
        origin = normalise_origin(raw)
        if origin is None:
            wrong.append(raw)
        elif origin not in origins:
            origins.append(origin)
    if len(wrong) == 1:
        errors["origins"] = _(
            "Origine « {value} » invalide : attendu https://hôte[:port].", value=wrong[0]
        )
    elif wrong:
        errors["origins"] = _(
            "Origines invalides : {values} ; attendu https://hôte[:port].",
            values=", ".join(f"« {raw} »" for raw in wrong),
        )
    if len(values["description"]) > MAX_DESCRIPTION:
        errors["description"] = _("La description dépasse {n} caractères.", n=MAX_DESCRIPTION)
    if values["button_label"] and len(values["button_label"]) > MAX_LABEL:
        errors["button_label"] = _("Le texte du bouton dépasse {n} caractères.", n=MAX_LABEL)
    if not origins and url_origin is not None:
        origins.append(url_origin)
    values["origins_text"] = raw_origins if errors else "\n".join(origins)
    return values, origins, errors


async def procedures_list(request: Request) -> Response:
    user = require_user(request)
    ministry_id = parse_id(request.query_params.get("ministere")) if is_admin(user) else None
    archived = request.query_params.get("archivees") == "1"
    rows = await run_db(
        request, data.list_procedures, user, ministry_id=ministry_id, archived=archived
    )
    ministries = await run_db(request, data.ministries_for, user) if is_admin(user) else []
    return render(
        request,
        "procedures/list.html",
        {
            "nav": "procedures",
            "rows": rows,
            "ministries": ministries,
            "ministry_filter": ministry_id,
            "archived": archived,
            "button_labels": BUTTON_STATE_LABELS,
            "button_badges": BUTTON_STATE_BADGES,
        },
    )


async def procedure_new(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_procedures, user)
    _ = translate_for(request)
    ministries = await run_db(request, data.ministries_for, user)
    context: dict[str, Any] = {
        "nav": "procedures",
        "creating": True,
        "ministries": ministries,
        "values": {"online": True, "ministry_id": user.ministry_id},
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "procedures/form.html", context)
    form = await request.form()
    values, origins, errors = read_form(form, _, creating=True)
    # Anything but an id is no choice at all: the same field error as an empty list.
    ministry_id = parse_id(form.get("ministry_id")) if is_admin(user) else user.ministry_id
    values["ministry_id"] = ministry_id
    if ministry_id is None:
        # Shown after the identifier, where the select is.
        errors = {
            **{k: v for k, v in errors.items() if k == "id"},
            "ministry_id": _("Choisissez le ministère de la démarche."),
            **{k: v for k, v in errors.items() if k != "id"},
        }
    context["values"] = values
    if not errors:
        fields = {k: v for k, v in values.items() if k != "origins_text"}
        try:
            await run_db(request, data.create_procedure, user, fields, origins)
        except data.DuplicateId:
            errors["id"] = _("Une démarche porte déjà l’identifiant « {id} ».", id=values["id"])
        except data.UnknownMinistry:
            errors["ministry_id"] = _("Choisissez le ministère de la démarche.")
    if errors:
        context["errors"] = errors
        return render(request, "procedures/form.html", context, status_code=400)
    return RedirectResponse(f"/console/procedures/{values['id']}?fait=cree", status_code=303)


async def procedure_edit(request: Request) -> Response:
    user = require_user(request)
    procedure_id = request.path_params["procedure_id"]
    # 404 for another ministry's procedure comes before 403 for a read-only role.
    procedure = await run_db(request, data.visible_procedure, user, procedure_id)
    require(can_manage_procedures, user)
    _ = translate_for(request)
    origins = await run_db(request, data.origins_of, procedure_id)
    values = {**procedure.model_dump(), "origins_text": "\n".join(origins)}
    context: dict[str, Any] = {
        "nav": "procedures",
        "creating": False,
        "procedure": procedure,
        "values": values,
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "procedures/form.html", context)
    form = await request.form()
    new_values, new_origins, errors = read_form(form, _, creating=False)
    context["values"] = {**values, **new_values}
    if errors:
        context["errors"] = errors
        return render(request, "procedures/form.html", context, status_code=400)
    fields = {k: v for k, v in new_values.items() if k != "origins_text"}
    await run_db(request, data.update_procedure, user, procedure_id, fields, new_origins)
    return RedirectResponse(f"/console/procedures/{procedure_id}?fait=modifie", status_code=303)


async def procedure_page(request: Request) -> Response:
    user = require_user(request)
    procedure_id = request.path_params["procedure_id"]

    def load(session: Session) -> tuple[data.ProcedureDetail, list[IncidentView]]:
        detail = data.procedure_detail(session, user, procedure_id)
        ongoing = open_incidents(session, ministry_ids=None, procedure_id=detail.procedure.id)
        return detail, ongoing

    detail, ongoing = await run_db(request, load)
    _ = translate_for(request)
    done = {
        "cree": _("La démarche est créée."),
        "modifie": _("La démarche est modifiée."),
        "archive": _("La démarche est archivée."),
        "desarchive": _("La démarche est de nouveau active."),
        "origine": _("L’origine est ajoutée à la démarche."),
    }.get(request.query_params.get("fait", ""))
    settings = settings_of(request)
    procedure = detail.procedure
    return render(
        request,
        "procedures/detail.html",
        {
            "nav": "procedures",
            "detail": detail,
            "procedure": procedure,
            "snippet": snippet(settings.public_url, procedure.id, procedure.button_label),
            "snippet_dsfr": snippet(
                settings.public_url, procedure.id, procedure.button_label, css_class="fr-btn"
            ),
            "button_labels": BUTTON_STATE_LABELS,
            "button_badges": BUTTON_STATE_BADGES,
            "flash": {"type": "success", "text": done} if done else None,
            "incidents": ongoing,
        },
    )


async def _archive(request: Request, *, archived: bool) -> Response:
    user = require_user(request)
    procedure_id = request.path_params["procedure_id"]
    await run_db(request, data.visible_procedure, user, procedure_id)
    require(can_manage_procedures, user)
    form = await request.form()
    if archived and form.get("confirmer") != "1":
        # Still on pages people use: archiving is allowed (their words are still stored) but
        # asked twice, saying where the button was seen.
        detail = await run_db(request, data.procedure_detail, user, procedure_id)
        if detail.procedure.active and detail.seen_recently:
            return render(
                request,
                "procedures/archive_confirm.html",
                {"nav": "procedures", "procedure": detail.procedure, "detail": detail},
            )
    await run_db(request, data.set_archived, user, procedure_id, archived)
    done = "archive" if archived else "desarchive"
    return RedirectResponse(f"/console/procedures/{procedure_id}?fait={done}", status_code=303)


async def procedure_add_origin(request: Request) -> Response:
    """« Ajouter cette origine »: an origin where the button was seen joins the procedure's."""
    user = require_user(request)
    procedure_id = request.path_params["procedure_id"]
    await run_db(request, data.visible_procedure, user, procedure_id)
    require(can_manage_procedures, user)
    form = await request.form()
    origin = normalise_origin(str(form.get("origin") or "")[:300])
    if origin is None:
        raise HTTPException(400, "Origine invalide : attendu https://hôte[:port].")
    await run_db(request, data.add_origin, user, procedure_id, origin)
    return RedirectResponse(f"/console/procedures/{procedure_id}?fait=origine", status_code=303)


async def procedure_archive(request: Request) -> Response:
    return await _archive(request, archived=True)


async def procedure_unarchive(request: Request) -> Response:
    return await _archive(request, archived=False)


routes = [
    Route("/console/procedures", procedures_list, name="procedures"),
    Route("/console/procedures/new", procedure_new, methods=["GET", "POST"], name="procedure_new"),
    *procedures_import.routes,
    Route("/console/procedures/{procedure_id:procedure}", procedure_page, name="procedure"),
    Route(
        "/console/procedures/{procedure_id:procedure}/edit",
        procedure_edit,
        methods=["GET", "POST"],
        name="procedure_edit",
    ),
    Route(
        "/console/procedures/{procedure_id:procedure}/archive",
        procedure_archive,
        methods=["POST"],
        name="procedure_archive",
    ),
    Route(
        "/console/procedures/{procedure_id:procedure}/unarchive",
        procedure_unarchive,
        methods=["POST"],
        name="procedure_unarchive",
    ),
    Route(
        "/console/procedures/{procedure_id:procedure}/origins",
        procedure_add_origin,
        methods=["POST"],
        name="procedure_add_origin",
    ),
]
