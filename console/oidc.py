"""Signing in through ProConnect (OpenID Connect), when `RETOUR_OIDC_ISSUER` is set.

Routes: `GET /console/oidc/login?next=…` (name "oidc_login") sends the browser to the
provider with a fresh `state`, `nonce` and PKCE verifier kept in the signed session;
`GET /console/oidc/callback` (name "oidc_callback") checks `state` (and `iss`), lets
`console.oidc_client` exchange the code and check the tokens, then:

- an active account with that email (case-insensitive) is signed in, as by password;
- a deactivated one is refused;
- someone without an account whose email domain a ministry registered gets an access request
  (`retour.access_requests`) that the ministry's admin approves or refuses — never an
  account by themselves; anyone else is told to ask their ministry.

The ID token stays in the session so that signing out also ends the provider's session
(`console.auth.logout`, RP-initiated logout). Every failure answers the sign-in page
with a message and 400 (503 when the provider cannot be reached): never a 500.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlmodel import Session, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import SESSION_ID_TOKEN, login_context, safe_next, sign_in
from console.database import run_db, settings_of
from console.oidc_client import Attempt, Identity, OIDCClient, OIDCError
from console.security import mark_session_changed, session_of
from console.templating import render, translate_for
from retour.access_requests import request_access
from retour.models import AccessRequest, StaffUser, utcnow

log = logging.getLogger("retour.console")

CALLBACK_PATH: Final = "/console/oidc/callback"
SESSION_ATTEMPT: Final = "oidc"


def oidc_of(request: Request) -> OIDCClient | None:
    client: OIDCClient | None = request.state.console_oidc
    return client


def callback_url(request: Request) -> str:
    return settings_of(request).public_url + CALLBACK_PATH


def _login_page(request: Request, error: str, status_code: int) -> Response:
    return render(request, "login.html", login_context(request, error=error), status_code)


async def oidc_login(request: Request) -> Response:
    client = oidc_of(request)
    if client is None:
        raise HTTPException(404)
    attempt = client.new_attempt()
    try:
        url = await client.authorization_url(attempt, callback_url(request))
    except OIDCError as exc:
        log.warning("ProConnect sign-in could not start: %s", exc)
        _ = translate_for(request)
        return _login_page(request, _(MESSAGES["provider_unavailable"]), 503)
    session = session_of(request)
    session[SESSION_ATTEMPT] = {
        **attempt.to_session(),
        "next": safe_next(request.query_params.get("next")),
    }
    mark_session_changed(request)
    return RedirectResponse(url, status_code=303)


MESSAGES: Final = {
    "provider_unavailable": "ProConnect ne répond pas. Réessayez dans quelques minutes.",
    "refused": "La connexion avec ProConnect n’a pas abouti. Recommencez depuis cette page.",
    "cancelled": "La connexion avec ProConnect a été annulée.",
    "inactive": "Ce compte est désactivé. Adressez-vous à l’administrateur de votre ministère.",
}


@dataclass(frozen=True)
class Outcome:
    user: StaffUser | None = None
    request: AccessRequest | None = None
    inactive: bool = False


def match_identity(session: Session, *, email: str, name: str) -> Outcome:
    """The account of this email, or else its access request (None: no ministry's domain)."""
    user = session.exec(select(StaffUser).where(func.lower(StaffUser.email) == email)).first()
    if user is not None:
        if not user.active:
            return Outcome(inactive=True)
        user.last_login_at = utcnow()
        session.add(user)
        session.flush()
        return Outcome(user=user)
    return Outcome(request=request_access(session, email=email, name=name))


async def oidc_callback(request: Request) -> Response:
    client = oidc_of(request)
    if client is None:
        raise HTTPException(404)
    _ = translate_for(request)
    session = session_of(request)
    pending: Any = session.pop(SESSION_ATTEMPT, None)
    mark_session_changed(request)  # an attempt is used once, whatever happens next
    attempt = Attempt.from_session(pending)
    params = request.query_params
    if params.get("error"):
        return _login_page(request, _(MESSAGES["cancelled"]), 400)
    state, code, issuer = params.get("state", ""), params.get("code", ""), params.get("iss")
    # A callback this browser did not start (forged, replayed, or from another tab's attempt).
    if attempt is None or not hmac.compare_digest(state.encode(), attempt.state.encode()):
        log.warning("ProConnect callback refused: state does not match this session")
        return _login_page(request, _(MESSAGES["refused"]), 400)
    # RFC 9207: a provider that names itself must be ours (mix-up attacks).
    if issuer is not None and issuer.rstrip("/") != client.issuer.rstrip("/"):
        log.warning("ProConnect callback refused: iss %r", issuer)
        return _login_page(request, _(MESSAGES["refused"]), 400)
    if not code or len(code) > 2048:
        return _login_page(request, _(MESSAGES["refused"]), 400)
    try:
        identity: Identity = await client.finish(
            attempt, code=code, redirect_uri=callback_url(request)
        )
    except OIDCError as exc:
        log.warning("ProConnect sign-in refused: %s", exc)
        if exc.code == "provider_unavailable":
            return _login_page(request, _(MESSAGES["provider_unavailable"]), 503)
        return _login_page(request, _(MESSAGES["refused"]), 400)

    outcome = await run_db(request, match_identity, email=identity.email, name=identity.name)
    if outcome.user is not None:
        sign_in(request, outcome.user)
        session_of(request)[SESSION_ID_TOKEN] = identity.id_token
        return RedirectResponse(str(pending.get("next") or "/console/"), status_code=303)
    if outcome.inactive:
        return _login_page(request, _(MESSAGES["inactive"]), 403)
    access = outcome.request
    context = {
        "email": identity.email,
        "status": access.status if access is not None else "unknown_domain",
    }
    pending_request = access is not None and access.status == "pending"
    return render(request, "access_request.html", context, 202 if pending_request else 403)


routes = [
    Route("/console/oidc/login", oidc_login, name="oidc_login"),
    Route(CALLBACK_PATH, oidc_callback, name="oidc_callback"),
]
