"""Working through the inbox from a submission's page: the list it was opened from.

The inbox links each row as `/console/feedback/{id}?liste=<the inbox's query>` (its filters,
sort and page). From that, the submission's page gets:

- `back_url`: the breadcrumb's and « Retour à la liste » link, to the same filters and page;
- `previous_id` / `next_id`: the neighbours within the same filters and order;
- `keep`: `?liste=…` for its forms' actions, so that an action's redirect keeps all this.

`liste` is read like the inbox's own address, never trusted: only the filters and cursors it
parses to are written back, and a filter naming what the user cannot see answers 404 as the
inbox would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode

from sqlmodel import Session
from starlette.datastructures import ImmutableMultiDict

from console.inbox_problems import resolve_filters
from console.inbox_query import Cursor, InboxFilters, fetch_page
from console.scope import CurrentUser, visible_ministry_ids
from retour.models import Feedback
from retour.similar_index import SimilarityIndex

LIST_PARAM: Final = "liste"
MAX_LENGTH: Final = 4000


@dataclass(frozen=True)
class ListContext:
    filters: InboxFilters
    page: dict[str, str]  # the cursor of the inbox page (`after` or `before`), if any

    @classmethod
    def parse(cls, raw: str | None) -> ListContext:
        params = ImmutableMultiDict(parse_qsl((raw or "")[:MAX_LENGTH]))
        filters, _errors = InboxFilters.from_query(params)
        page: dict[str, str] = {}
        for name in ("after", "before"):
            cursor = Cursor.decode(params.get(name))
            if cursor is not None:
                page = {name: cursor.encode()}
                break
        return cls(filters, page)

    @property
    def query(self) -> str:
        return urlencode({**self.filters.to_query(), **self.page})

    @property
    def back_url(self) -> str:
        return f"/console/?{self.query}" if self.query else "/console/"

    @property
    def keep(self) -> str:
        """`?liste=…` to append to a link or a form's action (empty for the plain inbox)."""
        return f"?{LIST_PARAM}={quote(self.query, safe='')}" if self.query else ""

    def link(self, feedback_id: int) -> str:
        return f"/console/feedback/{feedback_id}{self.keep}"


@dataclass(frozen=True)
class Neighbours:
    previous_id: int | None
    next_id: int | None


def neighbours(
    session: Session,
    index: SimilarityIndex,
    *,
    user: CurrentUser,
    context: ListContext,
    feedback: Feedback,
) -> Neighbours:
    """The rows just before and just after this one in the list's filters and order (each
    one keyset lookup; the submission need not match the filters any more: it was changed)."""
    filters = replace(resolve_filters(session, index, user, context.filters), me=user.id)
    visible = visible_ministry_ids(user)
    scope = None if visible is None else sorted(visible)
    here = Cursor.of(feedback)
    after = fetch_page(session, ministry_ids=scope, filters=filters, after=here, size=1)
    before = fetch_page(session, ministry_ids=scope, filters=filters, before=here, size=1)
    return Neighbours(
        previous_id=before.rows[0].id if before.rows else None,
        next_id=after.rows[0].id if after.rows else None,
    )
