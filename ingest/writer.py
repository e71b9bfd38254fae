"""Group commit: concurrent submissions share one transaction, committed in one thread.

Requests put their row on a queue and wait on a future. The writer thread takes everything
that queued up while the previous commit was running and commits it as one transaction, so
durability (an fsync per commit with synchronous=FULL) is paid once per batch, not per
request. A future is resolved only after COMMIT returned: the 202 means "stored".

The queue is a thread-safe one that the writer thread itself waits on, not an asyncio
queue read by a task: such a task is woken through the event loop, behind every request
callback already scheduled, so under load it only ran once the loop had parsed a whole
burst of requests, and the loop then sat idle during the commit. Here the writer starts
committing the first rows while the loop still parses the next ones.

The writer thread keeps one DBAPI connection and runs hand-written SQL (`ingest.sql`: one
multi-row INSERT ... RETURNING per batch): ORM sessions cost more than the whole rest of
the request, and even SQLAlchemy Core cost ~105 us of GIL-holding CPU per row.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from ingest.checkpoint import Checkpointer
from ingest.errors import Unavailable
from ingest.sql import ROWS_PER_STATEMENT, Dialect
from retour.receipts import new_receipt

log = logging.getLogger("retour.ingest")

MAX_BATCH: Final = 512
MAX_QUEUED: Final = 20_000
RECEIPT_ATTEMPTS: Final = 3


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
        self._engine = engine
        # BEGIN IMMEDIATE on SQLite: take the write lock at once rather than fail on upgrade.
        self._sql = Dialect(engine.dialect.name)
        self._dbapi: Any = engine.dialect.loaded_dbapi  # its exception classes
        self._raw: PoolProxiedConnection | None = None  # opened and used by the writer thread
        self._write_lock = _sqlite_write_lock(engine)
        file_database = isinstance(self._write_lock, _FileLock)
        self._checkpointer = Checkpointer(engine) if file_database else None
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="retour-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.batches = 0  # how many transactions; tests and the benchmark read it

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._thread.start()

    async def stop(self) -> None:
        """Commit what is queued, then stop."""
        self._closed = True
        if self._thread.is_alive():
            self._queue.put(None)
            # The thread schedules its last `_deliver` before it ends, so before this join's
            # own completion: every queued request has its answer once the await returns.
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        if self._checkpointer is not None:
            self._checkpointer.stop()
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
        self._queue.put(_Item(kind, row, future))
        return await future

    @staticmethod
    def _deliver(batch: list[_Item], results: list[Any]) -> None:
        """In the event loop: hand each request its result."""
        for item, result in zip(batch, results, strict=True):
            if item.future.done():
                continue  # the client went away; what was committed stays committed
            if isinstance(result, Exception):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)

    # --- In the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        assert self._loop is not None
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                results = self._commit(batch)
            except BaseException:  # never let one batch kill the writer
                log.exception("writer batch failed")
                results = [Unavailable() for _ in batch]
            self._loop.call_soon_threadsafe(self._deliver, batch, results)
        self._release_connection()

    def _commit(self, batch: list[_Item]) -> list[Any]:
        dbapi = self._dbapi
        try:
            return self._commit_batch(batch)
        except (dbapi.IntegrityError, dbapi.DataError, ValueError):
            # A row the database refuses (or cannot encode) rather than a database down.
            if len(batch) == 1:
                log.warning("a submission was refused by the database", exc_info=True)
                return [Unavailable()]
            # One bad row (say, a procedure deleted a second ago) must not fail its batch:
            # commit each item on its own to isolate it.
            return [self._commit(batch=[item])[0] for item in batch]
        except dbapi.Error:
            log.warning("database unavailable: %d submissions refused", len(batch), exc_info=True)
            self._drop_connection()  # it may be broken: the next batch opens a new one
            return [Unavailable() for _ in batch]

    def _commit_batch(self, batch: list[_Item]) -> list[Any]:
        feedback = [item.row for item in batch if item.kind == "feedback"]
        impressions = [item.row for item in batch if item.kind == "impression"]
        with self._write_lock:
            connection = self._connection()
            cursor = connection.cursor()
            try:
                if self._sql.begin:
                    cursor.execute(self._sql.begin)
                stored = self._insert_feedback(cursor, feedback) if feedback else {}
                if impressions:
                    self._count_impressions(cursor, impressions)
                connection.commit()
            except BaseException:
                _rollback(connection)
                raise
            finally:
                cursor.close()
        self.batches += 1
        return [
            (stored.get(item.row["client_id"]) or Unavailable())
            if item.kind == "feedback"
            else None
            for item in batch
        ]

    def _connection(self) -> Any:
        """The DBAPI connection the writer thread keeps (with retour.db's PRAGMAs applied)."""
        if self._raw is None:
            self._raw = self._engine.raw_connection()
            if self._checkpointer is not None:
                # Checkpoints are the checkpointer thread's job, never a commit's.
                self._raw.cursor().execute("PRAGMA wal_autocheckpoint=0")
        return self._raw.driver_connection

    def _release_connection(self) -> None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            raw.invalidate()  # closed, not pooled: other users keep SQLite's autocheckpoint

    def _drop_connection(self) -> None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            try:
                raw.invalidate()
            except Exception:
                log.debug("closing the writer connection failed", exc_info=True)

    def _insert_feedback(
        self, cursor: Any, rows: list[dict[str, Any]]
    ) -> dict[str, tuple[int, str]]:
        # A client_id twice in one batch is one submission: insert the first only.
        todo = list({row["client_id"]: row for row in reversed(rows)}.values())
        stored: dict[str, tuple[int, str]] = {}
        sql = self._sql
        for _attempt in range(RECEIPT_ATTEMPTS):
            for start in range(0, len(todo), ROWS_PER_STATEMENT):
                chunk = todo[start : start + ROWS_PER_STATEMENT]
                cursor.execute(sql.insert_feedback(len(chunk)), sql.feedback_values(chunk))
                for feedback_id, client_id, receipt in cursor.fetchall():
                    stored[client_id] = (feedback_id, receipt)
            missing = [row["client_id"] for row in todo if row["client_id"] not in stored]
            # Skipped rows: a client_id stored earlier (answer with its row), or a receipt
            # that collided (retry with a new one).
            for start in range(0, len(missing), ROWS_PER_STATEMENT):
                chunk = missing[start : start + ROWS_PER_STATEMENT]
                cursor.execute(sql.select_feedback(len(chunk)), chunk)
                for feedback_id, client_id, receipt in cursor.fetchall():
                    stored[client_id] = (feedback_id, receipt)
            todo = [
                {**row, "receipt": new_receipt()} for row in todo if row["client_id"] not in stored
            ]
            if not todo:
                break
        return stored

    def _count_impressions(self, cursor: Any, rows: list[dict[str, Any]]) -> None:
        counts: dict[ImpressionKey, list[Any]] = {}
        for row in rows:
            entry = counts.setdefault(row["key"], [0, row["at"]])
            entry[0] += 1
            entry[1] = max(entry[1], row["at"])
        sql = self._sql
        cursor.executemany(
            sql.upsert_impression,
            [
                (
                    key.procedure_id,
                    sql.date(key.day),
                    key.origin,
                    key.event,
                    count,
                    sql.datetime(at),
                )
                for key, (count, at) in counts.items()
            ],
        )


def _rollback(connection: Any) -> None:
    try:
        connection.rollback()
    except Exception:
        log.debug("rollback failed", exc_info=True)


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
