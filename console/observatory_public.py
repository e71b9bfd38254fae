"""The public observatory (`/observatoire`): every procedure's indicators with their level,
filterable and sortable with plain GET parameters (no JavaScript), levels said in words
beside their colour; and per ministry the declared accessibility beside the accessibility
problems citizens reported (issue 18).

`?ministere=<slug>`, `?indicateur=<name>&niveau=<level>` (`retour.indicators`),
`?tri=title|ministry|rgaa|reports|score`, `?ordre=asc|desc`. Unknown values are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import run_db, settings_of
from console.formatting import Formats
from console.templating import locale_of, render
from retour import indicators as ind
from retour.collation import french_key
from retour.coverage import BUTTON_STATE_LABELS
from retour.observatory import ObservatoryRow, by_ministry, observatory_rows
from retour.stats import fresh_connection

SORTS: Final = ("ministry", "title", "rgaa", "reports", "score")


@dataclass(frozen=True)
class ObservatoryQuery:
    ministry: str = ""
    indicator: str = ""
    level: str = ""
    sort: str = "ministry"
    order: str = "asc"

    @classmethod
    def from_request(cls, request: Request) -> ObservatoryQuery:
        params = request.query_params
        indicator = params.get("indicateur", "")
        level = params.get("niveau", "")
        sort = params.get("tri", "ministry")
        return cls(
            ministry=params.get("ministere", "")[:120],
            indicator=indicator if indicator in ind.INDICATORS else "",
            level=level if level in ind.LEVELS else "",
            sort=sort if sort in SORTS else "ministry",
            order="desc" if params.get("ordre") == "desc" else "asc",
        )

    def params(self, **changes: str) -> dict[str, str]:
        values = {
            "ministere": self.ministry,
            "indicateur": self.indicator,
            "niveau": self.level,
            "tri": self.sort,
            "ordre": self.order,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def select_rows(rows: list[ObservatoryRow], query: ObservatoryQuery) -> list[ObservatoryRow]:
    chosen = [
        r
        for r in rows
        if (not query.ministry or r.ministry_slug == query.ministry)
        and (not query.level or r.ratings[query.indicator or "accessibility"].level == query.level)
    ]
    reverse = query.order == "desc"
    if query.sort == "title":
        chosen.sort(key=lambda r: (french_key(r.title), r.id), reverse=reverse)
    elif query.sort in ("rgaa", "reports", "score"):
        figure = {
            "rgaa": lambda r: r.rgaa_rate,
            "reports": lambda r: r.accessibility_reports,
            "score": lambda r: r.satisfaction_score,
        }[query.sort]
        # Rows without the figure stay last whichever the order.
        known = sorted((r for r in chosen if figure(r) is not None), key=figure, reverse=reverse)
        chosen = known + [r for r in chosen if figure(r) is None]
    elif reverse:
        chosen.reverse()
    return chosen


def _load(session: Session, min_count: int) -> list[ObservatoryRow]:
    fresh_connection(session)  # the summary tables up to date, as the dashboard reads them
    return observatory_rows(session, min_count=min_count)


async def observatory(request: Request) -> Response:
    query = ObservatoryQuery.from_request(request)
    rows = await run_db(request, _load, settings_of(request).public_min_count)
    ministries = sorted(
        {(r.ministry_slug, r.ministry_name) for r in rows}, key=lambda m: french_key(m[1])
    )
    selected = select_rows(rows, query)
    context: dict[str, Any] = {
        "nav": "observatory",
        "fmt": Formats(locale_of(request)),
        "query": query,
        "rows": selected,
        "ministries": ministries,
        "ministry_rows": by_ministry(rows),
        "ind": ind,
        "button_labels": BUTTON_STATE_LABELS,
    }
    return render(request, "public/observatory.html", context)


routes = [Route("/observatoire", observatory, name="observatory")]
