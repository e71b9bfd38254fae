"""Signing in and out through the real form, on the real database."""

from __future__ import annotations

from tests.console.conftest import PASSWORD, csrf_from, sign_in  # noqa: F401


def test_login_page_is_french_with_a_form(client_for):
    client = client_for(None)
    response = client.get("/console/login")
    assert response.status_code == 200
    assert '<html lang="fr"' in response.text
    assert "Connexion" in response.text
    assert 'name="csrf_token"' in response.text


def test_sign_in_then_console_pages_know_the_user(client_for):
    agent = client_for("agent")
    page = agent.get("/console/nowhere")
    assert page.status_code == 404
    assert agent.user.email in page.text
    assert "Se déconnecter" in page.text
