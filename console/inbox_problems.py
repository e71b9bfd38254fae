"""Problems in the inbox: the « problème » and « semblables » filters, each row's problem
(linked, or suggested by the similarity index), and linking every result of a filter.

Kept apart from `console.inbox` so the inbox's own module stays about listing: the inbox calls
`resolve_filters` and `row_problems` from its page loader, and includes the partials
`_inbox_problems_*.html`.

`POST /console/problems/link-all` ("problems_link_all"; `can_triage`): `problem` and `query`
(the inbox's filters as a query string); links every submission those filters find, up to
`LINK_ALL_MAX`, newest first, and goes back to the inbox with a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final
from urllib.parse import parse_qsl, urlencode

from sqlmodel import Session, col, select
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import problems_data, suggestions
from console.auth import require_user
from console.database import run_db
from console.inbox_query import InboxFilters, filter_conditions
from console.scope import (
    CurrentUser,
    can_triage,
    ensure_same_ministry,
    require,
    visible_ministry_ids,
)
from retour import problems, similar
from retour.models import Feedback, Ministry, Problem, ProblemLink, Procedure
from retour.similar_index import SimilarityIndex
from retour.triage import NotVisible, TriageError

LINK_ALL_MAX: Final = 5000


def check_filter_scope(session: Session, user: CurrentUser, filters: InboxFilters) -> None:
    """404 when the filters name another ministry, or a procedure the user cannot see."""
    if filters.ministry is not None:
        ensure_same_ministry(user, filters.ministry)
        if session.get(Ministry, filters.ministry) is None:
            raise HTTPException(404)
    if filters.procedure:
        procedure = session.get(Procedure, filters.procedure)
        if procedure is None:
            raise HTTPException(404)
        ensure_same_ministry(user, procedure.ministry_id)


def resolve_filters(
    session: Session, index: SimilarityIndex, user: CurrentUser, filters: InboxFilters
) -> InboxFilters:
    """404 for another ministry's (or procedure's, problem's, submission's) filter;
    `semblables` becomes its ids."""
    check_filter_scope(session, user, filters)
    if filters.problem and filters.problem != "aucun":
        problems_data.load_problem(session, user, int(filters.problem))
    if filters.similar is None:
        return filters
    feedback = session.get(Feedback, filters.similar) if filters.similar < 2**63 else None
    if feedback is None:
        raise HTTPException(404)
    ensure_same_ministry(user, feedback.ministry_id)
    suggestions.fresh(session, index)
    ids = similar.similar_ids(index, feedback) if index.ready else [feedback.id]
    return replace(filters, similar_ids=tuple(i for i in ids if i is not None))


@dataclass
class RowProblems:
    linked: dict[int, Problem] = field(default_factory=dict)
    suggested: dict[int, similar.ProblemSuggestion] = field(default_factory=dict)
    choices: list[Problem] = field(default_factory=list)


def row_problems(
    session: Session,
    index: SimilarityIndex,
    rows: list[Feedback],
    *,
    ministry_id: int | None,
) -> RowProblems:
    ids = [f.id for f in rows if f.id is not None]
    found = RowProblems()
    if ids:
        statement = (
            select(ProblemLink.feedback_id, Problem)
            .join(Problem, col(Problem.id) == ProblemLink.problem_id)
            .where(col(ProblemLink.feedback_id).in_(ids))
        )
        found.linked = {fid: problem for fid, problem in session.exec(statement).all()}
        loose = [f for f in rows if f.id not in found.linked]
        found.suggested = {
            fid: items[0] for fid, items in suggestions.for_rows(session, index, loose).items()
        }
    if ministry_id is not None:
        found.choices = problems_data.open_problems(session, ministry_id=ministry_id)
    return found


def _filters_from(query: str) -> InboxFilters:
    params = ImmutableMultiDict(parse_qsl(query[:4000], keep_blank_values=False))
    filters, _errors = InboxFilters.from_query(params)
    return filters


def matching_ids(
    session: Session, index: SimilarityIndex, user: CurrentUser, filters: InboxFilters
) -> list[int]:
    """Every submission the inbox's filters find (up to LINK_ALL_MAX), newest first."""
    filters = resolve_filters(session, index, user, filters)
    visible = visible_ministry_ids(user)
    scope = None if visible is None else sorted(visible)
    dialect = session.get_bind().dialect.name
    statement = (
        select(Feedback.id)
        .where(*filter_conditions(scope, filters, dialect))
        .order_by(col(Feedback.received_at).desc(), col(Feedback.id).desc())
        .limit(LINK_ALL_MAX)
    )
    return [i for i in session.exec(statement).all() if i is not None]


async def link_all(request: Request) -> Response:
    user = require_user(request)
    require(can_triage, user)
    form = await request.form()
    raw = str(form.get("problem") or "")
    if not raw.isdigit() or len(raw) > 12:
        raise HTTPException(400)
    query = str(form.get("query") or "")
    filters = _filters_from(query)
    index = suggestions.index_of(request)

    def apply(session: Session) -> int:
        problem = problems_data.load_problem(session, user, int(raw))
        ids = matching_ids(session, index, user, filters)
        # Only the problem's ministry: DINUM's unfiltered inbox spans every ministry.
        mine = session.exec(
            select(Feedback.id).where(
                col(Feedback.id).in_(ids), Feedback.ministry_id == problem.ministry_id
            )
        ).all()
        return problems.link_feedback(
            session, problem=problem, actor=user, feedback_ids=[i for i in mine if i]
        ).linked

    back = "/console/?" + urlencode(filters.to_query())
    try:
        linked = await run_db(request, apply)
    except NotVisible as error:
        raise HTTPException(404) from error
    except TriageError as error:
        return RedirectResponse(f"{back}&erreur={error.code}", status_code=303)
    return RedirectResponse(f"{back}&fait=lies&n={linked}&probleme_lie={raw}", status_code=303)


routes = [
    Route("/console/problems/link-all", link_all, methods=["POST"], name="problems_link_all"),
]
