"""`POST /console/bulk` ("inbox_bulk"; `can_triage`): one action on the ticked rows, or on every
result of the inbox's filters.

Form: `action` (acknowledge | spam | assign | unassign), `ids` (ticked rows), `assignee` (for
« Attribuer à », required: an empty choice is an error, never a silent un-assignment), and
`tous=1` with `query` (the inbox's filters as a query string) for every result of a filter.

Every result of a filter is worked through in windows of `WINDOW` submissions, newest first,
each its own transaction (a write never holds the database for long, a failure keeps the
windows already done), up to `ALL_MAX` per request: at 1 M submissions a request stays
bounded, and the message says how many remain for another run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import BigInteger, literal, tuple_
from sqlmodel import Session, col, select
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.auth import require_user
from console.database import run_db
from console.inbox_problems import resolve_filters
from console.inbox_query import Cursor, InboxFilters, filter_conditions
from console.params import parse_big_id, parse_id
from console.scope import CurrentUser, can_triage, require, visible_ministry_ids
from console.suggestions import index_of
from retour import triage
from retour.models import Feedback, StaffUser, UTCDateTime
from retour.similar_index import SimilarityIndex

BULK_MAX: Final = 500  # ticked rows: at most a few pages of checkboxes
WINDOW: Final = 5000
ALL_MAX: Final = 25_000  # five windows per request
ACTIONS: Final = ("acknowledge", "spam", "assign", "unassign")


def parse_ids(values: Sequence[Any]) -> list[int]:
    """Ids from checkboxes; anything else is a forged request: 404, like a foreign id."""
    ids = []
    for value in values[:BULK_MAX]:
        ident = parse_big_id(value)
        if ident is None:
            raise HTTPException(404)
        ids.append(ident)
    return ids


def safe_return(value: str) -> str:
    return value if value.startswith("/console/?") or value == "/console/" else "/console/"


def filters_from(query: str, user: CurrentUser) -> InboxFilters:
    params = ImmutableMultiDict(parse_qsl(query[:4000], keep_blank_values=False))
    filters, _errors = InboxFilters.from_query(params)
    return replace(filters, me=user.id)


def _assignee(session: Session, user: CurrentUser, assignee_id: int | None) -> StaffUser | None:
    if assignee_id is None:
        return None
    assignee = session.get(StaffUser, assignee_id)
    visible = visible_ministry_ids(user)
    if assignee is None or (visible is not None and assignee.ministry_id not in visible):
        raise HTTPException(404)
    return assignee


def apply_action(
    session: Session, *, user: CurrentUser, ids: list[int], action: str, assignee_id: int | None
) -> triage.BulkResult:
    try:
        if action in ("assign", "unassign"):
            assignee = _assignee(session, user, assignee_id if action == "assign" else None)
            return triage.bulk_assign(session, actor=user, ids=ids, assignee=assignee)
        to = {"acknowledge": "acknowledged", "spam": "spam"}[action]
        return triage.bulk_status(session, actor=user, ids=ids, to=to)
    except triage.NotVisible as error:
        raise HTTPException(404) from error


@dataclass(frozen=True)
class Window:
    ids: list[int]
    last: Cursor | None  # where the next window starts (None: this was the last one)


def next_window(
    session: Session,
    index: SimilarityIndex,
    *,
    user: CurrentUser,
    filters: InboxFilters,
    after: Cursor | None,
) -> Window:
    """The next `WINDOW` ids of the filter's results after `after`, newest first (keyset:
    a row the previous window changed, and that left the filter, moves nothing)."""
    filters = resolve_filters(session, index, user, filters)
    visible = visible_ministry_ids(user)
    scope = None if visible is None else sorted(visible)
    dialect = session.get_bind().dialect.name
    statement = select(Feedback.id, Feedback.received_at).where(
        *filter_conditions(scope, filters, dialect)
    )
    if after is not None:
        key = tuple_(col(Feedback.received_at), col(Feedback.id))
        position = tuple_(
            literal(after.received_at, UTCDateTime()), literal(after.id, BigInteger())
        )
        statement = statement.where(key < position)
    statement = statement.order_by(col(Feedback.received_at).desc(), col(Feedback.id).desc()).limit(
        WINDOW + 1
    )
    rows = [(i, at) for i, at in session.exec(statement).all() if i is not None]
    more = len(rows) > WINDOW
    rows = rows[:WINDOW]
    last = Cursor(rows[-1][1], rows[-1][0]) if more and rows else None
    return Window([i for i, _at in rows], last)


async def apply_to_filter(
    request: Request,
    *,
    user: CurrentUser,
    filters: InboxFilters,
    action: str,
    assignee_id: int | None,
) -> tuple[int, int, bool]:
    """(changed, skipped, more remain) over every result of `filters`, window by window."""
    index = index_of(request)
    changed = skipped = done = 0
    after: Cursor | None = None
    while done < ALL_MAX:
        window = await run_db(request, next_window, index, user=user, filters=filters, after=after)
        if not window.ids:
            return changed, skipped, False
        result = await run_db(
            request, apply_action, user=user, ids=window.ids, action=action, assignee_id=assignee_id
        )
        changed, skipped, done = (
            changed + result.changed,
            skipped + result.skipped,
            done + len(window.ids),
        )
        if window.last is None:
            return changed, skipped, False
        after = window.last
    return changed, skipped, True


async def bulk(request: Request) -> Response:
    user = require_user(request)
    require(can_triage, user)
    form: FormData = await request.form()
    back = safe_return(str(form.get("return_to") or "/console/"))
    separator = "&" if "?" in back else "?"
    action = str(form.get("action") or "")
    if action not in ACTIONS:  # the form offers only these: anything else is forged
        raise HTTPException(400)
    raw_assignee = str(form.get("assignee") or "")
    assignee_id = parse_id(raw_assignee) if raw_assignee else None
    if action == "assign" and assignee_id is None:
        # « Attribuer à » with nobody chosen: say so, never un-assign in silence.
        error = "attribution" if raw_assignee else "collegue"
        return RedirectResponse(f"{back}{separator}erreur={error}", status_code=303)
    every = form.get("tous") == "1"
    try:
        if every:
            filters = filters_from(str(form.get("query") or ""), user)
            changed, skipped, more = await apply_to_filter(
                request, user=user, filters=filters, action=action, assignee_id=assignee_id
            )
        else:
            ids = parse_ids(form.getlist("ids"))
            if not ids:
                return RedirectResponse(f"{back}{separator}erreur=selection", status_code=303)
            result = await run_db(
                request, apply_action, user=user, ids=ids, action=action, assignee_id=assignee_id
            )
            changed, skipped, more = result.changed, result.skipped, False
    except triage.TriageError as error:
        if error.code != "bad_assignee":
            raise HTTPException(400) from error
        return RedirectResponse(f"{back}{separator}erreur=attribution", status_code=303)
    values = {"fait": "lot", "n": changed, "ignores": skipped}
    if more:
        values["reste"] = 1
    return RedirectResponse(f"{back}{separator}{urlencode(values)}", status_code=303)


routes = [Route("/console/bulk", bulk, methods=["POST"], name="inbox_bulk")]
