"""The dialog's accessibility in Chromium: axe, keyboard walk, focus trap, errors, layout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import widget_pages
from tests.browser.conftest import axe_violations
from tests.browser.widget_pages import (
    HostSite,
    Service,
    fill_and_send,
    focused,
    open_dialog,
    snippet_page,
    stored,
    wait_for,
)

# Fixtures: the service on the test's database (SQLite), and the host site on another origin.
backend = widget_pages.backend
host_site = widget_pages.host_site
service = widget_pages.service


def test_axe_finds_no_violation_with_the_dialog_open(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/axe", snippet_page(service)))
    assert axe_violations(page) == []
    # The error state, then the thank-you.
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Indiquez comment s’est passée votre démarche.").wait_for()
    assert axe_violations(page) == []
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    assert axe_violations(page) == []


def test_a_keyboard_only_walk_from_the_top_of_the_page(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.goto(host_site.add("/clavier", snippet_page(service)))
    page.locator("button[data-retour]").wait_for()
    page.keyboard.press("Tab")
    assert focused(page) == "a:Aller au contenu"
    page.keyboard.press("Tab")
    assert focused(page) == "button:Je fais un retour"
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    assert focused(page) == "h2#title"
    page.keyboard.press("Tab")
    assert focused(page) == "input#satisfaction-3"
    page.keyboard.press("ArrowRight")  # moves to « Moyennement » and checks it
    assert focused(page) == "input#satisfaction-2"
    page.keyboard.press("Tab")
    assert focused(page) == "input#kind-complaint"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused(page) == "textarea#comment"
    page.keyboard.type("Trop d'étapes pour une simple demande.")
    page.keyboard.press("Tab")
    assert focused(page) == "input#wants-answer"
    page.keyboard.press("Space")  # reveals the email field, right after, without moving focus
    assert focused(page) == "input#wants-answer"
    page.keyboard.press("Tab")
    assert focused(page) == "input#email"
    page.keyboard.type("jean.dupont@example.fr")
    page.keyboard.press("Tab")
    assert focused(page) == "button:Envoyer"
    page.keyboard.press("Enter")
    page.get_by_text("Merci pour votre retour !").wait_for()
    assert focused(page) == "h2#title"
    row = wait_for(lambda: stored(service.engine))[0]
    assert (row.satisfaction, row.kind) == (2, "complaint")
    assert row.comment == "Trop d'étapes pour une simple demande."
    assert row.contact_email == "jean.dupont@example.fr"
    page.keyboard.press("Escape")
    assert focused(page) == "button:Je fais un retour"


def test_focus_stays_in_the_dialog(page: Any, service: Service, host_site: HostSite) -> None:
    open_dialog(page, host_site.add("/piege", snippet_page(service)))
    page.keyboard.press("Shift+Tab")
    assert focused(page) == "button:Envoyer"  # from the title back round to the last control
    page.keyboard.press("Tab")
    assert focused(page) == "button:Fermer"
    seen = set()
    for _ in range(25):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "RETOUR-DIALOG"
        seen.add(focused(page))
    assert {"button:Fermer", "textarea#comment", "button:Envoyer"} <= seen
    for _ in range(25):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.tagName") == "RETOUR-DIALOG"


def test_escape_closes_and_focus_returns_to_the_button(
    page: Any, service: Service, host_site: HostSite
) -> None:
    dialog = open_dialog(page, host_site.add("/echap", snippet_page(service)))
    page.locator("retour-dialog textarea").fill("Un début de message")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert focused(page) == "button:Je fais un retour"
    # Reopened: what was typed is still there.
    page.locator("button[data-retour]").click()
    assert page.locator("retour-dialog textarea").input_value() == "Un début de message"
    page.get_by_role("button", name="Fermer").click()
    dialog.wait_for(state="hidden")
    assert focused(page) == "button:Je fais un retour"


def test_errors_are_announced_and_tied_to_their_field(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/erreurs", snippet_page(service)))
    page.get_by_label("Je souhaite recevoir une réponse").check()
    page.get_by_label("Votre adresse électronique").fill("jean@")
    page.get_by_role("button", name="Envoyer").click()
    first = page.get_by_label("Bien", exact=True)
    assert focused(page) == "input#satisfaction-3"
    assert first.get_attribute("aria-invalid") == "true"
    assert first.get_attribute("aria-describedby") == "satisfaction-error"
    assert (
        page.locator("retour-dialog #satisfaction-error").inner_text()
        == "Indiquez comment s’est passée votre démarche."
    )
    email = page.get_by_label("Votre adresse électronique")
    assert email.get_attribute("aria-invalid") == "true"
    assert "email-error" in (email.get_attribute("aria-describedby") or "")
    assert "adresse électronique valide" in page.locator("retour-dialog #email-error").inner_text()
    assert stored(service.engine) == []


def test_each_error_goes_once_its_field_is_valid(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/erreurs-corrigees", snippet_page(service)))
    page.get_by_label("Je souhaite recevoir une réponse").check()
    page.get_by_role("button", name="Envoyer").click()
    rating_error = page.locator("retour-dialog #satisfaction-error")
    email_error = page.locator("retour-dialog #email-error")
    email = page.get_by_label("Votre adresse électronique")
    assert rating_error.is_visible() and email_error.is_visible()

    page.get_by_label("Mal", exact=True).check()
    assert not rating_error.is_visible()
    for name in ("Bien", "Moyennement", "Mal"):
        assert page.get_by_label(name, exact=True).get_attribute("aria-invalid") is None
    assert email_error.is_visible()  # the other field is still wrong

    email.fill("jean.dupont@")
    assert "adresse électronique valide" in email_error.inner_text()  # follows what is typed
    assert email.get_attribute("aria-invalid") == "true"
    email.fill("jean.dupont@example.fr")
    assert not email_error.is_visible()
    assert email.get_attribute("aria-invalid") is None
    assert stored(service.engine) == []  # nothing sent before Envoyer


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(320, 568, id="320px"),
        # A 1280 × 800 screen at 200 % zoom lays pages out in 640 × 400 CSS pixels.
        pytest.param(640, 400, id="zoom-200"),
    ],
)
def test_usable_narrow_zoomed_and_without_motion(
    browser: Any, service: Service, host_site: HostSite, width: int, height: int
) -> None:
    url = host_site.add("/mobile", snippet_page(service))
    viewport = {"width": width, "height": height}
    context = browser.new_context(viewport=viewport, reduced_motion="reduce")
    page = context.new_page()
    try:
        dialog = open_dialog(page, url)
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        no_overflow = "(el) => el.scrollWidth <= el.clientWidth"
        assert dialog.evaluate(no_overflow)
        send = page.get_by_role("button", name="Envoyer")
        send.scroll_into_view_if_needed()
        send_box = send.bounding_box()
        assert send_box["x"] + send_box["width"] <= width
        assert dialog.evaluate("(el) => getComputedStyle(el).animationName") == "none"
        fill_and_send(page)
        page.get_by_text("Merci pour votre retour !").wait_for()
    finally:
        context.close()


def test_the_dialog_is_animated_only_when_motion_is_welcome(
    page: Any, service: Service, host_site: HostSite
) -> None:
    dialog = open_dialog(page, host_site.add("/motion", snippet_page(service)))
    assert dialog.evaluate("(el) => getComputedStyle(el).animationName") == "retour-in"


def test_personal_data_is_pointed_out_while_typing_and_never_blocks(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/donnees", snippet_page(service)))
    comment = page.locator("retour-dialog textarea")
    notice = page.locator("retour-dialog #comment-pii")
    assert notice.get_attribute("aria-live") == "polite"
    assert "comment-pii" in (comment.get_attribute("aria-describedby") or "")
    comment.press_sequentially("Rappelez-moi au 06 12 34 56 78 ou à jean.dupont@example.fr")
    page.wait_for_function(
        "() => document.querySelector('retour-dialog').shadowRoot"
        ".getElementById('comment-pii').textContent.includes('téléphone')"
    )
    text = notice.inner_text()
    assert "un numéro de téléphone et une adresse électronique" in text or (
        "une adresse électronique et un numéro de téléphone" in text
    )
    # Two kinds of data: the notice agrees in number.
    assert "Ces informations seront masquées" in text and "ne les verra pas" in text
    assert "Je souhaite recevoir une réponse" in text
    assert focused(page) == "textarea#comment"  # announced, not focused
    # Asking for an answer: no need to point at the contact email any more.
    page.get_by_label("Je souhaite recevoir une réponse").check()
    page.wait_for_function(
        "() => !document.querySelector('retour-dialog').shadowRoot"
        ".getElementById('comment-pii').textContent.includes('cochez')"
    )
    page.get_by_label("Votre adresse électronique").fill("jean.dupont@example.fr")
    page.get_by_label("Bien", exact=True).check()
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Merci pour votre retour !").wait_for()
    row = wait_for(lambda: stored(service.engine))[0]
    assert row.contact_email == "jean.dupont@example.fr"


def test_the_notice_goes_away_when_the_data_does(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/donnees-2", snippet_page(service)))
    comment = page.locator("retour-dialog textarea")
    notice = page.locator("retour-dialog #comment-pii")
    comment.press_sequentially("Mon numéro : 06 12 34 56 78")
    page.wait_for_function(
        "() => document.querySelector('retour-dialog').shadowRoot"
        ".getElementById('comment-pii').textContent !== ''"
    )
    comment.fill("Mon numéro, je ne le donne pas.")
    comment.press("End")
    page.wait_for_function(
        "() => document.querySelector('retour-dialog').shadowRoot"
        ".getElementById('comment-pii').textContent === ''"
    )
    assert notice.inner_text() == ""


def test_keyboard_focus_is_always_visible(page: Any, service: Service, host_site: HostSite) -> None:
    open_dialog(page, host_site.add("/focus-visible", snippet_page(service)))
    outline = """() => {
        let el = document.activeElement;
        while (el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        const style = getComputedStyle(el);
        return [style.outlineStyle, style.outlineWidth, style.outlineColor];
    }"""
    seen = set()
    for _ in range(14):
        page.keyboard.press("Tab")
        seen.add(focused(page).split("#")[0].split(":")[0])
        assert page.evaluate(outline) == ["solid", "2px", "rgb(10, 118, 246)"], focused(page)
    assert {"button", "input", "textarea"} <= seen
