"""Open data: `/open-data/indicators.csv` and `.json`, one row per procedure and edition of the
observatory (issue 18): the live state first (`edition` "current"), then every quarterly
edition kept (`retour.editions`), newest first. Same licence, headers and JSON envelope as
the other files (`console.open_data`); docs/open-data.md documents each field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import select
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import run_db, settings_of
from console.open_data import _file, _iso, to_csv, to_json
from retour import indicators as ind
from retour.editions import CURRENT, REPORTS, edition_t, ministry_t, procedure_t
from retour.models import utcnow
from retour.observatory import observatory_rows
from retour.stats import fresh_connection

# indicator → its value columns (the second one holds `detail`).
VALUE_COLUMNS: Final = {
    "online": ("online",),
    "accessibility": ("rgaa_rate", "accessibility_statement"),
    "franceconnect": ("franceconnect",),
    "dlnuf": ("dlnuf",),
    "help": ("help_channels", "help_where"),
    "online_share": ("online_share",),
    "yearly_volume": ("yearly_volume",),
}
FIELDS: Final = (
    "edition",
    "taken_at",
    "procedure_id",
    "title",
    "ministry",
    "ministry_slug",
    *(
        column
        for name in ind.DECLARED
        for column in (*VALUE_COLUMNS[name], f"{name}_level", f"{name}_declared_at")
    ),
    "satisfaction_score",
    "satisfaction_level",
    "button",
    "button_level",
    "page_load_median_ms",
    "performance_level",
    REPORTS,
)
# Integers in JSON for the figures; text for the rest.
NUMBERS: Final = {"rgaa_rate", "online_share", "yearly_volume", "page_load_median_ms", REPORTS}


def _typed(column: str, value: str) -> Any:
    if value == "":
        return None
    if column in NUMBERS or (column == "dlnuf" and value.isdigit()):
        return int(value)
    if column == "satisfaction_score":
        return float(value)
    return value


def _record(
    head: dict[str, Any], values: dict[str, tuple[str, str, str, dt.datetime | None]]
) -> dict[str, Any]:
    record = dict(head)
    for name in ind.DECLARED:
        value, detail, level, declared_at = values.get(name, ("", "", "no_data", None))
        columns = VALUE_COLUMNS[name]
        record[columns[0]] = _typed(columns[0], value)
        if len(columns) > 1:
            record[columns[1]] = detail or None
        record[f"{name}_level"] = level
        record[f"{name}_declared_at"] = _iso(declared_at) if declared_at else None
    score, _, score_level, _ = values.get("satisfaction", ("", "", "no_data", None))
    button, _, button_level, _ = values.get("button", ("", "", "no_data", None))
    record["satisfaction_score"] = _typed("satisfaction_score", score)
    record["satisfaction_level"] = score_level
    record["button"] = button or None
    record["button_level"] = button_level
    load, _, load_level, _ = values.get("performance", ("", "", "no_data", None))
    record["page_load_median_ms"] = _typed("page_load_median_ms", load)
    record["performance_level"] = load_level
    record[REPORTS] = _typed(REPORTS, values.get(REPORTS, ("", "", "", None))[0])
    return record


def indicator_records(session: Session, *, min_count: int) -> list[dict[str, Any]]:
    fresh_connection(session)
    now = utcnow()
    records = []
    for row in observatory_rows(session, min_count=min_count, now=now):
        values: dict[str, tuple[str, str, str, dt.datetime | None]] = {
            name: (d.value, d.detail, d.rating.level, d.declared_at)
            for name, d in row.declared.items()
        }
        score = "" if row.satisfaction_score is None else f"{row.satisfaction_score:.1f}"
        values["satisfaction"] = (score, "", row.ratings["satisfaction"].level, None)
        values["button"] = (row.button, "", row.ratings["button"].level, None)
        load = "" if row.load_median_ms is None else str(row.load_median_ms)
        values["performance"] = (load, "", row.ratings["performance"].level, None)
        values[REPORTS] = (str(row.accessibility_reports), "", "", None)
        head = {"edition": CURRENT, "taken_at": _iso(now), "procedure_id": row.id,
                "title": row.title, "ministry": row.ministry_name,
                "ministry_slug": row.ministry_slug}  # fmt: skip
        records.append(_record(head, values))
    query = (
        select(edition_t, procedure_t.c.title, ministry_t.c.name, ministry_t.c.slug)
        .join(procedure_t, procedure_t.c.id == edition_t.c.procedure_id)
        .join(ministry_t, ministry_t.c.id == procedure_t.c.ministry_id)
        .order_by(edition_t.c.edition.desc(), ministry_t.c.name, procedure_t.c.title)
    )
    groups: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for r in session.execute(query):
        key = (r.edition, r.procedure_id)
        if key not in groups:
            head = {"edition": r.edition, "taken_at": _iso(r.taken_at),
                    "procedure_id": r.procedure_id, "title": r.title, "ministry": r.name,
                    "ministry_slug": r.slug}  # fmt: skip
            groups[key] = (head, {})
        groups[key][1][r.indicator] = (r.value, r.detail, r.level, r.declared_at)
    records.extend(_record(head, values) for head, values in groups.values())
    return records


async def indicators_csv(request: Request) -> Response:
    records = await run_db(
        request, indicator_records, min_count=settings_of(request).public_min_count
    )
    return _file(to_csv(records, FIELDS), "text/csv; charset=utf-8", "indicators.csv")


async def indicators_json(request: Request) -> Response:
    min_count = settings_of(request).public_min_count
    records = await run_db(request, indicator_records, min_count=min_count)
    return _file(
        to_json(records, "indicators", min_count=min_count), "application/json", "indicators.json"
    )


routes = [
    Route("/open-data/indicators.csv", indicators_csv, name="open_data_indicators_csv"),
    Route("/open-data/indicators.json", indicators_json, name="open_data_indicators_json"),
]
