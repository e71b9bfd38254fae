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

On SQLite a transaction that read before it writes cannot take the write lock once another
connection has committed since its first read ("database is locked" at once, whatever the
busy timeout): the whole function then runs again, up to `SQLITE_ATTEMPTS` times, since it
only touches the database (mail and HTTP calls happen outside `run_db`).

`engine_of(request)` gives the engine itself, e.g. for streaming exports that manage their
own connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from retour.db import session_scope
from retour.settings import Settings

T = TypeVar("T")
SQLITE_ATTEMPTS: Final = 4


def engine_of(request: HTTPConnection) -> Engine:
    engine: Engine = request.state.console_engine
    return engine


def settings_of(request: HTTPConnection) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _sqlite_locked(engine: Engine, error: OperationalError) -> bool:
    return engine.dialect.name == "sqlite" and "database is locked" in str(error.orig)


def call_in_transaction(
    engine: Engine, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    for attempt in range(1, SQLITE_ATTEMPTS + 1):
        try:
            with session_scope(engine) as session:
                return fn(session, *args, **kwargs)
        except OperationalError as error:
            if attempt == SQLITE_ATTEMPTS or not _sqlite_locked(engine, error):
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


async def run_db(request: HTTPConnection, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args, **kwargs)` in a worker thread, in one transaction."""
    return await run_in_threadpool(call_in_transaction, engine_of(request), fn, args, kwargs)


def run_db_sync(request: HTTPConnection, fn: Callable[[Session], T]) -> T:
    """The same for code already running in a worker thread (sync endpoints, middleware)."""
    return call_in_transaction(engine_of(request), fn, (), {})
