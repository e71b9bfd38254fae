"""`retour db copy --from URL`: moving a SQLite database into PostgreSQL (or another SQLite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from retour.cli import main
from retour.db import make_engine
from retour.models import (
    Feedback,
    FeedbackNote,
    FeedbackStatusCount,
    Ministry,
    ProcedureOrigin,
    StaffUser,
)
from retour.settings import Settings
from tests.factories import make_feedback, make_procedure, make_user


@pytest.fixture
def source_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "source.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=url, secret_key="s" * 40))
    with Session(engine) as session:
        procedure = make_procedure(
            session, id="cni", origins=("https://ants.gouv.fr", "https://a.fr")
        )
        agent = make_user(session, email="agent@example.gouv.fr")
        for n in range(5):
            feedback = make_feedback(
                session, procedure=procedure, comment=f"Commentaire n°{n} — « accentué »"
            )
        session.add(FeedbackNote(feedback_id=feedback.id, author_id=agent.id, body="Vu."))
        session.commit()
    engine.dispose()
    return url


def test_copy_moves_every_row_and_the_target_keeps_working(
    source_url: str,
    settings: Settings,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(
        main, ["db", "copy", "--from", source_url], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "feedback: 5 row(s)" in result.stderr
    assert result.stdout.startswith("Copied ")

    with Session(engine) as session:
        comments = session.exec(select(Feedback.comment).order_by(Feedback.id)).all()
        assert comments == [f"Commentaire n°{n} — « accentué »" for n in range(5)]
        received = session.exec(select(Feedback.received_at)).first()
        assert received is not None and received.tzinfo is not None
        origins = session.exec(
            select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == "cni")
        ).all()
        assert sorted(origins) == ["https://a.fr", "https://ants.gouv.fr"]
        assert session.exec(select(StaffUser.email)).all() == ["agent@example.gouv.fr"]
        # Counts kept by triggers are rebuilt by the copied rows, not doubled.
        counts = session.exec(select(FeedbackStatusCount.status, FeedbackStatusCount.count)).all()
        assert counts == [("new", 5)]
        # New rows get fresh ids: the sequences moved past the copied ones.
        ministry = Ministry(slug="apres-copie", name="Après la copie")
        session.add(ministry)
        session.commit()
        assert ministry.id is not None and ministry.id > 1

    again = CliRunner().invoke(main, ["db", "copy", "--from", source_url], env=env)
    assert again.exit_code == 1 and "target database is not empty" in again.stderr


def test_copy_from_a_missing_file_says_so(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(
        main, ["db", "copy", "--from", f"sqlite:///{tmp_path}/absent.db"], env=env
    )
    assert result.exit_code == 1 and "does not exist" in result.stderr
