"""Ingest fixtures: the real app on the test's own database, and a procedure to write to."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ingest.app import create_app
from retour.models import Feedback, Procedure
from retour.settings import Settings
from tests.factories import make_procedure
from tests.live import serve_in_thread

ORIGIN = "https://www.example.gouv.fr"


@pytest.fixture
def procedure(session: Session) -> Procedure:
    return make_procedure(session, origins=(ORIGIN,))


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    """A real uvicorn server on the test's database (starlette's TestClient is deprecated here)."""
    with serve_in_thread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.fixture
def token(client: httpx.Client, procedure: Procedure) -> str:
    response = client.get(f"/api/v1/procedures/{procedure.id}/form")
    assert response.status_code == 200
    return str(response.json()["token"])


@pytest.fixture
def submission(procedure: Procedure, token: str) -> Callable[..., dict[str, Any]]:
    """A valid submission body; keyword arguments override fields (None removes one)."""

    def build(**overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "procedure_id": procedure.id,
            "token": token,
            "client_id": str(uuid.uuid4()),
            "satisfaction": 1,
            "kind": "malfunction",
            "comment": "Le bouton Valider ne fait rien à l'étape 3.",
            "contact_email": None,
            "page_url": f"{ORIGIN}/demarche/etape-3",
            "locale": "fr",
            "website": "",
        }
        body.update(overrides)
        return body

    return build


def stored_feedback(engine: Engine) -> list[Any]:
    """Every stored submission, read afresh."""
    with engine.connect() as connection:
        return list(connection.execute(select(Feedback.__table__).order_by(text("id"))))  # type: ignore[attr-defined]
