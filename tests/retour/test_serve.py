"""`retour serve`: without RETOUR_PUBLIC_URL, the snippets point at the address it serves."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from retour.cli import served_url
from retour.settings import Settings, is_configured
from tests.factories import make_ministry, make_procedure, make_user
from tests.live import free_port, serve_in_process

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("0.0.0.0", 8001, "http://127.0.0.1:8001"),
        ("::", 8001, "http://127.0.0.1:8001"),
        ("retour.local", 80, "http://retour.local:80"),
        ("::1", 8000, "http://[::1]:8000"),
    ],
)
def test_served_url(host: str, port: int, expected: str) -> None:
    assert served_url(host, port) == expected


def test_public_url_is_configured_in_the_environment_or_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    assert not is_configured("RETOUR_PUBLIC_URL", {}, dotenv)
    assert is_configured("RETOUR_PUBLIC_URL", {"RETOUR_PUBLIC_URL": "https://a.gouv.fr"}, dotenv)
    dotenv.write_text("# comment\nRETOUR_PUBLIC_URL=https://b.gouv.fr\n")
    assert is_configured("RETOUR_PUBLIC_URL", {}, dotenv)
    assert not is_configured("RETOUR_PUBLIC_URL", {}, None)


def test_serve_on_another_port_writes_snippets_for_that_port(
    settings: Settings, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("RETOUR_PUBLIC_URL", raising=False)
    ministry = make_ministry(session, slug="ministere-du-port", name="Ministère du Port")
    make_procedure(session, id="quai", title="Réserver un quai", ministry_id=ministry.id)
    manager = make_user(session, role="ministry_admin", ministry=ministry, password=PASSWORD)
    session.commit()
    port = free_port()
    env = {"RETOUR_DATABASE_URL": settings.database_url, "RETOUR_SECRET_KEY": settings.secret_key}
    with (
        serve_in_process(env, port=port) as (server, _process),
        httpx.Client(base_url=server.url) as client,
    ):
        login = client.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token is not None
        signed_in = client.post(
            "/console/login",
            data={"email": manager.email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert signed_in.status_code == 303, signed_in.text
        page = client.get("/console/procedures/quai").text
    assert f"http://127.0.0.1:{port}/r/quai" in page
    assert f"http://127.0.0.1:{port}/widget.js" in page
    assert ":8000/" not in page
