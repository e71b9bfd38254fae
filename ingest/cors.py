"""CORS for the ingest routes: Starlette's CORSMiddleware, with its per-response work cheapened.

Starlette's middleware parses every request's headers into a `Headers` object and every
response's into a `MutableHeaders` to add `Access-Control-Allow-Origin: *` (when the request
has an Origin) and `Vary: Origin` (always). For the usual response, which sets neither
header, appending them to the raw header list gives the same headers for less work;
preflights and any response that already sets one of them go through Starlette's code.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

_OURS = frozenset({b"vary", b"access-control-allow-origin"})
_ALLOW_ANY = (b"access-control-allow-origin", b"*")
_VARY = (b"vary", b"Origin")


def simple_response_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """What IngestCors appends to a response that sets neither `Vary` nor an allowed origin."""
    has_origin = any(name == b"origin" for name, _ in scope["headers"])
    return [_ALLOW_ANY, _VARY] if has_origin else [_VARY]


class IngestCors(CORSMiddleware):
    """Any origin, no credentials (the only configuration ingest uses)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await super().__call__(scope, receive, send)
            return
        added = simple_response_headers(scope)

        async def send_with_cors(message: Message) -> None:
            if message["type"] != "http.response.start":
                await send(message)
                return
            headers = message.setdefault("headers", [])
            if any(name.lower() in _OURS for name, _ in headers):
                await self.send(message, send, Headers(scope=scope))  # merges as Starlette does
                return
            message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_cors)
