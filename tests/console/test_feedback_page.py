"""One submission's page: what it shows, every action, email to the citizen, isolation, XSS."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import Message
from html import unescape
from html.parser import HTMLParser

import pytest
from aiosmtpd.controller import Controller
from markupsafe import escape
from sqlmodel import Session

from console.app import create_app
from retour import triage
from retour.models import Feedback, PublicAnswer
from tests.console.conftest import StaffClient, sign_in
from tests.factories import make_feedback, make_procedure, make_user

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}{% raw %}",
    "</textarea><script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "&lt;b&gt;déjà échappé&lt;/b&gt;",
    "<iframe srcdoc='<script>alert(1)</script>'>",
    "\u202e<b>rtl</b>",
]
ACTIONS = [
    ("status", {"to": "acknowledged"}),
    ("assign", {"assignee": ""}),
    ("notes", {"body": "note"}),
    ("tags", {"tag": "t"}),
    ("tags/remove", {"tag": "t"}),
    ("answer", {"body": "réponse"}),
    ("answer/email", {}),
]


@pytest.fixture
def procedure(session: Session, ministry):
    return make_procedure(session, ministry_id=ministry.id, title="Permis de conduire")


@pytest.fixture
def feedback(session: Session, procedure) -> Feedback:
    return make_feedback(
        session,
        procedure=procedure,
        comment="Le bouton Valider ne fait rien.",
        contact_email="usager@example.org",
        pii_categories="phone",
    )


def test_page_shows_the_submission(client_for, feedback) -> None:
    html = client_for("agent").get(f"/console/feedback/{feedback.id}").text
    for text in (
        "Le bouton Valider ne fait rien.",
        "Permis de conduire",
        "Moyennement",
        "Dysfonctionnement",
        "Téléphone",
        feedback.receipt,
        "usager@example.org",
        "enregistrée",
        'href="https://www.example.gouv.fr/demarche/etape-3"',
    ):
        assert text in html, text
    # Only the workflow's next statuses are offered.
    offered = set(re.findall(r'name="to" value="(\w+)"', html))
    assert offered == set(triage.STATUS_TRANSITIONS["new"])


def test_status_changes_follow_the_workflow(client_for, session, feedback) -> None:
    agent = client_for("agent")
    response = agent.submit(f"/console/feedback/{feedback.id}/status", {"to": "resolved"})
    assert response.status_code == 303
    # Back to the status section (its heading takes the focus), the result shown there.
    assert response.headers["location"] == f"/console/feedback/{feedback.id}?fait=statut#statut"
    html = agent.get(response.headers["location"]).text
    assert '<h2 class="fr-h4" id="statut" tabindex="-1" aria-describedby="statut-message">' in html
    assert html.count("Le statut est modifié.") == 1
    message = html.index('id="statut-message"')
    assert html.index('id="statut"') < message < html.index("Le statut est modifié.")
    refused = agent.submit(f"/console/feedback/{feedback.id}/status", {"to": "acknowledged"})
    assert refused.headers["location"].endswith("erreur=transition_refused#statut")
    assert "n'est pas permis" in unescape(agent.get(refused.headers["location"]).text)
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    stored = session.get(Feedback, feedback.id)
    assert stored.status == "resolved" and stored.acknowledged_at is not None


def test_assign_notes_tags_answer_and_history(
    client_for, session, feedback, ministry, other_ministry
) -> None:
    agent = client_for("agent")
    colleague = make_user(session, role="agent", ministry=ministry)
    stranger = make_user(session, role="agent", ministry=other_ministry)
    base = f"/console/feedback/{feedback.id}"
    assert agent.submit(base + "/assign", {"assignee": colleague.id}).status_code == 303
    bad = agent.submit(base + "/assign", {"assignee": stranger.id})
    assert bad.headers["location"].endswith("erreur=bad_assignee")
    assert agent.submit(base + "/assign", {"assignee": "abc"}).status_code == 303
    agent.submit(base + "/notes", {"body": "Appeler la DSI"})
    empty = agent.submit(base + "/notes", {"body": "   "})
    assert empty.headers["location"].endswith("erreur=empty_note")
    agent.submit(base + "/tags", {"tag": "Paiement"})
    agent.submit(base + "/tags", {"tag": "mobile"})
    agent.submit(base + "/tags/remove", {"tag": "mobile"})
    agent.submit(base + "/answer", {"body": "Corrigé dans la version du 3 mai."})
    html = unescape(agent.get(base).text)
    assert colleague.email in html
    assert "Appeler la DSI" in html
    assert "paiement" in html and ">mobile<" not in html
    assert "Corrigé dans la version du 3 mai." in html
    history = html[html.index('id="historique-titre"') :]
    for label in (
        "Attribution",
        "Note interne ajoutée",
        "Étiquette ajoutée",
        "Étiquette retirée",
        "Réponse publique publiée",
    ):
        assert label in history
    assert agent.user.email in history
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    answer = triage.answer_of(session, feedback.id)
    assert answer.procedure_id == feedback.procedure_id


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Message]]]:
    received: list[Message] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_answer_is_emailed_to_the_citizen(settings, session, feedback, ministry, smtp) -> None:
    port, received = smtp
    app = create_app(
        replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            public_url="https://retour.example.gouv.fr",
        )
    )
    user = make_user(session, role="agent", ministry=ministry)
    with StaffClient(app, base_url="http://testserver", follow_redirects=False) as client:
        client.user = user
        assert sign_in(client, user.email).status_code == 303
        base = f"/console/feedback/{feedback.id}"
        early = client.submit(base + "/answer/email")
        assert early.headers["location"].endswith("erreur=no_answer")
        client.submit(base + "/answer", {"body": "Merci, c'est corrigé."})
        assert "Envoyer la réponse à l'usager par courriel" in unescape(client.get(base).text)
        response = client.submit(base + "/answer/email")
        assert response.headers["location"].endswith("fait=courriel")
        # The address was erased once the answer went: a second send has nowhere to go.
        again = client.submit(base + "/answer/email")
        assert again.headers["location"].endswith("erreur=no_email")
        assert "usager@example.org" not in client.get(base).text
    [message] = received
    assert message["To"] == "usager@example.org"
    assert "Permis de conduire" in message["Subject"]
    body = message.get_content()
    assert "Merci, c'est corrigé." in body
    assert f"https://retour.example.gouv.fr/suivi/{feedback.receipt}" in body
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert triage.answer_of(session, feedback.id).emailed_at is not None
    session.refresh(feedback)
    assert feedback.contact_email is None


def test_email_failure_is_reported_not_recorded(client_for, session, feedback) -> None:
    agent = client_for("agent")  # the test settings have no SMTP server
    base = f"/console/feedback/{feedback.id}"
    agent.submit(base + "/answer", {"body": "Réponse"})
    response = agent.submit(base + "/answer/email")
    assert response.headers["location"].endswith("erreur=mail_not_configured")
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert triage.answer_of(session, feedback.id).emailed_at is None


def test_viewer_reads_but_cannot_change(client_for, session, feedback) -> None:
    viewer = client_for("viewer")
    html = viewer.get(f"/console/feedback/{feedback.id}").text
    assert "Le bouton Valider ne fait rien." in html
    page_forms = re.findall(r'<form method="post" action="([^"]+)"', html)
    assert page_forms == ["/console/logout"]
    for path, data in ACTIONS:
        response = viewer.submit(f"/console/feedback/{feedback.id}/{path}", data)
        assert response.status_code == 403, path
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert session.get(Feedback, feedback.id).status == "new"
    assert session.get(PublicAnswer, 1) is None


@pytest.mark.parametrize("role", ["agent", "viewer", "ministry_admin"])
def test_other_ministry_gets_404_everywhere(
    client_for, session, feedback, other_ministry, role
) -> None:
    stranger = client_for(role, ministry=other_ministry)
    assert stranger.get(f"/console/feedback/{feedback.id}").status_code == 404
    for path, data in ACTIONS:
        assert stranger.submit(f"/console/feedback/{feedback.id}/{path}", data).status_code == 404
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert session.get(Feedback, feedback.id).status == "new"


def test_unknown_and_absurd_ids_are_404(client_for) -> None:
    agent = client_for("agent")
    for ident in ("999999", str(2**64), "-1", "abc"):
        assert agent.get(f"/console/feedback/{ident}").status_code == 404
    assert agent.submit(f"/console/feedback/{2**64}/status", {"to": "spam"}).status_code == 404


def test_actions_need_the_csrf_token(client_for, session, feedback) -> None:
    agent = client_for("agent")
    response = agent.post(f"/console/feedback/{feedback.id}/status", data={"to": "spam"})
    assert response.status_code == 403
    session.rollback()  # a fresh snapshot: the app wrote meanwhile
    assert session.get(Feedback, feedback.id).status == "new"


class ElementAudit(HTMLParser):
    """Every element and attribute of a page, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("iframe", "img", "object", "embed"):
            self.problems.append(f"<{tag}>")
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            self.problems.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                ("javascript:", "data:")
            ):
                self.problems.append(f"{tag} {name}={value}")


