"""`retour demo`: realistic, deterministic, and loaded once."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from retour.cli import main
from retour.db import make_engine
from retour.demo import load_demo
from retour.demo_data import DEMO_PASSWORD, LOGINS
from retour.models import (
    Feedback,
    ImpressionCount,
    Incident,
    Problem,
    Procedure,
    ProcedureOrigin,
    StaffUser,
)
from retour.passwords import verify_password
from retour.settings import Settings

pytestmark = pytest.mark.slow


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def test_demo_twice_changes_nothing_and_prints_logins(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    first = CliRunner().invoke(main, ["demo"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "Demo data loaded:" in first.stdout
    for _role, email, _ministry in LOGINS:
        assert email in first.stdout
    assert DEMO_PASSWORD in first.stdout
    counts = row_counts(engine)

    second = CliRunner().invoke(main, ["demo"], env=env, catch_exceptions=False)
    assert second.exit_code == 0
    assert "already loaded: nothing changed" in second.stdout
    assert row_counts(engine) == counts

    assert counts["ministry"] >= 10 and counts["procedure"] >= 40
    assert 15_000 <= counts["feedback"] <= 30_000
    assert counts["public_answer"] > 50 and counts["feedback_note"] > 100
    with Session(engine) as session:
        # The loop closing: problems fixed, planned and not to be fixed, and a spike going on.
        demo_problems = session.exec(select(Problem)).all()
        assert {p.status for p in demo_problems} == {"fixed", "planned", "wont_fix"}
        assert all(p.reports >= 3 for p in demo_problems)
        assert all(p.answered_at for p in demo_problems if p.status == "fixed")
        ongoing = session.exec(select(Incident).where(Incident.ended_at == None)).all()  # noqa: E711
        # Malfunction reports rated « Mal »: both signals fire, on one procedure.
        assert {(i.procedure_id, i.signal) for i in ongoing} == {
            (ongoing[0].procedure_id, "malfunction"),
            (ongoing[0].procedure_id, "bad"),
        }
        assert all(i.observed >= 10 for i in ongoing)
        for role, email, ministry in LOGINS:
            user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
            assert user.role == role and (user.ministry_id is None) == (ministry is None)
            assert verify_password(user.password_hash, DEMO_PASSWORD)
        _assert_believable(session)
        _assert_observatory(session)
        # The /demo page of this service shows the first procedure's button: registered there.
        origins = session.exec(
            select(ProcedureOrigin.origin).where(ProcedureOrigin.procedure_id == "carte-identite")
        ).all()
        assert sorted(origins) == [
            "http://127.0.0.1:8000",
            "https://ants.gouv.fr",
            "https://www.service-public.fr",
        ]
        # Contact addresses only where the retention policy still allows them.
        assert session.exec(select(func.count()).where(Feedback.contact_email != None)).one() > 10  # noqa: E711
    from retour.retention import purge_contact_emails

    assert purge_contact_emails(engine, settings=settings) == 0


def _assert_believable(session: Session) -> None:
    now = dt.datetime.now(dt.UTC)
    per_procedure = dict(
        session.exec(
            select(Feedback.procedure_id, func.count()).group_by(Feedback.procedure_id)
        ).all()
    )
    assert sum(1 for n in per_procedure.values() if n > 100) >= 10  # scores get published
    # Ratings lean differently per procedure.
    means = session.exec(
        select(func.avg(Feedback.satisfaction)).group_by(Feedback.procedure_id)
    ).all()
    assert max(means) - min(means) > 0.5
    kinds = dict(session.exec(select(Feedback.kind, func.count()).group_by(Feedback.kind)).all())
    total = sum(kinds.values())
    assert kinds["malfunction"] > 0.1 * total and kinds["complaint"] > 0.1 * total
    assert set(kinds) >= {"praise", "change_request", "omission", "other", None}

    honeypots = session.exec(select(Feedback.status).where(Feedback.honeypot)).all()
    assert honeypots and set(honeypots) == {"spam"}
    assert session.exec(select(func.count()).where(Feedback.origin_registered == False)).one() > 50  # noqa: E712

    old = now - dt.timedelta(days=120)
    old_statuses = session.exec(select(Feedback.status).where(Feedback.received_at < old)).all()
    assert sum(s != "new" for s in old_statuses) > 0.8 * len(old_statuses)
    recent = session.exec(
        select(Feedback.status).where(Feedback.received_at > now - dt.timedelta(days=10))
    ).all()
    assert sum(s == "new" for s in recent) > 0.5 * len(recent)

    # Personal data went through the same masking as real submissions.
    masked = session.exec(select(Feedback.comment).where(Feedback.pii_categories != "")).all()
    assert len(masked) >= 10
    leaked = session.exec(
        select(func.count()).where(
            Feedback.comment.contains("06 12 34 56 78")  # type: ignore[attr-defined]
            | Feedback.comment.contains("marie.lefebvre@gmail.com")  # type: ignore[attr-defined]
            | Feedback.comment.contains("FR76 3000")  # type: ignore[attr-defined]
        )
    ).one()
    assert leaked == 0
    assert session.exec(select(func.count()).where(Feedback.comment.contains("é"))).one() > 1000  # type: ignore[attr-defined]

    # Views ≫ opens ≫ submissions, and a few procedures whose button is not live.
    events = dict(
        session.exec(
            select(ImpressionCount.event, func.sum(ImpressionCount.count)).group_by(
                ImpressionCount.event
            )
        ).all()
    )
    assert events["view"] > 10 * events["open"] > 20 * sum(per_procedure.values())
    live = set(
        session.exec(
            select(ImpressionCount.procedure_id).where(
                ImpressionCount.event == "view",
                ImpressionCount.day >= now.date() - dt.timedelta(days=7),
            )
        ).all()
    )
    procedures = set(session.exec(select(Procedure.id)).all())
    assert 2 <= len(procedures - live) <= 6


def test_demo_is_deterministic(sqlite_template: Path, tmp_path: Path) -> None:
    now = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
    loaded = []
    for name in ("a.db", "b.db"):
        shutil.copyfile(sqlite_template, tmp_path / name)
        engine = make_engine(
            Settings(database_url=f"sqlite:///{tmp_path / name}", secret_key="s" * 40)
        )
        load_demo(engine, now=now, scale=0.1)
        with engine.connect() as connection:
            loaded.append(
                connection.execute(
                    text(
                        "SELECT client_id, receipt, procedure_id, received_at, satisfaction, kind,"
                        " comment, status FROM feedback ORDER BY id"
                    )
                ).all()
            )
        engine.dispose()
    assert len(loaded[0]) > 1000
    assert loaded[0] == loaded[1]


def test_demo_refuses_to_overwrite_a_real_register(
    settings: Settings,
    engine: Engine,
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.factories import make_procedure

    make_procedure(session, id="carte-identite", title="Ma vraie démarche")
    before = row_counts(engine)
    monkeypatch.chdir(tmp_path)
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["demo"], env=env)
    assert result.exit_code == 1
    assert "already has a procedure 'carte-identite'" in result.stderr
    assert row_counts(engine) == before


def test_demo_on_another_port_registers_that_origin_for_the_demo_page(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run PORT=8001` after a first `make run`: the /demo page's button must count as
    # registered on the new port too, and nothing else may change.
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "demo.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=url, secret_key="d" * 40))
    try:
        load_demo(engine, public_url="http://127.0.0.1:8000", scale=0.05)
        counts = row_counts(engine)
        env = {"RETOUR_DATABASE_URL": url, "RETOUR_SECRET_KEY": "d" * 40}
        again = CliRunner().invoke(main, ["demo", "--port", "8001"], env=env)
        assert again.exit_code == 0, again.output
        assert "http://127.0.0.1:8001 registered for the /demo page" in again.stdout
        with Session(engine) as session:
            origins = session.exec(
                select(ProcedureOrigin.origin).where(
                    ProcedureOrigin.procedure_id == "carte-identite"
                )
            ).all()
        assert {"http://127.0.0.1:8000", "http://127.0.0.1:8001"} <= set(origins)
        assert row_counts(engine) == {**counts, "procedure_origin": counts["procedure_origin"] + 1}

        third = CliRunner().invoke(main, ["demo", "--port", "8001"], env=env)
        assert "already loaded: nothing changed" in third.stdout
        # RETOUR_PUBLIC_URL, when set, wins over --port (as it does for `retour serve`).
        public = {**env, "RETOUR_PUBLIC_URL": "https://retour.example.gouv.fr"}
        fourth = CliRunner().invoke(main, ["demo", "--port", "8002"], env=public)
        assert "https://retour.example.gouv.fr registered" in fourth.stdout
    finally:
        engine.dispose()


def _assert_observatory(session: Session) -> None:
    """Realistic declarations, two past editions, some year-old flags, accessibility reports."""
    from retour.indicators import is_stale
    from retour.models import IndicatorEdition, ProcedureIndicator, utcnow

    declared = session.exec(select(ProcedureIndicator)).all()
    procedures = session.exec(select(func.count()).select_from(Procedure)).one()
    assert len(declared) == 7 * procedures
    assert {d.indicator for d in declared if is_stale(d.declared_at, utcnow())} == {"online"}
    assert len(set(session.exec(select(IndicatorEdition.edition)).all())) == 2
    kinds = session.exec(select(Feedback.kind)).all()
    assert kinds.count("accessibility") > 100
    from retour.models import PageLoadDay
    from retour.page_loads import median_loads

    assert session.exec(select(func.count()).select_from(PageLoadDay)).one() > 1000
    medians = median_loads(session.connection(), utcnow().date())
    assert len(set(medians.values())) >= 3
