"""Shared by the widget's browser tests: a host site on another origin, the service, helpers.

Two real servers: the service (`retour.compose`, ingest + console, on the test's database)
and a host page server on another port (so another origin) whose pages and headers each
test writes, e.g. a strict Content-Security-Policy. Test modules take the fixtures with
`backend = widget_pages.backend` (and the same for `host_site`, `service`).
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from retour.compose import create_app
from retour.models import Feedback, ImpressionCount, Procedure
from retour.settings import Settings
from tests.factories import make_procedure
from tests.live import serve_in_thread

PROCEDURE_ID = "carte-identite"
TITLE = "Demande de carte nationale d'identité"


@pytest.fixture
def backend() -> str:
    # The browser exercises the widget; both backends are covered by the ingest tests.
    return "sqlite"


@dataclass
class HostSite:
    """Pages of a ministry's site, on an origin other than the service's."""

    url: str
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def add(self, path: str, body: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (body, headers or {})
        return f"{self.url}{path}"


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite(url="")

    async def page(request: Request) -> Response:
        found = site.pages.get(request.url.path)
        if found is None:
            return HTMLResponse("not found", status_code=404)
        body, headers = found
        return HTMLResponse(body, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", page)])
    with serve_in_thread(app) as server:
        site.url = server.url
        yield site
    site.pages.clear()


@dataclass
class Service:
    url: str
    procedure: Procedure
    engine: Engine


@pytest.fixture
def service(
    settings: Settings, session: Session, engine: Engine, host_site: HostSite
) -> Iterator[Service]:
    procedure = make_procedure(session, id=PROCEDURE_ID, title=TITLE, origins=(host_site.url,))
    with serve_in_thread(create_app(settings)) as server:
        yield Service(url=server.url, procedure=procedure, engine=engine)


def snippet_page(
    service: Service, *, lang: str = "fr", head: str = "", label: str = "Je fais un retour"
) -> str:
    pid = service.procedure.id
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Ma démarche</title>{head}</head>
<body>
  <header><a href="#main">Aller au contenu</a></header>
  <main id="main"><h1>Votre demande a été enregistrée</h1>
    <p id="host-text">Merci. Comment s'est passée cette démarche ?</p>
    <a href="{service.url}/r/{pid}" data-retour="{pid}"
       class="ministry-button">{html.escape(label)}</a>
  </main>
  <script src="{service.url}/widget.js" defer></script>
</body></html>"""


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(Feedback.__table__)))  # type: ignore[attr-defined]


def impressions(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(ImpressionCount.__table__))  # type: ignore[attr-defined]
        return {row.event: row.count for row in rows}


def focused(page: Any) -> str:
    """What has the focus, looking inside the dialog's shadow root: tag#id or tag:text."""
    return str(
        page.evaluate(
            """() => {
            let el = document.activeElement;
            while (el && el.shadowRoot && el.shadowRoot.activeElement) {
                el = el.shadowRoot.activeElement;
            }
            if (!el) return '';
            const name = el.id ? '#' + el.id : ':' + (el.textContent || '').trim().slice(0, 30);
            return el.tagName.toLowerCase() + name;
        }"""
        )
    )


def open_dialog(page: Any, url: str) -> Any:
    page.goto(url)
    button = page.locator("button[data-retour]")
    button.click()
    dialog = page.locator("retour-dialog dialog")
    dialog.wait_for(state="visible")
    return dialog


def fill_and_send(
    page: Any,
    *,
    satisfaction: str = "Moyennement",
    comment: str = "Le bouton Valider ne fait rien.",
) -> None:
    page.get_by_label(satisfaction, exact=True).check()
    page.get_by_label("Un dysfonctionnement").check()
    page.locator("retour-dialog textarea").fill(comment)
    page.get_by_role("button", name="Envoyer").click()


def outbox(page: Any) -> list[Any]:
    return list(page.evaluate("JSON.parse(localStorage.getItem('retour-outbox') || '[]')"))
