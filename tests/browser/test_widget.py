"""The widget from a ministry's page on another origin: the button, the dialog, sending."""

from __future__ import annotations

from typing import Any

from tests.browser import widget_pages
from tests.browser.widget_pages import (
    TITLE,
    HostSite,
    Service,
    fill_and_send,
    focused,
    impressions,
    snippet_page,
    stored,
    wait_for,
)

# Fixtures: the service on the test's database (SQLite), and the host site on another origin.
backend = widget_pages.backend
host_site = widget_pages.host_site
service = widget_pages.service


def test_dialog_opens_from_a_host_page_on_another_origin(
    page: Any, service: Service, host_site: HostSite
) -> None:
    url = host_site.add("/demarche", snippet_page(service))
    assert not url.startswith(service.url)
    page.goto(url)
    button = page.locator("button[data-retour]")
    assert button.inner_text() == "Je fais un retour"
    assert button.get_attribute("class") == "ministry-button"  # the ministry's own styles apply
    assert page.locator("a[data-retour]").count() == 0
    # One view per page load.
    assert wait_for(lambda: impressions(service.engine).get("view") == 1)

    button.click()
    dialog = page.get_by_role("dialog", name="Je fais un retour")
    dialog.wait_for(state="visible")
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.evaluate("document.querySelector('retour-dialog').shadowRoot.mode") == "open"
    assert focused(page) == "h2#title"
    page.get_by_text(f"Démarche : {TITLE}").wait_for()
    assert wait_for(lambda: impressions(service.engine).get("open") == 1)

    fill_and_send(page)
    status = page.get_by_role("status")
    status.get_by_text("Votre code de suivi").wait_for()
    row = wait_for(lambda: stored(service.engine))[0]
    assert (row.satisfaction, row.kind, row.locale) == (2, "malfunction", "fr")
    assert row.page_url == f"{host_site.url}/demarche" and row.origin_registered
    assert row.receipt in status.inner_text()
    link = status.get_by_role("link", name="Suivre votre retour")
    assert link.get_attribute("href") == f"{service.url}/suivi/{row.receipt}"
    assert impressions(service.engine)["view"] == 1
    assert page.context.cookies() == []


def test_ministries_can_change_the_text(page: Any, service: Service, host_site: HostSite) -> None:
    page.goto(host_site.add("/texte", snippet_page(service, label="Donnez votre avis")))
    assert page.locator("button[data-retour]").inner_text() == "Donnez votre avis"
    body = snippet_page(service).replace(
        'data-retour="', 'data-retour-label="Votre avis compte" data-retour="'
    )
    page.goto(host_site.add("/label", body))
    assert page.locator("button[data-retour]").inner_text() == "Votre avis compte"


def test_the_characters_left_agree_in_number(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.goto(host_site.add("/compteur", snippet_page(service)))
    page.locator("button[data-retour]").click()
    comment = page.locator("retour-dialog textarea")
    count = page.locator("retour-dialog #comment-count")
    assert count.inner_text() == "Il reste 2\u202f000 caractères"
    comment.fill("a" * 1999)
    assert count.inner_text() == "Il reste 1 caractère"
    comment.fill("a" * 2000)
    assert count.inner_text() == "Il reste 0 caractère"
    page.goto(host_site.add("/counter", snippet_page(service, lang="en", label="")))
    page.locator("button[data-retour]").click()
    comment.fill("a" * 1999)
    assert count.inner_text() == "1 character left"
    comment.fill("a" * 1998)
    assert count.inner_text() == "2 characters left"


def test_an_english_page_gets_an_english_dialog(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.goto(host_site.add("/en", snippet_page(service, lang="en-GB", label="")))
    button = page.locator("button[data-retour]")
    assert button.inner_text() == "Give feedback"
    button.click()
    page.get_by_role("dialog", name="Give feedback").wait_for()
    page.get_by_label("Well", exact=True).check()
    page.locator("retour-dialog textarea").fill("Clear and quick.")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thank you for your feedback!").wait_for()
    row = wait_for(lambda: stored(service.engine))[0]
    assert (row.satisfaction, row.locale) == (3, "en")


def test_if_the_dialog_cannot_load_the_button_opens_the_hosted_form(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.route("**/dialog.js", lambda route: route.abort())  # e.g. a filtering proxy
    page.goto(host_site.add("/repli", snippet_page(service)))
    page.locator("button[data-retour]").click()
    page.wait_for_url(f"{service.url}/r/{service.procedure.id}")
    page.get_by_role("heading", name="Je fais un retour").wait_for()


def test_two_buttons_one_view_and_the_script_twice_is_harmless(
    page: Any, service: Service, host_site: HostSite
) -> None:
    pid = service.procedure.id
    second = (
        f'<a href="{service.url}/r/{pid}" data-retour="{pid}">En bas de page</a>'
        f'<script src="{service.url}/widget.js" defer></script></body>'
    )
    page.goto(host_site.add("/deux", snippet_page(service).replace("</body>", second)))
    buttons = page.locator("button[data-retour]")
    assert buttons.count() == 2
    buttons.nth(1).click()
    page.get_by_role("dialog", name="Je fais un retour").wait_for()
    assert wait_for(lambda: impressions(service.engine).get("open") == 1)
    assert impressions(service.engine)["view"] == 1
    assert page.locator("retour-dialog").count() == 1
