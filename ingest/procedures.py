"""Procedures and their registered origins, cached in memory for a few seconds.

A submission then needs no read query: the writer's INSERT is its only database work.
An entry past its TTL is still answered for one more TTL while a background query refreshes
it, and one older than that is waited for. A few seconds of staleness is harmless: a new
procedure answers 404 for at most two TTLs.

Archived procedures are found too, with `active` False: a page that still carries an archived
procedure's snippet must not lose what a citizen writes there (the submission is stored and
its ministry sees it; public figures leave archived procedures out). Only an id that is not
in the register at all is unknown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Final

import anyio.to_thread
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from retour.db import database_unavailable, unavailable_reason
from retour.models import Procedure, ProcedureOrigin

log = logging.getLogger("retour.ingest")

DEFAULT_TTL = 5.0
PROCEDURES: Final[Table] = Procedure.__table__  # type: ignore[attr-defined]
ORIGINS: Final[Table] = ProcedureOrigin.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class KnownProcedure:
    id: str
    title: str
    ministry_id: int
    button_label: str | None
    origins: frozenset[str]
    url: str = ""
    active: bool = True


class ProcedureCache:
    def __init__(self, engine: Engine, ttl: float = DEFAULT_TTL) -> None:
        self._engine = engine
        self._ttl = ttl
        # procedure id -> (expires at, procedure or None for an id not in the register)
        self._entries: dict[str, tuple[float, KnownProcedure | None]] = {}
        self._loading: dict[str, asyncio.Future[KnownProcedure | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, procedure_id: str) -> KnownProcedure | None:
        entry = self._entries.get(procedure_id)
        if entry is not None:
            expires_at, procedure = entry
            now = time.monotonic()
            if now < expires_at:
                return procedure
            if now < expires_at + self._ttl:
                # Stale by less than one more TTL: answer with it and refresh in the background.
                # Waiting instead held up every submission for the procedure meanwhile, a
                # stall for the whole load every TTL.
                if procedure_id not in self._loading:
                    self._start_loading(procedure_id)
                return procedure
        # Never seen, or not asked for in a while: wait. Concurrent misses share one query.
        pending = self._loading.get(procedure_id) or self._start_loading(procedure_id)
        return await asyncio.shield(pending)

    def _start_loading(self, procedure_id: str) -> asyncio.Future[KnownProcedure | None]:
        future: asyncio.Future[KnownProcedure | None] = asyncio.get_running_loop().create_future()
        self._loading[procedure_id] = future
        task = asyncio.create_task(self._fill(procedure_id, future))
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._tasks.discard)
        return future

    async def _fill(self, procedure_id: str, future: asyncio.Future[KnownProcedure | None]) -> None:
        try:
            procedure = await anyio.to_thread.run_sync(self._load, procedure_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) get it through shield
            if not isinstance(exc, Exception):
                raise  # cancelled (shutdown): nothing to log
            # A database that is down is one line (the request answers 503); a bug, a traceback.
            if database_unavailable(exc):
                reason = unavailable_reason(exc)
                log.warning("loading procedure %r failed: %s", procedure_id, reason)
            else:
                log.warning("loading procedure %r failed", procedure_id, exc_info=True)
            return
        finally:
            del self._loading[procedure_id]
        if len(self._entries) > 10_000:
            self._entries.clear()  # unknown ids sent in bulk must not grow memory forever
        self._entries[procedure_id] = (time.monotonic() + self._ttl, procedure)
        future.set_result(procedure)

    def _load(self, procedure_id: str) -> KnownProcedure | None:
        from ingest.submissions import page_location

        with self._engine.connect() as connection:
            row = connection.execute(
                select(
                    PROCEDURES.c.id,
                    PROCEDURES.c.title,
                    PROCEDURES.c.ministry_id,
                    PROCEDURES.c.button_label,
                    PROCEDURES.c.url,
                    PROCEDURES.c.active,
                ).where(PROCEDURES.c.id == procedure_id)
            ).first()
            if row is None:
                return None
            origins = connection.execute(
                select(ORIGINS.c.origin).where(ORIGINS.c.procedure_id == procedure_id)
            ).scalars()
            # Compare origins in the same normal form as the pages' (lower case, no default port).
            normal = {page_location(origin) for origin in origins}
        return KnownProcedure(
            id=row.id,
            title=row.title,
            ministry_id=row.ministry_id,
            button_label=row.button_label,
            origins=frozenset(page[1] for page in normal if page is not None),
            url=row.url,
            active=bool(row.active),
        )
