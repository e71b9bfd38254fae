"""ProConnect sign-in in Chromium, keyboard only, against the real test provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console.app import create_app
from retour.models import MinistryDomain
from tests.browser.conftest import axe_violations
from tests.browser.test_console_login import tab_to
from tests.factories import make_ministry, make_user
from tests.live import free_port, serve_in_thread

EMAIL = "claire.martin@accueil.gouv.fr"


@pytest.fixture
def live(settings: Any, oidc_provider: Any) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    configured = oidc_provider.settings_for(settings, public_url=url)
    with serve_in_thread(create_app(configured), port=port) as server:
        yield server.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # axe-core is injected as an inline script, which the console's CSP refuses.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def ministry(session: Any) -> Any:
    return make_ministry(session, slug="ministere-de-l-accueil", name="Ministère de l'Accueil")


def sign_in_at_the_provider(page: Any, email: str) -> None:
    page.wait_for_selector("#login")
    page.focus("#login")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("any password")
    page.keyboard.press("Enter")


def test_sign_in_and_out_through_proconnect_with_the_keyboard(
    page: Any, live: str, session: Any, ministry: Any, oidc_provider: Any
) -> None:
    make_user(session, role="agent", ministry=ministry, email=EMAIL)
    page.goto(f"{live}/console/login?next=/console/procedures")
    assert axe_violations(page) == []
    tab_to(page, "proconnect")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    sign_in_at_the_provider(page, EMAIL)
    page.wait_for_url(f"{live}/console/procedures")
    assert EMAIL in page.locator("#compte").inner_text()

    page.focus("form[action='/console/logout'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{oidc_provider.issuer}/session/end**")
    page.keyboard.press("Enter")  # the provider's "Yes, sign me out" has the focus
    page.wait_for_url(f"{live}/console/login?state=**")
    assert "Vous êtes déconnecté" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    # Signed out at the provider too: ProConnect asks for the email again.
    page.click("#proconnect")
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    assert page.locator("#login").is_visible()


def test_an_unknown_agent_sees_that_the_request_is_sent(
    page: Any, live: str, session: Any, ministry: Any, oidc_provider: Any
) -> None:
    session.add(MinistryDomain(domain="accueil.gouv.fr", ministry_id=ministry.id))
    session.commit()
    page.goto(f"{live}/console/login")
    page.click("#proconnect")
    sign_in_at_the_provider(page, "nouvel.agent@accueil.gouv.fr")
    page.wait_for_url(f"{live}/console/oidc/callback**")
    assert "transmise à l’administrateur" in page.locator("main").inner_text()
    assert axe_violations(page) == []
