"""An agent groups reports into a problem, fixes it, and a citizen's /suivi shows the answer:
in Chromium, with axe-core on the pages involved and no CSP violation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from console.app import create_app
from retour.receipts import new_receipt
from tests.browser.conftest import axe_violations
from tests.browser.test_console_inbox import PASSWORD, keyboard_sign_in, press_until_focused
from tests.factories import make_feedback, make_ministry, make_procedure, make_user
from tests.live import serve_in_thread

STEP_3 = [
    "Erreur à l'étape 3, le bouton Valider ne marche pas",
    "Étape 3 : une erreur quand je valide",
    "etape 3 erreur, impossible de valider",
]
ANSWER = "Le bouton Valider fonctionne de nouveau depuis ce matin. Merci de nous l'avoir signalé."


@pytest.fixture
def live(settings: Any) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as server:
        yield server.url


def test_group_fix_and_answer_everyone(browser, live, session) -> None:
    ministry = make_ministry(session, slug="ministere-de-l-accueil", name="Ministère de l'Accueil")
    procedure = make_procedure(
        session, id="carte-grise", title="Immatriculer un véhicule", ministry_id=ministry.id
    )
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    rows = [
        make_feedback(
            session, procedure=procedure, comment=c, received_at=at, receipt=new_receipt()
        )
        for c in [*STEP_3, "Le paiement par carte est refusé"]
    ]
    agent = make_user(session, role="agent", ministry=ministry, password=PASSWORD)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        keyboard_sign_in(page, live, agent.email)
        # The report's page suggests the similar ones, with a reason; go to them in the inbox.
        page.goto(f"{live}/console/feedback/{rows[0].id}")
        assert "3 retours mentionnent" in page.locator("#semblables-titre + p").inner_text()
        press_until_focused(page, f"a[href='/console/?semblables={rows[0].id}']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/console/?semblables={rows[0].id}")
        assert page.locator(".retour-inbox tbody tr").count() == 3
        for row in rows[:3]:  # ticked with the keyboard (DSFR's label covers the box)
            page.focus(f"#sel-{row.id}")
            page.keyboard.press("Space")
        page.click("text=Créer un problème avec les retours cochés")
        page.wait_for_url(f"{live}/console/problems/new")
        assert "3 retours seront liés" in page.locator("main form").inner_text()
        press_until_focused(page, "#title")
        page.keyboard.type("Le bouton Valider ne répond pas à l'étape 3")
        page.click("button:has-text('Créer le problème')")
        page.wait_for_url("**/console/problems/*?fait=cree")
        assert "Retours liés (3)" in page.locator("#lies-titre").inner_text()
        problem_url = page.url.split("?")[0]
        # Fixed, with the answer that reaches everyone.
        press_until_focused(page, "#status-answer")
        page.keyboard.type(ANSWER)
        page.click("button[name=to][value=fixed]")
        page.wait_for_url("**fait=statut**")
        assert "corrigé" in page.locator("h1").inner_text().lower()
    finally:
        context.close()
    assert errors == []

    citizen = browser.new_context(locale="fr-FR").new_page()
    for row in rows[:3]:
        citizen.goto(f"{live}/suivi/{row.receipt}")
        text = citizen.locator("main").inner_text()
        assert ANSWER in text and "signalé par 3 usagers" in text
        assert STEP_3[0] not in text
    citizen.goto(f"{live}/suivi/{rows[3].receipt}")
    assert ANSWER not in citizen.locator("main").inner_text()
    citizen.context.close()

    # axe is injected as an inline script: this context alone bypasses the pages' CSP.
    audit = browser.new_context(locale="fr-FR", bypass_csp=True)
    page = audit.new_page()
    try:
        keyboard_sign_in(page, live, agent.email)
        for url in (
            f"{live}/console/feedback/{rows[3].id}",
            problem_url,
            f"{live}/console/problems",
            f"{live}/console/?semblables={rows[0].id}",
            f"{live}/suivi/{rows[0].receipt}",
            f"{live}/procedures/{procedure.id}",
        ):
            page.goto(url)
            assert axe_violations(page) == [], url
    finally:
        audit.close()
