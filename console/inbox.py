"""The inbox (`/console/`): a ministry's submissions, filtered, searched, sorted, paged, with
counts that follow the filters; its bulk actions are `console.inbox_bulk`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console import charts
from console.auth import require_user
from console.database import run_db
from console.feedback_nav import ListContext
from console.formatting import Formats
from console.inbox_bulk import ALL_MAX, WINDOW
from console.inbox_counts import InboxCounts, inbox_counts
from console.inbox_problems import check_filter_scope, resolve_filters, row_problems
from console.inbox_query import Cursor, InboxFilters, Page, fetch_page
from console.incidents import open_incidents
from console.labels import (
    KIND_LABELS,
    LABELS,
    RATING_LABELS,
    STATUS_BADGES,
    STATUS_LABELS,
    format_datetime,
)
from console.params import parse_int
from console.scope import CurrentUser, can_triage, visible_ministry_ids
from console.suggestions import index_of
from console.templating import locale_of, plural_for, render, translate_for
from retour import triage
from retour.collation import french_key
from retour.models import STATUSES, Ministry, Procedure, StaffUser
from retour.stats import current_version, refresh_if_stale


def scope_of(user: CurrentUser) -> list[int] | None:
    visible = visible_ministry_ids(user)
    return None if visible is None else sorted(visible)


def single_ministry(user: CurrentUser, filters: InboxFilters) -> int | None:
    """The one ministry the page is about, if there is one (for colleagues and charts)."""
    return user.ministry_id if user.ministry_id is not None else filters.ministry


@dataclass
class InboxData:
    page: Page
    counts: InboxCounts
    procedures: list[tuple[str, str]]
    ministries: list[tuple[int, str]]
    colleagues: list[tuple[int, str]]
    titles: dict[str, str] = field(default_factory=dict)
    assignees: dict[int, str] = field(default_factory=dict)


def load_inbox(
    session: Session,
    *,
    user: CurrentUser,
    filters: InboxFilters,
    after: Cursor | None,
    before: Cursor | None,
) -> InboxData:
    check_filter_scope(session, user, filters)
    scope = scope_of(user)
    page = fetch_page(session, ministry_ids=scope, filters=filters, after=after, before=before)
    counts = inbox_counts(session, ministry_ids=scope, filters=filters)
    procedures_q = select(Procedure.id, Procedure.title).order_by(col(Procedure.title))
    if scope is not None:
        procedures_q = procedures_q.where(col(Procedure.ministry_id).in_(scope))
    if filters.ministry is not None:
        procedures_q = procedures_q.where(Procedure.ministry_id == filters.ministry)
    procedures = [(pid, title) for pid, title in session.exec(procedures_q).all()]
    ministries: list[tuple[int, str]] = []
    if scope is None:
        rows = session.exec(select(Ministry.id, Ministry.name))
        ministries = sorted(
            ((mid, name) for mid, name in rows.all() if mid is not None),
            key=lambda ministry: french_key(ministry[1]),
        )
    colleagues: list[tuple[int, str]] = []
    ministry_id = single_ministry(user, filters)
    if ministry_id is not None and can_triage(user):
        colleagues = [
            (u.id, u.email)
            for u in triage.assignable_users(session, ministry_id=ministry_id)
            if u.id is not None
        ]
    titles = dict(procedures)
    missing = {f.procedure_id for f in page.rows} - titles.keys()
    if missing:
        extra = select(Procedure.id, Procedure.title).where(col(Procedure.id).in_(missing))
        titles.update(session.exec(extra).all())
    assignee_ids = {f.assignee_id for f in page.rows if f.assignee_id is not None}
    assignees: dict[int, str] = {}
    if assignee_ids:
        people = select(StaffUser.id, StaffUser.email).where(col(StaffUser.id).in_(assignee_ids))
        assignees = {uid: email for uid, email in session.exec(people).all() if uid is not None}
    return InboxData(page, counts, procedures, ministries, colleagues, titles, assignees)


def chart_points(
    session: Session,
    *,
    ministry_ids: Sequence[int] | None,
    procedure_id: str,
    cache: dict[Any, tuple[int, list[charts.WeekPoint]]],
) -> list[charts.WeekPoint]:
    """Weekly points from the daily summary, brought up to date if a few seconds old (one
    request in a while pays an incremental refresh). Kept in `cache` until the summary's
    version changes: DINUM's half-year is a scan of every procedure's days."""
    bind = session.get_bind()
    refresh_if_stale(bind if isinstance(bind, Engine) else bind.engine)
    version = current_version(session.connection())
    key = (tuple(ministry_ids) if ministry_ids is not None else None, procedure_id)
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    points = charts.weekly_points(session, ministry_ids=ministry_ids, procedure_id=procedure_id)
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (version, points)
    return points


def chart_cache(request: Request) -> dict[Any, tuple[int, list[charts.WeekPoint]]]:
    # On the app (not a module global): each app, and each test, has its own.
    state = request.app.state
    if not hasattr(state, "inbox_chart_cache"):
        state.inbox_chart_cache = {}
    cache: dict[Any, tuple[int, list[charts.WeekPoint]]] = state.inbox_chart_cache
    return cache


def page_url(filters: InboxFilters, **extra: str) -> str:
    query = urlencode({**filters.to_query(), **extra})
    return f"/console/?{query}" if query else "/console/"


async def inbox(request: Request) -> Response:
    user = require_user(request)
    _ = translate_for(request)
    filters, bad = InboxFilters.from_query(request.query_params)
    filters = replace(filters, me=user.id)
    after = Cursor.decode(request.query_params.get("after"))
    before = Cursor.decode(request.query_params.get("before")) if after is None else None
    cursor = {"after": after.encode()} if after else {"before": before.encode()} if before else {}
    listing = ListContext(filters, cursor)
    chart_scope = scope_of(user)
    if filters.ministry is not None:
        chart_scope = [filters.ministry]
    cache = chart_cache(request)

    index = index_of(request)

    def load(session: Session) -> tuple[InboxData, list[charts.WeekPoint], Any, Any]:
        # One worker thread and one transaction for the whole page.
        resolved = resolve_filters(session, index, user, filters)
        data = load_inbox(session, user=user, filters=resolved, after=after, before=before)
        points = chart_points(
            session, ministry_ids=chart_scope, procedure_id=filters.procedure, cache=cache
        )
        extra = row_problems(
            session, index, data.page.rows, ministry_id=single_ministry(user, filters)
        )
        ongoing = open_incidents(session, ministry_ids=scope_of(user), procedure_id=None)
        return data, points, extra, ongoing

    data, points, problem_rows, ongoing = await run_db(request, load)
    volume_title = _("Retours par semaine")
    satisfaction_title = _("Satisfaction par semaine (sur 10)")
    context: dict[str, Any] = {
        **LABELS,
        "row_text": row_text(_),
        "nav": "inbox",
        "filters": filters,
        "filter_errors": bad,
        "data": data,
        "rows": data.page.rows,
        "statuses": STATUSES,
        "counts": data.counts.by_status,
        "total": data.counts.total,
        "matching": data.counts.matching,
        "fmt_number": Formats(locale_of(request)).number,
        "all_max": ALL_MAX,
        "window": WINDOW,
        "list_query": listing.query,
        "next_url": page_url(filters, after=data.page.next.encode()) if data.page.next else None,
        "previous_url": (
            page_url(filters, before=data.page.previous.encode()) if data.page.previous else None
        ),
        "status_url": lambda status: page_url(filters.without("status", "spam"), status=status),
        "export_url": "/console/export.csv?" + urlencode(filters.to_query()),
        "export_excel_url": "/console/export.csv?"
        + urlencode({**filters.to_query(), "excel": "1"}),
        "return_to": page_url(filters, **cursor),
        "sort_url": lambda sort: page_url(
            filters.without("sort"), **({"tri": sort} if sort else {})
        ),
        "points": points,
        "volume_svg": charts.volume_svg(
            points,
            title=volume_title,
            desc=charts.describe_volume(points, _),
            id_prefix="volume",
        ),
        "satisfaction_svg": charts.satisfaction_svg(
            points,
            title=satisfaction_title,
            desc=charts.describe_satisfaction(points, _),
            id_prefix="satisfaction",
        ),
        "flash": flash(request),
        "problem_rows": problem_rows,
        "incidents": ongoing,
        "query_string": urlencode(filters.to_query()),
    }
    context["row_text"]["problems"] = problem_rows
    context["row_text"]["keep"] = listing.keep
    return render(request, "inbox.html", context)


def row_text(_: Any) -> dict[str, Any]:
    """The words of an inbox row, translated once per page rather than once per row."""
    return {
        "select": _("Sélectionner le retour n°"),
        "no_comment": _("(sans commentaire)"),
        "unregistered": _("Origine non enregistrée"),
        "pii": _("Données personnelles masquées"),
        "honeypot": _("Piège à robots"),
        "problem_linked": _("Problème :"),
        "problem_suggested": _("Ressemble au problème :"),
        "similar": _("Retours semblables"),
        # Column names again, shown before each cell when rows are stacked on small screens.
        "col": {
            "received": _("Reçu le"),
            "procedure": _("Démarche"),
            "rating_kind": _("Note et type"),
            "comment": _("Commentaire"),
            "status": _("Statut"),
            "assignee": _("Attribué à"),
        },
        "rating": {k: _(v) for k, v in RATING_LABELS.items()},
        "kind": {k: _(v) for k, v in KIND_LABELS.items()},
        "status": {k: _(v) for k, v in STATUS_LABELS.items()},
        "badges": STATUS_BADGES,
        "fmt": format_datetime,
    }


def flash(request: Request) -> dict[str, str] | None:
    _ = translate_for(request)
    plural = plural_for(request)
    done = request.query_params.get("fait")
    changed = parse_int(request.query_params.get("n", "0"), maximum=ALL_MAX)
    skipped = parse_int(request.query_params.get("ignores", "0"), maximum=ALL_MAX)
    if done == "lies" and changed is not None:
        text = plural("{n} retour lié au problème.", "{n} retours liés au problème.", changed)
        return {"type": "success", "text": text}
    if done == "lot" and changed is not None and skipped is not None:
        text = plural("{n} retour modifié.", "{n} retours modifiés.", changed)
        if skipped:
            text += " " + plural(
                "{n} ignoré : le circuit de traitement ne le permet pas.",
                "{n} ignorés : le circuit de traitement ne le permet pas.",
                skipped,
            )
        if request.query_params.get("reste") == "1":
            text += " " + _(
                "D’autres retours correspondent encore : appliquez de nouveau l’action pour "
                "les suivants."
            )
        return {"type": "success", "text": text}
    if request.query_params.get("erreur") == "attribution":
        return {"type": "error", "text": _("Cette personne ne peut pas recevoir ces retours.")}
    if request.query_params.get("erreur") == "selection":
        return {"type": "error", "text": _("Cochez au moins un retour.")}
    if request.query_params.get("erreur") == "collegue":
        return {
            "type": "error",
            "text": _(
                "Choisissez le collègue à qui attribuer ces retours (pour retirer "
                "l’attribution, choisissez l’action « Retirer l’attribution »)."
            ),
        }

    return None


routes = [
    Route("/console/", inbox, name="inbox"),
]
