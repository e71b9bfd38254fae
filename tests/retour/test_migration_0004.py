"""Migration 0004 on a database that already holds submissions: unknown origins become NULL,
the rejection reason appears, and 0002's triggers and full-text index keep working."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from retour.db import make_engine
from retour.migrate import alembic_config, upgrade
from retour.settings import Settings
from tests.conftest import TEST_SECRET

ROWS = [
    # (client_id, receipt, page_origin, origin_registered)
    ("00000000-0000-7000-8000-000000000001", "AAAAA11111", "https://www.example.gouv.fr", 1),
    ("00000000-0000-7000-8000-000000000002", "AAAAA22222", "https://copie.example.org", 0),
    ("00000000-0000-7000-8000-000000000003", "AAAAA33333", None, 0),
]


def _fill(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ministry (slug, name, created_at) VALUES "
                "('m', 'Ministère', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO procedure (id, title, ministry_id, url, description, online, active,"
                " created_at, updated_at) VALUES ('p', 'Démarche', 1, 'https://www.example.gouv.fr',"
                " '', TRUE, TRUE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for client_id, receipt, origin, registered in ROWS:
            connection.execute(
                text(
                    "INSERT INTO feedback (client_id, receipt, procedure_id, ministry_id,"
                    " received_at, satisfaction, comment, pii_categories, page_origin,"
                    " origin_registered, honeypot, locale, status, updated_at) VALUES"
                    " (:c, :r, 'p', 1, CURRENT_TIMESTAMP, 2, 'le bouton étape', '', :o, :reg,"
                    " FALSE, 'fr', 'new', CURRENT_TIMESTAMP)"
                ),
                {"c": client_id, "r": receipt, "o": origin, "reg": bool(registered)},
            )


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_upgrade_keeps_the_rows_and_makes_unknown_origins_null(tmp_path: Path) -> None:
    engine = make_engine(
        Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", secret_key=TEST_SECRET)
    )
    upgrade(engine, "0003")
    _fill(engine)
    upgrade(engine)
    with engine.begin() as connection:
        flags = connection.execute(
            text("SELECT receipt, origin_registered FROM feedback ORDER BY receipt")
        ).all()
        assert [(r, None if flag is None else bool(flag)) for r, flag in flags] == [
            ("AAAAA11111", True),
            ("AAAAA22222", False),
            ("AAAAA33333", None),
        ]
        # 0002's triggers survived: search and the per-status counts follow the rows.
        found = connection.execute(
            text("SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH 'etape'")
        ).all()
        assert len(found) == 3
        connection.execute(
            text(
                "UPDATE feedback SET status = 'rejected',"
                " rejection_reason = 'Hors sujet' WHERE receipt = 'AAAAA33333'"
            )
        )
        counts = dict(
            connection.execute(text("SELECT status, count FROM feedback_status_count")).all()
        )
        assert counts == {"new": 2, "rejected": 1}
        assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    columns = {c["name"]: c for c in inspect(engine).get_columns("feedback")}
    assert columns["origin_registered"]["nullable"] is True
    assert columns["rejection_reason"]["nullable"] is True
    engine.dispose()


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    """On each backend: back to 0003 (unknown becomes unregistered again), then forward."""
    _fill(engine)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE feedback SET origin_registered = NULL WHERE page_origin IS NULL")
        )
    _migrate(engine, "0003", down=True)
    columns = {c["name"]: c for c in inspect(engine).get_columns("feedback")}
    assert columns["origin_registered"]["nullable"] is False
    assert "rejection_reason" not in columns
    _migrate(engine, "head")
    with engine.connect() as connection:
        unknown = connection.execute(
            text("SELECT count(*) FROM feedback WHERE origin_registered IS NULL")
        ).scalar_one()
    assert unknown == 1
