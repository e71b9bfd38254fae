"""The public ingest service: widget, form configuration, submissions, impressions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ingest.cors import IngestCors
from ingest.demo import demo_routes
from ingest.errors import handlers
from ingest.fast_feedback import IngestApp
from ingest.feedback import submit_feedback
from ingest.form import form_config
from ingest.hosted_form import hosted_form_routes
from ingest.impressions import count_impression
from ingest.limits import RateLimits
from ingest.openapi import openapi_json
from ingest.procedures import ProcedureCache
from ingest.state import IngestState
from ingest.tokens import CheckedTokens
from ingest.widget_routes import widget_routes
from ingest.writer import Writer
from retour.db import make_engine
from retour.settings import Settings
from retour.startup import startup_objects_frozen


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


routes: list[BaseRoute] = [
    Route("/healthz", healthz),
    Route("/api/v1/openapi.json", openapi_json),
    Route("/api/v1/procedures/{procedure_id}/form", form_config),
    Route("/api/v1/feedback", submit_feedback, methods=["POST"]),
    Route("/api/v1/impressions", count_impression, methods=["POST"]),
    *widget_routes,
    *hosted_form_routes,
    *demo_routes,
]

middleware = [
    # Any page may embed the button; no credentials, so no cookie ever crosses.
    Middleware(
        IngestCors,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=86400,
    ),
]


def lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings)
        writer = Writer(engine)
        limits = RateLimits(settings)
        state = IngestState(
            settings=settings,
            engine=engine,
            procedures=ProcedureCache(engine),
            writer=writer,
            limits=limits,
            tokens=CheckedTokens(settings.secret_key),
        )
        try:
            with startup_objects_frozen():
                yield {"ingest": state, "ingest_engine": engine, "settings": settings}
        finally:
            await writer.stop()  # commits what is queued before the engine goes
            await limits.close()
            engine.dispose()

    return _lifespan


def create_app(settings: Settings | None = None, *, fast_feedback: bool = True) -> Starlette:
    """The ingest app. `fast_feedback=False` sends POST /api/v1/feedback through Starlette's
    stack too (tests compare both)."""
    settings = settings or Settings.from_environ()
    return IngestApp(
        routes=routes,
        middleware=middleware,
        exception_handlers=handlers,
        lifespan=lifespan(settings),
        fast_feedback=fast_feedback,
    )
