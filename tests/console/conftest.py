"""Console fixtures: the real app on the test's real database, clients signed in per role.

    def test_something(client_for, ministry, other_ministry, session):
        agent = client_for("agent")                     # signed in, in `ministry`
        stranger = client_for("agent", ministry=other_ministry)
        admin = client_for("admin")                     # DINUM: no ministry
        anonymous = client_for(None)
        response = agent.get("/console/procedures")
        response = agent.submit("/console/procedures/new", {"title": "…"})  # adds the CSRF token
        agent.user, agent.ministry, agent.csrf_token     # who, where, the session's token

Every client is a `StaffClient` (a Starlette TestClient that does not follow redirects, so
tests see 303s) signed in through the real login form. `csrf_from(html)` extracts a token.
After every request the client ends the test session's transaction (`session.rollback()`),
so the test then reads fresh rows; objects from factories reload on access.
Works on both backends (the `settings` fixture is parametrised by tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from sqlmodel import Session

from console.app import create_app
from retour.models import Ministry, StaffUser
from retour.settings import Settings
from tests.factories import make_ministry, make_user
from tests.mail import Inbox, smtp_server

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 but works with httpx; the warning is not ours to act on.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


class StaffClient(TestClient):
    user: StaffUser | None = None
    ministry: Ministry | None = None
    # The test's own session: its transaction is ended after every request, so that the
    # test reads what the app wrote (SQLite WAL keeps a snapshot per read transaction) and
    # its next write does not fail on a stale snapshot ("database is locked").
    test_session: Session | None = None

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.test_session is not None:
            self.test_session.rollback()
        try:
            return super().request(*args, **kwargs)
        finally:
            if self.test_session is not None:
                self.test_session.rollback()

    @property
    def csrf_token(self) -> str:
        # Any console page carries the token (the sign-out form, or the login form).
        page = self.get("/console/login") if self.user is None else self.get("/console/__csrf__")
        return csrf_from(page.text)

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form the way the browser does: with the session's CSRF token."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf_token}, **kwargs)


@pytest.fixture
def console_app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
def ministry(session: Session) -> Ministry:
    return make_ministry(session, slug="ministere-de-l-accueil", name="Ministère de l'Accueil")


@pytest.fixture
def other_ministry(session: Session) -> Ministry:
    return make_ministry(session, slug="ministere-voisin", name="Ministère Voisin")


def sign_in(client: StaffClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/console/login").text)
    return client.post(
        "/console/login", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def client_for(
    console_app: Any, session: Session, ministry: Ministry
) -> Iterator[Callable[..., StaffClient]]:
    with ExitStack() as stack:

        def make(
            role: str | None, ministry: Ministry | None = ministry, **overrides: Any
        ) -> StaffClient:
            client = stack.enter_context(
                StaffClient(console_app, base_url="http://testserver", follow_redirects=False)
            )
            client.test_session = session
            if role is None:
                return client
            user = make_user(
                session,
                role=role,
                ministry=None if role == "admin" else ministry,
                password=PASSWORD,
                **overrides,
            )
            response = sign_in(client, user.email)
            assert response.status_code == 303, response.text
            client.user = user
            client.ministry = None if role == "admin" else ministry
            return client

        yield make


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server for the test: (its inbox, its port)."""
    yield from smtp_server()


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=smtp[1])
