"""Copy every row from one database to another (`retour db copy`): SQLite → PostgreSQL and back.

Both databases must be at the same migration; the target must be empty. Rows travel
table by table in foreign-key order, streamed in batches, in one transaction on the
target: a failed copy leaves the target as empty as it was. Search indexes follow by
themselves (SQLite FTS triggers, PostgreSQL expression index).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import retour.models  # noqa: F401  (registers every table in the metadata)
from retour.db import make_engine
from retour.settings import Settings, sqlite_path

BATCH: Final = 2000
# Kept by triggers on `feedback` (migration 0002): the copied submissions fill them again;
# copying their rows as well would count every submission twice.
TRIGGER_MAINTAINED: Final = frozenset({"feedback_status_count"})


class CopyError(Exception):
    """The copy cannot start; the message says why in one sentence."""


def source_engine(url: str) -> Engine:
    """An engine on the database to copy from; a missing SQLite file is an error, not created."""
    try:
        path = sqlite_path(url)
        # The secret is never used: a copy signs nothing.
        engine = make_engine(Settings(database_url=url, secret_key="unused-" * 8))
    except Exception as exc:
        raise CopyError(f"--from is not a database URL: {url!r}") from exc
    if path is not None and not path.is_file():
        engine.dispose()
        raise CopyError(f"--from names a SQLite file that does not exist: {path}")
    return engine


def _revision(connection: Connection) -> str | None:
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no alembic_version table: never migrated
        return None


def copy_database(
    source: Engine, target: Engine, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table; returns rows copied per table."""
    tables = SQLModel.metadata.sorted_tables
    copied: dict[str, int] = {}
    with source.connect() as reader, target.begin() as writer:
        source_revision, target_revision = _revision(reader), _revision(writer)
        if source_revision is None:
            raise CopyError("the source database has no schema: is its URL right?")
        if source_revision != target_revision:
            raise CopyError(
                f"the source is at migration {source_revision} and the target at "
                f"{target_revision}: run `retour db upgrade` on both first"
            )
        for table in tables:
            if writer.execute(select(func.count()).select_from(table)).scalar_one():
                raise CopyError(f"the target database is not empty (table {table.name})")
        for table in tables:
            if table.name in TRIGGER_MAINTAINED:
                continue
            count = 0
            rows = reader.execution_options(stream_results=True, yield_per=BATCH).execute(
                select(table)
            )
            for batch in rows.mappings().partitions(BATCH):
                writer.execute(insert(table), [dict(row) for row in batch])
                count += len(batch)
            copied[table.name] = count
            if progress is not None:
                progress(table.name, count)
        if writer.dialect.name == "postgresql":
            _reset_sequences(writer)
    return copied


def _reset_sequences(connection: Connection) -> None:
    # Rows arrived with their ids: move each id sequence past the largest, or the next
    # insert would collide with a copied row.
    for table in SQLModel.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar()
        if sequence is None:  # not a generated id (procedure ids are text)
            continue
        connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "  # noqa: S608
                f'FROM "{table.name}"'
            ),
            {"sequence": sequence},
        )
