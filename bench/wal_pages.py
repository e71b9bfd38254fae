"""How many pages one group commit writes to the SQLite WAL, and what each part costs.

    .venv/bin/python bench/wal_pages.py [--rows 20000] [--batch 24] [--commits 200]

Every page a commit dirties is written to the WAL and synced (synchronous=FULL), then
copied again by a checkpoint, so pages per commit drive the writer's disk time. Unlike
timings on a shared machine, the count is the same from run to run.

Each variant gets a fresh, migrated database holding `--rows` submissions, then commits
`--commits` batches of `--batch` rows with the writer's own SQL (`ingest.sql`) and
connection set-up (`ingest.committer.connect`), and prints the WAL frames and the write
system calls (`syscw` in /proc/self/io: two per WAL frame, plus those to any temporary
file) per commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import ORIGIN, PROCEDURE_ID, prepare_database, submission_body  # noqa: E402
from ingest.committer import connect, prepare  # noqa: E402
from ingest.rows import DatabaseTarget, IncomingFeedback  # noqa: E402
from ingest.sql import Dialect  # noqa: E402
from retour.receipts import new_receipt  # noqa: E402
from retour.uuids import uuid7  # noqa: E402

WAL_FRAME_BYTES = 24 + 4096  # frame header + page (SQLite's default page size)
INBOX_INDEXES = (
    "ix_feedback_inbox_status",
    "ix_feedback_inbox_procedure",
    "ix_feedback_status_all",
    "ix_feedback_received",
)


def clustered_client_ids() -> Iterator[str]:
    """What bench/ingest.py's wrk script sends: one random prefix, then a counter."""
    prefix = uuid.uuid4().hex[:8]
    for n in itertools.count():
        yield f"{prefix}-4{n % 4096:03x}-8000-{n:012x}"


def random_client_ids() -> Iterator[str]:
    """What widgets sent before version 7: a random UUID per submission."""
    while True:
        yield str(uuid.uuid4())


def uuid7_client_ids() -> Iterator[str]:
    """What widget/src/send.js and the hosted form make: 48 bits of milliseconds, then random."""
    while True:
        yield uuid7()


def sequential_receipts() -> Iterator[str]:
    for n in itertools.count():
        yield f"{n:010d}"


def random_receipts() -> Iterator[str]:
    while True:
        yield new_receipt()


VARIANTS: dict[str, tuple[Callable[[], Iterator[str]], Callable[[], Iterator[str]], list[str]]] = {
    "as bench/ingest.py posts": (clustered_client_ids, random_receipts, []),
    "UUIDv7 client_ids (widgets)": (uuid7_client_ids, random_receipts, []),
    "random UUIDv4 client_ids": (random_client_ids, random_receipts, []),
    "sequential receipts": (clustered_client_ids, sequential_receipts, []),
    "no full-text trigger": (
        clustered_client_ids,
        random_receipts,
        ["DROP TRIGGER feedback_fts_insert"],
    ),
    "no status-count trigger": (
        clustered_client_ids,
        random_receipts,
        ["DROP TRIGGER feedback_count_insert"],
    ),
    "no inbox indexes (0002)": (
        clustered_client_ids,
        random_receipts,
        [f"DROP INDEX {name}" for name in INBOX_INDEXES],
    ),
    # What the writer did before: the statement journal in a temporary file, every commit.
    "statement journal on disk": (
        clustered_client_ids,
        random_receipts,
        ["PRAGMA temp_store=FILE"],
    ),
}


def write_calls() -> int:
    """Write system calls this process has made so far (Linux: /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise RuntimeError("no syscw in /proc/self/io")


def per_commit(name: str, args: argparse.Namespace) -> tuple[float, float]:
    """(WAL pages, write system calls) per commit."""
    client_ids_for, receipts_for, changes = VARIANTS[name]
    client_ids, receipts = client_ids_for(), receipts_for()
    directory = Path(tempfile.mkdtemp(prefix="retour-wal-"))
    try:
        path = prepare_database(directory).removeprefix("sqlite:///")
        connection = connect(DatabaseTarget("sqlite", path))
        connection.execute("PRAGMA wal_autocheckpoint=0")  # as the writer runs
        for change in changes:
            connection.execute(change)
        ministry_id = connection.execute("SELECT ministry_id FROM procedure").fetchone()[0]
        template = row_template(ministry_id)
        sql = Dialect("sqlite")

        def commit(size: int) -> None:
            rows = [
                {**template, "client_id": next(client_ids), "receipt": next(receipts)}
                for _ in range(size)
            ]
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(sql.insert_feedback(size), sql.feedback_values(rows)).fetchall()
            connection.execute("COMMIT")

        for _ in range(args.rows // 250):
            commit(250)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        writes_before = write_calls()
        for _ in range(args.commits):
            commit(args.batch)
        writes = write_calls() - writes_before
        wal_bytes = Path(f"{path}-wal").stat().st_size
        connection.close()
        return wal_bytes / WAL_FRAME_BYTES / args.commits, writes / args.commits
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def row_template(ministry_id: int) -> dict[str, Any]:
    """A stored row as the writer process prepares it from the benchmark's submission."""
    body = submission_body()
    return prepare(
        IncomingFeedback(
            client_id=str(uuid.uuid4()),  # replaced per variant
            procedure_id=PROCEDURE_ID,
            ministry_id=ministry_id,
            received_at=dt.datetime.now(dt.UTC),
            satisfaction=body["satisfaction"],
            kind=body["kind"],
            comment=body["comment"],
            contact_email=None,
            page_url=body["page_url"],
            page_origin=ORIGIN,
            origin_registered=True,
            honeypot=False,
            locale="fr",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--commits", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.rows} rows stored, then {args.commits} commits of {args.batch} rows")
    baseline = None
    for name in VARIANTS:
        frames, writes = per_commit(name, args)
        baseline = baseline or frames
        print(
            f"{name:30} {frames:6.1f} WAL pages a commit   {frames / baseline:5.2f}"
            f"   {writes:6.1f} write calls a commit"
        )


if __name__ == "__main__":
    main()
