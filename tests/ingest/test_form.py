"""GET /api/v1/procedures/{procedure_id}/form: labels in the right language and a token."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import Session

from retour.models import KINDS, Procedure
from retour.signing import FormTokens
from tests.factories import make_procedure


def test_form_gives_labels_choices_and_a_token_bound_to_the_procedure(
    client: httpx.Client, procedure: Procedure, settings: object
) -> None:
    response = client.get(f"/api/v1/procedures/{procedure.id}/form")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    form = response.json()
    assert form["procedure_id"] == procedure.id
    assert form["title"] == procedure.title
    assert form["button_label"] == "Je fais un retour"
    assert form["locale"] == "fr"
    assert form["labels"]["submit"] == "Envoyer"
    assert [choice["value"] for choice in form["satisfaction"]] == [1, 2, 3]
    assert [choice["value"] for choice in form["kinds"]] == list(KINDS)
    assert form["comment_max_length"] == 2000
    assert form["token_max_age"] == 7200
    tokens = FormTokens(settings.secret_key)  # type: ignore[attr-defined]
    tokens.check(form["token"], procedure.id)
    with pytest.raises(Exception, match="other-procedure"):
        tokens.check(form["token"], "autre-demarche")


@pytest.mark.parametrize(
    ("query", "accept_language", "locale", "submit"),
    [
        pytest.param("", "en-GB,en;q=0.9", "en", "Send", id="accept-language-en"),
        pytest.param("?lang=en", "fr-FR", "en", "Send", id="query-wins"),
        pytest.param("?lang=fr", "en", "fr", "Envoyer", id="query-fr"),
        pytest.param("?lang=de", "de-DE", "fr", "Envoyer", id="unknown-falls-back-to-french"),
    ],
)
def test_form_language(
    client: httpx.Client,
    procedure: Procedure,
    query: str,
    accept_language: str,
    locale: str,
    submit: str,
) -> None:
    response = client.get(
        f"/api/v1/procedures/{procedure.id}/form{query}",
        headers={"Accept-Language": accept_language},
    )
    form = response.json()
    assert form["locale"] == locale
    assert form["labels"]["submit"] == submit
    assert {choice["label"] for choice in form["kinds"]} != set(KINDS)


def test_custom_button_label(client: httpx.Client, session: Session) -> None:
    procedure = make_procedure(session, button_label="Votre avis sur la démarche")
    form = client.get(f"/api/v1/procedures/{procedure.id}/form").json()
    assert form["button_label"] == "Votre avis sur la démarche"


@pytest.mark.parametrize("procedure_id", ["demarche-inexistante", "bad%20id", "a" * 80])
def test_unknown_procedure_form_is_404(client: httpx.Client, procedure_id: str) -> None:
    response = client.get(f"/api/v1/procedures/{procedure_id}/form")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_procedure"


def test_archived_procedure_form_answers_as_usual(client: httpx.Client, session: Session) -> None:
    """A page still carrying an archived procedure's button: the dialog names it and works."""
    archived = make_procedure(session, active=False, title="Ancienne démarche")
    response = client.get(f"/api/v1/procedures/{archived.id}/form")
    assert response.status_code == 200
    form = response.json()
    assert (form["title"], form["archived"]) == ("Ancienne démarche", True)
    assert form["token"]
    active = make_procedure(session)
    assert client.get(f"/api/v1/procedures/{active.id}/form").json()["archived"] is False


def test_form_token_is_accepted_by_the_feedback_endpoint(
    client: httpx.Client, procedure: Procedure
) -> None:
    form = client.get(f"/api/v1/procedures/{procedure.id}/form").json()
    body = {
        "procedure_id": procedure.id,
        "token": form["token"],
        "client_id": "0b5c8f0e-2f0c-4a3e-9a57-5b2b9d1f9e11",
        "satisfaction": 3,
    }
    response = client.post(
        "/api/v1/feedback", content=json.dumps(body), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 202
