"""Signing in and out through the real form, on the real database."""

from __future__ import annotations


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


def nav_links(html: str) -> list[str]:
    import re

    menu = html.split('id="navigation-principale"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'class="fr-nav__link" href="([^"]+)"', menu)


def test_navigation_follows_the_role(client_for):
    expected = {
        "admin": [
            "/console/",
            "/console/problems",
            "/console/procedures",
            "/console/users",
            "/console/api-keys",
            "/console/coverage",
        ],
        "ministry_admin": [
            "/console/",
            "/console/problems",
            "/console/procedures",
            "/console/users",
            "/console/api-keys",
        ],
        "agent": ["/console/", "/console/problems", "/console/procedures"],
        "viewer": ["/console/", "/console/problems", "/console/procedures"],
    }
    for role, links in expected.items():
        assert nav_links(client_for(role).get("/console/procedures").text) == links, role
    # The public menu, /suivi included: a citizen with a tracking code finds where to type it.
    assert nav_links(client_for(None).get("/console/login").text) == [
        "/",
        "/observatoire",
        "/open-data",
        "/suivi",
    ]


def test_current_page_is_marked_in_the_navigation(client_for):
    page = client_for("agent").get("/console/procedures").text
    assert 'href="/console/procedures" aria-current="page"' in page


def test_console_root_redirects_to_the_inbox(client_for):
    response = client_for(None).get("/console")
    assert response.status_code == 308 and response.headers["location"] == "/console/"


def test_errors_are_pages_for_people_and_json_for_programs(client_for):
    client = client_for("agent")
    page = client.get("/console/logout")
    assert page.status_code == 405 and "Méthode non autorisée" in page.text
    assert page.headers["content-type"].startswith("text/html")
    data = client.get("/console/logout", headers={"accept": "application/json"})
    assert data.status_code == 405
    assert data.json() == {
        "error": {"code": "method_not_allowed", "message": "Méthode non autorisée"}
    }
    missing = client.get("/console/nowhere.json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    english = client.get("/console/nowhere?lang=en")
    assert "Page not found" in english.text
