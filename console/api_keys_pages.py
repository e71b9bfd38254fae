"""API keys in the console (`can_manage_users`: ministry admins, and DINUM for any ministry).

Routes: `GET /console/api-keys` (name "api_keys": the ministry's keys, their access, creator,
last use, and the form to make one), `POST /console/api-keys` (create: the key is shown
once, on the answer page), `POST /console/api-keys/{id}/revoke`. Another ministry's key
answers 404. The rules are `retour.api_keys`'.
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
from console.database import run_db
from console.scope import (
    CurrentUser,
    can_manage_users,
    ensure_same_ministry,
    is_admin,
    require,
    visible_ministry_ids,
)
from console.templating import render, translate_for
from retour import api_keys
from retour.collation import french_key
from retour.models import ApiKey, Ministry, StaffUser

PAGE: Final = "/console/api-keys"
ERRORS: Final = {
    "empty_name": "Donnez un nom à la clé (l’outil qui s’en servira).",
    "name_too_long": "Le nom est trop long (100 caractères au plus).",
    "no_ministry": "Choisissez un ministère.",
}


def _page_data(session: Session, user: CurrentUser) -> dict[str, Any]:
    visible = visible_ministry_ids(user)
    query = (
        select(ApiKey, StaffUser.email, Ministry.name)
        .join(StaffUser, col(StaffUser.id) == ApiKey.created_by_id)
        .join(Ministry, col(Ministry.id) == ApiKey.ministry_id)
    )
    if visible is not None:
        query = query.where(col(ApiKey.ministry_id).in_(sorted(visible)))
    query = query.order_by(col(ApiKey.revoked_at).is_not(None), col(ApiKey.created_at).desc())
    ministries = session.exec(select(Ministry)).all() if visible is None else []
    return {
        "keys": list(session.exec(query).all()),
        "ministries": sorted(ministries, key=lambda m: french_key(m.name)),
    }


async def keys_page(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    return await _render(request, user)


async def _render(
    request: Request,
    user: CurrentUser,
    *,
    error: str | None = None,
    created: Any = None,
    status_code: int = 200,
) -> Response:
    _ = translate_for(request)
    data = await run_db(request, _page_data, user)
    flash = None
    if error:
        flash = {"type": "error", "text": _(ERRORS.get(error, error))}
    elif request.query_params.get("fait") == "revoquee":
        flash = {"type": "success", "text": _("La clé est révoquée : elle ne sert plus.")}
    context = {"nav": "integrations", **data, "flash": flash, "created": created}
    return render(request, "api_keys.html", context, status_code)


def _ministry_for(session: Session, user: CurrentUser, raw: Any) -> int:
    if not is_admin(user):
        assert user.ministry_id is not None
        return user.ministry_id
    text = str(raw or "")
    if not text.isdigit() or len(text) > 12 or session.get(Ministry, int(text)) is None:
        raise api_keys.ApiKeyError("no_ministry")
    return int(text)


async def create(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    form = await request.form()

    def apply(session: Session) -> tuple[ApiKey, str]:
        return api_keys.create_key(
            session,
            ministry_id=_ministry_for(session, user, form.get("ministry_id")),
            name=str(form.get("name") or "")[:500],
            can_write=form.get("access") == "write",
            actor=user,
        )

    try:
        key, plain = await run_db(request, apply)
    except api_keys.ApiKeyError as exc:
        return await _render(request, user, error=exc.code, status_code=400)
    return await _render(request, user, created={"key": key, "plain": plain}, status_code=201)


async def revoke(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    ident: int = request.path_params["key_id"]

    def apply(session: Session) -> None:
        key = session.get(ApiKey, ident)
        if key is None:
            raise HTTPException(404)
        ensure_same_ministry(user, key.ministry_id)
        api_keys.revoke_key(session, key=key, actor=user)

    await run_db(request, apply)
    return RedirectResponse(PAGE + "?fait=revoquee", status_code=303)


routes = [
    Route(PAGE, keys_page, name="api_keys"),
    Route(PAGE, create, methods=["POST"], name="api_key_create"),
    Route(PAGE + "/{key_id:id}/revoke", revoke, methods=["POST"], name="api_key_revoke"),
]
