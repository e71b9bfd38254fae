"""What every staff API endpoint starts with: the bearer key, its rate limit, JSON in and out.

    @api_endpoint
    async def endpoint(request: Request, key: ApiKey) -> Response: ...

`api_endpoint` authenticates `Authorization: Bearer jfr_…` (401 with `WWW-Authenticate`
otherwise), counts the request against the key's allowance (`RETOUR_STAFF_API_RATE_LIMIT`,
shared through Redis when `RETOUR_REDIS_URL` is set; 429 with `Retry-After`), and turns
every refusal into the ingest's error shape `{"error": {"code", "message", "field"}}`:
`ApiError`, `retour.triage` errors (another ministry's submission is 404, a read-only key
403, a refused transition 409) and `HTTPException`. `json_body(request)` reads a JSON
object (400, 413, 415 otherwise).
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from limits import parse as parse_limit
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from console.database import run_db
from retour import api_keys, triage
from retour.models import ApiKey
from retour.redis_outage import SharedLimiter
from retour.settings import Settings

MAX_BODY_BYTES: Final = 64 * 1024
TRIAGE_STATUS: Final = {
    "not_found": 404,
    "forbidden": 403,
    "transition_refused": 409,
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = dict(headers or {})


def error_json(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


class StaffApiLimiter:
    """Requests per key in a moving window; in memory, or in Redis for several processes."""

    def __init__(self, settings: Settings) -> None:
        self._limiter = SharedLimiter(
            settings.redis_url or "memory://",
            f"{settings.redis_prefix}-staff-api",
            "staff API limits",
        )
        self._item = parse_limit(settings.staff_api_rate_limit)

    def retry_after(self, key_id: int) -> int | None:
        """None when the request may go (and is counted), else the seconds to wait."""
        if self._limiter.hit(self._item, f"key:{key_id}"):
            return None
        reset = self._limiter.get_window_stats(self._item, f"key:{key_id}").reset_time
        return max(1, math.ceil(reset - time.time()))


UNAUTHENTICATED: Final = {"WWW-Authenticate": 'Bearer realm="retour"'}


async def authenticate(request: Request) -> ApiKey:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401,
            "unauthenticated",
            "Authorization: Bearer <API key> is required.",
            headers=UNAUTHENTICATED,
        )
    key = await run_db(request, api_keys.authenticate, token)
    if key is None:
        raise ApiError(
            401, "invalid_key", "This API key is unknown or revoked.", headers=UNAUTHENTICATED
        )
    limiter: StaffApiLimiter = request.state.console_api_limiter
    assert key.id is not None
    wait = limiter.retry_after(key.id)
    if wait is not None:
        raise ApiError(
            429,
            "rate_limited",
            "Too many requests for this key.",
            headers={"Retry-After": str(wait)},
        )
    return key


def require_write(key: ApiKey) -> None:
    if not key.can_write:
        raise ApiError(403, "read_only", "This API key is read-only.")


Endpoint = Callable[[Request, ApiKey], Awaitable[Response]]


def api_endpoint(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        try:
            key = await authenticate(request)
            return await endpoint(request, key)
        except ApiError as exc:
            return error_json(exc.status, exc.code, exc.message, exc.field, exc.headers)
        except triage.TriageError as exc:
            return error_json(TRIAGE_STATUS.get(exc.code, 422), exc.code, str(exc))
        except HTTPException as exc:
            code = "not_found" if exc.status_code == 404 else "error"
            return error_json(exc.status_code, code, str(exc.detail))

    return wrapper


async def json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send application/json.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", "The body is over 64 KiB.")
    try:
        data = json.loads(bytes(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed", "The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "malformed", "The body must be a JSON object.")
    return data


def text_field(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ApiError(422, "invalid", f"{name} must be a string.", field=name)
    if len(value) > limit:
        raise ApiError(422, "too_long", f"{name} is at most {limit} characters.", field=name)
    if "\x00" in value:
        raise ApiError(422, "invalid", f"{name} must not contain NUL.", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ApiError(422, "invalid", f"{name} is not valid text.", field=name) from exc
    return value
