"""The staff console and the public pages (dashboard, open data, receipts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from retour.db import make_engine
from retour.settings import Settings


async def login(request: Request) -> HTMLResponse:
    return HTMLResponse("<!doctype html><html lang='fr'><title>Connexion</title><h1>Connexion</h1>")


def lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def _lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings)
        try:
            yield {"console_engine": engine, "settings": settings}
        finally:
            engine.dispose()

    return _lifespan


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_environ()
    routes = [Route("/console/login", login)]
    return Starlette(routes=routes, lifespan=lifespan(settings))
