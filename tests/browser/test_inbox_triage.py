"""Working through the inbox in Chromium: « Cocher les N retours de cette page » with the
keyboard, the bulk bar in view while the list scrolls, previous/next within a filter; axe-core
on the filtered list and on an item opened from it."""

from __future__ import annotations

from retour.models import Feedback
from tests.browser.conftest import axe_violations
from tests.browser.test_console_inbox import (  # noqa: F401  # fixtures
    keyboard_sign_in,
    live,
    press_until_focused,
    world,
)


def test_select_the_whole_page_with_the_keyboard(browser, live, world, session) -> None:  # noqa: F811
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 600})
    page = context.new_page()
    try:
        keyboard_sign_in(page, live, world["agent"].email)
        boxes = page.locator("input[name=ids]")
        assert boxes.count() == 12
        press_until_focused(page, "#lot-page")
        page.keyboard.press("Space")
        assert all(boxes.nth(i).is_checked() for i in range(12))
        press_until_focused(page, f"#{boxes.nth(3).get_attribute('id')}")
        page.keyboard.press("Space")
        assert page.evaluate("document.getElementById('lot-page').indeterminate")
        # Far down the list, the bar is still on screen.
        page.locator("#liste tbody tr").last.scroll_into_view_if_needed()
        box = page.locator(".retour-bulk-bar").bounding_box()
        assert box is not None and 0 <= box["y"] < 600
        press_until_focused(page, "#bulk-action")
        page.select_option("#bulk-action", "acknowledge")
        page.locator(".retour-bulk-bar button[type=submit]").press("Enter")
        page.wait_for_url("**fait=lot**")
        assert "11 retours modifiés." in page.locator("main").inner_text()
    finally:
        context.close()
    session.rollback()
    statuses = [session.get(Feedback, r.id).status for r in world["rows"]]
    assert statuses.count("acknowledged") == 11


def test_previous_and_next_within_a_filter(browser, live, world) -> None:  # noqa: F811
    context = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = context.new_page()
    try:
        keyboard_sign_in(page, live, world["agent"].email)
        page.goto(f"{live}/console/?kind=complaint")
        listed = page.locator("#liste tbody tr td a[href^='/console/feedback/']")
        first_href = listed.first.get_attribute("href")
        assert first_href and "liste=kind%3Dcomplaint" in first_href
        listed.first.click()
        page.locator("a[rel=next]").click()
        assert "liste=kind%3Dcomplaint" in page.url
        assert "Réclamation" in page.locator("main").inner_text()
        assert axe_violations(page) == []
        page.get_by_role("link", name="Retour à la liste").click()
        page.wait_for_url(f"{live}/console/?kind=complaint")
        assert axe_violations(page) == []
    finally:
        context.close()
