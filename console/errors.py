"""Errors by audience: an HTML page in French (English on request) for people, JSON for machines.

`error_response(request, status, message=None)` renders `templates/{status}.html`, falling back
to `templates/error.html`; a request that asks for JSON (Accept without text/html, or a path
ending in `.json`) gets `{"error": {"code": ..., "message": ...}}` instead. `handlers` is the
mapping `create_app` installs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from jinja2 import TemplateNotFound
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from retour.db import UNAVAILABLE_ERRORS, database_unavailable, unavailable_reason

log = logging.getLogger("retour.console")

CODES: Final = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}
TITLES: Final = {
    400: "Requête incorrecte",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Envoi trop volumineux",
    422: "Données invalides",
    429: "Trop de tentatives",
    500: "Erreur inattendue",
    503: "Service momentanément indisponible",
}
# The database is down or unreachable: staff and citizens are asked to come back shortly.
UNAVAILABLE_MESSAGE: Final = (
    "Le service ne peut pas lire ses données en ce moment. Réessayez dans quelques instants."
)
RETRY_AFTER: Final = {"Retry-After": "5"}


class LoginRequired(Exception):
    """Raised by `require_user` for anonymous visitors: redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json") or request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request,
    status: int,
    message: str | None = None,
    *,
    csrf_reason: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    from console.templating import render, translate_for

    _ = translate_for(request)
    title = _(TITLES.get(status, "Erreur"))
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": CODES.get(status, "error"), "message": message or title}},
            status_code=status,
            headers=headers,
        )
    context: dict[str, Any] = {
        "status": status,
        "title": title,
        "message": message,
        "csrf_reason": csrf_reason,
    }
    try:
        return render(request, f"{status}.html", context, status_code=status, headers=headers)
    except TemplateNotFound:
        return render(request, "error.html", context, status_code=status, headers=headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _default(exc) else None
    return error_response(request, exc.status_code, detail, headers=exc.headers)


def _default(exc: HTTPException) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(exc.status_code).phrase
    except ValueError:
        return ""


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    from console.auth import login_url

    return RedirectResponse(login_url(exc.next_path), status_code=303)


async def database_error(request: Request, exc: Exception) -> Response:
    """A database that cannot serve now is a 503 with one log line, not a bug's 500."""
    if not database_unavailable(exc):
        return await server_error(request, exc)
    log.warning(
        "database unavailable on %s %s: answered 503 (%s)",
        request.method,
        request.url.path,
        unavailable_reason(exc),
    )
    from console.templating import translate_for

    try:
        message = translate_for(request)(UNAVAILABLE_MESSAGE)
        return error_response(request, 503, message, headers=RETRY_AFTER)
    except Exception:  # the error page needed the database too
        return Response(UNAVAILABLE_MESSAGE, status_code=503, headers=RETRY_AFTER)


async def server_error(request: Request, exc: Exception) -> Response:
    # Errors raised outside the routes (middleware) arrive here, the database's included.
    if database_unavailable(exc):
        return await database_error(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    try:
        return error_response(request, 500)
    except Exception:  # the error page itself failed: answer plainly rather than not at all
        return Response("Erreur inattendue / Unexpected error", status_code=500)


handlers: dict[Any, Any] = {
    HTTPException: http_exception,
    LoginRequired: login_required,
    **dict.fromkeys(UNAVAILABLE_ERRORS, database_error),
    500: server_error,
}
