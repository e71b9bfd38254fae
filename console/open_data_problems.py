"""Open data: `/open-data/problems.csv` and `.json`, the public record of problems
(`retour.problems_public`; docs/open-data.md documents each field). Same licence, headers
and JSON envelope as the other files (`console.open_data`).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.database import run_db
from console.open_data import _file, _iso, to_csv, to_json
from retour.problems_public import FIELDS, public_problems


def problem_records(session: Session) -> list[dict[str, Any]]:
    records = public_problems(session.connection())
    for record in records:
        for name in ("opened_at", "planned_at", "fixed_at", "closed_at"):
            record[name] = _iso(record[name]) if record[name] is not None else None
    return records


async def problems_csv(request: Request) -> Response:
    records = await run_db(request, problem_records)
    # In CSV the procedures are one cell, identifiers separated by spaces (they have none).
    flat = [{**r, "procedure_ids": " ".join(r["procedure_ids"])} for r in records]
    return _file(to_csv(flat, FIELDS), "text/csv; charset=utf-8", "problems.csv")


async def problems_json(request: Request) -> Response:
    records = await run_db(request, problem_records)
    return _file(to_json(records, "problems"), "application/json", "problems.json")


routes = [
    Route("/open-data/problems.csv", problems_csv, name="open_data_problems_csv"),
    Route("/open-data/problems.json", problems_json, name="open_data_problems_json"),
]
