"""One process serving ingest, the console and the public pages (the embedded default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Final

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from retour.settings import Settings
from retour.startup import startup_objects_frozen

# Paths that belong to the ingest service; everything else is the console's, and so is the
# staff API under /api/ (the console owns staff data).
INGEST_PREFIXES: Final = ("/widget", "/api/", "/r/", "/healthz", "/demo")
CONSOLE_API_PREFIX: Final = "/api/v1/staff/"


class Composite:
    """Routes each request to ingest or console by path, and runs both lifespans."""

    def __init__(self, ingest: Starlette, console: Starlette) -> None:
        self.ingest = ingest
        self.console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path: str = scope.get("path", "")
        ingest = path.startswith(INGEST_PREFIXES) and not path.startswith(CONSOLE_API_PREFIX)
        app = self.ingest if ingest else self.console
        await app(scope, receive, send)

    @asynccontextmanager
    async def _both(self) -> AsyncIterator[dict[str, Any]]:
        state: dict[str, Any] = {}
        async with AsyncExitStack() as stack:
            for app in (self.ingest, self.console):
                part = await stack.enter_async_context(app.router.lifespan_context(app))
                if part:
                    state.update(part)
            with startup_objects_frozen():  # the console's too
                yield state

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        started = False
        try:
            async with self._both() as state:
                if "state" in scope:
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                message = await receive()
                assert message["type"] == "lifespan.shutdown"
        except BaseException as exc:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failed, "message": str(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})


def create_app(settings: Settings | None = None) -> Composite:
    from console.app import create_app as create_console
    from ingest.app import create_app as create_ingest

    settings = settings or Settings.from_environ()
    return Composite(create_ingest(settings), create_console(settings))
