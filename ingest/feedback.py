"""POST /api/v1/feedback: one submission, answered 202 only once it is committed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from ingest.body import read_json
from ingest.submissions import accept


async def submit_feedback(request: Request) -> JSONResponse:
    accepted = await accept(request, await read_json(request))
    return JSONResponse({"id": accepted.id, "receipt": accepted.receipt}, status_code=202)
