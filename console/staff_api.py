"""The staff API, for ministries' own tools: `/api/v1/staff/…` with `Authorization: Bearer`.

Routes (described in `console.staff_openapi`, served at `/api/v1/staff/openapi.json`):

- `GET /api/v1/staff/feedback`: the inbox, with its filters as query parameters, newest
  first, `limit` (1–100) and keyset pagination (`after` = the previous page's `next`);
- `GET /api/v1/staff/feedback/{id}`: one submission, its tags, notes, answer and history;
- `POST /api/v1/staff/feedback/{id}/status` `{"status": …}`, as the workflow allows;
- `POST /api/v1/staff/feedback/{id}/notes` `{"body": …}`, an internal note;
- `PUT /api/v1/staff/feedback/{id}/answer` `{"body": …}`, publish or replace the answer;
- `POST /api/v1/staff/feedback` records feedback received elsewhere (counter, phone, post,
  France Services) with `retour.recording`: 201, or 200 with the first one when its
  `client_id` was already used.

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

import console.params  # noqa: F401  # registers the {…:id} and {…:bigid} path convertors
from console.database import run_db
from console.inbox_query import Cursor, InboxFilters, fetch_page
from console.scope import ensure_same_ministry
from console.staff_api_auth import ApiError, api_endpoint, json_body, require_write, text_field
from console.staff_openapi import openapi_json
from retour import triage
from retour.api_keys import KeyActor
from retour.models import ApiKey, Feedback, FeedbackNote, Procedure, StaffUser
from retour.recording import RecordedEntry, RecordingError, record_feedback

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
        "channel": feedback.channel,
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


def _entry(data: dict[str, Any]) -> RecordedEntry:
    def optional(name: str, limit: int) -> str | None:
        return text_field(data, name, limit) if data.get(name) is not None else None

    satisfaction = data.get("satisfaction")
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int):
        raise ApiError(422, "invalid", "satisfaction is 1, 2 or 3.", "satisfaction")
    raw_time = text_field(data, "received_at", 40)
    try:
        received_at = dt.datetime.fromisoformat(raw_time.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(422, "invalid", "received_at is an ISO 8601 time.", "received_at") from exc
    if received_at.tzinfo is None:
        raise ApiError(422, "invalid", "received_at needs a time zone.", "received_at")
    return RecordedEntry(
        procedure_id=text_field(data, "procedure_id", 64),
        channel=text_field(data, "channel", 20),
        satisfaction=satisfaction,
        received_at=received_at,
        kind=optional("kind", 20),
        comment=optional("comment", 20_000) or "",
        contact_email=optional("contact_email", 300),
        client_id=optional("client_id", 45),
    )


@api_endpoint
async def record(request: Request, key: ApiKey) -> Response:
    require_write(key)
    entry = _entry(await json_body(request))
    actor = KeyActor.of(key)

    def store(session: Session) -> tuple[dict[str, Any], bool]:
        procedure = session.get(Procedure, entry.procedure_id)
        if procedure is None or procedure.ministry_id != key.ministry_id:
            raise RecordingError("unknown_procedure", "procedure_id")
        feedback, created = record_feedback(
            session, entry=entry, recorded_by=actor.id, actor_label=actor.audit_label
        )
        session.flush()
        return feedback_json(feedback), created

    try:
        body, created = await run_db(request, store)
    except RecordingError as exc:
        status = 404 if exc.code == "unknown_procedure" else 422
        message = RECORDING_MESSAGES.get(exc.code, exc.code)
        raise ApiError(status, exc.code, message, exc.field) from exc
    return JSONResponse(body, status_code=201 if created else 200)


RECORDING_MESSAGES: Final = {
    "unknown_procedure": "No such active procedure in this key's ministry.",
    "bad_channel": "channel is counter, phone, post or france_services.",
    "bad_satisfaction": "satisfaction is 1, 2 or 3.",
    "bad_kind": "kind is one of the kinds of the ingest API.",
    "future_date": "received_at is in the future.",
    "comment_too_long": "comment is at most 2000 characters once cleaned.",
    "bad_email": "contact_email is not an email address.",
    "bad_client_id": "client_id is a UUID.",
    "client_id_taken": "This client_id was used for another procedure.",
}


item = BASE + "/feedback/{feedback_id:bigid}"
routes = [
    Route(BASE + "/openapi.json", openapi_json, name="staff_openapi"),
    Route(BASE + "/feedback", list_feedback, name="staff_feedback_list"),
    Route(BASE + "/feedback", record, methods=["POST"], name="staff_feedback_record"),
    Route(item, read_feedback, name="staff_feedback"),
    Route(item + "/status", change_status, methods=["POST"], name="staff_feedback_status"),
    Route(item + "/notes", add_note, methods=["POST"], name="staff_feedback_note"),
    Route(item + "/answer", publish_answer, methods=["PUT"], name="staff_feedback_answer"),
]
