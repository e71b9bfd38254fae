"""The public pages in Chromium: axe-core (WCAG 2.1 A/AA) finds nothing, the dashboard's sort
and filters work with the keyboard and without JavaScript, and no cookie is ever set."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console.app import create_app
from retour.stats import refresh
from tests.browser.conftest import axe_violations
from tests.console.public_data import load_known
from tests.factories import make_user
from tests.live import serve_in_thread

PASSWORD = "correct horse battery staple"


@pytest.fixture
def live(settings: Any) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


@pytest.fixture
def known(session: Any, engine: Any) -> Any:
    data = load_known(session)
    make_user(session, role="admin", email="dinum@example.gouv.fr", password=PASSWORD)
    refresh(engine)
    return data


def public_paths(known: Any) -> dict[str, str]:
    return {
        "dashboard": "/",
        "dashboard-sorted-filtered": "/?sort=score&order=desc&live=yes",
        "dashboard-en": "/?lang=en",
        "procedure": f"/procedures/{known.passport.id}",
        "procedure-below-threshold": f"/procedures/{known.allowance.id}",
        "suivi": f"/suivi/{known.receipt}",
        "suivi-form": "/suivi",
        "open-data": "/open-data",
        "accessibilite": "/accessibilite",
        "donnees-personnelles": "/donnees-personnelles",
        "not-found": "/procedures/inconnue",
        "observatory": "/observatoire",
        "observatory-filtered-en": "/observatoire?indicateur=button&niveau=good&tri=score&lang=en",
    }


@pytest.mark.parametrize(
    "which",
    [
        "dashboard",
        "dashboard-sorted-filtered",
        "dashboard-en",
        "procedure",
        "procedure-below-threshold",
        "suivi",
        "suivi-form",
        "open-data",
        "accessibilite",
        "donnees-personnelles",
        "not-found",
        "observatory",
        "observatory-filtered-en",
    ],
)
def test_no_wcag_violation_and_no_cookie(browser, live, known, which) -> None:
    # axe is injected as an inline script: this context alone bypasses the page's CSP.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(live + public_paths(known)[which])
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        assert axe_violations(page) == []
        assert context.cookies() == []
    finally:
        context.close()


def test_coverage_page_has_no_wcag_violation(browser, live, known) -> None:
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live}/console/login?next=/console/coverage")
        page.fill("#email", "dinum@example.gouv.fr")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live}/console/coverage")
        assert page.locator("h1").inner_text() == "Couverture du déploiement"
        # At 1280 px (Playwright's default width) every table fits: no column off-screen.
        overflows = page.locator(".fr-table__container").evaluate_all(
            "els => els.map(el => el.scrollWidth - el.clientWidth)"
        )
        assert overflows and max(overflows) <= 1, overflows
        assert axe_violations(page) == []
    finally:
        context.close()


def test_sort_and_filter_with_the_keyboard_without_javascript(browser, live, known) -> None:
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live + "/")
        # Sort by volume through the column header link, with the keyboard.
        link = page.locator("#demarches thead a", has_text="Retours")
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**sort=volume**")
        header = page.locator("#demarches thead th[aria-sort]")
        assert header.get_attribute("aria-sort") == "descending"
        titles = page.locator("#demarches tbody th").all_inner_texts()
        assert titles == ["Demande de passeport", "Allocation logement"]
        # Filter: button live only, submitted with Enter from the form.
        page.select_option("#filtre-bouton", "yes")
        page.focus("#filtre-texte")
        page.keyboard.press("Enter")
        page.wait_for_url("**live=yes**")
        assert page.locator("#demarches tbody th").all_inner_texts() == ["Demande de passeport"]
        assert context.cookies() == []
    finally:
        context.close()


def test_no_csp_violation_on_the_dashboard(browser, live, known) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    try:
        page.goto(live + f"/procedures/{known.passport.id}")
        page.wait_for_load_state("networkidle")
        assert [e for e in errors if "Content Security Policy" in e] == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_wide_tables_fit_the_screen(browser, live, known, tmp_path, width) -> None:
    # DSFR cells do not wrap by default: at desktop width every indicator of the dashboard must
    # be visible without scrolling the table; on a phone the table may scroll, but it stays a
    # focusable region and axe finds nothing.
    context = browser.new_context(
        locale="fr-FR", bypass_csp=True, viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    try:
        for path in ("/", "/?lang=en"):
            page.goto(live + path)
            for table in ("#demarches", "#boucle"):
                container = page.locator(f".fr-table__container:has({table})")
                overflow = container.evaluate("el => el.scrollWidth - el.clientWidth")
                if width == 1280:
                    assert overflow <= 1, (path, table, overflow)
            page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
            assert axe_violations(page) == []
    finally:
        context.close()
