"""The widget in Debian's Chromium: a host page on another origin pastes the snippet.

Two real servers: the service (`retour.compose`, ingest + console, on the test's database)
and a host page server on another port (so another origin) whose pages and headers each
test writes, e.g. a strict Content-Security-Policy.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from retour.compose import create_app
from retour.models import Feedback, ImpressionCount, Procedure
from retour.settings import Settings
from tests.browser.conftest import axe_violations
from tests.factories import make_procedure
from tests.live import serve_in_thread

PROCEDURE_ID = "carte-identite"
TITLE = "Demande de carte nationale d'identité"


@pytest.fixture
def backend() -> str:
    # The browser exercises the widget; both backends are covered by the ingest tests.
    return "sqlite"


@dataclass
class HostSite:
    """Pages of a ministry's site, on an origin other than the service's."""

    url: str
    pages: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def add(self, path: str, body: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (body, headers or {})
        return f"{self.url}{path}"


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite(url="")

    async def page(request: Request) -> Response:
        found = site.pages.get(request.url.path)
        if found is None:
            return HTMLResponse("not found", status_code=404)
        body, headers = found
        return HTMLResponse(body, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", page)])
    with serve_in_thread(app) as server:
        site.url = server.url
        yield site
    site.pages.clear()


@dataclass
class Service:
    url: str
    procedure: Procedure
    engine: Engine


@pytest.fixture
def service(
    settings: Settings, session: Session, engine: Engine, host_site: HostSite
) -> Iterator[Service]:
    procedure = make_procedure(session, id=PROCEDURE_ID, title=TITLE, origins=(host_site.url,))
    with serve_in_thread(create_app(settings)) as server:
        yield Service(url=server.url, procedure=procedure, engine=engine)


def snippet_page(
    service: Service, *, lang: str = "fr", head: str = "", label: str = "Je fais un retour"
) -> str:
    pid = service.procedure.id
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Ma démarche</title>{head}</head>
<body>
  <header><a href="#main">Aller au contenu</a></header>
  <main id="main"><h1>Votre demande a été enregistrée</h1>
    <p id="host-text">Merci. Comment s'est passée cette démarche ?</p>
    <a href="{service.url}/r/{pid}" data-retour="{pid}"
       class="ministry-button">{html.escape(label)}</a>
  </main>
  <script src="{service.url}/widget.js" defer></script>
</body></html>"""


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def stored(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(Feedback.__table__)))  # type: ignore[attr-defined]


def impressions(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(ImpressionCount.__table__))  # type: ignore[attr-defined]
        return {row.event: row.count for row in rows}


def focused(page: Any) -> str:
    """What has the focus, looking inside the dialog's shadow root: tag#id or tag:text."""
    return str(
        page.evaluate(
            """() => {
            let el = document.activeElement;
            while (el && el.shadowRoot && el.shadowRoot.activeElement) {
                el = el.shadowRoot.activeElement;
            }
            if (!el) return '';
            const name = el.id ? '#' + el.id : ':' + (el.textContent || '').trim().slice(0, 30);
            return el.tagName.toLowerCase() + name;
        }"""
        )
    )


def open_dialog(page: Any, url: str) -> Any:
    page.goto(url)
    button = page.locator("button[data-retour]")
    button.click()
    dialog = page.locator("retour-dialog dialog")
    dialog.wait_for(state="visible")
    return dialog


def fill_and_send(
    page: Any,
    *,
    satisfaction: str = "Moyennement",
    comment: str = "Le bouton Valider ne fait rien.",
) -> None:
    page.get_by_label(satisfaction, exact=True).check()
    page.get_by_label("Un dysfonctionnement").check()
    page.locator("retour-dialog textarea").fill(comment)
    page.get_by_role("button", name="Envoyer").click()


# --- Opening, the button, impressions -------------------------------------------------------


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


# --- Accessibility --------------------------------------------------------------------------


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
    page.keyboard.press("Space")  # reveals the email field and moves there
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


# --- Isolation, CSP, language, cookies ---------------------------------------------------------

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


# --- Never loses a word -------------------------------------------------------------------------


def outbox(page: Any) -> list[Any]:
    return list(page.evaluate("JSON.parse(localStorage.getItem('retour-outbox') || '[]')"))


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


def test_no_cookie_anywhere(page: Any, service: Service, host_site: HostSite) -> None:
    open_dialog(page, host_site.add("/cookies", snippet_page(service)))
    fill_and_send(page)
    page.get_by_text("Merci pour votre retour !").wait_for()
    page.goto(f"{service.url}/r/{service.procedure.id}")
    assert page.context.cookies() == []


# --- Personal data while typing (issue 6) ---------------------------------------------------------


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
    assert "sera masquée" in text and "Je souhaite recevoir une réponse" in text
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


def test_if_the_dialog_cannot_load_the_button_opens_the_hosted_form(
    page: Any, service: Service, host_site: HostSite
) -> None:
    page.route("**/dialog.js", lambda route: route.abort())  # e.g. a filtering proxy
    page.goto(host_site.add("/repli", snippet_page(service)))
    page.locator("button[data-retour]").click()
    page.wait_for_url(f"{service.url}/r/{service.procedure.id}")
    page.get_by_role("heading", name="Je fais un retour").wait_for()
