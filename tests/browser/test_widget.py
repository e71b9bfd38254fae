"""The widget from a ministry's page on another origin: the button, the dialog, sending."""

from __future__ import annotations

from typing import Any

from retour.models import Procedure
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


def page_loads(engine: Any) -> int:
    from sqlalchemy import func, select

    from retour.models import PageLoadDay

    with engine.connect() as connection:
        total = connection.execute(select(func.sum(PageLoadDay.count))).scalar()
    return int(total or 0)


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
    # One view per page load, carrying the page's load time (Navigation Timing, issue 18).
    assert wait_for(lambda: impressions(service.engine).get("view") == 1)
    assert wait_for(lambda: page_loads(service.engine) == 1)

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


def test_if_the_dialog_cannot_load_the_page_stays_and_offers_the_hosted_form(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.route("**/dialog.js", lambda route: route.abort())  # e.g. a filtering proxy
    url = host_site.add("/repli", snippet_page(service))
    page.goto(url)
    page.locator("button[data-retour]").click()
    note = page.locator(".retour-note[role=status]")
    note.get_by_text("Le formulaire n’a pas pu s’ouvrir ici.").wait_for()
    assert page.url == url  # never taken away: it may be a connection that just dropped
    note.get_by_role("link", name="Ouvrir le formulaire sur sa propre page").click()
    page.wait_for_url(f"{service.url}/r/{service.procedure.id}")
    page.get_by_role("heading", name="Je fais un retour").wait_for()


def test_an_unknown_procedure_is_said_before_anyone_writes(
    page: Any, service: Service, host_site: HostSite
) -> None:
    body = snippet_page(service).replace(
        f'data-retour="{service.procedure.id}"', 'data-retour="faute-de-frappe"'
    )
    page.goto(host_site.add("/inconnue", body))
    page.locator("button[data-retour]").click()
    dialog = page.get_by_role("dialog", name="Démarche inconnue")
    dialog.wait_for()
    assert "ne pourrait pas être transmis" in dialog.inner_text()
    assert page.locator("retour-dialog textarea").is_hidden()


def test_an_archived_procedure_keeps_what_the_citizen_writes(
    page: Any, service: Service, host_site: HostSite
) -> None:
    with service.engine.begin() as connection:
        connection.execute(
            Procedure.__table__.update().values(active=False)  # type: ignore[attr-defined]
        )
    page.goto(host_site.add("/archivee", snippet_page(service)))
    page.locator("button[data-retour]").click()
    page.get_by_text(f"Démarche : {TITLE}").wait_for()
    fill_and_send(page, comment="La page est encore en ligne.")
    page.get_by_text("Merci pour votre retour !").wait_for()
    [row] = wait_for(lambda: stored(service.engine))
    assert row.comment == "La page est encore en ligne."


def test_french_typography_and_where_the_answer_will_go(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.goto(host_site.add("/typo", snippet_page(service)))
    page.locator("button[data-retour]").click()
    line = page.locator("retour-dialog .procedure")
    line.wait_for()
    assert line.text_content() == f"Démarche\u202f: {TITLE}"
    legend = page.locator("retour-dialog legend").first.text_content()
    assert legend == "Comment s’est passée votre démarche\u202f?"
    page.get_by_label("Bien", exact=True).check()
    page.get_by_label("Je souhaite recevoir une réponse").check()
    page.get_by_label("Votre adresse électronique").fill("Jean.Dupont@Example.fr")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("Merci pour votre retour\u202f!").wait_for()
    said = page.locator("retour-dialog .status").inner_text()
    assert "l’administration vous écrira à l’adresse J…@example.fr." in said
    assert "Dupont" not in said


def test_a_paste_cut_at_the_limit_is_said(page: Any, service: Service, host_site: HostSite) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=host_site.url)
    page.goto(host_site.add("/coller", snippet_page(service)))
    page.locator("button[data-retour]").click()
    comment = page.locator("retour-dialog textarea")
    comment.wait_for()
    page.evaluate("text => navigator.clipboard.writeText(text)", "Trop long. " * 200)
    comment.focus()
    page.keyboard.press("Control+V")
    cut = page.locator("retour-dialog #comment-cut")
    cut.get_by_text("Le texte collé a été coupé à 2 000 caractères").wait_for()
    assert len(comment.input_value()) == 2000
    assert "comment-cut" in (comment.get_attribute("aria-describedby") or "")
    comment.fill("Plus court.")
    assert cut.text_content() == ""


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
