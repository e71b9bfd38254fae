"""The triage console in Chromium, with the keyboard: sign in, inbox, a filter, a status
change, a public answer; axe-core on the inbox and the submission page; no CSP violation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from console.app import create_app
from retour import stats
from retour.models import Feedback
from tests.browser.conftest import axe_violations
from tests.factories import make_feedback, make_ministry, make_procedure, make_user
from tests.live import serve_in_thread

PASSWORD = "correct horse battery staple"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def live(settings: Any) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


@pytest.fixture
def world(session: Any, engine: Any) -> dict[str, Any]:
    ministry = make_ministry(session, slug="ministere-de-l-accueil", name="Ministère de l'Accueil")
    procedure = make_procedure(
        session, id="carte-grise", title="Immatriculer un véhicule", ministry_id=ministry.id
    )
    other = make_procedure(
        session, id="permis", title="Permis de conduire", ministry_id=ministry.id
    )
    rows = []
    for i in range(12):
        rows.append(
            make_feedback(
                session,
                procedure=procedure if i % 2 else other,
                satisfaction=1 + i % 3,
                kind=("malfunction", "complaint", "praise")[i % 3],
                comment=f"Retour n°{i} <script>alert({i})</script> le paiement bloque",
                received_at=NOW - dt.timedelta(days=i * 5),
                contact_email="usager@example.org" if i == 1 else None,
                pii_categories="phone" if i == 3 else "",
                origin_registered=i != 5,
            )
        )
    agent = make_user(session, role="agent", ministry=ministry, password=PASSWORD)
    make_user(session, role="agent", ministry=ministry, password=PASSWORD)
    stats.refresh(engine)
    return {"agent": agent, "rows": rows, "procedure": procedure}


def press_until_focused(page: Any, selector: str, limit: int = 80, key: str = "Tab") -> None:
    """Tab until the element matching `selector` has the focus (proves it is reachable)."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def keyboard_sign_in(page: Any, live: str, email: str) -> None:
    page.goto(f"{live}/console/login")
    press_until_focused(page, "#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live}/console/")


def test_triage_with_the_keyboard(browser, live, world, session) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    try:
        keyboard_sign_in(page, live, world["agent"].email)
        assert page.locator("h1").inner_text().startswith("Retours des usagers")
        assert page.locator(".retour-inbox tbody tr").count() == 12

        # A filter, with the keyboard: choose a rating in the select, then submit the form.
        press_until_focused(page, "#f-rating")
        page.keyboard.press("ArrowDown")  # "Mal" (1)
        press_until_focused(page, "#filtres button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url("**/console/?**rating=1**")
        assert page.locator(".retour-inbox tbody tr").count() == 4
        assert page.locator("#f-rating").input_value() == "1"

        # Open a submission from the list, with the keyboard (its link keeps the list).
        target = world["rows"][3]
        press_until_focused(page, f"a[href='/console/feedback/{target.id}?liste=rating%3D1']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live}/console/feedback/{target.id}?liste=rating%3D1")
        assert "<script>alert(3)</script>" in page.locator("blockquote").inner_text()

        # A status change: the "Prendre en compte" button.
        press_until_focused(page, "form[action*='/status'] button")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Prendre en compte"
        page.keyboard.press("Enter")
        page.wait_for_url("**?fait=statut&liste=rating%3D1#statut")
        assert "Le statut est modifié." in page.locator("[role=status]").inner_text()
        assert "pris en compte" in page.locator("h1").inner_text().lower()
        # The focus is back on the status section's heading, which is described by the
        # result; one Tab reaches the status buttons again (QA #10: it was 11 from the top).
        assert page.evaluate("document.activeElement.id") == "statut"
        described = page.evaluate(
            "document.getElementById("
            "document.activeElement.getAttribute('aria-describedby')).textContent.trim()"
        )
        assert described == "Le statut est modifié."
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest(\"form[action*='/status']\") !== null")

        # A public answer, typed and sent with the keyboard.
        press_until_focused(page, "#answer")
        page.keyboard.type("Merci, le paiement est corrigé depuis le 3 mai.")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Publier la réponse"
        page.keyboard.press("Enter")
        page.wait_for_url("**?fait=reponse&liste=**")
        assert "Merci, le paiement est corrigé" in page.locator(".fr-callout").inner_text()
        history = page.locator("#historique-titre + .fr-table").inner_text()
        assert "Statut modifié" in history and "Réponse publique publiée" in history
    finally:
        context.close()
    assert problems == []
    session.rollback()
    stored = session.get(Feedback, world["rows"][3].id)
    assert stored.status == "acknowledged"


def test_bulk_acknowledge_with_the_keyboard(browser, live, world, session) -> None:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    try:
        keyboard_sign_in(page, live, world["agent"].email)
        for row in world["rows"][:2]:
            press_until_focused(page, f"#sel-{row.id}")
            page.keyboard.press("Space")
        # The bar is above the list: back up to its button.
        press_until_focused(page, ".retour-bulk-bar button[type=submit]", key="Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_url("**fait=lot**")
        assert "2 retours modifiés." in page.locator("[role=status]").inner_text()
    finally:
        context.close()
    session.rollback()
    assert {session.get(Feedback, r.id).status for r in world["rows"][:2]} == {"acknowledged"}


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("which", ["inbox", "filtered", "feedback", "feedback-answered"])
def test_no_wcag_violation(browser, live, world, which, width) -> None:
    # axe is injected as an inline script: this context alone bypasses the page's CSP.
    # At 375 px tables scroll (or become cards): scrollable regions must be focusable.
    context = browser.new_context(
        locale="fr-FR", bypass_csp=True, viewport={"width": width, "height": 800}
    )
    page = context.new_page()
    try:
        keyboard_sign_in(page, live, world["agent"].email)
        target = world["rows"][1]
        if which == "filtered":
            page.goto(f"{live}/console/?q=paiement&status=new&rating=9")
        elif which.startswith("feedback"):
            page.goto(f"{live}/console/feedback/{target.id}")
            if which == "feedback-answered":
                page.fill("#answer", "Réponse publiée")
                page.click("form[action$='/answer'] button")
                page.wait_for_url("**?fait=reponse")
                page.fill("#note", "Note interne")
                page.click("form[action$='/notes'] button")
                page.wait_for_url("**?fait=note")
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        assert axe_violations(page) == []
    finally:
        context.close()
