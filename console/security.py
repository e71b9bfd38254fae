"""Sessions, CSRF, security headers and sign-in throttling for the console.

Interface:

- `SessionMiddleware` (in `console.sessions`): the signed session cookie (itsdangerous, salt
  "session"; `retour_session`, path `/console`, HttpOnly, SameSite=Lax, Secure over HTTPS,
  12 h idle); loads the signed-in user (active, matching `session_version`) into the scope.
  Citizen-facing paths (outside `/console`) never get a cookie.
- `session_of(request) -> dict`: the mutable session (`uid`, `ver`, `csrf`); change it through
  `sign_in(request, user)` / `sign_out(request)` (in `console.auth`).
- `csrf_token(request) -> str`: the token to put in forms (`templating.render` exposes it as
  `csrf_token` and `csrf_input()`), or send as the `X-CSRF-Token` header.
- `CSRFMiddleware`: every POST/PUT/PATCH/DELETE under `/console` needs that token (form field
  `csrf_token` or header `X-CSRF-Token`) and, when the browser sends `Origin` or `Referer`, one
  naming this host; otherwise 403. A form holding a NUL character is refused too (400): no
  field needs one, and PostgreSQL cannot store or even compare text that holds one.
- `SecurityHeadersMiddleware`: a strict CSP (no inline script or style), `frame-ancestors
  'none'`, `Referrer-Policy: same-origin`, `X-Content-Type-Options: nosniff`; `no-store` on
  console pages.
- `LoginThrottle` (in `console.throttle`) limits failed sign-ins.
- `client_address(request)`: the caller's address, believing X-Forwarded-For only from
  `settings.trusted_proxies`.
"""

from __future__ import annotations

import hmac
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The session interface lives in console.sessions; re-exported here as documented.
from console.sessions import (
    SESSION_COOKIE,
    SESSION_PATH,
    SessionMiddleware,
    client_address,
    csrf_token,
    current_user,
    is_console_path,
    is_https,
    mark_session_changed,
    session_of,
)

__all__ = [
    "CSP",
    "SESSION_COOKIE",
    "SESSION_PATH",
    "CSRFMiddleware",
    "SecurityHeadersMiddleware",
    "SessionMiddleware",
    "client_address",
    "csrf_token",
    "current_user",
    "is_console_path",
    "is_https",
    "mark_session_changed",
    "session_of",
]

CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# The largest request body the console accepts (the procedures spreadsheet is the biggest).
MAX_BODY_BYTES: Final = 5 * 1024 * 1024

CSP: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)

# --- CSRF --------------------------------------------------------------------------------


class CSRFMiddleware:
    """A session-bound token and a same-site Origin on every state-changing console request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not is_console_path(scope.get("path", ""))
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not _same_site(request):
            await self._refuse(request, send, "cross-site")
            return
        buffer = bytearray()
        more = True
        while more:
            message = await receive()
            buffer += message.get("body", b"")
            more = message.get("more_body", False)
            if len(buffer) > MAX_BODY_BYTES:
                await self._refuse(request, send, "too-large")
                return
        body = bytes(buffer)

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        delivered = False

        async def body_then_receive() -> Message:
            # The app gets the body once, then the real channel: a streamed response (a
            # POSTed export) waits on it for the client's disconnect, and must not spin.
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return await replay()

        sent = request.headers.get(CSRF_HEADER)
        field: object = None
        nul = False
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                async with Request(scope, replay).form() as form:
                    field = form.get(CSRF_FIELD)
                    nul = any(isinstance(v, str) and "\x00" in v for _, v in form.multi_items())
            except Exception:  # a malformed body is simply a request without a token
                field = None
        if sent is None and isinstance(field, str):
            sent = field
        expected = session_of(request).get("csrf")
        if not (isinstance(sent, str) and isinstance(expected, str) and expected):
            await self._refuse(request, send, "missing-token")
            return
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            await self._refuse(request, send, "bad-token")
            return
        if nul:
            await self._refuse(request, send, "nul")
            return
        await self.app(scope, body_then_receive, send)

    @staticmethod
    async def _refuse(request: Request, send: Send, reason: str) -> None:
        from console.errors import error_response
        from console.templating import translate_for

        if reason == "nul":
            _ = translate_for(request)
            message = _("Le formulaire contient un caractère nul, qu’aucun champ n’accepte.")
            response = error_response(request, 400, message)
        else:
            status = 413 if reason == "too-large" else 403
            response = error_response(request, status, csrf_reason=reason)
        await response(request.scope, request.receive, send)


def _same_site(request: Request) -> bool:
    """A browser names the page a request came from; it must be this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # not a browser (no Origin nor Referer): the token alone decides
    if source == "null":
        return False
    # This host, or the public address (a proxy may rewrite Host on its way to us).
    hosts = {request.headers.get("host", "").lower()}
    settings = request.scope.get("state", {}).get("settings")
    if settings is not None:
        hosts.add(urlsplit(settings.public_url).netloc.lower())
    try:
        return urlsplit(source).netloc.lower() in hosts
    except ValueError:
        return False


# --- Headers -----------------------------------------------------------------------------


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = is_console_path(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers[name.decode()] = value.decode()
                if private:
                    # Staff pages hold personal data: never keep them in a shared cache.
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
