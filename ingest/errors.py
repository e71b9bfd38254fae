"""API errors: one exception family, one JSON shape `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from retour.db import UNAVAILABLE_ERRORS, database_unavailable, unavailable_reason

log = logging.getLogger("retour.ingest")


class ApiError(Exception):
    """An error a client can act on; rendered as JSON by the API, as HTML by the hosted form."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.field, self.headers)


class MalformedRequest(ApiError):
    status = 400
    code = "malformed"


class TokenRefusedError(ApiError):
    status = 403
    code = "token_refused"


class UnknownProcedure(ApiError):
    status = 404
    code = "unknown_procedure"


class BodyTooLarge(ApiError):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class FieldError(ApiError):
    """A field is missing or invalid: `field` names it, `code` says how (e.g. "required")."""

    status = 422
    code = "invalid"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Unavailable(ApiError):
    """The database refused the write; nothing was stored, the client may retry as is."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str = "Service momentanément indisponible, réessayez.") -> None:
        super().__init__(message, headers={"Retry-After": "1"})


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


# Starlette's own errors (unknown route, wrong method) in the same JSON shape.
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), None, exc.headers)


async def client_gone_handler(request: Request, exc: Exception) -> Response:
    # Gone before its body was read: nobody to answer, nothing stored, nothing to log.
    return Response(status_code=400)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """The database is down or unreachable: 503 (retry as is), one log line, no traceback."""
    if not database_unavailable(exc):
        return await unexpected_error_handler(request, exc)
    log.warning(
        "database unavailable on %s %s: answered 503 (%s)",
        request.method,
        request.url.path,
        unavailable_reason(exc),
    )
    return Unavailable().response()


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    # A bug of ours, never the client's fault; the log names the route, never the body.
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "Erreur interne ; réessayez plus tard.")


handlers = {
    ApiError: api_error_handler,
    HTTPException: http_error_handler,
    ClientDisconnect: client_gone_handler,
    # Database errors that are not ours: Starlette's ExceptionMiddleware answers them,
    # and only `Exception` itself reaches its error middleware's 500 (and traceback).
    **dict.fromkeys(UNAVAILABLE_ERRORS, database_error_handler),
    Exception: unexpected_error_handler,
}
