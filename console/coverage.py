"""`/console/coverage`: deployment coverage and the loop measured, for DINUM admins only.

Ministry staff get 403 (console convention for a page their role cannot use); anonymous
visitors are sent to the sign-in page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.auth import require_user
from console.charts import WeekPoint, volume_svg
from console.database import run_db, settings_of
from console.formatting import Formats
from console.templating import locale_of, render, translate_for
from retour.collation import french_key
from retour.coverage import FUNNEL_DAYS, TREND_WEEKS, Coverage, coverage
from retour.figures import procedure_figures
from retour.indicators import DECLARED
from retour.models import utcnow
from retour.observatory import MinistryObservatory, by_ministry, observatory_rows
from retour.stats import fresh_connection


def _load(session: Session, *, min_count: int) -> tuple[Coverage, list[MinistryObservatory]]:
    connection = fresh_connection(session)
    now = utcnow()
    figures = procedure_figures(connection, min_count=min_count, now=now)
    found = coverage(connection, figures, today=now.date())
    # How complete and how current each ministry's observatory declarations are (issue 18).
    declarations = by_ministry(observatory_rows(session, min_count=min_count, now=now))
    # French order (accents and case do not count), not the database's byte order.
    return dataclasses.replace(
        found,
        ministries=sorted(found.ministries, key=lambda g: french_key(g.name)),
        not_live=sorted(
            found.not_live, key=lambda f: (french_key(f.ministry_name), french_key(f.title))
        ),
    ), declarations


async def coverage_page(request: Request) -> Response:
    require_user(request, roles=("admin",))
    data, declarations = await run_db(
        request, _load, min_count=settings_of(request).public_min_count
    )
    _ = translate_for(request)
    fmt = Formats(locale_of(request))
    points = [WeekPoint(week.week, good=week.live) for week in data.trend]
    latest = data.trend[-1]
    desc = _(
        "Nombre de démarches dont le bouton a été vu sur un site enregistré, semaine par "
        "semaine, sur {weeks} semaines : {first} la première semaine, {last} la semaine en "
        "cours, sur {total} démarches actives.",
        weeks=TREND_WEEKS,
        first=data.trend[0].live,
        last=latest.live,
        total=latest.procedures,
    )
    context: dict[str, Any] = {
        "nav": "coverage",
        "fmt": fmt,
        "data": data,
        "loop_rows": data.ministries,
        "trend_svg": volume_svg(
            points, title=_("Démarches au bouton actif, par semaine"), desc=desc, id_prefix="trend"
        ),
        "funnel_days": FUNNEL_DAYS,
        "declarations": declarations,
        "declared_count": len(DECLARED),
    }
    return render(request, "console/coverage.html", context)


routes = [Route("/console/coverage", coverage_page, name="coverage")]
