"""What a webhook delivery says: the bodies' `data` for submissions and problems.

Each `…_data` returns a function of whether the endpoint may receive comments, since the
same event goes to several endpoints of a ministry with different rights.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

Data = Callable[[bool], dict[str, Any]]


def parse_stamp(value: Any) -> dt.datetime:
    """A timestamp as raw SQL gives it: text on SQLite, naive or aware datetimes."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iso(value: Any) -> str:
    return parse_stamp(value).isoformat().replace("+00:00", "Z")


def feedback_json(row: Any, public_url: str, with_comment: bool) -> dict[str, Any]:
    data = {
        "id": row.id,
        "procedure_id": row.procedure_id,
        "procedure_title": row.title,
        "received_at": iso(row.received_at),
        "channel": row.channel,
        "satisfaction": row.satisfaction,
        "kind": row.kind,
        "status": row.status,
        "console_url": f"{public_url}/console/feedback/{row.id}",
    }
    if with_comment:
        data["comment"] = row.comment
        data["pii_categories"] = row.pii_categories.split()
    return data


def feedback_data(row: Any, public_url: str, extra: dict[str, Any]) -> Data:
    return lambda with_comment: {
        "feedback": feedback_json(row, public_url, with_comment),
        **extra,
    }


def problem_data(row: Any, procedures: list[str], public_url: str) -> Data:
    """A problem as published (title, status, reason, answer) plus its console address; the
    description is internal and may quote citizens: only for endpoints allowed comments."""
    detail = json.loads(row.detail or "{}")
    problem = {
        "id": row.id,
        "title": row.title,
        "status": row.status,
        "reason": row.reason,
        "public_answer": row.public_answer,
        "procedure_ids": procedures,
        "reports": row.reports,
        "created_at": iso(row.created_at),
        "closed_at": iso(row.closed_at) if row.closed_at else None,
        "merged_into_id": row.merged_into_id,
        "console_url": f"{public_url}/console/problems/{row.id}",
    }
    change = {"change": row.action, "at": iso(row.at)}
    if row.action == "status":
        change |= {"from": detail.get("from"), "to": detail.get("to")}
    elif row.action in ("link", "unlink", "merge_into", "merge_from"):
        change |= {key: detail[key] for key in ("count", "target", "source") if key in detail}

    def data(with_comment: bool) -> dict[str, Any]:
        shown = problem | ({"description": row.description} if with_comment else {})
        return {"problem": shown, **change}

    return data
