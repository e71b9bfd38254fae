"""Group commit: one writer thread stores what requests queue, one transaction per group.

    writer = Writer(engine); writer.start()
    feedback_id, receipt = await writer.add_feedback(row)    # once COMMIT has returned
    await writer.add_impressions(counts)                      # the counter's flush
    await writer.stop()                                       # commits what is queued

Requests put their item on a bounded queue and wait on a future. The thread takes the
first item, then everything else that queued meanwhile, stores the group in one transaction
(`retour.intake`) and resolves the futures from the event loop (`call_soon_threadsafe`):
a 202 means "committed", and the fsync (SQLite `synchronous=FULL`) is paid once per group.

Every wait is bounded. A full queue answers `Unavailable` (503) at once; a request whose
commit has not come back within `answer_timeout` (a database locked by someone else, a
PostgreSQL server that stopped answering) gets 503 too. The outcome is then unknown, and the
client's retry with the same client_id either stores the submission or finds it.
A database error answers the group 503 and the thread carries on: the connection pool opens
a new connection for the next group, so the writer recovers by itself once the database is
back. A row the database refuses on its own (say, its procedure was deleted a second ago) is
isolated by storing the group's rows one by one, so it never fails the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from ingest.errors import Unavailable
from retour.intake import ImpressionKey, count_impressions, store_feedback
from retour.page_loads import PageLoadKey, count_page_loads

log = logging.getLogger("retour.ingest")

MAX_QUEUED: Final = 10_000
MAX_GROUP: Final = 1_000  # items per transaction at most
# Seconds a request waits for its commit before it is answered 503 (SQLite's own busy
# timeout is 10 s; at full speed a full queue drains in well under that).
ANSWER_TIMEOUT: Final = 15.0
STOP_TIMEOUT: Final = 30.0  # seconds `stop` waits for the last commits

ImpressionCounts = Mapping[ImpressionKey, tuple[int, Any]]
PageLoadCounts = Mapping[PageLoadKey, int]


class _Item:
    """One request's work: a submission row, or a flush of impression counts."""

    __slots__ = ("feedback", "future", "impressions", "loop", "page_loads")

    def __init__(
        self,
        future: asyncio.Future[Any],
        *,
        feedback: dict[str, Any] | None = None,
        impressions: ImpressionCounts | None = None,
        page_loads: PageLoadCounts | None = None,
    ) -> None:
        self.feedback = feedback
        self.impressions = impressions
        self.page_loads = page_loads
        self.future = future
        self.loop = future.get_loop()


class _Refused(Exception):
    """Not stored: the request answers 503, the client retries with the same client_id."""


class Writer:
    def __init__(
        self,
        engine: Engine,
        *,
        answer_timeout: float = ANSWER_TIMEOUT,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self._engine = engine
        self._answer_timeout = answer_timeout
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._run, name="retour-writer", daemon=True)
        self._closed = False
        self.groups = 0  # transactions committed; tests read it

    def start(self) -> None:
        self._thread.start()

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Commit what is queued, then end the thread (waiting `timeout` seconds at most)."""
        if self._closed:
            return
        self._closed = True
        if not self._thread.is_alive():
            return
        await asyncio.to_thread(self._queue.put, None)
        await asyncio.to_thread(self._thread.join, timeout)
        if self._thread.is_alive():
            log.error("the writer did not finish within %.0f s", timeout)

    async def add_feedback(self, row: dict[str, Any]) -> tuple[int, str]:
        """(id, receipt) once committed: those of the first submission for a repeated
        client_id. `row` comes from `retour.intake.feedback_row`."""
        result: tuple[int, str] = await self._submit(feedback=row)
        return result

    async def add_impressions(
        self, counts: ImpressionCounts, page_loads: PageLoadCounts | None = None
    ) -> None:
        await self._submit(impressions=counts, page_loads=page_loads)

    async def _submit(self, **work: Any) -> Any:
        if self._closed:
            raise Unavailable()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        try:
            self._queue.put_nowait(_Item(future, **work))
        except queue.Full:
            raise Unavailable() from None
        expire = loop.call_later(self._answer_timeout, _give_up, future)
        try:
            return await future
        except _Refused:
            raise Unavailable() from None
        finally:
            expire.cancel()

    # --- The writer thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            group = [first] if first is not None else []
            while first is not None and len(group) < MAX_GROUP:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    first = None  # stop once this group is in
                    break
                group.append(item)
            if group:
                self._commit(group)
            if first is None:
                return

    def _commit(self, group: list[_Item]) -> None:
        try:
            results = self._store(group)
            self.groups += 1
        except (OperationalError, InterfaceError):
            # The database is down or unreachable: every request of the group answers 503.
            log.warning("database unavailable: %d requests answered 503", len(group), exc_info=True)
            results = [_Refused()] * len(group)
        except Exception:
            if len(group) == 1:
                # Never log the row: its comment and address are personal data.
                log.warning("the database refused a submission", exc_info=False)
                results = [_Refused()]
            else:
                # A row the database refuses must not fail its group: store each on its own.
                for item in group:
                    self._commit([item])
                return
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
        for item, result in zip(group, results, strict=True):
            by_loop.setdefault(item.loop, []).append((item.future, result))
        for loop, answers in by_loop.items():
            # One wake-up of the loop per group, not one per request; a closed loop has
            # nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, answers)

    def _store(self, group: list[_Item]) -> list[Any]:
        rows = [item.feedback for item in group if item.feedback is not None]
        counts = [item.impressions for item in group if item.impressions is not None]
        loads = [item.page_loads for item in group if item.page_loads]
        connect = self._engine.connect().execution_options(sqlite_begin="IMMEDIATE")
        with connect as connection, connection.begin():
            stored = store_feedback(connection, rows) if rows else {}
            for each in counts:
                count_impressions(connection, each)
            for histogram in loads:
                count_page_loads(connection, histogram)
        return [
            None if item.feedback is None else stored.get(item.feedback["client_id"]) or _Refused()
            for item in group
        ]


def _resolve(answers: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, result in answers:
        if future.done():
            continue  # answered 503 already, or the client went away: committed all the same
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


def _give_up(future: asyncio.Future[Any]) -> None:
    if not future.done():
        # If the commit goes through later, the retry with the same client_id finds it.
        log.warning("a request waited too long for the database: answered 503")
        future.set_exception(Unavailable())
