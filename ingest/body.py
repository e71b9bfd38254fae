"""Reading a JSON body safely: size cap before and while reading, content types, parse errors."""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive, Scope

from ingest.errors import BodyTooLarge, MalformedRequest, UnsupportedMediaType

MAX_BODY_BYTES: Final = 16 * 1024
# text/plain is how the widget (and navigator.sendBeacon) sends JSON without a CORS preflight.
JSON_MEDIA_TYPES: Final = frozenset({b"application/json", b"text/plain"})


async def read_json_object(request: Request) -> dict[str, Any]:
    return await read_json(request.scope, request.receive)


async def read_json(scope: Scope, receive: Receive) -> dict[str, Any]:
    """The request's body as a JSON object, read from the ASGI scope and `receive` directly:
    Starlette's `Request` headers and body stream were among the largest items of the event
    loop's work on a submission (`bench/ingest_profile.py --profile`). As
    `Request.headers.get` does, the first of a repeated header counts."""
    content_type = content_length = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value if content_type is None else content_type
        elif name == b"content-length":
            content_length = value if content_length is None else content_length
    media_type = (content_type or b"").split(b";", 1)[0].strip().lower()
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType("Envoyez du JSON (application/json ou text/plain).")
    if content_length is not None:
        if not content_length.isdigit():  # ASCII digits only, for bytes
            raise MalformedRequest("En-tête Content-Length invalide.")
        if int(content_length) > MAX_BODY_BYTES:
            raise _too_large()
    body = await _read_body(receive)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedRequest("Le corps n'est pas du JSON valide.") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("Le corps doit être un objet JSON.")
    return data


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        # Counted while streaming too: a chunked body has no Content-Length to trust.
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        if not message.get("more_body", False):
            if not chunks:
                return chunk  # the usual case: the whole body in one message
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


def _too_large() -> BodyTooLarge:
    return BodyTooLarge(f"Le corps dépasse {MAX_BODY_BYTES // 1024} Kio.")
