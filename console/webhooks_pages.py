"""Webhooks in the console (`can_manage_users`: ministry admins, and DINUM for any ministry).

Routes: `GET /console/webhooks` (name "webhooks": the ministry's endpoints and the form to
add one), `POST /console/webhooks` (register: the signing secret is shown once),
`GET /console/webhooks/{id}` (its last deliveries: event, status, tries, answer, response
time), `POST /console/webhooks/{id}/delete`, `POST /console/webhooks/deliveries/{id}/redeliver`.
Another ministry's endpoint or delivery answers 404. The rules are `retour.webhooks`'.
"""

from __future__ import annotations

from typing import Any, Final

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import console.params  # noqa: F401  # registers the {…:id} and {…:bigid} path convertors
from console.auth import require_user
from console.database import run_db, settings_of
from console.scope import (
    CurrentUser,
    can_manage_users,
    ensure_same_ministry,
    is_admin,
    require,
    visible_ministry_ids,
)
from console.templating import render, translate_for
from retour import webhooks
from retour.collation import french_key
from retour.models import WEBHOOK_EVENTS, Ministry, WebhookDelivery, WebhookEndpoint
from retour.webhook_sender import redeliver

PAGE: Final = "/console/webhooks"
SHOWN_DELIVERIES: Final = 100
EVENT_LABELS: Final = {
    "feedback.created": "Nouveau retour",
    "feedback.status_changed": "Changement de statut",
    "answer.published": "Réponse publiée",
    "problem.created": "Nouveau problème",
    "problem.status_changed": "Changement de statut d’un problème",
    "problem.updated": "Problème modifié (rattachements, fusion, texte)",
}
ERRORS: Final = {
    "bad_url": "Cette adresse n’est pas valide.",
    "not_https": "L’adresse doit commencer par https://.",
    "no_event": "Choisissez au moins un événement.",
    "no_ministry": "Choisissez un ministère.",
}


def _list(session: Session, user: CurrentUser) -> dict[str, Any]:
    visible = visible_ministry_ids(user)
    query = select(WebhookEndpoint, Ministry.name).join(
        Ministry, col(Ministry.id) == WebhookEndpoint.ministry_id
    )
    if visible is not None:
        query = query.where(col(WebhookEndpoint.ministry_id).in_(sorted(visible)))
    query = query.order_by(col(WebhookEndpoint.active).desc(), col(WebhookEndpoint.id))
    ministries = session.exec(select(Ministry)).all() if visible is None else []
    return {
        "endpoints": list(session.exec(query).all()),
        "ministries": sorted(ministries, key=lambda m: french_key(m.name)),
    }


async def _render_list(
    request: Request,
    user: CurrentUser,
    *,
    error: str | None = None,
    created: Any = None,
    status_code: int = 200,
) -> Response:
    _ = translate_for(request)
    flash = {"type": "error", "text": _(ERRORS.get(error, error))} if error else None
    if request.query_params.get("fait") == "supprime":
        flash = {"type": "success", "text": _("Le webhook est supprimé : il ne reçoit plus rien.")}
    context = {
        "nav": "integrations",
        **(await run_db(request, _list, user)),
        "events": WEBHOOK_EVENTS,
        "event_labels": EVENT_LABELS,
        "flash": flash,
        "created": created,
    }
    return render(request, "webhooks.html", context, status_code)


async def endpoints_page(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    return await _render_list(request, user)


async def create(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    form = await request.form()
    settings = settings_of(request)

    def apply(session: Session) -> tuple[WebhookEndpoint, str]:
        if is_admin(user):
            raw = str(form.get("ministry_id") or "")
            if not raw.isdigit() or len(raw) > 12 or session.get(Ministry, int(raw)) is None:
                raise webhooks.WebhookError("no_ministry")
            ministry_id = int(raw)
        else:
            assert user.ministry_id is not None
            ministry_id = user.ministry_id
        return webhooks.register_endpoint(
            session,
            ministry_id=ministry_id,
            url=str(form.get("url") or "")[:3000],
            events=[str(v) for v in form.getlist("events")],
            include_comments=form.get("include_comments") == "1",
            actor=user,
            allow_private=settings.webhook_allow_private,
        )

    try:
        endpoint, secret = await run_db(request, apply)
    except webhooks.WebhookError as exc:
        return await _render_list(request, user, error=exc.code, status_code=400)
    created = {"endpoint": endpoint, "secret": secret}
    return await _render_list(request, user, created=created, status_code=201)


def _id(request: Request, name: str) -> int:
    value: int = request.path_params[name]
    if value > 2**63 - 1:
        raise HTTPException(404)
    return value


def _endpoint(session: Session, user: CurrentUser, ident: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, ident)
    if endpoint is None:
        raise HTTPException(404)
    ensure_same_ministry(user, endpoint.ministry_id)
    return endpoint


def _detail(session: Session, user: CurrentUser, ident: int) -> dict[str, Any]:
    endpoint = _endpoint(session, user, ident)
    deliveries = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == ident)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(SHOWN_DELIVERIES)
    ).all()
    return {"endpoint": endpoint, "deliveries": list(deliveries)}


async def endpoint_page(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    data = await run_db(request, _detail, user, _id(request, "endpoint_id"))
    _ = translate_for(request)
    flash = None
    if request.query_params.get("fait") == "renvoi":
        flash = {"type": "success", "text": _("L’événement repart dans la file d’envoi.")}
    context = {"nav": "integrations", **data, "event_labels": EVENT_LABELS, "flash": flash}
    return render(request, "webhook.html", context)


async def delete(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)

    def apply(session: Session) -> None:
        endpoint = _endpoint(session, user, _id(request, "endpoint_id"))
        webhooks.remove_endpoint(session, endpoint=endpoint, actor=user)

    await run_db(request, apply)
    return RedirectResponse(PAGE + "?fait=supprime", status_code=303)


async def redeliver_one(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)

    def apply(session: Session) -> int:
        delivery = session.get(WebhookDelivery, _id(request, "delivery_id"))
        if delivery is None:
            raise HTTPException(404)
        endpoint = _endpoint(session, user, delivery.endpoint_id)
        if not endpoint.active:
            raise HTTPException(400, "Ce webhook est supprimé.")
        redeliver(session, delivery=delivery)
        return delivery.endpoint_id

    endpoint_id = await run_db(request, apply)
    return RedirectResponse(f"{PAGE}/{endpoint_id}?fait=renvoi", status_code=303)


routes = [
    Route(PAGE, endpoints_page, name="webhooks"),
    Route(PAGE, create, methods=["POST"], name="webhook_create"),
    Route(PAGE + "/{endpoint_id:id}", endpoint_page, name="webhook"),
    Route(PAGE + "/{endpoint_id:id}/delete", delete, methods=["POST"], name="webhook_delete"),
    Route(
        PAGE + "/deliveries/{delivery_id:bigid}/redeliver",
        redeliver_one,
        methods=["POST"],
        name="webhook_redeliver",
    ),
]
