"""The public ingest service: widget, form configuration, submissions, impressions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from ingest.demo import demo_routes
from ingest.errors import handlers
from ingest.feedback import submit_feedback
from ingest.form import form_config
from ingest.hosted_form import hosted_form_routes
from ingest.impressions import ImpressionCounter, count_impression
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
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=86400,
    ),
]


def lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings, **ingest_engine_options(settings))
        writer = Writer(engine)
        writer.start()
        impressions = ImpressionCounter(writer)
        flushing = asyncio.create_task(impressions.run())
        limits = RateLimits(settings)
        state = IngestState(
            settings=settings,
            engine=engine,
            procedures=ProcedureCache(engine),
            writer=writer,
            impressions=impressions,
            limits=limits,
            tokens=CheckedTokens(settings.secret_key),
        )
        try:
            with startup_objects_frozen():
                yield {"ingest": state, "ingest_engine": engine, "settings": settings}
        finally:
            flushing.cancel()
            with suppress(asyncio.CancelledError):
                await flushing
            await impressions.flush()
            await writer.stop()  # commits what is queued before the engine goes
            await limits.close()
            engine.dispose()

    return _lifespan


def ingest_engine_options(settings: Settings) -> dict[str, Any]:
    """On PostgreSQL, give up on a server that stops answering rather than wait forever:
    the writer then answers 503 and carries on with a new connection (libpq parameters)."""
    if settings.is_sqlite:
        return {}
    return {"connect_args": {"connect_timeout": 5, "tcp_user_timeout": 10_000}}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=handlers,
        lifespan=lifespan(settings),
    )
