"""SQLite WAL checkpoints in their own thread, off the path of the commits citizens wait for.

By default the connection whose commit takes the WAL past 1,000 pages copies the WAL into
the database and syncs it, inside that commit: every few thousand submissions one batch
waited 100-360 ms (the p99 of the whole service, measured in process). The writer's
connection therefore runs with `wal_autocheckpoint=0`, and this thread runs a PASSIVE
checkpoint twice a second on a connection of its own: it waits for no reader or writer and
none waits for it, so commits go on while it copies. Durability does not depend on it:
a commit is on disk once the WAL is synced (synchronous=FULL).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Final

log = logging.getLogger("retour.ingest")

INTERVAL: Final = 0.5  # seconds; at ~3,000 rows/s a WAL of a few MB at most


class Checkpointer:
    def __init__(self, connect: Callable[[], Any], interval: float = INTERVAL) -> None:
        self._connect = connect  # a new DBAPI connection to the database
        self._interval = interval
        self._stopping = threading.Event()
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
                cursor.fetchall()
                cursor.close()
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
