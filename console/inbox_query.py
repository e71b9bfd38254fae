"""The inbox's query: filters read from the URL, keyset pagination, counts per status.

Pages are cut on (received_at, id), newest first: a page is one index range scan however
deep it is, and rows with equal timestamps are neither repeated nor skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, func, literal, or_, tuple_
from sqlmodel import Session, col, select

from console.params import parse_big_id, parse_id
from retour.models import (
    KINDS,
    SATISFACTION_LEVELS,
    STATUSES,
    Feedback,
    FeedbackStatusCount,
    ProblemLink,
    UTCDateTime,
)
from retour.search import normalize_query, search_condition, sqlite_match_count

PAGE_SIZE: Final = 50
# From this many matching comments on, a SQLite search walks the inbox index (retour.search).
WALK_FROM: Final = 2000
PARIS: Final = ZoneInfo("Europe/Paris")
PII_CATEGORY_RE: Final = re.compile(r"[a-z_]{1,30}")
COMMENT_CHOICES: Final = ("with", "without")
ASSIGNED_CHOICES: Final = ("moi", "aucun")  # assigned to me, assigned to nobody
SORT_CHOICES: Final = ("recent", "ancien")  # newest first (the default), oldest first


@dataclass(frozen=True)
class InboxFilters:
    """What the filter form asks for; every field is optional and empty means "any"."""

    ministry: int | None = None  # DINUM only: narrow to one ministry
    procedure: str = ""
    status: str = ""
    kind: str = ""
    rating: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    comment: str = ""  # "with" | "without"
    unregistered: bool = False
    pii: str = ""  # "any" or one category
    spam: bool = False
    q: str = ""
    problem: str = ""  # a problem's id, or "aucun" (linked to none)
    similar: int | None = None  # reports like this submission (`console.inbox_problems`)
    # The ids `similar` stands for, found by the similarity index (never in the address).
    similar_ids: tuple[int, ...] | None = None
    assigned: str = ""  # "moi" | "aucun"
    sort: str = ""  # "" (newest first) | "ancien"
    # Who « moi » is: the signed-in account, set by the page (never in the address).
    me: int | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> tuple[InboxFilters, list[str]]:
        """Filters from query parameters; values that make no sense are dropped and named."""
        errors: list[str] = []

        def pick(name: str, allowed: Sequence[str]) -> str:
            value = params.get(name, "").strip()
            if value and value not in allowed:
                errors.append(name)
                return ""
            return value

        def number(name: str, allowed: Sequence[int] | None = None) -> int | None:
            value = params.get(name, "").strip()
            if not value:
                return None
            number = parse_id(value)
            if number is None or (allowed and number not in allowed):
                errors.append(name)
                return None
            return number

        def day(name: str) -> dt.date | None:
            value = params.get(name, "").strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                errors.append(name)
                return None

        procedure = params.get("procedure", "").strip()
        if len(procedure) > 64 or "\x00" in procedure:
            errors.append("procedure")
            procedure = ""
        filters = cls(
            ministry=number("ministry"),
            procedure=procedure,
            status=pick("status", STATUSES),
            kind=pick("kind", KINDS),
            rating=number("rating", SATISFACTION_LEVELS),
            date_from=day("from"),
            date_to=day("to"),
            comment=pick("comment", COMMENT_CHOICES),
            unregistered=params.get("unregistered", "") in ("1", "on", "true"),
            pii=_pii(params.get("pii", "").strip(), errors),
            spam=params.get("spam", "") in ("1", "on", "true"),
            q=normalize_query(params.get("q")),
            problem=_problem(params.get("probleme", "").strip(), errors),
            similar=number("semblables"),
            assigned=pick("attribues", ASSIGNED_CHOICES),
            sort=pick("tri", SORT_CHOICES).replace("recent", ""),
        )
        return filters, errors

    def to_query(self) -> dict[str, str]:
        """The filters as query parameters (only those set), for links that keep them."""
        names = {
            "date_from": "from",
            "date_to": "to",
            "problem": "probleme",
            "similar": "semblables",
            "assigned": "attribues",
            "sort": "tri",
        }
        out: dict[str, str] = {}
        for field in fields(self):
            if field.name in ("similar_ids", "me"):
                continue
            value = getattr(self, field.name)
            if value in (None, "", False):
                continue
            out[names.get(field.name, field.name)] = "1" if value is True else str(value)
        return out

    @property
    def active(self) -> bool:
        return bool(self.without("sort").to_query())

    @property
    def oldest_first(self) -> bool:
        return self.sort == "ancien"

    def without(self, *names: str) -> InboxFilters:
        defaults: dict[str, Any] = {f.name: f.default for f in fields(self) if f.name in names}
        return replace(self, **defaults)


@dataclass(frozen=True)
class Cursor:
    """A position in the inbox: the row (received_at, id) a page starts after or before."""

    received_at: dt.datetime
    id: int

    def encode(self) -> str:
        stamp = self.received_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%f")
        return f"{stamp}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        if not raw or len(raw) > 60:
            return None
        stamp, _, ident = raw.partition("_")
        try:
            at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S.%f").replace(tzinfo=dt.UTC)
        except ValueError:
            return None
        number = parse_big_id(ident)
        return None if number is None else cls(at, number)

    @classmethod
    def of(cls, feedback: Feedback) -> Cursor:
        assert feedback.id is not None
        return cls(feedback.received_at, feedback.id)


def _pii(value: str, errors: list[str]) -> str:
    # Categories are the redaction rules' names; accept any such word, not only today's list.
    if value and not (value == "any" or PII_CATEGORY_RE.fullmatch(value)):
        errors.append("pii")
        return ""
    return value


def _problem(value: str, errors: list[str]) -> str:
    if value and not (value == "aucun" or (value.isdigit() and len(value) < 12)):
        errors.append("probleme")
        return ""
    return value


def _paris_midnight_utc(day: dt.date) -> dt.datetime:
    # Staff think in French days: the period's edges are midnight in Paris.
    return dt.datetime.combine(day, dt.time(), tzinfo=PARIS).astimezone(dt.UTC)


def scope_conditions(
    ministry_ids: Sequence[int] | None, filters: InboxFilters
) -> list[ColumnElement[bool]]:
    """Whose submissions: the actor's ministries (None: all), narrowed by ministry/procedure."""
    conditions: list[ColumnElement[bool]] = []
    if ministry_ids is not None:
        if len(ministry_ids) == 1:
            conditions.append(col(Feedback.ministry_id) == ministry_ids[0])
        else:
            conditions.append(col(Feedback.ministry_id).in_(list(ministry_ids)))
    if filters.ministry is not None:
        conditions.append(col(Feedback.ministry_id) == filters.ministry)
    if filters.procedure:
        conditions.append(col(Feedback.procedure_id) == filters.procedure)
    return conditions


