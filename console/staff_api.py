"""The staff API, for ministries' own tools: `/api/v1/staff/…` with `Authorization: Bearer`.

Routes (described in `console.staff_openapi`, served at `/api/v1/staff/openapi.json`):

- `GET /api/v1/staff/feedback`: the inbox, with its filters as query parameters, newest
  first, `limit` (1–100) and keyset pagination (`after` = the previous page's `next`);
- `GET /api/v1/staff/feedback/{id}`: one submission, its tags, notes, answer and history;
- `POST /api/v1/staff/feedback/{id}/status` `{"status": …}`, as the workflow allows;
- `POST /api/v1/staff/feedback/{id}/notes` `{"body": …}`, an internal note;
- `PUT /api/v1/staff/feedback/{id}/answer` `{"body": …}`, publish or replace the answer.

A key sees its ministry only (`console.scope`: another ministry's id answers 404, as in the
console) and acts through `retour.triage` as the console does, so the rules, the masking and
the audit trail are the same; a read-only key gets 403 on changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.database import run_db
from console.inbox_query import Cursor, InboxFilters, fetch_page
from console.scope import ensure_same_ministry
from console.staff_api_auth import ApiError, api_endpoint, json_body, require_write, text_field
from console.staff_openapi import openapi_json
from retour import triage
from retour.api_keys import KeyActor
from retour.models import ApiKey, Feedback, FeedbackNote, StaffUser

BASE: Final = "/api/v1/staff"
MAX_ID: Final = 2**63 - 1
MAX_LIMIT: Final = 100


def _time(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def feedback_json(feedback: Feedback) -> dict[str, Any]:
    """What a tool reads of a submission; the citizen's email address never leaves."""
    return {
        "id": feedback.id,
        "procedure_id": feedback.procedure_id,
        "received_at": _time(feedback.received_at),
        "channel": getattr(feedback, "channel", "online"),
        "satisfaction": feedback.satisfaction,
        "kind": feedback.kind,
        "comment": feedback.comment,
        "pii_categories": feedback.pii_categories.split(),
        "status": feedback.status,
        "page_url": feedback.page_url,
        "origin_registered": feedback.origin_registered,
        "locale": feedback.locale,
        "wants_answer": feedback.contact_email is not None,
        "acknowledged_at": _time(feedback.acknowledged_at),
        "updated_at": _time(feedback.updated_at),
    }


def _ident(request: Request) -> int:
    value: int = request.path_params["feedback_id"]
    if value > MAX_ID:
        raise HTTPException(404, "submission not found")
    return value


def _visible(session: Session, actor: KeyActor, ident: int) -> Feedback:
    feedback = session.get(Feedback, ident)
    if feedback is None:
        raise HTTPException(404, "submission not found")
    ensure_same_ministry(actor, feedback.ministry_id)
    return feedback


# --- Reading -------------------------------------------------------------------------------


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    if not raw:
        return 50
    if not raw.isdigit() or not 1 <= int(raw[:4]) <= MAX_LIMIT:
        raise ApiError(422, "invalid", f"limit is a whole number from 1 to {MAX_LIMIT}.", "limit")
    return int(raw)


@api_endpoint
async def list_feedback(request: Request, key: ApiKey) -> Response:
    filters, errors = InboxFilters.from_query(request.query_params)
    if errors:
        raise ApiError(422, "invalid", f"{errors[0]} is not a valid filter.", errors[0])
    after = None
    raw_after = request.query_params.get("after")
    if raw_after:
        after = Cursor.decode(raw_after)
        if after is None:
            raise ApiError(422, "invalid", "after is not a cursor this API gave.", "after")
    size = _limit(request)
    page = await run_db(
        request,
        fetch_page,
        ministry_ids=[key.ministry_id],
        filters=filters,
        after=after,
        size=size,
    )
    return JSONResponse(
        {
            "items": [feedback_json(row) for row in page.rows],
            "next": page.next.encode() if page.next else None,
        }
    )


