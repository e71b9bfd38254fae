"""POST /api/v1/feedback: one submission, answered 202 only once it is committed."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from ingest.body import read_json
from ingest.state import IngestState
from ingest.submissions import check_token, find_procedure, parse_submission, store


async def submit_feedback(request: Request) -> Response:
    body = await accept_feedback(request.scope, request.receive)
    return Response(body, status_code=202, media_type="application/json")


async def accept_feedback(scope: Scope, receive: Receive) -> bytes:
    """The body of the 202 answer, once the submission is committed; raises `ApiError`.

    Works on the ASGI scope and `receive`, not a Starlette `Request`, so that the fast path
    (`ingest.fast_feedback`) builds no request object at all."""
    state: IngestState = scope["state"]["ingest"]  # set by the lifespan, as `ingest_state` reads it
    # The per-address limit comes first: it is the cheapest refusal.
    await state.limits.check_client(scope)
    submission = parse_submission(await read_json(scope, receive))
    procedure = await find_procedure(state, submission.procedure_id)
    check_token(state, submission)
    await state.limits.check_procedure(procedure.id)
    accepted = await store(state, submission, procedure)
    # The bytes JSONResponse would render, without its generic encoder (6 -> 3 us).
    return b'{"id":%d,"receipt":%s}' % (accepted.id, json.dumps(accepted.receipt).encode())