def filter_conditions(
    ministry_ids: Sequence[int] | None,
    filters: InboxFilters,
    dialect: str,
    *,
    walk_index: bool = False,
    any_status: bool = False,
) -> list[ColumnElement[bool]]:
    """The filters as SQL conditions; `any_status` leaves the status out (honeypot still
    excluded), for counting each status within the other filters."""
    conditions = scope_conditions(ministry_ids, filters)
    honeypot = col(Feedback.honeypot)
    status = col(Feedback.status)
    if any_status:
        conditions.append(honeypot.is_(False))
    elif filters.spam:
        conditions.append(or_(honeypot.is_(True), status == "spam"))
    elif filters.status != "spam":
        # Honeypot and spam stay out of the inbox unless asked for.
        conditions.append(honeypot.is_(False))
        if not filters.status:
            conditions.append(status != "spam")
    if filters.status and not any_status:
        conditions.append(status == filters.status)
    if filters.assigned == "aucun":
        conditions.append(col(Feedback.assignee_id).is_(None))
    elif filters.assigned == "moi":
        # No account (a forged filter without a session) matches nothing rather than all.
        conditions.append(col(Feedback.assignee_id) == (filters.me if filters.me else -1))
    if filters.kind:
        conditions.append(col(Feedback.kind) == filters.kind)
    if filters.rating is not None:
        conditions.append(col(Feedback.satisfaction) == filters.rating)
    if filters.date_from is not None:
        conditions.append(col(Feedback.received_at) >= _paris_midnight_utc(filters.date_from))
    if filters.date_to is not None:
        end = _paris_midnight_utc(filters.date_to + dt.timedelta(days=1))
        conditions.append(col(Feedback.received_at) < end)
    if filters.comment == "with":
        conditions.append(col(Feedback.comment) != "")
    elif filters.comment == "without":
        conditions.append(col(Feedback.comment) == "")
    if filters.unregistered:
        conditions.append(col(Feedback.origin_registered).is_(False))
    if filters.pii == "any":
        conditions.append(col(Feedback.pii_categories) != "")
    elif filters.pii:
        padded = " " + col(Feedback.pii_categories) + " "
        conditions.append(padded.like(f"% {filters.pii} %"))
    if filters.problem == "aucun":
        conditions.append(col(Feedback.id).not_in(select(ProblemLink.feedback_id)))
    elif filters.problem:
        linked = select(ProblemLink.feedback_id).where(
            ProblemLink.problem_id == int(filters.problem)
        )
        conditions.append(col(Feedback.id).in_(linked))
    if filters.similar is not None:
        conditions.append(col(Feedback.id).in_(list(filters.similar_ids or ())))
    if filters.q:
        condition = search_condition(dialect, filters.q, walk_index=walk_index)
        if condition is not None:
            conditions.append(condition)
    return conditions


