"""Open data: the register with its indicators, and the public answers, as CSV and JSON.

Published under the Licence Ouverte / Open Licence 2.0 (etalab-2.0): every file says so in a
`Link: <…>; rel="license"` header, the JSON in its `license` field, and `/open-data` on the
page. CSV and JSON are built from the same records (`procedure_records`, `answer_records`),
so they always agree; docs/open-data.md documents each field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import threading
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import text
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import run_db, settings_of
from console.formatting import Formats
from console.templating import locale_of, render
from retour.figures import procedure_figures
from retour.models import utcnow
from retour.problems_public import FIELDS as PROBLEM_FIELDS
from retour.stats import fresh_connection, summary_stamp

LICENSE: Final = "etalab-2.0"
LICENSE_NAME: Final = "Licence Ouverte / Open Licence version 2.0"
LICENSE_URL: Final = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
PROCEDURE_FIELDS: Final = (
    "id",
    "title",
    "ministry",
    "ministry_slug",
    "url",
    "online",
    "button_live",
    "feedback_count",
    "satisfaction_score",
    "processed_share",
    "median_ack_hours",
    "public_answers",
)
ANSWER_FIELDS: Final = (
    "procedure_id",
    "procedure_title",
    "ministry",
    "published_at",
    "kind",
    "status",
    "answer",
)
HEADERS: Final = {
    "Link": f'<{LICENSE_URL}>; rel="license"',
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "public, max-age=60",
}


def procedure_records(session: Session, *, min_count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f.id,
            "title": f.title,
            "ministry": f.ministry_name,
            "ministry_slug": f.ministry_slug,
            "url": f.url,
            "online": f.online,
            "button_live": f.button_live,
            "feedback_count": f.count,
            "satisfaction_score": f.satisfaction_score,
            "processed_share": f.processed_share,
            "median_ack_hours": f.median_ack_hours,
            "public_answers": f.answers,
        }
        for f in procedure_figures(fresh_connection(session), min_count=min_count)
    ]


def answer_records(session: Session) -> list[dict[str, Any]]:
    """Every published answer, newest first; never the citizen's own words."""
    rows = (
        fresh_connection(session)
        .execute(
            text(
                # CROSS JOIN: SQLite reads the (few) answers first and looks each submission up
                # by id rather than scanning them all; PostgreSQL plans it as a plain join.
                "SELECT a.procedure_id, p.title, m.name, a.published_at, f.kind, f.status, a.body "
                "FROM public_answer a CROSS JOIN feedback f "
                "JOIN procedure p ON p.id = a.procedure_id JOIN ministry m ON m.id = p.ministry_id "
                "WHERE f.id = a.feedback_id AND NOT f.honeypot AND f.status <> 'spam' "
                "ORDER BY a.published_at DESC, a.id DESC"
            )
        )
        .all()
    )
    return [
        dict(zip(ANSWER_FIELDS, (*row[:3], _iso(row[3]), *row[4:]), strict=True)) for row in rows
    ]


def _iso(value: Any) -> str:
    if isinstance(value, str):  # SQLite through text(): naive UTC
        value = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    stamp: dt.datetime = value.astimezone(dt.UTC).replace(microsecond=0)
    return stamp.isoformat().replace("+00:00", "Z")


def csv_value(value: Any) -> str:
    """How a JSON value is written in CSV: true/false, empty for null, numbers as in JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(records: Sequence[dict[str, Any]], fields: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(fields)
    for record in records:
        writer.writerow([csv_value(record[field]) for field in fields])
    return buffer.getvalue().encode("utf-8")


def to_json(records: Sequence[dict[str, Any]], name: str, **meta: Any) -> bytes:
    document = {
        "license": LICENSE,
        "license_name": LICENSE_NAME,
        "license_url": LICENSE_URL,
        "generated_at": _iso(utcnow()),
        **meta,
        name: list(records),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _file(body: bytes, media_type: str, filename: str) -> Response:
    headers = {**HEADERS, "Content-Disposition": f'inline; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


async def procedures_csv(request: Request) -> Response:
    min_count = settings_of(request).public_min_count
    records = await run_db(request, procedure_records, min_count=min_count)
    return _file(to_csv(records, PROCEDURE_FIELDS), "text/csv; charset=utf-8", "procedures.csv")


async def procedures_json(request: Request) -> Response:
    min_count = settings_of(request).public_min_count
    records = await run_db(request, procedure_records, min_count=min_count)
    body = to_json(records, "procedures", period_days=365, min_count=min_count)
    return _file(body, "application/json", "procedures.json")


# The answers files grow with every answer ever published: each process keeps the last one it
# built, per database and format, until the summary's version moves (a refresh saw a change:
# an answer published or edited, a status changed). So a file is rebuilt at most once per
# change, and the figures are as fresh as the summary's (seconds).
_answers_cache: dict[tuple[str, str], tuple[str, bytes]] = {}
_answers_lock = threading.Lock()


def answers_file(session: Session, fmt: str) -> bytes:
    connection = fresh_connection(session)
    version = summary_stamp(connection)
    key = (str(connection.engine.url), fmt)
    with _answers_lock:
        hit = _answers_cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    records = answer_records(session)
    body = to_csv(records, ANSWER_FIELDS) if fmt == "csv" else to_json(records, "answers")
    with _answers_lock:
        _answers_cache[key] = (version, body)
    return body


async def answers_csv(request: Request) -> Response:
    body = await run_db(request, answers_file, "csv")
    return _file(body, "text/csv; charset=utf-8", "answers.csv")


async def answers_json(request: Request) -> Response:
    body = await run_db(request, answers_file, "json")
    return _file(body, "application/json", "answers.json")


async def open_data_page(request: Request) -> Response:
    return render(
        request,
        "public/open_data.html",
        {
            "nav": "open-data",
            "fmt": Formats(locale_of(request)),
            "license_url": LICENSE_URL,
            "procedure_fields": PROCEDURE_FIELDS,
            "answer_fields": ANSWER_FIELDS,
            "problem_fields": PROBLEM_FIELDS,
            "min_count": settings_of(request).public_min_count,
        },
    )


routes = [
    Route("/open-data", open_data_page, name="open_data"),
    Route("/open-data/procedures.csv", procedures_csv, name="open_data_procedures_csv"),
    Route("/open-data/procedures.json", procedures_json, name="open_data_procedures_json"),
    Route("/open-data/answers.csv", answers_csv, name="open_data_answers_csv"),
    Route("/open-data/answers.json", answers_json, name="open_data_answers_json"),
]
