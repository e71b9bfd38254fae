"""Access requests and email domains, for account managers (`can_manage_users`).

Routes: `GET /console/users/access` (name "access_requests": pending requests and the
ministry's email domains), `POST /console/users/access/{id}/approve` (with a `role`),
`POST …/refuse`, `POST /console/users/domains` (add `domain`; DINUM also picks
`ministry_id`), `POST /console/users/domains/remove`. Another ministry's request or domain
answers 404. The rules are `retour.access_requests`'.
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
from retour import access_requests as access
from retour.collation import french_key
from retour.models import AccessRequest, Ministry, MinistryDomain

PAGE: Final = "/console/users/access"
DONE: Final = {
    "approuvee": "La demande est acceptée : le compte est créé.",
    "refusee": "La demande est refusée.",
    "domaine": "Le domaine est enregistré.",
    "domaine-retire": "Le domaine est retiré.",
}
ERRORS: Final = {
    "bad_domain": "Ce domaine n’est pas valide (par exemple : interieur.gouv.fr).",
    "domain_taken": "Ce domaine est déjà rattaché à un autre ministère.",
    "domain_mine": "Ce domaine est déjà enregistré.",
    "bad_role": "Choisissez un rôle dans la liste.",
    "already_decided": "Cette demande a déjà été traitée.",
    "duplicate": "Un compte existe déjà pour cette adresse.",
    "bad_request": "Cette demande ne peut pas être acceptée.",
    "no_ministry": "Choisissez un ministère.",
}


def _page_data(session: Session, user: CurrentUser) -> dict[str, Any]:
    visible = visible_ministry_ids(user)
    ids = None if visible is None else sorted(visible)
    ministries = session.exec(select(Ministry)).all()
    names = {m.id: m.name for m in ministries}
    domains_q = select(MinistryDomain)
    if ids is not None:
        domains_q = domains_q.where(col(MinistryDomain.ministry_id).in_(ids))
    domains = session.exec(domains_q.order_by(col(MinistryDomain.domain))).all()
    return {
        "requests": [
            (r, names.get(r.ministry_id, "")) for r in access.pending(session, ministry_ids=ids)
        ],
        "domains": [(d, names.get(d.ministry_id, "")) for d in domains],
        "ministries": sorted(
            (m for m in ministries if ids is None or m.id in ids), key=lambda m: french_key(m.name)
        ),
    }


def _flash(request: Request) -> dict[str, str] | None:
    _ = translate_for(request)
    done, error = request.query_params.get("fait"), request.query_params.get("erreur")
    if done in DONE:
        return {"type": "success", "text": _(DONE[done])}
    if error in ERRORS:
        return {"type": "error", "text": _(ERRORS[error])}
    return None


async def access_page(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    data = await run_db(request, _page_data, user)
    context = {
        "nav": "users",
        **data,
        "roles": access.APPROVABLE_ROLES,
        "flash": _flash(request),
    }
    return render(request, "users/access.html", context)


def _back(done: str | None = None, error: str | None = None) -> Response:
    query = f"?fait={done}" if done else f"?erreur={error}" if error else ""
    return RedirectResponse(PAGE + query, status_code=303)


async def _decide(request: Request, approve: bool) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    ident: int = request.path_params["request_id"]
    form = await request.form()
    role = str(form.get("role") or "")[:20]

    def apply(session: Session) -> None:
        row = session.get(AccessRequest, ident)
        if row is None:
            raise HTTPException(404)
        ensure_same_ministry(user, row.ministry_id)
        if approve:
            access.approve(session, request=row, role=role, actor=user)
        else:
            access.refuse(session, request=row, actor=user)

    try:
        await run_db(request, apply)
    except access.AccessError as exc:
        return _back(error=exc.code)
    return _back(done="approuvee" if approve else "refusee")


async def approve(request: Request) -> Response:
    return await _decide(request, approve=True)


async def refuse(request: Request) -> Response:
    return await _decide(request, approve=False)


def _ministry_for(user: CurrentUser, raw: Any) -> int:
    if not is_admin(user):
        assert user.ministry_id is not None
        return user.ministry_id
    text = str(raw or "")
    if not text.isdigit() or len(text) > 12:
        raise access.AccessError("no_ministry")
    return int(text)


async def add_domain(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    form = await request.form()

    def apply(session: Session) -> None:
        ministry_id = _ministry_for(user, form.get("ministry_id"))
        if session.get(Ministry, ministry_id) is None:
            raise access.AccessError("no_ministry")
        access.register_domain(
            session, ministry_id=ministry_id, domain=str(form.get("domain") or "")[:300], actor=user
        )

    try:
        await run_db(request, apply)
    except access.AccessError as exc:
        return _back(error=exc.code)
    return _back(done="domaine")


async def remove_domain(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    form = await request.form()
    domain = str(form.get("domain") or "")[:300]

    def apply(session: Session) -> None:
        row = session.get(MinistryDomain, domain)
        if row is None:
            raise HTTPException(404)
        ensure_same_ministry(user, row.ministry_id)
        access.remove_domain(session, ministry_id=row.ministry_id, domain=domain, actor=user)

    await run_db(request, apply)
    return _back(done="domaine-retire")


routes = [
    Route(PAGE, access_page, name="access_requests"),
    Route(PAGE + "/{request_id:id}/approve", approve, methods=["POST"], name="access_approve"),
    Route(PAGE + "/{request_id:id}/refuse", refuse, methods=["POST"], name="access_refuse"),
    Route("/console/users/domains", add_domain, methods=["POST"], name="domain_add"),
    Route("/console/users/domains/remove", remove_domain, methods=["POST"], name="domain_remove"),
]
