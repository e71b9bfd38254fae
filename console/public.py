"""The open dashboard (`/`) and one procedure's public page (`/procedures/{id}`).

Both read only the summary tables (`retour.figures`), never `feedback` itself, and set no
cookie. Sorting, filtering and paging are plain GET parameters, so no JavaScript is needed.
A citizen's own words never appear here: only what staff published as a public answer.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import text
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.charts import WeekPoint, describe_volume, satisfaction_svg, volume_svg
from console.database import run_db, settings_of
from console.formatting import Formats
from console.labels import CHANNEL_LABELS
from console.params import parse_page
from console.public_trends import describe_rolling, rolling_points
from console.templating import locale_of, render, translate_for
from retour.collation import french_key
from retour.editions import history_of
from retour.figures import (
    ProcedureFigures,
    by_ministry,
    group_figures,
    ministry_medians,
    procedure_figures,
    procedure_history,
)
from retour.models import utcnow
from retour.observatory import procedure_observatory
from retour.problem_words import PUBLIC_PROBLEM_STATUS_LABELS
from retour.problems_public import public_problems
from retour.stats import fresh_connection

PAGE_SIZE: Final = 100
ANSWERS_PAGE_SIZE: Final = 20
LATEST_FIXES: Final = 5
# Sort keys of the dashboard table and the attribute each one sorts on.
SORTS: Final = {
    "title": "title",
    "ministry": "ministry_name",
    "volume": "count",
    "score": "satisfaction_score",
    "processed": "processed_share",
    "ack": "median_ack_seconds",
    "answers": "answers",
    "live": "button_live",
}
SCORE_BANDS: Final = {
    "high": (8.0, 10.01),
    "mid": (5.0, 8.0),
    "low": (0.0, 5.0),
}
KIND_LABELS: Final = {
    "complaint": "Réclamation",
    "change_request": "Demande d’évolution",
    "malfunction": "Dysfonctionnement",
    "omission": "Information manquante",
    "accessibility": "Problème d’accessibilité",
    "praise": "Félicitations",
    "other": "Autre",
}
STATUS_LABELS: Final = {
    "new": "Reçu",
    "acknowledged": "Pris en compte",
    "in_progress": "En cours de traitement",
    "resolved": "Résolu",
    "rejected": "Clos sans suite",
    "spam": "Non retenu",
}


@dataclass(frozen=True)
class DashboardQuery:
    ministry: str = ""
    score: str = ""
    live: str = ""
    q: str = ""
    sort: str = "ministry"
    order: str = "asc"
    page: int = 1

    @classmethod
    def from_request(cls, request: Request) -> DashboardQuery:
        params = request.query_params
        sort = params.get("sort", "ministry")
        order = params.get("order", "asc")
        page = parse_page(params.get("page"))
        return cls(
            ministry=params.get("ministry", "")[:120],
            score=params.get("score", "") if params.get("score") in (*SCORE_BANDS, "none") else "",
            live=params.get("live", "") if params.get("live") in ("yes", "no") else "",
            q=params.get("q", "").strip()[:100],
            sort=sort if sort in SORTS else "ministry",
            order=order if order in ("asc", "desc") else "asc",
            page=page,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string of this view with some parameters changed (for links)."""
        values = {
            "ministry": self.ministry,
            "score": self.score,
            "live": self.live,
            "q": self.q,
            "sort": self.sort,
            "order": self.order,
            "page": str(self.page),
        }
        values.update({key: str(value) for key, value in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


def _matches(figure: ProcedureFigures, query: DashboardQuery) -> bool:
    if query.ministry and figure.ministry_slug != query.ministry:
        return False
    if query.live and figure.button_live != (query.live == "yes"):
        return False
    if query.score == "none" and figure.satisfaction_score is not None:
        return False
    if query.score in SCORE_BANDS:
        low, high = SCORE_BANDS[query.score]
        if figure.satisfaction_score is None or not low <= figure.satisfaction_score < high:
            return False
    # Accents and case do not count: « sejour » finds « Titre de séjour ».
    return not query.q or french_key(query.q)[0] in french_key(figure.title)[0]


def sort_figures(figures: list[ProcedureFigures], sort: str, order: str) -> list[ProcedureFigures]:
    """Sorted on one column; missing values (no score yet) always last, ties by title."""
    attribute = SORTS[sort]
    present = [f for f in figures if getattr(f, attribute) is not None]
    missing = [f for f in figures if getattr(f, attribute) is None]
    present.sort(key=lambda f: french_key(f.title))
    if attribute in ("title", "ministry_name"):
        present.sort(key=lambda f: french_key(getattr(f, attribute)), reverse=order == "desc")
    else:
        present.sort(key=lambda f: getattr(f, attribute), reverse=order == "desc")
    return present + sorted(missing, key=lambda f: french_key(f.title))


def _load_dashboard(
    session: Session, *, min_count: int
) -> tuple[list[ProcedureFigures], dict[int, float | None], list[dict[str, Any]]]:
    connection = fresh_connection(session)
    fixes = public_problems(connection, fixed_only=True, limit=LATEST_FIXES)
    return procedure_figures(connection, min_count=min_count), ministry_medians(connection), fixes


async def dashboard(request: Request) -> Response:
    settings = settings_of(request)
    query = DashboardQuery.from_request(request)
    figures, medians, fixes = await run_db(
        request, _load_dashboard, min_count=settings.public_min_count
    )
    ministries = sorted(
        {(f.ministry_slug, f.ministry_name) for f in figures}, key=lambda m: french_key(m[1])
    )
    selected = sort_figures([f for f in figures if _matches(f, query)], query.sort, query.order)
    pages = max(1, math.ceil(len(selected) / PAGE_SIZE))
    page = min(query.page, pages)
    return render(
        request,
        "public/dashboard.html",
        {
            "nav": "dashboard",
            "fmt": Formats(locale_of(request)),
            "query": query,
            "rows": selected[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            "matching": len(selected),
            "page": page,
            "pages": pages,
            "ministries": ministries,
            "overall": group_figures("all", "", figures, medians.get(0)),
            "loop_rows": sorted(by_ministry(figures, medians), key=lambda g: french_key(g.name)),
            "min_count": settings.public_min_count,
            "sorts": SORTS,
            "latest_fixes": fixes,
        },
    )


# --- One procedure ------------------------------------------------------------------------


def _load_procedure(
    session: Session, procedure_id: str, *, min_count: int, page: int
) -> dict[str, Any] | None:
    connection = fresh_connection(session)
    found = procedure_figures(connection, min_count=min_count, procedure_id=procedure_id)
    if not found:
        return None
    now = utcnow()
    history = procedure_history(connection, procedure_id, min_count=min_count, today=now.date())
    answers = connection.execute(
        text(
            "SELECT a.published_at, a.body, f.status, f.kind FROM public_answer a "
            "CROSS JOIN feedback f "  # answers first, then each submission by id (SQLite)
            "WHERE a.procedure_id = :p AND f.id = a.feedback_id AND NOT f.honeypot "
            "AND f.status <> 'spam' "
            "ORDER BY a.published_at DESC, a.id DESC LIMIT :limit OFFSET :offset"
        ),
        {
            "p": procedure_id,
            "limit": ANSWERS_PAGE_SIZE + 1,
            "offset": (page - 1) * ANSWERS_PAGE_SIZE,
        },
    ).all()
    return {
        "figure": found[0],
        "history": history,
        "answers": [_answer(row) for row in answers[:ANSWERS_PAGE_SIZE]],
        # One row more than shown tells whether another page follows (`figure.answers` also
        # counts the reports answered through a problem, which are not listed one by one).
        "has_next": len(answers) > ANSWERS_PAGE_SIZE,
        "problems": public_problems(connection, procedure_id=procedure_id),
        "observatory": procedure_observatory(session, procedure_id, min_count=min_count),
        "observatory_history": history_of(session, procedure_id),
    }


def _answer(row: Any) -> dict[str, Any]:
    published = row.published_at
    if isinstance(published, str):  # SQLite through text(): a naive UTC string
        published = dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC)
    return {"published_at": published, "body": row.body, "status": row.status, "kind": row.kind}


async def procedure_page(request: Request) -> Response:
    settings = settings_of(request)
    page = parse_page(request.query_params.get("page"))
    data = await run_db(
        request,
        _load_procedure,
        request.path_params["procedure_id"],
        min_count=settings.public_min_count,
        page=page,
    )
    if data is None:
        raise HTTPException(404)
    _ = translate_for(request)
    points = [
        WeekPoint(w.week, bad=w.bad, average=w.average, good=w.good) for w in data["history"].weeks
    ]
    volume = volume_svg(
        points,
        title=_("Retours par semaine sur 52 semaines"),
        desc=describe_volume(points, _),
        id_prefix="volume",
    )
    # Satisfaction over time: a rolling three months (console/public_trends.py).
    rolling = rolling_points(points)
    rolling_svg = satisfaction_svg(
        rolling,
        title=_("Satisfaction sur 10, sur trois mois glissants"),
        desc=describe_rolling(rolling, _),
        id_prefix="satisfaction",
    )
    return render(
        request,
        "public/procedure.html",
        {
            **data,
            "rolling_points": rolling,
            "rolling_svg": rolling_svg,
            "rolling_summary": describe_rolling(rolling, _),
            "volume_svg": volume,
            "points": points,
            "nav": "dashboard",
            "fmt": Formats(locale_of(request)),
            "min_count": settings.public_min_count,
            "page": page,
            "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "problem_labels": PUBLIC_PROBLEM_STATUS_LABELS,
        },
    )


routes = [
    Route("/", dashboard, name="dashboard"),
    Route("/procedures/{procedure_id:procedure}", procedure_page, name="procedure_page"),
]
