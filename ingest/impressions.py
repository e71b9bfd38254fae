"""POST /api/v1/impressions: the button was shown ("view") or opened ("open") on a page.

Counted per procedure, UTC day, page origin and event; nothing about the person is kept.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ingest.body import read_json_object
from ingest.errors import FieldError
from ingest.rows import ImpressionKey
from ingest.state import ingest_state
from ingest.submissions import find_procedure, page_location
from retour.models import IMPRESSION_EVENTS, PROCEDURE_ID_RE, utcnow


async def count_impression(request: Request) -> Response:
    state = ingest_state(request)
    await state.limits.check_client(request.scope, kind="impressions")
    data = await read_json_object(request)
    procedure_id = data.get("procedure_id")
    if not isinstance(procedure_id, str) or not PROCEDURE_ID_RE.match(procedure_id):
        raise FieldError("Identifiant de démarche invalide.", field="procedure_id")
    event = data.get("event")
    if event not in IMPRESSION_EVENTS:
        raise FieldError("Événement : view ou open.", field="event")
    page = page_location(data.get("page_url"))
    if page is None:
        raise FieldError("Adresse de page invalide.", field="page_url")
    procedure = await find_procedure(state, procedure_id)
    now = utcnow()
    key = ImpressionKey(procedure_id=procedure.id, day=now.date(), origin=page[1], event=str(event))
    await state.writer.add_impression(key, now)
    return Response(status_code=204)
