"""The writer process: masks and commits what one ingest process received.

    python -m ingest.writer_process    (started by ingest.writer.Writer, never by hand)

It talks to its parent over its stdin and stdout in frames (`ingest.frames`): first the
`DatabaseTarget`, then lists of `(request id, item)`; it answers each committed batch with
a list of `(request id, result)`. A reader thread unpickles and prepares items (masking the
comments) while the main thread commits the previous batch: SQLite and PostgreSQL release
the GIL while they work, so the two overlap.

Why a process: in the ingest process, the writer thread's Python work (binding values,
reading ids back) took the GIL from the event loop tens of thousands of times a second, and
masking is pure-Python CPU. Here both run on another core, under another GIL.

It exits once its stdin closes (the parent stopped, or died: a SIGKILLed parent cannot leave
it behind), after committing and answering what it had read. SIGINT and SIGTERM are ignored:
a terminal's Ctrl-C or a service manager reaches the whole process group, and the parent's
shutdown decides when the last batch is in.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO, Final

from ingest.committer import REFUSED, Committer, Result, prepare
from ingest.frames import decode_items, read_frame, write_frame
from ingest.rows import DatabaseTarget, Impression, IncomingFeedback

log = logging.getLogger("retour.ingest")

MAX_BATCH: Final = 512

_Prepared = tuple[int, "dict[str, Any] | Impression | None"]  # None: preparing it failed


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     [writer] %(message)s")
    # Frames go to the parent on the original stdout; anything printed goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    target = read_frame(requests)
    if not isinstance(target, DatabaseTarget):
        sys.exit("ingest.writer_process: the first frame must be a DatabaseTarget")
    run(target, requests, answers)


def run(target: DatabaseTarget, requests: BinaryIO, answers: BinaryIO) -> None:
    committer = Committer(target)
    prepared: queue.SimpleQueue[_Prepared | None] = queue.SimpleQueue()
    reader = threading.Thread(
        target=_read, args=(requests, prepared), name="retour-writer-reader", daemon=True
    )
    reader.start()
    parent_gone = False
    try:
        for batch in _batches(prepared):
            results = _commit(committer, batch)
            if parent_gone:
                continue  # committed all the same: a retry with the client_id finds it
            ids = [request for request, _ in batch]
            try:
                write_frame(answers, list(zip(ids, results, strict=True)))
            except (BrokenPipeError, ValueError):
                parent_gone = True
    finally:
        committer.close()


def _read(requests: BinaryIO, prepared: queue.SimpleQueue[_Prepared | None]) -> None:
    """Reader thread: frames from the parent, prepared, onto the queue; None at the end."""
    try:
        while (frame := read_frame(requests)) is not None:
            for request, item in decode_items(frame):
                prepared.put((request, _prepare(item)))
    except Exception:
        log.exception("reading from the ingest process failed")
    finally:
        prepared.put(None)


def _prepare(item: IncomingFeedback | Impression) -> dict[str, Any] | Impression | None:
    if isinstance(item, Impression):
        return item
    try:
        return prepare(item)
    except Exception:
        # Never log the item: its comment is not masked.
        log.error("a submission could not be prepared", exc_info=False)
        return None


def _batches(prepared: queue.SimpleQueue[_Prepared | None]) -> Iterator[list[_Prepared]]:
    """Everything that queued up while the previous batch was committing (up to MAX_BATCH)."""
    while True:
        first = prepared.get()
        if first is None:
            return
        batch = [first]
        end = False
        while len(batch) < MAX_BATCH:
            try:
                item = prepared.get_nowait()
            except queue.Empty:
                break
            if item is None:
                end = True
                break
            batch.append(item)
        yield batch
        if end:
            return


def _commit(committer: Committer, batch: list[_Prepared]) -> list[Result]:
    storable = [item for _, item in batch if item is not None]
    try:
        stored = iter(committer.commit(storable)) if storable else iter(())
    except BaseException:  # never let one batch stop the writer
        log.exception("writer batch failed")
        return [REFUSED] * len(batch)
    return [REFUSED if item is None else next(stored) for _, item in batch]


if __name__ == "__main__":
    main()