@dataclass(frozen=True)
class Page:
    rows: list[Feedback]
    next: Cursor | None  # older rows exist after the last one
    previous: Cursor | None  # newer rows exist before the first one


def fetch_page(
    session: Session,
    *,
    ministry_ids: Sequence[int] | None,
    filters: InboxFilters,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page in the filters' order (newest first, or oldest first): after `after` (the
    rows that follow it), or before `before` (those that precede it), or the top."""
    dialect = session.get_bind().dialect.name
    # A common word matches more comments than a page needs by far: walk the index instead.
    walk_index = (
        dialect == "sqlite"
        and bool(filters.q)
        and sqlite_match_count(session, filters.q, WALK_FROM) >= WALK_FROM
    )
    key = tuple_(col(Feedback.received_at), col(Feedback.id))

    def position(cursor: Cursor) -> Any:
        # Typed literals, so that UTCDateTime stores the bound value as the column holds it.
        return tuple_(literal(cursor.received_at, UTCDateTime()), literal(cursor.id, BigInteger()))

    conditions = filter_conditions(ministry_ids, filters, dialect, walk_index=walk_index)
    statement = select(Feedback).where(*conditions)
    ascending = (col(Feedback.received_at).asc(), col(Feedback.id).asc())
    descending = (col(Feedback.received_at).desc(), col(Feedback.id).desc())
    oldest = filters.oldest_first
    if before is not None:
        towards_top = key < position(before) if oldest else key > position(before)
        statement = statement.where(towards_top).order_by(*(descending if oldest else ascending))
    else:
        if after is not None:
            statement = statement.where(key > position(after) if oldest else key < position(after))
        statement = statement.order_by(*(ascending if oldest else descending))
    # One row more than shown tells whether another page follows.
    rows = list(session.exec(statement.limit(size + 1)).all())
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
        # We came from an older page, so one follows; a newer one only if a row was left over.
        next_cursor = Cursor.of(rows[-1]) if rows else None
        return Page(rows, next_cursor, Cursor.of(rows[0]) if more and rows else None)
    next_cursor = Cursor.of(rows[-1]) if more and rows else None
    previous = Cursor.of(rows[0]) if after is not None and rows else None
    return Page(rows, next_cursor, previous)


def status_counts(
    session: Session, *, ministry_ids: Sequence[int] | None, filters: InboxFilters
) -> dict[str, int]:
    """Submissions per status in the scope (ministry, procedure), honeypot excluded.

    Only the scope, not the other filters: read from `feedback_status_count`, which database
    triggers keep (migration 0002), so a handful of rows per procedure, never a scan.
    """
    statement = select(col(FeedbackStatusCount.status), func.sum(FeedbackStatusCount.count))
    if ministry_ids is not None:
        statement = statement.where(col(FeedbackStatusCount.ministry_id).in_(list(ministry_ids)))
    if filters.ministry is not None:
        statement = statement.where(FeedbackStatusCount.ministry_id == filters.ministry)
    if filters.procedure:
        statement = statement.where(FeedbackStatusCount.procedure_id == filters.procedure)
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.exec(statement.group_by(col(FeedbackStatusCount.status))).all():
        counts[status] = int(count or 0)
    return counts
