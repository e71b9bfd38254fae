"""The SQLite WAL stays bounded under writes that never pause."""

from __future__ import annotations

import itertools
import sqlite3
import statistics
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.committer import Committer, prepare
from ingest.writer import database_target
from retour.models import Procedure
from tests.factories import make_incoming
from tests.ingest.conftest import stored_feedback

PAGE_BYTES = 4096


def test_constant_writes_still_restart_the_wal(
    procedure: Procedure, engine: Engine, backend: str, session: Session
) -> None:
    """A checkpoint running beside the commits never finds all of the WAL copied, so SQLite
    would never start it over: the writer catches up when the checkpointer asks it to."""
    if backend != "sqlite":
        pytest.skip("a SQLite WAL matter")
    session.close()  # a reader's open snapshot would hold any checkpoint back
    target = database_target(engine.url)
    committer = Committer(target, checkpoint_interval=0.02, restart_frames=50)
    try:
        sizes = write_for(2.0, committer, procedure, wal_of(engine))
    finally:
        committer.close()
    assert len(stored_feedback(engine)) == len(sizes)
    # Started over, the WAL file is cut back: its size falls. Without restarts it only grows
    # (0 falls in 2 s, against 48-95 with them, measured).
    falls = sum(1 for before, after in itertools.pairwise(sizes) if after < before)
    assert falls >= 5, falls
    # Each commit writes well over 4 pages (13 here): without restarts the WAL holds them all.
    # The median, not the maximum: on a loaded machine one checkpoint's fsync can stall for a
    # few hundred milliseconds, and the WAL grows meanwhile (19 MB once in CI, 2.5 MB here).
    assert statistics.median(sizes) * 3 < len(sizes) * 4 * PAGE_BYTES


def test_a_wal_a_reader_held_back_is_cut_back_once_it_starts_over(
    procedure: Procedure, engine: Engine, backend: str, session: Session
) -> None:
    if backend != "sqlite":
        pytest.skip("a SQLite WAL matter")
    session.close()
    target = database_target(engine.url)
    limit = 2 * 50 * PAGE_BYTES  # what the committer sets for restart_frames=50
    committer = Committer(target, checkpoint_interval=0.02, restart_frames=50)
    reader = sqlite3.connect(target.address, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM feedback").fetchone()  # a snapshot, kept open
        held_back = write_for(0.5, committer, procedure, wal_of(engine))
        reader.execute("COMMIT")
        released = write_for(1.0, committer, procedure, wal_of(engine))
    finally:
        reader.close()
        committer.close()
    assert max(held_back) > 4 * limit  # nothing could be copied past the reader's snapshot
    assert min(released) <= limit  # the file itself shrank, not only the part in use


def write_for(seconds: float, committer: Committer, procedure: Procedure, wal: Path) -> list[int]:
    """Commit one submission after another; the WAL file's size after each."""
    sizes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        committer.commit([prepare(make_incoming(procedure))])
        sizes.append(wal.stat().st_size)
    return sizes


def wal_of(engine: Engine) -> Path:
    return Path(f"{engine.url.database}-wal")
