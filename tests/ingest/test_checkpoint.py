"""The SQLite WAL stays bounded under writes that never pause."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.committer import WAL_SIZE_LIMIT, Committer, prepare
from ingest.writer import database_target
from retour.models import Procedure
from tests.ingest.conftest import stored_feedback
from tests.ingest.test_writer_process import incoming

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
    wal = Path(f"{target.address}-wal")
    committer = Committer(target, checkpoint_interval=0.02, restart_frames=50)
    largest = commits = 0
    try:
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            committer.commit([prepare(incoming(procedure))])
            commits += 1
            largest = max(largest, wal.stat().st_size)
    finally:
        committer.close()
    assert len(stored_feedback(engine)) == commits
    # Each commit writes well over 4 pages (19 here): without restarts the WAL holds them all.
    assert largest * 3 < commits * 4 * PAGE_BYTES
    assert largest < WAL_SIZE_LIMIT
