"""The staff console and the public pages (dashboard, open data, receipts).

Composition in one place. To add a module's endpoints, give it a module-level
`routes = [Route(...), ...]` and add one line to `ROUTE_MODULES` below. Routes under
`/console` are staff pages: start each endpoint with `console.auth.require_user(request)`.

Lifespan state (reach it as `request.state.<key>`): `console_engine` (SQLAlchemy engine,
prefer `console.database.run_db`), `settings`, `console_login_throttle`, `console_oidc`
(the ProConnect client, `console.oidc_client.OIDCClient`, or None when not configured),
`console_api_limiter` (the staff API's rate limit), `similarity` (the reports' similarity
index, `retour.similar_index`; reach it with `console.suggestions.index_of`). The staff API
(`/api/v1/staff/`, `console.staff_api`) is outside `/console`: no session, no CSRF, a bearer
key instead.

Middleware, outermost first: security headers (all responses) → signed sessions (only
`/console…`) → CSRF (state-changing `/console…` requests). Static files are served at
`/static` from `console/static/` (DSFR is copied into `console/static/dsfr/` by
`scripts/build_assets.py`). Errors render `templates/{status}.html` or `error.html`, or JSON
for clients that ask for it (`console.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from console import (
    access_pages,
    alerts_pages,
    api_keys_pages,
    auth,
    coverage,
    exports,
    feedback,
    inbox,
    inbox_bulk,
    inbox_problems,
    indicators,
    indicators_import,
    legal,
    observatory_public,
    oidc,
    open_data,
    open_data_excel,
    open_data_indicators,
    open_data_problems,
    problems,
    problems_actions,
    procedures,
    public,
    recording_pages,
    staff_api,
    suivi,
    users,
    webhooks_pages,
)
from console.background import public_tasks
from console.errors import handlers
from console.oidc_client import OIDCClient
from console.security import CSRFMiddleware, SecurityHeadersMiddleware, SessionMiddleware
from console.staff_api_auth import StaffApiLimiter
from console.throttle import LoginThrottle
from retour.db import make_engine
from retour.settings import Settings
from retour.similar_index import SimilarityIndex

STATIC_DIR = Path(__file__).resolve().parent / "static"
FAVICON = STATIC_DIR / "dsfr" / "favicon" / "favicon.ico"

# One line per module that contributes endpoints (each has a module-level `routes` list).
ROUTE_MODULES: list[Any] = [
    auth,
    oidc,  # /console/oidc/login, /console/oidc/callback (ProConnect)
    inbox,  # /console/
    inbox_bulk,  # /console/bulk (ticked rows, or every result of a filter)
    feedback,  # /console/feedback/{id} and its actions
    recording_pages,  # /console/feedback/new, /console/feedback/import (other channels)
    exports,  # /console/export.csv
    users,
    access_pages,  # /console/users/access, /console/users/domains
    api_keys_pages,  # /console/api-keys
    webhooks_pages,  # /console/webhooks
    staff_api,  # /api/v1/staff/… (Bearer API keys)
    procedures,
    indicators,  # /console/indicators, /console/procedures/{id}/indicators
    indicators_import,  # /console/indicators/import
    problems,  # /console/problems, one problem, its forms
    problems_actions,  # a problem's status, merge, link, unlink
    inbox_problems,  # /console/problems/link-all (every result of an inbox filter)
    public,  # /, /procedures/{id}
    observatory_public,  # /observatoire
    open_data,
    open_data_excel,  # /open-data/procedures-excel.csv (the register for French Excel)
    open_data_problems,  # /open-data/problems.csv|json
    open_data_indicators,  # /open-data/indicators.csv|json (the observatory's editions)
    suivi,
    legal,
    coverage,  # /console/coverage (DINUM)
    alerts_pages,  # /console/alerts
]


async def console_root(request: Request) -> RedirectResponse:
    return RedirectResponse("/console/", status_code=308)


async def favicon(request: Request) -> FileResponse:
    # Pages link DSFR's SVG icon; browsers and bookmarks still ask for /favicon.ico.
    return FileResponse(
        FAVICON,
        media_type="image/vnd.microsoft.icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings)
        oidc_client = OIDCClient(settings) if settings.oidc_enabled else None
        try:
            # Summary refresh and email alerts, every minute when SMTP is configured.
            async with public_tasks(engine, settings):
                yield {
                    "console_engine": engine,
                    "settings": settings,
                    "console_login_throttle": LoginThrottle.from_settings(settings),
                    "console_oidc": oidc_client,
                    "console_api_limiter": StaffApiLimiter(settings),
                    # Reports' terms in memory, built and kept up to date on demand.
                    "similarity": SimilarityIndex(),
                }
        finally:
            if oidc_client is not None:
                await oidc_client.aclose()
            engine.dispose()

    return _lifespan


def build_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/console", console_root, name="console_root"),
        Route("/favicon.ico", favicon, name="favicon"),
    ]
    for module in ROUTE_MODULES:
        routes.extend(module.routes)
    routes.append(
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    )
    return routes


middleware = [
    Middleware(SecurityHeadersMiddleware),
    Middleware(SessionMiddleware),
    Middleware(CSRFMiddleware),
]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    return Starlette(
        routes=build_routes(),
        middleware=middleware,
        exception_handlers=handlers,
        lifespan=lifespan(settings),
    )
