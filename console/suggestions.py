"""Similar reports and problems suggested to staff (`retour.similar`), on the pages that
show them: a submission's page, a problem's page, the inbox.

The index lives in the lifespan state (one per process) and catches up with new submissions
when a page asks, at most every couple of seconds (`SimilarityIndex.refresh`); its first
build on a large database runs in the background and the pages say so meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection

from retour import similar
from retour.models import Feedback, Problem, utcnow
from retour.similar_index import SimilarityIndex


def index_of(request: HTTPConnection) -> SimilarityIndex:
    index: SimilarityIndex = request.state.similarity
    return index


def fresh(session: Session, index: SimilarityIndex) -> SimilarityIndex:
    bind = session.get_bind()
    index.refresh(bind if isinstance(bind, Engine) else bind.engine)
    return index


def for_feedback(
    session: Session, index: SimilarityIndex, feedback: Feedback
) -> similar.Suggestions:
    return similar.suggest_for(session, fresh(session, index), feedback, now=utcnow())


def for_problem(
    session: Session, index: SimilarityIndex, problem: Problem
) -> list[tuple[Feedback, float]]:
    return similar.candidates_for_problem(session, fresh(session, index), problem)


def for_rows(
    session: Session, index: SimilarityIndex, rows: Sequence[Feedback]
) -> dict[int, list[similar.ProblemSuggestion]]:
    """The inbox: for each row not linked yet, the open problems it resembles."""
    fresh(session, index)
    if not index.ready:
        return {}
    return similar.problems_for(session, index, rows, limit=1)
