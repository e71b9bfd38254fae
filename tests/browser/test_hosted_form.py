"""The hosted form /r/{id} in Chromium with JavaScript off, axe on its pages, and /demo."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from retour.compose import create_app
from retour.settings import Settings
from tests.browser import widget_pages
from tests.browser.conftest import axe_violations
from tests.browser.widget_pages import HostSite, Service, snippet_page, stored, wait_for
from tests.factories import make_procedure
from tests.live import free_port, serve_in_thread

# The widget tests' fixtures: the service on the test's database, and a host site elsewhere.
backend = widget_pages.backend
host_site = widget_pages.host_site
service = widget_pages.service


def tick(page: Any, label: str) -> None:
    """Click a choice's label, as people do (DSFR draws its own radios and checkboxes)."""
    page.locator("label", has_text=label).first.click()


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Any]:
    # The hosted form forbids every script (CSP default-src 'none'); axe is injected around it.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    yield context.new_page()
    context.close()


def test_without_javascript_the_link_leads_to_the_hosted_form(
    no_js_page: Any, service: Service, host_site: HostSite
) -> None:
    page = no_js_page
    page.goto(host_site.add("/sans-js", snippet_page(service)))
    link = page.locator("a[data-retour]")
    assert page.locator("button[data-retour]").count() == 0
    link.click()
    page.wait_for_url(f"{service.url}/r/{service.procedure.id}")
    assert page.locator("h1").inner_text() == "Je fais un retour"

    # Nothing chosen and an answer asked for without an address: both errors, inline.
    tick(page, "Je souhaite recevoir une réponse")
    page.get_by_label("Votre message (facultatif)").fill("Impossible de joindre la photo.")
    page.get_by_role("button", name="Envoyer").click()
    alert = page.get_by_role("alert")
    assert "Votre retour n’a pas été envoyé" in alert.inner_text()
    assert page.title().startswith("Erreur\u202f: ")
    email = page.get_by_label("Votre adresse électronique (si vous souhaitez une réponse)")
    assert "Saisissez votre adresse électronique" in described_by(email)
    assert page.get_by_label("Votre message (facultatif)").input_value() == (
        "Impossible de joindre la photo."
    )
    assert stored(service.engine) == []

    page.locator("label[for=satisfaction-1]").click()
    tick(page, "Un dysfonctionnement")
    email.fill("jean.dupont@example.fr")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("heading", name="Merci pour votre retour !").wait_for()
    row = wait_for(lambda: stored(service.engine))[0]
    assert (row.satisfaction, row.kind, row.comment) == (
        1,
        "malfunction",
        "Impossible de joindre la photo.",
    )
    assert row.contact_email == "jean.dupont@example.fr"
    assert row.page_origin == host_site.url  # from the Referer the browser sent
    assert row.receipt in page.locator(".retour-receipt").inner_text()
    assert page.get_by_role("link", name="Suivre votre retour").get_attribute("href") == (
        f"/suivi/{row.receipt}"
    )
    assert page.context.cookies() == []


def described_by(field: Any) -> str:
    """The text a screen reader reads after the field's name: what its aria-describedby names,
    without what is hidden (innerText leaves out display: none)."""
    return str(
        field.evaluate(
            """el => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
                .map(id => document.getElementById(id)).filter(Boolean)
                .map(node => node.innerText).join(' ')"""
        )
    )


