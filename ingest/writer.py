"""Group commit: concurrent submissions share one transaction, committed in one thread.

Requests put their row on a queue and wait on a future. The writer takes everything that
queued up while the previous commit was running and commits it as one transaction, so
durability (an fsync per commit with synchronous=FULL) is paid once per batch, not per
request. A future is resolved only after COMMIT returned: the 202 means "stored".

The hot path uses SQLAlchemy Core (one INSERT ... ON CONFLICT DO NOTHING RETURNING per
batch) because ORM sessions cost more than the whole rest of the request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from ingest.errors import Unavailable
from retour.models import Feedback, ImpressionCount
from retour.receipts import new_receipt

log = logging.getLogger("retour.ingest")

MAX_BATCH: Final = 512
MAX_QUEUED: Final = 20_000
RECEIPT_ATTEMPTS: Final = 3

FEEDBACK: Final[Table] = Feedback.__table__  # type: ignore[attr-defined]
IMPRESSIONS: Final[Table] = ImpressionCount.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ImpressionKey:
    procedure_id: str
    day: dt.date
    origin: str
    event: str


@dataclass
class _Item:
    kind: str  # "feedback" or "impression"
    row: dict[str, Any]
    future: asyncio.Future[Any] = field(repr=False)


class Writer:
    def __init__(self, engine: Engine) -> None:
        # BEGIN IMMEDIATE on SQLite: take the write lock at once rather than fail on upgrade.
        self._engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._postgresql = engine.dialect.name == "postgresql"
        self._upsert: Callable[[Table], Any] = (
            postgresql.insert if self._postgresql else sqlite.insert
        )
        self._write_lock = _sqlite_write_lock(engine)
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retour-writer")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # how many transactions; tests and the benchmark read it

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retour-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        self._closed = True
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        self._executor.shutdown(wait=True)
        self._write_lock.close()

    async def add_feedback(self, row: dict[str, Any]) -> tuple[int, str]:
        """(id, receipt) once committed; those of the first submission for a repeated client_id."""
        result: tuple[int, str] = await self._enqueue("feedback", row)
        return result

    async def add_impression(self, key: ImpressionKey, at: dt.datetime) -> None:
        await self._enqueue("impression", {"key": key, "at": at})

    async def _enqueue(self, kind: str, row: dict[str, Any]) -> Any:
        if self._closed or self._queue.qsize() >= MAX_QUEUED:
            raise Unavailable()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Item(kind, row, future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                results = await loop.run_in_executor(self._executor, self._commit, batch)
            except BaseException:  # never let one batch kill the writer
                log.exception("writer batch failed")
                results = [Unavailable() for _ in batch]
            for item, result in zip(batch, results, strict=True):
                if item.future.done():
                    continue  # the client went away; what was committed stays committed
                if isinstance(result, Exception):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)

    # --- In the writer thread ------------------------------------------------------------

    def _commit(self, batch: list[_Item]) -> list[Any]:
        try:
            return self._commit_batch(batch)
        except (IntegrityError, DataError, ValueError):
            # A row the database refuses (or cannot encode) rather than a database down.
            if len(batch) == 1:
                log.warning("a submission was refused by the database", exc_info=True)
                return [Unavailable()]
            # One bad row (say, a procedure deleted a second ago) must not fail its batch:
            # commit each item on its own to isolate it.
            return [self._commit(batch=[item])[0] for item in batch]
        except SQLAlchemyError:
            log.warning("database unavailable: %d submissions refused", len(batch), exc_info=True)
            return [Unavailable() for _ in batch]

    def _commit_batch(self, batch: list[_Item]) -> list[Any]:
        feedback = [item.row for item in batch if item.kind == "feedback"]
        impressions = [item.row for item in batch if item.kind == "impression"]
        with self._write_lock, self._engine.begin() as connection:
            stored = self._insert_feedback(connection, feedback) if feedback else {}
            if impressions:
                self._count_impressions(connection, impressions)
        self.batches += 1
        return [
            (stored.get(item.row["client_id"]) or Unavailable())
            if item.kind == "feedback"
            else None
            for item in batch
        ]

    def _insert_feedback(
        self, connection: Connection, rows: list[dict[str, Any]]
    ) -> dict[str, tuple[int, str]]:
        # A client_id twice in one batch is one submission: insert the first only.
        todo = list({row["client_id"]: row for row in reversed(rows)}.values())
        stored: dict[str, tuple[int, str]] = {}
        for _attempt in range(RECEIPT_ATTEMPTS):
            # No conflict target: a repeated client_id and (astronomically rarely) a repeated
            # receipt are both skipped here and told apart below.
            for inserted in connection.execute(self._insert_feedback_statement(), todo):
                stored[inserted.client_id] = (inserted.id, inserted.receipt)
            missing = [row["client_id"] for row in todo if row["client_id"] not in stored]
            if not missing:
                break
            earlier = connection.execute(
                select(FEEDBACK.c.id, FEEDBACK.c.client_id, FEEDBACK.c.receipt).where(
                    FEEDBACK.c.client_id.in_(missing)
                )
            )
            for row in earlier:
                stored[row.client_id] = (row.id, row.receipt)
            todo = [
                {**row, "receipt": new_receipt()} for row in todo if row["client_id"] not in stored
            ]
            if not todo:
                break
        return stored

    def _insert_feedback_statement(self) -> Any:
        returning = (FEEDBACK.c.id, FEEDBACK.c.client_id, FEEDBACK.c.receipt)
        if self._postgresql:
            return postgresql.insert(FEEDBACK).on_conflict_do_nothing().returning(*returning)
        # SQLite's INSERT OR IGNORE is its ON CONFLICT DO NOTHING for every constraint, and
        # unlike the dialect's insert() construct it is a plain insert that SQLAlchemy can
        # cache compiled: compiling on every batch cost ~40 us per row.
        return insert(FEEDBACK).prefix_with("OR IGNORE").returning(*returning)

    def _count_impressions(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        counts: dict[ImpressionKey, list[Any]] = {}
        for row in rows:
            entry = counts.setdefault(row["key"], [0, row["at"]])
            entry[0] += 1
            entry[1] = max(entry[1], row["at"])
        statement = self._upsert(IMPRESSIONS)
        statement = statement.on_conflict_do_update(
            index_elements=["procedure_id", "day", "origin", "event"],
            set_={
                "count": IMPRESSIONS.c.count + statement.excluded.count,
                "last_seen_at": statement.excluded.last_seen_at,
            },
        )
        connection.execute(
            statement,
            [
                {
                    "procedure_id": key.procedure_id,
                    "day": key.day,
                    "origin": key.origin,
                    "event": key.event,
                    "count": count,
                    "last_seen_at": at,
                }
                for key, (count, at) in counts.items()
            ],
        )


class _FileLock:
    """An exclusive lock on a file beside the SQLite database, held around each write.

    Several processes (uvicorn --workers) share one SQLite file. SQLite's busy handler
    polls with sleeps of 1 to 100 ms, so a writer that finds the database locked waits
    far longer than the commit it waits for; flock() wakes it as soon as the lock is free.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


class _NoLock:
    def __enter__(self) -> None:
        pass

    def __exit__(self, *_: object) -> None:
        pass

    def close(self) -> None:
        pass


def _sqlite_write_lock(engine: Engine) -> _FileLock | _NoLock:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return _NoLock()
    return _FileLock(Path(f"{database}-writelock"))
