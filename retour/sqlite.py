"""How every SQLite connection is set up (retour.db applies these to each new connection)."""

from __future__ import annotations

from typing import Final

BUSY_TIMEOUT_MS: Final = 10_000
PRAGMAS: Final = (
    # WAL lets readers work while one writer commits; FULL syncs the WAL on every
    # commit, so an acknowledged submission survives a power cut, not only a crash.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
)
