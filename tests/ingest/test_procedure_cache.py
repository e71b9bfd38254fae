"""The ingest's procedure cache: fresh entries without a query, stale ones refreshed behind."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from ingest.procedures import ProcedureCache
from retour.models import Procedure

TTL = 0.2
# For the tests that need an entry expired but not by over one more TTL: a wider window,
# since a loaded machine can overshoot a sleep by a good part of TTL.
STALE_TTL = 0.5
PROCEDURES: Any = Procedure.__table__  # type: ignore[attr-defined]


@pytest.fixture
def queries(engine: Engine) -> Iterator[list[str]]:
    """The SELECTs the engine runs, as they run."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def rename(engine: Engine, procedure_id: str, title: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(PROCEDURES).where(PROCEDURES.c.id == procedure_id).values(title=title)
        )


async def until_stale(loaded_at: float) -> None:
    """Expired, and by less than one more STALE_TTL; the rename's commit not counted."""
    await asyncio.sleep(loaded_at + STALE_TTL * 1.2 - time.monotonic())


def test_concurrent_misses_share_one_load(
    engine: Engine, procedure: Procedure, queries: list[str]
) -> None:
    async def run() -> list[Any]:
        cache = ProcedureCache(engine, ttl=TTL)
        return await asyncio.gather(*(cache.get(procedure.id) for _ in range(20)))

    found = asyncio.run(run())
    assert {known.title for known in found} == {procedure.title}
    assert len(queries) == 2  # the procedure, then its origins: once for the twenty


def test_fresh_entry_needs_no_query(
    engine: Engine, procedure: Procedure, queries: list[str]
) -> None:
    async def run() -> None:
        cache = ProcedureCache(engine, ttl=60)
        await cache.get(procedure.id)
        queries.clear()
        for _ in range(100):
            assert (await cache.get(procedure.id)) is not None

    asyncio.run(run())
    assert queries == []


def test_stale_entry_is_answered_at_once_and_refreshed_behind(
    engine: Engine, procedure: Procedure
) -> None:
    async def run() -> tuple[str, str]:
        cache = ProcedureCache(engine, ttl=STALE_TTL)
        await cache.get(procedure.id)
        loaded_at = time.monotonic()
        rename(engine, procedure.id, "Nouveau titre")
        await until_stale(loaded_at)
        stale = await cache.get(procedure.id)
        assert stale is not None
        for _ in range(100):  # the background refresh lands
            await asyncio.sleep(0.01)
            refreshed = await cache.get(procedure.id)
            assert refreshed is not None
            if refreshed.title != stale.title:
                break
        return stale.title, refreshed.title

    assert asyncio.run(run()) == (procedure.title, "Nouveau titre")


def test_entry_stale_by_over_one_more_ttl_is_waited_for(
    engine: Engine, procedure: Procedure
) -> None:
    async def run() -> str:
        cache = ProcedureCache(engine, ttl=TTL)
        await cache.get(procedure.id)
        rename(engine, procedure.id, "Nouveau titre")
        await asyncio.sleep(TTL * 2.5)
        known = await cache.get(procedure.id)
        assert known is not None
        return known.title

    assert asyncio.run(run()) == "Nouveau titre"


def test_failed_refresh_keeps_the_stale_entry_and_is_retried(
    engine: Engine, procedure: Procedure, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [RuntimeError("database gone")]

    def fail_once(*args: Any) -> None:
        if failures and args[2].lstrip().upper().startswith("SELECT"):
            raise failures.pop()

    async def run() -> list[str]:
        cache = ProcedureCache(engine, ttl=STALE_TTL)
        await cache.get(procedure.id)
        loaded_at = time.monotonic()
        rename(engine, procedure.id, "Nouveau titre")
        event.listen(engine, "before_cursor_execute", fail_once)
        try:
            await until_stale(loaded_at)
            titles = []
            for _ in range(100):
                known = await cache.get(procedure.id)
                assert known is not None
                titles.append(known.title)
                if known.title == "Nouveau titre":
                    break
                await asyncio.sleep(0.01)
            return titles
        finally:
            event.remove(engine, "before_cursor_execute", fail_once)

    with caplog.at_level(logging.WARNING, logger="retour.ingest"):
        titles = asyncio.run(run())
    assert titles[0] == procedure.title and titles[-1] == "Nouveau titre"
    assert not failures
    assert any("loading procedure" in record.message for record in caplog.records)
