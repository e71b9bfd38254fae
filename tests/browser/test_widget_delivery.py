"""Never loses a word: offline outbox, expired tokens, in a real browser."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.browser import widget_pages
from tests.browser.widget_pages import (
    HostSite,
    Service,
    fill_and_send,
    open_dialog,
    outbox,
    snippet_page,
    stored,
    wait_for,
)

# Fixtures: the service on the test's database (SQLite), and the host site on another origin.
backend = widget_pages.backend
host_site = widget_pages.host_site
service = widget_pages.service


def test_sent_offline_arrives_exactly_once_after_reloading_online(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/hors-ligne", snippet_page(service)))
    page.context.set_offline(True)
    fill_and_send(page, comment="Écrit dans le train, sans réseau.")
    page.get_by_role("heading", name="Message enregistré").wait_for()
    assert "sera envoyé automatiquement" in page.get_by_role("status").inner_text()
    kept = outbox(page)
    assert len(kept) == 1 and kept[0]["comment"] == "Écrit dans le train, sans réseau."
    assert stored(service.engine) == []

    page.context.set_offline(False)
    page.close()  # the tab is closed; the citizen comes back later, on another page
    later = page.context.new_page()
    later.goto(host_site.add("/plus-tard", snippet_page(service)))
    rows = wait_for(lambda: stored(service.engine))
    assert len(rows) == 1
    assert rows[0].client_id == kept[0]["client_id"]
    assert rows[0].comment == "Écrit dans le train, sans réseau."
    # Told that it went, with its tracking code, without the focus moving.
    notice = later.get_by_role("region", name="Votre retour a bien été envoyé")
    notice.wait_for()
    assert rows[0].receipt in notice.inner_text()
    link = notice.get_by_role("link", name="Suivre votre retour")
    assert link.get_attribute("href") == f"{service.url}/suivi/{rows[0].receipt}"
    assert later.evaluate("document.activeElement === document.body")
    # Shown: nothing is left on the device, not even the code.
    assert wait_for(lambda: outbox(later) == [])
    notice.get_by_role("button", name="Fermer").click()
    assert later.locator("retour-notice").count() == 0
    later.reload()  # nothing left to send or to tell: still one, and no notice
    later.wait_for_timeout(500)
    assert len(stored(service.engine)) == 1
    assert later.locator("retour-notice").count() == 0


def test_the_code_stays_in_the_outbox_until_it_is_shown(
    page: Any, service: Service, host_site: HostSite
) -> None:
    """Accepted, but the page went before showing the code: the next page shows it."""
    url = host_site.add("/garde", snippet_page(service))
    page.goto(url)
    page.route("**/widget/*/dialog.js", lambda route: route.abort())  # this page cannot show it
    entry = {
        "procedure_id": service.procedure.id,
        "client_id": str(uuid.uuid4()),
        "receipt": "7K3QP-2M9XD",
    }
    page.evaluate("e => localStorage.setItem('retour-outbox', JSON.stringify([e]))", entry)
    page.reload()
    page.wait_for_timeout(500)
    assert outbox(page) == [entry]  # kept, and nothing in it but what is left to say
    page.unroute("**/widget/*/dialog.js")
    page.reload()
    notice = page.get_by_role("region", name="Votre retour a bien été envoyé")
    notice.wait_for()
    assert "7K3QP-2M9XD" in notice.inner_text()
    assert wait_for(lambda: outbox(page) == [])
    assert stored(service.engine) == []  # only told, never sent again


def test_sent_later_on_the_same_page_thanks_in_the_dialog(
    page: Any, service: Service, host_site: HostSite
) -> None:
    open_dialog(page, host_site.add("/retour-reseau", snippet_page(service)))
    page.context.set_offline(True)
    fill_and_send(page, comment="Envoyé au retour du réseau.")
    page.get_by_role("heading", name="Message enregistré").wait_for()
    page.context.set_offline(False)
    page.get_by_role("heading", name="Merci pour votre retour !").wait_for(timeout=15_000)
    [row] = wait_for(lambda: stored(service.engine))
    assert row.receipt in page.locator("retour-dialog .receipt").inner_text()
    assert page.locator("retour-notice").count() == 0  # told once, in the dialog
    assert wait_for(lambda: outbox(page) == [])


def test_offline_before_the_first_click_the_page_stays(
    page: Any, service: Service, host_site: HostSite
) -> None:
    url = host_site.add("/train", snippet_page(service))
    page.goto(url)
    page.locator("button[data-retour]").wait_for()
    page.context.set_offline(True)
    page.locator("button[data-retour]").click()
    note = page.locator(".retour-note[role=status]")
    note.get_by_text("Vous êtes hors connexion").wait_for()
    page.wait_for_timeout(500)
    assert page.url == url  # never the browser's offline error page
    assert "s’ouvrira dès le retour de la connexion" in note.inner_text()
    page.context.set_offline(False)
    page.get_by_role("dialog", name="Je fais un retour").wait_for()
    assert note.inner_text().strip() == ""
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    assert len(wait_for(lambda: stored(service.engine))) == 1


def test_client_ids_are_time_ordered_uuids(
    page: Any, service: Service, host_site: HostSite
) -> None:
    """Version 7, so that submissions made together sort together in the service's index."""
    before = int(time.time() * 1000)
    open_dialog(page, host_site.add("/identifiant", snippet_page(service)))
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    [row] = wait_for(lambda: stored(service.engine))
    client_id = uuid.UUID(row.client_id)
    assert (client_id.version, client_id.variant) == (7, uuid.RFC_4122)
    made_at = client_id.int >> 80  # the first 48 bits: Unix time in milliseconds
    assert before <= made_at <= int(time.time() * 1000)


def test_an_expired_token_is_refreshed_without_the_citizen_noticing(
    page: Any, service: Service, host_site: HostSite
) -> None:
    served: list[int] = []

    def spoil_first_token(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if not served:
            body["token"] = body["token"][:-4] + "AAAA"  # refused by the service: 403
        served.append(1)
        route.fulfill(response=response, json=body)

    page.route("**/api/v1/procedures/*/form*", spoil_first_token)
    open_dialog(page, host_site.add("/jeton", snippet_page(service)))
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    assert len(served) == 2
    assert len(wait_for(lambda: stored(service.engine))) == 1


def test_a_failing_service_is_retried_with_the_same_client_id(
    page: Any, service: Service, host_site: HostSite
) -> None:
    bodies: list[dict[str, Any]] = []

    def fail_twice(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data))
        if len(bodies) <= 2:
            route.fulfill(
                status=503, json={"error": {"code": "unavailable"}}, headers={"Retry-After": "1"}
            )
        else:
            route.continue_()

    page.route("**/api/v1/feedback", fail_twice)
    open_dialog(page, host_site.add("/reessai", snippet_page(service)))
    fill_and_send(page)
    # Told at once that it is kept; then delivered by a later attempt.
    page.get_by_role("heading", name="Message enregistré").wait_for()
    page.get_by_text("Merci pour votre retour !").wait_for(timeout=15_000)
    assert len(bodies) == 3
    assert len({body["client_id"] for body in bodies}) == 1
    assert len(wait_for(lambda: stored(service.engine))) == 1
    assert page.evaluate("localStorage.getItem('retour-outbox')") is None
