"""IngestCors answers with exactly the headers Starlette's CORSMiddleware gives, cheaper."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ingest.cors import IngestCors


async def plain(request: Request) -> Response:
    return JSONResponse({"ok": True}, status_code=202)


async def varies(request: Request) -> Response:
    return PlainTextResponse("bonjour", headers={"Vary": "Accept-Language"})


async def allows(request: Request) -> Response:
    return PlainTextResponse("x", headers={"Access-Control-Allow-Origin": "https://a.fr"})


def app(middleware: type[CORSMiddleware]) -> Starlette:
    return Starlette(
        routes=[
            Route("/plain", plain, methods=["GET", "POST"]),
            Route("/varies", varies),
            Route("/allows", allows),
        ],
        middleware=[
            Middleware(
                middleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type"],
                max_age=86400,
            )
        ],
    )


def answer(middleware: type[CORSMiddleware], method: str, path: str, headers: Any) -> Any:
    async def go() -> Any:
        transport = httpx.ASGITransport(app=app(middleware))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.request(method, path, headers=headers)
            return response.status_code, response.headers.multi_items(), response.content

    return asyncio.run(go())


ORIGIN = {"Origin": "https://www.impots.gouv.fr"}
PREFLIGHT = {**ORIGIN, "Access-Control-Request-Method": "POST"}


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/plain", {}),
        ("POST", "/plain", ORIGIN),
        ("POST", "/plain", {**ORIGIN, "Cookie": "a=b"}),
        ("GET", "/varies", {}),
        ("GET", "/varies", ORIGIN),
        ("GET", "/allows", ORIGIN),
        ("GET", "/nowhere", ORIGIN),
        ("OPTIONS", "/plain", PREFLIGHT),
        ("OPTIONS", "/plain", {**PREFLIGHT, "Access-Control-Request-Headers": "content-type"}),
        ("OPTIONS", "/plain", {**PREFLIGHT, "Access-Control-Request-Headers": "x-other"}),
        ("OPTIONS", "/plain", {**ORIGIN, "Access-Control-Request-Method": "DELETE"}),
        ("OPTIONS", "/plain", {}),
    ],
)
def test_same_answer_as_starlette(method: str, path: str, headers: dict[str, str]) -> None:
    assert answer(IngestCors, method, path, headers) == answer(
        CORSMiddleware, method, path, headers
    )
