"""`/console/export.csv?<inbox filters>`: the filtered inbox as CSV, streamed.

Rows go from a server-side cursor (`stream_results`, batches of `BATCH` rows) to the client
as they are read: a million rows never sit in memory. `excel=1` gives what Excel opens
correctly in French: `;` between fields and a UTF-8 byte order mark. Cells that a
spreadsheet would run as a formula (starting with = + - @, tab or carriage return) are
prefixed with `'`: comments are hostile input.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sm_select
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from console.auth import require_user
from console.database import engine_of, run_db
from console.inbox import check_filter_scope, scope_of
from console.inbox_query import InboxFilters, filter_conditions
from console.scope import CurrentUser
from retour.models import Feedback, Procedure, StaffUser

BATCH: Final = 1000
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
HEADER: Final = (
    "id",
    "received_at",
    "procedure_id",
    "procedure_title",
    "status",
    "satisfaction",
    "kind",
    "comment",
    "page_url",
    "origin_registered",
    "pii_categories",
    "assignee_email",
    "acknowledged_at",
)
COLUMNS: Final[tuple[Any, ...]] = (
    Feedback.id,
    Feedback.received_at,
    Feedback.procedure_id,
    Feedback.status,
    Feedback.satisfaction,
    Feedback.kind,
    Feedback.comment,
    Feedback.page_url,
    Feedback.origin_registered,
    Feedback.pii_categories,
    # People read an address, not an account number (the account may be gone: empty).
    StaffUser.email,
    Feedback.acknowledged_at,
)


def guard(value: Any) -> str:
    """A cell as text, defused if a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(
    engine: Engine,
    *,
    ministry_ids: Sequence[int] | None,
    filters: InboxFilters,
    titles: dict[str, str],
    excel: bool,
) -> Iterator[str]:
    """The CSV text, one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    if excel:
        buffer.write("\ufeff")
    writer.writerow(HEADER)
    conditions = filter_conditions(ministry_ids, filters, engine.dialect.name)
    statement = (
        select(*COLUMNS)
        .select_from(Feedback)
        .outerjoin(StaffUser, col(StaffUser.id) == col(Feedback.assignee_id))
        .where(*conditions)
        .order_by(col(Feedback.received_at).desc(), col(Feedback.id).desc())
    )
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
            statement
        )
        for rows in result.partitions():
            for row in rows:
                ident, received, procedure_id, *rest = row
                cells = [ident, received, procedure_id, titles.get(procedure_id, ""), *rest]
                writer.writerow([guard(cell) for cell in cells])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _prepare(session: Session, *, user: CurrentUser, filters: InboxFilters) -> dict[str, str]:
    check_filter_scope(session, user, filters)
    statement = sm_select(Procedure.id, Procedure.title)
    scope = scope_of(user)
    if scope is not None:
        statement = statement.where(col(Procedure.ministry_id).in_(scope))
    return {pid: title for pid, title in session.exec(statement).all()}


async def export_csv(request: Request) -> Response:
    user = require_user(request)
    filters, _bad = InboxFilters.from_query(request.query_params)
    titles = await run_db(request, _prepare, user=user, filters=filters)
    excel = request.query_params.get("excel") in ("1", "on", "true")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    chunks = csv_chunks(
        engine_of(request), ministry_ids=scope_of(user), filters=filters, titles=titles, excel=excel
    )
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="retours-{stamp}.csv"'},
    )


routes = [Route("/console/export.csv", export_csv, name="inbox_export")]
