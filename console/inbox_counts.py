"""The inbox's counts within its filters: one figure per status chip, and how many match.

With no filter beyond the scope (ministry, procedure) the figures come from the trigger-kept
`feedback_status_count` (`console.inbox_query.status_counts`), a handful of rows. With other
filters, one GROUP BY over the rows those filters select: the chips then say what a click on
each would list, and « N retours correspondent » agrees with the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from console.inbox_query import InboxFilters, filter_conditions, status_counts
from retour.models import STATUSES, Feedback

# Filters that `feedback_status_count` already answers (the scope, and the status chips').
SCOPE_ONLY = frozenset({"ministry", "procedure", "status", "sort"})


@dataclass(frozen=True)
class InboxCounts:
    by_status: dict[str, int]
    total: int  # every status but spam: the « Tous » chip
    matching: int  # what the current filters list


def inbox_counts(
    session: Session, *, ministry_ids: Sequence[int] | None, filters: InboxFilters
) -> InboxCounts:
    active = {name for name, value in vars(filters).items() if value not in (None, "", False)}
    active -= {"me", "similar_ids"}
    if active <= SCOPE_ONLY:
        by_status = status_counts(session, ministry_ids=ministry_ids, filters=filters)
    else:
        dialect = session.get_bind().dialect.name
        conditions = filter_conditions(ministry_ids, filters, dialect, any_status=True)
        statement = (
            select(col(Feedback.status), func.count())
            .where(*conditions)
            .group_by(col(Feedback.status))
        )
        by_status = dict.fromkeys(STATUSES, 0)
        for status, count in session.exec(statement).all():
            by_status[status] = int(count)
    total = sum(n for status, n in by_status.items() if status != "spam")
    if filters.spam:
        matching = _count_spam(session, ministry_ids=ministry_ids, filters=filters)
    elif filters.status:
        matching = by_status[filters.status]
    else:
        matching = total
    return InboxCounts(by_status, total, matching)


def _count_spam(
    session: Session, *, ministry_ids: Sequence[int] | None, filters: InboxFilters
) -> int:
    # « Indésirables seulement » also lists the honeypot's catches, which no chip counts.
    dialect = session.get_bind().dialect.name
    conditions = filter_conditions(ministry_ids, filters, dialect)
    statement = select(func.count()).select_from(Feedback).where(*conditions)
    return int(session.exec(statement).one())
