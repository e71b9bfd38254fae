"""SQLite WAL checkpoints in their own thread, off the path of the commits citizens wait for.

By default the connection whose commit takes the WAL past 1,000 pages copies the WAL into
the database and syncs it, inside that commit: every few thousand submissions one batch
waited 100-360 ms (the p99 of the whole service, measured in process). The writer's
connection therefore runs with `wal_autocheckpoint=0`, and this thread runs a PASSIVE
checkpoint twice a second on a connection of its own: it waits for no reader or writer and
none waits for it, so commits go on while it copies. Durability does not depend on it:
a commit is on disk once the WAL is synced (synchronous=FULL).

SQLite starts the WAL over only when a write transaction begins with all of it copied, and
under constant writes a checkpoint never catches up with the commits made while it copies:
under bench/ingest.py the WAL grew by 40 MB a second, for good. So when a checkpoint finds
the WAL past `restart_frames`, it sets `restart_wanted`, and the writer, between two commits,
copies the few frames committed since (`ingest.committer`): its next transaction restarts
the WAL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

log = logging.getLogger("retour.ingest")

INTERVAL: Final = 0.5  # seconds
RESTART_FRAMES: Final = 8192  # 32 MiB of 4 KiB pages: past that, the writer catches up


class Checkpointer:
    def __init__(
        self,
        connect: Callable[[], Any],
        interval: float = INTERVAL,
        restart_frames: int = RESTART_FRAMES,
    ) -> None:
        self._connect = connect  # a new DBAPI connection to the database
        self._interval = interval
        self._restart_frames = restart_frames
        self._stopping = threading.Event()
        self.restart_wanted = threading.Event()  # the WAL is long: the writer should catch up
        self._thread = threading.Thread(target=self._run, name="retour-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        connection: Any = None
        while not self._stopping.wait(self._interval):
            try:
                if connection is None:
                    connection = self._connect()
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                _busy, wal_frames, _copied = cursor.fetchone()
                cursor.close()
                if wal_frames >= self._restart_frames:
                    self.restart_wanted.set()
            except Exception:
                # The next commit that finds the WAL long will not checkpoint: say so, retry.
                log.warning("WAL checkpoint failed", exc_info=True)
                if connection is not None:
                    _close(connection)
                    connection = None
        if connection is not None:
            _close(connection)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        log.debug("closing the checkpoint connection failed", exc_info=True)
