"""`/console/export.csv`: inbox submissions as CSV, streamed; two kinds, for two readers.

- Plain CSV (programs): `,`, machine codes (`new`, `malfunction`, 1-3), UTC ISO 8601 times,
  English column names; `retours-AAAAMMJJ-HHMM.csv`.
- Excel CSV (people, `excel=1`): what French Excel opens as a table: `;`, a UTF-8 byte order
  mark, French column headers, labels people read (« Pris en compte », « Dysfonctionnement »,
  « Mal »), dates as Paris local time `JJ/MM/AAAA HH:MM`, which Excel reads as dates;
  `retours-excel-AAAAMMJJ-HHMM.csv`. File names use Paris time.

What is exported: `GET ?<inbox filters>` exports the filter's results. `POST` (the inbox's
« Exporter la sélection », with the CSRF token) exports the ticked rows (`ids`) when some are
ticked, else the results of `query` (the inbox's filters); the file name says which
(`-selection` for ticked rows).

Rows go from a server-side cursor (`stream_results`, batches of `BATCH` rows) to the client
as they are read: a million rows never sit in memory. Cells that a spreadsheet would run as
a formula (starting with = + - @, tab or carriage return) are prefixed with `'`: comments are
hostile input.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Final
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as sm_select
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from console.auth import require_user
from console.database import engine_of, run_db
from console.inbox import scope_of
from console.inbox_bulk import parse_ids
from console.inbox_problems import resolve_filters
from console.inbox_query import InboxFilters, filter_conditions, scope_conditions
from console.labels import KIND_LABELS, PARIS, PII_LABELS, RATING_LABELS, STATUS_LABELS
from console.scope import CurrentUser
from console.suggestions import index_of
from retour.models import Feedback, Procedure, StaffUser
from retour.similar_index import SimilarityIndex

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
# The same columns, as the Excel file names them for people.
EXCEL_HEADER: Final = (
    "N°",
    "Reçu le",
    "Identifiant de la démarche",
    "Démarche",
    "Statut",
    "Note",
    "Type",
    "Commentaire",
    "Page",
    "Origine enregistrée",
    "Données personnelles masquées",
    "Attribué à",
    "Pris en compte le",
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
# Excel (French) reads "03/12/2026 16:05" in a cell as a date and time.
EXCEL_DATETIME: Final = "%d/%m/%Y %H:%M"


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


def _paris(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PARIS).strftime(EXCEL_DATETIME)


def excel_cells(cells: list[Any]) -> list[str]:
    """One row in people's words: labels for codes, Paris dates, « oui » / « non »."""
    (ident, received, procedure_id, title, status, rating, kind, comment, page_url, registered,
     pii, assignee, acknowledged) = cells  # fmt: skip
    return [
        str(ident),
        _paris(received),
        guard(procedure_id),
        guard(title),
        STATUS_LABELS.get(status, status),
        RATING_LABELS.get(rating, ""),
        KIND_LABELS.get(kind, "") if kind else "",
        guard(comment),
        guard(page_url),
        "" if registered is None else ("oui" if registered else "non"),
        ", ".join(PII_LABELS.get(name, name) for name in (pii or "").split()),
        guard(assignee),
        _paris(acknowledged),
    ]


def csv_chunks(
    engine: Engine,
    *,
    ministry_ids: Sequence[int] | None,
    filters: InboxFilters,
    titles: dict[str, str],
    excel: bool,
    ids: Sequence[int] | None = None,
) -> Iterator[str]:
    """The CSV text, one chunk per batch of rows: the filter's results, or only `ids`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    if excel:
        buffer.write("\ufeff")
    writer.writerow(EXCEL_HEADER if excel else HEADER)
    if ids is None:
        conditions = filter_conditions(ministry_ids, filters, engine.dialect.name)
    else:
        # Ticked rows: only the actor's scope applies (a ticked row is exported even if it
        # has left the filter since the page was shown).
        conditions = scope_conditions(ministry_ids, InboxFilters())
        conditions.append(col(Feedback.id).in_(list(ids)))
    statement = (
        select(*COLUMNS)
        .select_from(Feedback)
        .outerjoin(StaffUser, col(StaffUser.id) == col(Feedback.assignee_id))
        .where(*conditions)
        .order_by(col(Feedback.received_at).desc(), col(Feedback.id).desc())
    )
    row_cells: Callable[[list[Any]], list[str]] = (
        excel_cells if excel else (lambda cells: [guard(cell) for cell in cells])
    )
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
            statement
        )
        for rows in result.partitions():
            for row in rows:
                ident, received, procedure_id, *rest = row
                cells = [ident, received, procedure_id, titles.get(procedure_id, ""), *rest]
                writer.writerow(row_cells(cells))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _prepare(
    session: Session, index: SimilarityIndex, *, user: CurrentUser, filters: InboxFilters
) -> tuple[InboxFilters, dict[str, str]]:
    """404 for a filter naming what the user cannot see; the filters resolved as the inbox
    resolves them (« semblables »), and the procedures' titles."""
    filters = resolve_filters(session, index, user, filters)
    statement = sm_select(Procedure.id, Procedure.title)
    scope = scope_of(user)
    if scope is not None:
        statement = statement.where(col(Procedure.ministry_id).in_(scope))
    return filters, {pid: title for pid, title in session.exec(statement).all()}


def file_name(*, excel: bool, selection: bool, now: dt.datetime | None = None) -> str:
    """`retours-excel-20261203-1705.csv`: the kind, then Paris time (what staff's clock says)."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(PARIS).strftime("%Y%m%d-%H%M")
    kind = "-excel" if excel else ""
    which = "-selection" if selection else ""
    return f"retours{kind}{which}-{stamp}.csv"


async def export_csv(request: Request) -> Response:
    user = require_user(request)
    ids: list[int] | None = None
    if request.method == "POST":
        form = await request.form()
        params = ImmutableMultiDict(parse_qsl(str(form.get("query") or "")[:4000]))
        excel = form.get("format") == "excel"
        ids = parse_ids(form.getlist("ids")) or None
    else:
        params = ImmutableMultiDict(request.query_params)
        excel = params.get("excel") in ("1", "on", "true")
    filters, _bad = InboxFilters.from_query(params)
    filters = replace(filters, me=user.id)
    filters, titles = await run_db(request, _prepare, index_of(request), user=user, filters=filters)
    chunks = csv_chunks(
        engine_of(request),
        ministry_ids=scope_of(user),
        filters=filters,
        titles=titles,
        excel=excel,
        ids=ids,
    )
    name = file_name(excel=excel, selection=ids is not None)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [Route("/console/export.csv", export_csv, methods=["GET", "POST"], name="inbox_export")]
