"""Signed cookie sessions for the console, and who the caller is.

Interface (re-exported by `console.security`, the documented entry point):

- `SessionMiddleware`: reads the signed session cookie (itsdangerous, salt "session"; cookie
  `retour_session`, path `/console`, HttpOnly, SameSite=Lax, Secure over HTTPS, 12 h idle),
  loads the signed-in user (active, matching `session_version`) into the scope, and writes the
  cookie back when the session changed. Paths outside `/console` never get a cookie.
- `session_of(request)`, `current_user(request)`, `csrf_token(request)`,
  `mark_session_changed(request)`, `client_address(request, settings)`, `is_https(...)`.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from http.cookies import SimpleCookie
from typing import Any, Final

from itsdangerous import BadSignature
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.scope import CurrentUser
from retour.db import session_scope
from retour.models import Ministry, StaffUser
from retour.settings import Settings
from retour.signing import SESSION_SALT, serializer

SESSION_COOKIE: Final = "retour_session"
SESSION_PATH: Final = "/console"
SESSION_IDLE_SECONDS: Final = 12 * 60 * 60
# Re-sign the cookie at most this often, so that idle expiry slides without a write per request.
SESSION_REFRESH_SECONDS: Final = 5 * 60

SCOPE_SESSION: Final = "retour.session"
SCOPE_USER: Final = "retour.user"


def is_console_path(path: str) -> bool:
    return path == SESSION_PATH or path.startswith(SESSION_PATH + "/")


def session_of(request: HTTPConnection) -> dict[str, Any]:
    session: dict[str, Any] = request.scope.setdefault(SCOPE_SESSION, {})
    return session


def current_user(request: HTTPConnection) -> CurrentUser | None:
    """The signed-in staff member, or None (anonymous, deactivated, signed out elsewhere)."""
    user: CurrentUser | None = request.scope.get(SCOPE_USER)
    return user


def csrf_token(request: HTTPConnection) -> str:
    session = session_of(request)
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
        request.scope["retour.session_changed"] = True
    return token


def mark_session_changed(request: HTTPConnection) -> None:
    request.scope["retour.session_changed"] = True


def is_https(request: HTTPConnection, settings: Settings) -> bool:
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and _trusted(
        request.client.host if request.client else "", settings
    )


def client_address(request: HTTPConnection, settings: Settings) -> str:
    """The caller's address; X-Forwarded-For is believed only from a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, settings):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    # The rightmost address not added by one of our proxies is the client's.
    for hop in reversed(hops):
        if not _trusted(hop, settings):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, settings: Settings) -> bool:
    if not settings.trusted_proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies)


# --- Sessions ----------------------------------------------------------------------------


def _load_user(settings: Settings, engine: Any, uid: int, version: int) -> CurrentUser | None:
    with session_scope(engine) as db:
        row = db.exec(
            select(StaffUser, Ministry.name)
            .join(Ministry, StaffUser.ministry_id == Ministry.id, isouter=True)  # type: ignore[arg-type]
            .where(StaffUser.id == uid)
        ).first()
    if row is None:
        return None
    user, ministry_name = row
    if not user.active or user.session_version != version:
        return None
    assert user.id is not None
    return CurrentUser(
        id=user.id,
        email=user.email,
        role=user.role,
        ministry_id=user.ministry_id,
        ministry_name=ministry_name,
        session_version=user.session_version,
    )


class SessionMiddleware:
    """Signed cookie sessions for `/console`; loads the signed-in user once per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_console_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        settings: Settings = scope["state"]["settings"]
        signer = serializer(settings.secret_key, SESSION_SALT)
        session: dict[str, Any] = {}
        raw = connection.cookies.get(SESSION_COOKIE)
        stale = False
        if raw:
            try:
                loaded = signer.loads(raw, max_age=SESSION_IDLE_SECONDS)
                if isinstance(loaded, dict):
                    session = loaded
            except BadSignature:
                stale = True  # expired or forged: start afresh and drop the cookie
        scope[SCOPE_SESSION] = session
        scope[SCOPE_USER] = None
        uid, version = session.get("uid"), session.get("ver", 0)
        if isinstance(uid, int):
            user = await run_in_threadpool(
                _load_user, settings, scope["state"]["console_engine"], uid, version
            )
            if user is None:
                session.pop("uid", None)
                session.pop("ver", None)
                stale = True
            scope[SCOPE_USER] = user
        issued = session.get("t", 0)
        refresh = bool(session) and time.time() - float(issued or 0) > SESSION_REFRESH_SECONDS

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                changed = scope.get("retour.session_changed", False)
                if changed or refresh or stale:
                    headers = MutableHeaders(scope=message)
                    headers.append(
                        "set-cookie", self._cookie(connection, settings, signer, session)
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _cookie(
        connection: HTTPConnection, settings: Settings, signer: Any, session: dict[str, Any]
    ) -> str:
        cookie: SimpleCookie = SimpleCookie()
        if session:
            session["t"] = int(time.time())
            cookie[SESSION_COOKIE] = signer.dumps(session)
            cookie[SESSION_COOKIE]["max-age"] = SESSION_IDLE_SECONDS
        else:
            cookie[SESSION_COOKIE] = ""
            cookie[SESSION_COOKIE]["max-age"] = 0
        morsel = cookie[SESSION_COOKIE]
        morsel["path"] = SESSION_PATH
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        if is_https(connection, settings):
            morsel["secure"] = True  # Secure cookies only travel over HTTPS
        return morsel.OutputString()
