"""Personal data through the real ingest service: only masked text reaches the database,
the logs, error responses and exports; the categories masked are recorded."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from ingest.app import create_app
from retour.export import iter_feedback, write_csv, write_jsonl
from retour.models import Feedback, Procedure
from retour.settings import Settings
from tests.factories import make_procedure
from tests.live import serve_in_thread

ORIGIN = "https://www.example.gouv.fr"
# Raw values that must never be stored, logged or echoed, and the category of each.
RAW = {
    "jean.dupont@gmail.com": "email",
    "jean (at) orange . fr": "email",
    "06 12 34 56 78": "phone",
    "+33 7 12 34 56 78": "phone",
    "1 85 05 78 006 084 91": "nir",
    "FR76 3000 6000 0112 3456 7890 189": "iban",
    "4970 1012 3456 7893": "card",
    "AB-123-CD": "plate",
    "12 rue de la Paix": "address",
    "12/05/1980": "birthdate",
    "Jean Dupont": "name",
    "2024123456": "reference",
}
COMMENT = (
    "Bonjour, je m'appelle Jean Dupont, né le 12/05/1980. Dossier n° 2024123456 bloqué.\r\n"
    "Rappelez-moi au 06 12 34 56 78 ou au +33 7 12 34 56 78, ou écrivez à "
    "jean.dupont@gmail.com (ou jean (at) orange . fr).\u202e\n"
    "NIR 1 85 05 78 006 084 91, IBAN FR76 3000 6000 0112 3456 7890 189, "
    "carte 4970 1012 3456 7893, voiture AB-123-CD, j'habite 12 rue de la Paix.\n"
    "Le remboursement de 1 234 567 € du 03/06/2024 n'est jamais arrivé."
)
# Compact forms too: a leak of "0612345678" is as bad as one of "06 12 34 56 78".
NEEDLES = sorted({*RAW, *(value.replace(" ", "") for value in RAW)})


@pytest.fixture
def procedure(session: Session) -> Procedure:
    return make_procedure(session, origins=(ORIGIN,))


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with serve_in_thread(create_app(settings)) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.fixture
def body(client: httpx.Client, procedure: Procedure) -> dict[str, Any]:
    token = client.get(f"/api/v1/procedures/{procedure.id}/form").json()["token"]
    return {
        "procedure_id": procedure.id,
        "token": token,
        "client_id": str(uuid.uuid4()),
        "satisfaction": 1,
        "kind": "complaint",
        "comment": COMMENT,
        "contact_email": None,
        "page_url": f"{ORIGIN}/demarche/etape-3?email=jean.dupont@gmail.com#tel=0612345678",
        "locale": "fr",
        "website": "",
    }


def everything_stored(engine: Engine) -> str:
    """Every row of every table, as text."""
    dump = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                dump.append(repr(tuple(row)))
    return "\n".join(dump)


def leaks(haystack: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in haystack]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        for record in caplog.records
    )


def test_only_the_masked_comment_is_stored_and_categories_recorded(
    client: httpx.Client, body: dict[str, Any], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/v1/feedback", json=body)
    assert response.status_code == 202, response.text
    assert leaks(response.text) == []

    with Session(engine) as session:
        feedback = session.get(Feedback, response.json()["id"])
        assert feedback is not None
    assert feedback.pii_categories == " ".join(sorted(set(RAW.values())))
    assert "[téléphone masqué]" in feedback.comment
    assert "[numéro de sécurité sociale masqué]" in feedback.comment
    # What is not personal stays, so the feedback is still useful.
    assert "1 234 567 €" in feedback.comment and "03/06/2024" in feedback.comment
    assert "\r" not in feedback.comment and "\u202e" not in feedback.comment
    assert feedback.page_url == f"{ORIGIN}/demarche/etape-3"
    assert leaks(everything_stored(engine)) == []
    assert leaks(logged(caplog)) == []


def test_the_same_through_the_text_plain_path(
    client: httpx.Client, body: dict[str, Any], engine: Engine
) -> None:
    response = client.post(
        "/api/v1/feedback", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 202, response.text
    assert leaks(everything_stored(engine)) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"satisfaction": 7}, id="invalid-satisfaction"),
        pytest.param({"comment": COMMENT + " " + "x" * 2000}, id="comment-too-long"),
        pytest.param({"contact_email": "pas une adresse 06 12 34 56 78"}, id="invalid-contact"),
        pytest.param({"kind": "jean.dupont@gmail.com"}, id="pii-in-another-field"),
        pytest.param({"token": "forged"}, id="forged-token"),
    ],
)
def test_refusals_never_echo_personal_data(
    client: httpx.Client,
    body: dict[str, Any],
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    change: dict[str, Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/v1/feedback", json={**body, **change})
    assert response.status_code in (403, 422), response.text
    assert leaks(response.text) == []
    assert leaks(logged(caplog)) == []
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Feedback)).one() == 0


def test_the_hosted_form_stores_the_masked_comment(
    client: httpx.Client, procedure: Procedure, engine: Engine
) -> None:
    page = client.get(f"/r/{procedure.id}")
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    response = client.post(
        f"/r/{procedure.id}", data={**fields, "satisfaction": "1", "comment": COMMENT}
    )
    # Personal data found: shown to the citizen first, stored on the second Envoyer.
    assert response.status_code == 200, response.text
    assert leaks(everything_stored(engine)) == []
    again = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', response.text))
    response = client.post(
        f"/r/{procedure.id}", data={**again, "satisfaction": "1", "comment": COMMENT}
    )
    assert response.status_code == 303, response.text
    stored = everything_stored(engine)
    assert "[téléphone masqué]" in stored
    assert leaks(stored) == []


def test_exports_carry_only_masked_text(
    client: httpx.Client, body: dict[str, Any], engine: Engine
) -> None:
    assert client.post("/api/v1/feedback", json=body).status_code == 202
    csv_out, jsonl_out = io.StringIO(), io.StringIO()
    assert write_csv(iter_feedback(engine), csv_out) == 1
    assert write_jsonl(iter_feedback(engine), jsonl_out) == 1
    assert "[IBAN masqué]" in csv_out.getvalue()
    assert leaks(csv_out.getvalue()) == [] and leaks(jsonl_out.getvalue()) == []


def test_database_errors_never_carry_the_values_they_were_given(
    engine: Engine, procedure: Procedure
) -> None:
    # SQLAlchemy puts bound parameters in its exception text unless told not to; a refused
    # write would then put a contact email into the logs (retour.db: hide_parameters).
    row = {
        "client_id": str(uuid.uuid4()),
        "receipt": "ABCDE12345",
        "procedure_id": procedure.id,
        "ministry_id": procedure.ministry_id,
        "satisfaction": 1,
        "contact_email": "jean.dupont@gmail.com",
    }
    with Session(engine) as session:
        session.add(Feedback(**row))
        session.commit()
    with pytest.raises(Exception) as refused, Session(engine) as session:
        session.add(Feedback(**{**row, "receipt": "ZZZZZ99999"}))  # same client_id
        session.commit()
    assert leaks(str(refused.value)) == []