def assert_inert(html: str) -> None:
    audit = ElementAudit()
    audit.feed(html)
    assert audit.problems == []


@pytest.mark.parametrize("payload", XSS, ids=[f"xss-{i}" for i in range(len(XSS))])
def test_hostile_text_is_rendered_inert(client_for, session, procedure, payload) -> None:
    hostile = make_feedback(
        session,
        procedure=procedure,
        comment=payload,
        page_url=payload,
        page_origin=payload,
        kind=None,
    )
    agent = client_for("agent")
    base = f"/console/feedback/{hostile.id}"
    agent.submit(base + "/notes", {"body": payload})
    agent.submit(base + "/tags", {"tag": payload[:60]})
    agent.submit(base + "/answer", {"body": payload})
    for html in (agent.get(base).text, agent.get("/console/").text):
        assert_inert(html)
    # The text itself is shown (escaped), never evaluated as a template.
    assert str(escape(payload)) in agent.get(base).text


def test_page_url_only_links_http(client_for, session, procedure) -> None:
    agent = client_for("agent")
    for url, linked in (
        ("javascript:alert(document.domain)", False),
        ("data:text/html,<b>x</b>", False),
        (" JavaScript:alert(1)", False),
        ("http://www.example.gouv.fr/a", True),
    ):
        item = make_feedback(session, procedure=procedure, page_url=url)
        html = agent.get(f"/console/feedback/{item.id}").text
        assert (f'href="{url}"' in html) is linked, url
