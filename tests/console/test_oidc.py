"""ProConnect sign-in against a real OpenID Connect provider (tests/oidc/provider.mjs).

The console runs in a TestClient at http://testserver; the provider is a real server, which
the tests drive as a browser would (its sign-in form, its cookies) with an httpx client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import Session, select

from console.app import create_app
from retour.models import AccessRequest, AuditEvent, Ministry, MinistryDomain, StaffUser
from retour.settings import Settings
from tests.console.conftest import StaffClient, csrf_from
from tests.factories import make_user
from tests.live import free_port
from tests.oidc.provider import OpenIDProvider

EMAIL = "claire.martin@accueil.gouv.fr"


@pytest.fixture
def oidc_settings(settings: Settings, oidc_provider: OpenIDProvider) -> Settings:
    return oidc_provider.settings_for(settings, public_url="http://testserver")


@pytest.fixture
def browser_http() -> Iterator[httpx.Client]:
    """The provider's side of the browser: its own cookies (the provider's session)."""
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


@pytest.fixture
def console(oidc_settings: Settings, session: Session) -> Iterator[StaffClient]:
    with StaffClient(
        create_app(oidc_settings), base_url="http://testserver", follow_redirects=False
    ) as client:
        client.test_session = session
        yield client


def start(console: StaffClient) -> str:
    response = console.get("/console/oidc/login")
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def callback(console: StaffClient, url: str) -> Any:
    parts = urlsplit(url)
    return console.get(f"{parts.path}?{parts.query}")


def sign_in_through_provider(
    console: StaffClient, provider: OpenIDProvider, http: httpx.Client, email: str = EMAIL
) -> Any:
    return callback(console, provider.sign_in(http, start(console), email))


def test_the_login_page_offers_proconnect(console: StaffClient) -> None:
    page = console.get("/console/login")
    assert page.status_code == 200
    assert 'href="/console/oidc/login"' in page.text
    assert 'name="password"' in page.text  # password sign-in stays available


def test_the_redirect_carries_state_nonce_and_a_pkce_challenge(
    console: StaffClient, oidc_provider: OpenIDProvider
) -> None:
    url = start(console)
    assert url.startswith(oidc_provider.issuer + "/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == ["http://testserver/console/oidc/callback"]
    assert "openid" in query["scope"][0].split()
    # Two attempts never share a state or nonce.
    again = parse_qs(urlsplit(start(console)).query)
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]


def test_an_account_is_matched_by_email_and_signed_in(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    user = make_user(
        session, role="agent", ministry=ministry, email="Claire.Martin@accueil.gouv.fr"
    )
    response = sign_in_through_provider(console, oidc_provider, browser_http)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"
    assert console.get("/console/").status_code == 200
    session.refresh(user)
    assert user.last_login_at is not None


def test_next_is_kept_through_the_provider(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    response = console.get("/console/oidc/login?next=/console/procedures")
    url = oidc_provider.sign_in(browser_http, response.headers["location"], EMAIL)
    assert callback(console, url).headers["location"] == "/console/procedures"


def test_a_forged_state_is_refused(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    url = oidc_provider.sign_in(browser_http, start(console), EMAIL)
    forged = url.replace("state=", "state=x")
    response = callback(console, forged)
    assert response.status_code == 400
    assert "n’a pas abouti" in response.text
    assert console.get("/console/").status_code == 303  # still signed out
    # The attempt is spent: the genuine callback afterwards is refused too.
    assert callback(console, url).status_code == 400


def test_a_callback_from_another_browser_is_refused(
    console: StaffClient,
    oidc_settings: Settings,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    """Login CSRF: an attacker's own callback URL, opened in the victim's browser."""
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    url = oidc_provider.sign_in(browser_http, start(console), EMAIL)
    with StaffClient(
        create_app(oidc_settings), base_url="http://testserver", follow_redirects=False
    ) as victim:
        assert callback(victim, url).status_code == 400
        assert victim.get("/console/").status_code == 303


def test_a_replayed_code_is_refused(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    first = oidc_provider.sign_in(browser_http, start(console), EMAIL)
    assert callback(console, first).status_code == 303
    console.post("/console/logout", data={"csrf_token": csrf_from(console.get("/console/").text)})
    # A new attempt (a valid state in the session), and the old code: the provider refuses it.
    new_state = parse_qs(urlsplit(start(console)).query)["state"][0]
    code = parse_qs(urlsplit(first).query)["code"][0]
    response = console.get("/console/oidc/callback", params={"code": code, "state": new_state})
    assert response.status_code == 400
    assert console.get("/console/").status_code == 303


@pytest.mark.parametrize(
    "flaw",
    [
        pytest.param("audience", id="wrong-audience"),
        pytest.param("expired", id="expired"),
        pytest.param("foreign-key", id="signature-by-another-key"),
        pytest.param("issuer", id="wrong-issuer"),
    ],
)
def test_a_flawed_id_token_signs_nobody_in(
    flaw: str,
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    url = oidc_provider.sign_in(browser_http, start(console), EMAIL)
    oidc_provider.tamper(flaw)
    response = callback(console, url)
    assert response.status_code == 400
    assert console.get("/console/").status_code == 303


def test_an_unknown_agent_of_a_registered_domain_gets_an_access_request(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
    client_for: Any,
) -> None:
    session.add(MinistryDomain(domain="accueil.gouv.fr", ministry_id=ministry.id))
    session.commit()
    response = sign_in_through_provider(console, oidc_provider, browser_http)
    assert response.status_code == 202
    assert "transmise à l’administrateur" in response.text
    assert console.get("/console/").status_code == 303  # a request is not an account
    assert session.exec(select(StaffUser).where(StaffUser.email == EMAIL)).first() is None
    # Signing in again keeps the one request.
    assert sign_in_through_provider(console, oidc_provider, browser_http).status_code == 202
    requests = session.exec(select(AccessRequest)).all()
    assert [(r.email, r.status, r.ministry_id, r.name) for r in requests] == [
        (EMAIL, "pending", ministry.id, "claire martin")
    ]

    manager = client_for("ministry_admin")
    page = manager.get("/console/users/access")
    assert EMAIL in page.text
    approved = manager.post(
        f"/console/users/access/{requests[0].id}/approve",
        data={"role": "agent", "csrf_token": csrf_from(page.text)},
    )
    assert approved.status_code == 303 and "fait=approuvee" in approved.headers["location"]
    account = session.exec(select(StaffUser).where(StaffUser.email == EMAIL)).one()
    assert (account.role, account.ministry_id, account.active) == ("agent", ministry.id, True)
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "access_request"))
    assert sorted(actions.all()) == ["approve", "create"]

    # Now ProConnect signs them in.
    response = sign_in_through_provider(console, oidc_provider, browser_http)
    assert response.status_code == 303
    assert console.get("/console/").status_code == 200


def test_an_agent_of_an_unregistered_domain_is_told_to_ask(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
) -> None:
    response = sign_in_through_provider(
        console, oidc_provider, browser_http, "someone@elsewhere.example.fr"
    )
    assert response.status_code == 403
    assert "Aucun ministère" in response.text
    assert session.exec(select(AccessRequest)).first() is None


def test_a_refused_request_stays_refused(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
    client_for: Any,
) -> None:
    session.add(MinistryDomain(domain="accueil.gouv.fr", ministry_id=ministry.id))
    session.commit()
    sign_in_through_provider(console, oidc_provider, browser_http)
    request = session.exec(select(AccessRequest)).one()
    manager = client_for("ministry_admin")
    manager.submit(f"/console/users/access/{request.id}/refuse")
    response = sign_in_through_provider(console, oidc_provider, browser_http)
    assert response.status_code == 403
    assert "refusée" in response.text


def test_a_deactivated_account_is_refused(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL, active=False)
    response = sign_in_through_provider(console, oidc_provider, browser_http)
    assert response.status_code == 403
    assert "désactivé" in response.text
    assert console.get("/console/").status_code == 303


def test_signing_out_ends_the_provider_session_too(
    console: StaffClient,
    oidc_provider: OpenIDProvider,
    browser_http: httpx.Client,
    session: Session,
    ministry: Ministry,
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    sign_in_through_provider(console, oidc_provider, browser_http)
    # While the provider's session lasts, a new sign-in goes straight back (no form).
    url = start(console)
    assert "/console/oidc/callback" in browser_http.get(url).headers["location"]
    response = console.post(
        "/console/logout", data={"csrf_token": csrf_from(console.get("/console/").text)}
    )
    assert response.status_code == 303
    end_session = response.headers["location"]
    assert end_session.startswith(oidc_provider.issuer + "/session/end?")
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/console/login"]
    assert query["id_token_hint"][0].count(".") == 2
    back = oidc_provider.sign_out(browser_http, end_session)
    assert back.startswith("http://testserver/console/login?state=")
    # The provider asks for credentials again.
    fresh = browser_http.get(start(console))
    assert fresh.status_code in (302, 303)
    assert "/interaction/" in fresh.headers["location"]
    signed_out_page = console.get(urlsplit(back).path + "?" + urlsplit(back).query)
    assert "Vous êtes déconnecté" in signed_out_page.text


def test_password_sign_in_can_be_turned_off(
    oidc_settings: Settings, session: Session, ministry: Ministry
) -> None:
    import dataclasses

    make_user(
        session,
        role="agent",
        ministry=ministry,
        email=EMAIL,
        password="correct horse battery staple",
    )
    settings = dataclasses.replace(oidc_settings, password_login=False)
    with StaffClient(
        create_app(settings), base_url="http://testserver", follow_redirects=False
    ) as client:
        page = client.get("/console/login")
        assert 'name="password"' not in page.text
        assert 'href="/console/oidc/login"' in page.text
        # A session and its CSRF token, as a page from before the setting changed gave them.
        with StaffClient(create_app(oidc_settings), base_url="http://testserver") as before:
            token = csrf_from(before.get("/console/login").text)
            client.cookies = before.cookies
        response = client.post(
            "/console/login",
            data={"email": EMAIL, "password": "correct horse battery staple", "csrf_token": token},
        )
        assert response.status_code == 403
        assert "mot de passe est désactivée" in response.text
        assert client.get("/console/").status_code == 303


def test_an_unreachable_provider_answers_503(settings: Settings) -> None:
    import dataclasses

    down = dataclasses.replace(
        settings,
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        oidc_client_id="retour",
        oidc_client_secret="secret",
        public_url="http://testserver",
    )
    with StaffClient(
        create_app(down), base_url="http://testserver", follow_redirects=False
    ) as client:
        response = client.get("/console/oidc/login")
        assert response.status_code == 503
        assert "ProConnect ne répond pas" in response.text


def test_without_oidc_settings_the_routes_do_not_exist(client_for: Any) -> None:
    anonymous = client_for(None)
    assert anonymous.get("/console/oidc/login").status_code == 404
    assert 'href="/console/oidc/login"' not in anonymous.get("/console/login").text


# --- Access requests and domains: who may decide ---------------------------------------------


def _pending(session: Session, ministry: Ministry, email: str = EMAIL) -> AccessRequest:
    request = AccessRequest(email=email, name="Claire", ministry_id=ministry.id)
    session.add(request)
    session.commit()
    session.refresh(request)
    return request


def test_another_ministry_cannot_see_or_decide_a_request(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    request = _pending(session, ministry)
    stranger = client_for("ministry_admin", ministry=other_ministry)
    assert EMAIL not in stranger.get("/console/users/access").text
    response = stranger.submit(f"/console/users/access/{request.id}/approve", {"role": "agent"})
    assert response.status_code == 404
    assert stranger.submit(f"/console/users/access/{request.id}/refuse").status_code == 404
    session.refresh(request)
    assert request.status == "pending"


def test_agents_and_viewers_cannot_decide(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    request = _pending(session, ministry)
    for role in ("agent", "viewer"):
        client = client_for(role)
        assert client.get("/console/users/access").status_code == 403
        response = client.submit(f"/console/users/access/{request.id}/approve", {"role": "agent"})
        assert response.status_code == 403


def test_an_approval_never_makes_a_dinum_admin(
    client_for: Any, session: Session, ministry: Ministry
) -> None:
    request = _pending(session, ministry)
    admin = client_for("admin")
    response = admin.submit(f"/console/users/access/{request.id}/approve", {"role": "admin"})
    assert "erreur=bad_role" in response.headers["location"]
    assert session.exec(select(StaffUser).where(StaffUser.email == EMAIL)).first() is None
    response = admin.submit(f"/console/users/access/{request.id}/approve", {"role": "viewer"})
    assert "fait=approuvee" in response.headers["location"]
    again = admin.submit(f"/console/users/access/{request.id}/refuse")
    assert "erreur=already_decided" in again.headers["location"]


def test_domains_belong_to_one_ministry(
    client_for: Any, session: Session, ministry: Ministry, other_ministry: Ministry
) -> None:
    manager = client_for("ministry_admin")
    response = manager.submit("/console/users/domains", {"domain": "@Accueil.GOUV.fr"})
    assert "fait=domaine" in response.headers["location"]
    assert session.get(MinistryDomain, "accueil.gouv.fr").ministry_id == ministry.id
    # A ministry admin's own ministry, whatever the form says.
    other = client_for("ministry_admin", ministry=other_ministry)
    response = other.submit(
        "/console/users/domains", {"domain": "accueil.gouv.fr", "ministry_id": ministry.id}
    )
    assert "erreur=domain_taken" in response.headers["location"]
    assert (
        other.submit("/console/users/domains", {"domain": "not a domain"})
        .headers["location"]
        .endswith("erreur=bad_domain")
    )
    # Nor can they remove another ministry's domain.
    removed = other.submit("/console/users/domains/remove", {"domain": "accueil.gouv.fr"})
    assert removed.status_code == 404
    assert (
        manager.submit("/console/users/domains/remove", {"domain": "accueil.gouv.fr"}).status_code
        == 303
    )
    assert session.get(MinistryDomain, "accueil.gouv.fr") is None
