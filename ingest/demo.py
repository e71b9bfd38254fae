"""GET /demo: a ministry's procedure page with the snippet pasted, to see the button in one click.

`?procedure=ID` picks the procedure (default: `carte-identite`, the first procedure that
`retour demo` creates, or else the first active one); `?lang=en` makes it an English page,
which the widget follows.
The page is served under a strict Content-Security-Policy allowing only the service's
origin, as a ministry that follows docs/embedding.md would send.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingest.hosted_form import LOCALES_DIRS, templates
from ingest.state import ingest_state
from retour.i18n import translator
from retour.models import PROCEDURE_ID_RE, Ministry, Procedure

MAX_LISTED: Final = 12
DEFAULT_PROCEDURE: Final = "carte-identite"  # first row of retour/data/demo_procedures.csv


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _service_url(request: Request, public_url: str) -> str:
    # The configured URL when the page was reached through it; otherwise (`retour serve
    # --port 8100` with the default RETOUR_PUBLIC_URL) the address the browser used, so that
    # the demo works however it is started.
    if urlsplit(public_url).netloc == request.headers.get("host"):
        return public_url
    return str(request.base_url).rstrip("/")


def _load(engine: Engine, wanted: str | None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    columns = (Procedure.id, Procedure.title, Procedure.button_label, Ministry.name)
    query = (
        select(*columns)  # type: ignore[call-overload]
        .join(Ministry, Ministry.id == Procedure.ministry_id)
        .where(Procedure.active)
        .order_by(Procedure.id)
    )
    with engine.connect() as connection:
        listed = [dict(row._mapping) for row in connection.execute(query.limit(MAX_LISTED))]
        row = connection.execute(query.where(Procedure.id == (wanted or DEFAULT_PROCEDURE))).first()
    if row is not None:
        return dict(row._mapping), listed
    # Asked for one that does not exist: say so; asked for none: show the first there is.
    return (listed[0] if listed and not wanted else None), listed


async def demo_page(request: Request) -> Response:
    state = ingest_state(request)
    wanted = request.query_params.get("procedure")
    if wanted is not None and not PROCEDURE_ID_RE.match(wanted):
        wanted = ""
    procedure, listed = await anyio.to_thread.run_sync(_load, state.engine, wanted)
    locale = "en" if request.query_params.get("lang") == "en" else "fr"
    service = _service_url(request, state.settings.public_url)
    service_origin = _origin(service)
    csp = (
        f"default-src 'none'; script-src {service_origin}; connect-src {service_origin}; "
        f"style-src 'self' {service_origin}; font-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    context = {
        "_": translator(locale, LOCALES_DIRS),
        "locale": locale,
        "procedure": procedure,
        "listed": listed,
        "service": service,
        "csp": csp,
    }
    status = 200 if procedure or not wanted else 404
    return templates.TemplateResponse(
        request,
        "demo.html",
        context,
        status_code=status,
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
    )


demo_routes: Final = [Route("/demo", demo_page, methods=["GET"])]
