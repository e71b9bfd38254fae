"""The dialog keeps to itself: no style leaks either way, a strict CSP, no cookie."""

from __future__ import annotations

from typing import Any

from tests.browser import widget_pages
from tests.browser.widget_pages import (
    HostSite,
    Service,
    fill_and_send,
    open_dialog,
    snippet_page,
    stored,
    wait_for,
)

# Fixtures: the service on the test's database (SQLite), and the host site on another origin.
backend = widget_pages.backend
host_site = widget_pages.host_site
service = widget_pages.service


HOSTILE_CSS = (
    "<style>html{font-size:10px} p{margin:40px} "
    "p,label,h2,dialog{color:#f00 !important;font-family:serif !important}</style>"
)


def test_no_style_leaks_in_or_out(page: Any, service: Service, host_site: HostSite) -> None:
    page.goto(host_site.add("/styles", snippet_page(service, head=HOSTILE_CSS)))
    host_margin = page.locator("#host-text").evaluate("(el) => getComputedStyle(el).marginTop")
    page.locator("button[data-retour]").click()
    page.locator("retour-dialog dialog").wait_for(state="visible")
    title = page.locator("retour-dialog h2")
    assert title.evaluate("(el) => getComputedStyle(el).color") == "rgb(22, 22, 22)"
    assert title.evaluate("(el) => getComputedStyle(el).fontFamily") != "serif"
    assert (
        page.locator("retour-dialog dialog").evaluate("(el) => getComputedStyle(el).fontSize")
        == "16px"
    )
    send = page.get_by_role("button", name="Envoyer")
    assert send.evaluate("(el) => getComputedStyle(el).backgroundColor") == "rgb(0, 0, 145)"
    assert (
        page.locator("#host-text").evaluate("(el) => getComputedStyle(el).marginTop") == host_margin
    )


def strict_csp(service_origin: str, style_src: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src {service_origin}; connect-src {service_origin}; "
            f"style-src {style_src or service_origin}; img-src 'self'; base-uri 'none'"
        )
    }


CSP_LISTENER = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def csp_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(CSP_LISTENER)  # injected by the browser, outside the page's CSP
    return context, page, errors


def test_works_under_a_strict_csp(browser: Any, service: Service, host_site: HostSite) -> None:
    url = host_site.add("/csp", snippet_page(service), strict_csp(service.url))
    context, page, errors = csp_page(browser)
    try:
        open_dialog(page, url)
        send = page.get_by_role("button", name="Envoyer")
        assert send.evaluate("(el) => getComputedStyle(el).backgroundColor") == "rgb(0, 0, 145)"
        page.locator("retour-dialog textarea").fill("x")
        page.locator("retour-dialog textarea").press_sequentially("y")  # counter, notice
        fill_and_send(page)
        page.get_by_text("Merci pour votre retour !").wait_for()
        page.wait_for_timeout(800)  # the typing-time notice runs after a pause
        assert page.evaluate("window.__violations") == []
        assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
        assert wait_for(lambda: stored(service.engine))
    finally:
        context.close()


def test_the_csp_check_does_see_violations(
    browser: Any, service: Service, host_site: HostSite
) -> None:
    # Control: a policy that forgets the service in style-src is caught by the same listener.
    url = host_site.add("/csp-incomplete", snippet_page(service), strict_csp(service.url, "'self'"))
    context, page, _ = csp_page(browser)
    try:
        page.goto(url)
        page.locator("button[data-retour]").click()
        page.locator("retour-dialog dialog").wait_for(state="visible")
        assert wait_for(lambda: page.evaluate("window.__violations"))
    finally:
        context.close()


def test_no_cookie_anywhere(page: Any, service: Service, host_site: HostSite) -> None:
    open_dialog(page, host_site.add("/cookies", snippet_page(service)))
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    page.goto(f"{service.url}/r/{service.procedure.id}")
    assert page.context.cookies() == []