def test_errors_go_away_once_fixed_without_a_script(no_js_page: Any, service: Service) -> None:
    page = no_js_page
    page.goto(f"{service.url}/r/{service.procedure.id}")
    tick(page, "Je souhaite recevoir une réponse")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("alert").wait_for()
    rating = page.locator("#satisfaction-messages .fr-message--error")
    email = page.locator("#contact-email")
    email_error = page.locator("#contact-email-messages .fr-error-text")
    assert rating.is_visible() and email_error.is_visible()
    legend = page.locator("#satisfaction-legend")
    red = legend.evaluate("el => getComputedStyle(el).color")

    page.locator("label[for=satisfaction-2]").click()
    assert not rating.is_visible()
    assert legend.evaluate("el => getComputedStyle(el).color") != red
    assert "Indiquez comment" not in page.locator("#satisfaction").evaluate(
        "el => document.getElementById('satisfaction-messages').innerText"
    )
    # The browser judges a field once the citizen leaves it (:user-valid), as people expect.
    email.fill("jean.dupont@example")  # still not an address the service accepts
    email.press("Tab")
    assert email_error.is_visible()
    email.fill("jean.dupont@example.fr")
    email.press("Tab")
    assert not email_error.is_visible()
    assert "Saisissez" not in described_by(email)
    assert email.get_attribute("aria-invalid") is None


def test_back_after_an_error_shows_the_form_again(no_js_page: Any, service: Service) -> None:
    """No « Confirm form resubmission »: the failed POST's page is one to go back to."""
    page = no_js_page
    page.goto(f"{service.url}/r/{service.procedure.id}")
    page.get_by_label("Votre message (facultatif)").fill("Un mot sans note.")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("alert").wait_for()
    page.locator("label[for=satisfaction-3]").click()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("heading", name="Merci pour votre retour !").wait_for()
    page.go_back()
    assert page.get_by_label("Votre message (facultatif)").input_value() == "Un mot sans note."
    page.go_back()
    assert page.locator("h1").inner_text() == "Je fais un retour"
    assert len(stored(service.engine)) == 1


def test_links_back_to_the_procedure(no_js_page: Any, service: Service) -> None:
    page = no_js_page
    page.goto(f"{service.url}/r/{service.procedure.id}")
    back = page.get_by_role("link", name="Revenir à la démarche sans envoyer de retour")
    assert back.get_attribute("href") == service.procedure.url
    page.locator("label[for=satisfaction-3]").click()
    page.get_by_role("button", name="Envoyer").click()
    link = page.get_by_role("link", name=f"Revenir à la démarche « {service.procedure.title} »")
    assert link.get_attribute("href") == service.procedure.url


def test_the_email_field_shows_once_an_answer_is_wanted(no_js_page: Any, service: Service) -> None:
    page = no_js_page
    page.goto(f"{service.url}/r/{service.procedure.id}")
    email = page.locator("#contact-email")
    assert not email.is_visible()
    tick(page, "Je souhaite recevoir une réponse")
    assert email.is_visible()


def test_axe_finds_no_violation_on_the_hosted_form(axe_page: Any, service: Service) -> None:
    page = axe_page
    page.goto(f"{service.url}/r/{service.procedure.id}")
    assert axe_violations(page) == []
    tick(page, "Je souhaite recevoir une réponse")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []
    page.locator("label[for=satisfaction-3]").click()
    tick(page, "Je souhaite recevoir une réponse")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_role("heading", name="Merci pour votre retour !").wait_for()
    assert axe_violations(page) == []
    page.goto(f"{service.url}/r/{service.procedure.id}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(page) == []


def test_the_hosted_form_works_at_320_pixels(browser: Any, service: Service) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 568}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{service.url}/r/{service.procedure.id}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        context.close()


def test_demo_page_shows_the_button_in_one_click(
    browser: Any, settings: Settings, session: Session
) -> None:
    make_procedure(session, id="demo-carte-grise", title="Certificat d'immatriculation")
    port = free_port()
    settings = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}")
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        with serve_in_thread(create_app(settings), port=port):
            # localhost: another origin than the snippet's 127.0.0.1, as on a ministry's site.
            page.goto(f"http://localhost:{port}/demo")
            assert page.locator("h1").inner_text() == "Certificat d'immatriculation"
            page.locator("button[data-retour]").click()
            page.get_by_role("dialog", name="Je fais un retour").wait_for()
            assert axe_violations(page) == []
            page.goto(f"http://localhost:{port}/demo?procedure=no-such-thing")
            assert page.locator("h1").inner_text() == "Aucune démarche à montrer"
    finally:
        context.close()
