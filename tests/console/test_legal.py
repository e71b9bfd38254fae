"""The pages every French public site must have."""

from __future__ import annotations


def test_accessibility_statement(client_for) -> None:
    response = client_for(None).get("/accessibilite")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    html = response.text
    assert "partiellement conforme" in html
    assert "RGAA" in html and "4.1" in html
    assert "axe-core" in html and "clavier" in html
    assert "Défenseur des droits" in html
    assert "mailto:" in html


def test_personal_data_page(client_for, settings) -> None:
    response = client_for(None).get("/donnees-personnelles")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    html = response.text
    assert "Aucun cookie" in html
    assert "adresse IP n’est pas conservée" in html
    assert "masquées avant tout enregistrement" in html
    assert f"{settings.contact_retention_days} jours" in html


def test_english_versions(client_for) -> None:
    for path in ("/accessibilite?lang=en", "/donnees-personnelles?lang=en"):
        response = client_for(None).get(path)
        assert response.status_code == 200
        assert '<html lang="en"' in response.text


def test_favicon_ico_is_served_without_a_cookie(client_for) -> None:
    # Browsers ask for /favicon.ico whatever the pages link: DSFR's icon, not a 404.
    response = client_for(None).get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO file signature
    assert "set-cookie" not in response.headers
