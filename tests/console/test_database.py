"""Console transactions on SQLite: a stale read snapshot runs the transaction again."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from console.database import SQLITE_ATTEMPTS, call_in_transaction
from retour.models import Ministry


def count_then_write(engine: Engine, *, others: int) -> tuple[list[int], object]:
    """A function that reads, then (on its first `others` runs) lets another connection
    commit before it writes: SQLite refuses its write with "database is locked"."""
    runs: list[int] = []

    def fn(session: Session) -> int:
        seen = session.exec(select(func.count()).select_from(Ministry)).one()
        runs.append(seen)
        if len(runs) <= others:
            with Session(engine) as other:
                other.add(Ministry(slug=f"autre-{len(runs)}", name="Autre"))
                other.commit()
        session.add(Ministry(slug=f"celui-ci-{seen}", name="Celui-ci"))
        session.flush()
        return seen

    return runs, fn


def test_a_transaction_whose_snapshot_went_stale_runs_again(engine: Engine, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's snapshot rule")
    runs, fn = count_then_write(engine, others=1)
    assert call_in_transaction(engine, fn, (), {}) == 1  # type: ignore[arg-type]
    assert runs == [0, 1]  # the second run saw the other connection's commit
    with Session(engine) as session:
        slugs = sorted(m.slug for m in session.exec(select(Ministry)))
    assert slugs == ["autre-1", "celui-ci-1"]


def test_it_gives_up_after_a_few_attempts(engine: Engine, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's snapshot rule")
    runs, fn = count_then_write(engine, others=SQLITE_ATTEMPTS)
    with pytest.raises(Exception, match="database is locked"):
        call_in_transaction(engine, fn, (), {})  # type: ignore[arg-type]
    assert len(runs) == SQLITE_ATTEMPTS
