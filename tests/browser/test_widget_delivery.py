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
    page.reload()
    rows = wait_for(lambda: stored(service.engine))
    assert len(rows) == 1
    assert rows[0].client_id == kept[0]["client_id"]
    assert rows[0].comment == "Écrit dans le train, sans réseau."
    assert wait_for(lambda: outbox(page) == [])
    page.reload()  # nothing left to send: still one
    page.wait_for_timeout(500)
    assert len(stored(service.engine)) == 1


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
