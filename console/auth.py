"""Signing in and out, and the guard every console endpoint starts with.

Interface:

    from console.auth import require_user
    user = require_user(request)                                # any signed-in staff member
    user = require_user(request, roles=("admin", "ministry_admin"))

`require_user` returns the `console.scope.CurrentUser`; an anonymous visitor is redirected
(303) to `/console/login?next=<this page>`, a role outside `roles` gets 403. It is a plain
function (no await): the session middleware has already loaded the user.

Routes: `GET/POST /console/login` (name "login"), `POST /console/logout` (name "logout").
Signing out, like deactivation, bumps the account's `session_version`, which ends every
session of that account on every device; a session opened through ProConnect
(`console.oidc`) is also ended at the provider (RP-initiated logout: the browser goes to its
`end_session_endpoint` and comes back to the sign-in page). `RETOUR_PASSWORD_LOGIN=false`
hides the password form and refuses its POST (403): ProConnect only.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.database import run_db, settings_of
from console.errors import LoginRequired
from console.oidc_client import OIDCClient
from console.scope import CurrentUser
from console.security import client_address, current_user, mark_session_changed, session_of
from console.templating import render, translate_for
from console.throttle import LoginThrottle
from retour.models import StaffUser, utcnow
from retour.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password

HOME = "/console/"
LOGIN_PATH = "/console/login"
MAX_EMAIL = 254
MAX_PASSWORD = 1024  # argon2 hashes anything, but nobody types a longer password
# The ID token of a session opened through ProConnect, the hint its sign-out needs.
SESSION_ID_TOKEN = "idt"


def require_user(request: Request, roles: Iterable[str] | None = None) -> CurrentUser:
    user = current_user(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    if roles is not None and user.role not in tuple(roles):
        raise HTTPException(403)
    return user


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//evil.example` nor `https://…`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    if any(ord(c) < 32 or c == "\\" for c in value):
        return HOME
    return value


def login_url(next_path: str | None = None) -> str:
    target = safe_next(next_path)
    return LOGIN_PATH if target == HOME else f"{LOGIN_PATH}?next={quote(target, safe='/')}"


def _check_credentials(session: Session, email: str, password: str) -> StaffUser | None:
    user = session.exec(select(StaffUser).where(func.lower(StaffUser.email) == email)).first()
    if user is None or not user.active:
        # Same work as for a real account, so timing does not tell which emails exist.
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def _end_sessions(session: Session, user_id: int) -> None:
    user = session.get(StaffUser, user_id)
    if user is not None:
        user.session_version += 1
        session.add(user)


def sign_in(request: Request, user: StaffUser) -> None:
    session = session_of(request)
    session.clear()
    session["uid"] = user.id
    session["ver"] = user.session_version
    # A fresh token at sign-in: a token planted before sign-in is worth nothing after.
    session["csrf"] = secrets.token_urlsafe(32)
    mark_session_changed(request)


def sign_out(request: Request) -> None:
    session_of(request).clear()
    mark_session_changed(request)


def login_context(
    request: Request, *, next_path: str | None = None, email: str = "", error: str | None = None
) -> dict[str, Any]:
    """What the sign-in page needs: which ways of signing in are offered, and a message."""
    settings = settings_of(request)
    return {
        "next": next_path or safe_next(request.query_params.get("next")),
        "email": email,
        "error": error,
        "oidc": settings.oidc_enabled,
        "password_login": settings.password_login,
        "signed_out": request.query_params.get("state") is not None,
    }


async def login(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if current_user(request) is not None:
            return RedirectResponse(next_path, status_code=303)
        return render(request, "login.html", login_context(request, next_path=next_path))

    _ = translate_for(request)
    if not settings_of(request).password_login:
        error = _("La connexion par mot de passe est désactivée : utilisez ProConnect.")
        return render(request, "login.html", login_context(request, error=error), 403)
    form = await request.form()
    email = str(form.get("email") or "").strip().lower()[:MAX_EMAIL]
    password = str(form.get("password") or "")[:MAX_PASSWORD]
    next_path = safe_next(str(form.get("next") or next_path))
    context = login_context(request, next_path=next_path, email=email)

    throttle: LoginThrottle = request.state.console_login_throttle
    address = client_address(request, settings_of(request))
    wait = throttle.retry_after(email, address)
    if wait is not None:
        minutes = max(1, (wait + 59) // 60)
        context["error"] = _(
            "Trop de tentatives de connexion. Réessayez dans {minutes} minutes.", minutes=minutes
        )
        return render(request, "login.html", context, 429, headers={"Retry-After": str(wait)})
    if not email or not password:
        context["error"] = _("Saisissez votre adresse électronique et votre mot de passe.")
        return render(request, "login.html", context, 400)

    user = await run_db(request, _check_credentials, email, password)
    if user is None:
        throttle.failed(email, address)
        context["error"] = _("Adresse électronique ou mot de passe incorrect.")
        return render(request, "login.html", context, 400)
    throttle.succeeded(email)
    sign_in(request, user)
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    user = current_user(request)
    id_token = session_of(request).get(SESSION_ID_TOKEN)
    if user is not None:
        await run_db(request, _end_sessions, user.id)
    sign_out(request)
    target = await _provider_logout(request, id_token) if user is not None else None
    return RedirectResponse(target or LOGIN_PATH, status_code=303)


async def _provider_logout(request: Request, id_token: Any) -> str | None:
    """The provider's sign-out address when this session was opened through ProConnect."""
    client: OIDCClient | None = request.state.console_oidc
    if client is None or not isinstance(id_token, str) or not id_token:
        return None
    return await client.logout_url(id_token, settings_of(request).public_url + LOGIN_PATH)


routes = [
    Route("/console/login", login, methods=["GET", "POST"], name="login"),
    Route("/console/logout", logout, methods=["POST"], name="logout"),
]