def _detail(session: Session, actor: KeyActor, ident: int) -> dict[str, Any]:
    feedback = _visible(session, actor, ident)
    notes = session.exec(
        select(FeedbackNote, StaffUser.email)
        .join(StaffUser, col(StaffUser.id) == FeedbackNote.author_id, isouter=True)
        .where(FeedbackNote.feedback_id == ident)
        .order_by(col(FeedbackNote.created_at), col(FeedbackNote.id))
    ).all()
    answer = triage.answer_of(session, ident)
    return {
        **feedback_json(feedback),
        "tags": triage.tags_of(session, ident),
        "allowed_statuses": list(triage.allowed_transitions(feedback)),
        "notes": [
            {"id": n.id, "author": email, "body": n.body, "created_at": _time(n.created_at)}
            for n, email in notes
        ],
        "answer": (
            {"body": answer.body, "published_at": _time(answer.published_at)} if answer else None
        ),
        "history": [
            {
                "at": _time(entry.event.at),
                "by": entry.actor_email or entry.event.actor_label or None,
                "via": entry.event.actor_label or None,
                "action": entry.event.action,
                "detail": entry.detail,
            }
            for entry in triage.history(session, feedback_id=ident)
        ],
    }


@api_endpoint
async def read_feedback(request: Request, key: ApiKey) -> Response:
    return JSONResponse(await run_db(request, _detail, KeyActor.of(key), _ident(request)))


# --- Changing ------------------------------------------------------------------------------


async def _change(request: Request, key: ApiKey, change: Any, status_code: int = 200) -> Response:
    actor = KeyActor.of(key)
    ident = _ident(request)
    data = await json_body(request)

    def apply(session: Session) -> dict[str, Any]:
        feedback = _visible(session, actor, ident)
        # 404 above for another ministry's submission, 403 here for a read-only key.
        require_write(key)
        result: dict[str, Any] = change(session, feedback, actor, data)
        return result

    return JSONResponse(await run_db(request, apply), status_code=status_code)


@api_endpoint
async def change_status(request: Request, key: ApiKey) -> Response:
    def change(session: Session, feedback: Feedback, actor: KeyActor, data: Any) -> Any:
        to = text_field(data, "status", 20)
        triage.change_status(session, feedback=feedback, actor=actor, to=to)
        return feedback_json(feedback)

    return await _change(request, key, change)


@api_endpoint
async def add_note(request: Request, key: ApiKey) -> Response:
    def change(session: Session, feedback: Feedback, actor: KeyActor, data: Any) -> Any:
        body = text_field(data, "body", triage.NOTE_MAX_LENGTH * 2)
        note = triage.add_note(session, feedback=feedback, actor=actor, body=body)
        return {"id": note.id, "body": note.body, "created_at": _time(note.created_at)}

    return await _change(request, key, change, status_code=201)


@api_endpoint
async def publish_answer(request: Request, key: ApiKey) -> Response:
    def change(session: Session, feedback: Feedback, actor: KeyActor, data: Any) -> Any:
        body = text_field(data, "body", triage.ANSWER_MAX_LENGTH * 2)
        answer = triage.save_answer(session, feedback=feedback, actor=actor, body=body)
        return {"body": answer.body, "published_at": _time(answer.published_at)}

    return await _change(request, key, change)


item = BASE + "/feedback/{feedback_id:int}"
routes = [
    Route(BASE + "/openapi.json", openapi_json, name="staff_openapi"),
    Route(BASE + "/feedback", list_feedback, name="staff_feedback_list"),
    Route(item, read_feedback, name="staff_feedback"),
    Route(item + "/status", change_status, methods=["POST"], name="staff_feedback_status"),
    Route(item + "/notes", add_note, methods=["POST"], name="staff_feedback_note"),
    Route(item + "/answer", publish_answer, methods=["PUT"], name="staff_feedback_answer"),
]
