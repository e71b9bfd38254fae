"""Reading a JSON body safely: size cap before and while reading, content types, parse errors."""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import Request

from ingest.errors import BodyTooLarge, MalformedRequest, UnsupportedMediaType

MAX_BODY_BYTES: Final = 16 * 1024
# text/plain is how the widget (and navigator.sendBeacon) sends JSON without a CORS preflight.
JSON_MEDIA_TYPES: Final = frozenset({"application/json", "text/plain"})


async def read_json(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object; `ApiError` (400, 413, 415) otherwise."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType("Envoyez du JSON (application/json ou text/plain).")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise MalformedRequest("En-tête Content-Length invalide.")
        if int(declared) > MAX_BODY_BYTES:
            raise _too_large()
    body = b""
    async for chunk in request.stream():
        body += chunk
        # Counted while streaming too: a chunked body has no Content-Length to trust.
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedRequest("Le corps n'est pas du JSON valide.") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("Le corps doit être un objet JSON.")
    return data


def _too_large() -> BodyTooLarge:
    return BodyTooLarge(f"Le corps dépasse {MAX_BODY_BYTES // 1024} Kio.")
