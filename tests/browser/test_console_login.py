"""The console foundation in Chromium: keyboard sign-in, strict CSP, copy button, axe-core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from console.app import create_app
from retour.models import ImpressionCount, utcnow
from tests.browser.conftest import axe_violations
from tests.factories import make_ministry, make_procedure, make_user
from tests.live import serve_in_thread

PASSWORD = "correct horse battery staple"


@pytest.fixture
def live(settings: Any) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


@pytest.fixture
def staff(session: Any) -> dict[str, Any]:
    ministry = make_ministry(session, slug="ministere-de-l-accueil", name="Ministère de l'Accueil")
    procedure = make_procedure(
        session,
        id="carte-grise",
        title="Immatriculer un véhicule <b>neuf</b>",
        ministry_id=ministry.id,
        origins=("https://immat.example.gouv.fr",),
    )
    now = utcnow()
    for origin, event, count in (
        ("https://immat.example.gouv.fr", "view", 120),
        ("https://immat.example.gouv.fr", "open", 12),
        ("https://copie.example.com", "view", 4),
    ):
        session.add(
            ImpressionCount(
                procedure_id=procedure.id,
                day=now.date(),
                origin=origin,
                event=event,
                count=count,
                last_seen_at=now - dt.timedelta(hours=1),
            )
        )
    session.commit()
    manager = make_user(session, role="ministry_admin", ministry=ministry, password=PASSWORD)
    make_user(session, role="agent", ministry=ministry, password=PASSWORD)
    return {"manager": manager, "procedure": procedure}


def tab_to(page: Any, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is not reachable with Tab")


def sign_in(page: Any, live: str, email: str, next_path: str = "/console/procedures") -> None:
    page.goto(f"{live}/console/login?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]:has-text('Se connecter')")
    page.wait_for_url(f"{live}{next_path}")


def test_sign_in_with_the_keyboard_only(page, live, staff):
    page.goto(f"{live}/console/login?next=/console/procedures")
    tab_to(page, "email")
    page.keyboard.type(staff["manager"].email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/console/procedures")
    assert page.locator("h1").inner_text() == "Registre des démarches"
    # Sign out with the keyboard too: the button in the header is reachable and works.
    page.focus("form[action='/console/logout'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/console/login")


def test_failed_sign_in_is_announced_and_the_fields_marked(page, live, staff):
    page.goto(f"{live}/console/login")
    page.fill("#email", staff["manager"].email)
    page.fill("#password", "wrong password!")
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=alert]")
    assert "incorrect" in page.locator("[role=alert]").inner_text()
    assert page.get_attribute("#password", "aria-invalid") == "true"


def test_no_csp_violation_and_dsfr_loads(browser, live, staff):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    page.on("pageerror", lambda e: refused.append(str(e)))
    try:
        sign_in(page, live, staff["manager"].email)
        page.goto(f"{live}/console/procedures/carte-grise")
        # DSFR's stylesheet applied (its font) and its script ran (it marks <html>).
        font = page.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Marianne" in font
        page.wait_for_function(
            "document.documentElement.classList.contains('fr-js') || !!window.dsfr"
        )
    finally:
        context.close()
    assert refused == []


def test_copy_button_copies_the_snippet(browser, live, staff):
    context = browser.new_context(locale="fr-FR", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        sign_in(page, live, staff["manager"].email)
        page.goto(f"{live}/console/procedures/carte-grise")
        page.focus("button[data-copy='code-bouton']")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "document.getElementById('code-bouton-statut').textContent.length > 0"
        )
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith('<a href="') and 'data-retour="carte-grise"' in copied
        assert copied.endswith('/widget.js" defer></script>')
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    [
        "/console/procedures",
        "/console/procedures/carte-grise",
        "/console/procedures/carte-grise/edit",
        "/console/procedures/new",
        "/console/procedures/import",
        "/console/users",
        "/console/users/new",
        "/console/alerts",
        "/console/nowhere",
    ],
)
def test_console_pages_have_no_wcag_violation(browser, live, staff, path):
    # axe is injected as an inline script: this context alone bypasses the page's CSP.
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, live, staff["manager"].email)
        page.goto(f"{live}{path}")
        assert axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize(
    "path", ["/console/procedures", "/console/procedures/carte-grise", "/console/users"]
)
def test_tables_stay_accessible_on_a_phone(browser, live, staff, path):
    # At 375 px the tables scroll sideways: their scrolling region must be focusable and named.
    context = browser.new_context(
        locale="fr-FR", bypass_csp=True, viewport={"width": 375, "height": 800}
    )
    page = context.new_page()
    try:
        sign_in(page, live, staff["manager"].email)
        page.goto(f"{live}{path}")
        assert axe_violations(page) == []
        region = page.locator(".fr-table__container").first
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("role") == "region"
    finally:
        context.close()


def test_login_page_has_no_wcag_violation_even_with_an_error(browser, live, staff):
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live}/console/login")
        assert axe_violations(page) == []
        page.fill("#email", "personne@example.gouv.fr")
        page.fill("#password", "wrong password!")
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=alert]")
        assert axe_violations(page) == []
        page.goto(f"{live}/console/login?lang=en")
        assert page.locator("h1").inner_text() != "Connexion à l’espace agents"
        assert axe_violations(page) == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/console/procedures", "Ajouter une démarche"),
        ("/console/procedures", "Importer un tableur"),
        ("/console/procedures/carte-grise", "Modifier"),
        ("/console/users", "Ajouter un compte"),
    ],
)
def test_buttons_with_an_icon_show_their_text(page, live, staff, path, label):
    # Inside a .fr-btns-group without --icon-left, DSFR shrinks such buttons to the icon alone.
    sign_in(page, live, staff["manager"].email)
    page.goto(f"{live}{path}")
    button = page.locator(f"a.fr-btn:has-text('{label}')")
    text_width = button.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return r.getBoundingClientRect().width; }"
    )
    box = button.bounding_box()
    assert box is not None and box["width"] > text_width > 20


@pytest.mark.parametrize(
    ("path", "submit"),
    [
        ("/console/procedures/new", "Créer la démarche"),
        ("/console/users/new", "Créer le compte"),
        ("/console/procedures/import", "Importer"),
    ],
)
def test_empty_forms_get_the_servers_dsfr_errors_not_browser_bubbles(
    page, live, staff, path, submit
):
    # `novalidate`: the browser lets the form through and the page explains, in its language.
    sign_in(page, live, staff["manager"].email)
    page.goto(f"{live}{path}")
    with page.expect_navigation():
        page.click(f"button[type=submit]:has-text('{submit}')")
    alert = page.locator(".fr-alert--error[role=alert]")
    assert alert.is_visible()
    assert "Le formulaire contient des erreurs" in alert.inner_text()
