"""POST /api/v1/feedback answered before Starlette's middleware and routing layers.

Under load the event loop is the ingest's bottleneck, and for this one route Starlette's
stack (error middleware, CORS, exception middleware, router, `request_response`, each
wrapping `send` again) cost about a quarter of the loop's time (py-spy, GIL-holding
samples under wrk). `IngestApp` answers the route itself with the same handler, the same
error responses and the same CORS headers; every other request, and this route when
`fast_feedback` is off, goes through Starlette as before. tests/ingest/test_fast_feedback.py
checks that both give byte-identical answers.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ingest.cors import simple_response_headers
from ingest.errors import ApiError, database_error_handler, unexpected_error_handler
from ingest.feedback import accept_feedback
from retour.db import UNAVAILABLE_ERRORS

FEEDBACK_PATH = "/api/v1/feedback"


class IngestApp(Starlette):
    def __init__(self, *args: Any, fast_feedback: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast_feedback = fast_feedback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.fast_feedback
            and scope["type"] == "http"
            and scope["path"] == FEEDBACK_PATH
            and scope["method"] == "POST"
        ):
            scope["app"] = self
            await _post_feedback(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def _post_feedback(scope: Scope, receive: Receive, send: Send) -> None:
    try:
        body = await accept_feedback(scope, receive)
    except ApiError as exc:
        await _send(exc.response(), send, simple_response_headers(scope))
        return
    except ClientDisconnect:
        return  # gone before its body was read: nobody to answer, nothing stored
    except UNAVAILABLE_ERRORS as exc:
        # The database is down (a procedure to look up): 503, as Starlette's handlers answer.
        response = await database_error_handler(Request(scope, receive), exc)
        await _send(response, send, simple_response_headers(scope))
        return
    except Exception as exc:
        # As Starlette's ServerErrorMiddleware does, outside CORS: log, answer 500, re-raise.
        response = await unexpected_error_handler(Request(scope, receive), exc)
        await _send(response, send, [])
        raise
    # The headers `Response(body, 202, media_type="application/json")` would send, in order.
    headers = [
        (b"content-length", b"%d" % len(body)),
        (b"content-type", b"application/json"),
        *simple_response_headers(scope),
    ]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send(response: Response, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status_code,
            "headers": [*response.raw_headers, *extra],
        }
    )
    await send({"type": "http.response.body", "body": response.body})
