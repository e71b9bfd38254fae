"""The console process erases contact emails past their retention by itself."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlmodel import Session

import console.background
from console.app import create_app
from retour.models import Feedback
from retour.settings import Settings
from tests.console.conftest import TestClient
from tests.factories import make_feedback


def test_the_console_lifespan_purges_expired_contact_emails(
    settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_feedback(
        session,
        contact_email="usager@example.fr",
        received_at=dt.datetime.now(dt.UTC)
        - dt.timedelta(days=settings.contact_retention_days + 1),
    )
    recent = make_feedback(session, contact_email="autre@example.fr")
    monkeypatch.setattr(console.background, "PURGE_FIRST_DELAY", 0.0)

    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            session.rollback()  # a fresh snapshot: SQLite WAL readers see their own
            if session.get(Feedback, old.id).contact_email is None:  # type: ignore[union-attr]
                break
            time.sleep(0.05)

    session.rollback()  # a fresh snapshot: SQLite WAL readers see their own
    assert session.get(Feedback, old.id).contact_email is None  # type: ignore[union-attr]
    assert session.get(Feedback, recent.id).contact_email == "autre@example.fr"  # type: ignore[union-attr]
