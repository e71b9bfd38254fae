"""`/suivi/{receipt}`: status in plain words, dates, the answer once published; 404 otherwise."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from retour.models import Feedback
from tests.console.public_data import ANSWER, MARKER, load_known
from tests.factories import make_feedback


@pytest.fixture
def known(session: Session):
    return load_known(session)


def test_answered_submission(client_for, known) -> None:
    response = client_for(None).get(f"/suivi/{known.receipt}")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "Résolu" in html or "Traité" in html
    assert ANSWER in html
    assert "Demande de passeport" in html
    assert "Reçu le" in html and "Pris en compte le" in html
    assert MARKER not in html  # the citizen's own text is not shown back


def test_new_submission_without_answer(client_for, known) -> None:
    html = client_for(None).get(f"/suivi/{known.new_receipt}").text
    assert "Statut\u202f: Reçu" in html
    assert "Aucune réponse publiée pour l’instant" in html


def test_receipt_typed_loosely_still_found(client_for, known) -> None:
    loose = known.new_receipt.replace("-", " ").lower()
    response = client_for(None).get(f"/suivi/{loose}")
    assert response.status_code == 200


def test_honeypot_looks_like_any_new_submission(client_for, session, known) -> None:
    from retour.receipts import new_receipt

    bot = make_feedback(session, honeypot=True, status="spam", receipt=new_receipt())
    html = client_for(None).get(f"/suivi/{bot.receipt}").text
    assert "Statut\u202f: Reçu" in html


@pytest.mark.parametrize("receipt", ["ZZZZZ-ZZZZZ", "pas-un-numero", "%00", "A" * 300])
def test_unknown_receipt_is_404(client_for, known, receipt: str) -> None:
    response = client_for(None).get(f"/suivi/{receipt}")
    assert response.status_code == 404
    assert "set-cookie" not in response.headers
    assert "<html" in response.text


def test_form_redirects_to_the_receipt(client_for, known) -> None:
    client = client_for(None)
    assert client.get("/suivi").status_code == 200
    response = client.get("/suivi", params={"numero": known.receipt.lower()})
    assert response.status_code == 303
    assert response.headers["location"] == f"/suivi/{known.receipt}"
    assert client.get("/suivi", params={"numero": "n'importe quoi"}).status_code == 400


def test_status_follows_triage(client_for, session, known) -> None:
    feedback = session.exec(select(Feedback).where(Feedback.receipt == known.new_receipt)).one()
    feedback.status = "in_progress"
    session.add(feedback)
    session.commit()
    assert "En cours de traitement" in client_for(None).get(f"/suivi/{known.new_receipt}").text


def test_answer_heading_is_spaced_from_the_steps(client_for, session) -> None:
    # QA #12: the heading sat flush against the list above it.
    from tests.console.public_data import load_known

    known = load_known(session)
    html = client_for(None).get(f"/suivi/{known.receipt}").text
    assert '<h2 class="fr-mt-4w">' in html
