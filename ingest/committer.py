"""Group commit, in the writer process: many submissions, one transaction, one fsync.

`Committer.commit` stores a batch as one transaction with hand-written SQL (`ingest.sql`: one
multi-row INSERT ... RETURNING) on a DBAPI connection of its own: ORM sessions cost more
than the whole rest of a request, and even SQLAlchemy Core cost ~105 us of CPU per row.
`prepare` turns what the event loop validated into the stored row: the comment masked
(`retour.redaction`), the receipt drawn, the initial status set.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

from ingest.checkpoint import INTERVAL as CHECKPOINT_INTERVAL
from ingest.checkpoint import RESTART_FRAMES, Checkpointer
from ingest.rows import DatabaseTarget, Impression, ImpressionKey, IncomingFeedback
from ingest.sql import ROWS_PER_STATEMENT, Dialect
from retour.receipts import new_receipt
from retour.redaction import mask
from retour.sqlite import BUSY_TIMEOUT_MS, PRAGMAS

log = logging.getLogger("retour.ingest")

RECEIPT_ATTEMPTS: Final = 3


class Refused(NamedTuple):
    """A batch item that was not stored; the client retries with the same client_id."""


REFUSED: Final = Refused()
Result = tuple[int, str] | None | Refused  # (id, receipt), None for an impression


def prepare(incoming: IncomingFeedback) -> dict[str, Any]:
    """The row to insert: comment masked, receipt drawn (redrawn if it collides)."""
    masked = mask(incoming.comment)
    return {
        **incoming._asdict(),
        "receipt": new_receipt(),
        "comment": masked.text,
        "pii_categories": masked.categories_text,
        "status": "spam" if incoming.honeypot else "new",
        "assignee_id": None,
        "acknowledged_at": None,
        "updated_at": incoming.received_at,
    }


def connect(target: DatabaseTarget) -> Any:
    """A new DBAPI connection, set up as retour.db sets up SQLAlchemy's (retour.sqlite)."""
    if target.dialect == "sqlite":
        connection = sqlite3.connect(
            target.address,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # transactions are begun by hand (BEGIN IMMEDIATE)
            check_same_thread=False,
        )
        for pragma in PRAGMAS:
            connection.execute(pragma)
        # The writer's multi-row INSERT fires triggers into a virtual table (full-text search),
        # so SQLite keeps a statement journal for it: by default a temporary file, created,
        # written and deleted on every commit (a third of the commit's write calls, measured
        # with strace). In memory it holds one statement's pages, a few hundred KiB at most.
        connection.execute("PRAGMA temp_store=MEMORY")
        return connection
    import psycopg  # only PostgreSQL deployments have it loaded

    return psycopg.connect(target.address)


class Committer:
    def __init__(
        self,
        target: DatabaseTarget,
        *,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
        restart_frames: int = RESTART_FRAMES,
    ) -> None:
        self._target = target
        # Twice the WAL at which the writer restarts it (4 KiB pages): a WAL that long was held
        # back by a reader (a backup, say), and when it starts over its file is cut back to this.
        self._wal_size_limit = 2 * restart_frames * 4096
        self._sql = Dialect(target.dialect)
        self._dbapi: Any = sqlite3 if target.dialect == "sqlite" else _psycopg()
        self._connection: Any = None
        file_database = target.dialect == "sqlite" and target.address != ":memory:"
        self._write_lock = _FileLock(Path(f"{target.address}-writelock")) if file_database else None
        self._checkpointer = (
            Checkpointer(lambda: connect(target), checkpoint_interval, restart_frames)
            if file_database
            else None
        )
        if self._checkpointer is not None:
            self._checkpointer.start()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._drop_connection()
        if self._write_lock is not None:
            self._write_lock.close()

    def commit(self, batch: Sequence[dict[str, Any] | Impression]) -> list[Result]:
        """Store the batch in one transaction; one result per item, in order."""
        dbapi = self._dbapi
        try:
            return self._commit_batch(batch)
        except (dbapi.IntegrityError, dbapi.DataError, ValueError):
            # A row the database refuses (or cannot encode) rather than a database down.
            if len(batch) == 1:
                log.warning("a submission was refused by the database", exc_info=True)
                return [REFUSED]
            # One bad row (say, a procedure deleted a second ago) must not fail its batch:
            # commit each item on its own to isolate it.
            return [self.commit([item])[0] for item in batch]
        except dbapi.Error:
            log.warning("database unavailable: %d submissions refused", len(batch), exc_info=True)
            self._drop_connection()  # it may be broken: the next batch opens a new one
            return [REFUSED] * len(batch)

    def _commit_batch(self, batch: Sequence[dict[str, Any] | Impression]) -> list[Result]:
        feedback = [item for item in batch if isinstance(item, dict)]
        impressions = [item for item in batch if isinstance(item, Impression)]
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            connection = self._open()
            cursor = connection.cursor()
            if self._checkpointer is not None and self._checkpointer.restart_wanted.is_set():
                self._checkpointer.restart_wanted.clear()
                _catch_up(cursor)
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
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
        return [
            stored.get(item["client_id"], REFUSED) if isinstance(item, dict) else None
            for item in batch
        ]

    def _open(self) -> Any:
        if self._connection is None:
            self._connection = connect(self._target)
            if self._checkpointer is not None:
                # Checkpoints are the checkpointer thread's job, never a commit's.
                self._connection.execute("PRAGMA wal_autocheckpoint=0")
                self._connection.execute(f"PRAGMA journal_size_limit={self._wal_size_limit}")
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()
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

    def _count_impressions(self, cursor: Any, impressions: list[Impression]) -> None:
        counts: dict[ImpressionKey, list[Any]] = {}
        for key, at in impressions:
            entry = counts.setdefault(key, [0, at])
            entry[0] += 1
            entry[1] = max(entry[1], at)
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


def _catch_up(cursor: Any) -> None:
    """Checkpoint the whole WAL, so that the next transaction starts it over.

    Called under the write lock: nothing commits meanwhile, so this copies what came in since
    the checkpointer's last pass and the transaction that follows begins with none of the WAL
    left to copy, which is when SQLite restarts it (ingest.checkpoint)."""
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cursor.fetchall()
    except sqlite3.Error:
        # The batch is what matters; the checkpointer will ask again.
        log.warning("catching up with the WAL failed", exc_info=True)


def _psycopg() -> Any:
    import psycopg

    return psycopg


def _rollback(connection: Any) -> None:
    try:
        connection.rollback()
    except Exception:
        log.debug("rollback failed", exc_info=True)


class _FileLock:
    """An exclusive lock on a file beside the SQLite database, held around each write.

    Several processes (uvicorn --workers, each with its writer process) share one SQLite
    file. SQLite's busy handler polls with sleeps of 1 to 100 ms, so a writer that finds the
    database locked waits far longer than the commit it waits for; flock() wakes it as soon
    as the lock is free.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)
