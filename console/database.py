"""How console endpoints reach the database without blocking the event loop.

Interface (used by every console module):

    from console.database import run_db

    async def page(request: Request) -> Response:
        rows = await run_db(request, list_things, ministry_ids=ids)

    def list_things(session: Session, *, ministry_ids: set[int] | None) -> list[Thing]: ...

`run_db(request, fn, *args, **kwargs)` calls `fn(session, *args, **kwargs)` in Starlette's
threadpool with a fresh `Session` bound to the console engine (lifespan state key
`console_engine`). The session commits when `fn` returns and rolls back if it raises, so a
write is one transaction. Objects come back detached (`expire_on_commit=False`): read their
loaded attributes freely, but load relationships inside `fn`.

`engine_of(request)` gives the engine itself, e.g. for streaming exports that manage their
own connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from retour.db import session_scope
from retour.settings import Settings

T = TypeVar("T")


def engine_of(request: HTTPConnection) -> Engine:
    engine: Engine = request.state.console_engine
    return engine


def settings_of(request: HTTPConnection) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _call(engine: Engine, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    with session_scope(engine) as session:
        return fn(session, *args, **kwargs)


async def run_db(request: HTTPConnection, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args, **kwargs)` in a worker thread, in one transaction."""
    return await run_in_threadpool(_call, engine_of(request), fn, args, kwargs)


def run_db_sync(request: HTTPConnection, fn: Callable[[Session], T]) -> T:
    """The same for code already running in a worker thread (sync endpoints, middleware)."""
    return _call(engine_of(request), fn, (), {})
