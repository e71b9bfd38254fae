"""The event loop's side of group commit: submissions go to a writer process, 202 once stored.

Requests hand their submission to `Writer` and wait on a future. Everything handed over in
one turn of the event loop leaves in one frame to the writer process (`ingest.writer_process`),
or in a frame a millisecond when the turn lasts longer (HAND_OVER_AFTER). The process masks
the comments and commits whatever arrived while its previous commit ran as one transaction:
durability (an fsync per commit with synchronous=FULL) is paid once per batch.
A future is resolved only when the process answers after COMMIT: the 202 means "stored".

The process is started on the first submission (an ingest that only serves the widget never
starts one) and again after it dies. If it dies, the submissions it had not answered get a
503: they may or may not be stored, and the client's retry with the same client_id either
stores them or finds them, so an answered 2xx is still stored exactly once.

Waits are bounded, for the same reason and with the same answer: a submission the process has
not answered within ANSWER_TIMEOUT (a database locked by someone else, a PostgreSQL server that
stopped answering) gets a 503 instead of holding its citizen's request open indefinitely, and
`stop` kills a process that has not finished within STOP_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import URL, Engine

from ingest.committer import Refused
from ingest.errors import Unavailable
from ingest.frames import HEADER, decode_frame, encode_frame, encode_items
from ingest.rows import DatabaseTarget, Impression, ImpressionKey, IncomingFeedback

log = logging.getLogger("retour.ingest")

MAX_QUEUED: Final = 20_000
# A writer process that died is not restarted sooner than this: if it cannot start (say, the
# database file is not writable), clients get a 503 at once instead of a storm of processes.
RESTART_DELAY: Final = 1.0
# Seconds a submission may wait for its commit before it is answered 503 (SQLite's own busy
# timeout is 10 s; at full speed the longest queue, MAX_QUEUED, drains in well under that).
ANSWER_TIMEOUT: Final = 15.0
STOP_TIMEOUT: Final = 30.0  # seconds `stop` waits for the last commits before killing
# Seconds a submission may wait in the loop before it goes to the writer process, even when
# the loop's turn is not over. Under load one turn reads dozens of requests, and the process
# sat idle until the last was validated, then the loop idled while it committed them all:
# handing over every millisecond lets the two overlap (docs/performance.md, seventh session).
HAND_OVER_AFTER: Final = 0.001


class Writer:
    def __init__(
        self,
        engine: Engine,
        *,
        answer_timeout: float = ANSWER_TIMEOUT,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self._target = database_target(engine.url)
        self._answer_timeout = answer_timeout
        self._stop_timeout = stop_timeout
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[Any]] = {}  # by request id
        self._unsent: list[tuple[int, IncomingFeedback | Impression]] = []
        # (last request id, monotonic time) of each frame sent in the last ANSWER_TIMEOUT or so:
        # a timestamp per frame rather than per request keeps the watch off the hot path.
        self._sent: collections.deque[tuple[int, float]] = collections.deque()
        self._process: asyncio.subprocess.Process | None = None
        self._running: asyncio.Task[None] | None = None  # starts, feeds and reads the process
        # The loop the process was started from. Kept: asyncio.get_running_loop() is a
        # getpid() system call in Python 3.11, and the hot path needed it twice a request.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flush_scheduled = False
        self._first_unsent_at = 0.0  # monotonic time the oldest of `_unsent` was queued
        self._restart_at = 0.0
        self._closed = False
        self.batches = 0  # how many transactions; tests and the benchmark read it
        self.frames_sent = 0  # how many frames of submissions went to the process

    @property
    def process_id(self) -> int | None:
        """The writer process's pid while it runs."""
        return self._process.pid if self._process is not None else None

    async def stop(self) -> None:
        """Let the process commit and answer what it was given, then end."""
        self._closed = True
        if self._running is None:
            return
        self._flush()
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()  # the process ends after answering
        running = self._running
        try:
            await asyncio.wait_for(asyncio.shield(running), self._stop_timeout)
        except TimeoutError:
            log.error("the writer process did not finish in %.0f s: killed", self._stop_timeout)
            if self._process is not None:
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    self._process.kill()
            await running  # its pipes close: whatever it did not answer gets a 503

    # These two return the future itself rather than being coroutines: a request's task then
    # resumes straight into its handler once the answer comes, through no extra frames.
    def add_feedback(self, incoming: IncomingFeedback) -> asyncio.Future[tuple[int, str]]:
        """Resolves to (id, receipt) once committed: those of the first submission for a
        repeated client_id. Raises `Unavailable` (503) at once when nothing can be queued."""
        return self._enqueue(incoming)

    def add_impression(self, key: ImpressionKey, at: dt.datetime) -> asyncio.Future[None]:
        return self._enqueue(Impression(key, at))

    def _enqueue(self, item: IncomingFeedback | Impression) -> asyncio.Future[Any]:
        if self._closed or len(self._waiting) >= MAX_QUEUED:
            raise Unavailable()
        loop = self._loop
        if self._running is None or loop is None:
            if time.monotonic() < self._restart_at:
                raise Unavailable()
            loop = self._loop = asyncio.get_running_loop()
            self._running = loop.create_task(self._run())
        request = next(self._ids)
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting[request] = future
        unsent = self._unsent
        if not unsent:
            self._first_unsent_at = time.monotonic()
        unsent.append((request, item))
        if self._process is None:
            return future  # the process, once started, is sent what queued meanwhile
        if time.monotonic() - self._first_unsent_at >= HAND_OVER_AFTER:
            self._flush()
        elif not self._flush_scheduled:
            # After every request that is ready in this turn of the loop: one frame for all.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._unsent and self._process is not None and self._process.stdin is not None:
            self._process.stdin.write(encode_items(self._unsent))
            self.frames_sent += 1
            self._sent.append((self._unsent[-1][0], time.monotonic()))
            self._unsent = []

    async def _run(self) -> None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ingest.writer_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": _import_path()},
            )
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(encode_frame(self._target))
            self._flush()
            if self._closed:  # stopped while the process was starting
                self._process.stdin.close()
            watch = asyncio.create_task(self._watch())
            try:
                await self._read_answers(self._process.stdout)
            finally:
                watch.cancel()
            await self._process.wait()
        except Exception:
            log.exception("the writer process failed")
        finally:
            self._ended()

    async def _watch(self) -> None:
        """Answer 503 to submissions the process has kept waiting over the answer timeout."""
        while True:
            await asyncio.sleep(self._answer_timeout / 4)
            deadline = time.monotonic() - self._answer_timeout
            overdue = -1
            while self._sent and self._sent[0][1] <= deadline:
                overdue = self._sent.popleft()[0]
            late = list(itertools.takewhile(overdue.__ge__, self._waiting))  # oldest first
            for request in late:
                future = self._waiting.pop(request)
                if not future.done():
                    future.set_exception(Unavailable())
            if late:
                # If they are committed after all, the retry with the same client_id finds them.
                log.warning(
                    "%d submissions waited over %.0f s for the database: answered 503",
                    len(late),
                    self._answer_timeout,
                )

    async def _read_answers(self, answers: asyncio.StreamReader) -> None:
        while True:
            try:
                (length,) = HEADER.unpack(await answers.readexactly(HEADER.size))
                frame = decode_frame(await answers.readexactly(length))
            except asyncio.IncompleteReadError:
                return
            self.batches += 1
            waiting = self._waiting
            for request, result in frame:
                future = waiting.pop(request, None)
                if future is None or future.done():
                    # Answered 503 already (too late), or the client went away: what was
                    # committed stays committed.
                    continue
                if isinstance(result, Refused):
                    future.set_exception(Unavailable())
                else:
                    future.set_result(result)

    def _ended(self) -> None:
        """The process is gone: whatever it did not answer gets a 503 (retry, same client_id)."""
        unanswered = len(self._waiting)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(Unavailable())
        self._waiting.clear()
        self._unsent = []
        self._sent.clear()
        self._process = None
        self._running = None
        if not self._closed:
            log.error("the writer process ended; %d submissions answered 503", unanswered)
            self._restart_at = time.monotonic() + RESTART_DELAY


def database_target(url: URL) -> DatabaseTarget:
    """What the writer process connects to, from the engine's URL."""
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("the ingest needs a SQLite file: another process writes to it")
        return DatabaseTarget("sqlite", url.database)
    libpq = url.set(drivername="postgresql")
    return DatabaseTarget("postgresql", libpq.render_as_string(hide_password=False))


def _import_path() -> str:
    """PYTHONPATH for the process: this project first, whatever the working directory."""
    here = str(Path(__file__).resolve().parent.parent)
    return os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])
