"""People: admins manage every account, ministry admins their own ministry's.

Routes (all need `can_manage_users`; another ministry's account answers 404):
`GET /console/users` (name "users"), `GET/POST /console/users/new` ("user_new"),
`POST /console/users/{user_id}/deactivate` ("user_deactivate"), `POST …/reactivate`
("user_reactivate"). Deactivation bumps `session_version`, which ends the account's sessions.
A ministry admin can never create an `admin` nor give an account another ministry.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.audit import record
from console.auth import require_user
from console.database import run_db
from console.params import parse_id
from console.scope import (
    ADMIN,
    CurrentUser,
    assignable_roles,
    can_manage_users,
    ensure_same_ministry,
    is_admin,
    require,
    scoped,
)
from console.templating import locale_of, render, translate_for
from retour.accounts import AccountError, create_user
from retour.collation import french_key
from retour.models import Ministry, StaffUser
from retour.typography import french_spacing

GENERATED_PASSWORD_BYTES = 15  # 20 URL-safe characters, far above the 12-character minimum


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    role: str
    ministry_name: str | None
    active: bool
    last_login_at: Any


def _list_users(session: Session, actor: CurrentUser, ministry_id: int | None) -> list[UserRow]:
    # Columns, not entities: a page of hundreds of accounts without ORM bookkeeping.
    query = sa_select(
        col(StaffUser.id),
        col(StaffUser.email),
        col(StaffUser.role),
        col(Ministry.name),
        col(StaffUser.active),
        col(StaffUser.last_login_at),
    ).join(Ministry, col(StaffUser.ministry_id) == Ministry.id, isouter=True)
    query = scoped(query, col(StaffUser.ministry_id), actor)
    if ministry_id is not None:
        query = query.where(col(StaffUser.ministry_id) == ministry_id)
    query = query.order_by(col(StaffUser.active).desc(), col(StaffUser.email))
    return [UserRow(*row) for row in session.execute(query).all()]


def _ministries(session: Session, actor: CurrentUser) -> list[Ministry]:
    query = scoped(select(Ministry), col(Ministry.id), actor)
    return sorted(session.exec(query).all(), key=lambda m: french_key(m.name))


def _sentence(text: str) -> str:
    # French messages of retour.accounts follow French typography like every page's words.
    text = french_spacing(text)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


async def users_list(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    ministry_id = parse_id(request.query_params.get("ministere")) if is_admin(user) else None
    rows = await run_db(request, _list_users, user, ministry_id)
    ministries = await run_db(request, _ministries, user) if is_admin(user) else []
    return render(
        request,
        "users/list.html",
        {
            "nav": "users",
            "rows": rows,
            "ministries": ministries,
            "ministry_filter": ministry_id,
            "me": user.id,
            "flash": _flash(request),
        },
    )


def _flash(request: Request) -> dict[str, str] | None:
    _ = translate_for(request)
    done = request.query_params.get("fait")
    messages = {
        "desactive": _("Le compte est désactivé : ses sessions sont fermées."),
        "reactive": _("Le compte est réactivé."),
    }
    return {"type": "success", "text": messages[done]} if done in messages else None


def _create(
    session: Session,
    actor: CurrentUser,
    email: str,
    password: str,
    role: str,
    ministry_id: int | None,
) -> StaffUser:
    return create_user(
        session,
        email=email,
        password=password,
        role=role,
        ministry_id=ministry_id,
        actor_id=actor.id,
        actor_label=actor.email[:60],
    )


# Which input of the form each `retour.accounts` refusal is about.
ACCOUNT_ERROR_FIELDS: Final = {
    "bad_role": "role",
    "admin_with_ministry": "ministry_id",
    "ministry_required": "ministry_id",
    "unknown_ministry": "ministry_id",
    "short_password": "password",
    "long_password": "password",
}


async def user_new(request: Request) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    _ = translate_for(request)
    ministries = await run_db(request, _ministries, user) if is_admin(user) else []
    context: dict[str, Any] = {
        "nav": "users",
        "roles": assignable_roles(user),
        "ministries": ministries,
        "values": {"email": "", "role": "agent", "ministry_id": user.ministry_id},
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "users/new.html", context)

    form = await request.form()
    email = str(form.get("email") or "").strip()
    role = str(form.get("role") or "")
    password = str(form.get("password") or "")
    # Only DINUM chooses the ministry, and an admin account has none.
    chosen = str(form.get("ministry_id") or "").strip() if is_admin(user) and role != ADMIN else ""
    ministry_id = parse_id(chosen) if is_admin(user) else user.ministry_id
    if role == ADMIN:
        ministry_id = None
    context["values"] = {"email": email, "role": role, "ministry_id": ministry_id}
    # By the id of the input in error, in the form's order.
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = _("Indiquez l’adresse électronique du compte.")
    if role not in assignable_roles(user):
        errors["role"] = _("Choisissez un rôle dans la liste.")
    if chosen and ministry_id is None:
        errors["ministry_id"] = _("Choisissez un ministère dans la liste.")
    if ministry_id is not None and not is_admin(user):
        ensure_same_ministry(user, ministry_id)
    generated = not password
    if generated:
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    if not errors:
        try:
            created = await run_db(request, _create, user, email, password, role, ministry_id)
        except AccountError as exc:
            # Shared with the CLI, which prints it after "Error: ": here it stands alone.
            message = _sentence(exc.message("en" if locale_of(request) == "en" else "fr"))
            errors[ACCOUNT_ERROR_FIELDS.get(exc.code, "email")] = message
    if errors:
        context["errors"] = errors
        return render(request, "users/new.html", context, status_code=400)
    return render(
        request,
        "users/created.html",
        {"nav": "users", "created": created, "password": password if generated else None},
        status_code=201,
    )


def _set_active(session: Session, actor: CurrentUser, target_id: int, active: bool) -> None:
    target = session.get(StaffUser, target_id)
    if target is None:
        raise HTTPException(404)
    # Another ministry's account, or a DINUM admin seen by a ministry admin: not theirs.
    ensure_same_ministry(actor, target.ministry_id)
    if target.role == ADMIN and not is_admin(actor):
        raise HTTPException(404)
    if target.id == actor.id:
        raise HTTPException(400, "Vous ne pouvez pas désactiver votre propre compte.")
    if target.active == active:
        return
    target.active = active
    if not active:
        target.session_version += 1  # every open session of this account ends now
    session.add(target)
    record(
        session,
        actor,
        entity="staff_user",
        entity_id=target_id,
        action="reactivate" if active else "deactivate",
        ministry_id=target.ministry_id,
        detail={"email": target.email},
    )


async def user_deactivate(request: Request) -> Response:
    return await _toggle(request, active=False)


async def user_reactivate(request: Request) -> Response:
    return await _toggle(request, active=True)


async def _toggle(request: Request, *, active: bool) -> Response:
    user = require_user(request)
    require(can_manage_users, user)
    target_id = request.path_params["user_id"]
    await run_db(request, _set_active, user, target_id, active)
    done = "reactive" if active else "desactive"
    return RedirectResponse(f"/console/users?fait={done}", status_code=303)


routes = [
    Route("/console/users", users_list, name="users"),
    Route("/console/users/new", user_new, methods=["GET", "POST"], name="user_new"),
    Route(
        "/console/users/{user_id:id}/deactivate",
        user_deactivate,
        methods=["POST"],
        name="user_deactivate",
    ),
    Route(
        "/console/users/{user_id:id}/reactivate",
        user_reactivate,
        methods=["POST"],
        name="user_reactivate",
    ),
]
